/*
 * admin_web.h: the administrators' report page, the same statistics as
 * `katto report` (report.h) with the same suppression, served by Katto:
 *
 *   GET  /admin/report   ?from=YYYY-MM-DD&to=YYYY-MM-DD&by=city,week (or by=city&by=week)
 *                        the tables and the chart as a page for a phone;
 *                        &format=csv|json|svg downloads the same report
 *   GET  /admin/login    the sign-in form
 *   POST /admin/login    token -> a cookie for 12 h, 303 to /admin/report
 *   GET  /admin          303 to /admin/report
 *
 * Access: `Authorization: Bearer <admin.token>`, or the cookie katto_admin
 * made by the sign-in form. The cookie is stateless: its expiry and an
 * HMAC-SHA256 of it, keyed by a key derived from the installation secret and
 * the token itself, so that changing admin.token signs everyone out. Tokens
 * are compared in constant time; failed attempts are limited installation-
 * wide (429 with Retry-After). With admin.token empty no route exists (404).
 *
 * Katto does not terminate TLS: like the workers' page, /admin answers only a
 * loopback peer (a TLS proxy on the host, or a browser on it), and with
 * worker.trusted_proxy = 1 only when the proxy says X-Forwarded-Proto: https;
 * otherwise 403. Every answer carries no-store, a strict
 * Content-Security-Policy, nosniff and no-referrer. The report is read from
 * SQLite synchronously, in the request callback: a few indexed queries.
 */
#ifndef KATTO_ADMIN_WEB_H
#define KATTO_ADMIN_WEB_H

#include <sqlite3.h>
#include <stdint.h>

#include "config.h"
#include "flow.h"
#include "http_server.h"

#define ADMIN_COOKIE_MAX_AGE 43200 /* 12 h */
#define ADMIN_FAILURES_MAX 20      /* failed sign-ins in a window, then 429 ... */
#define ADMIN_FAILURE_WINDOW 900   /* ... until the window of 15 minutes ends */

struct admin_web_deps {
    const struct config *cfg;      /* admin.token, worker.trusted_proxy; kept */
    sqlite3 *db;                   /* kept */
    struct flow_set *const *flows; /* the flows in service, read at each request; kept */
    const uint8_t *secret; /* the installation secret (SECRET_LEN); keys derived, not kept */
};

struct admin_web;

/*
 * Adds the routes to http when admin.token is set (else none: /admin is 404).
 * NULL with err.
 */
struct admin_web *admin_web_new(const struct admin_web_deps *deps, struct http_server *http,
                                char *err);

/* Frees w (NULL is a no-op); call after the HTTP server is gone. */
void admin_web_free(struct admin_web *w);

#endif
