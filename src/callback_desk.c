/* callback_desk.c: a worker's actions on their team's callback requests (see callback_desk.h). */
#include "callback_desk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "log.h"

/* The associated data of each sealed column, as callback.c seals them. */
#define AAD_NUMBER "callback_requests.number_enc"
#define AAD_MEET "callback_requests.meet_enc"
#define AAD_TOPIC "callback_requests.topic_enc"

#define OPEN "closed_at IS NULL AND merged_into IS NULL"

struct callback_desk {
    sqlite3 *db;
    struct worker_store *ws;
    uint8_t number_key[CRYPTO_KEY_LEN];
    sqlite3_stmt *list, *one, *claim, *close;
};

static int prepare(struct callback_desk *d, char *err)
{
    sqlite3 *db = d->db;

    /* Both look-ups go through the (team, closed_at) index or the primary key. */
    return db_prepare(db,
                      "SELECT r.id, r.ref, r.city, r.lang, r.time_window, r.created_at, r.due_at, "
                      "r.topic_enc, coalesce(r.claimed_by, 0), coalesce(w.name, ''), "
                      "coalesce(r.contact_key, ''), r.number_enc, r.meet_enc IS NOT NULL "
                      "FROM callback_requests r LEFT JOIN workers w ON w.id = r.claimed_by "
                      "WHERE r.team = ?1 AND r." OPEN " ORDER BY r.created_at DESC, r.id DESC "
                      "LIMIT ?2",
                      &d->list, err) ||
           db_prepare(db,
                      "SELECT id, ref, coalesce(claimed_by, 0), coalesce(contact_key, ''), lang, "
                      "number_enc, meet_enc, topic_enc FROM callback_requests "
                      "WHERE id = ?1 AND team = ?2 AND " OPEN,
                      &d->one, err) ||
           db_prepare(db,
                      "UPDATE callback_requests SET claimed_by = ?3, claimed_at = ?4 "
                      "WHERE id = ?1 AND team = ?2 AND " OPEN " AND claimed_by IS NULL",
                      &d->claim, err) ||
           /* The purge of callback.c, at close: only the anonymous part stays. */
           db_prepare(db,
                      "UPDATE callback_requests SET closed_at = ?2, outcome = ?3, topic = ?4, "
                      "merged_into = ?5, number_enc = NULL, meet_enc = NULL, sender_enc = NULL, "
                      "contact_key = NULL, topic_enc = NULL, next_remind_at = NULL "
                      "WHERE id = ?1 AND closed_at IS NULL",
                      &d->close, err);
}

struct callback_desk *callback_desk_new(sqlite3 *db, struct worker_store *ws,
                                        const uint8_t number_key[CRYPTO_KEY_LEN], char *err)
{
    struct callback_desk *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    d->db = db;
    d->ws = ws;
    memcpy(d->number_key, number_key, CRYPTO_KEY_LEN);
    if (prepare(d, err) != 0) {
        err_prefix(err, "callback desk");
        callback_desk_free(d);
        return NULL;
    }
    return d;
}

void callback_desk_free(struct callback_desk *d)
{
    if (d == NULL)
        return;
    sqlite3_finalize(d->list);
    sqlite3_finalize(d->one);
    sqlite3_finalize(d->claim);
    sqlite3_finalize(d->close);
    explicit_bzero(d->number_key, sizeof(d->number_key));
    free(d);
}

/* ---- Helpers ---------------------------------------------------------------------------- */

static void column_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    snprintf(out, cap, "%s", s != NULL ? (const char *)s : "");
}

/* Wipes and frees a string that may hold a number. */
static void wipe(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* The sealed column col of the current row, opened (owned), or NULL if empty or unreadable. */
static char *open_sealed(struct callback_desk *d, sqlite3_stmt *st, int col, const char *aad)
{
    const void *sealed = sqlite3_column_blob(st, col);
    int len = sqlite3_column_bytes(st, col);
    char *plain = NULL;
    size_t n;

    if (sealed == NULL || len <= 0)
        return NULL;
    if (crypto_open(d->number_key, sealed, (size_t)len, aad, &plain, &n) != 0) {
        /* A wrong secret or a damaged row: say which column, never what it held. */
        log_warn("callback_desk.unreadable", "request=%lld column=%s",
                 (long long)sqlite3_column_int64(st, 0), aad);
        return NULL;
    }
    return plain;
}

/* One open request of a team, with what it holds opened. */
struct row {
    long long id, claimed_by;
    char ref[CALLBACK_REF_LEN], lang[16], contact[CRYPTO_CONTACT_KEY_HEX];
    char *number, *meet, *topic;
};

static void row_release(struct row *r)
{
    wipe(r->number);
    wipe(r->meet);
    wipe(r->topic);
    explicit_bzero(r, sizeof(*r));
}

/* 1 and *r if team has open request id, 0 if not, -1 with err. */
static int load(struct callback_desk *d, const char *team, long long id, struct row *r, char *err)
{
    sqlite3_stmt *st = d->one;
    int rc;

    memset(r, 0, sizeof(*r));
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, team, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->id = sqlite3_column_int64(st, 0);
        column_text(st, 1, r->ref, sizeof(r->ref));
        r->claimed_by = sqlite3_column_int64(st, 2);
        column_text(st, 3, r->contact, sizeof(r->contact));
        column_text(st, 4, r->lang, sizeof(r->lang));
        r->number = open_sealed(d, st, 5, AAD_NUMBER);
        r->meet = open_sealed(d, st, 6, AAD_MEET);
        r->topic = open_sealed(d, st, 7, AAD_TOPIC);
    } else if (rc != SQLITE_DONE) {
        err_set(err, "callback desk: request look-up: %s", sqlite3_errmsg(d->db));
    }
    return db_stmt_done(st, rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1);
}

/* Two requests are from the same person if the sender or the number to call is the same. */
static bool same_number(const char *contact_a, const char *number_a, const char *contact_b,
                        const char *number_b)
{
    return (contact_a[0] != '\0' && strcmp(contact_a, contact_b) == 0) ||
           (number_a != NULL && number_b != NULL && strcmp(number_a, number_b) == 0);
}

/* Closes r with outcome (and merged_into, 0 for none), keeping only the anonymous part. */
static int purge(struct callback_desk *d, const struct row *r, const char *outcome,
                 long long merged_into, long long now, char *err)
{
    sqlite3_stmt *st = d->close;
    int rc;

    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, outcome, -1, SQLITE_STATIC);
    if (r->topic != NULL)
        sqlite3_bind_text(st, 4, r->topic, -1, SQLITE_STATIC);
    if (merged_into > 0)
        sqlite3_bind_int64(st, 5, merged_into);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err_set(err, "callback desk: close %s: %s", r->ref, sqlite3_errmsg(d->db));
    return db_stmt_done(st, rc == SQLITE_DONE ? 0 : -1);
}

/* ---- The list --------------------------------------------------------------------------- */

/* What the list needs only to find requests with the same number; wiped after. */
struct match {
    char contact[CRYPTO_CONTACT_KEY_HEX];
    char *number;
};

static void item_from(struct callback_desk *d, sqlite3_stmt *st, long long now,
                      struct callback_desk_item *it, struct match *m)
{
    it->id = sqlite3_column_int64(st, 0);
    column_text(st, 1, it->ref, sizeof(it->ref));
    column_text(st, 2, it->city, sizeof(it->city));
    column_text(st, 3, it->lang, sizeof(it->lang));
    column_text(st, 4, it->window, sizeof(it->window));
    it->created_at = sqlite3_column_int64(st, 5);
    it->due_at = sqlite3_column_int64(st, 6);
    it->overdue = it->due_at <= now;
    it->topic = open_sealed(d, st, 7, AAD_TOPIC);
    it->claimed_by = sqlite3_column_int64(st, 8);
    column_text(st, 9, it->claimer, sizeof(it->claimer));
    column_text(st, 10, m->contact, sizeof(m->contact));
    m->number = open_sealed(d, st, 11, AAD_NUMBER);
    it->meet = sqlite3_column_int(st, 12) != 0;
}

/* Fills each item's shares from the matches (at most CALLBACK_DESK_MAX_LIST: n² is small). */
static int link_shares(struct callback_desk_list *l, const struct match *m, char *err)
{
    for (size_t i = 0; i < l->n; i++) {
        struct callback_desk_item *it = &l->items[i];

        for (size_t j = 0; j < l->n; j++) {
            if (j == i || !same_number(m[i].contact, m[i].number, m[j].contact, m[j].number))
                continue;
            if (it->shares == NULL && (it->shares = calloc(l->n, sizeof(size_t))) == NULL) {
                err_set(err, "out of memory");
                return -1;
            }
            it->shares[it->nshares++] = j;
        }
    }
    return 0;
}

int callback_desk_list(struct callback_desk *d, const char *team, long long now,
                       struct callback_desk_list *out, char *err)
{
    sqlite3_stmt *st = d->list;
    struct match *m = calloc(CALLBACK_DESK_MAX_LIST, sizeof(*m));
    int rc, status = -1;

    memset(out, 0, sizeof(*out));
    out->items = calloc(CALLBACK_DESK_MAX_LIST, sizeof(*out->items));
    if (m == NULL || out->items == NULL) {
        err_set(err, "out of memory");
        goto done;
    }
    sqlite3_bind_text(st, 1, team, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, CALLBACK_DESK_MAX_LIST);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < CALLBACK_DESK_MAX_LIST) {
        item_from(d, st, now, &out->items[out->n], &m[out->n]);
        out->n++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        err_set(err, "callback desk: list: %s", sqlite3_errmsg(d->db));
    else
        status = 0;
    db_stmt_done(st, 0);
    if (status == 0)
        status = link_shares(out, m, err);
done:
    for (size_t i = 0; m != NULL && i < out->n; i++)
        wipe(m[i].number);
    free(m);
    if (status != 0)
        callback_desk_list_release(out);
    return status;
}

void callback_desk_list_release(struct callback_desk_list *l)
{
    for (size_t i = 0; l->items != NULL && i < l->n; i++) {
        wipe(l->items[i].topic);
        free(l->items[i].shares);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* ---- Actions ---------------------------------------------------------------------------- */

int callback_desk_claim(struct callback_desk *d, const struct callback_desk_actor *who,
                        long long id, long long now, char *err)
{
    sqlite3_stmt *st = d->claim;
    struct row r;
    int rc, found, changed;

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, who->team, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, who->worker_id);
    sqlite3_bind_int64(st, 4, now);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err_set(err, "callback desk: claim: %s", sqlite3_errmsg(d->db));
    changed = rc == SQLITE_DONE ? sqlite3_changes(d->db) : 0;
    if (db_stmt_done(st, rc == SQLITE_DONE ? 0 : -1) != 0)
        return -1;
    if (changed == 1)
        return worker_audit(d->ws, now, who->worker_id, "claim", id, NULL, err) == 0
                   ? CALLBACK_DESK_DONE
                   : -1;
    /* Not claimed now: gone, someone else's, or already ours (a second tap). */
    if ((found = load(d, who->team, id, &r, err)) <= 0)
        return found < 0 ? -1 : CALLBACK_DESK_NOT_FOUND;
    rc = r.claimed_by == who->worker_id ? CALLBACK_DESK_DONE : CALLBACK_DESK_TAKEN;
    row_release(&r);
    return rc;
}

int callback_desk_reveal(struct callback_desk *d, const struct callback_desk_actor *who,
                         long long id, long long now, struct callback_desk_contact *out, char *err)
{
    struct row r;
    int found = load(d, who->team, id, &r, err);

    memset(out, 0, sizeof(*out));
    if (found <= 0)
        return found < 0 ? -1 : CALLBACK_DESK_NOT_FOUND;
    if (r.claimed_by != who->worker_id) {
        row_release(&r);
        return CALLBACK_DESK_NOT_YOURS;
    }
    if (worker_audit(d->ws, now, who->worker_id, "reveal", id,
                     r.number != NULL ? "number"
                     : r.meet != NULL ? "meet"
                                      : "none",
                     err) != 0) {
        row_release(&r);
        return -1;
    }
    out->id = r.id;
    snprintf(out->ref, sizeof(out->ref), "%s", r.ref);
    snprintf(out->lang, sizeof(out->lang), "%s", r.lang);
    out->topic = r.topic;
    out->number = r.number;
    out->meet = r.meet;
    r.topic = r.number = r.meet = NULL; /* handed over */
    row_release(&r);
    return CALLBACK_DESK_DONE;
}

void callback_desk_contact_release(struct callback_desk_contact *c)
{
    wipe(c->topic);
    wipe(c->number);
    wipe(c->meet);
    explicit_bzero(c, sizeof(*c));
}

bool callback_desk_outcome_valid(const char *outcome)
{
    static const char *const ok[] = {"reached", "no_answer", "wrong_number", "referred"};

    for (size_t i = 0; outcome != NULL && i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(outcome, ok[i]) == 0)
            return true;
    }
    return false;
}

int callback_desk_close(struct callback_desk *d, const struct callback_desk_actor *who,
                        long long id, const char *outcome, long long now, char *err)
{
    struct row r;
    int found, rc = CALLBACK_DESK_DONE;

    if (!callback_desk_outcome_valid(outcome))
        return CALLBACK_DESK_INVALID;
    if ((found = load(d, who->team, id, &r, err)) <= 0)
        return found < 0 ? -1 : CALLBACK_DESK_NOT_FOUND;
    if (r.claimed_by != who->worker_id)
        rc = CALLBACK_DESK_NOT_YOURS;
    else if (purge(d, &r, outcome, 0, now, err) != 0 ||
             worker_audit(d->ws, now, who->worker_id, "close", id, outcome, err) != 0)
        rc = -1;
    row_release(&r);
    return rc;
}

int callback_desk_merge(struct callback_desk *d, const struct callback_desk_actor *who,
                        long long id, long long into, long long now, char *err)
{
    struct row from, to;
    int found, rc = CALLBACK_DESK_DONE;

    if ((found = load(d, who->team, id, &from, err)) <= 0)
        return found < 0 ? -1 : CALLBACK_DESK_NOT_FOUND;
    if (from.claimed_by != who->worker_id || id == into) {
        row_release(&from);
        return id == into ? CALLBACK_DESK_INVALID : CALLBACK_DESK_NOT_YOURS;
    }
    if ((found = load(d, who->team, into, &to, err)) <= 0) {
        row_release(&from);
        return found < 0 ? -1 : CALLBACK_DESK_NOT_FOUND;
    }
    if (!same_number(from.contact, from.number, to.contact, to.number))
        rc = CALLBACK_DESK_INVALID;
    else if (purge(d, &from, "merged", to.id, now, err) != 0 ||
             worker_audit(d->ws, now, who->worker_id, "merge", id, to.ref, err) != 0)
        rc = -1;
    row_release(&from);
    row_release(&to);
    return rc;
}
