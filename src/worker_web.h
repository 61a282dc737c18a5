/*
 * worker_web.h: the outreach workers' page, served by Katto itself. Plain
 * HTML forms with inline CSS and no JavaScript, made for a phone (360 px
 * wide, large tap targets), in Finnish with English below:
 *
 *   GET  /worker          sign-in form, or the team's open callback requests
 *   POST /worker/login    token -> session cookie, 303 to /worker
 *   POST /worker/logout   ends the session
 *   POST /worker/claim    id
 *   POST /worker/reveal   id: the number to call, to the worker who claimed it
 *   POST /worker/close    id, outcome
 *   POST /worker/merge    id, into
 *
 * Every POST but the sign-in carries the session's CSRF token (403 without
 * it); a request without a valid session gets the sign-in form (a POST: 303
 * to /worker). Sign-ins are rate limited per client (429 with Retry-After).
 * Katto does not terminate TLS: the pages are refused (403) unless the TCP
 * peer is on loopback and, with worker.trusted_proxy = 1, the proxy there
 * says X-Forwarded-Proto: https. Every answer carries no-store, a strict
 * Content-Security-Policy, nosniff and no-referrer.
 *
 * Database work runs as group-commit jobs (batch.h); the answer goes out
 * after COMMIT.
 */
#ifndef KATTO_WORKER_WEB_H
#define KATTO_WORKER_WEB_H

#include <sqlite3.h>
#include <stdint.h>

#include "batch.h"
#include "config.h"
#include "http_server.h"
#include "team.h"

struct worker_web_deps {
    const struct config *cfg;      /* worker.*; kept */
    sqlite3 *db;                   /* kept */
    struct batch *batch;           /* kept */
    const struct team_list *teams; /* kept: team names on the page */
    const uint8_t *number_key;     /* CRYPTO_KEY_LEN, copied */
};

struct worker_web;

/* Prepares the statements and adds the routes to http. NULL with err. */
struct worker_web *worker_web_new(const struct worker_web_deps *deps, struct http_server *http,
                                  char *err);

/* Inside a transaction: ended sessions and old audit rows (worker.audit_days). Rows or -1. */
int worker_web_purge(struct worker_web *w, long long now, int limit, char *err);

/* Frees w; call after the batch and the HTTP server are gone (they may call into it). */
void worker_web_free(struct worker_web *w);

#endif
