/*
 * test_callback.c: callback requests on a real database, outbox, flow set and
 * directory: sealing, the on-call worker's text, reminders in turn,
 * escalation to the lead and the client, retention, erasure. Time is passed
 * in; nothing sleeps and nothing is sent (the event loop never runs, so the
 * outbox rows stay queued for inspection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "callback.h"
#include "db.h"
#include "err.h"
#include "http_client.h"
#include "log.h"
#include "outbox.h"
#include "place.h"
#include "testlib.h"

#define TEAMS                                                                                      \
    "[{\"id\": \"hel-outreach\", \"name\": \"Helsingin etsivä työ\", \"city\": \"Helsinki\","    \
    " \"on_call\": [\"+358401111111\", \"+358402222222\"], \"lead\": \"+358403333333\","           \
    " \"calls_from\": \"09 310 12345\", \"hours\": \"24/7\"},"                                     \
    " {\"id\": \"kuo-outreach\", \"name\": \"Kuopion etsivä työ\", \"city\": \"Kuopio\","        \
    " \"on_call\": [\"+358404444444\"], \"calls_from\": \"017 182 000\","                          \
    " \"hours\": \"Mo-Fr 08:00-16:00\"}]"
#define ON_CALL_0 "+358401111111"
#define ON_CALL_1 "+358402222222"
#define LEAD "+358403333333"
#define KUO_ON_CALL "+358404444444"

#define SENDER "+358409876543" /* a client; "9876543" must never appear in clear */
#define SENDER_DIGITS "9876543"
#define OTHER "+358451234567" /* another number the client gave; "1234567" likewise */
#define OTHER_DIGITS "1234567"
#define TOPIC "eviction"
#define MEET "Rautatientori klo 15"
#define HEL_SOCIAL "+358 (0)206 96006" /* Helsinki's social emergency number in db/data */
#define REMIND 1800                    /* callbacks.remind_after by default */
#define DAY 86400LL

static struct place_table *places;
static struct directory *services;
static struct flow_set *flows;

struct fixture {
    char *dir;
    sqlite3 *db;
    struct event_base *base;
    struct metrics *metrics;
    struct batch *batch;
    struct http_client *http;
    struct outbox *outbox;
    struct config cfg;
    struct team_list teams;
    struct callback_service *cs;
    uint8_t number_key[CRYPTO_KEY_LEN], contact_key[CRYPTO_KEY_LEN];
};

/* Unix time of a Helsinki wall-clock time. */
static long long local_time(int y, int mon, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_isdst = -1};

    return (long long)mktime(&tm);
}

/* Wednesday 18 November 2026, 13:00 in Helsinki. */
static long long now0(void)
{
    return local_time(2026, 11, 18, 13, 0);
}

static void set_string(char **field, const char *value)
{
    free(*field);
    assert_non_null(*field = strdup(value));
}

static void start_service(struct fixture *f)
{
    char err[ERR_LEN] = "";
    struct callback_deps deps = {
        .db = f->db,
        .outbox = f->outbox,
        .cfg = &f->cfg,
        .teams = &f->teams,
        .flows = &flows,
        .services = &services,
        .metrics = f->metrics,
        .number_key = f->number_key,
        .contact_key = f->contact_key,
    };

    f->cs = callback_service_new(&deps, err);
    if (f->cs == NULL)
        fail_msg("callback_service_new: %s", err);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[4096], err[ERR_LEN] = "";

    f->dir = testlib_tmpdir();
    snprintf(path, sizeof(path), "%s/katto.db", f->dir);
    assert_non_null(f->db = db_open(path, err));
    assert_int_equal(db_migrate(f->db, db_migrations, db_migrations_count, err), 0);
    config_init(&f->cfg);
    set_string(&f->cfg.callbacks.teams, TEAMS);
    set_string(&f->cfg.default_gateway, "console");
    set_string(&f->cfg.public_url, "https://katto.example");
    assert_int_equal(team_list_parse(f->cfg.callbacks.teams, &f->teams, err), 0);
    memset(f->number_key, 0x11, sizeof(f->number_key));
    memset(f->contact_key, 0x22, sizeof(f->contact_key));
    assert_non_null(f->base = event_base_new());
    assert_non_null(f->metrics = metrics_new());
    assert_non_null(f->batch = batch_new(f->base, f->db, f->metrics));
    assert_non_null(f->http = http_client_new(f->base, f->cfg.outbox.max_parallel, err));
    assert_non_null(f->outbox = outbox_new(f->base, f->db, f->batch, f->http, f->metrics, &f->cfg,
                                           f->number_key, err));
    start_service(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    callback_service_free(f->cs);
    outbox_stop(f->outbox);
    http_client_free(f->http);
    outbox_free(f->outbox);
    batch_free(f->batch);
    metrics_free(f->metrics);
    event_base_free(f->base);
    team_list_release(&f->teams);
    config_release(&f->cfg);
    assert_int_equal(sqlite3_close(f->db), SQLITE_OK);
    testlib_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int group_setup(void **state)
{
    struct flow_check_options opt = {FLOW_USSD_BUDGET_DEFAULT, FLOW_SMS_SEGMENTS_DEFAULT};
    struct diag d = {0};
    char dir[4096];

    (void)state;
    log_set_level(LOG_LEVEL_WARN); /* no line per migration */
    setenv("TZ", "Europe/Helsinki", 1);
    tzset();
    snprintf(dir, sizeof(dir), "%s/flows", testlib_src_dir());
    flows = flow_set_load_dir(dir, &opt, &d);
    if (flows == NULL)
        diag_print(&d, stderr);
    diag_release(&d);
    if (flows == NULL || testlib_load_directory(&places, &services) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    flow_set_unref(flows);
    place_table_free(places);
    directory_free(services);
    return 0;
}

/* ---- Helpers ---------------------------------------------------------------------------- */

static void begin(struct fixture *f)
{
    char err[ERR_LEN];

    assert_int_equal(db_exec(f->db, "BEGIN IMMEDIATE", "test", err), 0);
}

static void commit(struct fixture *f)
{
    char err[ERR_LEN];

    assert_int_equal(db_exec(f->db, "COMMIT", "test", err), 0);
}

static void exec(struct fixture *f, const char *sql)
{
    char err[ERR_LEN];

    if (db_exec(f->db, sql, "test", err) != 0)
        fail_msg("%s", err);
}

/* The first column of the first row of sql as an integer (-1 for none, -2 for NULL). */
static long long q_int(struct fixture *f, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    sqlite3_stmt *st;
    long long v = -1;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The first column of the first row of sql as text, owned (NULL for none or NULL). */
static char *q_text(struct fixture *f, const char *fmt, ...)
{
    char sql[1024], *v = NULL;
    va_list ap;
    sqlite3_stmt *st;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

/* Opens the sealed column of the request ref with aad; owned, or NULL if it does not open. */
static char *q_open(struct fixture *f, const char *ref, const char *column, const char *aad)
{
    char sql[256], *plain = NULL;
    size_t len;
    sqlite3_stmt *st;

    snprintf(sql, sizeof(sql), "SELECT %s FROM callback_requests WHERE ref = ?1", column);
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB &&
        crypto_open(f->number_key, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                    aad, &plain, &len) != 0)
        plain = NULL;
    sqlite3_finalize(st);
    return plain;
}

/* Rows of table with needle anywhere in any column (SQL instr on each column as bytes). */
static long long table_holds(struct fixture *f, const char *table, const char *needle)
{
    sqlite3_stmt *cols;
    long long n = 0;
    char sql[512];

    snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')", table);
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &cols, NULL), SQLITE_OK);
    while (sqlite3_step(cols) == SQLITE_ROW) {
        sqlite3_stmt *st;

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM %s WHERE instr(CAST(%s AS BLOB), CAST(?1 AS BLOB)) > 0",
                 table, (const char *)sqlite3_column_text(cols, 0));
        assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
        sqlite3_bind_text(st, 1, needle, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        n += sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_finalize(cols);
    return n;
}

/* One queued outbox row, its number opened. */
struct sent {
    long long id;
    char contact[CRYPTO_CONTACT_KEY_HEX];
    char gateway[16], encoding[8];
    int segments;
    char *to, *body;
};

/* The outbox rows after id `after`, in order, at most max. */
static size_t sent_after(struct fixture *f, long long after, struct sent *out, size_t max)
{
    sqlite3_stmt *st;
    size_t n = 0;
    size_t len;

    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT id, contact_key, gateway, encoding, segments, "
                                        "to_enc, body FROM outbox WHERE id > ?1 ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, after);
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        struct sent *s = &out[n++];

        memset(s, 0, sizeof(*s));
        s->id = sqlite3_column_int64(st, 0);
        snprintf(s->contact, sizeof(s->contact), "%s", sqlite3_column_text(st, 1));
        snprintf(s->gateway, sizeof(s->gateway), "%s", sqlite3_column_text(st, 2));
        snprintf(s->encoding, sizeof(s->encoding), "%s", sqlite3_column_text(st, 3));
        s->segments = sqlite3_column_int(st, 4);
        assert_int_equal(crypto_open(f->number_key, sqlite3_column_blob(st, 5),
                                     (size_t)sqlite3_column_bytes(st, 5), "outbox.to_enc", &s->to,
                                     &len),
                         0);
        s->body = strdup((const char *)sqlite3_column_text(st, 6));
    }
    sqlite3_finalize(st);
    return n;
}

static void sent_release(struct sent *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].to);
        free(s[i].body);
    }
}

static long long last_outbox_id(struct fixture *f)
{
    return q_int(f, "SELECT coalesce(max(id), 0) FROM outbox");
}

/* Checks that a row went to number, keyed by its contact key. */
static void assert_sent_to(struct fixture *f, const struct sent *s, const char *number)
{
    char contact[CRYPTO_CONTACT_KEY_HEX];

    crypto_contact_key(f->contact_key, number, contact);
    assert_string_equal(s->to, number);
    assert_string_equal(s->contact, contact);
    assert_string_equal(s->gateway, "console");
}

/* A request from SENDER to Helsinki's team, safe to text, due in two hours. */
static struct callback_request hel_request(const char *ref, long long now)
{
    return (struct callback_request){
        .ref = ref,
        .team = "hel-outreach",
        .city = "Helsinki",
        .lang = "fi",
        .window = "today",
        .topic = TOPIC,
        .sender = SENDER,
        .sender_safe = true,
        .number = SENDER,
        .due_at = now + 2 * 3600,
    };
}

/* Files req with a fresh reference (written into ref) in a transaction of its own. */
static void file(struct fixture *f, struct callback_request *req, char ref[CALLBACK_REF_LEN],
                 long long now)
{
    char err[ERR_LEN] = "";

    begin(f);
    if (callback_new_ref(f->cs, ref, err) != 0)
        fail_msg("callback_new_ref: %s", err);
    req->ref = ref;
    if (callback_file(f->cs, req, now, err) != 0)
        fail_msg("callback_file: %s", err);
    commit(f);
}

static int tick(struct fixture *f, long long now)
{
    char err[ERR_LEN] = "";
    int n;

    begin(f);
    if ((n = callback_tick(f->cs, now, err)) < 0)
        fail_msg("callback_tick: %s", err);
    commit(f);
    return n;
}

static int purge(struct fixture *f, long long now, int limit)
{
    char err[ERR_LEN] = "";
    int n;

    begin(f);
    if ((n = callback_purge(f->cs, now, limit, err)) < 0)
        fail_msg("callback_purge: %s", err);
    commit(f);
    return n;
}

static void claim(struct fixture *f, const char *ref, long long now)
{
    char sql[256];

    exec(f, "INSERT OR IGNORE INTO workers (id, name, team, token_hash, created_at, expires_at) "
            "VALUES (1, 'Aino', 'hel-outreach', 'ab', 0, 9999999999)");

    snprintf(sql, sizeof(sql),
             "UPDATE callback_requests SET claimed_by = 1, claimed_at = %lld WHERE ref = '%s'", now,
             ref);
    exec(f, sql);
}

/* ---- References ------------------------------------------------------------------------- */

static bool ref_shape(const char *ref, size_t digits)
{
    return strlen(ref) == 2 + digits && strncmp(ref, "K-", 2) == 0 &&
           strspn(ref + 2, "0123456789") == digits;
}

static void test_ref_four_digits_then_five(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN], err[ERR_LEN];

    begin(f);
    assert_int_equal(callback_new_ref(f->cs, ref, err), 0);
    assert_true(ref_shape(ref, 4));
    /* Every four-digit reference taken by an open request: a fifth digit. */
    exec(f, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999) "
            "INSERT INTO callback_requests (ref, team, city, lang, time_window, notify_sender, "
            "created_at, due_at, purge_at) SELECT printf('K-%04d', i), 'hel-outreach', "
            "'Helsinki', 'fi', 'now', 0, 0, 0, 0 FROM n");
    assert_int_equal(callback_new_ref(f->cs, ref, err), 0);
    assert_true(ref_shape(ref, 5));
    /* Closed requests do not hold their references. */
    exec(f, "UPDATE callback_requests SET closed_at = 1, outcome = 'reached'");
    assert_int_equal(callback_new_ref(f->cs, ref, err), 0);
    assert_true(ref_shape(ref, 4));
    commit(f);
}

static void test_refs_unique_among_open(void **state)
{
    struct fixture *f = *state;
    char refs[40][CALLBACK_REF_LEN];

    for (int i = 0; i < 40; i++) {
        struct callback_request req = hel_request(NULL, now0());

        file(f, &req, refs[i], now0());
    }
    assert_int_equal(q_int(f, "SELECT count(DISTINCT ref) FROM callback_requests"), 40);
}

/* ---- Filing ----------------------------------------------------------------------------- */

static void test_file_seals_what_identifies(void **state)
{
    struct fixture *f = *state;
    char safe[CALLBACK_REF_LEN], unsafe[CALLBACK_REF_LEN], contact[CRYPTO_CONTACT_KEY_HEX], *s;
    struct callback_request a = hel_request(NULL, now0());
    struct callback_request b = hel_request(NULL, now0());
    long long now = now0();

    b.sender_safe = false;
    b.number = NULL;
    b.meet = MEET;
    b.topic = "debt";
    file(f, &a, safe, now);
    file(f, &b, unsafe, now);
    b.number = OTHER;
    b.meet = NULL;
    file(f, &b, unsafe, now);

    /* Nothing in clear, in any column of either table. */
    const char *needles[] = {SENDER_DIGITS, OTHER_DIGITS, TOPIC, "debt", "Rautatientori"};
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
        assert_int_equal(table_holds(f, "callback_requests", needles[i]), 0);
        assert_int_equal(table_holds(f, "outbox", needles[i]), 0);
    }
    /* Safe sender: the number and the sender are kept sealed, each under its column. */
    assert_string_equal(s = q_open(f, safe, "number_enc", "callback_requests.number_enc"), SENDER);
    free(s);
    assert_string_equal(s = q_open(f, safe, "sender_enc", "callback_requests.sender_enc"), SENDER);
    free(s);
    assert_string_equal(s = q_open(f, safe, "topic_enc", "callback_requests.topic_enc"), TOPIC);
    free(s);
    assert_null(q_open(f, safe, "number_enc", "callback_requests.sender_enc"));
    assert_int_equal(q_int(f, "SELECT notify_sender FROM callback_requests WHERE ref = '%s'", safe),
                     1);
    crypto_contact_key(f->contact_key, SENDER, contact);
    assert_string_equal(
        s = q_text(f, "SELECT contact_key FROM callback_requests WHERE ref = '%s'", safe), contact);
    free(s);
    assert_int_equal(q_int(f,
                           "SELECT count(*) FROM callback_requests WHERE ref = '%s' AND team = "
                           "'hel-outreach' AND city = 'Helsinki' AND lang = 'fi' AND time_window "
                           "= 'today' AND created_at = %lld AND due_at = %lld AND notified = 1 AND "
                           "next_remind_at = %lld AND purge_at = %lld AND meet_enc IS NULL AND "
                           "claimed_by IS NULL AND closed_at IS NULL AND escalated_at IS NULL",
                           safe, now, now + 7200, now + REMIND, now + 14 * DAY),
                     1);
    /* Unsafe sender: never kept, never to be texted; the other number or the meeting is. */
    assert_int_equal(
        q_int(f,
              "SELECT count(*) FROM callback_requests WHERE ref = '%s' AND notify_sender = 0 "
              "AND sender_enc IS NULL",
              unsafe),
        1);
    assert_string_equal(s = q_open(f, unsafe, "number_enc", "callback_requests.number_enc"), OTHER);
    free(s);
    assert_string_equal(
        s = q_text(f, "SELECT contact_key FROM callback_requests WHERE ref = '%s'", unsafe),
        contact);
    free(s);
    assert_int_equal(q_int(f, "SELECT count(*) FROM callback_requests WHERE number_enc IS NULL AND "
                              "meet_enc IS NOT NULL AND notify_sender = 0"),
                     1);
    assert_null(q_open(f, unsafe, "sender_enc", "callback_requests.sender_enc"));
}

static void test_file_texts_first_on_call(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN], want[128];
    struct callback_request req = hel_request(NULL, now0());
    struct sent s[4];
    size_t n;

    file(f, &req, ref, now0());
    assert_int_equal(n = sent_after(f, 0, s, 4), 1);
    assert_sent_to(f, &s[0], ON_CALL_0);
    snprintf(want, sizeof(want),
             "Katto: uusi soittopyyntö %s, Helsinki, tänään. "
             "https://katto.example/worker",
             ref);
    assert_string_equal(s[0].body, want);
    assert_string_equal(s[0].encoding, "gsm7");
    assert_int_equal(s[0].segments, 1);
    assert_null(strstr(s[0].body, SENDER_DIGITS));
    assert_null(strstr(s[0].body, TOPIC));
    assert_int_equal(q_int(f, "SELECT count(*) FROM outbox WHERE status = 'queued'"), 1);
    sent_release(s, n);
}

static void test_file_window_words_and_link(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN], want[128];
    struct callback_request req = hel_request(NULL, now0());
    struct sent s[1];
    long long last;

    req.window = "now";
    last = last_outbox_id(f);
    file(f, &req, ref, now0());
    assert_int_equal(sent_after(f, last, s, 1), 1);
    snprintf(want, sizeof(want),
             "Katto: uusi soittopyyntö %s, Helsinki, nyt. https://katto.example/worker", ref);
    assert_string_equal(s[0].body, want);
    sent_release(s, 1);

    /* A trailing slash in public_url gives no double slash. */
    set_string(&f->cfg.public_url, "https://katto.example/");
    req.window = "tomorrow";
    last = last_outbox_id(f);
    file(f, &req, ref, now0());
    assert_int_equal(sent_after(f, last, s, 1), 1);
    snprintf(want, sizeof(want),
             "Katto: uusi soittopyyntö %s, Helsinki, huomenna. https://katto.example/worker", ref);
    assert_string_equal(s[0].body, want);
    sent_release(s, 1);

    /* Without a public URL there is no link. */
    set_string(&f->cfg.public_url, "");
    last = last_outbox_id(f);
    file(f, &req, ref, now0());
    assert_int_equal(sent_after(f, last, s, 1), 1);
    snprintf(want, sizeof(want), "Katto: uusi soittopyyntö %s, Helsinki, huomenna.", ref);
    assert_string_equal(s[0].body, want);
    sent_release(s, 1);
}

static void test_file_rejects_unknown_team(void **state)
{
    struct fixture *f = *state;
    char err[ERR_LEN] = "";
    struct callback_request req = hel_request("K-1234", now0());

    req.team = "no-such-team";
    begin(f);
    assert_int_equal(callback_file(f->cs, &req, now0(), err), -1);
    assert_non_null(strstr(err, "unknown team"));
    assert_non_null(strstr(err, "K-1234"));
    req.team = "hel-outreach";
    req.window = "someday";
    assert_int_equal(callback_file(f->cs, &req, now0(), err), -1);
    assert_non_null(strstr(err, "window"));
    commit(f);
    assert_int_equal(q_int(f, "SELECT count(*) FROM callback_requests"), 0);
    assert_int_equal(q_int(f, "SELECT count(*) FROM outbox"), 0);
}

/* ---- Reminders -------------------------------------------------------------------------- */

static void test_reminders_go_round(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN], want[160];
    struct callback_request req = hel_request(NULL, now0());
    long long now = now0(), last;
    struct sent s[2];

    req.due_at = now + 10 * 3600;
    file(f, &req, ref, now);
    last = last_outbox_id(f);
    assert_int_equal(tick(f, now + REMIND - 1), 0);
    assert_int_equal(last_outbox_id(f), last);

    assert_int_equal(tick(f, now + REMIND), 1);
    assert_int_equal(sent_after(f, last, s, 2), 1);
    assert_sent_to(f, &s[0], ON_CALL_1);
    snprintf(want, sizeof(want),
             "Katto: muistutus: soittopyyntö %s (Helsinki) odottaa ottajaa. "
             "https://katto.example/worker",
             ref);
    assert_string_equal(s[0].body, want);
    assert_int_equal(s[0].segments, 1);
    last = s[0].id;
    sent_release(s, 1);
    /* Once per step: the same time again reminds nobody. */
    assert_int_equal(tick(f, now + REMIND), 0);

    assert_int_equal(tick(f, now + 2 * REMIND), 1);
    assert_int_equal(sent_after(f, last, s, 2), 1);
    assert_sent_to(f, &s[0], ON_CALL_0);
    sent_release(s, 1);
    assert_int_equal(q_int(f, "SELECT notified FROM callback_requests"), 3);
    assert_int_equal(q_int(f, "SELECT next_remind_at FROM callback_requests"), now + 3 * REMIND);
}

static void test_claimed_request_is_left_alone(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN];
    struct callback_request req = hel_request(NULL, now0());
    long long now = now0(), last;

    file(f, &req, ref, now);
    claim(f, ref, now + 60);
    last = last_outbox_id(f);
    assert_int_equal(tick(f, now + REMIND), 0);
    assert_int_equal(tick(f, req.due_at + 1), 0);
    assert_int_equal(tick(f, req.due_at + DAY), 0);
    assert_int_equal(last_outbox_id(f), last);
    assert_int_equal(q_int(f, "SELECT escalated_at FROM callback_requests"), -2);
    assert_int_equal(q_int(f, "SELECT next_remind_at FROM callback_requests"), -2);
    assert_int_equal(q_int(f, "SELECT notified FROM callback_requests"), 1);
}

static void test_reminder_waits_for_working_hours(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN];
    long long filed = local_time(2026, 11, 18, 15, 50), thursday = local_time(2026, 11, 19, 8, 0);
    struct callback_request req = hel_request(NULL, filed);
    struct sent s[2];
    long long last;

    req.team = "kuo-outreach";
    req.city = "Kuopio";
    req.window = "tomorrow";
    req.due_at = local_time(2026, 11, 19, 16, 0);
    file(f, &req, ref, filed);
    last = last_outbox_id(f);
    /* 16:20: the team has gone home; nobody is texted at night. */
    assert_int_equal(tick(f, filed + REMIND), 0);
    assert_int_equal(q_int(f, "SELECT next_remind_at FROM callback_requests"), thursday + REMIND);
    assert_int_equal(tick(f, thursday + REMIND - 1), 0);
    assert_int_equal(last_outbox_id(f), last);
    assert_int_equal(tick(f, thursday + REMIND), 1);
    assert_int_equal(sent_after(f, last, s, 2), 1);
    assert_sent_to(f, &s[0], KUO_ON_CALL); /* the only one on call */
    sent_release(s, 1);
}

/* ---- Escalation ------------------------------------------------------------------------- */

static void test_escalation_tells_lead_and_client(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN], want[160];
    struct callback_request req = hel_request(NULL, now0());
    long long now = now0(), last;
    struct sent s[4];
    size_t n;

    req.due_at = now + 600; /* before any reminder */
    file(f, &req, ref, now);
    last = last_outbox_id(f);
    assert_int_equal(q_int(f, "SELECT count(*) FROM send_counts"), 0);
    assert_int_equal(tick(f, req.due_at - 1), 0);
    assert_int_equal(tick(f, req.due_at), 2);
    assert_int_equal(n = sent_after(f, last, s, 4), 2);
    assert_sent_to(f, &s[0], LEAD);
    snprintf(want, sizeof(want),
             "Katto: soittopyyntö %s (Helsinki) ylitti luvatun ajan ilman soittoa.", ref);
    assert_string_equal(s[0].body, want);
    assert_sent_to(f, &s[1], SENDER);
    assert_true(strncmp(s[1].body, "Pahoittelut", 11) == 0);
    assert_non_null(strstr(s[1].body, ref));
    assert_non_null(strstr(s[1].body, "\nSosiaalipäivystys (Helsinki): " HEL_SOCIAL "."));
    assert_null(strstr(s[1].body, TOPIC));
    /* The client's text counts towards the abuse caps; the lead's does not. */
    assert_int_equal(
        q_int(f, "SELECT count(*) FROM send_counts WHERE contact_key = '%s'", s[1].contact), 1);
    sent_release(s, n);
    assert_int_equal(q_int(f, "SELECT escalated_at FROM callback_requests"), req.due_at);
    assert_int_equal(q_int(f, "SELECT next_remind_at FROM callback_requests"), -2);

    /* Once: no second escalation, and no more reminders. */
    assert_int_equal(tick(f, req.due_at + REMIND), 0);
    assert_int_equal(tick(f, req.due_at + DAY), 0);
    assert_int_equal(q_int(f, "SELECT notified FROM callback_requests"), 1);
    assert_int_equal(callback_overdue_count(f->cs, req.due_at + DAY), 1);
}

static void test_escalation_in_the_clients_language(void **state)
{
    struct fixture *f = *state;
    char sv[CALLBACK_REF_LEN], xx[CALLBACK_REF_LEN];
    struct callback_request req = hel_request(NULL, now0());
    long long last;
    struct sent s[4];
    size_t n;

    req.due_at = now0() + 600;
    req.lang = "sv";
    file(f, &req, sv, now0());
    req.lang = "xx"; /* not spoken: the helpline's first language */
    req.sender = OTHER;
    req.number = OTHER;
    file(f, &req, xx, now0());
    last = last_outbox_id(f);
    assert_int_equal(tick(f, req.due_at), 4);
    assert_int_equal(n = sent_after(f, last, s, 4), 4);
    assert_sent_to(f, &s[1], SENDER);
    assert_non_null(strstr(s[1].body, sv));
    assert_non_null(strstr(s[1].body, "\nSocialjouren (Helsingfors): " HEL_SOCIAL "."));
    assert_sent_to(f, &s[3], OTHER);
    assert_non_null(strstr(s[3].body, xx));
    assert_non_null(strstr(s[3].body, "\nSosiaalipäivystys (Helsinki): " HEL_SOCIAL "."));
    sent_release(s, n);
}

static void test_escalation_never_texts_unsafe_sender(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN], contact[CRYPTO_CONTACT_KEY_HEX];
    struct callback_request req = hel_request(NULL, now0());
    long long last;
    struct sent s[4];
    size_t n;

    req.sender_safe = false;
    req.number = OTHER;
    req.due_at = now0() + 600;
    file(f, &req, ref, now0());
    last = last_outbox_id(f);
    assert_int_equal(tick(f, req.due_at), 1);
    assert_int_equal(n = sent_after(f, last, s, 4), 1);
    assert_sent_to(f, &s[0], LEAD);
    sent_release(s, n);
    crypto_contact_key(f->contact_key, SENDER, contact);
    assert_int_equal(q_int(f, "SELECT count(*) FROM outbox WHERE contact_key = '%s'", contact), 0);
    crypto_contact_key(f->contact_key, OTHER, contact);
    assert_int_equal(q_int(f, "SELECT count(*) FROM outbox WHERE contact_key = '%s'", contact), 0);
    assert_int_equal(q_int(f, "SELECT escalated_at FROM callback_requests"), req.due_at);
}

static void test_escalation_without_lead_or_social_number(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN];
    struct callback_request req = hel_request(NULL, now0());
    long long last;
    struct sent s[4];
    size_t n;

    req.team = "kuo-outreach";
    req.city = "Kuopio"; /* no social emergency number in the shipped data */
    req.lang = "en";
    req.due_at = now0() + 600;
    file(f, &req, ref, now0());
    last = last_outbox_id(f);
    assert_int_equal(tick(f, req.due_at), 1);
    assert_int_equal(n = sent_after(f, last, s, 4), 1);
    assert_sent_to(f, &s[0], SENDER);
    assert_true(strncmp(s[0].body, "Sorry", 5) == 0);
    assert_non_null(strstr(s[0].body, ref));
    assert_non_null(strstr(s[0].body, "\nCall 112"));
    sent_release(s, n);
}

static void test_escalation_respects_caps(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN];
    struct callback_request req = hel_request(NULL, now0());
    long long last;
    struct sent s[4];
    size_t n;

    req.due_at = now0() + 600;
    file(f, &req, ref, now0());
    f->cfg.abuse.per_number_hour = 0; /* every client text is over the cap */
    last = last_outbox_id(f);
    assert_int_equal(tick(f, req.due_at), 1);
    assert_int_equal(n = sent_after(f, last, s, 4), 1);
    assert_sent_to(f, &s[0], LEAD);
    sent_release(s, n);
    assert_int_equal(q_int(f, "SELECT escalated_at FROM callback_requests"), req.due_at);
    assert_int_equal(tick(f, req.due_at + DAY), 0);
}

static void test_escalation_respects_stop(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN], contact[CRYPTO_CONTACT_KEY_HEX], sql[128];
    struct callback_request req = hel_request(NULL, now0());
    long long last;
    struct sent s[4];
    size_t n;

    req.due_at = now0() + 600;
    file(f, &req, ref, now0());
    crypto_contact_key(f->contact_key, SENDER, contact);
    snprintf(sql, sizeof(sql), "INSERT INTO opt_outs (contact_key, at) VALUES ('%s', 1)", contact);
    exec(f, sql);
    last = last_outbox_id(f);
    assert_int_equal(tick(f, req.due_at), 1);
    assert_int_equal(n = sent_after(f, last, s, 4), 1);
    assert_sent_to(f, &s[0], LEAD);
    sent_release(s, n);
}

static void test_unknown_team_is_given_up(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN];
    struct callback_request req = hel_request(NULL, now0());
    long long now = now0(), last;

    file(f, &req, ref, now);
    exec(f, "UPDATE callback_requests SET team = 'gone'");
    last = last_outbox_id(f);
    assert_int_equal(tick(f, now + REMIND), 0);
    assert_int_equal(q_int(f, "SELECT escalated_at FROM callback_requests"), now + REMIND);
    assert_int_equal(tick(f, req.due_at), 0);
    assert_int_equal(tick(f, req.due_at + DAY), 0);
    assert_int_equal(last_outbox_id(f), last);
}

/* ---- Retention, erasure, counts --------------------------------------------------------- */

static void test_purge_wipes_and_closes(void **state)
{
    struct fixture *f = *state;
    char open[CALLBACK_REF_LEN], closed[CALLBACK_REF_LEN];
    struct callback_request req = hel_request(NULL, now0());
    long long now = now0(), purge_at = now0() + 14 * DAY;
    char *s;

    file(f, &req, open, now);
    req.meet = MEET;
    file(f, &req, closed, now);
    /* Closed by a worker, who left the sender's key (the desk's business). */
    exec(f, "UPDATE callback_requests SET closed_at = 5, outcome = 'reached', number_enc = NULL, "
            "meet_enc = NULL, topic_enc = NULL, sender_enc = NULL, topic = 'eviction' "
            "WHERE meet_enc IS NOT NULL");
    assert_int_equal(purge(f, purge_at - 1, 100), 0);
    assert_int_equal(purge(f, purge_at, 100), 2);
    assert_int_equal(q_int(f, "SELECT count(*) FROM callback_requests WHERE number_enc IS NULL AND "
                              "meet_enc IS NULL AND topic_enc IS NULL AND sender_enc IS NULL AND "
                              "contact_key IS NULL AND next_remind_at IS NULL"),
                     2);
    assert_int_equal(q_int(f, "SELECT closed_at FROM callback_requests WHERE ref = '%s'", open),
                     purge_at);
    assert_string_equal(
        s = q_text(f, "SELECT outcome FROM callback_requests WHERE ref = '%s'", open), "purged");
    free(s);
    /* What remains is anonymous: the topic category, in clear, for the statistics. */
    assert_string_equal(s = q_text(f, "SELECT topic FROM callback_requests WHERE ref = '%s'", open),
                        TOPIC);
    free(s);
    assert_int_equal(q_int(f, "SELECT closed_at FROM callback_requests WHERE ref = '%s'", closed),
                     5);
    assert_string_equal(
        s = q_text(f, "SELECT outcome FROM callback_requests WHERE ref = '%s'", closed), "reached");
    free(s);
    assert_int_equal(purge(f, purge_at + DAY, 100), 0);
    /* A purged request is neither reminded nor escalated. */
    assert_int_equal(tick(f, purge_at + DAY), 0);
}

static void test_purge_in_chunks(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN];
    long long purge_at = now0() + 14 * DAY;

    for (int i = 0; i < 3; i++) {
        struct callback_request req = hel_request(NULL, now0());

        file(f, &req, ref, now0());
    }
    assert_int_equal(purge(f, purge_at, 2), 2);
    assert_int_equal(purge(f, purge_at, 2), 1);
    assert_int_equal(purge(f, purge_at, 2), 0);
    assert_int_equal(q_int(f, "SELECT count(*) FROM callback_requests WHERE outcome = 'purged'"),
                     3);
}

static void test_erase_removes_only_that_sender(void **state)
{
    struct fixture *f = *state;
    char a1[CALLBACK_REF_LEN], a2[CALLBACK_REF_LEN], b[CALLBACK_REF_LEN], err[ERR_LEN];
    char contact[CRYPTO_CONTACT_KEY_HEX], sql[256];
    struct callback_request req = hel_request(NULL, now0());

    file(f, &req, a1, now0());
    file(f, &req, a2, now0());
    req.sender = OTHER;
    req.number = OTHER;
    file(f, &req, b, now0());
    /* a1 closed, still holding the key; b merged into it (a link the delete must not trip on). */
    snprintf(sql, sizeof(sql),
             "UPDATE callback_requests SET closed_at = 5, outcome = 'reached' WHERE ref = '%s'",
             a1);
    exec(f, sql);
    snprintf(sql, sizeof(sql),
             "UPDATE callback_requests SET merged_into = (SELECT id FROM callback_requests WHERE "
             "ref = '%s') WHERE ref = '%s'",
             a1, b);
    exec(f, sql);
    crypto_contact_key(f->contact_key, SENDER, contact);
    begin(f);
    assert_int_equal(callback_erase_contact(f->cs, contact, err), 0);
    commit(f);
    assert_int_equal(q_int(f, "SELECT count(*) FROM callback_requests"), 1);
    assert_int_equal(q_int(f,
                           "SELECT count(*) FROM callback_requests WHERE ref = '%s' AND "
                           "merged_into IS NULL",
                           b),
                     1);
    assert_int_equal(q_int(f, "PRAGMA foreign_key_check"), -1);
}

static void test_overdue_count(void **state)
{
    struct fixture *f = *state;
    char r1[CALLBACK_REF_LEN], r2[CALLBACK_REF_LEN], r3[CALLBACK_REF_LEN], r4[CALLBACK_REF_LEN];
    char sql[128];
    struct callback_request req = hel_request(NULL, now0());
    long long due = req.due_at;

    file(f, &req, r1, now0());
    file(f, &req, r2, now0());
    file(f, &req, r3, now0());
    req.due_at = due + DAY;
    file(f, &req, r4, now0());
    claim(f, r2, now0());
    snprintf(sql, sizeof(sql),
             "UPDATE callback_requests SET closed_at = 5, outcome = 'reached' WHERE ref = '%s'",
             r3);
    exec(f, sql);
    assert_int_equal(callback_overdue_count(f->cs, due - 1), 0);
    assert_int_equal(callback_overdue_count(f->cs, due), 1);
    assert_int_equal(callback_overdue_count(f->cs, due + DAY), 2);
}

static void test_metrics(void **state)
{
    struct fixture *f = *state;
    char ref[CALLBACK_REF_LEN];
    struct callback_request req = hel_request(NULL, now0());
    long long now = now0();

    file(f, &req, ref, now);
    assert_int_equal(tick(f, now + REMIND), 1);
    assert_int_equal(tick(f, req.due_at), 2);
    assert_int_equal(purge(f, now + 14 * DAY, 10), 1);
    assert_int_equal(metrics_get(f->metrics, "katto_callbacks_total", "event=\"filed\""), 1);
    assert_int_equal(metrics_get(f->metrics, "katto_callbacks_total", "event=\"reminded\""), 1);
    assert_int_equal(metrics_get(f->metrics, "katto_callbacks_total", "event=\"escalated\""), 1);
    assert_int_equal(metrics_get(f->metrics, "katto_callbacks_total", "event=\"purged\""), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ref_four_digits_then_five, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refs_unique_among_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_seals_what_identifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_texts_first_on_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_window_words_and_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_rejects_unknown_team, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminders_go_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claimed_request_is_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminder_waits_for_working_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_tells_lead_and_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_in_the_clients_language, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_never_texts_unsafe_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_without_lead_or_social_number, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_escalation_respects_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_respects_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_team_is_given_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_wipes_and_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_in_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_removes_only_that_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overdue_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
