/*
 * flow_load.c: turns flow files, JSON written by hand by administrators, into
 * the model in flow.h. Each file is checked for what can be wrong inside it
 * (syntax, types, unknown keys, ids, translations) and every problem is
 * reported at its JSON path; loading carries on after a problem so that one
 * run lists them all. Checks that need the whole set (references, loops,
 * keywords, SMS cost) are in flow_check.c. cJSON never leaves this file.
 */
#include "flow.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "directory.h"
#include "flow_check.h"
#include "utf8.h"

#define FILE_MAX (1024 * 1024) /* hand-written files are far smaller; more is a mistake */
#define PATH_LEN 256           /* JSON paths in messages; longer ones are cut */
#define SHOWN_LEN 64           /* how much of an administrator's string a message quotes */
#define MENU_OPTIONS_MAX 9     /* one digit per option: 0 is back, 00 the main menu */
#define WHOLE_MAX 1000000000.0 /* numbers in ranges stay well inside long */
#define SUGGEST_MAX 32         /* keys longer than this get no "did you mean" */

/* What is being loaded, for messages and for the languages texts must have. */
struct loader {
    struct diag *d;
    const char *file;   /* as given by the caller */
    char *const *langs; /* languages every text needs (entries may be NULL); NULL: unknown */
    size_t nlangs;
    bool langs_complete;  /* no entry of langs was malformed */
    const char *langs_of; /* whose languages they are, for the extra-language warning */
};

static void report(struct loader *l, enum diag_severity sev, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(struct loader *l, enum diag_severity sev, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_add(l->d, sev, l->file, path, "%s", msg);
}

static char *copy_string(struct loader *l, const char *s)
{
    char *copy = strdup(s);

    if (copy == NULL)
        report(l, DIAG_ERROR, "", "out of memory");
    return copy;
}

static void *alloc_array(struct loader *l, size_t n, size_t size)
{
    void *p = calloc(n > 0 ? n : 1, size);

    if (p == NULL)
        report(l, DIAG_ERROR, "", "out of memory");
    return p;
}

/*
 * Copies s for quoting in a one-line message: cut on a character boundary,
 * control characters and bytes of invalid UTF-8 (a key may hold them) as
 * '?', so a stray newline cannot break the output and the message stays UTF-8.
 */
static const char *shown(const char *s, char out[SHOWN_LEN])
{
    size_t n = utf8_truncate(s, SHOWN_LEN - 4);

    for (size_t i = 0, next = 0; i < n; i = next) {
        uint32_t cp;

        if (utf8_decode(s, n, &next, &cp) != 0) {
            out[i] = '?';
            next = i + 1;
            continue;
        }
        for (size_t j = i; j < next; j++)
            out[j] = (unsigned char)s[j] < 0x20 ? '?' : s[j];
    }
    snprintf(out + n, SHOWN_LEN - n, "%s", s[n] != '\0' ? "..." : "");
    return out;
}

/*
 * JSON paths for messages: parent.key and parent[i]. A path cut at PATH_LEN
 * still points the reader to the place, so truncation is accepted.
 */
static const char *path_key(char out[PATH_LEN], const char *parent, const char *key)
{
    char k[SHOWN_LEN];

    if (snprintf(out, PATH_LEN, "%s%s%s", parent, parent[0] != '\0' ? "." : "", shown(key, k)) < 0)
        out[0] = '\0';
    return out;
}

static const char *path_index(char out[PATH_LEN], const char *parent, size_t i)
{
    if (snprintf(out, PATH_LEN, "%s[%zu]", parent, i) < 0)
        out[0] = '\0';
    return out;
}

/* What a JSON value is, in words an administrator knows. */
static const char *json_kind(const cJSON *j)
{
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsBool(j))
        return "true or false";
    if (cJSON_IsNull(j))
        return "null";
    if (cJSON_IsArray(j))
        return "a list";
    return "an object";
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], s) == 0)
            return true;
    }
    return false;
}

/* Optimal string alignment distance: edits, with a swap of two neighbours counting one. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

    if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* The allowed key a typo most likely meant ("nxet" and "Next" -> "next"), or NULL. */
static const char *suggest(const char *const *allowed, const char *key)
{
    size_t limit = strlen(key) <= 4 ? 1 : 2, best = limit + 1;
    const char *found = NULL;

    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcasecmp(key, allowed[i]) == 0)
            return allowed[i];
    }
    for (size_t i = 0; allowed[i] != NULL; i++) {
        size_t dist = edit_distance(key, allowed[i]);

        if (dist < best) {
            best = dist;
            found = allowed[i];
        }
    }
    return found;
}

static bool seen_before(const cJSON *first, const cJSON *item)
{
    for (const cJSON *c = first; c != item; c = c->next) {
        if (strcmp(c->string, item->string) == 0)
            return true;
    }
    return false;
}

static bool used_by_some_kind(const char *key);

/*
 * Reports keys of obj that are not in allowed (NULL-terminated), and keys
 * given twice (cJSON keeps both, and only one would count). A typo such as
 * "nxet" must never be ignored silently: the node would lose its next.
 * node_kind is the kind's name when obj is a node, for a clearer message.
 */
static void check_keys(struct loader *l, const cJSON *obj, const char *path,
                       const char *const *allowed, const char *node_kind)
{
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        char sub[PATH_LEN], key[SHOWN_LEN];
        const char *near;

        path_key(sub, path, c->string);
        shown(c->string, key);
        if (!utf8_valid(c->string, strlen(c->string)))
            report(l, DIAG_ERROR, sub, "key is not valid UTF-8");
        else if (seen_before(obj->child, c))
            report(l, DIAG_ERROR, sub, "duplicate key '%s'", key);
        else if (in_list(allowed, c->string))
            continue;
        else if (node_kind != NULL && used_by_some_kind(c->string))
            report(l, DIAG_ERROR, sub, "'%s' is not used in a %s node", key, node_kind);
        else if ((near = suggest(allowed, c->string)) != NULL)
            report(l, DIAG_ERROR, sub, "unknown key '%s' (did you mean '%s'?)", key, near);
        else
            report(l, DIAG_ERROR, sub, "unknown key '%s'", key);
    }
}

static const cJSON *member(struct loader *l, const cJSON *obj, const char *path, const char *key,
                           bool required)
{
    /* Case-sensitive: "Next" is a typo to report, not a spelling to accept. */
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (j == NULL && required)
        report(l, DIAG_ERROR, path, "missing '%s'", key);
    return j;
}

static bool want_type(struct loader *l, const cJSON *j, const char *path,
                      cJSON_bool (*is)(const cJSON *), const char *what)
{
    if (is(j))
        return true;
    report(l, DIAG_ERROR, path, "must be %s, not %s", what, json_kind(j));
    return false;
}

/* The non-empty, valid UTF-8 string j (borrowed from the JSON), or NULL (reported). */
static const char *as_string(struct loader *l, const cJSON *j, const char *path)
{
    const char *s;

    if (!want_type(l, j, path, cJSON_IsString, "a string"))
        return NULL;
    s = j->valuestring;
    if (!utf8_valid(s, strlen(s))) {
        report(l, DIAG_ERROR, path, "not valid UTF-8 (save the file as UTF-8)");
        return NULL;
    }
    if (s[0] == '\0') {
        report(l, DIAG_ERROR, path, "must not be empty");
        return NULL;
    }
    return s;
}

/* A copy of the string member key of obj, or NULL (reported if required or malformed). */
static char *get_string(struct loader *l, const cJSON *obj, const char *path, const char *key,
                        bool required)
{
    char sub[PATH_LEN];
    const cJSON *j = member(l, obj, path, key, required);
    const char *s = j != NULL ? as_string(l, j, path_key(sub, path, key)) : NULL;

    return s != NULL ? copy_string(l, s) : NULL;
}

/* Reads the whole-number member key of obj into *out; false if absent or malformed (reported). */
static bool get_whole(struct loader *l, const cJSON *obj, const char *path, const char *key,
                      bool required, long *out)
{
    char sub[PATH_LEN];
    const cJSON *j = member(l, obj, path, key, required);

    if (j == NULL)
        return false;
    path_key(sub, path, key);
    if (!want_type(l, j, sub, cJSON_IsNumber, "a whole number"))
        return false;
    if (j->valuedouble < -WHOLE_MAX || j->valuedouble > WHOLE_MAX ||
        j->valuedouble != (double)(long)j->valuedouble) {
        report(l, DIAG_ERROR, sub, "must be a whole number");
        return false;
    }
    *out = (long)j->valuedouble;
    return true;
}

/* Flow and node ids: [a-z0-9_-]{1,47}, safe in paths, URLs and file names. */
static bool id_valid(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");

    return n > 0 && n < FLOW_ID_MAX && s[n] == '\0';
}

/* Variable names: [a-z_][a-z0-9_]*, so that {name} placeholders read plainly. */
static bool var_valid(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

    return n > 0 && n < FLOW_ID_MAX && s[n] == '\0' && !(s[0] >= '0' && s[0] <= '9');
}

/* Language codes: [a-z]{2,3}, optionally -[A-Za-z]{2,4} (a region or script). */
static bool lang_valid(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"), m;

    if (n < 2 || n > 3)
        return false;
    if (s[n] == '\0')
        return true;
    m = strspn(s + n + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    return s[n] == '-' && m >= 2 && m <= 4 && s[n + 1 + m] == '\0';
}

static bool lang_listed(char *const *langs, size_t n, const char *lang)
{
    for (size_t i = 0; i < n; i++) {
        if (langs[i] != NULL && strcmp(langs[i], lang) == 0)
            return true;
    }
    return false;
}

/*
 * {"fi": "...", "sv": "..."}: every language of l is required, so a person
 * never gets a message in a language they did not choose; an extra language
 * is only a warning (a translation on its way in is harmless).
 */
static void load_text(struct loader *l, const cJSON *j, const char *path, struct flow_text *out)
{
    if (j == NULL)
        return;
    if (!cJSON_IsObject(j)) {
        report(l, DIAG_ERROR, path,
               "must be an object with one text per language, like "
               "{\"fi\": \"...\", \"en\": \"...\"}, not %s",
               json_kind(j));
        return;
    }
    out->items = alloc_array(l, (size_t)cJSON_GetArraySize(j), sizeof(*out->items));
    if (out->items == NULL)
        return;
    for (const cJSON *c = j->child; c != NULL; c = c->next) {
        char sub[PATH_LEN], lang[SHOWN_LEN];
        struct flow_text_item *item = &out->items[out->n];
        const char *s;

        path_key(sub, path, c->string);
        shown(c->string, lang);
        if (seen_before(j->child, c)) {
            report(l, DIAG_ERROR, sub, "duplicate key '%s'", lang);
            continue;
        }
        if ((s = as_string(l, c, sub)) == NULL)
            continue;
        if (l->langs != NULL && !lang_listed(l->langs, l->nlangs, c->string)) {
            /* After a malformed language code, this is most likely the one meant. */
            if (l->langs_complete)
                report(l, DIAG_WARNING, sub, "'%s' is not one of %s languages", lang, l->langs_of);
            continue;
        }
        if (!lang_valid(c->string)) {
            report(l, DIAG_ERROR, sub, "'%s' is not a language code such as fi, sv or en", lang);
            continue;
        }
        snprintf(item->lang, sizeof(item->lang), "%s", c->string);
        if ((item->text = copy_string(l, s)) != NULL)
            out->n++;
    }
    for (size_t i = 0; l->langs != NULL && i < l->nlangs; i++) {
        if (l->langs[i] != NULL && cJSON_GetObjectItemCaseSensitive(j, l->langs[i]) == NULL)
            report(l, DIAG_ERROR, path, "missing translation for '%s'", l->langs[i]);
    }
}

/*
 * A list of strings at obj.key. Entries that are malformed stay as NULL so
 * that later checks can still name an entry by its index (keywords[2]).
 * check(l, path, value, list, i) may report problems with an entry and
 * returns false to leave it out.
 */
static bool load_strings(struct loader *l, const cJSON *obj, const char *key, bool required,
                         bool (*check)(struct loader *, const char *, const char *, char **,
                                       size_t),
                         char ***out, size_t *n)
{
    const cJSON *j = member(l, obj, "", key, required);
    char sub[PATH_LEN];
    size_t i = 0;

    if (j == NULL || !want_type(l, j, key, cJSON_IsArray, "a list [...]"))
        return false;
    if (cJSON_GetArraySize(j) == 0) {
        if (required)
            report(l, DIAG_ERROR, key, "must not be empty");
        return !required;
    }
    if ((*out = alloc_array(l, (size_t)cJSON_GetArraySize(j), sizeof(**out))) == NULL)
        return false;
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        const char *s = as_string(l, c, path_index(sub, key, i));

        if (s != NULL && (check == NULL || check(l, sub, s, *out, i)))
            (*out)[i] = copy_string(l, s);
    }
    *n = i;
    return true;
}

static bool check_language_entry(struct loader *l, const char *path, const char *s, char **before,
                                 size_t n)
{
    char code[SHOWN_LEN];

    if (!lang_valid(s)) {
        report(l, DIAG_ERROR, path, "'%s' is not a language code such as fi, sv or en",
               shown(s, code));
        return false;
    }
    if (lang_listed(before, n, s)) {
        report(l, DIAG_ERROR, path, "'%s' is listed twice", s);
        return false;
    }
    return true;
}

/*
 * Texts are checked against the languages only once some are known: with
 * none, every text would repeat the same problem.
 */
static void load_languages(struct loader *l, const cJSON *root, char ***out, size_t *n)
{
    if (!load_strings(l, root, "languages", true, check_language_entry, out, n))
        return;
    l->langs_complete = true;
    for (size_t i = 0; i < *n; i++) {
        if ((*out)[i] != NULL) {
            l->langs = *out;
            l->nlangs = *n;
        } else {
            l->langs_complete = false;
        }
    }
}

static void load_next(struct loader *l, const cJSON *obj, const char *path, struct flow_node *node)
{
    node->next = get_string(l, obj, path, "next", true);
}

static void load_menu(struct loader *l, const cJSON *obj, const char *path, struct flow_node *node)
{
    static const char *const option_keys[] = {"label", "next", NULL};
    char sub[PATH_LEN], item_path[PATH_LEN], label_path[PATH_LEN];
    const cJSON *j = member(l, obj, path, "options", true);
    size_t n, i = 0;

    if (j == NULL || !want_type(l, j, path_key(sub, path, "options"), cJSON_IsArray, "a list"))
        return;
    n = (size_t)cJSON_GetArraySize(j);
    if (n < 1 || n > MENU_OPTIONS_MAX)
        report(l, DIAG_ERROR, sub, "a menu needs 1 to %d options, not %zu", MENU_OPTIONS_MAX, n);
    if ((node->options = alloc_array(l, n, sizeof(*node->options))) == NULL)
        return;
    node->noptions = n;
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        path_index(item_path, sub, i);
        if (!want_type(l, c, item_path, cJSON_IsObject,
                       "an object {\"label\": ..., \"next\": ...}"))
            continue;
        check_keys(l, c, item_path, option_keys, NULL);
        load_text(l, member(l, c, item_path, "label", true),
                  path_key(label_path, item_path, "label"), &node->options[i].label);
        node->options[i].next = get_string(l, c, item_path, "next", true);
    }
}

static void load_input(struct loader *l, const cJSON *obj, const char *path, struct flow_node *node)
{
    char sub[PATH_LEN], name[SHOWN_LEN];
    const char *expect = NULL;
    const cJSON *j = member(l, obj, path, "expect", true);
    bool known = false, number;

    if (j != NULL && (expect = as_string(l, j, path_key(sub, path, "expect"))) != NULL) {
        for (int e = 0; e < FLOW_EXPECT_COUNT && !known; e++) {
            if ((known = strcmp(expect, flow_expect_name(e)) == 0))
                node->expect = e;
        }
        if (!known)
            report(l, DIAG_ERROR, sub,
                   "unknown expect '%s': use postal_code, place, yes_no, number or text",
                   shown(expect, name));
    }
    node->store = get_string(l, obj, path, "store", false);
    path_key(sub, path, "store");
    if (node->store != NULL && known && node->expect == FLOW_EXPECT_TEXT)
        report(l, DIAG_ERROR, sub, "free text is never stored: remove 'store'");
    else if (node->store != NULL && !var_valid(node->store))
        report(l, DIAG_ERROR, sub,
               "'%s' is not a variable name: use a-z, 0-9 and _, not starting with a digit",
               shown(node->store, name));

    number = known && node->expect == FLOW_EXPECT_NUMBER;
    if (get_whole(l, obj, path, "min", number, &node->min) && number && node->min < 1)
        report(l, DIAG_ERROR, path_key(sub, path, "min"),
               "min must be at least 1: 0 means back and 00 the main menu");
    if (get_whole(l, obj, path, "max", number, &node->max) && number && node->min > node->max)
        report(l, DIAG_ERROR, path_key(sub, path, "max"), "max is smaller than min");
    if (known && !number) {
        if (cJSON_GetObjectItemCaseSensitive(obj, "min") != NULL)
            report(l, DIAG_ERROR, path_key(sub, path, "min"), "'min' is only for expect number");
        if (cJSON_GetObjectItemCaseSensitive(obj, "max") != NULL)
            report(l, DIAG_ERROR, path_key(sub, path, "max"), "'max' is only for expect number");
    }
    load_text(l, member(l, obj, path, "hint", false), path_key(sub, path, "hint"), &node->hint);
    load_next(l, obj, path, node);
}

/* A switch case: {"equals": "yes", "next": ...} or {"min": 0, "max": 17, "next": ...}. */
static void load_case(struct loader *l, const cJSON *c, const char *path, struct flow_case *out)
{
    static const char *const case_keys[] = {"equals", "min", "max", "next", NULL};
    bool has_equals = cJSON_GetObjectItemCaseSensitive(c, "equals") != NULL;
    bool has_min = cJSON_GetObjectItemCaseSensitive(c, "min") != NULL;
    bool has_max = cJSON_GetObjectItemCaseSensitive(c, "max") != NULL;

    if (!want_type(l, c, path, cJSON_IsObject, "an object"))
        return;
    check_keys(l, c, path, case_keys, NULL);
    if (has_equals && (has_min || has_max))
        report(l, DIAG_ERROR, path, "a case has either 'equals' or 'min' and 'max', not both");
    else if (has_min != has_max)
        report(l, DIAG_ERROR, path, "a range needs both 'min' and 'max'");
    else if (!has_equals && !has_min)
        report(l, DIAG_ERROR, path, "a case needs 'equals' or 'min' and 'max'");
    if (has_equals)
        out->equals = get_string(l, c, path, "equals", true);
    if (has_min && has_max) {
        bool min_ok = get_whole(l, c, path, "min", true, &out->min);
        bool max_ok = get_whole(l, c, path, "max", true, &out->max);
        char sub[PATH_LEN];

        out->has_range = min_ok && max_ok;
        if (out->has_range && out->min > out->max)
            report(l, DIAG_ERROR, path_key(sub, path, "max"), "max is smaller than min");
    }
    out->next = get_string(l, c, path, "next", true);
}

static void load_switch(struct loader *l, const cJSON *obj, const char *path,
                        struct flow_node *node)
{
    char sub[PATH_LEN], item_path[PATH_LEN], name[SHOWN_LEN];
    const cJSON *j;
    size_t i = 0;

    node->on = get_string(l, obj, path, "on", true);
    if (node->on != NULL && !var_valid(node->on))
        report(l, DIAG_ERROR, path_key(sub, path, "on"),
               "'%s' is not a variable name: use a-z, 0-9 and _, not starting with a digit",
               shown(node->on, name));
    /* The default is required: a person whose answer matches no case must still go on. */
    node->next = get_string(l, obj, path, "default", true);
    j = member(l, obj, path, "cases", true);
    if (j == NULL || !want_type(l, j, path_key(sub, path, "cases"), cJSON_IsArray, "a list"))
        return;
    if (cJSON_GetArraySize(j) == 0) {
        report(l, DIAG_ERROR, sub, "a switch needs at least one case");
        return;
    }
    if ((node->cases = alloc_array(l, (size_t)cJSON_GetArraySize(j), sizeof(*node->cases))) == NULL)
        return;
    node->ncases = (size_t)cJSON_GetArraySize(j);
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++)
        load_case(l, c, path_index(item_path, sub, i), &node->cases[i]);
}

static void load_language(struct loader *l, const cJSON *obj, const char *path,
                          struct flow_node *node)
{
    char sub[PATH_LEN], code[SHOWN_LEN];
    char *lang = get_string(l, obj, path, "language", true);

    if (lang != NULL && !lang_valid(lang))
        report(l, DIAG_ERROR, path_key(sub, path, "language"),
               "'%s' is not a language code such as fi, sv or en", shown(lang, code));
    else if (lang != NULL)
        snprintf(node->lang, sizeof(node->lang), "%s", lang);
    free(lang);
    load_next(l, obj, path, node);
}

static void load_jump(struct loader *l, const cJSON *obj, const char *path, struct flow_node *node)
{
    node->target_flow = get_string(l, obj, path, "flow", true);
    node->target_node = get_string(l, obj, path, "node", false);
}

/* sms_copy: the text is optional; without one it copies what this step has said so far. */
static void load_sms_copy(struct loader *l, const cJSON *obj, const char *path,
                          struct flow_node *node)
{
    char sub[PATH_LEN];
    const cJSON *text = member(l, obj, path, "text", false);

    if (text != NULL)
        load_text(l, text, path_key(sub, path, "text"), &node->text);
    load_next(l, obj, path, node);
}

/*
 * nearest: {"categories": [...], "count": 2, "open": "prefer", "national": false,
 * "social_emergency": false, "max_segments": 2, "text": heading, "next": ...}. Categories are
 * checked against the directory's list here, so a typo fails `katto check`.
 */
static void load_nearest(struct loader *l, const cJSON *obj, const char *path,
                         struct flow_node *node)
{
    static const char *const open_names[] = {"prefer", "only", "any"};
    char sub[PATH_LEN], item[PATH_LEN], name[SHOWN_LEN];
    const cJSON *j = member(l, obj, path, "categories", true);
    long v;
    size_t i = 0;

    if (j != NULL && want_type(l, j, path_key(sub, path, "categories"), cJSON_IsArray, "a list")) {
        if (cJSON_GetArraySize(j) == 0)
            report(l, DIAG_ERROR, sub, "name at least one category");
        else if ((node->categories =
                      alloc_array(l, (size_t)cJSON_GetArraySize(j), sizeof(char *))) != NULL) {
            node->ncategories = (size_t)cJSON_GetArraySize(j);
            for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
                const char *cat = as_string(l, c, path_index(item, sub, i));

                if (cat != NULL && !directory_category_known(cat))
                    report(l, DIAG_ERROR, item,
                           "unknown category '%s' (the list is in src/directory.h and "
                           "flows/README.md)",
                           shown(cat, name));
                else if (cat != NULL)
                    node->categories[i] = copy_string(l, cat);
            }
        }
    }
    node->count = 2;
    if (get_whole(l, obj, path, "count", false, &v)) {
        if (v < 1 || v > FLOW_NEAREST_MAX)
            report(l, DIAG_ERROR, path_key(sub, path, "count"), "count must be 1 to %d",
                   FLOW_NEAREST_MAX);
        node->count = (int)v;
    }
    if (get_whole(l, obj, path, "max_segments", false, &v)) {
        if (v < 1 || v > 10)
            report(l, DIAG_ERROR, path_key(sub, path, "max_segments"),
                   "max_segments must be 1 to 10");
        node->max_segments = (int)v;
    }
    if ((j = member(l, obj, path, "open", false)) != NULL) {
        const char *open = as_string(l, j, path_key(sub, path, "open"));
        bool known = false;

        for (int k = 0; open != NULL && k < 3 && !known; k++) {
            if ((known = strcmp(open, open_names[k]) == 0))
                node->open = k; /* the order of enum directory_open */
        }
        if (open != NULL && !known)
            report(l, DIAG_ERROR, sub, "open must be prefer, only or any, not '%s'",
                   shown(open, name));
    }
    if ((j = member(l, obj, path, "national", false)) != NULL &&
        want_type(l, j, path_key(sub, path, "national"), cJSON_IsBool, "true or false"))
        node->national = cJSON_IsTrue(j);
    if ((j = member(l, obj, path, "social_emergency", false)) != NULL &&
        want_type(l, j, path_key(sub, path, "social_emergency"), cJSON_IsBool, "true or false"))
        node->social = cJSON_IsTrue(j);
    if ((j = member(l, obj, path, "text", false)) != NULL)
        load_text(l, j, path_key(sub, path, "text"), &node->text);
    load_next(l, obj, path, node);
}

/* callback: {"text": consent question, "topic": "eviction", "ask_window": true, "next": ...}. */
static void load_callback(struct loader *l, const cJSON *obj, const char *path,
                          struct flow_node *node)
{
    char sub[PATH_LEN], name[SHOWN_LEN];

    const cJSON *j = member(l, obj, path, "ask_window", false);

    if (j != NULL &&
        want_type(l, j, path_key(sub, path, "ask_window"), cJSON_IsBool, "true or false"))
        node->ask_window = cJSON_IsTrue(j);
    node->topic = get_string(l, obj, path, "topic", false);
    if (node->topic != NULL && !var_valid(node->topic))
        report(l, DIAG_ERROR, path_key(sub, path, "topic"),
               "'%s' is not a topic name: use a-z, 0-9 and _", shown(node->topic, name));
    load_next(l, obj, path, node);
}

/* File-scope compound literals have static storage, so the table can point at them. */
#define KEYS(...) ((const char *const[]){"type", __VA_ARGS__, NULL})

/*
 * One row per node kind: the keys it accepts, whether it says a text (then
 * "text" is required), and what loads the rest. The kind's name is
 * flow_kind_name() in flow.c, so a file and the engine can never disagree
 * on it. Checks that need the whole set are rows of a table in flow_check.c.
 */
static const struct kind_loader {
    const char *const *keys;
    bool says_text;
    void (*load)(struct loader *l, const cJSON *obj, const char *path, struct flow_node *node);
} kinds[] = {
    [FLOW_KIND_MESSAGE] = {KEYS("text", "ucs2", "next"), true, load_next},
    [FLOW_KIND_MENU] = {KEYS("text", "ucs2", "options"), true, load_menu},
    [FLOW_KIND_INPUT] = {KEYS("text", "expect", "store", "min", "max", "hint", "next"), true,
                         load_input},
    [FLOW_KIND_SWITCH] = {KEYS("on", "cases", "default"), false, load_switch},
    [FLOW_KIND_LANGUAGE] = {KEYS("language", "next"), false, load_language},
    [FLOW_KIND_JUMP] = {KEYS("flow", "node"), false, load_jump},
    [FLOW_KIND_END] = {KEYS("text", "ucs2"), true, NULL},
    [FLOW_KIND_SMS_COPY] = {KEYS("text", "next"), false, load_sms_copy},
    [FLOW_KIND_NEAREST] = {KEYS("text", "categories", "count", "open", "national",
                                "social_emergency", "max_segments", "next"),
                           false, load_nearest},
    [FLOW_KIND_CALLBACK] = {KEYS("text", "topic", "ask_window", "next"), true, load_callback},
};
_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == FLOW_KIND_COUNT, "one loader per node kind");

static bool used_by_some_kind(const char *key)
{
    for (size_t k = 0; k < FLOW_KIND_COUNT; k++) {
        if (in_list(kinds[k].keys, key))
            return true;
    }
    return false;
}

/* "message, menu, input, switch, language, jump or end", for the unknown-type message. */
static const char *kind_list(char *out, size_t len)
{
    out[0] = '\0';
    for (int k = 0; k < FLOW_KIND_COUNT; k++) {
        const char *sep = ", ";

        if (k == 0)
            sep = "";
        else if (k == FLOW_KIND_COUNT - 1)
            sep = " or ";
        snprintf(out + strlen(out), len - strlen(out), "%s%s", sep, flow_kind_name(k));
    }
    return out;
}

/*
 * A node whose type is missing or unknown stays in the flow as an end node
 * without text, so that references to it do not cascade into more errors;
 * the set is thrown away anyway because of the error.
 */
static void load_node(struct loader *l, const cJSON *obj, const char *path, struct flow_node *node)
{
    char sub[PATH_LEN], type[SHOWN_LEN], names[128];
    const cJSON *j;
    const char *name;
    const struct kind_loader *kind = NULL;

    node->kind = FLOW_KIND_END;
    if (!want_type(l, obj, path, cJSON_IsObject, "an object {\"type\": ...}"))
        return;
    if ((j = member(l, obj, path, "type", true)) == NULL ||
        (name = as_string(l, j, path_key(sub, path, "type"))) == NULL)
        return;
    for (int k = 0; k < FLOW_KIND_COUNT && kind == NULL; k++) {
        if (strcmp(name, flow_kind_name(k)) == 0) {
            node->kind = k;
            kind = &kinds[k];
        }
    }
    if (kind == NULL) {
        report(l, DIAG_ERROR, sub, "unknown node type '%s': use %s", shown(name, type),
               kind_list(names, sizeof(names)));
        return;
    }
    assert(kind->keys != NULL);
    check_keys(l, obj, path, kind->keys, name);
    if (kind->says_text)
        load_text(l, member(l, obj, path, "text", true), path_key(sub, path, "text"), &node->text);
    /* "ucs2": true says the node is written in a script outside GSM-7 on purpose. */
    if ((j = cJSON_GetObjectItemCaseSensitive(obj, "ucs2")) != NULL &&
        want_type(l, j, path_key(sub, path, "ucs2"), cJSON_IsBool, "true or false"))
        node->ucs2 = cJSON_IsTrue(j);
    if (kind->load != NULL)
        kind->load(l, obj, path, node);
}

static void load_nodes(struct loader *l, const cJSON *root, struct flow *f)
{
    const cJSON *j = member(l, root, "", "nodes", true);
    char path[PATH_LEN], id[SHOWN_LEN];

    if (j == NULL || !want_type(l, j, "nodes", cJSON_IsObject, "an object {\"id\": {...}}"))
        return;
    if (cJSON_GetArraySize(j) == 0) {
        report(l, DIAG_ERROR, "nodes", "a flow needs at least one node");
        return;
    }
    if ((f->nodes = alloc_array(l, (size_t)cJSON_GetArraySize(j), sizeof(*f->nodes))) == NULL)
        return;
    for (const cJSON *c = j->child; c != NULL; c = c->next) {
        struct flow_node *node = &f->nodes[f->nnodes];

        path_key(path, "nodes", c->string);
        shown(c->string, id);
        if (seen_before(j->child, c)) {
            report(l, DIAG_ERROR, path, "node '%s' is defined twice", id);
            continue;
        }
        /* An invalid id is reported but kept, so references to it still resolve. */
        if (!id_valid(c->string))
            report(l, DIAG_ERROR, path,
                   "'%s' is not a node id: use a-z, 0-9, _ and -, at most %d characters", id,
                   FLOW_ID_MAX - 1);
        if ((node->id = copy_string(l, c->string)) == NULL)
            continue;
        f->nnodes++;
        load_node(l, c, path, node);
    }
}

/*
 * "keywords": ["YÖ", "NATT"] for words of any language, or by language,
 * {"fi": ["YÖ"], "sv": ["NATT"]}: then a person who starts with NATT gets
 * the flow in Swedish. A malformed entry stays NULL, as in load_strings.
 * They are compared with each other and the global words in flow_check.c.
 */
static void load_keywords(struct loader *l, const cJSON *root, struct flow *f)
{
    const cJSON *j = member(l, root, "", "keywords", false);
    size_t total = 0, i = 0;

    if (j == NULL)
        return;
    if (cJSON_IsArray(j)) {
        if (load_strings(l, root, "keywords", false, NULL, &f->keywords, &f->nkeywords) &&
            f->nkeywords > 0)
            f->keyword_langs = alloc_array(l, f->nkeywords, sizeof(*f->keyword_langs));
        return;
    }
    if (!want_type(l, j, "keywords", cJSON_IsObject,
                   "a list [\"YÖ\", ...] or lists by language {\"fi\": [\"YÖ\"], ...}"))
        return;
    for (const cJSON *c = j->child; c != NULL; c = c->next)
        total += cJSON_IsArray(c) ? (size_t)cJSON_GetArraySize(c) : 0;
    if (total > 0 &&
        ((f->keywords = alloc_array(l, total, sizeof(*f->keywords))) == NULL ||
         (f->keyword_langs = alloc_array(l, total, sizeof(*f->keyword_langs))) == NULL))
        return;
    for (const cJSON *c = j->child; c != NULL; c = c->next) {
        char sub[PATH_LEN], item[PATH_LEN], lang[SHOWN_LEN];
        size_t k = 0;

        path_key(sub, "keywords", c->string);
        shown(c->string, lang);
        if (!want_type(l, c, sub, cJSON_IsArray, "a list of words"))
            continue;
        if (!lang_valid(c->string))
            report(l, DIAG_ERROR, sub, "'%s' is not a language code such as fi, sv or en", lang);
        else if (!lang_listed(f->languages, f->nlanguages, c->string))
            report(l, DIAG_ERROR, sub, "'%s' is not one of the flow's languages", lang);
        for (const cJSON *w = c->child; w != NULL; w = w->next, k++, i++) {
            const char *s = as_string(l, w, path_index(item, sub, k));

            if (s != NULL && f->keyword_langs != NULL && lang_valid(c->string) &&
                lang_listed(f->languages, f->nlanguages, c->string)) {
                f->keywords[i] = copy_string(l, s);
                f->keyword_langs[i] = copy_string(l, c->string);
            }
        }
    }
    f->nkeywords = i;
}

static void load_flow(struct loader *l, const cJSON *root, struct flow *f)
{
    static const char *const flow_keys[] = {"flow",     "main",  "languages", "start",
                                            "keywords", "nodes", NULL};
    const cJSON *j;
    char id[SHOWN_LEN];

    check_keys(l, root, "", flow_keys, NULL);
    f->id = get_string(l, root, "", "flow", true);
    if (f->id != NULL && !id_valid(f->id))
        report(l, DIAG_ERROR, "flow",
               "'%s' is not a flow id: use a-z, 0-9, _ and -, at most %d characters",
               shown(f->id, id), FLOW_ID_MAX - 1);
    if (f->id == NULL)
        f->id = copy_string(l, ""); /* lookups compare ids; "" matches no reference */
    if ((j = member(l, root, "", "main", false)) != NULL &&
        want_type(l, j, "main", cJSON_IsBool, "true or false"))
        f->main = cJSON_IsTrue(j);
    load_languages(l, root, &f->languages, &f->nlanguages);
    l->langs_of = "the flow's";
    f->start = get_string(l, root, "", "start", true);
    load_keywords(l, root, f);
    load_nodes(l, root, f);
}

static void load_global(struct loader *l, const cJSON *root, struct flow_global *g)
{
    static const char *const global_keys[] = {"global",       "languages", "texts",
                                              "crisis_words", "cities",    NULL};
    const char *names[FLOW_TEXT_COUNT + 1] = {NULL};
    const cJSON *j;
    char path[PATH_LEN];

    check_keys(l, root, "", global_keys, NULL);
    if ((j = member(l, root, "", "global", true)) != NULL && !cJSON_IsTrue(j))
        report(l, DIAG_ERROR, "global", "must be true in the global file");
    load_languages(l, root, &g->languages, &g->nlanguages);
    l->langs_of = "the global";
    load_strings(l, root, "crisis_words", false, NULL, &g->crisis_words, &g->ncrisis_words);
    load_strings(l, root, "cities", false, NULL, &g->cities, &g->ncities);
    if (g->ncities > 9)
        report(l, DIAG_ERROR, "cities", "at most 9 cities: the list is answered with one digit");
    j = member(l, root, "", "texts", true);
    if (j == NULL || !want_type(l, j, "texts", cJSON_IsObject, "an object {\"intro\": {...}}"))
        return;
    for (size_t i = 0; i < FLOW_TEXT_COUNT; i++)
        names[i] = flow_global_text_names[i];
    check_keys(l, j, "texts", names, NULL);
    for (size_t i = 0; i < FLOW_TEXT_COUNT; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, names[i]);

        if (t == NULL)
            report(l, DIAG_ERROR, "texts", "missing text '%s'", names[i]);
        load_text(l, t, path_key(path, "texts", names[i]), &g->texts[i]);
    }
}

/* Reads the file whole, NUL-terminated, up to FILE_MAX bytes; NULL (reported) on failure. */
static char *read_file(struct loader *l, size_t *len)
{
    FILE *fp = fopen(l->file, "rb");
    char *buf;
    size_t n = 0;

    if (fp == NULL) {
        report(l, DIAG_ERROR, "", "cannot open: %s", strerror(errno));
        return NULL;
    }
    if ((buf = malloc(FILE_MAX + 1)) != NULL)
        n = fread(buf, 1, FILE_MAX + 1, fp);
    if (buf == NULL) {
        report(l, DIAG_ERROR, "", "out of memory");
    } else if (ferror(fp)) {
        report(l, DIAG_ERROR, "", "cannot read: %s", strerror(errno));
    } else if (n > FILE_MAX) {
        report(l, DIAG_ERROR, "", "file is larger than %d MiB", FILE_MAX / (1024 * 1024));
    } else {
        buf[n] = '\0';
        *len = n;
        fclose(fp);
        return buf;
    }
    fclose(fp);
    free(buf);
    return NULL;
}

/* Reports a syntax error at the line and column (in characters) where parsing stopped. */
static void report_syntax(struct loader *l, const char *buf, size_t len, const char *at,
                          const char *what)
{
    size_t off = at != NULL && at >= buf && at <= buf + len ? (size_t)(at - buf) : 0;
    size_t line = 1, column = 1;

    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
            column++;
        }
    }
    report(l, DIAG_ERROR, "", "invalid JSON at line %zu, column %zu%s", line, column, what);
}

/*
 * Parses buf strictly: cJSON_ParseWithLength alone would accept "{...} junk"
 * (it stops after the first value), so the rest must be white space.
 */
static cJSON *parse(struct loader *l, const char *buf, size_t len)
{
    const char *end = NULL;
    cJSON *root;

    if (strspn(buf, " \t\r\n") >= len) {
        report(l, DIAG_ERROR, "", "the file is empty");
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
    if (root == NULL) {
        report_syntax(l, buf, len, end, "");
        return NULL;
    }
    while (end != NULL && end < buf + len && *end != '\0' && strchr(" \t\r\n", *end) != NULL)
        end++;
    if (end != NULL && end < buf + len) {
        report_syntax(l, buf, len, end, ": text after the end of the object");
        cJSON_Delete(root);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        report(l, DIAG_ERROR, "", "must be a JSON object {...}, not %s", json_kind(root));
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static const char *base_name(const char *file)
{
    const char *slash = strrchr(file, '/');

    return slash != NULL ? slash + 1 : file;
}

/* The set being built, with what the whole-set checks need to know about the files. */
struct builder {
    struct flow_set *set;
    struct diag *d;
    size_t cap;
    bool *broken;     /* per flow: its file had errors (see flow_check_set) */
    bool global_seen; /* some file was meant to be the global one */
    bool main_unsure; /* a flow file was unreadable or its "main" malformed */
    bool unreadable;  /* a flow file could not be read or parsed */
};

static bool grow_flows(struct builder *b)
{
    size_t cap = b->cap ? b->cap * 2 : 8;
    struct flow *flows = realloc(b->set->flows, cap * sizeof(*flows));
    bool *broken;

    if (flows == NULL)
        return false;
    b->set->flows = flows;
    if ((broken = realloc(b->broken, cap * sizeof(*broken))) == NULL)
        return false;
    b->broken = broken;
    b->cap = cap;
    return true;
}

static void add_flow(struct builder *b, struct loader *l, const cJSON *root)
{
    struct flow f = {0};
    size_t errors_before = b->d->errors;
    const cJSON *main_value = cJSON_GetObjectItemCaseSensitive(root, "main");

    if (b->set->nflows == b->cap && !grow_flows(b)) {
        report(l, DIAG_ERROR, "", "out of memory");
        return;
    }
    f.file = copy_string(l, l->file);
    load_flow(l, root, &f);
    b->main_unsure |= main_value != NULL && !cJSON_IsBool(main_value);
    /* Checks and lookups rely on every kept flow having an id and a file (out of memory aside). */
    if (f.file == NULL || f.id == NULL) {
        flow_release(&f);
        return;
    }
    b->broken[b->set->nflows] = b->d->errors > errors_before;
    b->set->flows[b->set->nflows++] = f;
}

/*
 * A file is the global one if it says "global" at the top, or is named
 * global.json (then a missing "global": true is reported rather than the
 * file being read as a flow with a dozen confusing errors).
 */
static void load_file(struct builder *b, const char *file)
{
    struct loader l = {.d = b->d, .file = file};
    size_t len = 0;
    char *buf;
    cJSON *root = NULL;
    bool named_global = strcmp(base_name(file), FLOW_GLOBAL_FILE) == 0;

    b->global_seen |= named_global;
    if ((buf = read_file(&l, &len)) == NULL || (root = parse(&l, buf, len)) == NULL) {
        b->main_unsure |= !named_global;
        b->unreadable |= !named_global;
        goto out;
    }
    if (!named_global && cJSON_GetObjectItemCaseSensitive(root, "global") == NULL) {
        add_flow(b, &l, root);
    } else if (b->set->global.file != NULL) {
        report(&l, DIAG_ERROR, "", "a second global file: %s already holds the engine's texts",
               b->set->global.file);
    } else {
        b->global_seen = true;
        b->set->global.file = copy_string(&l, file);
        load_global(&l, root, &b->set->global);
    }
out:
    cJSON_Delete(root);
    free(buf);
}

/* dir + "/" + name, returned owned; NULL on allocation failure. */
static char *join_path(const char *dir, const char *name)
{
    size_t dlen = strlen(dir), len = dlen + 1 + strlen(name) + 1;
    const char *sep = dlen > 0 && dir[dlen - 1] == '/' ? "" : "/";
    char *path = malloc(len);

    if (path != NULL)
        snprintf(path, len, "%s%s%s", dir, sep, name);
    return path;
}

/*
 * Exactly one flow is main: the one HELP and 00 lead to. "None" is not said
 * when a flow file could not be read, as that file may well be the main one.
 */
static void check_main(struct builder *b)
{
    const struct flow_set *set = b->set;
    const struct flow *main_flow = NULL;

    for (size_t i = 0; i < set->nflows; i++) {
        const struct flow *f = &set->flows[i];

        if (f->main && main_flow != NULL)
            diag_add(b->d, DIAG_ERROR, f->file, "main",
                     "flow '%s' (%s) is already the main flow: only one can be", main_flow->id,
                     main_flow->file);
        else if (f->main)
            main_flow = f;
    }
    if (main_flow == NULL && !b->main_unsure) {
        const char *file = set->global.file;

        if (file == NULL)
            file = set->nflows > 0 ? set->flows[0].file : "";
        diag_add(b->d, DIAG_ERROR, file, "",
                 "no main flow: mark the flow that HELP leads to with \"main\": true");
    }
}

static void report_missing_global(struct builder *b, const char *const *files, size_t nfiles,
                                  const char *dir)
{
    char *path = dir != NULL ? join_path(dir, FLOW_GLOBAL_FILE) : NULL;

    if (dir != NULL)
        diag_add(b->d, DIAG_ERROR, path != NULL ? path : dir, "",
                 "missing %s: the engine's own texts", FLOW_GLOBAL_FILE);
    else
        diag_add(b->d, DIAG_ERROR, nfiles > 0 ? files[0] : "", "",
                 "no global file among the files given (%s: the engine's own texts)",
                 FLOW_GLOBAL_FILE);
    free(path);
}

/*
 * Loads files, runs the whole-set checks, and keeps the set only if nothing
 * new is an error. dir is set when loading a directory, where global.json
 * must be present.
 */
static struct flow_set *load_all(const char *const *files, size_t nfiles, const char *dir,
                                 const struct flow_check_options *opt, struct diag *d)
{
    size_t errors_before = d->errors;
    struct builder b = {.d = d, .set = calloc(1, sizeof(struct flow_set))};

    if (b.set == NULL) {
        diag_add(d, DIAG_ERROR, dir != NULL ? dir : "", "", "out of memory");
        return NULL;
    }
    b.set->refs = 1;
    for (size_t i = 0; i < nfiles; i++)
        load_file(&b, files[i]);
    if (!b.global_seen)
        report_missing_global(&b, files, nfiles, dir);
    check_main(&b);
    flow_check_set(b.set, opt, &(struct flow_check_files){b.broken, b.unreadable}, d);
    free(b.broken);
    if (d->errors > errors_before) {
        flow_set_unref(b.set);
        return NULL;
    }
    return b.set;
}

struct flow_set *flow_set_load_files(const char *const *files, size_t nfiles,
                                     const struct flow_check_options *opt, struct diag *d)
{
    return load_all(files, nfiles, NULL, opt, d);
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_json_file(const char *name, const char *path)
{
    size_t len = strlen(name);
    struct stat st;

    return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".json") == 0 &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void free_paths(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

/*
 * Fills *out with the paths of the *.json files in dir (returned owned),
 * sorted by name; hidden files (editor backups such as .x.json.swp's
 * siblings) are skipped. Returns false (reported) on failure.
 */
static bool list_json_files(const char *dir, struct diag *d, char ***out, size_t *n)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (dh == NULL) {
        diag_add(d, DIAG_ERROR, dir, "", "cannot open directory: %s", strerror(errno));
        return false;
    }
    while ((e = readdir(dh)) != NULL) {
        char *path = join_path(dir, e->d_name);

        if (path == NULL)
            goto oom;
        if (!is_json_file(e->d_name, path)) {
            free(path);
            continue;
        }
        if (*n == cap) {
            size_t bigger_cap = cap ? cap * 2 : 16;
            char **bigger = realloc(*out, bigger_cap * sizeof(*bigger));

            if (bigger == NULL) {
                free(path);
                goto oom;
            }
            *out = bigger;
            cap = bigger_cap;
        }
        (*out)[(*n)++] = path;
    }
    closedir(dh);
    /* Every path has the same directory prefix, so sorting paths sorts names. */
    if (*n > 0)
        qsort(*out, *n, sizeof(**out), compare_paths);
    return true;
oom:
    diag_add(d, DIAG_ERROR, dir, "", "out of memory");
    closedir(dh);
    free_paths(*out, *n);
    *out = NULL;
    *n = 0;
    return false;
}

struct flow_set *flow_set_load_dir(const char *dir, const struct flow_check_options *opt,
                                   struct diag *d)
{
    char **files;
    size_t n;
    struct flow_set *set;

    if (!list_json_files(dir, d, &files, &n))
        return NULL;
    set = load_all((const char *const *)files, n, dir, opt, d);
    free_paths(files, n);
    return set;
}
