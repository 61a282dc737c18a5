/*
 * test_server.c: the real katto binary on loopback: health, metrics, routing
 * errors, limits (body size, request deadline, connection cap and eviction), configuration
 * errors, and a graceful SIGTERM that leaves the database intact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "testlib.h"

static char *url(const struct testlib_server *s, const char *path)
{
    char *u;

    assert_true(asprintf(&u, "%s%s", s->base_url, path) > 0);
    return u;
}

static void request(const struct testlib_server *s, const char *method, const char *path,
                    const char *body, size_t len, struct testlib_response *res)
{
    char *u = url(s, path);

    assert_int_equal(testlib_http(method, u, NULL, body, len, res), 0);
    free(u);
}

static void stop_cleanly(struct testlib_server *s)
{
    assert_int_equal(testlib_server_stop(s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(s));
}

static void healthz_reports_status_database_flows_and_version(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    cJSON *j;

    (void)state;
    assert_int_equal(testlib_server_start(&s, NULL, NULL), 0);
    request(&s, "GET", "/healthz", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "Content-Type: application/json"));
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "ok");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "database")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "flows")));
    assert_string_equal(cJSON_GetObjectItem(j, "version")->valuestring, KATTO_VERSION);
    cJSON_Delete(j);
    testlib_response_release(&r);
    stop_cleanly(&s);
    testlib_server_release(&s);
}

static void unknown_route_wrong_method_and_big_body_get_short_errors(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    size_t big = 64 * 1024 + 1;
    char *body = malloc(big);

    (void)state;
    memset(body, 'a', big);
    assert_int_equal(testlib_server_start(&s, NULL, NULL), 0);

    request(&s, "GET", "/no/such/route?x=<script>", NULL, 0, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "not found\n");
    testlib_response_release(&r);

    request(&s, "POST", "/healthz", "x=1", 3, &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "Allow: GET, HEAD"));
    assert_string_equal(r.body, "method not allowed\n");
    testlib_response_release(&r);

    request(&s, "DELETE", "/metrics", NULL, 0, &r);
    assert_int_equal(r.status, 405);
    testlib_response_release(&r);

    /* Over the 64 KiB default: refused before the body is read, input not echoed. */
    request(&s, "POST", "/healthz", body, big, &r);
    assert_int_equal(r.status, 413);
    assert_null(strstr(r.body, "aaaa"));
    testlib_response_release(&r);

    /* Exactly at the limit is read (and then refused for the method). */
    request(&s, "POST", "/healthz", body, big - 1, &r);
    assert_int_equal(r.status, 405);
    testlib_response_release(&r);

    /* Still serving. */
    request(&s, "GET", "/healthz", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    free(body);
    stop_cleanly(&s);
    testlib_server_release(&s);
}

/* Every sample line must follow the Prometheus text format. */
static void metrics_are_prometheus_text_with_request_counts(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    regex_t sample, comment;
    char *line, *save = NULL;
    int samples = 0;

    (void)state;
    assert_int_equal(
        regcomp(&sample,
                "^[a-zA-Z_:][a-zA-Z0-9_:]*"
                "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\\})?"
                " -?[0-9.e+]+$",
                REG_EXTENDED | REG_NOSUB),
        0);
    assert_int_equal(
        regcomp(&comment, "^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", REG_EXTENDED | REG_NOSUB),
        0);
    assert_int_equal(testlib_server_start(&s, NULL, NULL), 0);
    request(&s, "GET", "/healthz", NULL, 0, &r);
    testlib_response_release(&r);
    request(&s, "GET", "/nowhere", NULL, 0, &r);
    testlib_response_release(&r);

    request(&s, "GET", "/metrics", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "# TYPE katto_http_requests_total counter\n"));
    assert_non_null(
        strstr(r.body, "katto_http_requests_total{route=\"healthz\",status=\"200\"} 1\n"));
    assert_non_null(
        strstr(r.body, "katto_http_requests_total{route=\"unknown\",status=\"404\"} 1\n"));
    assert_non_null(strstr(r.body, "# TYPE katto_http_connections_open gauge\n"));
    assert_null(strstr(r.body, "nowhere")); /* raw paths never become labels */
    for (line = strtok_r(r.body, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') {
            assert_int_equal(regexec(&comment, line, 0, NULL, 0), 0);
        } else {
            if (regexec(&sample, line, 0, NULL, 0) != 0)
                fail_msg("bad sample line: %s", line);
            samples++;
        }
    }
    assert_true(samples >= 4);
    testlib_response_release(&r);
    regfree(&sample);
    regfree(&comment);
    stop_cleanly(&s);
    testlib_server_release(&s);
}

static void slow_client_is_cut_off_at_the_request_deadline(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    int fd;

    (void)state;
    assert_int_equal(testlib_server_start(&s, "\"limits\": {\"header_timeout\": 1}", NULL), 0);
    fd = testlib_connect(s.port);
    assert_true(fd >= 0);
    /* A slowloris client trickles a header and never finishes it. */
    assert_int_equal(write(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n", 32), 32);
    assert_false(testlib_socket_closed(fd, 300));
    assert_int_equal(write(fd, "X-Slow: 1\r\n", 11), 11);
    assert_true(testlib_socket_closed(fd, 5000));
    close(fd);
    request(&s, "GET", "/metrics", NULL, 0, &r);
    assert_non_null(strstr(r.body, "katto_http_request_deadline_total 1\n"));
    testlib_response_release(&r);
    stop_cleanly(&s);
    testlib_server_release(&s);
}

/*
 * At the cap a new client is still served: the connection that has gone
 * longest without a complete request makes room for it (http_server.c).
 */
static void connection_cap_evicts_the_connection_idle_longest(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    int a, b;
    char *u;

    (void)state;
    assert_int_equal(testlib_server_start(
                         &s, "\"limits\": {\"max_connections\": 2, \"header_timeout\": 30}", NULL),
                     0);
    a = testlib_connect(s.port);
    assert_true(a >= 0);
    /* a is adopted (and waiting) before b arrives: the order is the one the server saw. */
    assert_false(testlib_socket_closed(a, 200));
    b = testlib_connect(s.port);
    assert_true(b >= 0);
    assert_false(testlib_socket_closed(b, 200));
    u = url(&s, "/healthz");
    assert_int_equal(testlib_http("GET", u, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    assert_true(testlib_socket_closed(a, 5000)); /* the older idle one went */
    assert_false(testlib_socket_closed(b, 200)); /* the newer one stays */
    request(&s, "GET", "/metrics", NULL, 0, &r);
    assert_non_null(strstr(r.body, "katto_http_connections_evicted_total "));
    testlib_response_release(&r);
    free(u);
    close(a);
    close(b);
    stop_cleanly(&s);
    testlib_server_release(&s);
}

static void sigterm_exits_zero_and_leaves_the_database_intact(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    sqlite3 *db;
    sqlite3_stmt *st;

    (void)state;
    assert_int_equal(testlib_server_start(&s, NULL, NULL), 0);
    request(&s, "GET", "/healthz", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    stop_cleanly(&s);

    assert_int_equal(sqlite3_open_v2(s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(db_schema_version(db), db_migrations[db_migrations_count - 1].version);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);

    /* A restart on the same database applies nothing new and serves again. */
    assert_int_equal(testlib_server_restart(&s, NULL, NULL), 0);
    request(&s, "GET", "/healthz", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    stop_cleanly(&s);
    testlib_server_release(&s);
}

/* Runs katto with the given config text and arguments; returns its exit status and stderr. */
static int run_katto(const char *config_json, const char *env, char **out)
{
    char *dir = testlib_tmpdir(), *cfg, *log, *cmd;
    int status;

    assert_true(asprintf(&cfg, "%s/katto.json", dir) > 0);
    assert_true(asprintf(&log, "%s/out.txt", dir) > 0);
    testlib_write_file(cfg, config_json);
    assert_true(asprintf(&cmd, "cd %s && %s %s --config %s serve 2>%s >&2", dir, env ? env : "",
                         testlib_katto_bin(), cfg, log) > 0);
    status = system(cmd);
    *out = testlib_read_file(log, NULL);
    testlib_rmrf(dir);
    free(dir);
    free(cfg);
    free(log);
    free(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void bad_configuration_stops_start_up_with_status_78_naming_the_key(void **state)
{
    static const struct {
        const char *json, *env, *expect;
    } cases[] = {
        {"{\"listen\": \"127.0.0.1:0\", \"limtis\": {}}", NULL, "'limtis': unknown key"},
        {"{\"limits\": {\"max_body_bytes\": \"big\"}}", NULL, "'limits.max_body_bytes'"},
        {"{\"listen\": 8080}", NULL, "'listen'"},
        {"{\n\"listen\": \"127.0.0.1:0\",\n}", NULL, "line 3"},
        {"{}", "KATTO_LISTEN=nowhere", "KATTO_LISTEN ('listen')"},
        {"{}", "KATTO_LIMITS_IDLE_TIMEOUT=0", "KATTO_LIMITS_IDLE_TIMEOUT ('limits.idle_timeout')"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        int rc = run_katto(cases[i].json, cases[i].env, &out);

        if (rc != 78 || out == NULL || strstr(out, cases[i].expect) == NULL)
            fail_msg("case %zu: status %d, output: %s", i, rc, out ? out : "(none)");
        free(out);
    }
}

static void database_from_a_newer_katto_is_refused(void **state)
{
    struct testlib_server s;
    sqlite3 *db;
    char *log;

    (void)state;
    assert_int_equal(testlib_server_start(&s, NULL, NULL), 0);
    stop_cleanly(&s);
    assert_int_equal(sqlite3_open(s.db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=9999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(testlib_server_restart(&s, NULL, NULL), -1);
    log = testlib_read_file(s.log_path, NULL);
    assert_non_null(strstr(log, "newer than this katto"));
    free(log);
    testlib_server_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthz_reports_status_database_flows_and_version),
        cmocka_unit_test(unknown_route_wrong_method_and_big_body_get_short_errors),
        cmocka_unit_test(metrics_are_prometheus_text_with_request_counts),
        cmocka_unit_test(slow_client_is_cut_off_at_the_request_deadline),
        cmocka_unit_test(connection_cap_evicts_the_connection_idle_longest),
        cmocka_unit_test(sigterm_exits_zero_and_leaves_the_database_intact),
        cmocka_unit_test(bad_configuration_stops_start_up_with_status_78_naming_the_key),
        cmocka_unit_test(database_from_a_newer_katto_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
