/*
 * test_gateway_emu.c: the gateway emulator itself (tests/support/gateway_emu.c):
 * each gateway's send API with right and wrong credentials, the recorded
 * requests, every failure mode, reset, delivery reports with their signatures,
 * and a restart on the same port. Other integration tests rely on all of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define TO "+358401234567"
#define TEXT "Hei! Tässä ä ö å Å"

static struct testlib_emu emu;

static int group_setup(void **state)
{
    (void)state;
    return testlib_emu_start(&emu, 0, NULL);
}

static int group_teardown(void **state)
{
    int rc;

    (void)state;
    rc = testlib_emu_stop(&emu);
    testlib_emu_release(&emu);
    return rc == 0 ? 0 : -1;
}

static int reset(void **state)
{
    (void)state;
    return testlib_emu_reset(&emu);
}

static char *url(const struct testlib_emu *e, const char *path)
{
    char *u;

    assert_true(asprintf(&u, "%s%s", e->base_url, path) > 0);
    return u;
}

/* POSTs body to path with headers (may be NULL); returns testlib_http's result. */
static int post(const char *path, const char *const *headers, const char *body,
                struct testlib_response *res)
{
    char *u = url(&emu, path);
    int rc = testlib_http("POST", u, headers, body, strlen(body), res);

    free(u);
    return rc;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *only_record(void)
{
    cJSON *all = testlib_emu_requests(&emu);

    assert_non_null(all);
    assert_int_equal(cJSON_GetArraySize(all), 1);
    return all;
}

static int twilio_post(const char *sid, const char *token, const char *body,
                       struct testlib_response *res)
{
    char *auth = testlib_basic_auth(sid, token);
    const char *headers[] = {auth, "Content-Type: application/x-www-form-urlencoded", NULL};
    char *path;
    int rc;

    assert_true(asprintf(&path, "/2010-04-01/Accounts/%s/Messages.json", sid) > 0);
    rc = post(path, headers, body, res);
    free(path);
    free(auth);
    return rc;
}

static char *twilio_form(const char *text)
{
    const char *pairs[] = {
        "To",   TO,   "From",           "+15005550006",
        "Body", text, "StatusCallback", "http://127.0.0.1:1/webhooks/twilio/status",
        NULL};

    return testlib_form(pairs);
}

static void twilio_send_is_accepted_and_recorded(void **state)
{
    struct testlib_response r;
    char *body = twilio_form(TEXT);
    cJSON *j, *all, *rec;
    const char *sid;

    (void)state;
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.headers, "Content-Type: application/json"));
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    sid = str(j, "sid");
    assert_non_null(sid);
    assert_int_equal(strlen(sid), 34);
    assert_int_equal(strncmp(sid, "SM", 2), 0);
    assert_int_equal(strspn(sid + 2, "0123456789abcdef"), 32);
    assert_string_equal(str(j, "status"), "queued");
    assert_string_equal(str(j, "num_segments"), "1");
    assert_string_equal(str(j, "to"), TO);
    assert_string_equal(str(j, "from"), "+15005550006");
    assert_string_equal(str(j, "body"), TEXT);

    all = only_record();
    rec = cJSON_GetArrayItem(all, 0);
    assert_string_equal(str(rec, "gateway"), "twilio");
    assert_string_equal(str(rec, "method"), "POST");
    assert_string_equal(str(rec, "path"),
                        "/2010-04-01/Accounts/" TESTLIB_EMU_TWILIO_SID "/Messages.json");
    assert_string_equal(str(rec, "body"), body);
    assert_string_equal(str(rec, "to"), TO);
    assert_string_equal(str(rec, "from"), "+15005550006");
    assert_string_equal(str(rec, "text"), TEXT);
    assert_string_equal(str(rec, "content_type"), "application/x-www-form-urlencoded");
    assert_int_equal(strncmp(str(rec, "authorization"), "Basic ", 6), 0);
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "StatusCallback"),
                        "http://127.0.0.1:1/webhooks/twilio/status");
    assert_string_equal(str(rec, "mode"), "ok");
    assert_int_equal(cJSON_GetObjectItem(rec, "status")->valueint, 201);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rec, "accepted")));
    assert_string_equal(str(rec, "id"), sid);
    cJSON_Delete(all);
    cJSON_Delete(j);
    testlib_response_release(&r);
    free(body);
}

static void twilio_counts_segments_gsm_and_ucs2(void **state)
{
    static const struct {
        const char *text;
        const char *segments;
    } cases[] = {
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "1"}, /* 160 */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "2"}, /* 161 */
        {"äöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåäöåä", "1"},
        {"šaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2"}, /* 71 */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct testlib_response r;
        char *body = twilio_form(cases[i].text);
        cJSON *j;

        assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r),
                         0);
        assert_int_equal(r.status, 201);
        j = cJSON_Parse(r.body);
        assert_string_equal(str(j, "num_segments"), cases[i].segments);
        cJSON_Delete(j);
        testlib_response_release(&r);
        free(body);
    }
}

static void twilio_wrong_token_or_account_gets_401_authenticate(void **state)
{
    struct testlib_response r;
    char *body = twilio_form("hi");
    cJSON *j, *all;
    const cJSON *rec;

    (void)state;
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, "wrong", body, &r), 0);
    assert_int_equal(r.status, 401);
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, 20003);
    assert_string_equal(str(j, "message"), "Authenticate");
    assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, 401);
    assert_non_null(str(j, "more_info"));
    cJSON_Delete(j);
    testlib_response_release(&r);

    /* Right token, another account in the path. */
    assert_int_equal(
        twilio_post("AC00000000000000000000000000000000", TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 401);
    testlib_response_release(&r);

    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 2);
    cJSON_ArrayForEach(rec, all)
    {
        assert_false(cJSON_IsTrue(cJSON_GetObjectItem(rec, "accepted")));
        assert_int_equal(cJSON_GetObjectItem(rec, "status")->valueint, 401);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(rec, "id")));
    }
    cJSON_Delete(all);
    assert_int_equal(testlib_emu_count(&emu, "twilio", 1), 0);
    assert_int_equal(testlib_emu_count(&emu, "twilio", 0), 2);
    free(body);
}

static void twilio_missing_to_gets_400_21604(void **state)
{
    struct testlib_response r;
    cJSON *j;

    (void)state;
    assert_int_equal(
        twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, "From=x&Body=hi", &r), 0);
    assert_int_equal(r.status, 400);
    j = cJSON_Parse(r.body);
    assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, 21604);
    cJSON_Delete(j);
    testlib_response_release(&r);
}

static int elks_post(const char *user, const char *pass, const char *body,
                     struct testlib_response *res)
{
    char *auth = testlib_basic_auth(user, pass);
    const char *headers[] = {auth, "Content-Type: application/x-www-form-urlencoded", NULL};
    int rc = post("/a1/sms", headers, body, res);

    free(auth);
    return rc;
}

static void elks_send_accepted_and_wrong_password_rejected(void **state)
{
    const char *pairs[] = {"from",
                           "Katto",
                           "to",
                           "+46701234567",
                           "message",
                           TEXT,
                           "whendelivered",
                           "http://127.0.0.1:1/dlr",
                           NULL};
    char *body = testlib_form(pairs);
    struct testlib_response r;
    cJSON *j, *all, *rec;

    (void)state;
    assert_int_equal(elks_post(TESTLIB_EMU_ELKS_USER, TESTLIB_EMU_ELKS_PASS, body, &r), 0);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_int_equal(str(j, "id")[0], 's');
    assert_int_equal(strlen(str(j, "id")), 33);
    assert_string_equal(str(j, "status"), "created");
    assert_string_equal(str(j, "direction"), "outgoing");
    assert_string_equal(str(j, "from"), "Katto");
    assert_string_equal(str(j, "to"), "+46701234567");
    assert_string_equal(str(j, "message"), TEXT);
    assert_int_equal(cJSON_GetObjectItem(j, "parts")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(j, "cost")->valueint, 3500);
    testlib_response_release(&r);

    assert_int_equal(elks_post(TESTLIB_EMU_ELKS_USER, "wrong", body, &r), 0);
    assert_int_equal(r.status, 401);
    testlib_response_release(&r);

    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 2);
    rec = cJSON_GetArrayItem(all, 0);
    assert_string_equal(str(rec, "gateway"), "46elks");
    assert_string_equal(str(rec, "text"), TEXT);
    assert_string_equal(str(rec, "to"), "+46701234567");
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "whendelivered"),
                        "http://127.0.0.1:1/dlr");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rec, "accepted")));
    assert_string_equal(str(rec, "id"), str(j, "id"));
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 1), "accepted")));
    cJSON_Delete(all);
    cJSON_Delete(j);
    free(body);
}

static int gwapi_post(const char *token, const char *ctype, const char *body,
                      struct testlib_response *res)
{
    char *auth = testlib_basic_auth(token, "");
    const char *headers[] = {auth, ctype, NULL};
    int rc = post("/rest/mtsms", headers, body, res);

    free(auth);
    return rc;
}

static void gatewayapi_send_accepted_and_msisdn_must_be_integer(void **state)
{
    static const char ok[] = "{\"sender\": \"Katto\", \"message\": \"" TEXT "\", "
                             "\"recipients\": [{\"msisdn\": 358401234567}], "
                             "\"encoding\": \"UTF8\", \"callback_url\": \"http://x/dlr\"}";
    static const char as_string[] = "{\"sender\": \"Katto\", \"message\": \"hi\", "
                                    "\"recipients\": [{\"msisdn\": \"358401234567\"}]}";
    static const char json[] = "Content-Type: application/json";
    struct testlib_response r;
    cJSON *j, *all, *rec;
    char id[32];

    (void)state;
    assert_int_equal(gwapi_post(TESTLIB_EMU_GWAPI_TOKEN, json, ok, &r), 0);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "ids")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "ids")), 1);
    assert_true(cJSON_IsNumber(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ids"), 0)));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(j, "usage")));
    snprintf(id, sizeof(id), "%.0f",
             cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ids"), 0)->valuedouble);
    cJSON_Delete(j);
    testlib_response_release(&r);

    assert_int_equal(gwapi_post(TESTLIB_EMU_GWAPI_TOKEN, json, as_string, &r), 0);
    assert_int_equal(r.status, 400);
    j = cJSON_Parse(r.body);
    assert_non_null(strstr(str(j, "message"), "msisdn"));
    assert_non_null(str(j, "incident_uuid"));
    cJSON_Delete(j);
    testlib_response_release(&r);

    assert_int_equal(gwapi_post("wrong", json, ok, &r), 0);
    assert_int_equal(r.status, 401);
    testlib_response_release(&r);

    assert_int_equal(gwapi_post(TESTLIB_EMU_GWAPI_TOKEN, json, "{not json", &r), 0);
    assert_int_equal(r.status, 422);
    testlib_response_release(&r);

    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 4);
    rec = cJSON_GetArrayItem(all, 0);
    assert_string_equal(str(rec, "gateway"), "gatewayapi");
    assert_string_equal(str(rec, "to"), TO);
    assert_string_equal(str(rec, "from"), "Katto");
    assert_string_equal(str(rec, "text"), TEXT);
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "encoding"), "UTF8");
    assert_string_equal(str(rec, "id"), id);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rec, "accepted")));
    assert_int_equal(testlib_emu_count(&emu, "gatewayapi", 1), 1);
    cJSON_Delete(all);
}

static int at_post(const char *key, bool want_json, const char *body, struct testlib_response *res)
{
    char *api_key;
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded;charset=utf-8", NULL,
                             want_json ? "Accept: application/json" : NULL, NULL};
    int rc;

    assert_true(asprintf(&api_key, "apiKey: %s", key) > 0);
    headers[1] = api_key;
    rc = post("/version1/messaging", headers, body, res);
    free(api_key);
    return rc;
}

static void africastalking_send_gets_201_recipients_and_wrong_key_401(void **state)
{
    const char *pairs[] = {
        "username", TESTLIB_EMU_AT_USER, "to", "+254711000000", "message", TEXT, "from", "Katto",
        NULL};
    char *body = testlib_form(pairs);
    struct testlib_response r;
    cJSON *j, *rcpt, *all;

    (void)state;
    assert_int_equal(at_post(TESTLIB_EMU_AT_KEY, true, body, &r), 0);
    assert_int_equal(r.status, 201);
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_string_equal(str(cJSON_GetObjectItem(j, "SMSMessageData"), "Message"),
                        "Sent to 1/1 Total Cost: KES 0.8000");
    rcpt = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "SMSMessageData"), "Recipients"), 0);
    assert_int_equal(cJSON_GetObjectItem(rcpt, "statusCode")->valueint, 101);
    assert_string_equal(str(rcpt, "status"), "Success");
    assert_string_equal(str(rcpt, "number"), "+254711000000");
    assert_int_equal(strncmp(str(rcpt, "messageId"), "ATXid_", 6), 0);
    testlib_response_release(&r);

    /* Without Accept: application/json, AT answers XML. */
    assert_int_equal(at_post(TESTLIB_EMU_AT_KEY, false, body, &r), 0);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "<AfricasTalkingResponse>"));
    testlib_response_release(&r);

    assert_int_equal(at_post("wrong", true, body, &r), 0);
    assert_int_equal(r.status, 401);
    testlib_response_release(&r);

    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 3);
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "api_key"), TESTLIB_EMU_AT_KEY);
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "text"), TEXT);
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "id"), str(rcpt, "messageId"));
    assert_int_equal(testlib_emu_count(&emu, "africastalking", 1), 2);
    assert_int_equal(testlib_emu_count(&emu, "africastalking", 0), 1);
    cJSON_Delete(all);
    cJSON_Delete(j);
    free(body);
}

static void fail_500_twice_then_accepts_and_records_attempts(void **state)
{
    char *body = twilio_form("hi");
    struct testlib_response r;
    cJSON *all;

    (void)state;
    assert_int_equal(testlib_emu_fail(&emu, "500", 2, 0), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r),
                         0);
        assert_int_equal(r.status, i < 2 ? 500 : 201);
        if (i < 2) {
            cJSON *j = cJSON_Parse(r.body);

            assert_non_null(j);
            assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, 500);
            cJSON_Delete(j);
        }
        testlib_response_release(&r);
    }
    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 3);
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "mode"), "500");
    assert_string_equal(str(cJSON_GetArrayItem(all, 1), "mode"), "500");
    assert_string_equal(str(cJSON_GetArrayItem(all, 2), "mode"), "ok");
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "text"), "hi");
    assert_int_equal(testlib_emu_count(&emu, NULL, 1), 1);
    assert_int_equal(testlib_emu_count(&emu, NULL, 0), 2);
    cJSON_Delete(all);
    free(body);
}

static void fail_phases_run_in_order(void **state)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    static const long want[] = {201, 500, 429, 429, 201};
    char *body = twilio_form("hi");
    struct testlib_response r;

    (void)state;
    assert_int_equal(post("/_emu/fail", headers, "{\"mode\": \"ok\", \"count\": 1}", &r), 0);
    testlib_response_release(&r);
    assert_int_equal(testlib_emu_fail(&emu, "500", 1, 0), 0);
    assert_int_equal(testlib_emu_fail(&emu, "429", 2, 3), 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r),
                         0);
        assert_int_equal(r.status, want[i]);
        testlib_response_release(&r);
    }
    assert_int_equal(testlib_emu_count(&emu, "twilio", 1), 2);
    assert_int_equal(testlib_emu_count(&emu, "twilio", 0), 3);

    /* "ok" without a count clears whatever is queued. */
    assert_int_equal(testlib_emu_fail(&emu, "500", -1, 0), 0);
    assert_int_equal(testlib_emu_fail(&emu, "ok", 0, 0), 0);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    testlib_response_release(&r);
    free(body);
}

static void fail_429_sends_retry_after(void **state)
{
    const char *pairs[] = {"from", "Katto", "to", "+46701234567", "message", "hi", NULL};
    char *body = testlib_form(pairs);
    struct testlib_response r;
    cJSON *j;

    (void)state;
    assert_int_equal(testlib_emu_fail(&emu, "429", 1, 7), 0);
    assert_int_equal(elks_post(TESTLIB_EMU_ELKS_USER, TESTLIB_EMU_ELKS_PASS, body, &r), 0);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.headers, "Retry-After: 7\r\n"));
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    cJSON_Delete(j);
    testlib_response_release(&r);
    assert_int_equal(elks_post(TESTLIB_EMU_ELKS_USER, TESTLIB_EMU_ELKS_PASS, body, &r), 0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    assert_int_equal(testlib_emu_count(&emu, "46elks", 1), 1);
    free(body);
}

static void fail_garbage_answers_html_with_success_status(void **state)
{
    char *body = twilio_form("hi");
    struct testlib_response r;
    cJSON *all;

    (void)state;
    assert_int_equal(testlib_emu_fail(&emu, "garbage", 1, 0), 0);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "<html>oops");
    testlib_response_release(&r);
    all = only_record();
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "mode"), "garbage");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "accepted")));
    cJSON_Delete(all);
    free(body);
}

static void fail_close_drops_the_connection(void **state)
{
    char *body = twilio_form("hi");
    struct testlib_response r;
    cJSON *all;

    (void)state;
    assert_int_equal(testlib_emu_fail(&emu, "close", 1, 0), 0);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), -1);
    testlib_response_release(&r);
    all = only_record();
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "mode"), "close");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "status")->valueint, 0);
    cJSON_Delete(all);
    /* The next send is answered normally. */
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    testlib_response_release(&r);
    free(body);
}

static void fail_timeout_never_answers_until_ok(void **state)
{
    char *body = twilio_form("hi");
    struct testlib_response r;
    long old;
    cJSON *all;

    (void)state;
    assert_int_equal(testlib_emu_fail(&emu, "timeout", -1, 0), 0);
    old = testlib_http_set_timeout(300);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r),
                         -1);
        testlib_response_release(&r);
    }
    testlib_http_set_timeout(old);
    /* The control API still answers while requests are held. */
    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 2);
    assert_string_equal(str(cJSON_GetArrayItem(all, 1), "mode"), "timeout");
    cJSON_Delete(all);
    assert_int_equal(testlib_emu_fail(&emu, "ok", 0, 0), 0);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    testlib_response_release(&r);
    free(body);
}

static void fail_slow_answers_after_the_delay(void **state)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    char *body = twilio_form("hi");
    struct testlib_response r;
    long old;

    (void)state;
    assert_int_equal(post("/_emu/fail", headers, "{\"mode\": \"slow\", \"delay_ms\": 600}", &r), 0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    old = testlib_http_set_timeout(200);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), -1);
    testlib_response_release(&r);
    testlib_http_set_timeout(old);
    assert_int_equal(post("/_emu/fail", headers, "{\"mode\": \"slow\", \"delay_ms\": 100}", &r), 0);
    testlib_response_release(&r);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    testlib_response_release(&r);
    free(body);
}

static void fail_can_target_one_gateway_and_bad_modes_are_refused(void **state)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    const char *pairs[] = {"from", "Katto", "to", "+46701234567", "message", "hi", NULL};
    char *elks = testlib_form(pairs);
    char *twilio = twilio_form("hi");
    struct testlib_response r;

    (void)state;
    assert_int_equal(post("/_emu/fail", headers,
                          "{\"mode\": \"503\", \"count\": -1, \"gateway\": \"46elks\"}", &r),
                     0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(elks_post(TESTLIB_EMU_ELKS_USER, TESTLIB_EMU_ELKS_PASS, elks, &r), 0);
        assert_int_equal(r.status, 503);
        testlib_response_release(&r);
        assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, twilio, &r),
                         0);
        assert_int_equal(r.status, 201);
        testlib_response_release(&r);
    }
    assert_int_equal(post("/_emu/fail", headers, "{\"mode\": \"explode\"}", &r), 0);
    assert_int_equal(r.status, 400);
    testlib_response_release(&r);
    assert_int_equal(post("/_emu/fail", headers, "{\"mode\": \"200\"}", &r), 0);
    assert_int_equal(r.status, 400);
    testlib_response_release(&r);
    assert_int_equal(post("/_emu/fail", headers, "{\"mode\": \" 500\"}", &r), 0);
    assert_int_equal(r.status, 400);
    testlib_response_release(&r);
    free(elks);
    free(twilio);
}

static void reset_clears_the_record_and_the_failures(void **state)
{
    char *body = twilio_form("hi");
    struct testlib_response r;
    cJSON *all;

    (void)state;
    assert_int_equal(testlib_emu_fail(&emu, "500", -1, 0), 0);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 500);
    testlib_response_release(&r);
    assert_int_equal(testlib_emu_reset(&emu), 0);
    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 0);
    cJSON_Delete(all);
    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    testlib_response_release(&r);
    free(body);
}

static void unknown_paths_are_recorded_with_404(void **state)
{
    struct testlib_response r;
    cJSON *all;

    (void)state;
    assert_int_equal(post("/2010-04-01/Accounts/AC1/Calls.json", NULL, "x=1", &r), 0);
    assert_int_equal(r.status, 404);
    testlib_response_release(&r);
    all = only_record();
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "gateway")));
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "mode"), "unknown");
    cJSON_Delete(all);
}

/* Sends a Twilio message and returns its sid (malloc'd). */
static char *twilio_accepted_sid(void)
{
    char *body = twilio_form("hi");
    struct testlib_response r;
    cJSON *j;
    char *sid;

    assert_int_equal(twilio_post(TESTLIB_EMU_TWILIO_SID, TESTLIB_EMU_TWILIO_TOKEN, body, &r), 0);
    assert_int_equal(r.status, 201);
    j = cJSON_Parse(r.body);
    sid = strdup(str(j, "sid"));
    cJSON_Delete(j);
    testlib_response_release(&r);
    free(body);
    return sid;
}

/*
 * The report goes to the emulator itself (an unknown path, so it is recorded and
 * answered 404): the test sees the exact request Katto would get.
 */
static void report_posts_signed_twilio_status_callback(void **state)
{
    char *sid = twilio_accepted_sid();
    char *target = url(&emu, "/webhooks/twilio/status");
    const char *pairs[40];
    size_t n = 0;
    char expected[64];
    cJSON *all, *rec, *fields;
    const cJSON *f;

    (void)state;
    assert_int_equal(testlib_emu_report(&emu, "twilio", sid, "delivered", target), 404);
    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 2);
    rec = cJSON_GetArrayItem(all, 1);
    assert_string_equal(str(rec, "path"), "/webhooks/twilio/status");
    assert_string_equal(str(rec, "content_type"), "application/x-www-form-urlencoded");
    fields = cJSON_GetObjectItem(rec, "fields");
    assert_string_equal(str(fields, "MessageSid"), sid);
    assert_string_equal(str(fields, "MessageStatus"), "delivered");
    assert_string_equal(str(fields, "AccountSid"), TESTLIB_EMU_TWILIO_SID);
    assert_string_equal(str(fields, "To"), TO);
    cJSON_ArrayForEach(f, fields)
    {
        assert_true(n + 2 < sizeof(pairs) / sizeof(pairs[0]));
        pairs[n++] = f->string;
        pairs[n++] = f->valuestring;
    }
    pairs[n] = NULL;
    testlib_twilio_sign(TESTLIB_EMU_TWILIO_TOKEN, target, pairs, expected);
    assert_string_equal(str(rec, "twilio_signature"), expected);
    cJSON_Delete(all);
    free(target);
    free(sid);
}

static void report_posts_each_gateways_format(void **state)
{
    char *target = url(&emu, "/dlr");
    char *jwt;
    cJSON *all, *rec;

    (void)state;
    assert_int_equal(testlib_emu_report(&emu, "46elks", "s123", "delivered", target), 404);
    assert_int_equal(testlib_emu_report(&emu, "africastalking", "ATXid_1", "Success", target), 404);
    assert_int_equal(testlib_emu_report(&emu, "gatewayapi", "1234567", "DELIVERED", target), 404);
    assert_int_equal(testlib_emu_report(&emu, "nosuch", "1", "x", target), 400);
    all = testlib_emu_requests(&emu);
    assert_int_equal(cJSON_GetArraySize(all), 3);
    rec = cJSON_GetArrayItem(all, 0);
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "id"), "s123");
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "status"), "delivered");
    assert_non_null(str(cJSON_GetObjectItem(rec, "fields"), "delivered"));
    rec = cJSON_GetArrayItem(all, 1);
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "id"), "ATXid_1");
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "status"), "Success");
    rec = cJSON_GetArrayItem(all, 2);
    assert_string_equal(str(rec, "content_type"), "application/json");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "fields"), "id")->valuedouble,
                     1234567);
    assert_string_equal(str(cJSON_GetObjectItem(rec, "fields"), "status"), "DELIVERED");
    jwt = testlib_gwapi_jwt(TESTLIB_EMU_GWAPI_SECRET, str(rec, "body"));
    assert_string_equal(str(rec, "gwapi_signature"), jwt);
    free(jwt);
    cJSON_Delete(all);
    free(target);
}

static void report_to_a_closed_port_answers_502(void **state)
{
    (void)state;
    assert_int_equal(testlib_emu_report(&emu, "46elks", "s1", "failed", "http://127.0.0.1:1/x"),
                     502);
}

static void twilio_sign_matches_the_published_example(void **state)
{
    /* Twilio's docs example (token 12345), as listed in gateways.md 1.2. */
    const char *pairs[] = {
        "CallSid", "CA1234567890ABCDE", "Caller", "+12349013030", "Digits", "1234",
        "From",    "+12349013030",      "To",     "+18005551212", NULL};
    char sig[64];

    (void)state;
    testlib_twilio_sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", pairs, sig);
    assert_string_equal(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

static void gwapi_jwt_matches_the_well_known_hs256_example(void **state)
{
    char *jwt;

    (void)state;
    jwt = testlib_gwapi_jwt("your-256-bit-secret",
                            "{\"sub\":\"1234567890\",\"name\":\"John Doe\",\"iat\":1516239022}");
    assert_string_equal(jwt, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                             "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2Mj"
                             "M5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
    free(jwt);
}

static void form_encodes_utf8_and_reserved_characters(void **state)
{
    const char *pairs[] = {"Body", "ä ö&=+", "To", "+358", NULL};
    char *form = testlib_form(pairs);

    (void)state;
    assert_string_equal(form, "Body=%C3%A4%20%C3%B6%26%3D%2B&To=%2B358");
    free(form);
}

static void restart_on_the_same_port_after_being_down(void **state)
{
    struct testlib_emu e;
    struct testlib_response r;
    char *u;
    int port;

    (void)state;
    assert_int_equal(testlib_emu_start(&e, 0, NULL), 0);
    port = e.port;
    u = url(&e, "/_emu/requests");
    assert_int_equal(testlib_emu_stop(&e), 0);
    /* Down: connection refused. */
    assert_int_equal(testlib_http("GET", u, NULL, NULL, 0, &r), -1);
    testlib_response_release(&r);
    assert_int_equal(testlib_emu_restart(&e, NULL), 0);
    assert_int_equal(e.port, port);
    assert_int_equal(testlib_http("GET", u, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "[]");
    testlib_response_release(&r);
    assert_int_equal(testlib_emu_stop(&e), 0);
    testlib_emu_release(&e);

    /* A fresh start on a given port works too. */
    assert_int_equal(testlib_emu_start(&e, port, NULL), 0);
    assert_int_equal(e.port, port);
    assert_int_equal(testlib_emu_stop(&e), 0);
    testlib_emu_release(&e);
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(twilio_send_is_accepted_and_recorded, reset),
        cmocka_unit_test_setup(twilio_counts_segments_gsm_and_ucs2, reset),
        cmocka_unit_test_setup(twilio_wrong_token_or_account_gets_401_authenticate, reset),
        cmocka_unit_test_setup(twilio_missing_to_gets_400_21604, reset),
        cmocka_unit_test_setup(elks_send_accepted_and_wrong_password_rejected, reset),
        cmocka_unit_test_setup(gatewayapi_send_accepted_and_msisdn_must_be_integer, reset),
        cmocka_unit_test_setup(africastalking_send_gets_201_recipients_and_wrong_key_401, reset),
        cmocka_unit_test_setup(fail_500_twice_then_accepts_and_records_attempts, reset),
        cmocka_unit_test_setup(fail_phases_run_in_order, reset),
        cmocka_unit_test_setup(fail_429_sends_retry_after, reset),
        cmocka_unit_test_setup(fail_garbage_answers_html_with_success_status, reset),
        cmocka_unit_test_setup(fail_close_drops_the_connection, reset),
        cmocka_unit_test_setup(fail_timeout_never_answers_until_ok, reset),
        cmocka_unit_test_setup(fail_slow_answers_after_the_delay, reset),
        cmocka_unit_test_setup(fail_can_target_one_gateway_and_bad_modes_are_refused, reset),
        cmocka_unit_test_setup(reset_clears_the_record_and_the_failures, reset),
        cmocka_unit_test_setup(unknown_paths_are_recorded_with_404, reset),
        cmocka_unit_test_setup(report_posts_signed_twilio_status_callback, reset),
        cmocka_unit_test_setup(report_posts_each_gateways_format, reset),
        cmocka_unit_test_setup(report_to_a_closed_port_answers_502, reset),
        cmocka_unit_test(twilio_sign_matches_the_published_example),
        cmocka_unit_test(gwapi_jwt_matches_the_well_known_hs256_example),
        cmocka_unit_test(form_encodes_utf8_and_reserved_characters),
        cmocka_unit_test(restart_on_the_same_port_after_being_down),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
