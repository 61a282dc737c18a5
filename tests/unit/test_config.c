/*
 * test_config.c: unit tests for config.c. Tables pin down the embedded
 * defaults, the precedence defaults < JSON file < environment twins, and that
 * every kind of bad value (unknown key, wrong JSON type, fraction, out of
 * range, bad listen address, bad level, bad secret, broken JSON, bad or
 * unknown environment variable) is refused with an error naming the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "testlib.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define SECRET_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

struct fixture {
    char *dir;
    struct config cfg;
    char err[ERR_LEN];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL)
        return -1;
    fx->dir = testlib_tmpdir();
    config_init(&fx->cfg);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    config_release(&fx->cfg);
    testlib_rmrf(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Writes text to dir/name and returns the path (caller frees). */
static char *write_config(const struct fixture *fx, const char *name, const char *text)
{
    char *path;

    if (asprintf(&path, "%s/%s", fx->dir, name) < 0)
        abort();
    testlib_write_file(path, text);
    return path;
}

/* A modifiable, NULL-terminated copy of vars (config_load takes char *const *). */
static char **env_new(const char *const *vars)
{
    size_t n = 0;
    char **env;

    while (vars[n] != NULL)
        n++;
    if ((env = calloc(n + 1, sizeof(*env))) == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if ((env[i] = strdup(vars[i])) == NULL)
            abort();
    }
    return env;
}

static void env_free(char **env)
{
    for (size_t i = 0; env[i] != NULL; i++)
        free(env[i]);
    free(env);
}

/* Loads text as a config file (NULL: no file) and env (may be NULL) into a fresh cfg. */
static int load(struct fixture *fx, const char *text, const char *const *vars)
{
    char *path = text != NULL ? write_config(fx, "katto.json", text) : NULL;
    char **env = vars != NULL ? env_new(vars) : NULL;
    int rc;

    config_release(&fx->cfg);
    config_init(&fx->cfg);
    fx->err[0] = '\0';
    rc = config_load(&fx->cfg, path, env, fx->err);
    if (env != NULL)
        env_free(env);
    free(path);
    return rc;
}

static void expect_err_has(const char *why, const char *err, const char *want)
{
    if (want != NULL && strstr(err, want) == NULL)
        fail_msg("%s: error \"%s\" does not contain \"%s\"", why, err, want);
}

static void defaults_match_the_documented_values(void **state)
{
    struct fixture *fx = *state;
    const struct config *c = &fx->cfg;

    assert_string_equal(c->listen, "127.0.0.1:8080");
    assert_string_equal(c->port_file, "");
    assert_string_equal(c->database, "var/katto.db");
    assert_string_equal(c->secret_file, "var/secret");
    assert_string_equal(c->secret, "");
    assert_string_equal(c->flows, "flows");
    assert_int_equal(c->log_level, LOG_LEVEL_INFO);
    assert_int_equal(c->limits.max_body_bytes, 65536);
    assert_int_equal(c->limits.max_header_bytes, 8192);
    assert_int_equal(c->limits.max_connections, 512);
    assert_int_equal(c->limits.idle_timeout, 30);
    assert_int_equal(c->limits.header_timeout, 10);
    assert_int_equal(c->limits.shutdown_timeout, 20);
}

static void load_without_file_or_env_keeps_defaults(void **state)
{
    struct fixture *fx = *state;
    static const char *const unrelated[] = {"PATH=/usr/bin:/bin", "HOME=/root", "KATTOX=1",
                                            "katto_listen=nohost", NULL};

    assert_int_equal(load(fx, NULL, NULL), 0);
    assert_string_equal(fx->cfg.listen, "127.0.0.1:8080");
    /* Variables that are not KATTO_ twins (other prefixes, other case) are not ours. */
    assert_int_equal(load(fx, NULL, unrelated), 0);
    assert_string_equal(fx->cfg.listen, "127.0.0.1:8080");
    assert_int_equal(fx->cfg.limits.max_body_bytes, 65536);
}

static void file_values_are_applied_including_nested_sections(void **state)
{
    struct fixture *fx = *state;
    const struct config *c = &fx->cfg;
    static const char text[] = "{\n"
                               "  \"listen\": \"0.0.0.0:0\",\n"
                               "  \"port_file\": \"var/port\",\n"
                               "  \"database\": \"/srv/katto/k.db\",\n"
                               "  \"secret_file\": \"/srv/katto/secret\",\n"
                               "  \"secret\": \"" SECRET_HEX "\",\n"
                               "  \"flows\": \"/srv/flows\",\n"
                               "  \"log_level\": \"debug\",\n"
                               "  \"limits\": {\n"
                               "    \"max_body_bytes\": 2048,\n"
                               "    \"max_header_bytes\": 4096,\n"
                               "    \"max_connections\": 7,\n"
                               "    \"idle_timeout\": 3600,\n"
                               "    \"header_timeout\": 1,\n"
                               "    \"shutdown_timeout\": 120\n"
                               "  }\n"
                               "}\n";

    assert_int_equal(load(fx, text, NULL), 0);
    assert_string_equal(c->listen, "0.0.0.0:0");
    assert_string_equal(c->port_file, "var/port");
    assert_string_equal(c->database, "/srv/katto/k.db");
    assert_string_equal(c->secret_file, "/srv/katto/secret");
    assert_string_equal(c->secret, SECRET_HEX);
    assert_string_equal(c->flows, "/srv/flows");
    assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(c->limits.max_body_bytes, 2048);
    assert_int_equal(c->limits.max_header_bytes, 4096);
    assert_int_equal(c->limits.max_connections, 7);
    assert_int_equal(c->limits.idle_timeout, 3600);
    assert_int_equal(c->limits.header_timeout, 1);
    assert_int_equal(c->limits.shutdown_timeout, 120);
}

static void file_leaves_unmentioned_keys_at_their_defaults(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(load(fx, "{\"limits\": {\"max_connections\": 9}}", NULL), 0);
    assert_int_equal(fx->cfg.limits.max_connections, 9);
    assert_int_equal(fx->cfg.limits.max_body_bytes, 65536);
    assert_string_equal(fx->cfg.listen, "127.0.0.1:8080");
    assert_string_equal(fx->cfg.database, "var/katto.db");
    /* An empty object and an empty section are valid files. */
    assert_int_equal(load(fx, "{}", NULL), 0);
    assert_int_equal(load(fx, "{\"limits\": {}}", NULL), 0);
    assert_int_equal(fx->cfg.limits.max_connections, 512);
}

static void env_twin_overrides_file_value(void **state)
{
    struct fixture *fx = *state;
    static const char text[] = "{\"listen\": \"127.0.0.1:7000\", \"secret_file\": \"/a/b\","
                               " \"database\": \"from-file.db\","
                               " \"limits\": {\"max_body_bytes\": 4096}}";
    static const char *const env[] = {"KATTO_LISTEN=0.0.0.0:9000", "KATTO_SECRET_FILE=/x/y",
                                      "KATTO_LIMITS_MAX_BODY_BYTES=2048", NULL};

    assert_int_equal(load(fx, text, env), 0);
    assert_string_equal(fx->cfg.listen, "0.0.0.0:9000");
    assert_string_equal(fx->cfg.secret_file, "/x/y");
    assert_int_equal(fx->cfg.limits.max_body_bytes, 2048);
    /* Keys without a twin in the environment keep the file's value. */
    assert_string_equal(fx->cfg.database, "from-file.db");
}

struct twin_case {
    const char *var;   /* NAME=value */
    const char *field; /* how to read it back, see twin_value */
    const char *want;
};

static const struct twin_case twin_cases[] = {
    {"KATTO_LISTEN=[::1]:8443", "listen", "[::1]:8443"},
    {"KATTO_PORT_FILE=/run/katto.port", "port_file", "/run/katto.port"},
    {"KATTO_DATABASE=/tmp/k.db", "database", "/tmp/k.db"},
    {"KATTO_SECRET_FILE=s", "secret_file", "s"},
    {"KATTO_SECRET=" SECRET_HEX, "secret", SECRET_HEX},
    {"KATTO_FLOWS=/etc/katto/flows", "flows", "/etc/katto/flows"},
    {"KATTO_LOG_LEVEL=warn", "log_level", "warn"},
    {"KATTO_LOG_LEVEL=error", "log_level", "error"},
    {"KATTO_LIMITS_MAX_BODY_BYTES=1024", "limits.max_body_bytes", "1024"},
    {"KATTO_LIMITS_MAX_BODY_BYTES=16777216", "limits.max_body_bytes", "16777216"},
    {"KATTO_LIMITS_MAX_HEADER_BYTES=1048576", "limits.max_header_bytes", "1048576"},
    {"KATTO_LIMITS_MAX_CONNECTIONS=1", "limits.max_connections", "1"},
    {"KATTO_LIMITS_MAX_CONNECTIONS=100000", "limits.max_connections", "100000"},
    {"KATTO_LIMITS_IDLE_TIMEOUT=1", "limits.idle_timeout", "1"},
    {"KATTO_LIMITS_HEADER_TIMEOUT=600", "limits.header_timeout", "600"},
    {"KATTO_LIMITS_SHUTDOWN_TIMEOUT=120", "limits.shutdown_timeout", "120"},
};

static void twin_value(const struct config *c, const char *field, char *out, size_t cap)
{
    if (strcmp(field, "listen") == 0)
        snprintf(out, cap, "%s", c->listen);
    else if (strcmp(field, "port_file") == 0)
        snprintf(out, cap, "%s", c->port_file);
    else if (strcmp(field, "database") == 0)
        snprintf(out, cap, "%s", c->database);
    else if (strcmp(field, "secret_file") == 0)
        snprintf(out, cap, "%s", c->secret_file);
    else if (strcmp(field, "secret") == 0)
        snprintf(out, cap, "%s", c->secret);
    else if (strcmp(field, "flows") == 0)
        snprintf(out, cap, "%s", c->flows);
    else if (strcmp(field, "log_level") == 0)
        snprintf(out, cap, "%s", log_level_name(c->log_level));
    else if (strcmp(field, "limits.max_body_bytes") == 0)
        snprintf(out, cap, "%ld", c->limits.max_body_bytes);
    else if (strcmp(field, "limits.max_header_bytes") == 0)
        snprintf(out, cap, "%ld", c->limits.max_header_bytes);
    else if (strcmp(field, "limits.max_connections") == 0)
        snprintf(out, cap, "%ld", c->limits.max_connections);
    else if (strcmp(field, "limits.idle_timeout") == 0)
        snprintf(out, cap, "%ld", c->limits.idle_timeout);
    else if (strcmp(field, "limits.header_timeout") == 0)
        snprintf(out, cap, "%ld", c->limits.header_timeout);
    else if (strcmp(field, "limits.shutdown_timeout") == 0)
        snprintf(out, cap, "%ld", c->limits.shutdown_timeout);
    else
        fail_msg("no such field %s", field);
}

static void every_scalar_key_has_an_env_twin(void **state)
{
    struct fixture *fx = *state;

    for (size_t i = 0; i < N_ROWS(twin_cases); i++) {
        const struct twin_case *t = &twin_cases[i];
        const char *env[] = {t->var, NULL};
        char got[256];

        if (load(fx, NULL, env) != 0)
            fail_msg("%s: refused: %s", t->var, fx->err);
        twin_value(&fx->cfg, t->field, got, sizeof(got));
        if (strcmp(got, t->want) != 0)
            fail_msg("%s: %s is \"%s\", expected \"%s\"", t->var, t->field, got, t->want);
    }
}

struct bad_file_case {
    const char *why;
    const char *json;
    const char *key;     /* the error must name it, in single quotes */
    const char *problem; /* and say this much about why (NULL: anything) */
};

static const struct bad_file_case bad_file_cases[] = {
    {"unknown key in a section", "{\"limits\": {\"nope\": 1}}", "'limits.nope'", "unknown key"},
    {"unknown top-level key", "{\"nope\": 1}", "'nope'", "unknown key"},
    {"keys are case-sensitive", "{\"Listen\": \"127.0.0.1:1\"}", "'Listen'", "unknown key"},
    {"unknown key after good ones", "{\"listen\": \"127.0.0.1:1\", \"limits\": {\"max\": 1}}",
     "'limits.max'", "unknown key"},
    {"section given as a number", "{\"limits\": 5}", "'limits'", NULL},
    {"key that is not a section given an object", "{\"listen\": {\"host\": \"x\"}}", "'listen'",
     NULL},
    {"number for a string", "{\"listen\": 8080}", "'listen'", "string"},
    {"null for a string", "{\"database\": null}", "'database'", "string"},
    {"array for a string", "{\"flows\": [\"a\"]}", "'flows'", "string"},
    {"number for the log level", "{\"log_level\": 1}", "'log_level'", "string"},
    {"string for a number", "{\"limits\": {\"max_body_bytes\": \"2048\"}}",
     "'limits.max_body_bytes'", "number"},
    {"boolean for a number", "{\"limits\": {\"idle_timeout\": true}}", "'limits.idle_timeout'",
     "number"},
    {"fraction", "{\"limits\": {\"max_body_bytes\": 1.5}}", "'limits.max_body_bytes'",
     "whole number"},
    {"fraction of a valid value", "{\"limits\": {\"max_connections\": 10.25}}",
     "'limits.max_connections'", "whole number"},
    {"below the minimum", "{\"limits\": {\"max_body_bytes\": 10}}", "'limits.max_body_bytes'",
     "1024"},
    {"zero connections", "{\"limits\": {\"max_connections\": 0}}", "'limits.max_connections'",
     NULL},
    {"negative", "{\"limits\": {\"idle_timeout\": -1}}", "'limits.idle_timeout'", NULL},
    {"above the maximum", "{\"limits\": {\"max_connections\": 100001}}", "'limits.max_connections'",
     "100000"},
    {"far above the maximum", "{\"limits\": {\"shutdown_timeout\": 1e30}}",
     "'limits.shutdown_timeout'", NULL},
    {"listen without a port", "{\"listen\": \"nohost\"}", "'listen'", "host:port"},
    {"listen with an empty port", "{\"listen\": \"host:\"}", "'listen'", NULL},
    {"listen without a host", "{\"listen\": \":8080\"}", "'listen'", NULL},
    {"listen port out of range", "{\"listen\": \"h:99999\"}", "'listen'", "65535"},
    {"listen port not a number", "{\"listen\": \"h:abc\"}", "'listen'", NULL},
    {"listen port with trailing junk", "{\"listen\": \"h:80x\"}", "'listen'", NULL},
    {"listen port negative", "{\"listen\": \"h:-1\"}", "'listen'", NULL},
    {"unknown log level", "{\"log_level\": \"verbose\"}", "'log_level'", "debug"},
    {"empty log level", "{\"log_level\": \"\"}", "'log_level'", NULL},
    {"secret too short", "{\"secret\": \"abcdef\"}", "'secret'", "64"},
    {"secret too long", "{\"secret\": \"" SECRET_HEX "0\"}", "'secret'", "64"},
    {"secret not hex",
     "{\"secret\": \""
     "0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "\"}",
     "'secret'", "hexadecimal"},
    {"empty database path", "{\"database\": \"\"}", "'database'", "empty"},
    {"empty secret file path", "{\"secret_file\": \"\"}", "'secret_file'", "empty"},
    {"empty flows directory", "{\"flows\": \"\"}", "'flows'", "empty"},
};

static void bad_file_values_fail_naming_the_key(void **state)
{
    struct fixture *fx = *state;

    for (size_t i = 0; i < N_ROWS(bad_file_cases); i++) {
        const struct bad_file_case *c = &bad_file_cases[i];

        if (load(fx, c->json, NULL) != -1)
            fail_msg("%s: accepted %s", c->why, c->json);
        expect_err_has(c->why, fx->err, c->key);
        expect_err_has(c->why, fx->err, c->problem);
        /* The file is named too, so the operator knows where to look. */
        expect_err_has(c->why, fx->err, "katto.json");
    }
}

static void bad_secret_is_not_echoed_in_the_error(void **state)
{
    struct fixture *fx = *state;
    /* 63 hex digits: a real key with one character lost in a copy-paste. */
    static const char almost[] = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a";
    char text[256];
    const char *env[] = {
        "KATTO_SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a", NULL};

    snprintf(text, sizeof(text), "{\"secret\": \"%s\"}", almost);
    assert_int_equal(load(fx, text, NULL), -1);
    assert_null(strstr(fx->err, "9f8e7d6c5b4a"));
    assert_int_equal(load(fx, NULL, env), -1);
    assert_null(strstr(fx->err, "9f8e7d6c5b4a"));
    expect_err_has("env secret", fx->err, "KATTO_SECRET");
}

static void invalid_json_reports_line_and_column(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *json;
        const char *where;
    } cases[] = {
        {"{\n  \"listen\": \"127.0.0.1:1\",\n  \"database\" \"x.db\"\n}\n", "line 3, column 14"},
        {"{\"listen\": ", "line 1"},
        {"{\n\n\n\n  \"a\": tru\n}", "line 5"},
        {"", "line 1"},
        {"{\"limits\": {\"max_body_bytes\": 2048,}}", "line 1"},
    };

    for (size_t i = 0; i < N_ROWS(cases); i++) {
        if (load(fx, cases[i].json, NULL) != -1)
            fail_msg("row %zu: broken JSON accepted", i);
        expect_err_has(cases[i].json, fx->err, "invalid JSON");
        expect_err_has(cases[i].json, fx->err, cases[i].where);
        expect_err_has(cases[i].json, fx->err, "column");
    }
}

static void top_level_must_be_an_object(void **state)
{
    struct fixture *fx = *state;
    static const char *const cases[] = {"[1, 2]", "[]", "\"listen\"", "42", "null"};

    for (size_t i = 0; i < N_ROWS(cases); i++) {
        if (load(fx, cases[i], NULL) != -1)
            fail_msg("%s: accepted as a config file", cases[i]);
        expect_err_has(cases[i], fx->err, "object");
    }
}

static void missing_file_is_an_error_naming_it(void **state)
{
    struct fixture *fx = *state;
    char *path;

    if (asprintf(&path, "%s/does-not-exist.json", fx->dir) < 0)
        abort();
    assert_int_equal(config_load(&fx->cfg, path, NULL, fx->err), -1);
    expect_err_has("missing file", fx->err, "does-not-exist.json");
    expect_err_has("missing file", fx->err, "No such file");
    free(path);
}

struct bad_env_case {
    const char *var;
    const char *name; /* the variable the error must name */
    const char *key;  /* and the key it is the twin of */
};

static const struct bad_env_case bad_env_cases[] = {
    {"KATTO_LIMITS_MAX_BODY_BYTES=abc", "KATTO_LIMITS_MAX_BODY_BYTES", "'limits.max_body_bytes'"},
    {"KATTO_LIMITS_MAX_BODY_BYTES=", "KATTO_LIMITS_MAX_BODY_BYTES", "'limits.max_body_bytes'"},
    {"KATTO_LIMITS_MAX_BODY_BYTES=2048kb", "KATTO_LIMITS_MAX_BODY_BYTES",
     "'limits.max_body_bytes'"},
    {"KATTO_LIMITS_MAX_BODY_BYTES=10", "KATTO_LIMITS_MAX_BODY_BYTES", "'limits.max_body_bytes'"},
    {"KATTO_LIMITS_MAX_CONNECTIONS=0", "KATTO_LIMITS_MAX_CONNECTIONS", "'limits.max_connections'"},
    {"KATTO_LIMITS_IDLE_TIMEOUT=1.5", "KATTO_LIMITS_IDLE_TIMEOUT", "'limits.idle_timeout'"},
    {"KATTO_LIMITS_HEADER_TIMEOUT=99999999999999999999999", "KATTO_LIMITS_HEADER_TIMEOUT",
     "'limits.header_timeout'"},
    {"KATTO_LISTEN=nohost", "KATTO_LISTEN", "'listen'"},
    {"KATTO_LISTEN=h:99999", "KATTO_LISTEN", "'listen'"},
    {"KATTO_LOG_LEVEL=loud", "KATTO_LOG_LEVEL", "'log_level'"},
    {"KATTO_SECRET=xyz", "KATTO_SECRET", "'secret'"},
    {"KATTO_DATABASE=", "KATTO_DATABASE", "'database'"},
};

static void env_bad_value_names_variable_and_key(void **state)
{
    struct fixture *fx = *state;

    for (size_t i = 0; i < N_ROWS(bad_env_cases); i++) {
        const struct bad_env_case *c = &bad_env_cases[i];
        const char *env[] = {c->var, NULL};

        /* A valid file underneath must not hide the bad override. */
        if (load(fx, "{\"limits\": {\"max_body_bytes\": 4096}}", env) != -1)
            fail_msg("%s: accepted", c->var);
        expect_err_has(c->var, fx->err, c->name);
        expect_err_has(c->var, fx->err, c->key);
    }
}

static void unknown_katto_env_var_is_an_error(void **state)
{
    struct fixture *fx = *state;
    static const char *const cases[] = {
        "KATTO_LISTN=127.0.0.1:1",   /* typo */
        "KATTO_LIMITS_NOPE=1",       /* unknown key in a known section */
        "KATTO_MAX_BODY_BYTES=2048", /* section left out */
        "KATTO_LISTEN_PORT=80",      /* a known twin plus a suffix */
        "KATTO_LIMITS=1",            /* a section is not a setting */
        "KATTO_=1",
    };

    for (size_t i = 0; i < N_ROWS(cases); i++) {
        const char *env[] = {"KATTO_LISTEN=127.0.0.1:1", cases[i], NULL};
        char name[64];

        snprintf(name, sizeof(name), "%.*s", (int)(strchr(cases[i], '=') - cases[i]), cases[i]);
        if (load(fx, NULL, env) != -1)
            fail_msg("%s: accepted", cases[i]);
        expect_err_has(cases[i], fx->err, name);
        expect_err_has(cases[i], fx->err, "unknown");
    }
}

static void katto_test_env_vars_are_ignored(void **state)
{
    struct fixture *fx = *state;
    static const char *const env[] = {"KATTO_TEST_BIN=/x/katto", "KATTO_TEST_SRC=/x",
                                      "KATTO_TEST_WHATEVER=1",   "KATTO_TEST_=",
                                      "KATTO_LISTEN=h:1",        NULL};

    if (load(fx, NULL, env) != 0)
        fail_msg("refused: %s", fx->err);
    assert_string_equal(fx->cfg.listen, "h:1");
}

/* Prints cfg and parses the output back as JSON (caller deletes). */
static cJSON *print_to_json(const struct config *cfg, char **text)
{
    size_t size = 0;
    FILE *out = open_memstream(text, &size);
    cJSON *root;

    assert_non_null(out);
    config_print(cfg, out);
    assert_int_equal(fclose(out), 0);
    root = cJSON_Parse(*text);
    if (root == NULL)
        fail_msg("config_print wrote invalid JSON: %s", *text);
    return root;
}

static void print_masks_the_secret(void **state)
{
    struct fixture *fx = *state;
    static const char *const env[] = {"KATTO_SECRET=" SECRET_HEX, NULL};
    char *text = NULL;
    cJSON *root;

    assert_int_equal(load(fx, NULL, env), 0);
    root = print_to_json(&fx->cfg, &text);
    assert_non_null(strstr(text, "********"));
    assert_null(strstr(text, SECRET_HEX));
    assert_null(strstr(text, "0a0b0c0d"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "secret")->valuestring, "********");
    cJSON_Delete(root);
    free(text);
}

static void print_writes_every_setting_nested_by_section(void **state)
{
    struct fixture *fx = *state;
    static const char *const env[] = {"KATTO_LISTEN=0.0.0.0:9000", "KATTO_LOG_LEVEL=warn",
                                      "KATTO_LIMITS_MAX_BODY_BYTES=2048", NULL};
    const cJSON *limits;
    char *text = NULL;
    cJSON *root;

    assert_int_equal(load(fx, NULL, env), 0);
    root = print_to_json(&fx->cfg, &text);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "listen")->valuestring,
                        "0.0.0.0:9000");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "log_level")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "database")->valuestring,
                        "var/katto.db");
    /* No secret configured: nothing to mask, and no fake mask either. */
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "secret")->valuestring, "");
    limits = cJSON_GetObjectItemCaseSensitive(root, "limits");
    assert_true(cJSON_IsObject(limits));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(limits, "max_body_bytes")->valuedouble, 2048);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(limits, "max_connections")->valuedouble, 512);
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "limits.max_body_bytes"));
    cJSON_Delete(root);
    free(text);
}

static void printed_config_loads_back_unchanged(void **state)
{
    struct fixture *fx = *state;
    static const char *const env[] = {"KATTO_LISTEN=[::1]:0", "KATTO_FLOWS=/f",
                                      "KATTO_LOG_LEVEL=error", "KATTO_LIMITS_IDLE_TIMEOUT=77",
                                      NULL};
    char *first = NULL, *second = NULL;
    cJSON *a, *b;

    assert_int_equal(load(fx, NULL, env), 0);
    a = print_to_json(&fx->cfg, &first);
    if (load(fx, first, NULL) != 0)
        fail_msg("printed config refused: %s", fx->err);
    b = print_to_json(&fx->cfg, &second);
    assert_string_equal(first, second);
    assert_int_equal(fx->cfg.limits.idle_timeout, 77);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(first);
    free(second);
}

struct split_case {
    const char *listen;
    int rc;
    const char *host;
    int port;
};

static const struct split_case split_cases[] = {
    {"127.0.0.1:8080", 0, "127.0.0.1", 8080},
    {"0.0.0.0:0", 0, "0.0.0.0", 0},
    {"localhost:65535", 0, "localhost", 65535},
    {"[::1]:8080", 0, "::1", 8080},
    {"[::]:0", 0, "::", 0},
    {"nohost", -1, NULL, 0},
    {":8080", -1, NULL, 0},
    {"host:", -1, NULL, 0},
    {"h:99999", -1, NULL, 0},
    {"h:65536", -1, NULL, 0},
    {"h:abc", -1, NULL, 0},
    {"h:-1", -1, NULL, 0},
    {"h:80x", -1, NULL, 0},
    {"", -1, NULL, 0},
};

static void listen_split_separates_host_and_port(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(split_cases); i++) {
        const struct split_case *c = &split_cases[i];
        char host[64] = "untouched", err[ERR_LEN] = "";
        int port = -7;
        int rc = config_listen_split(c->listen, host, sizeof(host), &port, err);

        if (rc != c->rc)
            fail_msg("'%s': returned %d, expected %d (%s)", c->listen, rc, c->rc, err);
        if (rc == 0) {
            if (strcmp(host, c->host) != 0 || port != c->port)
                fail_msg("'%s': got host '%s' port %d", c->listen, host, port);
        } else if (err[0] == '\0') {
            fail_msg("'%s': refused without a message", c->listen);
        }
    }
}

static void listen_split_refuses_host_longer_than_buffer(void **state)
{
    char host[8], err[ERR_LEN] = "";
    int port = 0;

    (void)state;
    assert_int_equal(config_listen_split("a-long-host-name:80", host, sizeof(host), &port, err),
                     -1);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(config_listen_split("short:80", host, sizeof(host), &port, err), 0);
    assert_string_equal(host, "short");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(defaults_match_the_documented_values),
        T(load_without_file_or_env_keeps_defaults),
        T(file_values_are_applied_including_nested_sections),
        T(file_leaves_unmentioned_keys_at_their_defaults),
        T(env_twin_overrides_file_value),
        T(every_scalar_key_has_an_env_twin),
        T(bad_file_values_fail_naming_the_key),
        T(bad_secret_is_not_echoed_in_the_error),
        T(invalid_json_reports_line_and_column),
        T(top_level_must_be_an_object),
        T(missing_file_is_an_error_naming_it),
        T(env_bad_value_names_variable_and_key),
        T(unknown_katto_env_var_is_an_error),
        T(katto_test_env_vars_are_ignored),
        T(print_masks_the_secret),
        T(print_writes_every_setting_nested_by_section),
        T(printed_config_loads_back_unchanged),
        cmocka_unit_test(listen_split_separates_host_and_port),
        cmocka_unit_test(listen_split_refuses_host_longer_than_buffer),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
