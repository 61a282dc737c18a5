/*
 * testlib_load.h: steady webhook load against a real katto, and the
 * reconciliation of what it accepted with what the gateway emulator received,
 * for the reliability tests (tests/integration/test_reliability.c) and the
 * soak (scripts/soak).
 *
 * The generator behaves like the gateways: it walks many conversations at
 * once (SMS over 46elks and Twilio, USSD over Africa's Talking), each a fixed
 * script of steps with a unique message id per step, and retries a step until
 * it gets a 2xx (no answer, a refused connection or a 5xx while the server is
 * down), with the same id, so a step is never lost and a retry must not be
 * stepped twice. Now and then it re-posts a step that was already answered, as
 * gateways do. Every SMS conversation comes from its own number, so its
 * replies can be told apart at the emulator and checked against a reference
 * conversation recorded before the faults begin.
 */
#ifndef KATTO_TESTLIB_LOAD_H
#define KATTO_TESTLIB_LOAD_H

#include <stdbool.h>

#include "testlib.h"

enum testlib_route {
    TESTLIB_ROUTE_ELKS,   /* 46elks SMS webhook, route token */
    TESTLIB_ROUTE_TWILIO, /* Twilio SMS webhook, X-Twilio-Signature */
    TESTLIB_ROUTE_USSD,   /* Africa's Talking USSD step, answered inline */
    TESTLIB_ROUTE_COUNT
};

struct testlib_load_params {
    unsigned int seed;
    int threads;           /* posting threads (1..8) */
    int per_thread;        /* conversations each thread keeps going at once */
    int pause_ms;          /* pause after each post, per thread (0 = none) */
    int redeliver_percent; /* chance an answered step is posted again at once */
    unsigned int routes;   /* bit set of 1u << enum testlib_route */
    long first_number;     /* numbers are +35850 and 7 digits, counting up from this */
    const char *elks_token;
    const char *twilio_sid, *twilio_token;
    const char *ussd_token, *ussd_code;
    const char *const *sms_script;  /* NULL-terminated texts of one SMS conversation */
    const char *const *ussd_script; /* NULL-terminated `text` of each USSD step */
    char **ussd_screens;            /* the reference answer to each USSD step (borrowed) */
};

struct testlib_load_stats {
    long started, finished; /* conversations */
    long posts;             /* every request made */
    long accepted;          /* steps answered 2xx (each counted once) */
    long refused;           /* attempts with no answer or a non-2xx (retried) */
    long redelivered;       /* answered steps posted again on purpose */
    long ussd_wrong;        /* USSD answers unlike the reference (the first is printed) */
    long max_latency_ms;    /* slowest answer of all attempts that got one */
};

struct testlib_load;

/*
 * Starts the posting threads against base_url (copied). p and the strings it
 * points to are borrowed until testlib_load_free. Returns NULL on failure.
 */
struct testlib_load *testlib_load_start(const struct testlib_load_params *p, const char *base_url);

/* Points the generator at a restarted server (the port changes). */
void testlib_load_set_target(struct testlib_load *l, const char *base_url);

/*
 * Starts no new conversation and waits up to timeout_ms for the threads to
 * finish the ones under way. Returns 0, or -1 if some did not finish.
 */
int testlib_load_stop(struct testlib_load *l, int timeout_ms);

void testlib_load_stats(struct testlib_load *l, struct testlib_load_stats *out);

void testlib_load_free(struct testlib_load *l);

/*
 * Walks one conversation of route from number, one step at a time, the way
 * the generator does, and returns what it got: for SMS the texts of the
 * replies the emulator accepted for number (waiting for each step's reply and
 * for the outbox to settle), for USSD the screen of each step.
 * NULL-terminated, owned (testlib_load_strv_free); NULL on failure.
 */
char **testlib_load_reference(const struct testlib_load_params *p, const char *base_url,
                              const char *db_path, const struct testlib_emu *emu,
                              enum testlib_route route, const char *number);

void testlib_load_strv_free(char **v);

/* Rows queued in the outbox at db_path (read-only look), or -1 if it cannot be read. */
long testlib_load_outbox_queued(const char *db_path);

/*
 * POST /_emu/fail with a delay (testlib_emu_fail has none): queues a phase of
 * count sends in mode, answered after delay_ms for "slow". Returns 0 or -1.
 */
int testlib_load_emu_phase(const struct testlib_emu *e, const char *mode, int count, int delay_ms);

/* The emulator's highest record number so far, once it has stopped changing; -1 on error. */
long testlib_load_emu_quiet_seq(const struct testlib_emu *e);

struct testlib_reconcile {
    long conversations; /* SMS conversations checked */
    long expected;      /* replies the reference says each should get, summed */
    long replies;       /* sends the emulator accepted for these numbers */
    long duplicates;    /* accepted sends beyond one per expected reply */
    long lost;          /* expected replies never accepted: must be 0 */
    long wrong;         /* conversations whose replies differ from the reference: must be 0 */
    long unexplained;   /* duplicates that were not in flight at a kill (or answered late) */
    long failed_sends;  /* sends the emulator refused (4xx/5xx), all retried */
    long unanswered;    /* sends it held without an answer (mode timeout) */
    long late;          /* duplicates explained by an answer after Katto's timeout */
    long max_per_kill;  /* most duplicates in flight at one kill */
    long not_recorded;  /* final sends of a reply Katto has no record of: must be 0 */
};

/*
 * Reconciles the load's SMS conversations with the emulator's record
 * (testlib_emu_requests) and the stopped server's database:
 *  - each conversation's accepted sends, with runs of the same text taken as
 *    one, must be exactly the reference of its route (refs[route]): nothing
 *    lost, nothing extra, in order;
 *  - of each run, the last send must be the one Katto recorded
 *    (outbox.gateway_msg_id) and every earlier one a send Katto never
 *    recorded: in flight at a kill (a boundary in kill_seqs lies between it
 *    and the resend; kill_seqs[i] is the emulator's last record number when
 *    the i-th dead server was restarted), or, with late_answers, answered by
 *    the emulator only after Katto's timeout (mode "slow").
 * Problems are printed (at most a few); the counts go to out. Returns 0 if it
 * could read everything, -1 otherwise.
 */
int testlib_load_reconcile(struct testlib_load *l, const struct cJSON *records, const char *db_path,
                           char **const refs[TESTLIB_ROUTE_COUNT], const long *kill_seqs,
                           int nkills, bool late_answers, struct testlib_reconcile *out);

#endif
