/*
 * test_disk.c: disk trouble under the real katto. A full disk (the test hook
 * test_disk_full_file, db_fault.h) and a busy database (a second writer
 * holding BEGIN IMMEDIATE past the busy timeout): gateways that retry get
 * 503 and, once the disk recovers, exactly one reply; Twilio, which does not
 * retry, gets an apology in TwiML while the loss is logged and counted; USSD
 * gets an END screen; /healthz reports the database failing and recovers; a
 * send in flight is recorded once the disk takes writes again; and nothing
 * is half written (integrity check, no stray rows, no lost pseudonym key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#define TWILIO_SID "AC00000000000000000000000000000001"
#define TWILIO_TOKEN "twilio-test-token"
#define ELKS_USER "u46"
#define ELKS_PASS "p46"
#define ELKS_HOOK "elks-route-token"
#define GWAPI_TOKEN "gwapi-send-token"
#define GWAPI_SECRET "gwapi-jwt-secret"
#define USSD_TOKEN "ussd-route-token"
#define CLIENT "+358401234567"
#define CLIENT_DIGITS "358401234567"
#define SECRET_TEXT "Salainen viesti"    /* must never reach the log */
#define WEDNESDAY 1795000000LL           /* 2026-11-18 13:06 in Helsinki */
#define LOST_TWILIO "katto_inbound_lost" /* prefix of the counter's samples */

struct world {
    struct testlib_emu emu;
    struct testlib_server s;
    char *ctl_dir;   /* holds the disk control file */
    char *disk_file; /* test_disk_full_file */
};

static void start_world(struct world *w)
{
    static const char *const emu_args[] = {
        "--twilio-sid", TWILIO_SID, "--twilio-token", TWILIO_TOKEN, "--elks-user", ELKS_USER,
        "--elks-pass",  ELKS_PASS,  "--gwapi-token",  GWAPI_TOKEN,  NULL,
    };
    char *json;

    memset(w, 0, sizeof(*w));
    w->ctl_dir = testlib_tmpdir();
    assert_true(asprintf(&w->disk_file, "%s/disk", w->ctl_dir) > 0);
    testlib_write_file(w->disk_file, "ok\n");
    assert_int_equal(testlib_emu_start(&w->emu, 0, emu_args), 0);
    assert_true(
        asprintf(&json,
                 "\"gateways\": {"
                 "\"twilio\": {\"account_sid\": \"%s\", \"auth_token\": \"%s\", "
                 "\"from\": \"+15005550006\", \"base_url\": \"%s\"},"
                 "\"46elks\": {\"username\": \"%s\", \"password\": \"%s\", \"from\": "
                 "\"Katto\", \"base_url\": \"%s\", \"webhook_token\": \"%s\"},"
                 "\"gatewayapi\": {\"token\": \"%s\", \"webhook_secret\": \"%s\", "
                 "\"from\": \"Katto\", \"base_url\": \"%s\"}},"
                 "\"default_gateway\": \"46elks\", \"ussd\": {\"token\": \"%s\"}, "
                 "\"outbox\": {\"retry_base\": 1, \"timeout\": 5}, \"maintenance_interval\": 1, "
                 "\"test_disk_full_file\": \"%s\"",
                 TWILIO_SID, TWILIO_TOKEN, w->emu.base_url, ELKS_USER, ELKS_PASS, w->emu.base_url,
                 ELKS_HOOK, GWAPI_TOKEN, GWAPI_SECRET, w->emu.base_url, USSD_TOKEN,
                 w->disk_file) > 0);
    assert_int_equal(testlib_server_start(&w->s, json, NULL), 0);
    free(json);
    testlib_server_set_clock(&w->s, WEDNESDAY);
}

/* Stops the server (the database is then checked by the caller) and the emulator. */
static void stop_world(struct world *w)
{
    assert_int_equal(testlib_server_stop(&w->s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&w->s));
    testlib_emu_stop(&w->emu);
}

static void release_world(struct world *w)
{
    testlib_server_release(&w->s);
    testlib_emu_release(&w->emu);
    testlib_rmrf(w->ctl_dir);
    free(w->ctl_dir);
    free(w->disk_file);
}

/* The disk fills up ("full") or has room again ("ok"): the server sees it at its next write. */
static void set_disk(const struct world *w, const char *state)
{
    testlib_write_file(w->disk_file, state);
}

static long post_form(const struct world *w, const char *path, const char *const *pairs)
{
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    char url[256];
    char *form = testlib_form(pairs);
    struct testlib_response r;
    long status;

    snprintf(url, sizeof(url), "%s%s", w->s.base_url, path);
    assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
    status = r.status;
    testlib_response_release(&r);
    free(form);
    return status;
}

static long post_elks(const struct world *w, const char *id, const char *text)
{
    const char *const pairs[] = {"id",      id,   "from",      CLIENT,     "to", "+46766861004",
                                 "message", text, "direction", "incoming", NULL};

    return post_form(w, "/webhooks/46elks/sms?token=" ELKS_HOOK, pairs);
}

static long post_gwapi(const struct world *w, long id, const char *text)
{
    char claims[256], auth[512], url[128], *jwt;
    struct testlib_response r;
    long status;

    snprintf(claims, sizeof(claims),
             "{\"id\": %ld, \"msisdn\": 358401234599, \"receiver\": 4512345678, \"message\": "
             "\"%s\", \"senttime\": 1795000000, \"webhook_label\": \"katto\"}",
             id, text);
    jwt = testlib_gwapi_jwt(GWAPI_SECRET, claims);
    snprintf(auth, sizeof(auth), "X-Gwapi-Signature: %s", jwt);
    const char *const headers[] = {"Content-Type: application/json", auth, NULL};
    snprintf(url, sizeof(url), "%s/webhooks/gatewayapi/sms", w->s.base_url);
    assert_int_equal(testlib_http("POST", url, headers, claims, strlen(claims), &r), 0);
    status = r.status;
    testlib_response_release(&r);
    free(jwt);
    return status;
}

/* Posts a signed Twilio inbound SMS; the answer's body goes to body (owned). */
static long post_twilio(const struct world *w, const char *sid, const char *text, char **body)
{
    return testlib_send_twilio(w->s.base_url, TWILIO_TOKEN, TWILIO_SID, sid, CLIENT, text, body);
}

/* One USSD step; the screen goes to out. */
static void post_ussd(const struct world *w, const char *session, const char *text, char *out,
                      size_t cap)
{
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *const pairs[] = {"sessionId",   session, "serviceCode", "*500#",
                                 "phoneNumber", CLIENT,  "networkCode", "24405",
                                 "text",        text,    NULL};
    char url[256];
    char *form = testlib_form(pairs);
    struct testlib_response r;

    snprintf(url, sizeof(url), "%s/webhooks/africastalking/ussd/%s", w->s.base_url, USSD_TOKEN);
    assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
    assert_int_equal(r.status, 200); /* USSD never gets an error status: the screen says it */
    snprintf(out, cap, "%s", r.body);
    testlib_response_release(&r);
    free(form);
}

/* /healthz: its status, and whether it called the database fine. */
static long healthz(const struct world *w, bool *database)
{
    char url[128];
    struct testlib_response r;
    cJSON *j;
    long status;

    snprintf(url, sizeof(url), "%s/healthz", w->s.base_url);
    assert_int_equal(testlib_http("GET", url, NULL, NULL, 0, &r), 0);
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    *database = cJSON_IsTrue(cJSON_GetObjectItem(j, "database"));
    cJSON_Delete(j);
    status = r.status;
    testlib_response_release(&r);
    return status;
}

/* A metric sample's value; 0 when the series has no sample yet. */
static long long metric(const struct world *w, const char *series)
{
    char url[128], line[256];
    struct testlib_response r;
    const char *p;
    long long v = 0;

    snprintf(line, sizeof(line), "\n%s ", series);
    snprintf(url, sizeof(url), "%s/metrics", w->s.base_url);
    assert_int_equal(testlib_http("GET", url, NULL, NULL, 0, &r), 0);
    if ((p = strstr(r.body, line)) != NULL)
        v = atoll(p + strlen(line));
    testlib_response_release(&r);
    return v;
}

struct want {
    const struct world *w;
    const char *gateway;
    int n;
};

static bool have_sends(void *arg)
{
    const struct want *want = arg;

    return testlib_emu_count(&want->w->emu, want->gateway, 1) >= want->n;
}

/* Waits for n accepted sends to gateway, then gives one more every chance to appear. */
static void expect_sends(const struct world *w, const char *gateway, int n)
{
    struct want want = {w, gateway, n};

    assert_true(testlib_wait_for(have_sends, &want, 10000));
    want.n = n + 1;
    assert_false(testlib_wait_for(have_sends, &want, 1500));
    assert_int_equal(testlib_emu_count(&w->emu, gateway, 1), n);
}

/* One integer from the database (a second connection, as an operator's sqlite3 would be). */
static long long db_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/*
 * After the server stopped: the file is sound, and nothing of a failed batch
 * is left. Every outbox row was sent (no row from a rolled-back step waits
 * for a send no one will make), and every pseudonymised contact-log row has
 * its month's key stored (none was left only in the server's memory).
 */
static void expect_nothing_half_written(const struct world *w, long long outbox_rows)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_open_v2(w->s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(db_int(w->s.db_path, "SELECT count(*) FROM outbox"), outbox_rows);
    assert_int_equal(db_int(w->s.db_path, "SELECT count(*) FROM outbox WHERE status <> 'sent'"), 0);
    assert_int_equal(
        db_int(w->s.db_path,
               "SELECT count(*) FROM contact_log c WHERE pseudonym IS NOT NULL AND "
               "NOT EXISTS (SELECT 1 FROM pseudonym_keys k WHERE k.period = c.period)"),
        0);
}

static void disk_full_gets_503_where_the_gateway_retries_and_one_reply_after(void **state)
{
    struct world w;
    bool database;

    (void)state;
    start_world(&w);
    set_disk(&w, "full");
    /* Both retry a 5xx (../shared/gateways.md): nothing is lost by 503. */
    assert_int_equal(post_elks(&w, "e1", "APUA"), 503);
    assert_int_equal(post_gwapi(&w, 1000001, "APUA"), 503);
    assert_int_equal(healthz(&w, &database), 503);
    assert_false(database);
    assert_int_equal(metric(&w, "katto_inbound_total{gateway=\"46elks\",result=\"unavailable\"}"),
                     1);
    assert_true(metric(&w, "katto_db_commits_total{result=\"failed\"}") >= 1);
    /* Retried while still full: the same answer, and still nothing stored. */
    assert_int_equal(post_elks(&w, "e1", "APUA"), 503);
    assert_int_equal(db_int(w.s.db_path, "SELECT count(*) FROM inbound_seen"), 0);

    set_disk(&w, "ok");
    assert_int_equal(healthz(&w, &database), 200);
    assert_true(database);
    /* The gateways' retries: accepted, one reply each, and a second retry changes nothing. */
    assert_int_equal(post_elks(&w, "e1", "APUA"), 204);
    long g = post_gwapi(&w, 1000001, "APUA");
    assert_true(g >= 200 && g <= 204);
    assert_int_equal(post_elks(&w, "e1", "APUA"), 204);
    expect_sends(&w, "46elks", 1);
    expect_sends(&w, "gatewayapi", 1);
    stop_world(&w);
    expect_nothing_half_written(&w, 2);
    assert_int_equal(db_int(w.s.db_path, "SELECT count(*) FROM inbound_seen"), 2);
    release_world(&w);
}

static void twilio_and_ussd_on_a_full_disk_are_told_and_the_loss_is_logged(void **state)
{
    struct world w;
    char screen[512], *body, *log;
    bool database;

    (void)state;
    start_world(&w);
    post_ussd(&w, "ATUid_1", "", screen, sizeof(screen));
    assert_memory_equal(screen, "CON ", 4); /* a session Katto now remembers */

    set_disk(&w, "full");
    /* Twilio does not retry: the sender is asked to send again, in TwiML. */
    assert_int_equal(post_twilio(&w, "SM00000000000000000000000000000001", SECRET_TEXT, &body),
                     200);
    assert_non_null(strstr(body, "<Response><Message>"));
    assert_non_null(strstr(body, "Please send it again shortly."));
    free(body);
    assert_int_equal(metric(&w, LOST_TWILIO "_total{gateway=\"twilio\",reason=\"disk_full\"}"), 1);
    /* USSD: an END screen now, not a hang. */
    post_ussd(&w, "ATUid_1", "1", screen, sizeof(screen));
    assert_memory_equal(screen, "END ", 4);
    assert_non_null(strstr(screen, "try again shortly"));
    /* The USSD session expires while the disk is full: the maintenance purge fails too. */
    testlib_server_set_clock(&w.s, WEDNESDAY + 3600);
    sleep(2); /* two maintenance ticks (maintenance_interval 1) */
    assert_int_equal(healthz(&w, &database), 503);

    set_disk(&w, "ok");
    assert_int_equal(healthz(&w, &database), 200);
    assert_int_equal(post_twilio(&w, "SM00000000000000000000000000000002", "APUA", &body), 200);
    assert_non_null(strstr(body, "<Response/>"));
    free(body);
    expect_sends(&w, "twilio", 1); /* the reply to the second one; the first was lost */
    post_ussd(&w, "ATUid_2", "", screen, sizeof(screen));
    assert_memory_equal(screen, "CON ", 4);

    log = testlib_read_file(w.s.log_path, NULL);
    assert_non_null(log);
    char *lost = strstr(log, "level=error event=sms.inbound_lost gateway=twilio reason=disk_full");
    assert_non_null(lost);
    assert_non_null(strstr(log, "level=error event=ussd.unavailable reason=disk_full"));
    /* The maintenance tick failed on the full disk, and came back (the purge below). */
    assert_non_null(strstr(log, "level=error event=maintenance.ussd"));
    assert_null(strstr(log, CLIENT_DIGITS));
    assert_null(strstr(log, SECRET_TEXT));
    free(log);
    stop_world(&w);
    /* Only the second Twilio message was stored; the expired USSD session was purged later. */
    assert_int_equal(db_int(w.s.db_path, "SELECT count(*) FROM inbound_seen"), 1);
    assert_int_equal(db_int(w.s.db_path, "SELECT count(*) FROM contact_log "
                                         "WHERE event = 'ussd_timeout'"),
                     1);
    expect_nothing_half_written(&w, 1);
    release_world(&w);
}

static void busy_database_gets_503_and_recovers_when_the_writer_lets_go(void **state)
{
    struct world w;
    sqlite3 *writer;
    char *body;
    bool database;

    (void)state;
    start_world(&w);
    /* A second writer (an import, a careless sqlite3) holds the lock past the busy timeout. */
    assert_int_equal(sqlite3_open_v2(w.s.db_path, &writer, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(post_elks(&w, "b1", "APUA"), 503);
    assert_int_equal(healthz(&w, &database), 503);
    assert_false(database);
    assert_int_equal(post_twilio(&w, "SM00000000000000000000000000000003", "APUA", &body), 200);
    assert_non_null(strstr(body, "<Message>"));
    free(body);
    assert_int_equal(metric(&w, LOST_TWILIO "_total{gateway=\"twilio\",reason=\"busy\"}"), 1);

    assert_int_equal(sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(writer), SQLITE_OK);
    assert_int_equal(healthz(&w, &database), 200);
    assert_int_equal(post_elks(&w, "b1", "APUA"), 204);
    expect_sends(&w, "46elks", 1);
    stop_world(&w);
    expect_nothing_half_written(&w, 1);
    release_world(&w);
}

struct row_state {
    const char *db_path;
    const char *status;
};

static bool outbox_row_is(void *arg)
{
    const struct row_state *r = arg;
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE status = '%s'", r->status);
    return db_int(r->db_path, sql) == 1;
}

static bool emu_has_request(void *arg)
{
    return testlib_emu_count(arg, "46elks", -1) >= 1;
}

/*
 * The gateway took a reply, but the disk filled before Katto could record
 * that: the row stays in flight (never sent twice) and is recorded as sent
 * once the disk has room again.
 */
static void send_in_flight_when_the_disk_fills_is_recorded_once_it_empties(void **state)
{
    struct world w;
    char url[128];
    struct testlib_response r;
    static const char slow[] = "{\"mode\": \"slow\", \"count\": 1, \"delay_ms\": 1500}";
    static const char *const json_ct[] = {"Content-Type: application/json", NULL};

    (void)state;
    start_world(&w);
    snprintf(url, sizeof(url), "%s/_emu/fail", w.emu.base_url);
    assert_int_equal(testlib_http("POST", url, json_ct, slow, strlen(slow), &r), 0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    assert_int_equal(post_elks(&w, "f1", "APUA"), 204);
    /* The send has reached the gateway, whose answer comes 1.5 s later: fill the disk now. */
    assert_true(testlib_wait_for(emu_has_request, &w.emu, 10000));
    set_disk(&w, "full");
    sleep(3); /* the answer arrives, and recording it fails a time or two */
    struct row_state queued = {w.s.db_path, "queued"}, sent = {w.s.db_path, "sent"};
    assert_true(outbox_row_is(&queued));
    assert_int_equal(testlib_emu_count(&w.emu, "46elks", -1), 1);
    char *log = testlib_read_file(w.s.log_path, NULL);
    assert_non_null(strstr(log, "event=outbox.record_failed"));
    free(log);

    set_disk(&w, "ok");
    assert_true(testlib_wait_for(outbox_row_is, &sent, 10000));
    expect_sends(&w, "46elks", 1);
    stop_world(&w);
    expect_nothing_half_written(&w, 1);
    release_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disk_full_gets_503_where_the_gateway_retries_and_one_reply_after),
        cmocka_unit_test(twilio_and_ussd_on_a_full_disk_are_told_and_the_loss_is_logged),
        cmocka_unit_test(busy_database_gets_503_and_recovers_when_the_writer_lets_go),
        cmocka_unit_test(send_in_flight_when_the_disk_fills_is_recorded_once_it_empties),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
