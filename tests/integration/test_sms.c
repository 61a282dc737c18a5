/*
 * test_sms.c: the SMS channel end to end: a webhook in each gateway's real
 * wire format, through the real katto, to the reply at the local gateway
 * emulator; signatures, duplicates, malformed input, faults and a crash.
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

#include "crypto.h"
#include "testlib.h"

#define TWILIO_SID "AC00000000000000000000000000000001"
#define TWILIO_TOKEN "twilio-test-token"
#define ELKS_USER "u46"
#define ELKS_PASS "p46"
#define ELKS_HOOK "elks-route-token"
#define GWAPI_TOKEN "gwapi-send-token"
#define GWAPI_SECRET "gwapi-jwt-secret"
#define AT_KEY "at-api-key"
#define AT_HOOK "at-route-token"
#define CLIENT "+358401234567"
#define CLIENT_DIGITS "358401234567"

struct world {
    struct testlib_emu emu;
    struct testlib_server s;
    char *config; /* the extra configuration, kept for restarts */
};

static void start_world(struct world *w, const char *extra)
{
    static const char *const emu_args[] = {
        "--twilio-sid", TWILIO_SID,    "--twilio-token", TWILIO_TOKEN,    "--elks-user",
        ELKS_USER,      "--elks-pass", ELKS_PASS,        "--gwapi-token", GWAPI_TOKEN,
        "--at-key",     AT_KEY,        "--at-user",      "katto",         NULL,
    };
    char *json;

    memset(w, 0, sizeof(*w));
    assert_int_equal(testlib_emu_start(&w->emu, 0, emu_args), 0);
    assert_true(asprintf(&json,
                         "\"gateways\": {"
                         "\"twilio\": {\"account_sid\": \"%s\", \"auth_token\": \"%s\", "
                         "\"from\": \"+15005550006\", \"base_url\": \"%s\"},"
                         "\"46elks\": {\"username\": \"%s\", \"password\": \"%s\", \"from\": "
                         "\"Katto\", \"base_url\": \"%s\", \"webhook_token\": \"%s\"},"
                         "\"gatewayapi\": {\"token\": \"%s\", \"webhook_secret\": \"%s\", "
                         "\"from\": \"Katto\", \"base_url\": \"%s\"},"
                         "\"africastalking\": {\"username\": \"katto\", \"api_key\": \"%s\", "
                         "\"base_url\": \"%s\", \"webhook_token\": \"%s\"}},"
                         "\"outbox\": {\"retry_base\": 1, \"timeout\": 2}%s%s",
                         TWILIO_SID, TWILIO_TOKEN, w->emu.base_url, ELKS_USER, ELKS_PASS,
                         w->emu.base_url, ELKS_HOOK, GWAPI_TOKEN, GWAPI_SECRET, w->emu.base_url,
                         AT_KEY, w->emu.base_url, AT_HOOK, extra ? ", " : "",
                         extra ? extra : "") > 0);
    assert_int_equal(testlib_server_start(&w->s, json, NULL), 0);
    w->config = json;
}

static void stop_world(struct world *w)
{
    assert_int_equal(testlib_server_stop(&w->s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&w->s));
    testlib_emu_stop(&w->emu);
}

static void release_world(struct world *w)
{
    free(w->config);
    testlib_server_release(&w->s);
    testlib_emu_release(&w->emu);
}

/* Accepted sends recorded by the emulator. */
static int accepted(const struct world *w)
{
    cJSON *all = testlib_emu_requests(&w->emu), *r;
    int n = 0;

    cJSON_ArrayForEach(r, all)
    {
        n += cJSON_IsTrue(cJSON_GetObjectItem(r, "accepted"));
    }
    cJSON_Delete(all);
    return n;
}

struct want {
    const struct world *w;
    int n;
};

static bool have_accepted(void *arg)
{
    struct want *want = arg;

    return accepted(want->w) >= want->n;
}

static const cJSON *nth_accepted(cJSON *all, int n)
{
    const cJSON *r;

    cJSON_ArrayForEach(r, all)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItem(r, "accepted")) && n-- == 0)
            return r;
    }
    return NULL;
}

static const char *field(const cJSON *r, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(r, name);

    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Reads one value from the server's database (read-only), as text; owned or NULL. */
static char *db_value(const struct world *w, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char *out = NULL;

    assert_int_equal(sqlite3_open_v2(w->s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Posts a Twilio inbound SMS, signed unless token is NULL; returns the HTTP status. */
static long post_twilio(const struct world *w, const char *sid, const char *body, const char *token,
                        const char *sign_url_override, struct testlib_response *res)
{
    const char *const pairs[] = {
        "MessageSid",   sid,    "AccountSid", TWILIO_SID,    "From", CLIENT, "To",
        "+15005550006", "Body", body,         "NumSegments", "1",    NULL};
    char url[128], sig[64], sig_header[128];
    char *form = testlib_form(pairs);

    snprintf(url, sizeof(url), "%s/webhooks/twilio/sms", w->s.base_url);
    testlib_twilio_sign(token ? token : "x", sign_url_override ? sign_url_override : url, pairs,
                        sig);
    snprintf(sig_header, sizeof(sig_header), "X-Twilio-Signature: %s", sig);
    const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                   token ? sig_header : "X-Nothing: 1", NULL};
    assert_int_equal(testlib_http("POST", url, headers, form, strlen(form), res), 0);
    free(form);
    return res->status;
}

static void twilio_message_gets_a_reply_at_the_gateway_with_basic_auth(void **state)
{
    struct world w;
    struct testlib_response r;
    struct want want = {&w, 1};
    cJSON *all;
    const cJSON *sent;

    (void)state;
    start_world(&w, NULL);
    assert_int_equal(
        post_twilio(&w, "SM00000000000000000000000000000001", "Hjälp", TWILIO_TOKEN, NULL, &r),
        200);
    assert_non_null(strstr(r.headers, "text/xml"));
    assert_non_null(strstr(r.body, "<Response/>"));
    testlib_response_release(&r);
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    all = testlib_emu_requests(&w.emu);
    sent = nth_accepted(all, 0);
    assert_string_equal(field(sent, "gateway"), "twilio");
    assert_string_equal(field(sent, "to"), CLIENT);
    /* Swedish, because HJÄLP is Swedish; å ä ö survive the trip. */
    assert_non_null(strstr(field(sent, "text"), "1 Ingen nattplats\n2 Hyresskuld, vräkning"));
    assert_non_null(strstr(field(sent, "text"), "automatisk rådgivning"));
    cJSON_Delete(all);
    stop_world(&w);
    release_world(&w);
}

static void twilio_signature_must_match_url_body_and_token(void **state)
{
    struct world w;
    struct testlib_response r;
    char other_url[128];

    (void)state;
    start_world(&w, NULL);
    /* Wrong token, no signature, signed for another URL: 403 and nothing is sent. */
    assert_int_equal(post_twilio(&w, "SM1", "APUA", "wrong-token", NULL, &r), 403);
    testlib_response_release(&r);
    assert_int_equal(post_twilio(&w, "SM2", "APUA", NULL, NULL, &r), 403);
    testlib_response_release(&r);
    snprintf(other_url, sizeof(other_url), "%s/webhooks/twilio/other", w.s.base_url);
    assert_int_equal(post_twilio(&w, "SM3", "APUA", TWILIO_TOKEN, other_url, &r), 403);
    testlib_response_release(&r);
    /* Tampered body: signed for "APUA", sent with "STOP". */
    {
        const char *const pairs[] = {
            "MessageSid",   "SM4",  "AccountSid", TWILIO_SID,    "From", CLIENT, "To",
            "+15005550006", "Body", "APUA",       "NumSegments", "1",    NULL};
        const char *const sent_pairs[] = {
            "MessageSid",   "SM4",  "AccountSid", TWILIO_SID,    "From", CLIENT, "To",
            "+15005550006", "Body", "STOP",       "NumSegments", "1",    NULL};
        char url[128], sig[64], h[128];
        char *form = testlib_form(sent_pairs);

        snprintf(url, sizeof(url), "%s/webhooks/twilio/sms", w.s.base_url);
        testlib_twilio_sign(TWILIO_TOKEN, url, pairs, sig);
        snprintf(h, sizeof(h), "X-Twilio-Signature: %s", sig);
        const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded", h, NULL};
        assert_int_equal(testlib_http("POST", url, headers, form, strlen(form), &r), 0);
        assert_int_equal(r.status, 403);
        testlib_response_release(&r);
        free(form);
    }
    assert_int_equal(accepted(&w), 0);
    stop_world(&w);
    release_world(&w);
}

static void duplicate_message_id_gets_the_same_answer_and_one_reply(void **state)
{
    struct world w;
    struct testlib_response r;
    struct want want = {&w, 1};

    (void)state;
    start_world(&w, NULL);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(post_twilio(&w, "SMdup", "APUA", TWILIO_TOKEN, NULL, &r), 200);
        testlib_response_release(&r);
    }
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    /* Give a second reply every chance to appear before counting. */
    want.n = 2;
    assert_false(testlib_wait_for(have_accepted, &want, 1500));
    assert_int_equal(accepted(&w), 1);
    stop_world(&w);
    release_world(&w);
}

static void each_gateway_replies_in_its_own_wire_format(void **state)
{
    struct world w;
    struct testlib_response r;
    struct want want = {&w, 3};
    char url[256], *form, *jwt, claims[256], auth[512];
    cJSON *all;

    (void)state;
    start_world(&w, NULL);
    /* 46elks: form, route token in the query. */
    const char *const elks[] = {
        "id",           "s1",       "from", CLIENT,    "to",
        "+46766861004", "message",  "APUA", "created", "2026-11-24T13:57:23.741000",
        "direction",    "incoming", NULL};
    form = testlib_form(elks);
    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=%s", w.s.base_url, ELKS_HOOK);
    const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
    assert_true(r.status >= 200 && r.status <= 204);
    testlib_response_release(&r);
    free(form);
    /* GatewayAPI: JSON, msisdn as a JSON integer, signed by a JWT. */
    snprintf(claims, sizeof(claims),
             "{\"id\": 1000001, \"msisdn\": %s, \"receiver\": 4512345678, \"message\": \"APUA\", "
             "\"senttime\": 1795000000, \"webhook_label\": \"katto\"}",
             CLIENT_DIGITS);
    jwt = testlib_gwapi_jwt(GWAPI_SECRET, claims);
    snprintf(auth, sizeof(auth), "X-Gwapi-Signature: %s", jwt);
    const char *const json_h[] = {"Content-Type: application/json", auth, NULL};
    snprintf(url, sizeof(url), "%s/webhooks/gatewayapi/sms", w.s.base_url);
    assert_int_equal(testlib_http("POST", url, json_h, claims, strlen(claims), &r), 0);
    assert_true(r.status >= 200 && r.status <= 204);
    testlib_response_release(&r);
    free(jwt);
    /* Africa's Talking: form, route token. */
    const char *const at[] = {
        "from", "+358401234568",        "to", "21512", "text", "APUA", "id", "ATXid_1",
        "date", "2026-11-24T06:04:45Z", NULL};
    form = testlib_form(at);
    snprintf(url, sizeof(url), "%s/webhooks/africastalking/sms?token=%s", w.s.base_url, AT_HOOK);
    assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
    assert_true(r.status >= 200 && r.status <= 204);
    testlib_response_release(&r);
    free(form);

    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    all = testlib_emu_requests(&w.emu);
    bool seen[3] = {false, false, false};
    const cJSON *x;
    cJSON_ArrayForEach(x, all)
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItem(x, "accepted")))
            continue;
        assert_non_null(strstr(field(x, "text"), "YÖ 00530"));
        assert_non_null(
            strstr(field(x, "text"), "1 Ei yöpaikkaa\n2 Vuokrarästi tai häätö")); /* ä ö intact */
        if (strcmp(field(x, "gateway"), "46elks") == 0)
            seen[0] = true;
        if (strcmp(field(x, "gateway"), "gatewayapi") == 0)
            seen[1] = true;
        if (strcmp(field(x, "gateway"), "africastalking") == 0)
            seen[2] = true;
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    cJSON_Delete(all);

    /* Route tokens and JWTs are required. */
    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=wrong", w.s.base_url);
    form = testlib_form(elks);
    assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    free(form);
    jwt = testlib_gwapi_jwt("not-the-secret", claims);
    snprintf(auth, sizeof(auth), "X-Gwapi-Signature: %s", jwt);
    snprintf(url, sizeof(url), "%s/webhooks/gatewayapi/sms", w.s.base_url);
    assert_int_equal(testlib_http("POST", url, json_h, claims, strlen(claims), &r), 0);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    free(jwt);
    stop_world(&w);
    release_world(&w);
}

static void malformed_webhooks_get_clear_4xx_and_the_server_keeps_serving(void **state)
{
    struct world w;
    struct testlib_response r;
    char url[256];
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    static const char *const text_ct[] = {"Content-Type: text/plain", NULL};
    static const struct {
        const char *body;
        const char *const *headers;
        long status;
    } cases[] = {
        {"from=%2B358401234567&to=1&message=hi", NULL, 400},           /* no id */
        {"id=x1&to=1&message=hi", NULL, 400},                          /* no sender */
        {"id=x2&from=%2B358401234567&to=1&message=%FF%FE", NULL, 400}, /* invalid UTF-8 */
        {"id=x3&from=abc&to=1&message=hi", NULL, 400},                 /* not a number */
        {"id=x4&from=%2B358401234567&to=1&message=%ZZ", NULL, 400},    /* bad encoding */
        {"id=x5&from=%2B358401234567&to=1&message=hi", text_ct, 415},  /* wrong type */
    };

    (void)state;
    start_world(&w, NULL);
    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=%s", w.s.base_url, ELKS_HOOK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(testlib_http("POST", url, cases[i].headers ? cases[i].headers : form_ct,
                                      cases[i].body, strlen(cases[i].body), &r),
                         0);
        if (r.status != cases[i].status)
            fail_msg("case %zu: status %ld, want %ld (%s)", i, r.status, cases[i].status, r.body);
        assert_null(strstr(r.body, "358401234567")); /* never echoed */
        testlib_response_release(&r);
    }
    snprintf(url, sizeof(url), "%s/healthz", w.s.base_url);
    assert_int_equal(testlib_http("GET", url, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    assert_int_equal(accepted(&w), 0);
    stop_world(&w);
    release_world(&w);
}

/* Sends n numbered messages from one client over 46elks (simple form, no signature). */
static void send_elks(const struct world *w, const char *from, int first, int n, const char *text)
{
    char url[256], id[32];
    struct testlib_response r;
    const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};

    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=%s", w->s.base_url, ELKS_HOOK);
    for (int i = first; i < first + n; i++) {
        snprintf(id, sizeof(id), "elks-%d", i);
        const char *const pairs[] = {"id",           id,        "from", from, "to",
                                     "+46766861004", "message", text,   NULL};
        char *form = testlib_form(pairs);

        assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
        assert_int_equal(r.status, 204);
        testlib_response_release(&r);
        free(form);
    }
}

static void gateway_down_then_back_delivers_every_reply_once_in_order(void **state)
{
    struct world w;
    struct want want = {&w, 3};
    cJSON *all;
    (void)state;
    start_world(&w, NULL);
    testlib_emu_stop(&w.emu); /* the gateway is down */
    send_elks(&w, CLIENT, 1, 1, "APUA");
    send_elks(&w, CLIENT, 2, 1, "2");
    send_elks(&w, CLIENT, 3, 1, "00530");
    sleep(2); /* a few failed attempts (connection refused) */
    static const char *const emu_args[] = {"--elks-user", ELKS_USER, "--elks-pass", ELKS_PASS,
                                           NULL};
    assert_int_equal(testlib_emu_restart(&w.emu, emu_args), 0);
    assert_true(testlib_wait_for(have_accepted, &want, 20000));
    want.n = 4;
    assert_false(testlib_wait_for(have_accepted, &want, 1500));
    all = testlib_emu_requests(&w.emu);
    assert_non_null(strstr(field(nth_accepted(all, 0), "text"), "1 Ei yöpaikkaa"));
    assert_non_null(strstr(field(nth_accepted(all, 1), "text"), "Missä asut?"));
    assert_non_null(strstr(field(nth_accepted(all, 2), "text"), "maksusuunnitelma"));
    cJSON_Delete(all);
    stop_world(&w);
    release_world(&w);
}

static void server_errors_and_429_are_retried_until_delivered(void **state)
{
    struct world w;
    struct want want = {&w, 1};
    cJSON *all, *x;
    int attempts = 0;

    (void)state;
    start_world(&w, NULL);
    assert_int_equal(testlib_emu_fail(&w.emu, "500", 1, 0), 0);
    assert_int_equal(testlib_emu_fail(&w.emu, "429", 1, 1), 0);
    send_elks(&w, CLIENT, 10, 1, "APUA");
    assert_true(testlib_wait_for(have_accepted, &want, 20000));
    all = testlib_emu_requests(&w.emu);
    cJSON_ArrayForEach(x, all) attempts++;
    assert_true(attempts >= 2);
    cJSON_Delete(all);
    stop_world(&w);
    release_world(&w);
}

static void nothing_identifying_is_in_the_database_or_the_log(void **state)
{
    struct world w;
    struct want want = {&w, 1};
    char *log, *db;
    size_t db_len;

    (void)state;
    start_world(&w, NULL);
    send_elks(&w, CLIENT, 20, 1, "APUA");
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    send_elks(&w, CLIENT, 21, 1, "Asun kadulla Kalliossa");
    stop_world(&w);
    log = testlib_read_file(w.s.log_path, NULL);
    assert_null(strstr(log, CLIENT_DIGITS));
    assert_null(strstr(log, "401234567"));
    assert_null(strstr(log, "Kalliossa"));
    free(log);
    /* The database file, its WAL and any leftovers: no number, no free text. */
    const char *const suffixes[] = {"", "-wal", "-shm", NULL};
    for (size_t i = 0; suffixes[i] != NULL; i++) {
        char path[4200];

        snprintf(path, sizeof(path), "%s%s", w.s.db_path, suffixes[i]);
        if ((db = testlib_read_file(path, &db_len)) == NULL)
            continue;
        assert_null(memmem(db, db_len, CLIENT_DIGITS, strlen(CLIENT_DIGITS)));
        assert_null(memmem(db, db_len, "401234567", 9));
        assert_null(memmem(db, db_len, "Kalliossa", 9));
        free(db);
    }
    /* The contact log has the events, under a pseudonym. */
    char *n = db_value(&w, "SELECT count(*) FROM contact_log WHERE channel = 'sms' AND "
                           "gateway = '46elks' AND event = 'session_start' AND "
                           "length(pseudonym) = 16");
    assert_string_equal(n, "1");
    free(n);
    release_world(&w);
}

static void delivery_report_marks_the_message_delivered(void **state)
{
    struct world w;
    struct testlib_response r;
    struct want want = {&w, 1};
    char url[256], *status;
    cJSON *all;

    (void)state;
    start_world(&w, NULL);
    assert_int_equal(post_twilio(&w, "SMreport", "APUA", TWILIO_TOKEN, NULL, &r), 200);
    testlib_response_release(&r);
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    all = testlib_emu_requests(&w.emu);
    char *sid = strdup(field(nth_accepted(all, 0), "id"));
    cJSON_Delete(all);
    assert_true(strncmp(sid, "SM", 2) == 0);
    snprintf(url, sizeof(url), "%s/webhooks/twilio/status", w.s.base_url);
    assert_int_equal(testlib_emu_report(&w.emu, "twilio", sid, "delivered", url), 204);
    /* A late "sent" never moves a delivered message back. */
    assert_int_equal(testlib_emu_report(&w.emu, "twilio", sid, "sent", url), 204);
    stop_world(&w);
    status = db_value(&w, "SELECT status || ',' || (to_enc IS NULL) FROM outbox");
    assert_string_equal(status, "delivered,1"); /* and the number is gone */
    free(status);
    free(sid);
    release_world(&w);
}

static void stop_is_honoured_except_for_crisis_words_and_start(void **state)
{
    struct world w;
    struct want want = {&w, 2};
    cJSON *all;

    (void)state;
    start_world(&w, NULL);
    send_elks(&w, CLIENT, 30, 1, "APUA");
    send_elks(&w, CLIENT, 31, 1, "STOP");
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    send_elks(&w, CLIENT, 32, 1, "1"); /* no answer after STOP */
    want.n = 3;
    assert_false(testlib_wait_for(have_accepted, &want, 1500));
    send_elks(&w, CLIENT, 33, 1, "en jaksa, haluan kuolla");
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    send_elks(&w, CLIENT, 34, 1, "apua");
    want.n = 4;
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    all = testlib_emu_requests(&w.emu);
    assert_non_null(strstr(field(nth_accepted(all, 1), "text"), "Et saa enää viestejä"));
    assert_non_null(strstr(field(nth_accepted(all, 2), "text"), "112"));
    assert_non_null(strstr(field(nth_accepted(all, 3), "text"), "Tervetuloa takaisin"));
    cJSON_Delete(all);
    stop_world(&w);
    release_world(&w);
}

static void abuse_cap_drops_messages_over_the_hourly_limit(void **state)
{
    struct world w;
    struct want want = {&w, 2};
    struct testlib_response r;
    char url[128];

    (void)state;
    start_world(&w, "\"abuse\": {\"per_number_hour\": 2}");
    send_elks(&w, CLIENT, 40, 3, "APUA");
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    want.n = 3;
    assert_false(testlib_wait_for(have_accepted, &want, 1500));
    snprintf(url, sizeof(url), "%s/metrics", w.s.base_url);
    assert_int_equal(testlib_http("GET", url, NULL, NULL, 0, &r), 0);
    assert_non_null(strstr(r.body, "katto_messages_capped_total{cap=\"per_number_hour\"} 1\n"));
    assert_non_null(
        strstr(r.body, "katto_inbound_total{gateway=\"46elks\",result=\"accepted\"} 3\n"));
    testlib_response_release(&r);
    stop_world(&w);
    release_world(&w);
}

static void elks_inline_reply_is_in_the_webhook_answer_and_repeated_on_retry(void **state)
{
    struct world w;
    struct testlib_response r;
    char url[256];
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *const pairs[] = {"id",           "inline-1", "from", CLIENT, "to",
                                 "+46766861004", "message",  "APUA", NULL};
    char *form = testlib_form(pairs);

    (void)state;
    start_world(&w, "\"gateways\": {\"46elks\": {\"inline_reply\": 1}}");
    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=%s", w.s.base_url, ELKS_HOOK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.headers, "text/plain"));
        assert_non_null(strstr(r.body, "1 Ei yöpaikkaa"));
        testlib_response_release(&r);
    }
    free(form);
    assert_int_equal(testlib_emu_count(&w.emu, NULL, -1), 0); /* nothing through the API */
    stop_world(&w);
    char *rows = db_value(&w, "SELECT count(*) || ',' || min(status) || ',' || min(inline) "
                              "FROM outbox");
    assert_string_equal(rows, "1,sent,1"); /* recorded like any other reply */
    free(rows);
    release_world(&w);
}

static bool recorded_n(void *arg)
{
    struct want *want = arg;

    return testlib_emu_count(&want->w->emu, NULL, -1) >= want->n;
}

/*
 * kill -9 with two sends accepted by the gateway but not yet recorded and
 * three messages still queued: after a restart nothing is lost, and the only
 * duplicates are the sends in that window.
 */
static void crash_loses_nothing_and_duplicates_only_unrecorded_sends(void **state)
{
    struct world w;
    struct want want = {&w, 2};
    cJSON *all, *x;
    char from[32];
    int per_client[5] = {0}, total = 0;

    (void)state;
    start_world(&w, "\"outbox\": {\"max_parallel\": 2, \"retry_base\": 1, \"timeout\": 5}");
    assert_int_equal(testlib_emu_fail(&w.emu, "slow", -1, 0), 0);
    for (int i = 0; i < 5; i++) {
        snprintf(from, sizeof(from), "+35840123450%d", i);
        send_elks(&w, from, 50 + i, 1, "APUA");
    }
    assert_true(testlib_wait_for(recorded_n, &want, 10000));
    kill(w.s.pid, SIGKILL);
    waitpid(w.s.pid, NULL, 0);
    w.s.pid = -1;
    assert_int_equal(testlib_emu_fail(&w.emu, "ok", -1, 0), 0);
    assert_int_equal(testlib_server_restart(&w.s, w.config, NULL), 0);
    want.n = 5;
    assert_true(testlib_wait_for(have_accepted, &want, 20000));
    want.n = 8;
    testlib_wait_for(have_accepted, &want, 1500); /* let any duplicate arrive */
    all = testlib_emu_requests(&w.emu);
    cJSON_ArrayForEach(x, all)
    {
        const char *to = field(x, "to");

        if (!cJSON_IsTrue(cJSON_GetObjectItem(x, "accepted")) || strlen(to) != 13)
            continue;
        per_client[to[12] - '0']++;
        total++;
    }
    cJSON_Delete(all);
    for (int i = 0; i < 5; i++)
        assert_true(per_client[i] >= 1);
    /* Printed for the record: the duplicates a crash at the worst moment causes. */
    printf("crash test: %d messages, %d sends accepted, %d duplicates (sends in flight: 2)\n", 5,
           total, total - 5);
    assert_true(total - 5 <= 2);
    stop_world(&w);
    release_world(&w);
}

/*
 * More send slots than one dispatch pass reads rows (64): the rows in flight
 * are still queued and come first, so a pass must read past them. It once
 * did not, and the 65th reply waited for a send to finish while 16 slots
 * stood free (found by scripts/bench's drain with 128 slots).
 */
static void every_send_slot_is_used_beyond_one_pass_of_rows(void **state)
{
    struct world w;
    struct want want = {&w, 80};
    char from[32];

    (void)state;
    start_world(&w, "\"outbox\": {\"max_parallel\": 80, \"rate\": 1000, \"timeout\": 30}");
    assert_int_equal(testlib_emu_fail(&w.emu, "timeout", -1, 0), 0); /* hold every send */
    for (int i = 0; i < 80; i++) {
        snprintf(from, sizeof(from), "+3584012346%02d", i);
        send_elks(&w, from, 1000 + i, 1, "APUA");
    }
    /* All 80 are at the gateway at once, none answered (outbox.timeout is 30 s). */
    assert_true(testlib_wait_for(recorded_n, &want, 10000));
    assert_int_equal(accepted(&w), 0);
    assert_int_equal(testlib_emu_fail(&w.emu, "ok", -1, 0), 0);
    stop_world(&w);
    release_world(&w);
}

static void stop_cancels_replies_still_waiting(void **state)
{
    struct world w;
    struct want want = {&w, 1};
    cJSON *all;
    static const char *const emu_args[] = {"--elks-user", ELKS_USER, "--elks-pass", ELKS_PASS,
                                           NULL};

    (void)state;
    start_world(&w, NULL);
    testlib_emu_stop(&w.emu); /* the gateway is down: the welcome waits in the outbox */
    send_elks(&w, CLIENT, 60, 1, "APUA");
    send_elks(&w, CLIENT, 61, 1, "STOP");
    assert_int_equal(testlib_emu_restart(&w.emu, emu_args), 0);
    assert_true(testlib_wait_for(have_accepted, &want, 20000));
    want.n = 2;
    assert_false(testlib_wait_for(have_accepted, &want, 2000));
    all = testlib_emu_requests(&w.emu);
    /* Only the STOP confirmation: the welcome queued before it was cancelled. */
    assert_non_null(strstr(field(nth_accepted(all, 0), "text"), "Et saa enää viestejä"));
    cJSON_Delete(all);
    stop_world(&w);
    char *row = db_value(&w, "SELECT group_concat(status || ':' || coalesce(error, ''), ';') "
                             "FROM (SELECT * FROM outbox ORDER BY id)");
    assert_string_equal(row, "failed:opted out;sent:");
    free(row);
    release_world(&w);
}

static bool emu_recorded_one(void *arg)
{
    return testlib_emu_count(arg, NULL, -1) >= 1;
}

static void a_rejected_send_is_failed_and_not_retried(void **state)
{
    struct world w;
    char *row;

    (void)state;
    start_world(&w, NULL);
    assert_int_equal(testlib_emu_fail(&w.emu, "400", 1, 0), 0);
    send_elks(&w, CLIENT, 70, 1, "APUA");
    assert_true(testlib_wait_for(emu_recorded_one, &w.emu, 10000));
    sleep(2); /* a retry would come within a second (retry_base 1) */
    assert_int_equal(testlib_emu_count(&w.emu, NULL, -1), 1);
    stop_world(&w);
    row = db_value(&w, "SELECT status || ',' || attempts || ',' || (to_enc IS NULL) FROM outbox");
    assert_string_equal(row, "failed,1,1");
    free(row);
    release_world(&w);
}

static void erase_removes_the_conversation_and_earlier_messages(void **state)
{
    struct world w;
    struct want want = {&w, 4};
    char *row;

    (void)state;
    start_world(&w, NULL);
    send_elks(&w, CLIENT, 80, 1, "APUA");
    send_elks(&w, CLIENT, 81, 1, "2");
    send_elks(&w, CLIENT, 82, 1, "POISTA");
    send_elks(&w, CLIENT, 83, 1, "1");
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    stop_world(&w);
    row = db_value(&w, "SELECT (SELECT count(*) FROM sessions) || ',' || "
                       "(SELECT count(*) FROM outbox) || ',' || "
                       "(SELECT count(*) FROM outbox WHERE to_enc IS NOT NULL)");
    assert_string_equal(row, "0,1,0"); /* only the confirmation, already sent and wiped */
    free(row);
    release_world(&w);
}

static void timeouts_are_retried_and_a_garbled_success_is_not(void **state)
{
    struct world w;
    struct want want = {&w, 1};
    char *row;

    (void)state;
    start_world(&w, NULL);
    assert_int_equal(testlib_emu_fail(&w.emu, "timeout", 1, 0), 0); /* outbox.timeout is 2 s */
    send_elks(&w, CLIENT, 90, 1, "APUA");
    assert_true(testlib_wait_for(have_accepted, &want, 20000));
    assert_int_equal(testlib_emu_count(&w.emu, NULL, -1), 2);
    /* A 2xx with a body that is not the gateway's JSON: taken, so never sent twice. */
    assert_int_equal(testlib_emu_fail(&w.emu, "garbage", 1, 0), 0);
    send_elks(&w, "+358401234500", 91, 1, "APUA");
    sleep(2);
    assert_int_equal(testlib_emu_count(&w.emu, NULL, -1), 3);
    stop_world(&w);
    row = db_value(&w, "SELECT group_concat(status || ':' || coalesce(gateway_msg_id, 'none'), "
                       "';') FROM (SELECT * FROM outbox ORDER BY id)");
    assert_non_null(strstr(row, ";sent:none"));
    free(row);
    release_world(&w);
}

static void retry_after_is_honoured(void **state)
{
    struct world w;
    struct want want = {&w, 1};
    struct timespec t0, t1;

    (void)state;
    start_world(&w, NULL);
    assert_int_equal(testlib_emu_fail(&w.emu, "429", 1, 3), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    send_elks(&w, CLIENT, 100, 1, "APUA");
    assert_true(testlib_wait_for(have_accepted, &want, 20000));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* The retry waited for Retry-After: 3 (and never less: a lower bound only). */
    assert_true(t1.tv_sec - t0.tv_sec >= 2);
    stop_world(&w);
    release_world(&w);
}

static void rate_limit_spaces_out_sends(void **state)
{
    struct world w;
    struct want want = {&w, 6};
    struct timespec t0, t1;
    char from[32];

    (void)state;
    start_world(&w, "\"outbox\": {\"rate\": 2, \"retry_base\": 1, \"timeout\": 2}");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 6; i++) {
        snprintf(from, sizeof(from), "+35840123460%d", i);
        send_elks(&w, from, 110 + i, 1, "APUA");
    }
    assert_true(testlib_wait_for(have_accepted, &want, 20000));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Two at once, then two a second: six sends cannot all be done in under 1.5 s. */
    assert_true((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 >= 1.5);
    stop_world(&w);
    release_world(&w);
}

static void signatures_are_checked_against_the_public_url_behind_a_proxy(void **state)
{
    struct world w;
    struct testlib_response r;
    const char *const pairs[] = {"MessageSid", "SMproxy", "AccountSid", TWILIO_SID,
                                 "From",       CLIENT,    "To",         "+15005550006",
                                 "Body",       "APUA",    NULL};
    char url[256], sig[64], h[128];
    char *form = testlib_form(pairs);
    static const char *const ct = "Content-Type: application/x-www-form-urlencoded";

    (void)state;
    start_world(&w, "\"public_url\": \"https://katto.example.fi\"");
    snprintf(url, sizeof(url), "%s/webhooks/twilio/sms", w.s.base_url);
    /* Signed for the URL Twilio called (the proxy's): accepted. */
    testlib_twilio_sign(TWILIO_TOKEN, "https://katto.example.fi/webhooks/twilio/sms", pairs, sig);
    snprintf(h, sizeof(h), "X-Twilio-Signature: %s", sig);
    const char *const good[] = {ct, h, NULL};
    assert_int_equal(testlib_http("POST", url, good, form, strlen(form), &r), 0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    /* Signed for the address behind the proxy: refused. */
    testlib_twilio_sign(TWILIO_TOKEN, url, pairs, sig);
    snprintf(h, sizeof(h), "X-Twilio-Signature: %s", sig);
    const char *const bad[] = {ct, h, NULL};
    assert_int_equal(testlib_http("POST", url, bad, form, strlen(form), &r), 0);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    free(form);
    stop_world(&w);
    release_world(&w);
}

static void gatewayapi_status_events_need_their_hmac(void **state)
{
    struct world w;
    struct testlib_response r;
    char url[256], sig[128], hex[65];
    uint8_t mac[32];
    const char *body = "{\"event_id\": \"e1\", \"timestamp\": 1795000000, \"event_type\": "
                       "\"message.status.sms\", \"event\": {\"msg_id\": \"01JNN\", "
                       "\"status\": \"DELIVERED\"}}";

    (void)state;
    start_world(&w, "\"gateways\": {\"gatewayapi\": {\"status_secret\": \"v1-secret\"}}");
    snprintf(url, sizeof(url), "%s/webhooks/gatewayapi/status", w.s.base_url);
    crypto_hmac_sha256("v1-secret", 9, body, strlen(body), mac);
    crypto_hex(mac, 32, hex);
    snprintf(sig, sizeof(sig), "Signature: v1=%s", hex);
    const char *const good[] = {"Content-Type: application/json", sig, NULL};
    assert_int_equal(testlib_http("POST", url, good, body, strlen(body), &r), 0);
    assert_int_equal(r.status, 204);
    testlib_response_release(&r);
    hex[0] = hex[0] == 'a' ? 'b' : 'a';
    snprintf(sig, sizeof(sig), "Signature: v1=%s", hex);
    const char *const bad[] = {"Content-Type: application/json", sig, NULL};
    assert_int_equal(testlib_http("POST", url, bad, body, strlen(body), &r), 0);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    stop_world(&w);
    release_world(&w);
}

static void an_oversized_webhook_gets_413(void **state)
{
    struct world w;
    struct testlib_response r;
    char url[256];
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    static const char *const ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};

    (void)state;
    memset(big, 'a', n);
    memcpy(big, "message=", 8);
    big[n] = '\0';
    start_world(&w, NULL);
    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=%s", w.s.base_url, ELKS_HOOK);
    assert_int_equal(testlib_http("POST", url, ct, big, n, &r), 0);
    assert_int_equal(r.status, 413);
    testlib_response_release(&r);
    free(big);
    send_elks(&w, CLIENT, 120, 1, "APUA"); /* still serving */
    stop_world(&w);
    release_world(&w);
}

static void global_daily_cap_drops_messages_to_anyone(void **state)
{
    struct world w;
    struct want want = {&w, 2};
    struct testlib_response r;
    char url[128], from[32];

    (void)state;
    start_world(&w, "\"abuse\": {\"global_day\": 2}");
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof(from), "+35840123470%d", i);
        send_elks(&w, from, 130 + i, 1, "APUA");
    }
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    want.n = 3;
    assert_false(testlib_wait_for(have_accepted, &want, 1500));
    snprintf(url, sizeof(url), "%s/metrics", w.s.base_url);
    assert_int_equal(testlib_http("GET", url, NULL, NULL, 0, &r), 0);
    assert_non_null(strstr(r.body, "katto_messages_capped_total{cap=\"global_day\"} 1\n"));
    testlib_response_release(&r);
    stop_world(&w);
    release_world(&w);
}

static bool outbox_empty(void *arg)
{
    char *n = db_value(arg, "SELECT count(*) FROM outbox");
    bool empty = n != NULL && strcmp(n, "0") == 0;

    free(n);
    return empty;
}

static void finished_messages_are_purged_after_keep_days(void **state)
{
    struct world w;
    struct want want = {&w, 1};
    sqlite3 *db;

    (void)state;
    start_world(&w, "\"maintenance_interval\": 1");
    send_elks(&w, CLIENT, 140, 1, "APUA");
    assert_true(testlib_wait_for(have_accepted, &want, 10000));
    assert_false(outbox_empty(&w));
    /* Pretend the message was sent eight days ago. */
    assert_int_equal(sqlite3_open(w.s.db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE outbox SET updated_at = updated_at - 8 * 86400", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_true(testlib_wait_for(outbox_empty, &w, 10000));
    stop_world(&w);
    release_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(twilio_message_gets_a_reply_at_the_gateway_with_basic_auth),
        cmocka_unit_test(twilio_signature_must_match_url_body_and_token),
        cmocka_unit_test(duplicate_message_id_gets_the_same_answer_and_one_reply),
        cmocka_unit_test(each_gateway_replies_in_its_own_wire_format),
        cmocka_unit_test(malformed_webhooks_get_clear_4xx_and_the_server_keeps_serving),
        cmocka_unit_test(gateway_down_then_back_delivers_every_reply_once_in_order),
        cmocka_unit_test(server_errors_and_429_are_retried_until_delivered),
        cmocka_unit_test(nothing_identifying_is_in_the_database_or_the_log),
        cmocka_unit_test(delivery_report_marks_the_message_delivered),
        cmocka_unit_test(stop_is_honoured_except_for_crisis_words_and_start),
        cmocka_unit_test(abuse_cap_drops_messages_over_the_hourly_limit),
        cmocka_unit_test(elks_inline_reply_is_in_the_webhook_answer_and_repeated_on_retry),
        cmocka_unit_test(crash_loses_nothing_and_duplicates_only_unrecorded_sends),
        cmocka_unit_test(every_send_slot_is_used_beyond_one_pass_of_rows),
        cmocka_unit_test(stop_cancels_replies_still_waiting),
        cmocka_unit_test(a_rejected_send_is_failed_and_not_retried),
        cmocka_unit_test(erase_removes_the_conversation_and_earlier_messages),
        cmocka_unit_test(timeouts_are_retried_and_a_garbled_success_is_not),
        cmocka_unit_test(retry_after_is_honoured),
        cmocka_unit_test(rate_limit_spaces_out_sends),
        cmocka_unit_test(signatures_are_checked_against_the_public_url_behind_a_proxy),
        cmocka_unit_test(gatewayapi_status_events_need_their_hmac),
        cmocka_unit_test(an_oversized_webhook_gets_413),
        cmocka_unit_test(global_daily_cap_drops_messages_to_anyone),
        cmocka_unit_test(finished_messages_are_purged_after_keep_days),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
