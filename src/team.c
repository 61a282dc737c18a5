/* team.c: outreach teams from the configuration (see team.h). */
#include "team.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "hours.h"

#define TEAMS_MAX 64

static bool id_valid(const char *s)
{
    return s[0] != '\0' && strlen(s) < 48 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

/* "+" and 7 to 15 digits. */
static bool e164_valid(const char *s)
{
    size_t n = strlen(s);

    return s[0] == '+' && n >= 8 && n <= 16 && strspn(s + 1, "0123456789") == n - 1;
}

/* The string member key of o, copied into *out; -1 with err when missing (if required) or not a
 * non-empty string. */
static int get_string(const cJSON *o, const char *key, bool required, char **out, size_t i,
                      char *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = NULL;
    if (j == NULL && !required)
        return 0;
    if (!cJSON_IsString(j) || j->valuestring[0] == '\0') {
        err_set(err, "teams[%zu].%s: %s", i, key, j == NULL ? "missing" : "must be a string");
        return -1;
    }
    if ((*out = strdup(j->valuestring)) == NULL) {
        err_set(err, "out of memory");
        return -1;
    }
    return 0;
}

static int get_on_call(const cJSON *o, struct team *t, size_t i, char *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "on_call"), *e;
    size_t k = 0;

    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0) {
        err_set(err, "teams[%zu].on_call: must be a list of at least one E.164 number", i);
        return -1;
    }
    if ((t->on_call = calloc((size_t)cJSON_GetArraySize(j), sizeof(char *))) == NULL) {
        err_set(err, "out of memory");
        return -1;
    }
    cJSON_ArrayForEach(e, j)
    {
        if (!cJSON_IsString(e) || !e164_valid(e->valuestring)) {
            err_set(err, "teams[%zu].on_call[%zu]: not an E.164 number such as +358401234567", i,
                    k);
            return -1;
        }
        if ((t->on_call[k] = strdup(e->valuestring)) == NULL) {
            err_set(err, "out of memory");
            return -1;
        }
        t->non_call = ++k;
    }
    return 0;
}

static int parse_team(const cJSON *o, struct team *t, size_t i, char *err)
{
    static const char *const keys[] = {"id",   "name",       "city",  "on_call",
                                       "lead", "calls_from", "hours", NULL};
    char herr[ERR_LEN];
    const cJSON *k;

    if (!cJSON_IsObject(o)) {
        err_set(err, "teams[%zu]: must be an object", i);
        return -1;
    }
    cJSON_ArrayForEach(k, o)
    {
        bool known = false;

        for (size_t n = 0; keys[n] != NULL && !known; n++)
            known = strcmp(keys[n], k->string) == 0;
        if (!known) {
            err_set(err, "teams[%zu]: unknown key '%.40s'", i, k->string);
            return -1;
        }
    }
    if (get_string(o, "id", true, &t->id, i, err) ||
        get_string(o, "name", true, &t->name, i, err) ||
        get_string(o, "city", true, &t->city, i, err) ||
        get_string(o, "calls_from", true, &t->calls_from, i, err) ||
        get_string(o, "hours", true, &t->hours_text, i, err) ||
        get_string(o, "lead", false, &t->lead, i, err) || get_on_call(o, t, i, err))
        return -1;
    if (!id_valid(t->id)) {
        err_set(err, "teams[%zu].id: use a-z, 0-9 and -", i);
        return -1;
    }
    if (t->lead != NULL && !e164_valid(t->lead)) {
        err_set(err, "teams[%zu].lead: not an E.164 number such as +358401234567", i);
        return -1;
    }
    if ((t->hours = hours_parse(t->hours_text, herr)) == NULL) {
        err_set(err, "teams[%zu].hours: %s", i, herr);
        return -1;
    }
    return 0;
}

static void team_release(struct team *t)
{
    free(t->id);
    free(t->name);
    free(t->city);
    for (size_t i = 0; i < t->non_call; i++)
        free(t->on_call[i]);
    free(t->on_call);
    free(t->lead);
    free(t->calls_from);
    free(t->hours_text);
    hours_free(t->hours);
}

void team_list_release(struct team_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        team_release(&l->teams[i]);
    free(l->teams);
    memset(l, 0, sizeof(*l));
}

static int check_unique(const struct team_list *l, char *err)
{
    for (size_t i = 0; i < l->n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (strcmp(l->teams[i].id, l->teams[k].id) == 0) {
                err_set(err, "teams[%zu].id: '%s' is used twice", i, l->teams[i].id);
                return -1;
            }
            if (strcmp(l->teams[i].city, l->teams[k].city) == 0) {
                err_set(err, "teams[%zu].city: %s already has team '%s'", i, l->teams[i].city,
                        l->teams[k].id);
                return -1;
            }
        }
    }
    return 0;
}

int team_list_parse(const char *json, struct team_list *out, char *err)
{
    struct team_list l = {0};
    cJSON *root;
    size_t i = 0;
    const cJSON *o;

    memset(out, 0, sizeof(*out));
    if (json == NULL || json[0] == '\0')
        return 0;
    if ((root = cJSON_Parse(json)) == NULL || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        err_set(err, "teams: must be a list of team objects");
        return -1;
    }
    l.n = (size_t)cJSON_GetArraySize(root);
    if (l.n > TEAMS_MAX) {
        cJSON_Delete(root);
        err_set(err, "teams: at most %d", TEAMS_MAX);
        return -1;
    }
    if (l.n > 0 && (l.teams = calloc(l.n, sizeof(*l.teams))) == NULL) {
        cJSON_Delete(root);
        err_set(err, "out of memory");
        return -1;
    }
    cJSON_ArrayForEach(o, root)
    {
        if (parse_team(o, &l.teams[i], i, err) != 0) {
            cJSON_Delete(root);
            team_list_release(&l);
            return -1;
        }
        i++;
    }
    cJSON_Delete(root);
    if (check_unique(&l, err) != 0) {
        team_list_release(&l);
        return -1;
    }
    *out = l;
    return 0;
}

const struct team *team_for_city(const struct team_list *l, const char *city)
{
    for (size_t i = 0; l != NULL && city != NULL && i < l->n; i++) {
        if (strcmp(l->teams[i].city, city) == 0)
            return &l->teams[i];
    }
    return NULL;
}

const struct team *team_find(const struct team_list *l, const char *id)
{
    for (size_t i = 0; l != NULL && id != NULL && i < l->n; i++) {
        if (strcmp(l->teams[i].id, id) == 0)
            return &l->teams[i];
    }
    return NULL;
}

/* Local midnight after unix time t. */
static long long next_midnight(long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    localtime_r(&tt, &tm);
    tm.tm_mday += 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (long long)mktime(&tm);
}

/* The end of the span that is open at t (t must be open): "until", or t + 24 h for 24/7. */
static long long span_end(const struct hours *h, long long t)
{
    long long until = 0;

    hours_open_at(h, t, &until);
    return until != 0 ? until : t + 24 * 3600;
}

void team_window(const struct team *t, const char *window, long long now, long now_minutes,
                 struct team_window *out)
{
    long long next = 0, midnight = next_midnight(now);

    memset(out, 0, sizeof(*out));
    out->at_work = hours_open_at(t->hours, now, &next);
    out->starts_at = out->at_work ? now : next;
    if (out->starts_at == 0) {
        out->due_at = now + 24 * 3600;
        return;
    }
    if (window != NULL && strcmp(window, "tomorrow") == 0) {
        long long start = midnight;

        if (!hours_open_at(t->hours, start, &next)) {
            if (next == 0) {
                out->due_at = now + 24 * 3600;
                return;
            }
            start = next;
        }
        out->due_at = span_end(t->hours, start);
        return;
    }
    if (window != NULL && strcmp(window, "today") == 0 && out->starts_at < midnight) {
        long long end = span_end(t->hours, out->starts_at);

        out->due_at = end < midnight ? end : midnight;
        return;
    }
    out->due_at = out->starts_at + now_minutes * 60;
}
