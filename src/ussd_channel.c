/* ussd_channel.c: Africa's Talking USSD (see ussd_channel.h). */
#include "ussd_channel.h"

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
#include "ussd_parse.h"

#define USSD_TEXT_MAX 512 /* bytes of accumulated answers accepted in one session */
#define USSD_SESSION_ID_MAX 128
#define USSD_PATH_MAX 1024 /* bytes of "flow/node," kept for the session's log row */
/* Said when Katto cannot go on; short, in the three main languages, GSM-7 only. */
#define USSD_SORRY "END Virhe, soita uudelleen. Fel, ring igen. Error, please dial again."
/* Said when the database cannot take the step (full disk, busy): it passes, so "shortly". */
#define USSD_BUSY                                                                                   \
    "END Palvelu on hetken tukossa, yritä pian uudelleen. Tjänsten är upptagen, försök snart " \
    "igen. Sorry, please try again shortly."

struct ussd_channel {
    struct sms_channel_deps d;
    uint8_t key[CRYPTO_KEY_LEN];
    sqlite3_stmt *get, *put, *opted_out;
    sqlite3_stmt *expired, *purge;
    char path[256], json_path[256];
};

struct ussd_job {
    struct ussd_channel *ch;
    struct http_exchange *ex;
    char key[8 + CRYPTO_CONTACT_KEY_HEX]; /* "ussd:" + keyed hash of the session id */
    char number[GATEWAY_NUMBER_MAX];      /* only for the contact log's pseudonym; "" if odd */
    char *text;                           /* the gateway's text: all answers so far */
    char flow[FLOW_ID_MAX];               /* flow for the dialled code, "" for the main one */
    struct flow_set *flows;
    char *reply; /* "CON ..." / "END ...", owned */
    bool queued; /* an SMS copy or a callback notification went into the outbox: wake it */
    char path[USSD_PATH_MAX]; /* nodes reached so far in this session */
};

static long long now_s(void)
{
    return clock_now();
}

static void count(struct ussd_channel *ch, const char *result)
{
    char labels[64];

    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    metrics_add(ch->d.metrics, "katto_ussd_requests_total", labels, 1);
}

/* Keyed hash of the first len bytes of text, as hex: what the session has seen. */
static void seen_hash(const struct ussd_channel *ch, const char *text, size_t len,
                      char out[CRYPTO_CONTACT_KEY_HEX])
{
    uint8_t mac[32];

    crypto_hmac_sha256(ch->key, sizeof(ch->key), text, len, mac);
    crypto_hex(mac, 16, out);
}

static void job_free(struct ussd_job *j)
{
    if (j == NULL)
        return;
    if (j->text != NULL) {
        explicit_bzero(j->text, strlen(j->text));
        free(j->text);
    }
    explicit_bzero(j->number, sizeof(j->number));
    flow_set_unref(j->flows);
    free(j->reply);
    free(j);
}

static int set_reply(struct ussd_job *j, const struct flow_reply *r)
{
    size_t n = strlen(r->text != NULL ? r->text : "") + 5;

    free(j->reply);
    if ((j->reply = malloc(n)) == NULL)
        return -1;
    snprintf(j->reply, n, "%s %s", r->end ? "END" : "CON", r->text != NULL ? r->text : "");
    return 0;
}

/* The session row holds what the session has seen too (migration 0010): one delete. */
static int forget(struct ussd_job *j, char *err)
{
    return session_delete(j->ch->d.sessions, j->key, err);
}

/*
 * Queues the flow's SMS copy ("we will text you the addresses") through the
 * default gateway. The flow asks for consent first; a number that sent STOP
 * gets nothing.
 */
static int copy_by_sms(struct ussd_job *j, const char *text, long long now, char *err)
{
    struct ussd_channel *ch = j->ch;
    const struct config *cfg = ch->d.cfg;
    const struct gateway_ops *ops = gateway_find(cfg->default_gateway);
    char contact[CRYPTO_CONTACT_KEY_HEX];
    struct flow_sms sms;
    int stopped;
    int rc = 0;

    if (j->number[0] == '\0' || ops == NULL || !ops->configured(cfg)) {
        log_warn("ussd.sms_copy", "problem=\"no number or no configured default_gateway\"");
        return 0;
    }
    crypto_contact_key(ch->d.contact_key, j->number, contact);
    sqlite3_bind_text(ch->opted_out, 1, contact, -1, SQLITE_STATIC);
    if ((stopped = db_exists(ch->opted_out, "ussd: opt-out lookup", err)) != 0)
        return stopped < 0 ? -1 : 0;
    if (flow_render_sms(text, (size_t)cfg->sms.max_segments, &sms) != 0) {
        err_set(err, "ussd: cannot render the SMS copy");
        return -1;
    }
    for (size_t i = 0; i < sms.n && rc == 0; i++) {
        struct outbox_message m = {
            .gateway = ops->name,
            .contact_key = contact,
            .to = j->number,
            .body = sms.parts[i].text,
            .info = &sms.parts[i].info,
        };
        int allowed = outbox_allow(ch->d.outbox, contact, now, err);

        if (allowed < 0)
            rc = -1;
        else if (allowed > 0 && (rc = outbox_enqueue(ch->d.outbox, &m, now, NULL, err)) == 0)
            j->queued = true;
    }
    flow_sms_release(&sms);
    return rc;
}

/* Batch work: reconcile, step, and store, in one transaction. */
static int handle(sqlite3 *db, void *arg, char *err)
{
    struct ussd_job *j = arg;
    struct ussd_channel *ch = j->ch;
    const struct config *cfg = ch->d.cfg;
    long long now = now_s();
    size_t len = strlen(j->text), seen_len = 0;
    char hash[CRYPTO_CONTACT_KEY_HEX], want[CRYPTO_CONTACT_KEY_HEX];
    const char *answer = NULL;
    bool known = false;
    struct flow_session s;
    struct flow_reply r = {0};
    int rc = 0;

    (void)db;
    sqlite3_bind_text(ch->get, 1, j->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ch->get, 2, now);
    if (sqlite3_step(ch->get) == SQLITE_ROW) {
        known = true;
        snprintf(j->path, sizeof(j->path), "%s", (const char *)sqlite3_column_text(ch->get, 3));
        seen_len = (size_t)sqlite3_column_int64(ch->get, 0);
        snprintf(want, sizeof(want), "%s", (const char *)sqlite3_column_text(ch->get, 1));
        if (len == seen_len) {
            seen_hash(ch, j->text, len, hash);
            if (strcmp(hash, want) == 0) {
                /* The gateway resent a step: the same screen again, no second step. */
                j->reply = strdup((const char *)sqlite3_column_text(ch->get, 2));
                db_stmt_done(ch->get, 0);
                count(ch, "resent");
                return j->reply != NULL ? 0 : -1;
            }
        }
    }
    db_stmt_done(ch->get, 0);

    if (!known) {
        /* A new session, or one Katto no longer knows (it expired): the first screen.
         * Any text it carries is old answers, and is not replayed. */
        answer = NULL;
    } else if ((answer = ussd_parse_answer(j->text, len, seen_len)) != NULL) {
        seen_hash(ch, j->text, seen_len, hash);
        if (strcmp(hash, want) != 0)
            answer = NULL; /* it goes on from something this session never saw */
    }
    if (known && answer == NULL) {
        log_warn("ussd.out_of_step", "seen=%zu got=%zu", seen_len, len);
        count(ch, "out_of_step");
        j->reply = strdup(USSD_SORRY);
        return j->reply != NULL ? forget(j, err) : -1;
    }

    struct flow_env env = sms_channel_env(&ch->d, j->flows, FLOW_CHANNEL_USSD, now);
    if (session_load(ch->d.sessions, j->key, now, &s, err) != 0)
        return -1;
    char city_before[FLOW_VAR_VALUE_MAX] = "";
    if (flow_session_var(&s, "city") != NULL)
        snprintf(city_before, sizeof(city_before), "%s", flow_session_var(&s, "city"));
    if (!known) {
        flow_session_init(&s); /* whatever an older session left, this one starts afresh */
        rc = j->flow[0] != '\0' ? flow_engine_start(&env, &s, j->flow, &r)
                                : flow_engine_step(&env, &s, &(struct flow_input){.text = ""}, &r);
    } else {
        rc = flow_engine_step(&env, &s, &(struct flow_input){.text = answer}, &r);
    }
    if (rc != 0 || set_reply(j, &r) != 0) {
        err_set(err, "ussd: the flow engine could not answer");
        flow_reply_release(&r);
        return -1;
    }
    struct contact_log_context lc = {
        .now = now,
        .channel = "ussd",
        .gateway = "africastalking",
        .e164 = j->number[0] != '\0' ? j->number : NULL,
        .lang = s.lang[0] != '\0' ? s.lang : j->flows->global.languages[0],
        .city = flow_session_var(&s, "city"),
    };
    /* An ended conversation has forgotten the city: then log the one it had before. */
    if (lc.city == NULL && city_before[0] != '\0')
        lc.city = city_before;
    /* The path of the session, for its one summary row in the contact log. */
    for (size_t i = 0; i < r.neffects; i++) {
        size_t used = strlen(j->path);

        if (r.effects[i].kind == FLOW_EFFECT_NODE && used + 2 < sizeof(j->path))
            snprintf(j->path + used, sizeof(j->path) - used, "%s%s/%s", used ? "," : "",
                     r.effects[i].at.flow, r.effects[i].at.node);
    }
    if (r.end && rc == 0)
        rc = contact_log_session(ch->d.log, &lc, "ussd_session", j->path, err);
    if (rc != 0 || contact_log_effects(ch->d.log, &lc, &r, err) != 0 ||
        (r.sms_copy != NULL && copy_by_sms(j, r.sms_copy, now, err) != 0) ||
        (r.callback.filed &&
         sms_channel_file_callback(&ch->d, &r.callback, j->number, now, err) != 0)) {
        flow_reply_release(&r);
        return -1;
    }
    j->queued |= r.callback.filed; /* the on-call worker's SMS */
    count(ch, r.end ? "ended" : "continued");
    if (r.end) {
        rc = forget(j, err);
    } else {
        /* The session first, then what it has seen into the same row: no page of its own. */
        rc = session_save(ch->d.sessions, j->key, &s, now, now + cfg->ussd.session_timeout, err);
        seen_hash(ch, j->text, len, hash);
        sqlite3_bind_text(ch->put, 1, j->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ch->put, 2, (sqlite3_int64)len);
        sqlite3_bind_text(ch->put, 3, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(ch->put, 4, j->reply, -1, SQLITE_STATIC);
        sqlite3_bind_text(ch->put, 5, j->path, -1, SQLITE_STATIC);
        if (rc == 0 && (sqlite3_step(ch->put) != SQLITE_DONE || sqlite3_changes(ch->d.db) != 1)) {
            err_set(err, "ussd: save state: %s", sqlite3_errmsg(ch->d.db));
            rc = -1;
        }
        db_stmt_done(ch->put, 0);
    }
    flow_reply_release(&r);
    return rc;
}

static void reply_text(struct http_exchange *ex, const char *text)
{
    http_exchange_reply(ex, 200, "text/plain; charset=utf-8", text, strlen(text));
}

static void finished(int status, void *arg)
{
    struct ussd_job *j = arg;

    if (status != 0 && strcmp(batch_failure_reason(j->ch->d.batch), "error") != 0) {
        /* Nothing of this step is stored; the session ends with an apology, not a hang. */
        log_error("ussd.unavailable", "reason=%s", batch_failure_reason(j->ch->d.batch));
        count(j->ch, "unavailable");
        reply_text(j->ex, USSD_BUSY);
    } else if (status != 0 || j->reply == NULL) {
        count(j->ch, "failed");
        reply_text(j->ex, USSD_SORRY);
    } else {
        reply_text(j->ex, j->reply);
        if (j->queued)
            outbox_kick(j->ch->d.outbox);
    }
    job_free(j);
}

/* Every problem is a 200 "END ..." because the gateway ends the session silently on errors. */
static void refuse(struct ussd_channel *ch, struct http_exchange *ex, const char *why)
{
    log_warn("ussd.refused", "problem=\"%s\"", why);
    count(ch, "refused");
    reply_text(ex, USSD_SORRY);
}

static void webhook(struct http_exchange *ex, void *arg)
{
    struct ussd_channel *ch = arg;
    const char *ct = http_exchange_header(ex, "Content-Type");
    struct gateway_http in = {0};
    const char *session_id, *code, *text;
    struct ussd_job *j;
    char err[ERR_LEN], hashed[CRYPTO_CONTACT_KEY_HEX];

    if ((in.body = http_exchange_body(ex, &in.body_len)) == NULL) {
        refuse(ch, ex, "out of memory");
        return;
    }
    bool json = strcmp(http_exchange_path(ex), ch->json_path) == 0;

    if (ct == NULL || (json ? strncasecmp(ct, "application/json", 16) != 0
                            : strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)) {
        refuse(ch, ex,
               json ? "expected application/json" : "expected application/x-www-form-urlencoded");
        return;
    }
    /* The generic JSON variant's fields become form parameters: one handler serves both. */
    if ((json ? ussd_parse_json(&in, err) : gateway_parse_form(&in, err)) != 0) {
        refuse(ch, ex, err);
        goto out;
    }
    session_id = gateway_param(&in, "sessionId");
    code = gateway_param(&in, "serviceCode");
    text = gateway_param(&in, "text");
    if (session_id == NULL || session_id[0] == '\0' || code == NULL ||
        gateway_param(&in, "phoneNumber") == NULL) {
        refuse(ch, ex, "missing sessionId, serviceCode or phoneNumber");
        goto out;
    }
    if (text == NULL)
        text = "";
    if (strlen(session_id) > USSD_SESSION_ID_MAX || strlen(text) > USSD_TEXT_MAX) {
        refuse(ch, ex, "sessionId or text too long");
        goto out;
    }
    if ((j = calloc(1, sizeof(*j))) == NULL || (j->text = strdup(text)) == NULL) {
        free(j);
        refuse(ch, ex, "out of memory");
        goto out;
    }
    j->ch = ch;
    j->ex = ex;
    if (gateway_normalise_number(gateway_param(&in, "phoneNumber"), j->number) != 0)
        j->number[0] = '\0';
    crypto_contact_key(ch->key, session_id, hashed);
    snprintf(j->key, sizeof(j->key), "ussd:%s", hashed);
    const struct config_map *codes = &ch->d.cfg->ussd.service_codes;
    const char *flow = config_map_get(codes, code);
    if (flow == NULL && codes->n > 0) {
        /* Codes are configured and this is not one of them: not ours to answer. */
        job_free(j);
        refuse(ch, ex, "unknown service code");
        goto out;
    }
    if (flow != NULL && flow_set_find(*ch->d.flows, flow) != NULL)
        snprintf(j->flow, sizeof(j->flow), "%s", flow);
    else if (flow != NULL)
        log_warn("ussd.unknown_flow", "flow=%s problem=\"service code maps to no loaded flow\"",
                 flow);
    j->flows = *ch->d.flows;
    flow_set_ref(j->flows);
    if (batch_submit(ch->d.batch, handle, finished, j) != 0) {
        job_free(j);
        refuse(ch, ex, "cannot queue the request");
    }
out:
    gateway_http_release(&in);
}

struct ussd_channel *ussd_channel_new(const struct sms_channel_deps *deps, struct http_server *http,
                                      char *err)
{
    struct ussd_channel *ch = calloc(1, sizeof(*ch));

    if (ch == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    ch->d = *deps;
    /* A key of its own: session ids and the text seen are hashed apart from numbers. */
    if (crypto_derive_key(deps->contact_key, "ussd-session", ch->key) != 0 ||
        db_prepare(ch->d.db,
                   "SELECT ussd_seen_len, ussd_seen_hash, ussd_last_reply, ussd_path FROM sessions "
                   "WHERE key = ?1 AND expires_at > ?2 AND ussd_seen_hash IS NOT NULL",
                   &ch->get, err) ||
        db_prepare(ch->d.db,
                   "UPDATE sessions SET ussd_seen_len = ?2, ussd_seen_hash = ?3, "
                   "ussd_last_reply = ?4, ussd_path = ?5 WHERE key = ?1",
                   &ch->put, err) ||
        db_prepare(ch->d.db, "SELECT 1 FROM opt_outs WHERE contact_key = ?1", &ch->opted_out,
                   err) ||
        db_prepare(ch->d.db,
                   "SELECT key, ussd_path FROM sessions "
                   "WHERE expires_at <= ?1 AND ussd_seen_hash IS NOT NULL LIMIT ?2",
                   &ch->expired, err) ||
        db_prepare(ch->d.db, "DELETE FROM sessions WHERE key = ?1", &ch->purge, err)) {
        ussd_channel_free(ch);
        return NULL;
    }
    metrics_declare(deps->metrics, "katto_ussd_requests_total", "counter",
                    "USSD requests by result (continued, ended, resent, out_of_step, refused, "
                    "failed, unavailable).");
    if (deps->cfg->ussd.token[0] == '\0') {
        log_info("ussd.off", "reason=\"ussd.token is not set\"");
        return ch;
    }
    snprintf(ch->path, sizeof(ch->path), "/webhooks/africastalking/ussd/%s", deps->cfg->ussd.token);
    snprintf(ch->json_path, sizeof(ch->json_path), "/webhooks/ussd/%s", deps->cfg->ussd.token);
    if (http_server_route(http, "ussd", ch->path, HTTP_POST, webhook, ch) != 0 ||
        http_server_route(http, "ussd_json", ch->json_path, HTTP_POST, webhook, ch) != 0) {
        err_set(err, "out of memory");
        ussd_channel_free(ch);
        return NULL;
    }
    log_info("ussd.on", "routes=\"/webhooks/africastalking/ussd/<token> /webhooks/ussd/<token>\"");
    return ch;
}

void ussd_channel_free(struct ussd_channel *ch)
{
    if (ch == NULL)
        return;
    sqlite3_finalize(ch->get);
    sqlite3_finalize(ch->put);
    sqlite3_finalize(ch->opted_out);
    sqlite3_finalize(ch->expired);
    sqlite3_finalize(ch->purge);
    explicit_bzero(ch->key, sizeof(ch->key));
    explicit_bzero(ch->path, sizeof(ch->path));
    explicit_bzero(ch->json_path, sizeof(ch->json_path));
    free(ch);
}

int ussd_channel_purge(struct ussd_channel *ch, long long now, int limit)
{
    struct contact_log_context lc = {.now = now, .channel = "ussd", .gateway = "africastalking"};
    char err[ERR_LEN];
    int n = 0, rc;

    /* A session the gateway gave up on (timeout): one summary row, then the state goes. */
    if (db_exec(ch->d.db, "BEGIN IMMEDIATE", "purge ussd", err) != 0)
        return -1;
    sqlite3_bind_int64(ch->expired, 1, now);
    sqlite3_bind_int(ch->expired, 2, limit);
    while ((rc = sqlite3_step(ch->expired)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(ch->expired, 1);

        if (path != NULL && path[0] != '\0' &&
            contact_log_session(ch->d.log, &lc, "ussd_timeout", path, err) != 0)
            break;
        sqlite3_bind_text(ch->purge, 1, (const char *)sqlite3_column_text(ch->expired, 0), -1,
                          SQLITE_TRANSIENT);
        if (sqlite3_step(ch->purge) != SQLITE_DONE) {
            db_stmt_done(ch->purge, 0);
            break;
        }
        db_stmt_done(ch->purge, 0);
        n++;
    }
    db_stmt_done(ch->expired, 0);
    if (rc != SQLITE_DONE) {
        db_exec(ch->d.db, "ROLLBACK", "purge ussd", NULL);
        return -1;
    }
    if (db_exec(ch->d.db, "COMMIT", "purge ussd", err) != 0) {
        /* A failed COMMIT (full disk) may leave the transaction open: then every later
         * BEGIN would fail, and no webhook could be stored again. */
        if (!sqlite3_get_autocommit(ch->d.db))
            db_exec(ch->d.db, "ROLLBACK", "purge ussd", NULL);
        return -1;
    }
    return n;
}
