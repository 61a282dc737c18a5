/*
 * contact_log.h: the anonymous contact log. One row per contact event
 * (session start, question reached, opt-out, erase, crisis, session end...),
 * written in the same transaction as the step that caused it. A row holds the
 * local hour, channel, gateway, language, city, flow and node, and a
 * pseudonym: HMAC-SHA256 of the number with a random key of the current
 * period (a calendar month in Europe/Helsinki), truncated. The key is
 * destroyed when its period ends (contact_log_rotate), so the rows then become
 * anonymous: not even the installation secret links them to a number.
 */
#ifndef KATTO_CONTACT_LOG_H
#define KATTO_CONTACT_LOG_H

#include <sqlite3.h>

#include "flow_engine.h"

#define CONTACT_LOG_RETENTION_MONTHS_DEFAULT 24

struct contact_log;

struct contact_log_context {
    long long now;
    const char *channel; /* "sms" or "ussd" */
    const char *gateway;
    const char *e164; /* the number, used only to compute the pseudonym; NULL for none */
    const char *lang; /* may be "" */
    const char *city; /* may be NULL */
};

/* db is kept. NULL with err on failure. Process time zone must be Europe/Helsinki (app.c). */
struct contact_log *contact_log_new(sqlite3 *db, char *err);
void contact_log_free(struct contact_log *l);

/* Inside a transaction: one row per loggable effect of a step. 0 or -1 with err. */
int contact_log_effects(struct contact_log *l, const struct contact_log_context *ctx,
                        const struct flow_reply *r, char *err);

/*
 * Inside a transaction: one summary row for a USSD session that ended (event
 * "ussd_session") or was abandoned ("ussd_timeout"), with the path of nodes it
 * reached. ctx->e164 may be NULL (an abandoned session's number is not kept).
 */
int contact_log_session(struct contact_log *l, const struct contact_log_context *ctx,
                        const char *event, const char *path, char *err);

/* Inside a transaction: deletes the rows of the number's current pseudonym (ERASE). */
int contact_log_erase(struct contact_log *l, const char *e164, long long now, char *err);

/*
 * Destroys the keys of periods that have ended and deletes rows older than
 * retention_months. Returns 0 or -1 with err.
 */
int contact_log_rotate(struct contact_log *l, long long now, long retention_months, char *err);

/*
 * Forgets the period key held in memory. Call it when a transaction that may
 * have created the key is rolled back (batch_on_rollback): the copy in memory
 * would otherwise outlive the row, and the month's pseudonyms would change at
 * the next restart.
 */
void contact_log_forget_key(struct contact_log *l);

/* "2026-11" and "2026-11-24 17:00" for now, in local time. */
void contact_log_period(long long now, char out[8]);
void contact_log_hour(long long now, char out[20]);

#endif
