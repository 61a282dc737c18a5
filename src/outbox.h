/*
 * outbox.h: the durable queue of outgoing messages. Rows are written in the
 * same transaction as the inbound message that caused them (see batch.h), so
 * a crash never loses a reply that a gateway was told is accepted. Due rows
 * are sent through http_client with the gateway's ops (curl multi on the
 * event loop): parallel up to outbox.max_parallel, outbox.rate sends per
 * second per gateway, one client's messages strictly in order, retries with
 * exponential backoff and jitter on timeouts, connection errors, 429 (honouring
 * Retry-After) and 5xx, no retry on other 4xx, and failure after
 * outbox.max_age. The number is stored encrypted and wiped as soon as the
 * gateway has accepted the message or it has finally failed.
 *
 * Exactly-once: a row is marked sent in the transaction after the gateway's
 * answer; a crash between the gateway accepting a send and that commit sends
 * the message again at restart (the only duplicate window).
 */
#ifndef KATTO_OUTBOX_H
#define KATTO_OUTBOX_H

#include <event2/event.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "config.h"
#include "crypto.h"
#include "gateway.h"
#include "gsm7.h"
#include "http_client.h"
#include "metrics.h"

struct outbox;

struct outbox_message {
    const char *gateway;     /* name of the gateway that sends it */
    const char *contact_key; /* keyed hash of the number */
    const char *to;          /* E.164 number: encrypted before it is stored */
    const char *body;        /* the text, already normalised */
    const struct gsm7_info *info;
    bool inline_sent; /* sent in the webhook's answer: stored as sent, never dispatched */
};

/*
 * Creates the dispatcher. db, batch, http, metrics and cfg are kept and must
 * outlive it; number_key is copied. NULL with err on failure.
 */
struct outbox *outbox_new(struct event_base *base, sqlite3 *db, struct batch *batch,
                          struct http_client *http, struct metrics *metrics,
                          const struct config *cfg, const uint8_t number_key[CRYPTO_KEY_LEN],
                          char *err);

/*
 * Starts no new sends from now on (shutdown); sends in flight still record
 * their results. Call before http_client_free, then outbox_free.
 */
void outbox_stop(struct outbox *o);

/* Frees the dispatcher. Rows of sends that never finished stay queued for the next start. */
void outbox_free(struct outbox *o);

/*
 * Inside a transaction: queues msg. *id receives the row id (may be NULL).
 * 0, or -1 with err.
 */
int outbox_enqueue(struct outbox *o, const struct outbox_message *msg, long long now, long long *id,
                   char *err);

/*
 * Inside a transaction: the abuse caps. Returns 1 and counts the message if
 * it may be sent to contact_key now, 0 if a cap (per number per hour or day,
 * or the global daily cap) drops it (logged and counted), -1 with err.
 */
int outbox_allow(struct outbox *o, const char *contact_key, long long now, char *err);

/*
 * Inside a transaction: applies a delivery report; final states are never
 * undone. Returns the number of rows it matched (0 if no send with that id is
 * recorded yet), or -1 with err.
 */
int outbox_report(struct outbox *o, const char *gateway, const struct gateway_status *st,
                  long long now, char *err);

/* Inside a transaction: true if contact_key has a message still waiting to be sent. */
int outbox_has_queued(struct outbox *o, const char *contact_key);

/* Inside a transaction: marks contact_key's waiting messages failed with reason (STOP). */
int outbox_cancel_contact(struct outbox *o, const char *contact_key, const char *reason,
                          long long now, char *err);

/* Inside a transaction: removes every row for contact_key (ERASE). */
int outbox_erase_contact(struct outbox *o, const char *contact_key, char *err);

/*
 * Deletes at most limit messages in a final state older than outbox.keep_days
 * (their numbers were wiped already; this drops the per-contact history).
 * Returns how many, or -1 with err.
 */
int outbox_purge(struct outbox *o, long long now, int limit, char *err);

/* The text of an inline reply row (for a retried webhook); owned, or NULL. */
char *outbox_inline_body(struct outbox *o, long long id);

/* Wakes the dispatcher: call after a commit that queued messages. */
void outbox_kick(struct outbox *o);

/* Queued messages, and sends in flight. */
long long outbox_depth(struct outbox *o);
/* Unix time the oldest queued message was queued, 0 when none waits. */
long long outbox_oldest_queued(struct outbox *o);
size_t outbox_in_flight(const struct outbox *o);

#endif
