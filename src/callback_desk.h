/*
 * callback_desk.h: what an outreach worker does with the callback requests
 * of their own team (table callback_requests, migration 0007): list the open
 * ones, claim one, see the number to call (only the worker who claimed it),
 * close it with an outcome, or merge it into another open request of the
 * team that has the same number. Closing and merging purge the request: the
 * sealed number, meeting details, sender and contact key are wiped and the
 * topic is kept in clear, so what remains is anonymous.
 *
 * Every call names the worker and their team; a request of another team is
 * answered exactly like one that does not exist, so references do not leak
 * across teams. Every action is audited (worker_audit) without a number.
 * Calls run inside the caller's transaction and take the time as an argument.
 */
#ifndef KATTO_CALLBACK_DESK_H
#define KATTO_CALLBACK_DESK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callback.h"
#include "crypto.h"
#include "worker.h"

#define CALLBACK_DESK_MAX_LIST 200 /* open requests shown at once, newest first */

struct callback_desk;

/* Prepares the statements on db; audit rows go through ws (kept); number_key is copied. */
struct callback_desk *callback_desk_new(sqlite3 *db, struct worker_store *ws,
                                        const uint8_t number_key[CRYPTO_KEY_LEN], char *err);
void callback_desk_free(struct callback_desk *d);

/* Who acts: a worker and their team (borrowed). */
struct callback_desk_actor {
    long long worker_id;
    const char *team;
};

struct callback_desk_item {
    long long id;
    char ref[CALLBACK_REF_LEN];
    char city[64], lang[16], window[16];
    long long created_at, due_at;
    bool overdue;         /* the promised window has passed */
    bool meet;            /* a place and time to meet instead of a number */
    char *topic;          /* decrypted menu topic, or NULL */
    long long claimed_by; /* worker id, 0 if unclaimed */
    char claimer[WORKER_NAME_MAX + 1];
    size_t *shares; /* indexes of the other items with the same number */
    size_t nshares;
};

struct callback_desk_list {
    struct callback_desk_item *items;
    size_t n;
};

/*
 * The open requests of team (not closed, not merged), newest first, at most
 * CALLBACK_DESK_MAX_LIST. 0, or -1 with err. Release with _list_release.
 */
int callback_desk_list(struct callback_desk *d, const char *team, long long now,
                       struct callback_desk_list *out, char *err);
void callback_desk_list_release(struct callback_desk_list *l);

/* Results of an action (or -1 with err on a database failure). */
enum callback_desk_result {
    CALLBACK_DESK_DONE = 0,
    CALLBACK_DESK_NOT_FOUND, /* no such open request in the worker's team */
    CALLBACK_DESK_TAKEN,     /* another worker has claimed it */
    CALLBACK_DESK_NOT_YOURS, /* only the worker who claimed it may do this */
    CALLBACK_DESK_INVALID,   /* unknown outcome, or a merge that is not allowed */
};

/* Claims an unclaimed open request for who. */
int callback_desk_claim(struct callback_desk *d, const struct callback_desk_actor *who,
                        long long id, long long now, char *err);

/* How to reach the client of a claimed request; strings owned, wiped by _contact_release. */
struct callback_desk_contact {
    long long id;
    char ref[CALLBACK_REF_LEN];
    char lang[16];
    char *topic;  /* or NULL */
    char *number; /* E.164, or NULL */
    char *meet;   /* place and time to meet, or NULL */
};

/* Decrypts the number (or meeting details) of a request who has claimed; audited 'reveal'. */
int callback_desk_reveal(struct callback_desk *d, const struct callback_desk_actor *who,
                         long long id, long long now, struct callback_desk_contact *out, char *err);
void callback_desk_contact_release(struct callback_desk_contact *c);

/* True for the outcomes a worker may close with: reached, no_answer, wrong_number, referred. */
bool callback_desk_outcome_valid(const char *outcome);

/* Closes a request who has claimed with outcome, and purges it. */
int callback_desk_close(struct callback_desk *d, const struct callback_desk_actor *who,
                        long long id, const char *outcome, long long now, char *err);

/*
 * Merges request id, claimed by who, into request into of the same team
 * that has the same number: id is closed as 'merged' with merged_into set,
 * and purged.
 */
int callback_desk_merge(struct callback_desk *d, const struct callback_desk_actor *who,
                        long long id, long long into, long long now, char *err);

#endif
