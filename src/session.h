/*
 * session.h: conversation state in SQLite (table sessions). A row is keyed by
 * the contact key (a keyed hash of the number, for SMS) or "ussd:<session
 * id>", holds the engine's struct flow_session as JSON, and is deleted once
 * it has expired. Statements are prepared once per store.
 */
#ifndef KATTO_SESSION_H
#define KATTO_SESSION_H

#include <sqlite3.h>

#include "flow_engine.h"

struct session_store;

/* db is kept (must outlive the store). NULL with err on failure. */
struct session_store *session_store_new(sqlite3 *db, char *err);
void session_store_free(struct session_store *st);

/*
 * Loads the session for key into *s. A missing or expired row gives an idle
 * session (flow_session_init) and returns 0; -1 with err on database errors.
 * An expired row still yields its language, so a returning person keeps it.
 */
int session_load(struct session_store *st, const char *key, long long now, struct flow_session *s,
                 char *err);

/* Inserts or replaces the row for key, expiring at expires_at. 0 or -1 with err. */
int session_save(struct session_store *st, const char *key, const struct flow_session *s,
                 long long now, long long expires_at, char *err);

/* Deletes the row for key (ERASE, end of a USSD session). 0 or -1 with err. */
int session_delete(struct session_store *st, const char *key, char *err);

/*
 * Deletes at most limit expired rows; returns how many, or -1 with err. Rows
 * of USSD sessions are left to ussd_channel_purge, which logs each one's
 * path first (its ussd_ columns, see migration 0010).
 */
int session_purge_expired(struct session_store *st, long long now, int limit, char *err);

/* JSON form of a session (owned string) and back; used by the store and tests. */
char *session_to_json(const struct flow_session *s);
int session_from_json(const char *json, struct flow_session *s);

#endif
