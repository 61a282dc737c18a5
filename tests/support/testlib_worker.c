/* testlib_worker.c: a test's worker at the worker pages (see testlib_worker.h). */
#include "testlib_worker.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs `katto --config ... worker ARGS`; returns its exit status, stdout in *out (malloc'd). */
int katto_worker(const struct testlib_server *s, const char *args, char **out)
{
    char *cmd, buf[4096];
    size_t n = 0;
    FILE *p;
    int status;

    assert_true(asprintf(&cmd, "'%s' --config '%s' worker %s 2>/dev/null", testlib_katto_bin(),
                         s->config_path, args) > 0);
    assert_non_null(p = popen(cmd, "r"));
    n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    status = pclose(p);
    free(cmd);
    if (out != NULL)
        *out = strdup(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Adds a worker with the command line and returns the token it printed. */
void add_worker(const struct testlib_server *s, const char *name, const char *team, char token[65])
{
    char *args, *out, *line;

    assert_true(asprintf(&args, "add '%s' --team %s", name, team) > 0);
    assert_int_equal(katto_worker(s, args, &out), 0);
    assert_non_null(line = strstr(out, "token: "));
    assert_int_equal(sscanf(line, "token: %64s", token), 1);
    assert_int_equal(strlen(token), 64);
    assert_non_null(strstr(out, "cannot be shown again"));
    free(args);
    free(out);
}

void http(const struct testlib_server *s, const char *method, const char *path,
          const struct browser *b, const char *extra_header, const char *body,
          struct testlib_response *r)
{
    const char *headers[4] = {NULL};
    char cookie[160], *u;
    int n = 0;

    if (b != NULL && b->cookie[0] != '\0') {
        snprintf(cookie, sizeof(cookie), "Cookie: %s", b->cookie);
        headers[n++] = cookie;
    }
    if (body != NULL)
        headers[n++] = "Content-Type: application/x-www-form-urlencoded";
    if (extra_header != NULL)
        headers[n++] = extra_header;
    assert_true(asprintf(&u, "%s%s", s->base_url, path) > 0);
    assert_int_equal(testlib_http(method, u, headers, body, body != NULL ? strlen(body) : 0, r), 0);
    free(u);
}

void get_page(const struct testlib_server *s, const struct browser *b, struct testlib_response *r)
{
    http(s, "GET", "/worker", b, NULL, NULL, r);
}

/* POSTs a form with the browser's CSRF token and the given fields ("id=3&outcome=..."). */
void post(const struct testlib_server *s, const struct browser *b, const char *path,
          const char *fields, struct testlib_response *r)
{
    char *body;

    assert_true(asprintf(&body, "csrf=%s%s%s", b->csrf, fields != NULL ? "&" : "",
                         fields != NULL ? fields : "") > 0);
    http(s, "POST", path, b, NULL, body, r);
    free(body);
}

void post_id(const struct testlib_server *s, const struct browser *b, const char *path,
             long long id, const char *more, struct testlib_response *r)
{
    char fields[128];

    snprintf(fields, sizeof(fields), "id=%lld%s%s", id, more != NULL ? "&" : "",
             more != NULL ? more : "");
    post(s, b, path, fields, r);
}

/* Signs in with token; returns the HTTP status, and fills b when it worked. */
long sign_in(const struct testlib_server *s, const char *token, struct browser *b)
{
    struct testlib_response r;
    char body[128];
    const char *c, *f;
    long status;

    memset(b, 0, sizeof(*b));
    snprintf(body, sizeof(body), "token=%s", token);
    http(s, "POST", "/worker/login", NULL, NULL, body, &r);
    status = r.status;
    if (status == 303 && (c = strstr(r.headers, "Set-Cookie: ")) != NULL)
        sscanf(c + 12, "%90[^;]", b->cookie);
    testlib_response_release(&r);
    if (status != 303)
        return status;
    get_page(s, b, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(f = strstr(r.body, "name=\"csrf\" value=\""));
    assert_int_equal(sscanf(f + 19, "%32[0-9a-f]", b->csrf), 1);
    testlib_response_release(&r);
    return status;
}

void sign_in_ok(const struct testlib_server *s, const char *token, struct browser *b)
{
    assert_int_equal(sign_in(s, token, b), 303);
}
