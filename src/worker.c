/* worker.c: workers, sessions, audit and the sign-in rate limit (see worker.h). */
#include "worker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "err.h"
#include "utf8.h"

#define HASH_HEX 65       /* hex SHA-256 + NUL */
#define SESSION_PURGE 100 /* ended sessions deleted per sign-in: bounded work */
#define LIMITER_SLOTS 1024

struct worker_store {
    sqlite3 *db;
    sqlite3_stmt *insert, *by_name, *renew, *revoke, *end_sessions, *list, *audit, *by_token,
        *session_insert, *session_find, *session_touch, *session_delete, *session_purge,
        *audit_purge;
};

#define ACCOUNT_COLUMNS "id, name, team, created_at, expires_at, revoked_at"

static int prepare(struct worker_store *ws, char *err)
{
    sqlite3 *db = ws->db;

    return db_prepare(db,
                      "INSERT INTO workers (name, team, token_hash, created_at, expires_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      &ws->insert, err) ||
           db_prepare(db, "SELECT " ACCOUNT_COLUMNS " FROM workers WHERE name = ?1", &ws->by_name,
                      err) ||
           db_prepare(db, "UPDATE workers SET token_hash = ?2, expires_at = ?3 WHERE id = ?1",
                      &ws->renew, err) ||
           db_prepare(db, "UPDATE workers SET revoked_at = ?2 WHERE id = ?1", &ws->revoke, err) ||
           db_prepare(db, "DELETE FROM worker_sessions WHERE worker_id = ?1", &ws->end_sessions,
                      err) ||
           db_prepare(db, "SELECT " ACCOUNT_COLUMNS " FROM workers ORDER BY name", &ws->list,
                      err) ||
           db_prepare(db,
                      "INSERT INTO worker_audit (at, worker_id, action, request_id, detail) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      &ws->audit, err) ||
           db_prepare(db,
                      "SELECT " ACCOUNT_COLUMNS ", token_hash FROM workers WHERE token_hash = ?1",
                      &ws->by_token, err) ||
           db_prepare(db,
                      "INSERT INTO worker_sessions (id_hash, worker_id, csrf, created_at, "
                      "last_seen, expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                      &ws->session_insert, err) ||
           /* A session lives no longer than its worker's token. */
           db_prepare(db,
                      "SELECT w.id, w.name, w.team, w.created_at, w.expires_at, w.revoked_at, "
                      "s.id_hash, s.csrf FROM worker_sessions s JOIN workers w "
                      "ON w.id = s.worker_id WHERE s.id_hash = ?1 AND s.expires_at > ?2 "
                      "AND w.revoked_at IS NULL AND w.expires_at > ?2",
                      &ws->session_find, err) ||
           db_prepare(db,
                      "UPDATE worker_sessions SET last_seen = ?2, expires_at = min(?3, "
                      "created_at + ?4) WHERE id_hash = ?1 RETURNING expires_at",
                      &ws->session_touch, err) ||
           db_prepare(db, "DELETE FROM worker_sessions WHERE id_hash = ?1", &ws->session_delete,
                      err) ||
           db_prepare(db,
                      "DELETE FROM worker_sessions WHERE id_hash IN (SELECT id_hash FROM "
                      "worker_sessions WHERE expires_at <= ?1 LIMIT ?2)",
                      &ws->session_purge, err) ||
           db_prepare(db,
                      "DELETE FROM worker_audit WHERE id IN (SELECT id FROM worker_audit WHERE "
                      "at < ?1 ORDER BY id LIMIT ?2)",
                      &ws->audit_purge, err);
}

struct worker_store *worker_store_new(sqlite3 *db, char *err)
{
    struct worker_store *ws = calloc(1, sizeof(*ws));

    if (ws == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    ws->db = db;
    if (prepare(ws, err) != 0) {
        err_prefix(err, "workers");
        worker_store_free(ws);
        return NULL;
    }
    return ws;
}

void worker_store_free(struct worker_store *ws)
{
    if (ws == NULL)
        return;
    sqlite3_stmt *all[] = {ws->insert,        ws->by_name,       ws->renew,
                           ws->revoke,        ws->end_sessions,  ws->list,
                           ws->audit,         ws->by_token,      ws->session_insert,
                           ws->session_find,  ws->session_touch, ws->session_delete,
                           ws->session_purge, ws->audit_purge};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    free(ws);
}

/* ---- Helpers ---------------------------------------------------------------------------- */

/* Steps a statement that returns no rows and resets it. 0, or -1 with err. */
static int run(struct worker_store *ws, sqlite3_stmt *st, const char *what, char *err)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE)
        err_set(err, "workers: %s: %s", what, sqlite3_errmsg(ws->db));
    return db_stmt_done(st, rc == SQLITE_DONE ? 0 : -1);
}

static void column_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    snprintf(out, cap, "%s", s != NULL ? (const char *)s : "");
}

/* Reads ACCOUNT_COLUMNS from the current row. */
static void account_from(sqlite3_stmt *st, struct worker_account *w)
{
    w->id = sqlite3_column_int64(st, 0);
    column_text(st, 1, w->name, sizeof(w->name));
    column_text(st, 2, w->team, sizeof(w->team));
    w->created_at = sqlite3_column_int64(st, 3);
    w->expires_at = sqlite3_column_int64(st, 4);
    w->revoked_at = sqlite3_column_int64(st, 5);
}

/* Hex SHA-256 of a NUL-terminated secret: what the tables keep instead of it. */
static void hash_hex(const char *secret, char out[HASH_HEX])
{
    uint8_t digest[32];

    crypto_sha256(secret, strlen(secret), digest);
    crypto_hex(digest, sizeof(digest), out);
}

/* n random bytes as 2n hex digits into out. 0, or -1 with err. */
static int random_hex(size_t n, char *out, char *err)
{
    uint8_t bytes[32];

    if (n > sizeof(bytes) || crypto_random(bytes, n) != 0) {
        err_set(err, "workers: no random numbers");
        return -1;
    }
    crypto_hex(bytes, n, out);
    explicit_bzero(bytes, sizeof(bytes));
    return 0;
}

/* Names are shown on the worker page and in the command line: plain, short, never a number. */
int worker_check_name(const char *name, char *err)
{
    size_t len = strlen(name), digits = 0;

    if (len == 0 || len > WORKER_NAME_MAX) {
        err_set(err, "a worker's name must have 1 to %d bytes", WORKER_NAME_MAX);
        return -1;
    }
    if (!utf8_valid(name, len) || name[0] == ' ' || name[len - 1] == ' ') {
        err_set(err, "a worker's name must be UTF-8 text without leading or trailing spaces");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c < 0x20 || c == 0x7f) {
            err_set(err, "a worker's name must not hold control characters");
            return -1;
        }
        digits += c >= '0' && c <= '9';
    }
    /* The audit trail and the logs promise never to hold a phone number. */
    if (digits >= 7) {
        err_set(err, "a worker's name must not look like a phone number");
        return -1;
    }
    return 0;
}

/* 1 and *w if a worker has name, 0 if none, -1 with err. */
static int find_by_name(struct worker_store *ws, const char *name, struct worker_account *w,
                        char *err)
{
    int rc;

    sqlite3_bind_text(ws->by_name, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(ws->by_name);
    if (rc == SQLITE_ROW)
        account_from(ws->by_name, w);
    else if (rc != SQLITE_DONE)
        err_set(err, "workers: look-up: %s", sqlite3_errmsg(ws->db));
    return db_stmt_done(ws->by_name, rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1);
}

/* Ends every session of worker_id. 0, or -1 with err. */
static int end_sessions(struct worker_store *ws, long long worker_id, char *err)
{
    sqlite3_bind_int64(ws->end_sessions, 1, worker_id);
    return run(ws, ws->end_sessions, "end sessions", err);
}

/* ---- Accounts --------------------------------------------------------------------------- */

int worker_add(struct worker_store *ws, const struct team_list *teams, const char *name,
               const char *team, long long now, long token_days, char token[WORKER_TOKEN_HEX],
               struct worker_account *out, char *err)
{
    struct worker_account w = {0};
    char hash[HASH_HEX];
    int found;

    if (worker_check_name(name, err) != 0)
        return -1;
    if (team_find(teams, team) == NULL) {
        err_set(err, "no team '%.64s' in callbacks.teams", team);
        return -1;
    }
    if ((found = find_by_name(ws, name, &w, err)) != 0) {
        if (found > 0)
            err_set(err,
                    "a worker named '%s' exists already (katto worker renew gives a new "
                    "token)",
                    name);
        return -1;
    }
    if (random_hex(32, token, err) != 0)
        return -1;
    hash_hex(token, hash);
    sqlite3_bind_text(ws->insert, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(ws->insert, 2, team, -1, SQLITE_STATIC);
    sqlite3_bind_text(ws->insert, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ws->insert, 4, now);
    sqlite3_bind_int64(ws->insert, 5, now + token_days * 86400LL);
    if (run(ws, ws->insert, "add", err) != 0 || find_by_name(ws, name, &w, err) != 1 ||
        worker_audit(ws, now, w.id, "worker_added", 0, w.team, err) != 0) {
        explicit_bzero(token, WORKER_TOKEN_HEX);
        return -1;
    }
    if (out != NULL)
        *out = w;
    return 0;
}

int worker_renew(struct worker_store *ws, const char *name, long long now, long token_days,
                 char token[WORKER_TOKEN_HEX], struct worker_account *out, char *err)
{
    struct worker_account w;
    char hash[HASH_HEX];
    int found = find_by_name(ws, name, &w, err);

    if (found <= 0) {
        if (found == 0)
            err_set(err, "no worker named '%s'", name);
        return -1;
    }
    if (w.revoked_at != 0) {
        err_set(err, "worker '%s' was removed: add them again under another name", name);
        return -1;
    }
    if (random_hex(32, token, err) != 0)
        return -1;
    hash_hex(token, hash);
    w.expires_at = now + token_days * 86400LL;
    sqlite3_bind_int64(ws->renew, 1, w.id);
    sqlite3_bind_text(ws->renew, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ws->renew, 3, w.expires_at);
    if (run(ws, ws->renew, "renew", err) != 0 || end_sessions(ws, w.id, err) != 0 ||
        worker_audit(ws, now, w.id, "worker_renewed", 0, NULL, err) != 0) {
        explicit_bzero(token, WORKER_TOKEN_HEX);
        return -1;
    }
    if (out != NULL)
        *out = w;
    return 0;
}

int worker_remove(struct worker_store *ws, const char *name, long long now, char *err)
{
    struct worker_account w;
    int found = find_by_name(ws, name, &w, err);

    if (found <= 0) {
        if (found == 0)
            err_set(err, "no worker named '%s'", name);
        return -1;
    }
    if (w.revoked_at != 0)
        return 1;
    sqlite3_bind_int64(ws->revoke, 1, w.id);
    sqlite3_bind_int64(ws->revoke, 2, now);
    if (run(ws, ws->revoke, "revoke", err) != 0 || end_sessions(ws, w.id, err) != 0 ||
        worker_audit(ws, now, w.id, "worker_removed", 0, NULL, err) != 0)
        return -1;
    return 0;
}

int worker_list(struct worker_store *ws, worker_list_cb *cb, void *arg, char *err)
{
    int rc;

    while ((rc = sqlite3_step(ws->list)) == SQLITE_ROW) {
        struct worker_account w;

        account_from(ws->list, &w);
        if (cb(&w, arg) != 0)
            return db_stmt_done(ws->list, 0);
    }
    if (rc != SQLITE_DONE)
        err_set(err, "workers: list: %s", sqlite3_errmsg(ws->db));
    return db_stmt_done(ws->list, rc == SQLITE_DONE ? 0 : -1);
}

int worker_audit(struct worker_store *ws, long long now, long long worker_id, const char *action,
                 long long request_id, const char *detail, char *err)
{
    sqlite3_stmt *st = ws->audit;

    sqlite3_bind_int64(st, 1, now);
    if (worker_id > 0)
        sqlite3_bind_int64(st, 2, worker_id);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    if (request_id > 0)
        sqlite3_bind_int64(st, 4, request_id);
    if (detail != NULL)
        sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
    return run(ws, st, "audit", err);
}

/* ---- Sessions --------------------------------------------------------------------------- */

/*
 * The token as issued (64 lower-case hex digits) from what a person pasted
 * or typed: spaces and dashes dropped, case ignored. -1 if it cannot be one.
 */
static int normalise_token(const char *in, char out[WORKER_TOKEN_HEX])
{
    size_t n = 0;

    for (; in != NULL && *in != '\0'; in++) {
        char c = *in;

        if (c == ' ' || c == '-' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || n == WORKER_TOKEN_HEX - 1)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == WORKER_TOKEN_HEX - 1 ? 0 : -1;
}

/* 1 and *w if a worker has this token hash (compared in constant time), 0 if none, -1. */
static int find_by_token(struct worker_store *ws, const char *hash, struct worker_account *w,
                         char *err)
{
    int rc, found = 0;

    sqlite3_bind_text(ws->by_token, 1, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(ws->by_token);
    if (rc == SQLITE_ROW) {
        const unsigned char *stored = sqlite3_column_text(ws->by_token, 6);

        account_from(ws->by_token, w);
        found = stored != NULL && strlen((const char *)stored) == HASH_HEX - 1 &&
                crypto_equal(stored, hash, HASH_HEX - 1);
    } else if (rc != SQLITE_DONE) {
        err_set(err, "workers: token look-up: %s", sqlite3_errmsg(ws->db));
        found = -1;
    }
    return db_stmt_done(ws->by_token, found);
}

static long long session_deadline(long long created, long long now, long idle)
{
    long long idle_end = now + idle, max_end = created + WORKER_SESSION_MAX_AGE;

    return idle_end < max_end ? idle_end : max_end;
}

/* Stores a new session for w; its cookie value goes to cookie. 0, or -1 with err. */
static int session_create(struct worker_store *ws, const struct worker_account *w, long long now,
                          long idle, char cookie[WORKER_COOKIE_HEX], struct worker_session *out,
                          char *err)
{
    char hash[HASH_HEX];
    sqlite3_stmt *st = ws->session_insert;

    if (random_hex(32, cookie, err) != 0 || random_hex(16, out->csrf, err) != 0)
        return -1;
    hash_hex(cookie, hash);
    out->who = *w;
    out->expires_at = session_deadline(now, now, idle);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, w->id);
    sqlite3_bind_text(st, 3, out->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, out->expires_at);
    if (run(ws, st, "new session", err) != 0) {
        explicit_bzero(cookie, WORKER_COOKIE_HEX);
        return -1;
    }
    return 0;
}

/* Deletes sessions that have ended, a few at a time (sign-ins are rare enough). */
static int purge_sessions(struct worker_store *ws, long long now, char *err)
{
    sqlite3_bind_int64(ws->session_purge, 1, now);
    sqlite3_bind_int(ws->session_purge, 2, SESSION_PURGE);
    return run(ws, ws->session_purge, "purge sessions", err);
}

int worker_purge(struct worker_store *ws, long long now, long audit_days, int limit, char *err)
{
    int n;

    sqlite3_bind_int64(ws->session_purge, 1, now);
    sqlite3_bind_int(ws->session_purge, 2, limit);
    if (run(ws, ws->session_purge, "purge sessions", err) != 0)
        return -1;
    n = sqlite3_changes(ws->db);
    sqlite3_bind_int64(ws->audit_purge, 1, now - (long long)audit_days * 86400);
    sqlite3_bind_int(ws->audit_purge, 2, limit);
    if (run(ws, ws->audit_purge, "purge audit", err) != 0)
        return -1;
    return n + sqlite3_changes(ws->db);
}

int worker_sign_in(struct worker_store *ws, const char *token, long long now, long idle,
                   char cookie[WORKER_COOKIE_HEX], struct worker_session *out, char *err)
{
    char norm[WORKER_TOKEN_HEX], hash[HASH_HEX];
    struct worker_account w = {0};
    const char *why = NULL;
    int found = 0;

    if (purge_sessions(ws, now, err) != 0)
        return -1;
    if (normalise_token(token, norm) == 0) {
        hash_hex(norm, hash);
        found = find_by_token(ws, hash, &w, err);
    }
    explicit_bzero(norm, sizeof(norm));
    if (found < 0)
        return -1;
    if (found == 0)
        why = "unknown";
    else if (w.revoked_at != 0)
        why = "revoked";
    else if (w.expires_at <= now)
        why = "expired";
    if (why != NULL) {
        /* A known worker's revoked or expired token is worth knowing about (a lost phone?). */
        return worker_audit(ws, now, found ? w.id : 0, "sign_in_failed", 0, why, err) == 0 ? 0 : -1;
    }
    if (session_create(ws, &w, now, idle, cookie, out, err) != 0 ||
        worker_audit(ws, now, w.id, "sign_in", 0, NULL, err) != 0)
        return -1;
    return 1;
}

/* Deletes the session whose cookie hashes to hash. 0, or -1 with err. */
static int session_delete(struct worker_store *ws, const char *hash, char *err)
{
    sqlite3_bind_text(ws->session_delete, 1, hash, -1, SQLITE_STATIC);
    return run(ws, ws->session_delete, "end session", err);
}

/* Moves the idle deadline of the session with hash on; its new end goes to *expires. */
static int session_touch(struct worker_store *ws, const char *hash, long long now, long idle,
                         long long *expires, char *err)
{
    sqlite3_stmt *st = ws->session_touch;
    bool ok = false;

    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now + idle);
    sqlite3_bind_int64(st, 4, WORKER_SESSION_MAX_AGE);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *expires = sqlite3_column_int64(st, 0);
        /* RETURNING: step to the end so the statement is finished before the reset. */
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    if (!ok)
        err_set(err, "workers: touch session: %s", sqlite3_errmsg(ws->db));
    return db_stmt_done(st, ok ? 0 : -1);
}

/* 1 and out if hash names a live session, 0 if not, -1 with err. */
static int session_lookup(struct worker_store *ws, const char *hash, long long now,
                          struct worker_session *out, char *err)
{
    sqlite3_stmt *st = ws->session_find;
    int rc, found = 0;

    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *stored = sqlite3_column_text(st, 6);

        account_from(st, &out->who);
        column_text(st, 7, out->csrf, sizeof(out->csrf));
        found = stored != NULL && strlen((const char *)stored) == HASH_HEX - 1 &&
                crypto_equal(stored, hash, HASH_HEX - 1);
    } else if (rc != SQLITE_DONE) {
        err_set(err, "workers: session look-up: %s", sqlite3_errmsg(ws->db));
        found = -1;
    }
    return db_stmt_done(st, found);
}

int worker_session_find(struct worker_store *ws, const char *cookie, long long now, long idle,
                        struct worker_session *out, char *err)
{
    char hash[HASH_HEX];
    int found;

    if (cookie == NULL || strlen(cookie) != WORKER_COOKIE_HEX - 1)
        return 0;
    hash_hex(cookie, hash);
    if ((found = session_lookup(ws, hash, now, out, err)) < 0)
        return -1;
    if (found == 0)
        return session_delete(ws, hash, err) == 0 ? 0 : -1;
    return session_touch(ws, hash, now, idle, &out->expires_at, err) == 0 ? 1 : -1;
}

int worker_sign_out(struct worker_store *ws, const char *cookie, long long worker_id, long long now,
                    char *err)
{
    char hash[HASH_HEX];

    hash_hex(cookie, hash);
    if (session_delete(ws, hash, err) != 0 ||
        worker_audit(ws, now, worker_id, "sign_out", 0, NULL, err) != 0)
        return -1;
    return 0;
}

/* ---- Sign-in rate limit ----------------------------------------------------------------- */

/* Failures counted in a fixed window that starts at the first one. */
struct limiter_slot {
    char client[WORKER_LIMIT_CLIENT_MAX];
    long long since; /* 0: free */
    int failures;
};

struct worker_limiter {
    struct limiter_slot slots[LIMITER_SLOTS];
    struct limiter_slot global;
};

struct worker_limiter *worker_limiter_new(void)
{
    return calloc(1, sizeof(struct worker_limiter));
}

void worker_limiter_free(struct worker_limiter *l)
{
    free(l);
}

/* A window that has ended (or a clock set back) counts nothing any more. */
static void slot_expire(struct limiter_slot *s, long long now)
{
    if (s->since != 0 && (now >= s->since + WORKER_LIMIT_WINDOW || now < s->since)) {
        s->since = 0;
        s->failures = 0;
    }
}

/* The slot of client, or NULL. */
static struct limiter_slot *slot_find(struct worker_limiter *l, const char *client, long long now)
{
    for (size_t i = 0; i < LIMITER_SLOTS; i++) {
        struct limiter_slot *s = &l->slots[i];

        slot_expire(s, now);
        if (s->since != 0 && strncmp(s->client, client, sizeof(s->client) - 1) == 0)
            return s;
    }
    return NULL;
}

/* A free slot, or else the one whose window ends first (the global cap still holds). */
static struct limiter_slot *slot_take(struct worker_limiter *l, const char *client)
{
    struct limiter_slot *best = &l->slots[0];

    for (size_t i = 0; i < LIMITER_SLOTS && best->since != 0; i++) {
        if (l->slots[i].since < best->since)
            best = &l->slots[i];
    }
    snprintf(best->client, sizeof(best->client), "%s", client);
    best->since = 0;
    best->failures = 0;
    return best;
}

static long slot_wait(const struct limiter_slot *s, int cap, long long now)
{
    return s != NULL && s->since != 0 && s->failures >= cap
               ? (long)(s->since + WORKER_LIMIT_WINDOW - now)
               : 0;
}

long worker_limiter_wait(struct worker_limiter *l, const char *client, long long now)
{
    long mine, all;

    slot_expire(&l->global, now);
    mine = slot_wait(slot_find(l, client, now), WORKER_LIMIT_PER_CLIENT, now);
    all = slot_wait(&l->global, WORKER_LIMIT_GLOBAL, now);
    return mine > all ? mine : all;
}

static void slot_count(struct limiter_slot *s, long long now)
{
    if (s->since == 0)
        s->since = now > 0 ? now : 1;
    s->failures++;
}

void worker_limiter_failed(struct worker_limiter *l, const char *client, long long now)
{
    struct limiter_slot *s = slot_find(l, client, now);

    slot_count(s != NULL ? s : slot_take(l, client), now);
    slot_expire(&l->global, now);
    slot_count(&l->global, now);
}
