/*
 * callback.h: the life of a callback request, from the client's side to the
 * timers (migration 0007, table callback_requests). A request is filed in the
 * same transaction as the SMS/USSD step that asked for it; the on-call worker
 * of the city's team is then texted through the outbox with the reference,
 * city and time window only (never the client's number or topic). Unclaimed
 * after callbacks.remind_after, the next on-call number is reminded; when the
 * promised window passes unclaimed, the team lead is alerted and the client
 * gets an honest message with the social emergency number (only if the
 * client said their number is safe to text). Numbers, meeting details and
 * topics are stored sealed (AES-256-GCM, the number-encryption key, the
 * column name as associated data) and wiped when the request is closed
 * (callback_desk) or at purge_at (callbacks.retention_days).
 *
 * Everything here runs on the event loop inside the caller's transaction
 * (group commit), and uses clock values passed in (never the clock itself).
 */
#ifndef KATTO_CALLBACK_H
#define KATTO_CALLBACK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "crypto.h"
#include "directory.h"
#include "flow.h"
#include "metrics.h"
#include "outbox.h"
#include "team.h"

#define CALLBACK_REF_LEN 8 /* "K-4821" and its NUL, with room */

struct callback_service;

struct callback_deps {
    sqlite3 *db;
    struct outbox *outbox;
    const struct config *cfg;          /* callbacks.*, default_gateway, public_url */
    const struct team_list *teams;     /* kept */
    struct flow_set *const *flows;     /* global texts for the client's honest message */
    struct directory *const *services; /* the city's social emergency number */
    struct metrics *metrics;           /* may be NULL */
    const uint8_t *number_key;         /* CRYPTO_KEY_LEN, copied */
    const uint8_t *contact_key;        /* CRYPTO_KEY_LEN, copied: keyed hash of numbers */
};

struct callback_service *callback_service_new(const struct callback_deps *deps, char *err);
void callback_service_free(struct callback_service *cs);

/*
 * A fresh reference "K-" and four digits, at random, that no open request
 * uses. 0, or -1 with err.
 */
int callback_new_ref(struct callback_service *cs, char ref[CALLBACK_REF_LEN], char *err);

/* What a client asked for (all strings borrowed). */
struct callback_request {
    const char *ref;  /* from callback_new_ref, already told to the client */
    const char *team; /* team id */
    const char *city;
    const char *lang;   /* language wanted on the call */
    const char *window; /* "now", "today", "tomorrow" */
    const char *topic;  /* menu topic such as "eviction", or NULL */
    const char *sender; /* E.164 of the number the request came from */
    bool sender_safe;   /* the client said this number may be called and texted */
    const char *number; /* E.164 to call: the sender's if safe, else another one, or NULL */
    const char *meet;   /* place and time to meet (the client's words), or NULL */
    long long due_at;   /* team_window(): the end of the promised window */
};

/*
 * Inside a transaction: stores req (number, meeting details, topic and, when
 * sender_safe, the sender's number sealed; contact_key of the sender) and
 * queues the SMS to the team's first on-call number. 0, or -1 with err.
 */
int callback_file(struct callback_service *cs, const struct callback_request *req, long long now,
                  char *err);

/*
 * Inside a transaction: sends the reminders and escalations due at now
 * (each at most once per request and step). Escalations go first, and an
 * escalated request gets no more reminders; a reminder that falls outside
 * the team's hours waits until remind_after into its next shift. The client
 * is not texted after STOP or over the abuse caps (the escalation still
 * counts as done). Returns how many messages were queued, or -1 with err.
 */
int callback_tick(struct callback_service *cs, long long now, char *err);

/*
 * Inside a transaction: wipes numbers, meeting details and sender of
 * requests past purge_at (closing them as "purged" if still open), at most
 * limit rows. Returns how many, or -1 with err.
 */
int callback_purge(struct callback_service *cs, long long now, int limit, char *err);

/*
 * Inside a transaction: removes every request of the sender with contact_key,
 * closed ones included (ERASE). 0, or -1 with err.
 */
int callback_erase_contact(struct callback_service *cs, const char *contact_key, char *err);

/* Open requests whose window has passed unclaimed (for /healthz). -1 on error. */
long callback_overdue_count(struct callback_service *cs, long long now);

#endif
