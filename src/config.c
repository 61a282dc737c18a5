/*
 * config.c: the table of known keys (one row per scalar setting) drives
 * defaults, JSON parsing, environment twins, validation and printing, so a
 * new setting is one row here plus one field in struct config.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "team.h"

enum config_type { CONFIG_STRING, CONFIG_INT, CONFIG_LOG_LEVEL, CONFIG_MAP };

struct config_key {
    const char *path; /* dotted path in the JSON file */
    enum config_type type;
    size_t offset;                              /* of the field in struct config */
    const char *def;                            /* default, as text */
    long min, max;                              /* CONFIG_INT bounds */
    bool secret;                                /* masked by config_print */
    int (*check)(const char *value, char *err); /* extra validation of strings */
    bool json; /* a string holding JSON written as JSON in the file (a list of teams) */
};

static int check_listen(const char *value, char *err);
static int check_secret(const char *value, char *err);
static int check_nonempty(const char *value, char *err);
static int check_url(const char *value, char *err);
static int check_gateway_name(const char *value, char *err);
static int check_teams(const char *value, char *err);
static int check_admin_token(const char *value, char *err);

#define STR(path, field, def, check)                                                               \
    {                                                                                              \
        path, CONFIG_STRING, offsetof(struct config, field), def, 0, 0, false, check, false        \
    }
#define INT(path, field, def, min, max)                                                            \
    {                                                                                              \
        path, CONFIG_INT, offsetof(struct config, field), def, min, max, false, NULL, false        \
    }

#define SECRET(path, field, check)                                                                 \
    {                                                                                              \
        path, CONFIG_STRING, offsetof(struct config, field), "", 0, 0, true, check, false          \
    }

static const struct config_key keys[] = {
    STR("listen", listen, "127.0.0.1:8080", check_listen),
    STR("port_file", port_file, "", NULL),
    STR("database", database, "var/katto.db", check_nonempty),
    STR("secret_file", secret_file, "var/secret", check_nonempty),
    {"secret", CONFIG_STRING, offsetof(struct config, secret), "", 0, 0, true, check_secret, false},
    STR("flows", flows, "flows", check_nonempty),
    STR("postal_codes", postal_codes, "db/data/postal_codes_fi.csv", check_nonempty),
    STR("services", services, "db/data/services_fi.csv", check_nonempty),
    INT("services_max_age_days", services_max_age_days, "0", 0, 3650),
    STR("privacy_url", privacy_url, "", check_url),
    {"log_level", CONFIG_LOG_LEVEL, offsetof(struct config, log_level), "info", 0, 0, false, NULL,
     false},
    INT("limits.max_body_bytes", limits.max_body_bytes, "65536", 1024, 16 * 1024 * 1024),
    INT("limits.max_header_bytes", limits.max_header_bytes, "8192", 1024, 1024 * 1024),
    INT("limits.max_connections", limits.max_connections, "512", 1, 100000),
    INT("limits.idle_timeout", limits.idle_timeout, "30", 1, 3600),
    INT("limits.header_timeout", limits.header_timeout, "10", 1, 600),
    INT("limits.shutdown_timeout", limits.shutdown_timeout, "20", 1, 120),
    INT("sms.max_segments", sms.max_segments, "2", 1, 10),
    INT("sms.session_timeout", sms.session_timeout, "1800", 60, 7 * 86400),
    INT("ussd.screen_budget", ussd.screen_budget, "160", 60, 182),
    SECRET("ussd.token", ussd.token, NULL),
    INT("ussd.session_timeout", ussd.session_timeout, "300", 30, 3600),
    {"ussd.service_codes", CONFIG_MAP, offsetof(struct config, ussd.service_codes), "", 0, 0, false,
     NULL, false},
    STR("public_url", public_url, "", check_url),
    STR("default_gateway", default_gateway, "console", check_gateway_name),
    INT("dedupe_hours", dedupe_hours, "72", 1, 24 * 30),
    INT("log_retention_months", log_retention_months, "24", 1, 120),
    INT("maintenance_interval", maintenance_interval, "60", 1, 3600),
    STR("test_clock_file", test_clock_file, "", NULL),
    STR("test_disk_full_file", test_disk_full_file, "", NULL),
    STR("gateways.twilio.account_sid", gateways.twilio.account_sid, "", NULL),
    SECRET("gateways.twilio.auth_token", gateways.twilio.auth_token, NULL),
    STR("gateways.twilio.from", gateways.twilio.from, "", NULL),
    STR("gateways.twilio.base_url", gateways.twilio.base_url, "https://api.twilio.com", check_url),
    STR("gateways.46elks.username", gateways.elks.username, "", NULL),
    SECRET("gateways.46elks.password", gateways.elks.password, NULL),
    STR("gateways.46elks.from", gateways.elks.from, "", NULL),
    STR("gateways.46elks.base_url", gateways.elks.base_url, "https://api.46elks.com", check_url),
    SECRET("gateways.46elks.webhook_token", gateways.elks.webhook_token, NULL),
    INT("gateways.46elks.inline_reply", gateways.elks.inline_reply, "0", 0, 1),
    SECRET("gateways.gatewayapi.token", gateways.gatewayapi.token, NULL),
    SECRET("gateways.gatewayapi.webhook_secret", gateways.gatewayapi.webhook_secret, NULL),
    SECRET("gateways.gatewayapi.status_secret", gateways.gatewayapi.status_secret, NULL),
    STR("gateways.gatewayapi.from", gateways.gatewayapi.from, "", NULL),
    STR("gateways.gatewayapi.base_url", gateways.gatewayapi.base_url, "https://gatewayapi.eu",
        check_url),
    STR("gateways.africastalking.username", gateways.africastalking.username, "", NULL),
    SECRET("gateways.africastalking.api_key", gateways.africastalking.api_key, NULL),
    STR("gateways.africastalking.from", gateways.africastalking.from, "", NULL),
    STR("gateways.africastalking.base_url", gateways.africastalking.base_url,
        "https://api.africastalking.com", check_url),
    SECRET("gateways.africastalking.webhook_token", gateways.africastalking.webhook_token, NULL),
    INT("outbox.max_parallel", outbox.max_parallel, "8", 1, 256),
    INT("outbox.rate", outbox.rate, "10", 1, 100000),
    INT("outbox.max_age", outbox.max_age, "86400", 60, 7 * 86400),
    INT("outbox.timeout", outbox.timeout, "10", 1, 120),
    INT("outbox.retry_base", outbox.retry_base, "2", 1, 600),
    INT("outbox.keep_days", outbox.keep_days, "7", 1, 365),
    INT("abuse.per_number_hour", abuse.per_number_hour, "30", 1, 100000),
    INT("abuse.per_number_day", abuse.per_number_day, "100", 1, 1000000),
    INT("abuse.global_day", abuse.global_day, "20000", 1, 100000000),
    {"callbacks.teams", CONFIG_STRING, offsetof(struct config, callbacks.teams), "", 0, 0, false,
     check_teams, true},
    INT("callbacks.remind_after", callbacks.remind_after, "1800", 60, 86400),
    INT("callbacks.now_minutes", callbacks.now_minutes, "120", 10, 1440),
    INT("callbacks.retention_days", callbacks.retention_days, "14", 1, 365),
    INT("worker.token_days", worker.token_days, "90", 1, 3650),
    INT("worker.session_idle", worker.session_idle, "1800", 60, 86400),
    INT("worker.trusted_proxy", worker.trusted_proxy, "0", 0, 1),
    INT("worker.audit_days", worker.audit_days, "730", 30, 3650),
    SECRET("admin.token", admin.token, check_admin_token),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void *field(struct config *cfg, const struct config_key *k)
{
    return (char *)cfg + k->offset;
}

static const void *cfield(const struct config *cfg, const struct config_key *k)
{
    return (const char *)cfg + k->offset;
}

static int check_nonempty(const char *value, char *err)
{
    if (value[0] == '\0') {
        err_set(err, "must not be empty");
        return -1;
    }
    return 0;
}

static int check_url(const char *value, char *err)
{
    if (value[0] != '\0' && strncmp(value, "https://", 8) != 0 &&
        strncmp(value, "http://", 7) != 0) {
        err_set(err, "must be an http:// or https:// address");
        return -1;
    }
    return 0;
}

static int check_gateway_name(const char *value, char *err)
{
    static const char *const names[] = {"console", "twilio", "46elks", "gatewayapi",
                                        "africastalking"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(value, names[i]) == 0)
            return 0;
    }
    err_set(err, "must be one of console, twilio, 46elks, gatewayapi, africastalking");
    return -1;
}

static int check_teams(const char *value, char *err)
{
    struct team_list l;
    int rc = team_list_parse(value, &l, err);

    team_list_release(&l);
    return rc;
}

/* The admin token guards every statistic: long enough that guessing is hopeless. */
static int check_admin_token(const char *value, char *err)
{
    size_t n = strlen(value);

    if (n == 0)
        return 0;
    if (n < 24 || n > 256) {
        err_set(err, "must be 24 to 256 characters (empty turns /admin off), got %zu", n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (value[i] <= ' ' || value[i] > '~') {
            err_set(err, "must be printable ASCII without spaces");
            return -1;
        }
    }
    return 0;
}

static int check_listen(const char *value, char *err)
{
    char host[256];
    int port;

    return config_listen_split(value, host, sizeof(host), &port, err);
}

static int check_secret(const char *value, char *err)
{
    size_t n = strlen(value);

    if (n == 0)
        return 0;
    if (n != 64) {
        err_set(err, "must be 64 hexadecimal digits (32 bytes), got %zu characters", n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)value[i])) {
            err_set(err, "must be 64 hexadecimal digits (32 bytes)");
            return -1;
        }
    }
    return 0;
}

int config_listen_split(const char *listen, char *host, size_t hostcap, int *port, char *err)
{
    const char *colon = strrchr(listen, ':');
    char *end;
    long p;

    if (colon == NULL || colon == listen || colon[1] == '\0') {
        err_set(err, "must be host:port, such as 127.0.0.1:8080");
        return -1;
    }
    if ((size_t)(colon - listen) >= hostcap) {
        err_set(err, "host part is too long");
        return -1;
    }
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || errno != 0 || *end != '\0' || p < 0 || p > 65535) {
        err_set(err, "port must be a number from 0 to 65535");
        return -1;
    }
    /* Brackets allow IPv6 literals: [::1]:8080. */
    if ((listen[0] == '[') != (colon[-1] == ']') || (listen[0] == '[' && colon - listen < 3)) {
        err_set(err, "an IPv6 address goes in brackets, such as [::1]:8080");
        return -1;
    }
    if (listen[0] == '[') {
        memcpy(host, listen + 1, (size_t)(colon - listen) - 2);
        host[colon - listen - 2] = '\0';
    } else {
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    *port = (int)p;
    return 0;
}

/* Parses text into the field of k; err says why not, without echoing secrets. */
static int set_value(struct config *cfg, const struct config_key *k, const char *text, char *err)
{
    switch (k->type) {
    case CONFIG_STRING: {
        char **slot = field(cfg, k);
        char *copy;

        if (k->check != NULL && k->check(text, err) != 0)
            return -1;
        if ((copy = strdup(text)) == NULL) {
            err_set(err, "out of memory");
            return -1;
        }
        free(*slot);
        *slot = copy;
        return 0;
    }
    case CONFIG_INT: {
        long *slot = field(cfg, k), v;
        char *end;

        errno = 0;
        v = strtol(text, &end, 10);
        /* strtol would also take " 2048" and "+2048": settings are plain digits. */
        if (!(isdigit((unsigned char)text[0]) ||
              (text[0] == '-' && isdigit((unsigned char)text[1]))) ||
            errno != 0 || end == text || *end != '\0' || v < k->min || v > k->max) {
            err_set(err, "must be a whole number from %ld to %ld", k->min, k->max);
            return -1;
        }
        *slot = v;
        return 0;
    }
    case CONFIG_LOG_LEVEL:
        if (log_level_parse(text, field(cfg, k)) != 0) {
            err_set(err, "must be one of debug, info, warn, error");
            return -1;
        }
        return 0;
    case CONFIG_MAP: return 0; /* maps come only from the file (set_map); the default is empty */
    }
    return -1;
}

void config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++) {
        int rc = set_value(cfg, &keys[i], keys[i].def, NULL);

        (void)rc; /* defaults are valid by construction; test_config checks it */
    }
}

static void map_release(struct config_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

const char *config_map_get(const struct config_map *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->keys[i], key) == 0)
            return m->values[i];
    }
    return NULL;
}

/* Replaces the map at k with the JSON object item, whose values must be strings. */
static int set_map(struct config *cfg, const struct config_key *k, const cJSON *item, char *err)
{
    struct config_map *m = field(cfg, k), fresh = {0};
    size_t n = (size_t)cJSON_GetArraySize(item);
    const cJSON *e;

    if (!cJSON_IsObject(item)) {
        err_set(err, "must be an object of strings, such as {\"*500#\": \"helpline\"}");
        return -1;
    }
    fresh.keys = calloc(n + 1, sizeof(char *));
    fresh.values = calloc(n + 1, sizeof(char *));
    if (fresh.keys == NULL || fresh.values == NULL) {
        map_release(&fresh);
        err_set(err, "out of memory");
        return -1;
    }
    cJSON_ArrayForEach(e, item)
    {
        if (!cJSON_IsString(e)) {
            map_release(&fresh);
            err_set(err, "value of '%.64s' must be a string", e->string);
            return -1;
        }
        fresh.keys[fresh.n] = strdup(e->string);
        fresh.values[fresh.n] = strdup(e->valuestring);
        fresh.n++;
        if (fresh.keys[fresh.n - 1] == NULL || fresh.values[fresh.n - 1] == NULL) {
            map_release(&fresh);
            err_set(err, "out of memory");
            return -1;
        }
    }
    map_release(m);
    *m = fresh;
    return 0;
}

void config_release(struct config *cfg)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == CONFIG_MAP)
            map_release(field(cfg, &keys[i]));
        if (keys[i].type == CONFIG_STRING) {
            char **slot = field(cfg, &keys[i]);

            if (keys[i].secret && *slot != NULL)
                explicit_bzero(*slot, strlen(*slot));
            free(*slot);
            *slot = NULL;
        }
    }
}

static const struct config_key *find_key(const char *path)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    }
    return NULL;
}

/* True if some known key lives under "prefix." (so prefix is an object). */
static bool is_section(const char *prefix)
{
    size_t n = strlen(prefix);

    for (size_t i = 0; i < NKEYS; i++) {
        if (strncmp(keys[i].path, prefix, n) == 0 && keys[i].path[n] == '.')
            return true;
    }
    return false;
}

static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p != '\0'; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int apply_json(struct config *cfg, const cJSON *obj, const char *prefix, char *err)
{
    const cJSON *item;

    cJSON_ArrayForEach(item, obj)
    {
        char path[256], why[ERR_LEN], text[64], *json_text = NULL;
        const struct config_key *k;
        const char *value;

        snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", item->string);
        if (cJSON_IsObject(item) && is_section(path)) {
            if (apply_json(cfg, item, path, err) != 0)
                return -1;
            continue;
        }
        if ((k = find_key(path)) == NULL) {
            err_set(err, "'%s': unknown key", path);
            return -1;
        }
        if (k->type == CONFIG_MAP) {
            if (set_map(cfg, k, item, why) != 0) {
                err_set(err, "'%s': %s", path, why);
                return -1;
            }
            continue;
        }
        if (k->type == CONFIG_INT && cJSON_IsNumber(item)) {
            /* Range first: casting a huge double to long is undefined. */
            if (item->valuedouble < (double)k->min || item->valuedouble > (double)k->max ||
                item->valuedouble != (double)(long)item->valuedouble) {
                err_set(err, "'%s': must be a whole number from %ld to %ld", path, k->min, k->max);
                return -1;
            }
            snprintf(text, sizeof(text), "%ld", (long)item->valuedouble);
            value = text;
        } else if (k->json) {
            if ((json_text = cJSON_PrintUnformatted(item)) == NULL) {
                err_set(err, "'%s': out of memory", path);
                return -1;
            }
            value = json_text;
        } else if (k->type != CONFIG_INT && cJSON_IsString(item)) {
            value = item->valuestring;
        } else {
            err_set(err, "'%s': expected %s", path,
                    k->type == CONFIG_INT ? "a number" : "a string");
            return -1;
        }
        int rc = set_value(cfg, k, value, why);

        cJSON_free(json_text);
        if (rc != 0) {
            err_set(err, "'%s': %s", path, why);
            return -1;
        }
    }
    return 0;
}

static int load_file(struct config *cfg, const char *path, char *err)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    cJSON *root = NULL;
    int rc = -1;

    if (f == NULL) {
        err_set(err, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *bigger;

            cap = cap ? cap * 2 : 8192;
            if (cap > 1024 * 1024 || (bigger = realloc(text, cap)) == NULL) {
                err_set(err, "'%s': file too large", path);
                goto out;
            }
            text = bigger;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        err_set(err, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    text[len] = '\0';
    root = cJSON_ParseWithLength(text, len);
    if (root == NULL) {
        int line, col;

        line_col(text, cJSON_GetErrorPtr(), &line, &col);
        err_set(err, "'%s': invalid JSON at line %d, column %d", path, line, col);
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        err_set(err, "'%s': the top level must be a JSON object", path);
        goto out;
    }
    if (apply_json(cfg, root, "", err) != 0) {
        err_prefix(err, "'%s'", path);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    free(text);
    fclose(f);
    return rc;
}

/* KATTO_ + path upper-cased with '.' as '_'. */
static void env_name(const char *path, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "KATTO_");

    for (const char *p = path; *p != '\0' && n + 1 < cap; p++)
        out[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

static const char *env_lookup(char *const *envp, const char *name)
{
    size_t n = strlen(name);

    for (; envp != NULL && *envp != NULL; envp++) {
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    }
    return NULL;
}

int config_load(struct config *cfg, const char *path, char *const *envp, char *err)
{
    if (path != NULL && load_file(cfg, path, err) != 0)
        return -1;
    for (size_t i = 0; i < NKEYS; i++) {
        char name[128], why[ERR_LEN];
        const char *value;

        if (keys[i].type == CONFIG_MAP || keys[i].json)
            continue; /* lists and maps live in the file */
        env_name(keys[i].path, name, sizeof(name));
        if ((value = env_lookup(envp, name)) == NULL)
            continue;
        if (set_value(cfg, &keys[i], value, why) != 0) {
            err_set(err, "environment %s ('%s'): %s", name, keys[i].path, why);
            return -1;
        }
    }
    /* A KATTO_ variable that matches no key is almost always a typo that would
     * silently leave a default in place, so it is an error too. */
    for (; envp != NULL && *envp != NULL; envp++) {
        const char *eq = strchr(*envp, '=');
        char name[128];
        bool known = false;

        if (strncmp(*envp, "KATTO_", 6) != 0 || strncmp(*envp, "KATTO_TEST_", 11) == 0 ||
            eq == NULL)
            continue;
        for (size_t i = 0; i < NKEYS && !known; i++) {
            if (keys[i].type == CONFIG_MAP)
                continue;
            env_name(keys[i].path, name, sizeof(name));
            known = strlen(name) == (size_t)(eq - *envp) &&
                    strncmp(*envp, name, (size_t)(eq - *envp)) == 0;
        }
        if (!known) {
            err_set(err, "environment %.*s: unknown setting",
                    (int)(eq - *envp < 100 ? eq - *envp : 100), *envp);
            return -1;
        }
    }
    return 0;
}

static void set_path(cJSON *root, const char *path, cJSON *value)
{
    char part[128];
    const char *dot;
    cJSON *obj = root;

    while ((dot = strchr(path, '.')) != NULL) {
        cJSON *child;

        snprintf(part, sizeof(part), "%.*s", (int)(dot - path), path);
        if ((child = cJSON_GetObjectItemCaseSensitive(obj, part)) == NULL)
            child = cJSON_AddObjectToObject(obj, part);
        obj = child;
        path = dot + 1;
    }
    cJSON_AddItemToObject(obj, path, value);
}

void config_print(const struct config *cfg, FILE *out)
{
    cJSON *root = cJSON_CreateObject();
    char *text;

    for (size_t i = 0; i < NKEYS; i++) {
        const struct config_key *k = &keys[i];
        cJSON *v = NULL;

        switch (k->type) {
        case CONFIG_STRING: {
            const char *s = *(char *const *)cfield(cfg, k);

            if (k->json)
                v = s[0] != '\0' ? cJSON_Parse(s) : cJSON_CreateArray();
            else
                v = cJSON_CreateString(k->secret && s[0] != '\0' ? "********" : s);
            break;
        }
        case CONFIG_INT: v = cJSON_CreateNumber((double)*(const long *)cfield(cfg, k)); break;
        case CONFIG_LOG_LEVEL:
            v = cJSON_CreateString(log_level_name(*(const enum log_level *)cfield(cfg, k)));
            break;
        case CONFIG_MAP: {
            const struct config_map *m = cfield(cfg, k);

            v = cJSON_CreateObject();
            for (size_t j = 0; j < m->n; j++)
                cJSON_AddStringToObject(v, m->keys[j], m->values[j]);
            break;
        }
        }
        set_path(root, k->path, v);
    }
    text = cJSON_Print(root);
    if (text != NULL)
        fprintf(out, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(root);
}
