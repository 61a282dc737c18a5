/*
 * worker.h: outreach workers' accounts, sign-in sessions, audit trail and
 * sign-in rate limit (migration 0007: workers, worker_sessions,
 * worker_audit).
 *
 * A worker signs in with a token made by `katto worker add`: 32 random bytes
 * as 64 hex digits, shown once and stored only as the hex SHA-256 in
 * workers.token_hash. It expires after worker.token_days and can be revoked.
 * A sign-in makes a session: the browser holds a random cookie value, the
 * table only its SHA-256, with a CSRF token every form must carry. A session
 * ends after worker.session_idle seconds without a request, and at the
 * latest WORKER_SESSION_MAX_AGE after sign-in.
 *
 * Everything that touches the database runs inside the caller's transaction
 * (a group-commit job on the server, BEGIN IMMEDIATE in the command line) and
 * takes the time as an argument. Audit rows say who did what and when, never
 * a phone number.
 */
#ifndef KATTO_WORKER_H
#define KATTO_WORKER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "team.h"

#define WORKER_TOKEN_HEX 65          /* the sign-in token: 64 hex digits + NUL */
#define WORKER_COOKIE_HEX 65         /* the session cookie's value: 64 hex digits + NUL */
#define WORKER_CSRF_HEX 33           /* the forms' CSRF token: 32 hex digits + NUL */
#define WORKER_NAME_MAX 64           /* bytes of a worker's name */
#define WORKER_TEAM_MAX 64           /* bytes of a team id */
#define WORKER_SESSION_MAX_AGE 43200 /* 12 h: a session ends then however busy it is */

struct worker_store;

/* Prepares the statements on db (kept). NULL with err. */
struct worker_store *worker_store_new(sqlite3 *db, char *err);
void worker_store_free(struct worker_store *ws);

/*
 * 0 if name can name a worker: 1 to WORKER_NAME_MAX bytes of UTF-8, no
 * control characters or outer spaces, and nothing that looks like a phone
 * number (7 or more digits). -1 with err.
 */
int worker_check_name(const char *name, char *err);

struct worker_account {
    long long id;
    char name[WORKER_NAME_MAX + 1];
    char team[WORKER_TEAM_MAX + 1];
    long long created_at, expires_at;
    long long revoked_at; /* 0: not revoked */
};

/*
 * Adds a worker of team (which must be in teams) with a fresh token, valid
 * for token_days from now; the token is written to token (shown once, never
 * stored) and the row to out (may be NULL). Audited as worker_added.
 * 0, or -1 with err (a name in use, an unknown team, a name that is empty,
 * too long, has control characters or looks like a phone number).
 */
int worker_add(struct worker_store *ws, const struct team_list *teams, const char *name,
               const char *team, long long now, long token_days, char token[WORKER_TOKEN_HEX],
               struct worker_account *out, char *err);

/*
 * Gives a worker who has not been removed a fresh token valid for token_days
 * (the old one stops working, and so do its sessions). Audited as
 * worker_renewed. 0, or -1 with err.
 */
int worker_renew(struct worker_store *ws, const char *name, long long now, long token_days,
                 char token[WORKER_TOKEN_HEX], struct worker_account *out, char *err);

/*
 * Revokes a worker's token and ends their sessions. Audited as
 * worker_removed. 0, 1 if already removed, or -1 with err (no such worker).
 */
int worker_remove(struct worker_store *ws, const char *name, long long now, char *err);

/* Calls cb for every worker by name; a non-zero return from cb stops. 0, or -1 with err. */
typedef int worker_list_cb(const struct worker_account *w, void *arg);
int worker_list(struct worker_store *ws, worker_list_cb *cb, void *arg, char *err);

/*
 * Adds an audit row: worker_id and request_id of 0 are stored as NULL,
 * detail may be NULL (never pass anything holding a phone number).
 * 0, or -1 with err.
 */
int worker_audit(struct worker_store *ws, long long now, long long worker_id, const char *action,
                 long long request_id, const char *detail, char *err);

/* A signed-in worker. */
/*
 * Inside a transaction: deletes at most limit ended sessions and at most
 * limit audit rows older than audit_days. Returns how many rows went, or -1.
 */
int worker_purge(struct worker_store *ws, long long now, long audit_days, int limit, char *err);

struct worker_session {
    struct worker_account who;
    char csrf[WORKER_CSRF_HEX];
    long long expires_at; /* when the session ends without a further request */
};

/*
 * Signs in with token (spaces and dashes are ignored, case too). On success
 * makes a session whose cookie value is written to cookie, fills out and
 * returns 1. A token that is unknown, expired or revoked returns 0 (audited
 * as sign_in_failed). -1 with err on a database failure.
 */
int worker_sign_in(struct worker_store *ws, const char *token, long long now, long idle,
                   char cookie[WORKER_COOKIE_HEX], struct worker_session *out, char *err);

/*
 * The session for a cookie value: 1 and out filled (and the session's idle
 * deadline moved on to now + idle, never past its maximum age), or 0 if
 * there is none, it has ended, or its worker's token expired or was
 * revoked (an ended session is deleted). -1 with err.
 */
int worker_session_find(struct worker_store *ws, const char *cookie, long long now, long idle,
                        struct worker_session *out, char *err);

/* Ends the session with cookie (audited as sign_out by worker_id). 0, or -1 with err. */
int worker_sign_out(struct worker_store *ws, const char *cookie, long long worker_id, long long now,
                    char *err);

/*
 * Sign-in rate limit, in memory: at most WORKER_LIMIT_PER_CLIENT failed
 * sign-ins per client address and WORKER_LIMIT_GLOBAL in all within
 * WORKER_LIMIT_WINDOW seconds; then sign-ins wait until the window that
 * counted them ends. Successful sign-ins are not counted.
 */
#define WORKER_LIMIT_PER_CLIENT 5
#define WORKER_LIMIT_GLOBAL 100
#define WORKER_LIMIT_WINDOW 900
#define WORKER_LIMIT_CLIENT_MAX 64 /* bytes of a client address kept */

struct worker_limiter;

struct worker_limiter *worker_limiter_new(void);
void worker_limiter_free(struct worker_limiter *l);

/* 0 if client may try to sign in at now, else the seconds to wait. */
long worker_limiter_wait(struct worker_limiter *l, const char *client, long long now);

/* Counts a failed sign-in of client at now. */
void worker_limiter_failed(struct worker_limiter *l, const char *client, long long now);

#endif
