/*
 * test_admin.c: the administrators' report page on the real katto, and
 * `katto report` against the same database: who may read it (Bearer token,
 * the sign-in cookie, nobody when admin.token is empty, nothing over plain
 * HTTP behind a proxy), what it answers (the page with the tables and the
 * chart, CSV, JSON and SVG with their content types), and that a count
 * under 5 shows as "<5" in every one of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

#define TOKEN "admin-test-token-0123456789abcdefghij"
#define ADMIN "\"admin\": {\"token\": \"" TOKEN "\"}"
#define BEARER "Authorization: Bearer " TOKEN
#define RANGE "from=2026-11-01&to=2026-11-30"
#define TUE_1200 1795514400LL /* 2026-11-24 12:00 in Helsinki */

/* ---- data ------------------------------------------------------------------------------- */

/* n people with one conversation each in city, on Tuesday 2026-11-10. */
static void people(sqlite3 *db, int n, const char *city, int *next)
{
    static const char *const events[][3] = {
        {"session_start", "helpline", "welcome"},
        {"node", "helpline", "welcome"},
        {"node", "tonight", "ask_place"},
    };

    for (int i = 0; i < n; i++) {
        char pseudonym[17];

        snprintf(pseudonym, sizeof(pseudonym), "%016x", ++*next);
        for (size_t e = 0; e < 3; e++) {
            sqlite3_stmt *st;

            assert_int_equal(sqlite3_prepare_v2(db,
                                                "INSERT INTO contact_log (hour, period, channel,"
                                                " gateway, lang, city, flow, node, event,"
                                                " pseudonym) VALUES ('2026-11-10 09:00',"
                                                " '2026-11', 'sms', 'emu', 'fi', ?1, ?2, ?3, ?4,"
                                                " ?5)",
                                                -1, &st, NULL),
                             SQLITE_OK);
            sqlite3_bind_text(st, 1, e == 2 ? city : NULL, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, events[e][1], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, events[e][2], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, events[e][0], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, pseudonym, -1, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
        }
    }
}

/* Helsinki 12, Tampere 7, Pori 2 (so "<5", and Tampere hides too, or 21 - 12 - 7 = 2). */
static void fill(const struct testlib_server *s)
{
    sqlite3 *db;
    int next = 0;

    assert_int_equal(sqlite3_open(s->db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    people(db, 12, "Helsinki", &next);
    people(db, 7, "Tampere", &next);
    people(db, 2, "Pori", &next);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

static void get(const struct testlib_server *s, const char *path, const char *header,
                struct testlib_response *r)
{
    const char *const headers[] = {header, NULL};
    char url[512];

    snprintf(url, sizeof(url), "%s%s", s->base_url, path);
    assert_int_equal(testlib_http("GET", url, header != NULL ? headers : NULL, NULL, 0, r), 0);
}

static void post_login(const struct testlib_server *s, const char *token, const char *origin,
                       struct testlib_response *r)
{
    const char *const headers[] = {origin, NULL};
    const char *const pairs[] = {"token", token, NULL};
    char url[256], *body = testlib_form(pairs);

    snprintf(url, sizeof(url), "%s/admin/login", s->base_url);
    assert_int_equal(
        testlib_http("POST", url, origin != NULL ? headers : NULL, body, strlen(body), r), 0);
    free(body);
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL)                                                       \
            fail_msg("expected \"%s\" in:\n%.2000s", (needle), (hay));                             \
    } while (0)

static void assert_status(const struct testlib_response *r, long status)
{
    if (r->status != status)
        fail_msg("status %ld, expected %ld:\n%s\n%.1000s", r->status, status, r->headers, r->body);
}

static void assert_security_headers(const struct testlib_response *r)
{
    assert_contains(r->headers, "Cache-Control: no-store");
    assert_contains(r->headers, "Content-Security-Policy: default-src 'none'; style-src "
                                "'unsafe-inline'; img-src data:; form-action 'self'; "
                                "frame-ancestors 'none'");
    assert_contains(r->headers, "X-Content-Type-Options: nosniff");
    assert_contains(r->headers, "Referrer-Policy: no-referrer");
}

static void start(struct testlib_server *s, const char *json)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(testlib_server_start(s, json, NULL), 0);
}

static void stop(struct testlib_server *s)
{
    assert_int_equal(testlib_server_stop(s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(s));
    testlib_server_release(s);
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_bearer_and_formats(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    cJSON *json;

    (void)state;
    start(&s, ADMIN);
    fill(&s);

    get(&s, "/admin/report", NULL, &r);
    assert_status(&r, 401);
    assert_contains(r.body, "action=\"/admin/login\"");
    assert_contains(r.headers, "WWW-Authenticate: Bearer");
    assert_security_headers(&r);
    testlib_response_release(&r);

    get(&s, "/admin/report", "Authorization: Bearer not-the-admin-token-at-all-0000", &r);
    assert_status(&r, 401);
    assert_null(strstr(r.body, "Helsinki"));
    testlib_response_release(&r);

    get(&s, "/admin/report?" RANGE "&by=city", BEARER, &r);
    assert_status(&r, 200);
    assert_contains(r.headers, "Content-Type: text/html; charset=utf-8");
    assert_security_headers(&r);
    assert_contains(r.body, "name=\"viewport\"");
    assert_contains(r.body, "<table>");
    assert_contains(r.body, "<td class=\"l\">Helsinki</td><td>12</td>");
    assert_contains(r.body, "<td class=\"l\">Pori</td><td>&lt;5</td>");
    assert_contains(r.body, "<td class=\"l\">Tampere</td><td>x</td>");
    assert_contains(r.body, "<svg");
    assert_contains(r.body, "format=csv");
    assert_null(strstr(r.body, "<script"));
    testlib_response_release(&r);

    /* Checkboxes send one by= each. */
    get(&s, "/admin/report?" RANGE "&by=city&by=week", BEARER, &r);
    assert_status(&r, 200);
    assert_contains(r.body, "value=\"week\" checked");
    assert_contains(r.body, "2026-W46");
    testlib_response_release(&r);

    get(&s, "/admin/report?" RANGE "&by=city&format=csv", BEARER, &r);
    assert_status(&r, 200);
    assert_contains(r.headers, "Content-Type: text/csv; charset=utf-8");
    assert_contains(r.headers, "Content-Disposition: attachment; filename=\"katto-report-"
                               "2026-11-01-2026-11-30.csv\"");
    assert_true(strncmp(r.body, "table,city,column,value\r\n", 25) == 0);
    assert_contains(r.body, "contacts,Helsinki,contacts,12\r\n");
    assert_contains(r.body, "contacts,Pori,contacts,<5\r\n");
    assert_null(strstr(r.body, ",2\r\n"));
    testlib_response_release(&r);

    get(&s, "/admin/report?" RANGE "&format=json", BEARER, &r);
    assert_status(&r, 200);
    assert_contains(r.headers, "Content-Type: application/json");
    assert_non_null(json = cJSON_Parse(r.body));
    assert_string_equal(cJSON_GetObjectItem(json, "to")->valuestring, "2026-11-30");
    cJSON_Delete(json);
    testlib_response_release(&r);

    get(&s, "/admin/report?" RANGE "&format=svg", BEARER, &r);
    assert_status(&r, 200);
    assert_contains(r.headers, "Content-Type: image/svg+xml");
    assert_contains(r.body, "<svg");
    assert_contains(r.body, "class=\"suppressed\"");
    assert_null(strstr(r.body, "<script"));
    testlib_response_release(&r);

    get(&s, "/admin/report?" RANGE "&format=pdf", BEARER, &r);
    assert_status(&r, 400);
    testlib_response_release(&r);
    get(&s, "/admin/report?from=2026-13-01", BEARER, &r);
    assert_status(&r, 400);
    assert_null(strstr(r.body, "2026-13-01")); /* never echoed */
    testlib_response_release(&r);

    get(&s, "/admin", NULL, &r);
    assert_status(&r, 303);
    assert_contains(r.headers, "Location: /admin/report");
    testlib_response_release(&r);
    stop(&s);
}

/* The katto_admin=... value of a Set-Cookie header, malloc'd. */
static char *cookie_from(const struct testlib_response *r)
{
    const char *p = strstr(r->headers, "Set-Cookie: katto_admin=");
    size_t n;

    assert_non_null(p);
    p += strlen("Set-Cookie: ");
    n = strcspn(p, ";\r\n");
    return strndup(p, n);
}

static void test_cookie_sign_in(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    char *cookie, header[256];

    (void)state;
    start(&s, ADMIN);
    testlib_server_set_clock(&s, TUE_1200);

    get(&s, "/admin/login", NULL, &r);
    assert_status(&r, 200);
    assert_contains(r.body, "type=\"password\" name=\"token\"");
    assert_security_headers(&r);
    testlib_response_release(&r);

    post_login(&s, "not-the-admin-token-at-all-0000", NULL, &r);
    assert_status(&r, 401);
    assert_contains(r.body, "Wrong token.");
    assert_null(strstr(r.headers, "Set-Cookie"));
    testlib_response_release(&r);

    post_login(&s, TOKEN, "Origin: https://elsewhere.example", &r);
    assert_status(&r, 403);
    testlib_response_release(&r);

    post_login(&s, TOKEN, NULL, &r);
    assert_status(&r, 303);
    assert_contains(r.headers, "Location: /admin/report");
    assert_contains(r.headers,
                    "; Max-Age=43200; Path=/admin; HttpOnly; Secure; SameSite=Strict\r\n");
    cookie = cookie_from(&r);
    testlib_response_release(&r);

    snprintf(header, sizeof(header), "Cookie: theme=dark; %s", cookie);
    get(&s, "/admin/report?" RANGE, header, &r);
    assert_status(&r, 200);
    assert_contains(r.body, "<table>");
    testlib_response_release(&r);

    /* One changed digit of the signature, or a later expiry, is no sign-in. */
    snprintf(header, sizeof(header), "Cookie: %s", cookie);
    header[strlen(header) - 1] = header[strlen(header) - 1] == '0' ? '1' : '0';
    get(&s, "/admin/report", header, &r);
    assert_status(&r, 401);
    testlib_response_release(&r);
    snprintf(header, sizeof(header), "Cookie: katto_admin=%lld%s", TUE_1200 + 43000,
             strchr(cookie, '.'));
    get(&s, "/admin/report", header, &r);
    assert_status(&r, 401);
    testlib_response_release(&r);

    /* Twelve hours later the cookie has expired. */
    testlib_server_set_clock(&s, TUE_1200 + 43201);
    snprintf(header, sizeof(header), "Cookie: %s", cookie);
    get(&s, "/admin/report", header, &r);
    assert_status(&r, 401);
    testlib_response_release(&r);
    free(cookie);
    stop(&s);
}

static void test_disabled_without_token(void **state)
{
    struct testlib_server s;
    struct testlib_response r;

    (void)state;
    start(&s, NULL);
    get(&s, "/admin/report", BEARER, &r);
    assert_status(&r, 404);
    testlib_response_release(&r);
    get(&s, "/admin/login", NULL, &r);
    assert_status(&r, 404);
    testlib_response_release(&r);
    stop(&s);
}

static void test_behind_proxy_needs_https(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    const char *const https[] = {BEARER, "X-Forwarded-Proto: https", NULL};
    char url[256];

    (void)state;
    start(&s, ADMIN ", \"worker\": {\"trusted_proxy\": 1}");
    get(&s, "/admin/report", BEARER, &r);
    assert_status(&r, 403);
    testlib_response_release(&r);
    snprintf(url, sizeof(url), "%s/admin/report?" RANGE, s.base_url);
    assert_int_equal(testlib_http("GET", url, https, NULL, 0, &r), 0);
    assert_status(&r, 200);
    testlib_response_release(&r);
    stop(&s);
}

/* Runs katto report with the server's configuration; its output, malloc'd, and exit status. */
static char *run_cli(const struct testlib_server *s, const char *args, int *status)
{
    char cmd[2048], errors[1024], *out;
    FILE *p;
    size_t len = 0, cap = 1 << 16;
    char *log;

    snprintf(errors, sizeof(errors), "%s/cli-errors", s->dir);
    snprintf(cmd, sizeof(cmd), "'%s' --config '%s' report %s 2>'%s'", testlib_katto_bin(),
             s->config_path, args, errors);
    assert_non_null(p = popen(cmd, "r"));
    out = calloc(1, cap);
    for (size_t n; (n = fread(out + len, 1, cap - len - 1, p)) > 0;)
        len += n;
    *status = pclose(p);
    *status = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    log = testlib_read_file(errors, NULL);
    if (log != NULL && strstr(log, "Sanitizer") != NULL)
        fail_msg("katto report: %s", log);
    free(log);
    return out;
}

static void test_cli_report(void **state)
{
    struct testlib_server s;
    int status;
    char *out;

    (void)state;
    start(&s, ADMIN);
    fill(&s);
    out = run_cli(&s, "--from 2026-11-01 --to 2026-11-30 --by city --format csv", &status);
    assert_int_equal(status, 0);
    assert_true(strncmp(out, "table,city,column,value\r\n", 25) == 0);
    assert_contains(out, "contacts,Helsinki,contacts,12\r\n");
    assert_contains(out, "contacts,Pori,contacts,<5\r\n");
    assert_contains(out, "contacts,Tampere,contacts,x\r\n");
    assert_contains(out, "contacts,total,contacts,21\r\n");
    assert_contains(out, "topics,Helsinki,tonight/ask_place,12\r\n");
    assert_null(strstr(out, ",2\r\n"));
    free(out);

    out = run_cli(&s, "--from 2026-11-01 --to 2026-11-30 --format svg", &status);
    assert_int_equal(status, 0);
    assert_contains(out, "<svg");
    free(out);

    out = run_cli(&s, "--format pdf", &status);
    assert_int_equal(status, 64);
    free(out);
    out = run_cli(&s, "--by postcode", &status);
    assert_int_equal(status, 64);
    free(out);
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_and_formats),
        cmocka_unit_test(test_cookie_sign_in),
        cmocka_unit_test(test_disabled_without_token),
        cmocka_unit_test(test_behind_proxy_needs_https),
        cmocka_unit_test(test_cli_report),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
