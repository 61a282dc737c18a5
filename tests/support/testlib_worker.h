/*
 * testlib_worker.h: a test's worker at the worker pages: the command line
 * that creates workers, and a minimal browser (a cookie and a CSRF token)
 * that signs in and posts the pages' forms, for tests/integration/.
 */
#ifndef KATTO_TESTLIB_WORKER_H
#define KATTO_TESTLIB_WORKER_H

#include "testlib.h"

/* A signed-in browser: the Cookie header it sends and the CSRF token its forms carry. */
struct browser {
    char cookie[128];
    char csrf[33];
};

/* Runs `katto --config ... worker ARGS`; returns its exit status, stdout in *out (malloc'd). */
int katto_worker(const struct testlib_server *s, const char *args, char **out);

/* Adds a worker with the command line and returns the token it printed (asserts). */
void add_worker(const struct testlib_server *s, const char *name, const char *team, char token[65]);

/* A request to the server with the browser's cookie (b may be NULL), a form body or NULL. */
void http(const struct testlib_server *s, const char *method, const char *path,
          const struct browser *b, const char *extra_header, const char *body,
          struct testlib_response *r);

/* GET /worker. */
void get_page(const struct testlib_server *s, const struct browser *b, struct testlib_response *r);

/* POSTs a form with the browser's CSRF token and the given fields ("id=3&outcome=..."). */
void post(const struct testlib_server *s, const struct browser *b, const char *path,
          const char *fields, struct testlib_response *r);

/* POSTs id (and more fields, or NULL) to path. */
void post_id(const struct testlib_server *s, const struct browser *b, const char *path,
             long long id, const char *more, struct testlib_response *r);

/* Signs in with token; returns the HTTP status, and fills b when it worked. */
long sign_in(const struct testlib_server *s, const char *token, struct browser *b);

/* sign_in, asserting it worked. */
void sign_in_ok(const struct testlib_server *s, const char *token, struct browser *b);

#endif
