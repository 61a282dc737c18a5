/*
 * test_flow_reload.c: the server loads the flows at start, reloads them when
 * a file changes or on SIGHUP, and keeps serving the previous good flows when
 * an edit is broken, reporting the problem in its log and on /healthz.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

struct ctx {
    struct testlib_server s;
    char *flows; /* a copy of the shipped flows that the test may break */
    int want_flows;
    const char *want_reload;
};

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
    char from[4096], to[4096];
    char *text;

    assert_true(snprintf(from, sizeof(from), "%s/%s", from_dir, name) < (int)sizeof(from));
    assert_true(snprintf(to, sizeof(to), "%s/%s", to_dir, name) < (int)sizeof(to));
    text = testlib_read_file(from, NULL);
    assert_non_null(text);
    testlib_write_file(to, text);
    free(text);
}

/* Replaces from by to in text, padding with spaces to keep the length (to is not longer). */
static void replace_padded(char *text, const char *from, const char *to)
{
    char *p = strstr(text, from);
    size_t n = strlen(from), m = strlen(to);

    assert_non_null(p);
    assert_true(m <= n);
    memcpy(p, to, m);
    for (size_t i = m; i < n; i++)
        p[i] = ' ';
}

static bool health_is(void *arg)
{
    struct ctx *c = arg;
    struct testlib_response r;
    char url[128];
    bool ok = false;
    cJSON *j;

    snprintf(url, sizeof(url), "%s/healthz", c->s.base_url);
    if (testlib_http("GET", url, NULL, NULL, 0, &r) != 0)
        return false;
    if ((j = cJSON_Parse(r.body)) != NULL) {
        ok = cJSON_GetObjectItem(j, "flows")->valueint == c->want_flows &&
             strcmp(cJSON_GetObjectItem(j, "flows_reload")->valuestring, c->want_reload) == 0;
        cJSON_Delete(j);
    }
    testlib_response_release(&r);
    return ok;
}

static void broken_edit_keeps_the_previous_flows_and_is_reported(void **state)
{
    struct ctx c = {0};
    char src_flows[4096], path[8300], env_flows[4200], *log;
    char *env[] = {env_flows, NULL};

    (void)state;
    snprintf(src_flows, sizeof(src_flows), "%s/flows", testlib_src_dir());
    c.flows = testlib_tmpdir();
    copy_file(src_flows, c.flows, "global.json");
    copy_file(src_flows, c.flows, "helpline.json");
    copy_file(src_flows, c.flows, "tonight.json");
    snprintf(env_flows, sizeof(env_flows), "KATTO_FLOWS=%s", c.flows);
    assert_int_equal(testlib_server_start(&c.s, NULL, env), 0);
    c.want_flows = 2;
    c.want_reload = "ok";
    assert_true(health_is(&c));

    /* An administrator saves a flow with a typo in a node name. */
    snprintf(path, sizeof(path), "%s/tonight.json", c.flows);
    char *text = testlib_read_file(path, NULL), *p = strstr(text, "\"next\": \"bye\"");
    assert_non_null(p);
    memcpy(p, "\"next\": \"bey\"", 13);
    testlib_write_file(path, text);
    free(text);
    c.want_reload = "failed";
    assert_true(testlib_wait_for(health_is, &c, 10000)); /* still 2 flows in service */
    log = testlib_read_file(c.s.log_path, NULL);
    assert_non_null(strstr(log, "event=flows.reload_failed"));
    assert_non_null(strstr(log, "unknown node 'bey'"));
    free(log);

    /* Fixed: reloaded. */
    copy_file(src_flows, c.flows, "tonight.json");
    c.want_reload = "ok";
    assert_true(testlib_wait_for(health_is, &c, 10000));

    /* A new flow file is picked up on SIGHUP too. */
    snprintf(path, sizeof(path), "%s/tonight.json", src_flows);
    text = testlib_read_file(path, NULL);
    replace_padded(text, "\"flow\": \"tonight\"", "\"flow\": \"tonigh2\"");
    replace_padded(text, "\"YÖ\"", "\"Y2\"");
    replace_padded(text, "\"NATT\"", "\"N2\"");
    replace_padded(text, "\"BED\"", "\"B2\"");
    snprintf(path, sizeof(path), "%s/tonight2.json", c.flows);
    testlib_write_file(path, text);
    free(text);
    kill(c.s.pid, SIGHUP);
    c.want_flows = 3;
    assert_true(testlib_wait_for(health_is, &c, 10000));

    assert_int_equal(testlib_server_stop(&c.s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&c.s));
    testlib_server_release(&c.s);
    testlib_rmrf(c.flows);
    free(c.flows);
}

static void broken_flows_at_start_up_refuse_to_start_with_status_65(void **state)
{
    struct testlib_server s;
    char *dir = testlib_tmpdir(), env_flows[4200], path[4096], *log;
    char *env[] = {env_flows, NULL};

    (void)state;
    snprintf(path, sizeof(path), "%s/global.json", dir);
    testlib_write_file(path, "{\"global\": true, \"languages\": [\"fi\"], \"texts\": {}}");
    snprintf(env_flows, sizeof(env_flows), "KATTO_FLOWS=%s", dir);
    assert_int_equal(testlib_server_start(&s, NULL, env), -1);
    log = testlib_read_file(s.log_path, NULL);
    assert_non_null(strstr(log, "event=flows.problem"));
    assert_non_null(strstr(log, "run katto check"));
    free(log);
    testlib_server_release(&s);
    testlib_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broken_edit_keeps_the_previous_flows_and_is_reported),
        cmocka_unit_test(broken_flows_at_start_up_refuse_to_start_with_status_65),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
