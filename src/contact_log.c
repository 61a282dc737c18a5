/* contact_log.c: the anonymous contact log (see contact_log.h). */
#include "contact_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "db.h"
#include "err.h"

#define PSEUDONYM_BYTES 8 /* 64 bits: enough to count returning contacts in a month */

struct contact_log {
    sqlite3 *db;
    sqlite3_stmt *insert, *insert_session, *key_get, *key_put, *key_drop, *erase, *retain;
    char period[8]; /* the cached key's period */
    uint8_t key[CRYPTO_KEY_LEN];
};

void contact_log_period(long long now, char out[8])
{
    time_t t = (time_t)now;
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(out, 8, "%Y-%m", &tm);
}

void contact_log_hour(long long now, char out[20])
{
    time_t t = (time_t)now;
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:00", &tm);
}

/* The current period's key, created at random on first use. */
static int period_key(struct contact_log *l, long long now, char *err)
{
    char period[8];

    contact_log_period(now, period);
    if (strcmp(period, l->period) == 0)
        return 0;
    sqlite3_bind_text(l->key_get, 1, period, -1, SQLITE_STATIC);
    if (sqlite3_step(l->key_get) == SQLITE_ROW &&
        sqlite3_column_bytes(l->key_get, 0) == CRYPTO_KEY_LEN) {
        memcpy(l->key, sqlite3_column_blob(l->key_get, 0), CRYPTO_KEY_LEN);
        db_stmt_done(l->key_get, 0);
    } else {
        db_stmt_done(l->key_get, 0);
        if (crypto_random(l->key, sizeof(l->key)) != 0) {
            err_set(err, "contact log: no random key");
            return -1;
        }
        sqlite3_bind_text(l->key_put, 1, period, -1, SQLITE_STATIC);
        sqlite3_bind_blob(l->key_put, 2, l->key, CRYPTO_KEY_LEN, SQLITE_STATIC);
        if (sqlite3_step(l->key_put) != SQLITE_DONE) {
            err_set(err, "contact log: store key: %s", sqlite3_errmsg(l->db));
            return db_stmt_done(l->key_put, -1);
        }
        db_stmt_done(l->key_put, 0);
    }
    snprintf(l->period, sizeof(l->period), "%s", period);
    return 0;
}

static int pseudonym(struct contact_log *l, const char *e164, long long now,
                     char out[2 * PSEUDONYM_BYTES + 1], char *err)
{
    uint8_t mac[32];

    if (period_key(l, now, err) != 0)
        return -1;
    crypto_hmac_sha256(l->key, sizeof(l->key), e164, strlen(e164), mac);
    crypto_hex(mac, PSEUDONYM_BYTES, out);
    return 0;
}

struct contact_log *contact_log_new(sqlite3 *db, char *err)
{
    struct contact_log *l = calloc(1, sizeof(*l));

    if (l == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    l->db = db;
    if (db_prepare(
            l->db,
            "INSERT INTO contact_log (hour, period, channel, gateway, lang, city, flow, node,"
            " event, service_id, pseudonym) VALUES (?1, ?2, ?3, ?4, nullif(?5, ''),"
            " nullif(?6, ''), nullif(?7, ''), nullif(?8, ''), ?9, nullif(?10, ''), ?11)",
            &l->insert, err) ||
        db_prepare(
            l->db,
            "INSERT INTO contact_log (hour, period, channel, gateway, lang, city, event, path,"
            " pseudonym) VALUES (?1, ?2, ?3, ?4, nullif(?5, ''), nullif(?6, ''), ?7, ?8, ?9)",
            &l->insert_session, err) ||
        db_prepare(l->db, "SELECT key FROM pseudonym_keys WHERE period = ?1", &l->key_get, err) ||
        db_prepare(l->db, "INSERT INTO pseudonym_keys (period, key) VALUES (?1, ?2)", &l->key_put,
                   err) ||
        db_prepare(l->db, "DELETE FROM pseudonym_keys WHERE period <> ?1", &l->key_drop, err) ||
        db_prepare(l->db, "DELETE FROM contact_log WHERE period = ?1 AND pseudonym = ?2", &l->erase,
                   err) ||
        db_prepare(l->db, "DELETE FROM contact_log WHERE period < ?1", &l->retain, err)) {
        contact_log_free(l);
        return NULL;
    }
    return l;
}

void contact_log_free(struct contact_log *l)
{
    if (l == NULL)
        return;
    sqlite3_finalize(l->insert);
    sqlite3_finalize(l->insert_session);
    sqlite3_finalize(l->key_get);
    sqlite3_finalize(l->key_put);
    sqlite3_finalize(l->key_drop);
    sqlite3_finalize(l->erase);
    sqlite3_finalize(l->retain);
    explicit_bzero(l->key, sizeof(l->key));
    free(l);
}

/* The log's name for an effect, or NULL for effects that are not contact events. */
static const char *event_name(enum flow_effect_kind k)
{
    switch (k) {
    case FLOW_EFFECT_SESSION_START: return "session_start";
    case FLOW_EFFECT_NODE: return "node";
    case FLOW_EFFECT_INVALID: return "invalid_answer";
    case FLOW_EFFECT_LANGUAGE: return "language";
    case FLOW_EFFECT_OPT_OUT: return "opt_out";
    case FLOW_EFFECT_OPT_IN: return "opt_in";
    case FLOW_EFFECT_ERASE: return "erase";
    case FLOW_EFFECT_CRISIS: return "crisis";
    case FLOW_EFFECT_PRIVACY: return "privacy";
    case FLOW_EFFECT_CALLBACK_WANTED: return "callback_requested";
    case FLOW_EFFECT_SESSION_END: return "session_end";
    case FLOW_EFFECT_SMS_COPY: return "sms_copy";
    case FLOW_EFFECT_REFERRAL: return "referral";
    case FLOW_EFFECT_CALLBACK_FILED: return "callback_requested";
    default: return NULL;
    }
}

int contact_log_effects(struct contact_log *l, const struct contact_log_context *ctx,
                        const struct flow_reply *r, char *err)
{
    char hour[20], period[8], pseud[2 * PSEUDONYM_BYTES + 1] = "";
    bool erased = false;

    for (size_t i = 0; i < r->neffects; i++)
        erased |= r->effects[i].kind == FLOW_EFFECT_ERASE;
    contact_log_hour(ctx->now, hour);
    contact_log_period(ctx->now, period);
    /* After an erasure nothing in this step is tied to the number any more. */
    if (ctx->e164 != NULL && !erased && pseudonym(l, ctx->e164, ctx->now, pseud, err) != 0)
        return -1;
    for (size_t i = 0; i < r->neffects; i++) {
        const struct flow_effect *e = &r->effects[i];
        const char *name = event_name(e->kind);
        int rc;

        if (name == NULL)
            continue;
        sqlite3_bind_text(l->insert, 1, hour, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->insert, 2, period, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->insert, 3, ctx->channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->insert, 4, ctx->gateway, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->insert, 5,
                          e->kind == FLOW_EFFECT_LANGUAGE ? e->arg : (ctx->lang ? ctx->lang : ""),
                          -1, SQLITE_STATIC);
        const char *city = ctx->city != NULL ? ctx->city : "";

        if (city[0] == '\0' && e->kind == FLOW_EFFECT_SESSION_END)
            city = e->arg;
        sqlite3_bind_text(l->insert, 6, city, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->insert, 7, e->at.flow, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->insert, 8, e->at.node, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->insert, 9, name, -1, SQLITE_STATIC);
        /* A referral names the service, never the place the person typed. */
        sqlite3_bind_text(l->insert, 10, e->kind == FLOW_EFFECT_REFERRAL ? e->arg : "", -1,
                          SQLITE_STATIC);
        if (pseud[0] != '\0')
            sqlite3_bind_text(l->insert, 11, pseud, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(l->insert, 11);
        rc = sqlite3_step(l->insert);
        db_stmt_done(l->insert, 0);
        if (rc != SQLITE_DONE) {
            err_set(err, "contact log: insert: %s", sqlite3_errmsg(l->db));
            return -1;
        }
    }
    return 0;
}

int contact_log_session(struct contact_log *l, const struct contact_log_context *ctx,
                        const char *event, const char *path, char *err)
{
    char hour[20], period[8], pseud[2 * PSEUDONYM_BYTES + 1] = "";
    int rc;

    contact_log_hour(ctx->now, hour);
    contact_log_period(ctx->now, period);
    if (ctx->e164 != NULL && pseudonym(l, ctx->e164, ctx->now, pseud, err) != 0)
        return -1;
    sqlite3_bind_text(l->insert_session, 1, hour, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert_session, 2, period, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert_session, 3, ctx->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert_session, 4, ctx->gateway, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert_session, 5, ctx->lang != NULL ? ctx->lang : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert_session, 6, ctx->city != NULL ? ctx->city : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert_session, 7, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert_session, 8, path, -1, SQLITE_STATIC);
    if (pseud[0] != '\0')
        sqlite3_bind_text(l->insert_session, 9, pseud, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(l->insert_session, 9);
    rc = sqlite3_step(l->insert_session);
    if (rc != SQLITE_DONE)
        err_set(err, "contact log: insert session: %s", sqlite3_errmsg(l->db));
    return db_stmt_done(l->insert_session, rc == SQLITE_DONE ? 0 : -1);
}

int contact_log_erase(struct contact_log *l, const char *e164, long long now, char *err)
{
    char pseud[2 * PSEUDONYM_BYTES + 1];
    int rc;

    if (pseudonym(l, e164, now, pseud, err) != 0)
        return -1;
    sqlite3_bind_text(l->erase, 1, l->period, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->erase, 2, pseud, -1, SQLITE_STATIC);
    rc = sqlite3_step(l->erase);
    if (rc != SQLITE_DONE)
        err_set(err, "contact log: erase: %s", sqlite3_errmsg(l->db));
    return db_stmt_done(l->erase, rc == SQLITE_DONE ? 0 : -1);
}

void contact_log_forget_key(struct contact_log *l)
{
    explicit_bzero(l->key, sizeof(l->key));
    l->period[0] = '\0';
}

int contact_log_rotate(struct contact_log *l, long long now, long retention_months, char *err)
{
    char period[8], oldest[8];
    time_t t = (time_t)now;
    struct tm tm;
    int rc;

    contact_log_period(now, period);
    /* Keys of ended periods go: their pseudonyms can never be recomputed again. */
    sqlite3_bind_text(l->key_drop, 1, period, -1, SQLITE_STATIC);
    rc = sqlite3_step(l->key_drop);
    db_stmt_done(l->key_drop, 0);
    if (rc != SQLITE_DONE) {
        err_set(err, "contact log: drop keys: %s", sqlite3_errmsg(l->db));
        return -1;
    }
    if (strcmp(l->period, period) != 0) {
        explicit_bzero(l->key, sizeof(l->key));
        l->period[0] = '\0';
    }
    localtime_r(&t, &tm);
    tm.tm_mon -= (int)retention_months;
    tm.tm_mday = 1;
    t = mktime(&tm);
    localtime_r(&t, &tm);
    strftime(oldest, sizeof(oldest), "%Y-%m", &tm);
    sqlite3_bind_text(l->retain, 1, oldest, -1, SQLITE_STATIC);
    rc = sqlite3_step(l->retain);
    db_stmt_done(l->retain, 0);
    if (rc != SQLITE_DONE) {
        err_set(err, "contact log: retention: %s", sqlite3_errmsg(l->db));
        return -1;
    }
    return 0;
}
