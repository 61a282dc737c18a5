/* sms_channel.c: inbound SMS and delivery-report webhooks (see sms_channel.h). */
#include "sms_channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "err.h"
#include "flow_engine.h"
#include "flow_render.h"
#include "gateway.h"
#include "log.h"
#include "utf8.h"

/*
 * The answer to a message that could not be stored, where the gateway does
 * not retry and its answer can carry a text (Twilio). GSM-7, one SMS.
 */
#define SMS_NOT_STORED                                                                             \
    "Viestisi ei tullut perille. Lähetä se hetken päästä uudelleen. Ditt sms kom inte fram, " \
    "skicka det igen om en stund. Please send it again shortly."

struct sms_channel {
    struct sms_channel_deps d;
    uint8_t contact_key[CRYPTO_KEY_LEN];
    sqlite3_stmt *seen_insert, *seen_reply, *seen_set_reply, *seen_purge, *opted_out, *opt_out,
        *opt_in;
    /* One route context per gateway route, so a handler knows its gateway. */
    struct route {
        struct sms_channel *ch;
        const struct gateway_ops *ops;
    } routes[16];
    size_t nroutes;
};

/* One webhook, from parsing to its answer. */
struct job {
    struct sms_channel *ch;
    struct http_exchange *ex;
    const struct gateway_ops *ops;
    struct gateway_inbound in;
    struct gateway_status status;
    bool is_status;
    char contact[CRYPTO_CONTACT_KEY_HEX];
    char number[GATEWAY_NUMBER_MAX];
    struct flow_set *flows; /* a reference held until the job is done */
    bool duplicate;
    bool report_early; /* a delivery report for a send not yet recorded */
    char *inline_text; /* reply to put in the webhook's answer (46elks), owned */
};

static long long now_s(void)
{
    return clock_now();
}

static void count(struct sms_channel *ch, const struct gateway_ops *ops, const char *result)
{
    char labels[96];

    snprintf(labels, sizeof(labels), "gateway=\"%s\",result=\"%s\"", ops->name, result);
    metrics_add(ch->d.metrics, "katto_inbound_total", labels, 1);
}

static void job_free(struct job *j)
{
    if (j == NULL)
        return;
    gateway_inbound_release(&j->in);
    flow_set_unref(j->flows);
    free(j->inline_text);
    explicit_bzero(j->number, sizeof(j->number));
    free(j);
}

static int exec1(sqlite3_stmt *st, const char *what, sqlite3 *db, char *err)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        err_set(err, "%s: %s", what, sqlite3_errmsg(db));
    return db_stmt_done(st, rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1);
}

static int apply_effects(struct job *j, const struct flow_reply *r, long long now, bool *erased,
                         char *err)
{
    struct sms_channel *ch = j->ch;

    for (size_t i = 0; i < r->neffects; i++) {
        switch (r->effects[i].kind) {
        case FLOW_EFFECT_OPT_OUT:
            /* Nothing more after STOP: replies still waiting are cancelled too. */
            sqlite3_bind_text(ch->opt_out, 1, j->contact, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ch->opt_out, 2, now);
            if (exec1(ch->opt_out, "opt out", ch->d.db, err) != 0 ||
                outbox_cancel_contact(ch->d.outbox, j->contact, "opted out", now, err) != 0)
                return -1;
            break;
        case FLOW_EFFECT_OPT_IN:
            sqlite3_bind_text(ch->opt_in, 1, j->contact, -1, SQLITE_STATIC);
            if (exec1(ch->opt_in, "opt in", ch->d.db, err) != 0)
                return -1;
            break;
        case FLOW_EFFECT_ERASE:
            /* Everything tied to this number goes; the confirmation is queued after. */
            sqlite3_bind_text(ch->opt_in, 1, j->contact, -1, SQLITE_STATIC);
            if (exec1(ch->opt_in, "erase opt-out", ch->d.db, err) != 0 ||
                session_delete(ch->d.sessions, j->contact, err) != 0 ||
                outbox_erase_contact(ch->d.outbox, j->contact, err) != 0 ||
                contact_log_erase(ch->d.log, j->number, now, err) != 0 ||
                (ch->d.callbacks != NULL &&
                 callback_erase_contact(ch->d.callbacks, j->contact, err) != 0))
                return -1;
            *erased = true;
            break;
        case FLOW_EFFECT_CALLBACK_FILED:
            if (sms_channel_file_callback(&ch->d, &r->callback, j->number, now, err) != 0)
                return -1;
            break;
        default: break;
        }
    }
    return 0;
}

/* Queues the reply as SMS parts; the first may go inline in the webhook answer. */
static int queue_reply(struct job *j, const char *text, bool crisis, long long now, char *err)
{
    struct sms_channel *ch = j->ch;
    const struct config *cfg = ch->d.cfg;
    /* Inline only when nothing older is waiting for this client: replies stay in order. */
    bool inline_ok = j->ops == &gateway_46elks && cfg->gateways.elks.inline_reply &&
                     !outbox_has_queued(ch->d.outbox, j->contact);
    struct flow_sms sms;
    int rc = 0;

    if (flow_render_sms(text, (size_t)cfg->sms.max_segments, &sms) != 0) {
        err_set(err, "cannot render the reply");
        return -1;
    }
    for (size_t i = 0; i < sms.n && rc == 0; i++) {
        struct outbox_message m = {
            .gateway = j->ops->name,
            .contact_key = j->contact,
            .to = j->number,
            .body = sms.parts[i].text,
            .info = &sms.parts[i].info,
            .inline_sent = inline_ok && i == 0,
        };
        long long id;
        /* An answer to crisis words always goes out; it still counts towards the caps. */
        int allowed = outbox_allow(ch->d.outbox, j->contact, now, err);

        if (crisis && allowed == 0)
            allowed = 1;

        if (allowed < 0) {
            rc = -1;
        } else if (allowed > 0) {
            rc = outbox_enqueue(ch->d.outbox, &m, now, &id, err);
            if (rc == 0 && m.inline_sent) {
                if ((j->inline_text = strdup(m.body)) == NULL) {
                    err_set(err, "out of memory");
                    rc = -1;
                    break;
                }
                sqlite3_bind_int64(ch->seen_set_reply, 1, id);
                sqlite3_bind_text(ch->seen_set_reply, 2, j->ops->name, -1, SQLITE_STATIC);
                sqlite3_bind_text(ch->seen_set_reply, 3, j->in.msg_id, -1, SQLITE_STATIC);
                rc = exec1(ch->seen_set_reply, "record inline reply", ch->d.db, err);
            }
        }
    }
    flow_sms_release(&sms);
    return rc;
}

/* Batch work for an inbound message: everything in one transaction. */
static int handle_inbound(sqlite3 *db, void *arg, char *err)
{
    struct job *j = arg;
    struct sms_channel *ch = j->ch;
    const struct config *cfg = ch->d.cfg;
    long long now = now_s();
    struct flow_session s;
    struct flow_reply r;
    bool opted_out, erased = false;
    int rc;

    sqlite3_bind_text(ch->seen_insert, 1, j->ops->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(ch->seen_insert, 2, j->in.msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ch->seen_insert, 3, now);
    rc = sqlite3_step(ch->seen_insert);
    db_stmt_done(ch->seen_insert, 0);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        /* A retry of a message already answered: same answer, no second reply. */
        j->duplicate = true;
        sqlite3_bind_text(ch->seen_reply, 1, j->ops->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ch->seen_reply, 2, j->in.msg_id, -1, SQLITE_STATIC);
        if (sqlite3_step(ch->seen_reply) == SQLITE_ROW &&
            sqlite3_column_type(ch->seen_reply, 0) != SQLITE_NULL)
            j->inline_text =
                outbox_inline_body(ch->d.outbox, sqlite3_column_int64(ch->seen_reply, 0));
        db_stmt_done(ch->seen_reply, 0);
        return 0;
    }
    if (rc != SQLITE_DONE) {
        err_set(err, "dedupe: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(ch->opted_out, 1, j->contact, -1, SQLITE_STATIC);
    if ((rc = db_exists(ch->opted_out, "opt-out lookup", err)) < 0)
        return -1;
    opted_out = rc == 1;
    if (session_load(ch->d.sessions, j->contact, now, &s, err) != 0)
        return -1;

    struct flow_env env = sms_channel_env(&ch->d, j->flows, FLOW_CHANNEL_SMS, now);
    struct flow_input input = {.text = j->in.text, .opted_out = opted_out};

    char city_before[FLOW_VAR_VALUE_MAX] = "";
    if (flow_session_var(&s, "city") != NULL)
        snprintf(city_before, sizeof(city_before), "%s", flow_session_var(&s, "city"));
    if (flow_engine_step(&env, &s, &input, &r) != 0) {
        err_set(err, "the flow engine could not answer");
        return -1;
    }
    struct contact_log_context lc = {
        .now = now,
        .channel = "sms",
        .gateway = j->ops->name,
        .e164 = j->number,
        .lang = s.lang[0] != '\0' ? s.lang : j->flows->global.languages[0],
        .city = flow_session_var(&s, "city"),
    };
    /* An ended conversation has forgotten the city: then log the one it had before. */
    if (lc.city == NULL && city_before[0] != '\0')
        lc.city = city_before;
    rc = apply_effects(j, &r, now, &erased, err);
    if (rc == 0)
        rc = contact_log_effects(ch->d.log, &lc, &r, err);
    if (rc == 0 && !erased)
        rc = session_save(ch->d.sessions, j->contact, &s, now, now + cfg->sms.session_timeout, err);
    bool crisis = false;
    for (size_t i = 0; i < r.neffects; i++)
        crisis |= r.effects[i].kind == FLOW_EFFECT_CRISIS;
    if (rc == 0 && r.text != NULL && r.text[0] != '\0')
        rc = queue_reply(j, r.text, crisis, now, err);
    flow_reply_release(&r);
    return rc;
}

static int handle_status(sqlite3 *db, void *arg, char *err)
{
    struct job *j = arg;
    int matched;

    (void)db;
    matched = outbox_report(j->ch->d.outbox, j->ops->name, &j->status, now_s(), err);
    /* A report can overtake the commit that records its send: with sends in flight, ask
     * the gateway to retry rather than lose a final state. */
    j->report_early = matched == 0 && outbox_in_flight(j->ch->d.outbox) > 0 &&
                      j->status.delivery != GATEWAY_DELIVERY_UNKNOWN &&
                      j->status.delivery != GATEWAY_DELIVERY_QUEUED;
    return matched < 0 ? -1 : 0;
}

/*
 * An inbound message that could not be stored (full disk, busy database, a
 * failed step). Nothing of it is on disk. A gateway that retries gets 503
 * and its retry is safe (the dedupe row was not written either). For one
 * that does not (Twilio), the message is lost: logged as an error and
 * counted, and where the answer can carry a text the sender is asked to send
 * it again; otherwise 503 is still the only chance of a retry or a fallback.
 */
static void not_stored(struct job *j)
{
    struct sms_channel *ch = j->ch;
    const char *reason = batch_failure_reason(ch->d.batch);
    struct gateway gw = {.ops = j->ops, .cfg = ch->d.cfg};
    struct gateway_ack ack = {0};
    char labels[96];

    count(ch, j->ops, "unavailable");
    if (j->is_status || j->ops->retries_webhooks) {
        log_warn("sms.unavailable", "gateway=%s reason=%s effect=\"503: the gateway retries\"",
                 j->ops->name, reason);
        http_exchange_error(j->ex, 503, "try again later");
        return;
    }
    snprintf(labels, sizeof(labels), "gateway=\"%s\",reason=\"%s\"", j->ops->name, reason);
    metrics_add(ch->d.metrics, "katto_inbound_lost_total", labels, 1);
    j->ops->ack_inbound(&gw, SMS_NOT_STORED, &ack);
    log_error("sms.inbound_lost", "gateway=%s reason=%s effect=\"%s\"", j->ops->name, reason,
              ack.body != NULL ? "lost: the sender was asked to send it again"
                               : "lost unless the gateway retries after 503");
    if (ack.body != NULL)
        http_exchange_reply(j->ex, ack.status, ack.content_type, ack.body, strlen(ack.body));
    else
        http_exchange_error(j->ex, 503, "try again later");
    gateway_ack_release(&ack);
}

static void finished(int status, void *arg)
{
    struct job *j = arg;
    struct gateway ack_gw = {.ops = j->ops, .cfg = j->ch->d.cfg};
    struct gateway_ack ack = {0};

    if (status != 0) {
        not_stored(j);
        job_free(j);
        return;
    }
    if (j->is_status && j->report_early) {
        count(j->ch, j->ops, "status_early");
        http_exchange_error(j->ex, 503, "try again later");
    } else if (j->is_status) {
        char labels[96];

        snprintf(labels, sizeof(labels), "gateway=\"%s\",status=\"%s\"", j->ops->name,
                 gateway_delivery_name(j->status.delivery));
        metrics_add(j->ch->d.metrics, "katto_delivery_reports_total", labels, 1);
        count(j->ch, j->ops, "status");
        http_exchange_reply(j->ex, 204, NULL, NULL, 0);
    } else {
        count(j->ch, j->ops, j->duplicate ? "duplicate" : "accepted");
        j->ops->ack_inbound(&ack_gw, j->inline_text, &ack);
        http_exchange_reply(j->ex, ack.status, ack.content_type, ack.body,
                            ack.body != NULL ? strlen(ack.body) : 0);
        gateway_ack_release(&ack);
        if (!j->duplicate)
            outbox_kick(j->ch->d.outbox);
    }
    job_free(j);
}

static const char *header_of(const void *ctx, const char *name)
{
    return http_exchange_header((const struct http_exchange *)ctx, name);
}

static bool content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    return ct != NULL && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

/* Common front of both webhooks: content type, signature, parsing. NULL if answered already. */
static struct job *accept_webhook(struct route *rt, struct http_exchange *ex, bool is_status,
                                  struct gateway_http *in, char *url, size_t urlcap)
{
    struct sms_channel *ch = rt->ch;
    const struct gateway_ops *ops = rt->ops;
    const char *host = http_exchange_header(ex, "Host");
    const char *uri = evhttp_request_get_uri(http_exchange_request(ex));
    const char *ct = http_exchange_header(ex, "Content-Type");
    bool json = ops == &gateway_gatewayapi;
    char err[ERR_LEN];
    struct job *j;

    /* Signatures cover the URL the gateway called: behind a proxy that is public_url. */
    if (ch->d.cfg->public_url[0] != '\0')
        snprintf(url, urlcap, "%s%s", ch->d.cfg->public_url, uri);
    else
        snprintf(url, urlcap, "http://%s%s", host != NULL ? host : "localhost", uri);
    memset(in, 0, sizeof(*in));
    in->public_url = url;
    in->query = http_exchange_query(ex);
    in->content_type = ct;
    in->header = header_of;
    in->header_ctx = ex;
    if ((in->body = http_exchange_body(ex, &in->body_len)) == NULL) {
        http_exchange_error(ex, 503, "out of memory");
        return NULL;
    }
    if (!content_type_is(ct, json ? "application/json" : "application/x-www-form-urlencoded")) {
        count(ch, ops, "malformed");
        http_exchange_error(ex, 415,
                            json ? "expected application/json"
                                 : "expected application/x-www-form-urlencoded");
        return NULL;
    }
    if (!json && gateway_parse_form(in, err) != 0) {
        count(ch, ops, "malformed");
        log_warn("sms.malformed", "gateway=%s problem=\"%s\"", ops->name, err);
        http_exchange_error(ex, 400, "malformed form body");
        return NULL;
    }
    if (ops->verify(&(struct gateway){.ops = ops, .cfg = ch->d.cfg}, in, err) != 0) {
        count(ch, ops, "bad_signature");
        log_warn("sms.bad_signature", "gateway=%s problem=\"%s\"", ops->name, err);
        http_exchange_error(ex, 403, "forbidden");
        return NULL;
    }
    if ((j = calloc(1, sizeof(*j))) == NULL) {
        http_exchange_error(ex, 503, "out of memory");
        return NULL;
    }
    j->ch = ch;
    j->ex = ex;
    j->ops = ops;
    j->is_status = is_status;
    return j;
}

static void sms_webhook(struct http_exchange *ex, void *arg)
{
    struct route *rt = arg;
    struct sms_channel *ch = rt->ch;
    struct gateway_http in;
    char url[2048], err[ERR_LEN];
    struct job *j = accept_webhook(rt, ex, false, &in, url, sizeof(url));

    if (j == NULL)
        goto out;
    err[0] = '\0';
    if (rt->ops->parse_inbound(&in, &j->in, err) != 0) {
        if (err[0] == '\0')
            err_set(err, "malformed message");
    } else if (gateway_normalise_number(j->in.from, j->number) != 0) {
        err_set(err, "sender is not a phone number");
    }
    if (err[0] != '\0') {
        count(ch, rt->ops, "malformed");
        log_warn("sms.malformed", "gateway=%s problem=\"%s\"", rt->ops->name, err);
        http_exchange_error(ex, 400, err);
        job_free(j);
        goto out;
    }
    crypto_contact_key(ch->contact_key, j->number, j->contact);
    j->flows = *ch->d.flows;
    flow_set_ref(j->flows);
    if (batch_submit(ch->d.batch, handle_inbound, finished, j) != 0) {
        http_exchange_error(ex, 503, "try again later");
        job_free(j);
    }
out:
    gateway_http_release(&in);
}

static void status_webhook(struct http_exchange *ex, void *arg)
{
    struct route *rt = arg;
    struct sms_channel *ch = rt->ch;
    struct gateway_http in;
    char url[2048], err[ERR_LEN];
    struct job *j = accept_webhook(rt, ex, true, &in, url, sizeof(url));

    if (j == NULL)
        goto out;
    if (rt->ops->parse_status(&in, &j->status, err) != 0) {
        count(ch, rt->ops, "malformed");
        http_exchange_error(ex, 400, err);
        job_free(j);
        goto out;
    }
    if (batch_submit(ch->d.batch, handle_status, finished, j) != 0) {
        http_exchange_error(ex, 503, "try again later");
        job_free(j);
    }
out:
    gateway_http_release(&in);
}

struct sms_channel *sms_channel_new(const struct sms_channel_deps *deps, struct http_server *http,
                                    char *err)
{
    struct sms_channel *ch = calloc(1, sizeof(*ch));

    if (ch == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    ch->d = *deps;
    memcpy(ch->contact_key, deps->contact_key, CRYPTO_KEY_LEN);
    if (db_prepare(ch->d.db,
                   "INSERT INTO inbound_seen (gateway, msg_id, seen_at) VALUES (?1, ?2, ?3)",
                   &ch->seen_insert, err) ||
        db_prepare(ch->d.db, "SELECT reply_id FROM inbound_seen WHERE gateway = ?1 AND msg_id = ?2",
                   &ch->seen_reply, err) ||
        db_prepare(ch->d.db,
                   "UPDATE inbound_seen SET reply_id = ?1 WHERE gateway = ?2 AND msg_id = ?3",
                   &ch->seen_set_reply, err) ||
        db_prepare(ch->d.db,
                   "DELETE FROM inbound_seen WHERE (gateway, msg_id) IN (SELECT gateway, msg_id "
                   "FROM inbound_seen WHERE seen_at < ?1 LIMIT ?2)",
                   &ch->seen_purge, err) ||
        db_prepare(ch->d.db, "SELECT 1 FROM opt_outs WHERE contact_key = ?1", &ch->opted_out,
                   err) ||
        db_prepare(ch->d.db,
                   "INSERT INTO opt_outs (contact_key, at) VALUES (?1, ?2) "
                   "ON CONFLICT (contact_key) DO UPDATE SET at = excluded.at",
                   &ch->opt_out, err) ||
        db_prepare(ch->d.db, "DELETE FROM opt_outs WHERE contact_key = ?1", &ch->opt_in, err)) {
        sms_channel_free(ch);
        return NULL;
    }
    metrics_declare(deps->metrics, "katto_inbound_lost_total", "counter",
                    "Inbound messages that could not be stored, from gateways that do not retry "
                    "webhooks (Twilio), by gateway and reason (disk_full, busy, io, error).");
    metrics_declare(deps->metrics, "katto_delivery_reports_total", "counter",
                    "Delivery reports by gateway and status.");
    metrics_declare(deps->metrics, "katto_inbound_total", "counter",
                    "Inbound webhooks by gateway and result (accepted, duplicate, status, "
                    "bad_signature, malformed, unavailable).");
    for (size_t i = 0; gateway_all[i] != NULL; i++) {
        const struct gateway_ops *ops = gateway_all[i];
        struct route *rt;

        if (ops->sms_path == NULL || !ops->configured(deps->cfg))
            continue;
        const struct config_gateways *g = &deps->cfg->gateways;
        const char *from = ops == &gateway_twilio           ? g->twilio.from
                           : ops == &gateway_46elks         ? g->elks.from
                           : ops == &gateway_gatewayapi     ? g->gatewayapi.from
                           : ops == &gateway_africastalking ? g->africastalking.from
                                                            : "-";
        if (from[0] == '\0')
            log_warn("sms.no_sender",
                     "gateway=%s problem=\"no 'from' configured: the gateway may refuse sends\"",
                     ops->name);
        if (!ops->can_verify(deps->cfg))
            log_warn("sms.unauthenticated",
                     "gateway=%s problem=\"no webhook secret or token configured: anyone can post "
                     "messages to this route\"",
                     ops->name);
        rt = &ch->routes[ch->nroutes++];
        rt->ch = ch;
        rt->ops = ops;
        if (http_server_route(http, ops->name, ops->sms_path, HTTP_POST, sms_webhook, rt) != 0 ||
            (ops->status_path != NULL && http_server_route(http, ops->name, ops->status_path,
                                                           HTTP_POST, status_webhook, rt) != 0)) {
            err_set(err, "out of memory");
            sms_channel_free(ch);
            return NULL;
        }
        log_info("sms.gateway", "gateway=%s route=%s eu=%s", ops->name, ops->sms_path,
                 ops->eu ? "yes" : "no");
    }
    return ch;
}

void sms_channel_free(struct sms_channel *ch)
{
    if (ch == NULL)
        return;
    sqlite3_finalize(ch->seen_insert);
    sqlite3_finalize(ch->seen_reply);
    sqlite3_finalize(ch->seen_set_reply);
    sqlite3_finalize(ch->seen_purge);
    sqlite3_finalize(ch->opted_out);
    sqlite3_finalize(ch->opt_out);
    sqlite3_finalize(ch->opt_in);
    explicit_bzero(ch->contact_key, sizeof(ch->contact_key));
    free(ch);
}

int sms_channel_purge_seen(struct sms_channel *ch, long long now, int limit)
{
    int rc;

    sqlite3_bind_int64(ch->seen_purge, 1, now - ch->d.cfg->dedupe_hours * 3600);
    sqlite3_bind_int(ch->seen_purge, 2, limit);
    rc = sqlite3_step(ch->seen_purge);
    db_stmt_done(ch->seen_purge, 0);
    return rc == SQLITE_DONE ? sqlite3_changes(ch->d.db) : -1;
}

/* The engine's hook for a fresh callback reference. */
static int new_ref(void *arg, char *ref, size_t size)
{
    char r[CALLBACK_REF_LEN], err[ERR_LEN];

    if (callback_new_ref(arg, r, err) != 0) {
        log_error("callback.ref", "problem=\"%s\"", err);
        return -1;
    }
    snprintf(ref, size, "%s", r);
    return 0;
}

int sms_channel_file_callback(const struct sms_channel_deps *deps, const struct flow_callback *cb,
                              const char *sender, long long now, char *err)
{
    struct callback_request req = {
        .ref = cb->ref,
        .team = cb->team,
        .city = cb->city,
        .lang = cb->lang,
        .window = cb->window,
        .topic = cb->topic[0] ? cb->topic : NULL,
        .sender = sender,
        .sender_safe = cb->sender_safe,
        .number = cb->sender_safe ? sender : (cb->number[0] ? cb->number : NULL),
        .meet = cb->meet[0] ? cb->meet : NULL,
        .due_at = cb->due_at,
    };

    if (deps->callbacks == NULL || sender == NULL || sender[0] == '\0') {
        err_set(err, "callback %s: %s", cb->ref,
                deps->callbacks == NULL ? "callbacks are not running" : "no sender number");
        return -1;
    }
    return callback_file(deps->callbacks, &req, now, err);
}

struct flow_env sms_channel_env(const struct sms_channel_deps *deps, const struct flow_set *flows,
                                enum flow_channel channel, long long now)
{
    const struct config *cfg = deps->cfg;

    return (struct flow_env){
        .flows = flows,
        .places = deps->places ? *deps->places : NULL,
        .services = deps->services ? *deps->services : NULL,
        .services_max_age_days = cfg->services_max_age_days,
        .sms_max_segments = (size_t)cfg->sms.max_segments,
        .now = now,
        .channel = channel,
        .ussd_budget = (size_t)cfg->ussd.screen_budget,
        .session_timeout =
            channel == FLOW_CHANNEL_USSD ? cfg->ussd.session_timeout : cfg->sms.session_timeout,
        .privacy_url = cfg->privacy_url,
        .teams = deps->teams,
        .callback_now_minutes = cfg->callbacks.now_minutes,
        .new_callback_ref = deps->callbacks != NULL ? new_ref : NULL,
        .callback_arg = deps->callbacks,
    };
}
