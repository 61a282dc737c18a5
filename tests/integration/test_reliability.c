/*
 * test_reliability.c: Katto under steady webhook load (SMS over 46elks and
 * Twilio, USSD over Africa's Talking; tests/support/testlib_load.h) while
 * things go wrong: the server is killed with SIGKILL at random moments and
 * restarted on the same database, or the gateway answers 503, then not at all,
 * then too late, then recovers. Afterwards every accepted webhook must have
 * its replies at the emulator, in order, and every duplicate must be a send
 * that was in flight at a kill or that the gateway answered only after
 * Katto's timeout.
 *
 * Quick by default; scripts/soak runs the same tests longer through SOAK_*
 * variables (SOAK_SEED, SOAK_KILLS, SOAK_SECONDS, SOAK_OUTAGES, SOAK_THREADS). The seed is
 * printed: SOAK_SEED=<seed> repeats the same kill schedule and load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "testlib_load.h"

#define TWILIO_SID "AC00000000000000000000000000000002"
#define TWILIO_TOKEN "twilio-reliability-token"
#define ELKS_USER "u46r"
#define ELKS_PASS "p46r"
#define ELKS_HOOK "elks-reliability-token"
#define AT_KEY "at-reliability-key"
#define USSD_TOKEN "ussd-reliability-token"
#define MAX_PARALLEL 4 /* outbox.max_parallel of the crash test */
#define STR(x) #x
#define XSTR(x) STR(x)
/* outbox.rate well above what the load needs: a backlog would only slow the drain. */
#define CRASH_OUTBOX                                                                               \
    "{\"max_parallel\": " XSTR(MAX_PARALLEL) ", \"rate\": 200, \"retry_base\": 1, \"timeout\": 5}"

/* One conversation each: replies with no place-dependent opening hours, so no clock matters. */
static const char *const sms_script[] = {"APUA", "2", "00530", "2", "0", NULL};
static const char *const ussd_script[] = {"", "98", "98*2", "98*2*00530", NULL};

struct world {
    struct testlib_emu emu;
    struct testlib_server s;
    char *config;
    char **refs[TESTLIB_ROUTE_COUNT];
    struct testlib_load_params p;
};

static long env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    char *end;
    long n;

    if (v == NULL || *v == '\0')
        return fallback;
    n = strtol(v, &end, 10);
    if (*end != '\0' || n < 0) {
        fprintf(stderr, "%s: not a number: %s\n", name, v);
        abort();
    }
    return n;
}

static unsigned int seed_from_env(void)
{
    long s = env_long("SOAK_SEED", -1);

    if (s >= 0)
        return (unsigned int)s;
    return (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16);
}

/* xorshift32, for the kill schedule (the load has its own streams from the same seed). */
static unsigned int rnd(unsigned int *s)
{
    unsigned int x = *s ? *s : 0x9e3779b9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static void start_world(struct world *w, unsigned int seed, const char *outbox)
{
    static const char *const emu_args[] = {"--twilio-sid",
                                           TWILIO_SID,
                                           "--twilio-token",
                                           TWILIO_TOKEN,
                                           "--elks-user",
                                           ELKS_USER,
                                           "--elks-pass",
                                           ELKS_PASS,
                                           "--at-key",
                                           AT_KEY,
                                           "--at-user",
                                           "katto",
                                           NULL};

    memset(w, 0, sizeof(*w));
    assert_int_equal(testlib_emu_start(&w->emu, 0, emu_args), 0);
    assert_true(asprintf(&w->config,
                         "\"gateways\": {"
                         "\"twilio\": {\"account_sid\": \"%s\", \"auth_token\": \"%s\", "
                         "\"from\": \"+15005550006\", \"base_url\": \"%s\"},"
                         "\"46elks\": {\"username\": \"%s\", \"password\": \"%s\", \"from\": "
                         "\"Katto\", \"base_url\": \"%s\", \"webhook_token\": \"%s\"},"
                         "\"africastalking\": {\"username\": \"katto\", \"api_key\": \"%s\", "
                         "\"base_url\": \"%s\"}},"
                         "\"ussd\": {\"token\": \"%s\", \"session_timeout\": 3600, "
                         "\"service_codes\": {\"*500#\": \"helpline\"}},"
                         "\"sms\": {\"session_timeout\": 604800},"
                         "\"abuse\": {\"per_number_hour\": 1000, \"per_number_day\": 1000, "
                         "\"global_day\": 100000000},"
                         "\"outbox\": %s",
                         TWILIO_SID, TWILIO_TOKEN, w->emu.base_url, ELKS_USER, ELKS_PASS,
                         w->emu.base_url, ELKS_HOOK, AT_KEY, w->emu.base_url, USSD_TOKEN,
                         outbox) > 0);
    assert_int_equal(testlib_server_start(&w->s, w->config, NULL), 0);
    w->p = (struct testlib_load_params){
        .seed = seed,
        .threads = (int)env_long("SOAK_THREADS", 2),
        .per_thread = 8,
        .pause_ms = 20,
        .redeliver_percent = 5,
        .routes =
            (1u << TESTLIB_ROUTE_ELKS) | (1u << TESTLIB_ROUTE_TWILIO) | (1u << TESTLIB_ROUTE_USSD),
        .first_number = 1000,
        .elks_token = ELKS_HOOK,
        .twilio_sid = TWILIO_SID,
        .twilio_token = TWILIO_TOKEN,
        .ussd_token = USSD_TOKEN,
        .ussd_code = "*500#",
        .sms_script = sms_script,
        .ussd_script = ussd_script,
    };
}

/* One conversation per route, before any fault: what every conversation must get. */
static void record_references(struct world *w)
{
    static const char *const numbers[] = {"+358409000001", "+358409000002", "+358409000003"};

    for (int r = 0; r < TESTLIB_ROUTE_COUNT; r++) {
        w->refs[r] = testlib_load_reference(&w->p, w->s.base_url, w->s.db_path, &w->emu,
                                            (enum testlib_route)r, numbers[r]);
        assert_non_null(w->refs[r]);
        assert_non_null(w->refs[r][0]);
    }
    w->p.ussd_screens = w->refs[TESTLIB_ROUTE_USSD];
}

/*
 * Waits until the outbox is empty, with the fake clock (if now is not NULL)
 * running at twice the real speed. A long run leaves a backlog (outbox.rate):
 * fails only when it stops shrinking for 30 s.
 */
static bool drained(struct world *w, long long *now)
{
    long queued = testlib_load_outbox_queued(w->s.db_path), least = queued;

    for (int idle_ms = 0; queued != 0 && idle_ms < 30000; idle_ms += 500) {
        sleep_ms(500);
        if (now != NULL)
            testlib_server_set_clock(&w->s, ++*now);
        queued = testlib_load_outbox_queued(w->s.db_path);
        if (queued >= 0 && queued < least) {
            least = queued;
            idle_ms = 0;
        }
    }
    if (queued != 0)
        fprintf(stderr, "reliability: %ld replies still queued\n", queued);
    return queued == 0;
}

/* Stops the server, then checks the database: nothing failed or expired. */
static void stop_server_and_check_outbox(struct world *w)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    assert_int_equal(testlib_server_stop(&w->s, 20000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&w->s));
    assert_int_equal(sqlite3_open_v2(w->s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FILTER (WHERE status = 'queued'), "
                                        "count(*) FILTER (WHERE status = 'failed') FROM outbox",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void release_world(struct world *w)
{
    testlib_emu_stop(&w->emu);
    for (int r = 0; r < TESTLIB_ROUTE_COUNT; r++)
        testlib_load_strv_free(w->refs[r]);
    free(w->config);
    testlib_server_release(&w->s);
    testlib_emu_release(&w->emu);
}

static void assert_reconciled(const struct testlib_reconcile *rec)
{
    assert_true(rec->conversations > 0);
    assert_int_equal(rec->lost, 0);
    assert_int_equal(rec->wrong, 0);
    assert_int_equal(rec->unexplained, 0);
    assert_int_equal(rec->not_recorded, 0);
    assert_int_equal(rec->replies, rec->expected + rec->duplicates);
}

/*
 * kill -9 at random moments under load, restart on the same database: every
 * answered webhook gets its replies, in order; a retried webhook is not
 * stepped twice; the only duplicates are sends in flight at a kill, at most
 * outbox.max_parallel per kill.
 */
static void kill_9_under_load_loses_nothing_and_duplicates_only_sends_in_flight(void **state)
{
    unsigned int seed = seed_from_env(), r;
    int kills = (int)env_long("SOAK_KILLS", 4);
    long seconds = env_long("SOAK_SECONDS", 0);
    /* Mean time between kills: spread over SOAK_SECONDS, else about a second. */
    long gap_ms = seconds > 0 && kills > 0 ? seconds * 1000 / kills : 1000;
    long *kill_seqs = calloc((size_t)kills + 1, sizeof(*kill_seqs));
    struct world w;
    struct testlib_load *load;
    struct testlib_load_stats st;
    struct testlib_reconcile rec;
    cJSON *records;

    (void)state;
    printf("reliability: crash test seed %u (repeat with SOAK_SEED=%u)\n", seed, seed);
    fflush(stdout);
    r = seed;
    start_world(&w, seed, CRASH_OUTBOX);
    record_references(&w);
    /* Each send held 50 ms at the gateway: a kill often finds sends in flight. */
    assert_int_equal(testlib_load_emu_phase(&w.emu, "slow", -1, 50), 0);
    load = testlib_load_start(&w.p, w.s.base_url);
    assert_non_null(load);
    for (int k = 0; k < kills; k++) {
        sleep_ms(gap_ms / 2 + (long)(rnd(&r) % (unsigned int)(gap_ms + 1)));
        kill(w.s.pid, SIGKILL);
        waitpid(w.s.pid, NULL, 0);
        w.s.pid = -1;
        kill_seqs[k] = testlib_load_emu_quiet_seq(&w.emu);
        assert_true(kill_seqs[k] >= 0);
        sleep_ms((long)(rnd(&r) % 300)); /* down a little longer: webhooks are refused */
        assert_int_equal(testlib_server_restart(&w.s, w.config, NULL), 0);
        testlib_load_set_target(load, w.s.base_url);
    }
    sleep_ms(gap_ms / 2);
    assert_int_equal(testlib_load_stop(load, 60000), 0);
    assert_true(drained(&w, NULL));
    stop_server_and_check_outbox(&w);
    testlib_load_stats(load, &st);
    records = testlib_emu_requests(&w.emu);
    assert_non_null(records);
    assert_int_equal(
        testlib_load_reconcile(load, records, w.s.db_path, w.refs, kill_seqs, kills, false, &rec),
        0);
    printf("reliability: crash seed=%u kills=%d conversations=%ld webhooks accepted=%ld "
           "refused while down=%ld redelivered=%ld replies=%ld expected=%ld duplicates=%ld "
           "(most at one kill %ld, bound %d per kill) lost=%ld\n",
           seed, kills, st.finished, st.accepted, st.refused, st.redelivered, rec.replies,
           rec.expected, rec.duplicates, rec.max_per_kill, MAX_PARALLEL, rec.lost);
    assert_int_equal(st.started, st.finished);
    assert_int_equal(st.ussd_wrong, 0);
    assert_reconciled(&rec);
    assert_int_equal(rec.failed_sends + rec.unanswered + rec.late, 0);
    assert_true(rec.max_per_kill <= MAX_PARALLEL);
    assert_true(rec.duplicates <= (long)MAX_PARALLEL * kills);
    if (kills > 0)
        assert_true(st.refused > 0); /* the kills hit the load */
    cJSON_Delete(records);
    testlib_load_free(load);
    free(kill_seqs);
    release_world(&w);
}

struct phase_count {
    const struct testlib_emu *emu;
    int want; /* failure-phase sends recorded */
};

static bool phases_consumed(void *arg)
{
    struct phase_count *pc = arg;
    cJSON *all = testlib_emu_requests(pc->emu);
    const cJSON *x;
    int n = 0;

    cJSON_ArrayForEach(x, all)
    {
        const cJSON *mode = cJSON_GetObjectItem(x, "mode");

        n += cJSON_IsString(mode) && strcmp(mode->valuestring, "ok") != 0 &&
             cJSON_IsString(cJSON_GetObjectItem(x, "gateway"));
    }
    cJSON_Delete(all);
    return n >= pc->want;
}

/* Waits for cond while the fake clock runs at twice the real speed from *now. */
static bool wait_ticking(struct world *w, long long *now, bool (*cond)(void *), void *arg,
                         int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 500) {
        if (cond(arg))
            return true;
        sleep_ms(500);
        *now += 1;
        testlib_server_set_clock(&w->s, *now);
    }
    return false;
}

/*
 * The gateway answers 503, then not at all (Katto times out), then too late
 * (after Katto's timeout: the message went out although Katto counts it as
 * failed), then recovers, while webhooks keep arriving. Every webhook is
 * answered at once; every reply is delivered in order; the only duplicates
 * are the sends answered too late.
 */
static void gateway_outage_delays_replies_but_loses_none_and_webhooks_keep_answering(void **state)
{
    enum { N503 = 25, NTIMEOUT = 8, NLATE = 6 };
    unsigned int seed = seed_from_env();
    int outages = (int)env_long("SOAK_OUTAGES", 1);
    struct world w;
    struct testlib_load *load;
    struct testlib_load_stats st;
    struct testlib_reconcile rec;
    struct phase_count pc = {.want = 0};
    long long now = (long long)time(NULL);
    cJSON *records;

    (void)state;
    printf("reliability: outage test seed %u (repeat with SOAK_SEED=%u)\n", seed, seed);
    fflush(stdout);
    /* The fake clock makes the retries' back-off (up to minutes) pass at once at recovery. */
    start_world(&w, seed,
                "{\"max_parallel\": 4, \"rate\": 200, \"retry_base\": 1, \"timeout\": 1}");
    testlib_server_set_clock(&w.s, now);
    record_references(&w);
    pc.emu = &w.emu;
    load = testlib_load_start(&w.p, w.s.base_url);
    assert_non_null(load);
    for (int o = 0; o < outages; o++) {
        assert_int_equal(testlib_load_emu_phase(&w.emu, "503", N503, 0), 0);
        assert_int_equal(testlib_load_emu_phase(&w.emu, "timeout", NTIMEOUT, 0), 0);
        assert_int_equal(testlib_load_emu_phase(&w.emu, "slow", NLATE, 2500), 0);
        pc.want += N503 + NTIMEOUT + NLATE;
        assert_true(wait_ticking(&w, &now, phases_consumed, &pc, 60000));
        /* Recovered: let every back-off run out (well within outbox.max_age and
         * the session timeouts, so no conversation starts over). */
        now += 1000;
        testlib_server_set_clock(&w.s, now);
        sleep_ms(1000);
    }
    assert_int_equal(testlib_load_stop(load, 60000), 0);
    assert_true(drained(&w, &now));
    stop_server_and_check_outbox(&w);
    testlib_load_stats(load, &st);
    records = testlib_emu_requests(&w.emu);
    assert_non_null(records);
    assert_int_equal(
        testlib_load_reconcile(load, records, w.s.db_path, w.refs, NULL, 0, true, &rec), 0);
    printf("reliability: outage seed=%u outages=%d conversations=%ld webhooks accepted=%ld "
           "refused=%ld slowest answer=%ld ms replies=%ld expected=%ld sends refused by the "
           "gateway=%ld unanswered=%ld duplicates=%ld (answered after the timeout: %ld)\n",
           seed, outages, st.finished, st.accepted, st.refused, st.max_latency_ms, rec.replies,
           rec.expected, rec.failed_sends, rec.unanswered, rec.duplicates, rec.late);
    assert_int_equal(st.started, st.finished);
    assert_int_equal(st.ussd_wrong, 0);
    /* The webhook side never waits for the gateway: every webhook answered 2xx, promptly. */
    assert_int_equal(st.refused, 0);
    assert_true(st.max_latency_ms < 1000);
    assert_reconciled(&rec);
    assert_int_equal(rec.failed_sends, (long)N503 * outages);
    assert_int_equal(rec.unanswered, (long)NTIMEOUT * outages);
    /* Every duplicate is a send answered after the timeout, and such sends were made. */
    assert_int_equal(rec.duplicates, rec.late);
    assert_true(rec.late >= 1 && rec.late <= (long)NLATE * outages);
    cJSON_Delete(records);
    testlib_load_free(load);
    release_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_9_under_load_loses_nothing_and_duplicates_only_sends_in_flight),
        cmocka_unit_test(gateway_outage_delays_replies_but_loses_none_and_webhooks_keep_answering),
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
