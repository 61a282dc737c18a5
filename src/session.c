/* session.c: sessions in SQLite (see session.h). */
#include "session.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"

struct session_store {
    sqlite3 *db;
    sqlite3_stmt *load, *save, *del, *purge;
};

static void copy(char *dst, size_t cap, const cJSON *item)
{
    snprintf(dst, cap, "%s", cJSON_IsString(item) ? item->valuestring : "");
}

/* A number field within [lo, hi], or def: casting an out-of-range double is undefined. */
static int int_in(const cJSON *item, int lo, int hi, int def)
{
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= lo && item->valuedouble <= hi))
        return def;
    return (int)item->valuedouble;
}

static cJSON *position_json(const struct flow_position *p)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "flow", p->flow);
    cJSON_AddStringToObject(o, "node", p->node);
    return o;
}

static void position_from(const cJSON *o, struct flow_position *p)
{
    copy(p->flow, sizeof(p->flow), cJSON_GetObjectItemCaseSensitive(o, "flow"));
    copy(p->node, sizeof(p->node), cJSON_GetObjectItemCaseSensitive(o, "node"));
}

char *session_to_json(const struct flow_session *s)
{
    cJSON *o = cJSON_CreateObject(), *hist, *vars;
    char *text;

    if (o == NULL)
        return NULL;
    cJSON_AddItemToObject(o, "at", position_json(&s->at));
    cJSON_AddStringToObject(o, "lang", s->lang);
    cJSON_AddNumberToObject(o, "failures", s->failures);
    cJSON_AddNumberToObject(o, "page", s->page);
    cJSON_AddItemToObject(o, "screen_from", position_json(&s->screen_from));
    cJSON_AddNumberToObject(o, "screen_prefix", s->screen_prefix);
    cJSON_AddBoolToObject(o, "erase_pending", s->erase_pending);
    cJSON_AddNumberToObject(o, "last_active", (double)s->last_active);
    hist = cJSON_AddArrayToObject(o, "history");
    for (size_t i = 0; hist != NULL && i < s->nhistory; i++)
        cJSON_AddItemToArray(hist, position_json(&s->history[i]));
    vars = cJSON_AddObjectToObject(o, "vars");
    for (size_t i = 0; vars != NULL && i < s->nvars; i++)
        cJSON_AddStringToObject(vars, s->vars[i].name, s->vars[i].value);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int session_from_json(const char *json, struct flow_session *s)
{
    cJSON *o = cJSON_Parse(json), *item;

    flow_session_init(s);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return -1;
    }
    position_from(cJSON_GetObjectItemCaseSensitive(o, "at"), &s->at);
    copy(s->lang, sizeof(s->lang), cJSON_GetObjectItemCaseSensitive(o, "lang"));
    s->failures = int_in(cJSON_GetObjectItemCaseSensitive(o, "failures"), 0, FLOW_MAX_FAILURES, 0);
    s->page = int_in(cJSON_GetObjectItemCaseSensitive(o, "page"), 0, 1000, 0);
    position_from(cJSON_GetObjectItemCaseSensitive(o, "screen_from"), &s->screen_from);
    s->screen_prefix =
        int_in(cJSON_GetObjectItemCaseSensitive(o, "screen_prefix"), -1, FLOW_TEXT_COUNT - 1, -1);
    s->erase_pending = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "erase_pending"));
    item = cJSON_GetObjectItemCaseSensitive(o, "last_active");
    s->last_active = cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble < 1e15
                         ? (long long)item->valuedouble
                         : 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(o, "history"))
    {
        if (s->nhistory < FLOW_SESSION_HISTORY)
            position_from(item, &s->history[s->nhistory++]);
    }
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(o, "vars"))
    {
        if (cJSON_IsString(item))
            flow_session_set_var(s, item->string, item->valuestring);
    }
    cJSON_Delete(o);
    return 0;
}

struct session_store *session_store_new(sqlite3 *db, char *err)
{
    struct session_store *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    st->db = db;
    if (db_prepare(db, "SELECT state, expires_at FROM sessions WHERE key = ?1", &st->load, err) ||
        db_prepare(db,
                   "INSERT INTO sessions (key, state, updated_at, expires_at) VALUES "
                   "(?1, ?2, ?3, ?4) "
                   "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
                   "updated_at = excluded.updated_at, expires_at = excluded.expires_at",
                   &st->save, err) ||
        db_prepare(db, "DELETE FROM sessions WHERE key = ?1", &st->del, err) ||
        db_prepare(db,
                   "DELETE FROM sessions WHERE key IN "
                   "(SELECT key FROM sessions WHERE expires_at <= ?1 "
                   "AND ussd_seen_hash IS NULL LIMIT ?2)",
                   &st->purge, err)) {
        session_store_free(st);
        return NULL;
    }
    return st;
}

void session_store_free(struct session_store *st)
{
    if (st == NULL)
        return;
    sqlite3_finalize(st->load);
    sqlite3_finalize(st->save);
    sqlite3_finalize(st->del);
    sqlite3_finalize(st->purge);
    free(st);
}

/* Resets a statement on every path so no read transaction stays open. */
int session_load(struct session_store *st, const char *key, long long now, struct flow_session *s,
                 char *err)
{
    int rc;

    flow_session_init(s);
    sqlite3_bind_text(st->load, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st->load);
    if (rc == SQLITE_DONE)
        return db_stmt_done(st->load, 0);
    if (rc != SQLITE_ROW) {
        err_set(err, "load session: %s", sqlite3_errmsg(st->db));
        return db_stmt_done(st->load, -1);
    }
    if (session_from_json((const char *)sqlite3_column_text(st->load, 0), s) != 0) {
        flow_session_init(s); /* a damaged row starts over rather than failing forever */
    } else if (sqlite3_column_int64(st->load, 1) <= now) {
        char lang[FLOW_LANG_MAX];

        snprintf(lang, sizeof(lang), "%s", s->lang);
        flow_session_init(s);
        snprintf(s->lang, sizeof(s->lang), "%s", lang);
    }
    return db_stmt_done(st->load, 0);
}

int session_save(struct session_store *st, const char *key, const struct flow_session *s,
                 long long now, long long expires_at, char *err)
{
    char *json = session_to_json(s);
    int rc;

    if (json == NULL) {
        err_set(err, "out of memory");
        return -1;
    }
    sqlite3_bind_text(st->save, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st->save, 2, json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st->save, 3, now);
    sqlite3_bind_int64(st->save, 4, expires_at);
    rc = sqlite3_step(st->save);
    if (rc != SQLITE_DONE)
        err_set(err, "save session: %s", sqlite3_errmsg(st->db));
    db_stmt_done(st->save, 0);
    cJSON_free(json);
    return rc == SQLITE_DONE ? 0 : -1;
}

int session_delete(struct session_store *st, const char *key, char *err)
{
    int rc;

    sqlite3_bind_text(st->del, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st->del);
    if (rc != SQLITE_DONE)
        err_set(err, "delete session: %s", sqlite3_errmsg(st->db));
    return db_stmt_done(st->del, rc == SQLITE_DONE ? 0 : -1);
}

int session_purge_expired(struct session_store *st, long long now, int limit, char *err)
{
    int rc;

    sqlite3_bind_int64(st->purge, 1, now);
    sqlite3_bind_int(st->purge, 2, limit);
    rc = sqlite3_step(st->purge);
    if (rc != SQLITE_DONE) {
        err_set(err, "purge sessions: %s", sqlite3_errmsg(st->db));
        return db_stmt_done(st->purge, -1);
    }
    return db_stmt_done(st->purge, sqlite3_changes(st->db));
}
