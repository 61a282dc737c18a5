/*
 * outbox.c: the durable queue and its dispatcher (see outbox.h).
 *
 * A dispatch pass runs when something was queued (outbox_kick), when a send
 * finishes, and when the earliest retry falls due. It reads the due rows
 * whose client has no earlier message still queued, and starts a send for
 * each while there are free slots and rate-limit tokens. A send's result is
 * written through the group commit (batch.c); only then does the row leave
 * the in-flight set, so it is never sent twice by one process.
 */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "err.h"
#include "gateway_console.h"
#include "log.h"

#define DUE_BATCH 64               /* rows read per dispatch pass, besides those in flight */
#define BACKOFF_MAX (15 * 60)      /* longest wait between retries */
#define NUMBER_AAD "outbox.to_enc" /* binds the ciphertext to its column */

struct bucket {
    double tokens;
    struct timespec last;
};

struct send_job {
    struct outbox *o;
    long long id;
    const struct gateway_ops *ops;
    struct timespec started;
    struct gateway_send_result result;
    long long created_at;
    int attempts;           /* before this one */
    long long now;          /* when the result came */
    struct event *retry_ev; /* records the result again after a failed commit */
};

struct outbox {
    struct event_base *base;
    sqlite3 *db;
    struct batch *batch;
    struct http_client *http;
    struct metrics *metrics;
    const struct config *cfg;
    uint8_t key[CRYPTO_KEY_LEN];
    struct event *pass_ev, *timer_ev;
    long long *in_flight; /* row ids being sent */
    size_t nin_flight;
    struct bucket buckets[8]; /* per gateway, by index in gateway_all */
    sqlite3_stmt *due, *insert, *next_due, *depth, *count_get, *count_add, *erase, *report,
        *inline_body, *mark_sent, *mark_failed, *mark_retry, *expire, *has_queued, *cancel, *purge;
    long long expired_at; /* when expire() last ran: at most once a second */
    bool stopping;        /* no new sends */
    bool closing;         /* being freed: results are dropped (their rows stay queued) */
    uint64_t send_micros, sends_timed; /* send latency, for /metrics */
};

static long long now_s(void)
{
    return clock_now();
}

/* Resets a statement on every path so it never holds a read transaction open. */
static int gateway_index(const struct gateway_ops *ops)
{
    for (int i = 0; gateway_all[i] != NULL; i++) {
        if (gateway_all[i] == ops)
            return i;
    }
    return 0;
}

static bool in_flight(const struct outbox *o, long long id)
{
    for (size_t i = 0; i < o->nin_flight; i++) {
        if (o->in_flight[i] == id)
            return true;
    }
    return false;
}

static void in_flight_remove(struct outbox *o, long long id)
{
    for (size_t i = 0; i < o->nin_flight; i++) {
        if (o->in_flight[i] == id) {
            o->in_flight[i] = o->in_flight[--o->nin_flight];
            return;
        }
    }
}

/* Takes a token from the gateway's bucket; false if it must wait. */
static bool take_token(struct outbox *o, int g, double *wait)
{
    struct bucket *b = &o->buckets[g];
    struct timespec now;
    double rate = (double)o->cfg->outbox.rate, elapsed;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (b->last.tv_sec == 0) {
        b->tokens = rate;
    } else {
        elapsed =
            (double)(now.tv_sec - b->last.tv_sec) + (double)(now.tv_nsec - b->last.tv_nsec) / 1e9;
        b->tokens += elapsed * rate;
        if (b->tokens > rate)
            b->tokens = rate; /* a burst of at most one second's worth */
    }
    b->last = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    *wait = (1.0 - b->tokens) / rate;
    return false;
}

static void arm_timer(struct outbox *o, double seconds)
{
    struct timeval tv;

    if (seconds < 0.001)
        seconds = 0.001;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    /* Keep the earlier of the pending and the new deadline. */
    if (event_pending(o->timer_ev, EV_TIMEOUT, NULL)) {
        struct timeval pending, now_tv;

        event_pending(o->timer_ev, EV_TIMEOUT, &pending);
        event_base_gettimeofday_cached(o->base, &now_tv);
        double left = (double)(pending.tv_sec - now_tv.tv_sec) +
                      (double)(pending.tv_usec - now_tv.tv_usec) / 1e6;
        if (left <= seconds)
            return;
    }
    event_add(o->timer_ev, &tv);
}

/* Seconds to wait before retry number attempts (1-based), with jitter. */
static long backoff(long base, int attempts, long retry_after)
{
    unsigned int r;

    for (int i = 1; i < attempts && base < BACKOFF_MAX; i++)
        base *= 2;
    if (base > BACKOFF_MAX)
        base = BACKOFF_MAX;
    crypto_random(&r, sizeof(r));
    /* "Equal jitter": between half and all of the step, so retries of many
     * messages after one outage do not arrive at the gateway together. */
    long wait = base / 2 + (long)(r % (unsigned int)(base / 2 + 1));
    if (wait < 1)
        wait = 1;
    return retry_after > wait ? retry_after : wait;
}

static const char *outcome_label(enum gateway_send_outcome oc)
{
    return oc == GATEWAY_SEND_OK ? "ok" : oc == GATEWAY_SEND_RETRY ? "retry" : "failed";
}

/* Batch work: records a send's result on its row. */
static int record_result(sqlite3 *db, void *arg, char *err)
{
    struct send_job *j = arg;
    struct outbox *o = j->o;
    const struct gateway_send_result *res = &j->result;
    long long deadline = j->created_at + o->cfg->outbox.max_age;
    long wait = backoff(o->cfg->outbox.retry_base, j->attempts + 1, res->retry_after);
    /* Expired now, or the next try would fall after the deadline: fail it now. */
    bool expired = res->outcome == GATEWAY_SEND_RETRY && j->now + wait >= deadline;
    sqlite3_stmt *st;
    int rc;

    (void)db;
    if (res->outcome == GATEWAY_SEND_OK) {
        st = o->mark_sent;
        sqlite3_bind_text(st, 2, res->msg_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, res->segments);
    } else if (res->outcome == GATEWAY_SEND_FAIL || expired) {
        char why[sizeof(res->error) + 32];

        st = o->mark_failed;
        snprintf(why, sizeof(why), "%s%s", expired ? "expired: " : "", res->error);
        sqlite3_bind_text(st, 5, why, -1, SQLITE_TRANSIENT);
    } else {
        st = o->mark_retry;
        sqlite3_bind_text(st, 5, res->error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, j->now + wait);
    }
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int64(st, 3, j->now);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err_set(err, "outbox: record result of %lld: %s", j->id, sqlite3_errmsg(o->db));
    return db_stmt_done(st, rc == SQLITE_DONE ? 0 : -1);
}

static void result_recorded(int status, void *arg);

static void record_again(evutil_socket_t fd, short what, void *arg)
{
    struct send_job *j = arg;

    (void)fd;
    (void)what;
    event_free(j->retry_ev);
    j->retry_ev = NULL;
    if (j->o->closing || batch_submit(j->o->batch, record_result, result_recorded, j) != 0) {
        in_flight_remove(j->o, j->id);
        free(j);
    }
}

static void result_recorded(int status, void *arg)
{
    struct send_job *j = arg;
    struct outbox *o = j->o;
    struct timeval again = {1, 0};

    if (status != 0 && !o->closing) {
        /* The result is not on disk. The row must stay in flight until it is, or a
         * message the gateway accepted would be sent again: record it once more. */
        log_error("outbox.record_failed", "id=%lld retry_in=1s", j->id);
        if ((j->retry_ev = evtimer_new(o->base, record_again, j)) != NULL &&
            event_add(j->retry_ev, &again) == 0)
            return;
        if (j->retry_ev != NULL)
            event_free(j->retry_ev);
    }
    in_flight_remove(o, j->id);
    free(j);
    if (!o->closing)
        outbox_kick(o);
}

static void send_done(const struct http_result *res, void *arg)
{
    struct send_job *j = arg;
    struct outbox *o = j->o;
    char labels[96];
    struct timespec end;

    memset(&j->result, 0, sizeof(j->result));
    /* A 2xx means the gateway took the message, even if the body was cut short:
     * retrying would text the person twice. */
    if (res->curl_code != 0 && !(res->status >= 200 && res->status < 300)) {
        j->result.outcome = GATEWAY_SEND_RETRY;
        snprintf(j->result.error, sizeof(j->result.error), "transport: %s",
                 res->error != NULL ? res->error : "error");
    } else {
        j->ops->parse_send(res->status, res->body, res->body_len, res->retry_after, &j->result);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    j->now = now_s();
    snprintf(labels, sizeof(labels), "gateway=\"%s\",result=\"%s\"", j->ops->name,
             outcome_label(j->result.outcome));
    metrics_add(o->metrics, "katto_sends_total", labels, 1);
    if (j->result.outcome == GATEWAY_SEND_RETRY)
        metrics_add(o->metrics, "katto_send_retries_total", "", 1);
    o->send_micros += (uint64_t)((end.tv_sec - j->started.tv_sec) * 1000000 +
                                 (end.tv_nsec - j->started.tv_nsec) / 1000);
    o->sends_timed++;
    if (j->result.outcome != GATEWAY_SEND_OK)
        log_warn("outbox.send", "id=%lld gateway=%s result=%s attempt=%d http=%ld problem=\"%s\"",
                 j->id, j->ops->name, outcome_label(j->result.outcome), j->attempts + 1,
                 res->status, j->result.error);
    if (o->batch == NULL || batch_submit(o->batch, record_result, result_recorded, j) != 0) {
        in_flight_remove(o, j->id);
        free(j);
    }
}

/* Decrypts the number of a due row; owned, wiped by the caller. NULL if it cannot. */
static char *open_number(struct outbox *o, sqlite3_stmt *row, int col)
{
    const void *blob = sqlite3_column_blob(row, col);
    int n = sqlite3_column_bytes(row, col);
    char *plain = NULL;
    size_t len;

    if (blob == NULL || n <= 0 ||
        crypto_open(o->key, blob, (size_t)n, NUMBER_AAD, &plain, &len) != 0)
        return NULL;
    return plain;
}

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/*
 * The delivery-report URL for a gateway, when Katto's public URL is known.
 * Gateways that do not sign their webhooks get the route token in it.
 */
static void status_url(const struct outbox *o, const struct gateway_ops *ops, char *out, size_t cap)
{
    const struct config_gateways *g = &o->cfg->gateways;
    const char *token = ops == &gateway_46elks           ? g->elks.webhook_token
                        : ops == &gateway_africastalking ? g->africastalking.webhook_token
                                                         : "";

    out[0] = '\0';
    if (ops->status_path != NULL && o->cfg->public_url[0] != '\0')
        snprintf(out, cap, "%s%s%s%s", o->cfg->public_url, ops->status_path,
                 token[0] ? "?token=" : "", token);
}

/* Starts the send of one due row; false if it could not start (the row stays queued). */
/* Records a result decided without sending (console, or a row that cannot be sent). */
static bool record_now(struct outbox *o, struct send_job *j, enum gateway_send_outcome outcome,
                       const char *error)
{
    j->result.outcome = outcome;
    snprintf(j->result.error, sizeof(j->result.error), "%s", error);
    j->now = now_s();
    o->in_flight[o->nin_flight++] = j->id;
    if (batch_submit(o->batch, record_result, result_recorded, j) != 0) {
        in_flight_remove(o, j->id);
        free(j);
        return false;
    }
    return true;
}

/* Starts the send of one due row; false if it could not start (the row stays queued). */
static bool start_send(struct outbox *o, sqlite3_stmt *row, const struct gateway_ops *ops)
{
    struct gateway gw = {.ops = ops, .cfg = o->cfg};
    struct gateway_request req = {0};
    struct send_job *j;
    char err[ERR_LEN], surl[512];
    struct gateway_message msg;
    char *to;
    int rc;

    if ((j = calloc(1, sizeof(*j))) == NULL)
        return false;
    j->o = o;
    j->id = sqlite3_column_int64(row, 0);
    j->ops = ops;
    j->created_at = sqlite3_column_int64(row, 5);
    j->attempts = sqlite3_column_int(row, 6);
    clock_gettime(CLOCK_MONOTONIC, &j->started);
    if ((to = open_number(o, row, 3)) == NULL) {
        /* Never sendable (the secret was replaced?): fail it, so it blocks nobody. */
        log_error("outbox.undecryptable", "id=%lld", j->id);
        return record_now(o, j, GATEWAY_SEND_FAIL, "cannot decrypt the number");
    }
    status_url(o, ops, surl, sizeof(surl));
    msg = (struct gateway_message){
        .to = to,
        .from = "",
        .text = (const char *)sqlite3_column_text(row, 4),
        .status_url = surl[0] ? surl : NULL,
    };
    if (ops == &gateway_console) {
        char line[2048];

        /* The console gateway prints the message (number masked) and counts it as sent. */
        gateway_console_format(&msg, line, sizeof(line));
        printf("%s\n", line);
        fflush(stdout);
        wipe_free(to);
        snprintf(j->result.msg_id, sizeof(j->result.msg_id), "console-%lld", j->id);
        metrics_add(o->metrics, "katto_sends_total", "gateway=\"console\",result=\"ok\"", 1);
        return record_now(o, j, GATEWAY_SEND_OK, "");
    }
    rc = ops->build_send(&gw, &msg, &req, err);
    wipe_free(to);
    if (rc != 0) {
        /* Misconfiguration (credentials removed?): retry later with backoff, expire at
         * max_age, and say why on the row and in the log. */
        log_error("outbox.build_failed", "id=%lld gateway=%s problem=\"%s\"", j->id, ops->name,
                  err);
        return record_now(o, j, GATEWAY_SEND_RETRY, err);
    }
    struct http_client_request hr = {
        .method = "POST",
        .url = req.url,
        .headers = (const char *const *)req.headers,
        .nheaders = req.nheaders,
        .userpwd = req.userpwd,
        .body = req.body,
        .body_len = req.body_len,
        .timeout_ms = o->cfg->outbox.timeout * 1000,
    };
    rc = http_client_send(o->http, &hr, send_done, j);
    if (req.body != NULL)
        explicit_bzero(req.body, req.body_len); /* it holds the number */
    gateway_request_release(&req);
    if (rc != 0) {
        free(j);
        return false;
    }
    o->in_flight[o->nin_flight++] = j->id;
    return true;
}

/* Marks queued rows past max_age failed (and wipes their numbers), a chunk at a time. */
static void expire(struct outbox *o, long long now)
{
    sqlite3_bind_int64(o->expire, 1, now - o->cfg->outbox.max_age);
    sqlite3_bind_int64(o->expire, 2, now);
    if (sqlite3_step(o->expire) != SQLITE_DONE)
        log_error("outbox.expire", "problem=\"%s\"", sqlite3_errmsg(o->db));
    else if (sqlite3_changes(o->db) > 0)
        log_warn("outbox.expired", "messages=%d", sqlite3_changes(o->db));
    db_stmt_done(o->expire, 0);
}

/* One dispatch pass (see the file comment). */
static void pass(struct outbox *o)
{
    long long now = now_s();
    double wait = -1;

    if (o->stopping)
        return;
    /* The due query skips expired rows itself; marking them failed can wait a second. */
    if (now != o->expired_at) {
        expire(o, now);
        o->expired_at = now;
    }
    sqlite3_bind_int64(o->due, 1, now);
    /* The rows in flight are still queued and come first: read past them, or with more
     * slots than DUE_BATCH a pass would find nothing new while slots stand free. */
    sqlite3_bind_int64(o->due, 2, (sqlite3_int64)(o->nin_flight + DUE_BATCH));
    sqlite3_bind_int64(o->due, 3, now - o->cfg->outbox.max_age);
    while ((size_t)o->cfg->outbox.max_parallel > o->nin_flight &&
           sqlite3_step(o->due) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(o->due, 0);
        const struct gateway_ops *ops = gateway_find((const char *)sqlite3_column_text(o->due, 1));
        double w;

        if (in_flight(o, id))
            continue;
        if (ops == NULL)
            ops = &gateway_console; /* a gateway removed from the build: print, never lose */
        if (ops != &gateway_console && !take_token(o, gateway_index(ops), &w)) {
            wait = wait < 0 || w < wait ? w : wait;
            continue;
        }
        start_send(o, o->due, ops);
    }
    db_stmt_done(o->due, 0);
    if (wait >= 0)
        arm_timer(o, wait);
    /* The earliest retry still waiting. */
    sqlite3_bind_int64(o->next_due, 1, now);
    if (sqlite3_step(o->next_due) == SQLITE_ROW &&
        sqlite3_column_type(o->next_due, 0) != SQLITE_NULL)
        arm_timer(o, (double)(sqlite3_column_int64(o->next_due, 0) - now));
    db_stmt_done(o->next_due, 0);
}

static void pass_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pass(arg);
}

void outbox_kick(struct outbox *o)
{
    if (!o->stopping)
        event_active(o->pass_ev, EV_TIMEOUT, 0);
}

static double gauge_depth(void *arg)
{
    return (double)outbox_depth(arg);
}

static double gauge_in_flight(void *arg)
{
    return (double)((struct outbox *)arg)->nin_flight;
}

static double gauge_send_seconds(void *arg)
{
    return (double)((struct outbox *)arg)->send_micros / 1e6;
}

static double gauge_send_count(void *arg)
{
    return (double)((struct outbox *)arg)->sends_timed;
}

static int declare(struct outbox *o)
{
    struct metrics *m = o->metrics;

    return metrics_declare(m, "katto_outbox_depth", "gauge", "Messages queued, not yet sent.") ||
           metrics_gauge(m, "katto_outbox_depth", "", gauge_depth, o) ||
           metrics_declare(m, "katto_outbox_in_flight", "gauge", "Sends in progress.") ||
           metrics_gauge(m, "katto_outbox_in_flight", "", gauge_in_flight, o) ||
           metrics_declare(m, "katto_sends_total", "counter",
                           "Send attempts by gateway and result (ok, retry, failed).") ||
           metrics_declare(m, "katto_send_retries_total", "counter",
                           "Send attempts that will be retried.") ||
           metrics_declare(m, "katto_send_duration_seconds_sum", "counter",
                           "Total time of send requests, in seconds.") ||
           metrics_gauge(m, "katto_send_duration_seconds_sum", "", gauge_send_seconds, o) ||
           metrics_declare(m, "katto_send_duration_seconds_count", "counter",
                           "Number of timed send requests.") ||
           metrics_gauge(m, "katto_send_duration_seconds_count", "", gauge_send_count, o) ||
           metrics_declare(m, "katto_messages_capped_total", "counter",
                           "Outgoing messages dropped by an abuse cap, by cap.");
}

struct outbox *outbox_new(struct event_base *base, sqlite3 *db, struct batch *batch,
                          struct http_client *http, struct metrics *metrics,
                          const struct config *cfg, const uint8_t number_key[CRYPTO_KEY_LEN],
                          char *err)
{
    struct outbox *o = calloc(1, sizeof(*o));

    if (o == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    o->base = base;
    o->db = db;
    o->batch = batch;
    o->http = http;
    o->metrics = metrics;
    o->cfg = cfg;
    memcpy(o->key, number_key, CRYPTO_KEY_LEN);
    o->in_flight = calloc((size_t)cfg->outbox.max_parallel + 1, sizeof(*o->in_flight));
    o->pass_ev = event_new(base, -1, 0, pass_cb, o);
    o->timer_ev = evtimer_new(base, pass_cb, o);
    if (o->in_flight == NULL || o->pass_ev == NULL || o->timer_ev == NULL ||
        db_prepare(
            o->db,
            /* Due rows whose client has no earlier message still waiting: in order. */
            "SELECT id, gateway, contact_key, to_enc, body, created_at, attempts FROM outbox o "
            "WHERE status = 'queued' AND next_attempt_at <= ?1 AND created_at > ?3 "
            "AND NOT EXISTS ("
            "  SELECT 1 FROM outbox p WHERE p.contact_key = o.contact_key AND p.id < o.id"
            "  AND p.status = 'queued') ORDER BY next_attempt_at, id LIMIT ?2",
            &o->due, err) ||
        db_prepare(o->db,
                   "INSERT INTO outbox (created_at, updated_at, gateway, contact_key, to_enc, body,"
                   " segments, encoding, status, next_attempt_at, inline) "
                   "VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?1, ?9)",
                   &o->insert, err) ||
        db_prepare(o->db,
                   "SELECT min(next_attempt_at) FROM outbox WHERE status = 'queued' "
                   "AND next_attempt_at > ?1",
                   &o->next_due, err) ||
        db_prepare(o->db, "SELECT count(*), min(created_at) FROM outbox WHERE status = 'queued'",
                   &o->depth, err) ||
        db_prepare(o->db,
                   "SELECT coalesce(sum(CASE WHEN hour = ?2 THEN n END), 0), coalesce(sum(n), 0) "
                   "FROM send_counts WHERE contact_key = ?1 AND hour > ?2 - 24",
                   &o->count_get, err) ||
        db_prepare(o->db,
                   "INSERT INTO send_counts (contact_key, hour, n) VALUES (?1, ?2, 1) "
                   "ON CONFLICT (contact_key, hour) DO UPDATE SET n = n + 1",
                   &o->count_add, err) ||
        db_prepare(o->db, "DELETE FROM outbox WHERE contact_key = ?1", &o->erase, err) ||
        db_prepare(o->db,
                   /* Final states are never undone; "sent" never goes back to "queued". */
                   "UPDATE outbox SET status = ?3, error = nullif(?4, ''), updated_at = ?5, "
                   "to_enc = CASE WHEN ?3 IN ('delivered', 'failed', 'undelivered') THEN NULL "
                   "ELSE to_enc END "
                   "WHERE gateway = ?1 AND gateway_msg_id = ?2 AND status IN ('queued', 'sent') "
                   "AND NOT (?3 = 'sent' AND status = 'sent')",
                   &o->report, err) ||
        db_prepare(o->db, "SELECT body FROM outbox WHERE id = ?1 AND inline = 1", &o->inline_body,
                   err) ||
        db_prepare(o->db,
                   "UPDATE outbox SET status = 'sent', gateway_msg_id = nullif(?2, ''), "
                   "to_enc = NULL, attempts = attempts + 1, updated_at = ?3, error = NULL, "
                   "segments = CASE WHEN ?4 > 0 THEN ?4 ELSE segments END "
                   "WHERE id = ?1 AND status = 'queued'",
                   &o->mark_sent, err) ||
        db_prepare(o->db,
                   "UPDATE outbox SET status = 'failed', to_enc = NULL, attempts = attempts + 1, "
                   "updated_at = ?3, error = ?5 WHERE id = ?1 AND status = 'queued'",
                   &o->mark_failed, err) ||
        db_prepare(o->db,
                   "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?6, "
                   "updated_at = ?3, error = ?5 WHERE id = ?1 AND status = 'queued'",
                   &o->mark_retry, err) ||
        db_prepare(o->db,
                   "UPDATE outbox SET status = 'failed', to_enc = NULL, updated_at = ?2, "
                   "error = 'expired: not sent within outbox.max_age' WHERE id IN (SELECT id FROM "
                   "outbox WHERE status = 'queued' AND created_at <= ?1 LIMIT 500)",
                   &o->expire, err) ||
        db_prepare(o->db,
                   "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status IN "
                   "('sent', 'delivered', 'failed', 'undelivered') AND updated_at < ?1 LIMIT ?2)",
                   &o->purge, err) ||
        db_prepare(o->db,
                   "SELECT 1 FROM outbox WHERE contact_key = ?1 AND status = 'queued' LIMIT 1",
                   &o->has_queued, err) ||
        db_prepare(
            o->db,
            "UPDATE outbox SET status = 'failed', to_enc = NULL, updated_at = ?3, error = ?2 "
            "WHERE contact_key = ?1 AND status = 'queued'",
            &o->cancel, err) ||
        declare(o)) {
        if (err != NULL && err[0] == '\0')
            err_set(err, "out of memory");
        outbox_free(o);
        return NULL;
    }
    /* Whatever was queued before a restart goes out now. */
    outbox_kick(o);
    return o;
}

void outbox_stop(struct outbox *o)
{
    o->stopping = true;
}

void outbox_free(struct outbox *o)
{
    if (o == NULL)
        return;
    o->stopping = o->closing = true;
    sqlite3_stmt *all[] = {o->due,         o->insert,     o->next_due,    o->depth,
                           o->count_get,   o->count_add,  o->erase,       o->report,
                           o->inline_body, o->mark_sent,  o->mark_failed, o->mark_retry,
                           o->expire,      o->has_queued, o->cancel,      o->purge};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    if (o->pass_ev != NULL)
        event_free(o->pass_ev);
    if (o->timer_ev != NULL)
        event_free(o->timer_ev);
    free(o->in_flight);
    explicit_bzero(o->key, sizeof(o->key));
    free(o);
}

int outbox_enqueue(struct outbox *o, const struct outbox_message *msg, long long now, long long *id,
                   char *err)
{
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    int rc;

    if (!msg->inline_sent &&
        crypto_seal(o->key, msg->to, strlen(msg->to), NUMBER_AAD, &sealed, &sealed_len) != 0) {
        err_set(err, "outbox: cannot encrypt the number");
        return -1;
    }
    sqlite3_bind_int64(o->insert, 1, now);
    sqlite3_bind_text(o->insert, 2, msg->gateway, -1, SQLITE_STATIC);
    sqlite3_bind_text(o->insert, 3, msg->contact_key, -1, SQLITE_STATIC);
    if (sealed != NULL)
        sqlite3_bind_blob(o->insert, 4, sealed, (int)sealed_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(o->insert, 4);
    sqlite3_bind_text(o->insert, 5, msg->body, -1, SQLITE_STATIC);
    sqlite3_bind_int(o->insert, 6, (int)msg->info->segments);
    sqlite3_bind_text(o->insert, 7, msg->info->encoding == GSM7_ENC_GSM7 ? "gsm7" : "ucs2", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(o->insert, 8, msg->inline_sent ? "sent" : "queued", -1, SQLITE_STATIC);
    sqlite3_bind_int(o->insert, 9, msg->inline_sent);
    rc = sqlite3_step(o->insert);
    if (rc != SQLITE_DONE)
        err_set(err, "outbox: insert: %s", sqlite3_errmsg(o->db));
    else if (id != NULL)
        *id = sqlite3_last_insert_rowid(o->db);
    db_stmt_done(o->insert, 0);
    free(sealed);
    return rc == SQLITE_DONE ? 0 : -1;
}

int outbox_allow(struct outbox *o, const char *contact_key, long long now, char *err)
{
    const struct config_abuse *cap = &o->cfg->abuse;
    long long hour = now / 3600, n_hour, n_day, all_day;
    const char *which = NULL;
    char labels[64];

    sqlite3_bind_text(o->count_get, 1, contact_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(o->count_get, 2, hour);
    if (sqlite3_step(o->count_get) != SQLITE_ROW) {
        err_set(err, "outbox: count: %s", sqlite3_errmsg(o->db));
        return db_stmt_done(o->count_get, -1);
    }
    n_hour = sqlite3_column_int64(o->count_get, 0);
    n_day = sqlite3_column_int64(o->count_get, 1);
    db_stmt_done(o->count_get, 0);
    sqlite3_bind_text(o->count_get, 1, "*", -1, SQLITE_STATIC);
    sqlite3_bind_int64(o->count_get, 2, hour);
    if (sqlite3_step(o->count_get) != SQLITE_ROW) {
        err_set(err, "outbox: count: %s", sqlite3_errmsg(o->db));
        return db_stmt_done(o->count_get, -1);
    }
    all_day = sqlite3_column_int64(o->count_get, 1);
    db_stmt_done(o->count_get, 0);
    if (n_hour >= cap->per_number_hour)
        which = "per_number_hour";
    else if (n_day >= cap->per_number_day)
        which = "per_number_day";
    else if (all_day >= cap->global_day)
        which = "global_day";
    if (which != NULL) {
        snprintf(labels, sizeof(labels), "cap=\"%s\"", which);
        metrics_add(o->metrics, "katto_messages_capped_total", labels, 1);
        log_warn("outbox.capped", "cap=%s contact=%.8s", which, contact_key);
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        sqlite3_bind_text(o->count_add, 1, i == 0 ? contact_key : "*", -1, SQLITE_STATIC);
        sqlite3_bind_int64(o->count_add, 2, hour);
        if (sqlite3_step(o->count_add) != SQLITE_DONE) {
            err_set(err, "outbox: count: %s", sqlite3_errmsg(o->db));
            return db_stmt_done(o->count_add, -1);
        }
        db_stmt_done(o->count_add, 0);
    }
    return 1;
}

int outbox_report(struct outbox *o, const char *gateway, const struct gateway_status *st,
                  long long now, char *err)
{
    static const char *const names[] = {
        [GATEWAY_DELIVERY_QUEUED] = NULL,
        [GATEWAY_DELIVERY_SENT] = "sent",
        [GATEWAY_DELIVERY_DELIVERED] = "delivered",
        [GATEWAY_DELIVERY_FAILED] = "failed",
        [GATEWAY_DELIVERY_UNDELIVERED] = "undelivered",
        [GATEWAY_DELIVERY_UNKNOWN] = NULL,
    };
    const char *status = names[st->delivery];
    int rc;

    if (status == NULL || st->msg_id[0] == '\0')
        return 0; /* transient, unknown, or no id to match: nothing to record */
    sqlite3_bind_text(o->report, 1, gateway, -1, SQLITE_STATIC);
    sqlite3_bind_text(o->report, 2, st->msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(o->report, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(o->report, 4, st->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(o->report, 5, now);
    rc = sqlite3_step(o->report);
    if (rc != SQLITE_DONE)
        err_set(err, "outbox: report: %s", sqlite3_errmsg(o->db));
    db_stmt_done(o->report, 0);
    return rc == SQLITE_DONE ? sqlite3_changes(o->db) : -1;
}

int outbox_erase_contact(struct outbox *o, const char *contact_key, char *err)
{
    int rc;

    sqlite3_bind_text(o->erase, 1, contact_key, -1, SQLITE_STATIC);
    rc = sqlite3_step(o->erase);
    if (rc != SQLITE_DONE)
        err_set(err, "outbox: erase: %s", sqlite3_errmsg(o->db));
    return db_stmt_done(o->erase, rc == SQLITE_DONE ? 0 : -1);
}

int outbox_has_queued(struct outbox *o, const char *contact_key)
{
    int found;

    sqlite3_bind_text(o->has_queued, 1, contact_key, -1, SQLITE_STATIC);
    found = sqlite3_step(o->has_queued) == SQLITE_ROW;
    db_stmt_done(o->has_queued, 0);
    return found;
}

int outbox_cancel_contact(struct outbox *o, const char *contact_key, const char *reason,
                          long long now, char *err)
{
    int rc;

    sqlite3_bind_text(o->cancel, 1, contact_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(o->cancel, 2, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(o->cancel, 3, now);
    rc = sqlite3_step(o->cancel);
    if (rc != SQLITE_DONE)
        err_set(err, "outbox: cancel: %s", sqlite3_errmsg(o->db));
    return db_stmt_done(o->cancel, rc == SQLITE_DONE ? 0 : -1);
}

int outbox_purge(struct outbox *o, long long now, int limit, char *err)
{
    int rc;

    sqlite3_bind_int64(o->purge, 1, now - o->cfg->outbox.keep_days * 86400);
    sqlite3_bind_int(o->purge, 2, limit);
    rc = sqlite3_step(o->purge);
    if (rc != SQLITE_DONE)
        err_set(err, "outbox: purge: %s", sqlite3_errmsg(o->db));
    db_stmt_done(o->purge, 0);
    return rc == SQLITE_DONE ? sqlite3_changes(o->db) : -1;
}

char *outbox_inline_body(struct outbox *o, long long id)
{
    char *body = NULL;

    sqlite3_bind_int64(o->inline_body, 1, id);
    if (sqlite3_step(o->inline_body) == SQLITE_ROW)
        body = strdup((const char *)sqlite3_column_text(o->inline_body, 0));
    db_stmt_done(o->inline_body, 0);
    return body;
}

long long outbox_depth(struct outbox *o)
{
    long long n = 0;

    if (sqlite3_step(o->depth) == SQLITE_ROW)
        n = sqlite3_column_int64(o->depth, 0);
    db_stmt_done(o->depth, 0);
    return n;
}

long long outbox_oldest_queued(struct outbox *o)
{
    long long t = 0;

    if (sqlite3_step(o->depth) == SQLITE_ROW && sqlite3_column_type(o->depth, 1) != SQLITE_NULL)
        t = sqlite3_column_int64(o->depth, 1);
    db_stmt_done(o->depth, 0);
    return t;
}

size_t outbox_in_flight(const struct outbox *o)
{
    return o->nin_flight;
}
