/* callback.c: callback requests, the workers' notifications and the timers (see callback.h). */
#include "callback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "flow_nearest.h"
#include "flow_render.h"
#include "hours.h"
#include "log.h"

#define REF_TRIES 50        /* random draws of one length before a longer reference is used */
#define TICK_LIMIT 200      /* requests per step of a tick: keeps the transaction short */
#define WORKER_TEXT_MAX 512 /* one short SMS, with room for a long public_url */
#define CLIENT_TEXT_MAX 2048

/* The column name is the associated data: a sealed value cannot be moved to another column. */
#define AAD_NUMBER "callback_requests.number_enc"
#define AAD_MEET "callback_requests.meet_enc"
#define AAD_TOPIC "callback_requests.topic_enc"
#define AAD_SENDER "callback_requests.sender_enc"

/* What the reminder and escalation steps read of a request, in this order. */
#define DUE_COLUMNS "id, ref, team, city, lang, notified, notify_sender, sender_enc"
/* Open, unclaimed and not yet escalated: nobody has taken it, so it is still ours to chase. */
#define PENDING "closed_at IS NULL AND claimed_by IS NULL AND escalated_at IS NULL"

struct callback_service {
    struct callback_deps d; /* number_key and contact_key point at the copies below */
    uint8_t number_key[CRYPTO_KEY_LEN], contact_key[CRYPTO_KEY_LEN];
    sqlite3_stmt *ref_open, *insert, *settle, *remind_due, *remind_set, *escalate_due,
        *escalate_set, *opted_out, *purge_due, *purge_set, *unmerge, *erase, *overdue;
};

/* A request due for a reminder or an escalation, borrowed from its statement's current row. */
struct due {
    long long id, notified;
    const char *ref, *team, *city, *lang;
    bool notify_sender;
    const void *sender_enc; /* NULL when the sender may not be texted */
    size_t sender_len;
};

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void count(struct callback_service *cs, const char *event, int n)
{
    char labels[32];

    if (cs->d.metrics == NULL || n <= 0)
        return;
    snprintf(labels, sizeof(labels), "event=\"%s\"", event);
    metrics_add(cs->d.metrics, "katto_callbacks_total", labels, (uint64_t)n);
}

/* Steps a statement that returns no rows and resets it. 0, or -1 with err. */
static int run(struct callback_service *cs, sqlite3_stmt *st, const char *what, char *err)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE)
        err_set(err, "callback: %s: %s", what, sqlite3_errmsg(cs->d.db));
    return db_stmt_done(st, rc == SQLITE_DONE ? 0 : -1);
}

static int prepare(struct callback_service *cs, char *err)
{
    sqlite3 *db = cs->d.db;

    return db_prepare(db, "SELECT 1 FROM callback_requests WHERE ref = ?1 AND closed_at IS NULL",
                      &cs->ref_open, err) ||
           db_prepare(db,
                      "INSERT INTO callback_requests (ref, team, city, lang, time_window, "
                      "contact_key, number_enc, meet_enc, topic_enc, notify_sender, sender_enc, "
                      "created_at, due_at, notified, next_remind_at, purge_at) VALUES (?1, ?2, "
                      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?14, ?15)",
                      &cs->insert, err) ||
           /* Claimed, closed or escalated requests have no reminder pending: the index of
            * reminders then only holds requests still to chase. */
           db_prepare(db,
                      "UPDATE callback_requests SET next_remind_at = NULL WHERE next_remind_at "
                      "<= ?1 AND (closed_at IS NOT NULL OR claimed_by IS NOT NULL OR "
                      "escalated_at IS NOT NULL)",
                      &cs->settle, err) ||
           db_prepare(db,
                      "SELECT " DUE_COLUMNS " FROM callback_requests WHERE next_remind_at <= ?1 "
                      "AND " PENDING " ORDER BY next_remind_at, id LIMIT 1",
                      &cs->remind_due, err) ||
           db_prepare(db,
                      "UPDATE callback_requests SET notified = notified + ?2, next_remind_at = ?3 "
                      "WHERE id = ?1",
                      &cs->remind_set, err) ||
           db_prepare(db,
                      "SELECT " DUE_COLUMNS " FROM callback_requests WHERE due_at <= ?1 "
                      "AND " PENDING " ORDER BY due_at, id LIMIT 1",
                      &cs->escalate_due, err) ||
           db_prepare(db,
                      "UPDATE callback_requests SET escalated_at = ?2, next_remind_at = NULL "
                      "WHERE id = ?1",
                      &cs->escalate_set, err) ||
           db_prepare(db, "SELECT 1 FROM opt_outs WHERE contact_key = ?1", &cs->opted_out, err) ||
           /* Open requests, and closed ones that still hold the sender's key: both indexed.
            * callback_desk wipes the sealed columns at close. */
           db_prepare(db,
                      "SELECT id, topic_enc, 1 FROM callback_requests WHERE closed_at IS NULL "
                      "AND purge_at <= ?1 UNION ALL "
                      "SELECT id, topic_enc, 0 FROM callback_requests WHERE closed_at IS NOT NULL "
                      "AND contact_key IS NOT NULL AND purge_at <= ?1 LIMIT 1",
                      &cs->purge_due, err) ||
           /* SET expressions see the row as it was: closed_at below is the old value. */
           db_prepare(db,
                      "UPDATE callback_requests SET number_enc = NULL, meet_enc = NULL, "
                      "topic_enc = NULL, sender_enc = NULL, contact_key = NULL, "
                      "next_remind_at = NULL, "
                      "topic = CASE WHEN closed_at IS NULL THEN ?3 ELSE topic END, "
                      "outcome = CASE WHEN closed_at IS NULL THEN 'purged' ELSE outcome END, "
                      "closed_at = coalesce(closed_at, ?2) WHERE id = ?1",
                      &cs->purge_set, err) ||
           db_prepare(db,
                      "UPDATE callback_requests SET merged_into = NULL WHERE merged_into IN "
                      "(SELECT id FROM callback_requests WHERE contact_key = ?1)",
                      &cs->unmerge, err) ||
           db_prepare(db, "DELETE FROM callback_requests WHERE contact_key = ?1", &cs->erase,
                      err) ||
           db_prepare(db,
                      "SELECT count(*) FROM callback_requests WHERE due_at <= ?1 "
                      "AND closed_at IS NULL AND claimed_by IS NULL",
                      &cs->overdue, err);
}

struct callback_service *callback_service_new(const struct callback_deps *deps, char *err)
{
    struct callback_service *cs = calloc(1, sizeof(*cs));

    if (cs == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    cs->d = *deps;
    memcpy(cs->number_key, deps->number_key, CRYPTO_KEY_LEN);
    memcpy(cs->contact_key, deps->contact_key, CRYPTO_KEY_LEN);
    cs->d.number_key = cs->number_key;
    cs->d.contact_key = cs->contact_key;
    if (prepare(cs, err) != 0) {
        callback_service_free(cs);
        return NULL;
    }
    if (cs->d.metrics != NULL &&
        metrics_declare(cs->d.metrics, "katto_callbacks_total", "counter",
                        "Callback requests by event (filed, reminded, escalated, purged).") != 0) {
        err_set(err, "out of memory");
        callback_service_free(cs);
        return NULL;
    }
    return cs;
}

void callback_service_free(struct callback_service *cs)
{
    if (cs == NULL)
        return;
    sqlite3_stmt *all[] = {cs->ref_open,   cs->insert,       cs->settle,       cs->remind_due,
                           cs->remind_set, cs->escalate_due, cs->escalate_set, cs->opted_out,
                           cs->purge_due,  cs->purge_set,    cs->unmerge,      cs->erase,
                           cs->overdue};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    explicit_bzero(cs->number_key, sizeof(cs->number_key));
    explicit_bzero(cs->contact_key, sizeof(cs->contact_key));
    free(cs);
}

/* ---- References ------------------------------------------------------------------------- */

/* "K-" and digits (4 or 5) at random. 0, or -1. */
static int draw_ref(char ref[CALLBACK_REF_LEN], int digits)
{
    uint32_t r;

    if (crypto_random(&r, sizeof(r)) != 0)
        return -1;
    ref[0] = 'K';
    ref[1] = '-';
    for (int i = digits - 1; i >= 0; i--) {
        ref[2 + i] = (char)('0' + r % 10);
        r /= 10;
    }
    ref[2 + digits] = '\0';
    return 0;
}

/* 1 if an open request uses ref, 0 if not, -1 with err. */
static int ref_in_use(struct callback_service *cs, const char *ref, char *err)
{
    int rc;

    sqlite3_bind_text(cs->ref_open, 1, ref, -1, SQLITE_STATIC);
    rc = sqlite3_step(cs->ref_open);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        err_set(err, "callback: reference lookup: %s", sqlite3_errmsg(cs->d.db));
    return db_stmt_done(cs->ref_open, rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1);
}

int callback_new_ref(struct callback_service *cs, char ref[CALLBACK_REF_LEN], char *err)
{
    /* Four digits are easy to say on the phone; a fifth only when four are nearly used up. */
    for (int digits = 4; digits <= 5; digits++) {
        for (int i = 0; i < REF_TRIES; i++) {
            int used;

            if (draw_ref(ref, digits) != 0) {
                err_set(err, "callback: no random numbers for a reference");
                return -1;
            }
            if ((used = ref_in_use(cs, ref, err)) <= 0)
                return used;
        }
    }
    err_set(err, "callback: no free reference after %d tries", 2 * REF_TRIES);
    return -1;
}

/* ---- Sending ---------------------------------------------------------------------------- */

/*
 * Queues text to the number to (E.164) through the default gateway, as SMS
 * parts of at most sms.max_segments (normalised and counted by the renderer).
 * capped: the abuse caps apply, as for any text to a client; a worker's
 * notification is never dropped by them. Returns the parts queued, or -1 with
 * err.
 */
static int queue_text(struct callback_service *cs, const char *to, const char *text, bool capped,
                      long long now, char *err)
{
    char contact[CRYPTO_CONTACT_KEY_HEX];
    struct flow_sms sms;
    int queued = 0;

    crypto_contact_key(cs->contact_key, to, contact);
    if (flow_render_sms(text, (size_t)cs->d.cfg->sms.max_segments, &sms) != 0) {
        err_set(err, "callback: cannot render a notification");
        return -1;
    }
    for (size_t i = 0; i < sms.n && queued >= 0; i++) {
        struct outbox_message m = {
            .gateway = cs->d.cfg->default_gateway,
            .contact_key = contact,
            .to = to,
            .body = sms.parts[i].text,
            .info = &sms.parts[i].info,
        };
        int allowed = capped ? outbox_allow(cs->d.outbox, contact, now, err) : 1;

        if (allowed < 0 || (allowed > 0 && outbox_enqueue(cs->d.outbox, &m, now, NULL, err) != 0))
            queued = -1;
        else
            queued += allowed;
    }
    flow_sms_release(&sms);
    return queued;
}

/*
 * A worker's text: what (never the client's number, topic or meeting place)
 * and, with link and a public_url, the link to the worker page. 0, or -1 if
 * it does not fit.
 */
static int worker_text(const struct config *cfg, const char *what, bool link,
                       char out[WORKER_TEXT_MAX])
{
    size_t n = link ? strlen(cfg->public_url) : 0;
    int len;

    while (n > 0 && cfg->public_url[n - 1] == '/')
        n--;
    if (n > 0)
        len = snprintf(out, WORKER_TEXT_MAX, "%s %.*s/worker", what, (int)n, cfg->public_url);
    else
        len = snprintf(out, WORKER_TEXT_MAX, "%s", what);
    return len >= 0 && len < WORKER_TEXT_MAX ? 0 : -1;
}

/* The window as the Finnish workers say it. */
static const char *window_fi(const char *window)
{
    if (strcmp(window, "today") == 0)
        return "tänään";
    if (strcmp(window, "tomorrow") == 0)
        return "huomenna";
    return "nyt";
}

/* Texts a worker (on call or lead); what is formatted by the caller. Parts queued, or -1. */
static int text_worker(struct callback_service *cs, const char *to, const char *what, bool link,
                       long long now, char *err)
{
    char text[WORKER_TEXT_MAX];

    if (worker_text(cs->d.cfg, what, link, text) != 0) {
        err_set(err, "callback: a worker's text is too long (public_url?)");
        return -1;
    }
    return queue_text(cs, to, text, false, now, err);
}

/* ---- Filing ----------------------------------------------------------------------------- */

/* Binds plain sealed under aad at idx, or NULL when absent; SQLite frees the sealed copy. */
static int bind_sealed(struct callback_service *cs, sqlite3_stmt *st, int idx, const char *plain,
                       const char *aad, char *err)
{
    uint8_t *sealed;
    size_t len;

    if (!present(plain)) {
        sqlite3_bind_null(st, idx);
        return 0;
    }
    if (crypto_seal(cs->number_key, plain, strlen(plain), aad, &sealed, &len) != 0) {
        err_set(err, "callback: cannot encrypt %s", aad);
        return -1;
    }
    if (sqlite3_bind_blob(st, idx, sealed, (int)len, free) != SQLITE_OK) {
        err_set(err, "callback: bind %s: %s", aad, sqlite3_errmsg(cs->d.db));
        return -1;
    }
    return 0;
}

static int request_check(const struct callback_request *req, char *err)
{
    if (!present(req->ref) || !present(req->team) || !present(req->city) || !present(req->lang) ||
        !present(req->sender) || req->window == NULL) {
        err_set(err, "callback %s: incomplete request", present(req->ref) ? req->ref : "?");
        return -1;
    }
    if (strcmp(req->window, "now") != 0 && strcmp(req->window, "today") != 0 &&
        strcmp(req->window, "tomorrow") != 0) {
        err_set(err, "callback %s: unknown window '%.20s'", req->ref, req->window);
        return -1;
    }
    return 0;
}

static int insert_request(struct callback_service *cs, const struct callback_request *req,
                          long long now, char *err)
{
    const struct config *cfg = cs->d.cfg;
    sqlite3_stmt *st = cs->insert;
    char contact[CRYPTO_CONTACT_KEY_HEX];
    int rc;

    crypto_contact_key(cs->contact_key, req->sender, contact);
    sqlite3_bind_text(st, 1, req->ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->team, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, req->city, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, req->lang, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, req->window, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, contact, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, req->sender_safe);
    sqlite3_bind_int64(st, 12, now);
    sqlite3_bind_int64(st, 13, req->due_at);
    sqlite3_bind_int64(st, 14, now + cfg->callbacks.remind_after);
    sqlite3_bind_int64(st, 15, now + cfg->callbacks.retention_days * 86400LL);
    /* The sender's own number is kept only to tell them when we fail, and only if they said
     * it is safe to text. */
    if (bind_sealed(cs, st, 7, req->number, AAD_NUMBER, err) != 0 ||
        bind_sealed(cs, st, 8, req->meet, AAD_MEET, err) != 0 ||
        bind_sealed(cs, st, 9, req->topic, AAD_TOPIC, err) != 0 ||
        bind_sealed(cs, st, 11, req->sender_safe ? req->sender : NULL, AAD_SENDER, err) != 0)
        return db_stmt_done(st, -1);
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        err_set(err, "callback %s: an open request already has this reference", req->ref);
    else if (rc != SQLITE_DONE)
        err_set(err, "callback %s: insert: %s", req->ref, sqlite3_errmsg(cs->d.db));
    return db_stmt_done(st, rc == SQLITE_DONE ? 0 : -1);
}

int callback_file(struct callback_service *cs, const struct callback_request *req, long long now,
                  char *err)
{
    const struct team *t;
    char what[160];

    if (request_check(req, err) != 0)
        return -1;
    if ((t = team_find(cs->d.teams, req->team)) == NULL) {
        err_set(err, "callback %s: unknown team '%.48s'", req->ref, req->team);
        return -1;
    }
    if (insert_request(cs, req, now, err) != 0)
        return -1;
    snprintf(what, sizeof(what), "Katto: uusi soittopyyntö %s, %s, %s.", req->ref, req->city,
             window_fi(req->window));
    if (text_worker(cs, t->on_call[0], what, true, now, err) < 0)
        return -1;
    count(cs, "filed", 1);
    return 0;
}

/* ---- Reminders and escalations ---------------------------------------------------------- */

static void due_read(sqlite3_stmt *st, struct due *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->ref = (const char *)sqlite3_column_text(st, 1);
    r->team = (const char *)sqlite3_column_text(st, 2);
    r->city = (const char *)sqlite3_column_text(st, 3);
    r->lang = (const char *)sqlite3_column_text(st, 4);
    r->notified = sqlite3_column_int64(st, 5);
    r->notify_sender = sqlite3_column_int(st, 6) == 1;
    r->sender_enc = sqlite3_column_blob(st, 7);
    r->sender_len = (size_t)sqlite3_column_bytes(st, 7);
}

static int set_reminder(struct callback_service *cs, long long id, int sent, long long at,
                        char *err)
{
    sqlite3_bind_int64(cs->remind_set, 1, id);
    sqlite3_bind_int(cs->remind_set, 2, sent);
    sqlite3_bind_int64(cs->remind_set, 3, at);
    return run(cs, cs->remind_set, "reminder", err);
}

/* Ends the chase: no more reminders, and no second escalation. */
static int set_escalated(struct callback_service *cs, long long id, long long now, char *err)
{
    sqlite3_bind_int64(cs->escalate_set, 1, id);
    sqlite3_bind_int64(cs->escalate_set, 2, now);
    return run(cs, cs->escalate_set, "escalation", err);
}

/* A request whose team was removed from the configuration: nobody to text, so stop at once
 * rather than meet it again on every tick. */
static int give_up(struct callback_service *cs, const struct due *r, long long now, char *err)
{
    log_warn("callback.unknown_team",
             "ref=%s team=%s effect=\"no reminder or escalation: the team is not configured\"",
             r->ref, r->team);
    return set_escalated(cs, r->id, now, err);
}

static int remind_one(struct callback_service *cs, const struct due *r, long long now, char *err)
{
    const struct team *t = team_find(cs->d.teams, r->team);
    long remind_after = cs->d.cfg->callbacks.remind_after;
    long long opens = 0;
    char what[160];
    int n;

    if (t == NULL)
        return give_up(cs, r, now, err) != 0 ? -1 : 0;
    if (!hours_open_at(t->hours, now, &opens)) {
        /* Nobody on call is at work: no texts at night; the next shift gets its reminder
         * remind_after into the shift, time to claim the request first. */
        return set_reminder(cs, r->id, 0, (opens != 0 ? opens : now) + remind_after, err);
    }
    snprintf(what, sizeof(what), "Katto: muistutus: soittopyyntö %s (%s) odottaa ottajaa.", r->ref,
             r->city);
    /* Round robin: the first notification went to on_call[0], each reminder to the next. */
    n = text_worker(cs, t->on_call[(size_t)(r->notified > 0 ? r->notified : 0) % t->non_call], what,
                    true, now, err);
    if (n < 0 || set_reminder(cs, r->id, 1, now + remind_after, err) != 0)
        return -1;
    count(cs, "reminded", 1);
    return n;
}

/* 1 if contact said STOP (nothing more is sent to them), 0 if not, -1 with err. */
static int opted_out(struct callback_service *cs, const char *contact, char *err)
{
    sqlite3_bind_text(cs->opted_out, 1, contact, -1, SQLITE_STATIC);
    return db_exists(cs->opted_out, "callback: opt-out lookup", err);
}

/*
 * The client's honest message in their language (else the helpline's first):
 * the overdue text with the reference, and on a line of its own the city's
 * social emergency number (or the 112 line). Owned, or NULL.
 */
static char *overdue_text(struct callback_service *cs, const struct due *r, long long now)
{
    const struct flow_set *fs = cs->d.flows != NULL ? *cs->d.flows : NULL;
    const struct directory *dir = cs->d.services != NULL ? *cs->d.services : NULL;
    const char *texts[FLOW_TEXT_COUNT], *fallback;
    const char *const pairs[] = {"ref", r->ref, NULL};
    struct buf b;

    if (fs == NULL)
        return NULL;
    fallback = fs->global.nlanguages > 0 ? fs->global.languages[0] : NULL;
    for (int i = 0; i < FLOW_TEXT_COUNT; i++)
        texts[i] = flow_text_get(&fs->global.texts[i], r->lang, fallback);
    buf_init(&b, CLIENT_TEXT_MAX);
    if (buf_put_template(&b, texts[FLOW_TEXT_CALLBACK_OVERDUE], pairs) != 0 ||
        buf_puts(&b, "\n") != 0 ||
        flow_nearest_social(&b, dir, r->city, r->lang, now, cs->d.cfg->services_max_age_days,
                            texts) != 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* Tells the client the window passed, if they may be texted. Parts queued, or -1 with err. */
static int tell_client(struct callback_service *cs, const struct due *r, long long now, char *err)
{
    char contact[CRYPTO_CONTACT_KEY_HEX], *sender, *text;
    size_t len;
    int n = 0, stopped;

    if (r->sender_enc == NULL ||
        crypto_open(cs->number_key, r->sender_enc, r->sender_len, AAD_SENDER, &sender, &len) != 0) {
        log_warn("callback.sender_unreadable", "ref=%s effect=\"the client is not told\"", r->ref);
        return 0;
    }
    crypto_contact_key(cs->contact_key, sender, contact);
    if ((stopped = opted_out(cs, contact, err)) != 0) {
        n = stopped < 0 ? -1 : 0;
    } else if ((text = overdue_text(cs, r, now)) == NULL) {
        err_set(err, "callback %s: cannot compose the client's message", r->ref);
        n = -1;
    } else {
        /* A capped message is dropped (and logged by the outbox); the escalation stands. */
        n = queue_text(cs, sender, text, true, now, err);
        free(text);
    }
    explicit_bzero(sender, len);
    free(sender);
    return n;
}

static int escalate_one(struct callback_service *cs, const struct due *r, long long now, char *err)
{
    const struct team *t = team_find(cs->d.teams, r->team);
    char what[160];
    int n = 0, k;

    if (t == NULL)
        return give_up(cs, r, now, err) != 0 ? -1 : 0;
    if (t->lead != NULL) {
        snprintf(what, sizeof(what),
                 "Katto: soittopyyntö %s (%s) ylitti luvatun ajan ilman soittoa.", r->ref, r->city);
        if ((k = text_worker(cs, t->lead, what, false, now, err)) < 0)
            return -1;
        n += k;
    }
    /* Only a client who said their number is safe to text is ever texted. */
    if (r->notify_sender) {
        if ((k = tell_client(cs, r, now, err)) < 0)
            return -1;
        n += k;
    }
    if (set_escalated(cs, r->id, now, err) != 0)
        return -1;
    count(cs, "escalated", 1);
    return n;
}

typedef int due_handler(struct callback_service *cs, const struct due *r, long long now, char *err);

/*
 * Handles the requests that st (one row at a time, bound to now) finds due,
 * at most TICK_LIMIT. A handled request no longer matches st, so the next
 * step finds the next one. Returns the messages queued, or -1 with err.
 */
static int each_due(struct callback_service *cs, sqlite3_stmt *st, due_handler *handle,
                    long long now, char *err)
{
    int sent = 0;

    for (int i = 0; i < TICK_LIMIT; i++) {
        struct due r;
        int rc, n;

        sqlite3_bind_int64(st, 1, now);
        if ((rc = sqlite3_step(st)) == SQLITE_DONE)
            return db_stmt_done(st, sent);
        if (rc != SQLITE_ROW) {
            err_set(err, "callback: due requests: %s", sqlite3_errmsg(cs->d.db));
            return db_stmt_done(st, -1);
        }
        /* The row stays valid while it is handled: st is only reset afterwards. */
        due_read(st, &r);
        n = handle(cs, &r, now, err);
        db_stmt_done(st, 0);
        if (n < 0)
            return -1;
        sent += n;
    }
    return sent;
}

int callback_tick(struct callback_service *cs, long long now, char *err)
{
    int reminded, escalated;

    /* Escalations first: once the promised window has passed, the lead is alerted and the
     * on-call workers get no further reminder for it. */
    sqlite3_bind_int64(cs->settle, 1, now);
    if (run(cs, cs->settle, "settle reminders", err) != 0 ||
        (escalated = each_due(cs, cs->escalate_due, escalate_one, now, err)) < 0 ||
        (reminded = each_due(cs, cs->remind_due, remind_one, now, err)) < 0)
        return -1;
    return escalated + reminded;
}

/* ---- Retention and erasure -------------------------------------------------------------- */

/* The topic in clear, for the anonymous row that remains; NULL if none or unreadable. */
static char *open_topic(struct callback_service *cs, const void *sealed, int len)
{
    char *topic = NULL;
    size_t n;

    if (sealed == NULL ||
        crypto_open(cs->number_key, sealed, (size_t)len, AAD_TOPIC, &topic, &n) != 0)
        return NULL;
    return topic;
}

static int wipe(struct callback_service *cs, long long id, const char *topic, long long now,
                char *err)
{
    sqlite3_bind_int64(cs->purge_set, 1, id);
    sqlite3_bind_int64(cs->purge_set, 2, now);
    if (topic != NULL)
        sqlite3_bind_text(cs->purge_set, 3, topic, -1, SQLITE_STATIC);
    return run(cs, cs->purge_set, "purge", err);
}

int callback_purge(struct callback_service *cs, long long now, int limit, char *err)
{
    int n = 0;

    while (n < limit) {
        char *topic = NULL;
        long long id;
        int rc;

        sqlite3_bind_int64(cs->purge_due, 1, now);
        if ((rc = sqlite3_step(cs->purge_due)) == SQLITE_DONE) {
            db_stmt_done(cs->purge_due, 0);
            break;
        }
        if (rc != SQLITE_ROW) {
            err_set(err, "callback: purge: %s", sqlite3_errmsg(cs->d.db));
            return db_stmt_done(cs->purge_due, -1);
        }
        id = sqlite3_column_int64(cs->purge_due, 0);
        if (sqlite3_column_int(cs->purge_due, 2) == 1) /* still open: closed now, as purged */
            topic = open_topic(cs, sqlite3_column_blob(cs->purge_due, 1),
                               sqlite3_column_bytes(cs->purge_due, 1));
        db_stmt_done(cs->purge_due, 0);
        rc = wipe(cs, id, topic, now, err);
        free(topic);
        if (rc != 0)
            return -1;
        n++;
    }
    count(cs, "purged", n);
    return n;
}

int callback_erase_contact(struct callback_service *cs, const char *contact_key, char *err)
{
    /* Another request merged into one of these would block the delete (foreign key): it
     * keeps everything but the link. */
    sqlite3_bind_text(cs->unmerge, 1, contact_key, -1, SQLITE_STATIC);
    if (run(cs, cs->unmerge, "erase", err) != 0)
        return -1;
    sqlite3_bind_text(cs->erase, 1, contact_key, -1, SQLITE_STATIC);
    return run(cs, cs->erase, "erase", err);
}

long callback_overdue_count(struct callback_service *cs, long long now)
{
    long n = -1;

    sqlite3_bind_int64(cs->overdue, 1, now);
    if (sqlite3_step(cs->overdue) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(cs->overdue, 0);
    return db_stmt_done(cs->overdue, 0) == 0 ? n : -1;
}
