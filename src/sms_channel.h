/*
 * sms_channel.h: the inbound side of SMS. For every configured gateway it
 * serves the inbound-message and delivery-report webhooks: authenticate
 * (403), parse (400/415), then in one group-commit transaction dedupe the
 * gateway's message id, step the conversation, apply its effects (opt-out,
 * erase, language) and queue the replies; only after COMMIT does the gateway
 * get its 2xx, and a retried id gets the same answer without a second reply.
 * No network call happens before the answer.
 */
#ifndef KATTO_SMS_CHANNEL_H
#define KATTO_SMS_CHANNEL_H

#include <sqlite3.h>
#include <stdint.h>

#include "batch.h"
#include "callback.h"
#include "contact_log.h"
#include "config.h"
#include "crypto.h"
#include "directory.h"
#include "flow.h"
#include "flow_engine.h"
#include "http_server.h"
#include "metrics.h"
#include "outbox.h"
#include "place.h"
#include "session.h"

struct sms_channel;

struct sms_channel_deps {
    const struct config *cfg;
    sqlite3 *db;
    struct batch *batch;
    struct outbox *outbox;
    struct session_store *sessions;
    struct flow_set *const *flows; /* the set in service; read at each message (reloads swap it) */
    struct place_table *const *places;  /* the table in service (reloads swap it); may hold NULL */
    struct directory *const *services;  /* the directory in service; may hold NULL */
    const struct team_list *teams;      /* callback teams (may be empty) */
    struct callback_service *callbacks; /* files callback requests; NULL: none */
    struct metrics *metrics;
    struct contact_log *log;
    const uint8_t *contact_key; /* CRYPTO_KEY_LEN bytes, copied */
};

/*
 * Registers the webhook routes of every configured gateway on http and warns
 * loudly about gateways whose webhooks cannot be authenticated. Everything in
 * deps is kept (must outlive the channel) except contact_key, which is copied.
 */
struct sms_channel *sms_channel_new(const struct sms_channel_deps *deps, struct http_server *http,
                                    char *err);
void sms_channel_free(struct sms_channel *ch);

/*
 * The engine's environment for one message on channel at now, from deps'
 * configuration and the reference data in service at this moment.
 */
struct flow_env sms_channel_env(const struct sms_channel_deps *deps, const struct flow_set *flows,
                                enum flow_channel channel, long long now);

/*
 * Inside the step's transaction: stores the callback request a step filed
 * (reply.callback), from sender (E.164, borrowed). 0, or -1 with err.
 */
int sms_channel_file_callback(const struct sms_channel_deps *deps, const struct flow_callback *cb,
                              const char *sender, long long now, char *err);

/* Deletes dedupe records older than dedupe_hours, at most limit rows. Returns how many or -1. */
int sms_channel_purge_seen(struct sms_channel *ch, long long now, int limit);

#endif
