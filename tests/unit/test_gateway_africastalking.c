/*
 * test_gateway_africastalking.c: the Africa's Talking adapter. The inbound
 * fixture is courier's (handlers/africastalking), the send request and the
 * 201 answer follow AT's node SDK 0.8.3 (lib/sms.js), and the per-recipient
 * status codes are those listed in ../shared/gateways.md 2.3. A 201 can
 * still carry a rejected recipient, which is the case that matters most.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gateway.h"
#include "testlib_gateway.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define FORM "application/x-www-form-urlencoded"

#define INBOUND                                                                                    \
    "linkId=03090445075804249226&text=Msg+%C3%A4&to=21512"                                         \
    "&id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3&date=2017-05-03T06%3A04%3A45Z"                       \
    "&from=%2B254791541111"

struct fake {
    struct testlib_gateway g; /* configuration, gateway and webhook */
};

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    testlib_gateway_init(&f->g, &gateway_africastalking);
    testlib_set_str(&f->g.cfg.gateways.africastalking.username, "katto");
    testlib_set_str(&f->g.cfg.gateways.africastalking.api_key, "atsk_0123456789");
    testlib_set_str(&f->g.cfg.gateways.africastalking.from, "KATTO");
    testlib_set_str(&f->g.cfg.gateways.africastalking.webhook_token, "route-s3cr3t");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fake *f = *state;

    testlib_gateway_release(&f->g);
    free(f);
    return 0;
}

static void request(struct fake *f, const char *query, const char *body)
{
    testlib_gateway_request(&f->g, "https://katto.example/webhooks/africastalking/sms", query, FORM,
                            body);
}

static void verify_checks_the_route_token(void **state)
{
    struct fake *f = *state;
    char err[256];

    request(f, "token=route-s3cr3t", INBOUND);
    assert_int_equal(gateway_africastalking.verify(&f->g.gw, &f->g.in, err), 0);
    request(f, "token=wrong", INBOUND);
    assert_int_equal(gateway_africastalking.verify(&f->g.gw, &f->g.in, err), -1);
    assert_string_equal(err, "wrong route token");
    request(f, NULL, INBOUND);
    assert_int_equal(gateway_africastalking.verify(&f->g.gw, &f->g.in, err), -1);
    testlib_set_str(&f->g.cfg.gateways.africastalking.webhook_token, "");
    assert_false(gateway_africastalking.can_verify(&f->g.cfg));
    assert_int_equal(gateway_africastalking.verify(&f->g.gw, &f->g.in, err), 0);
}

static void parse_inbound_reads_couriers_fixture(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    request(f, NULL, INBOUND);
    assert_int_equal(gateway_africastalking.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.msg_id, "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3");
    assert_string_equal(m.from, "+254791541111");
    assert_string_equal(m.to, "21512");
    assert_string_equal(m.text, "Msg ä");
    gateway_inbound_release(&m);
}

struct missing_case {
    const char *body;
    const char *err;
};

static const struct missing_case missing_cases[] = {
    {"text=x&to=21512&from=%2B254791541111", "missing field 'id'"},
    {"id=1&text=x&to=21512", "missing field 'from'"},
    {"id=1&text=x&from=%2B254791541111", "missing field 'to'"},
    {"id=1&to=21512&from=%2B254791541111", "missing field 'text'"},
};

static void parse_inbound_names_what_is_missing(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    for (size_t i = 0; i < N_ROWS(missing_cases); i++) {
        request(f, NULL, missing_cases[i].body);
        assert_int_equal(gateway_africastalking.parse_inbound(&f->g.in, &m, err), -1);
        assert_string_equal(err, missing_cases[i].err);
    }
}

struct status_case {
    const char *status;
    enum gateway_delivery want;
};

static const struct status_case status_cases[] = {
    {"Success", GATEWAY_DELIVERY_DELIVERED}, {"Sent", GATEWAY_DELIVERY_SENT},
    {"Buffered", GATEWAY_DELIVERY_SENT},     {"Rejected", GATEWAY_DELIVERY_FAILED},
    {"Failed", GATEWAY_DELIVERY_FAILED},     {"Expired", GATEWAY_DELIVERY_FAILED},
    {"Submitted", GATEWAY_DELIVERY_UNKNOWN}, {"success", GATEWAY_DELIVERY_UNKNOWN},
};

static void parse_status_maps_delivery_reports(void **state)
{
    struct fake *f = *state;
    struct gateway_status st;
    char err[256], body[256];

    for (size_t i = 0; i < N_ROWS(status_cases); i++) {
        snprintf(body, sizeof(body),
                 "id=ATXid_1&status=%s&phoneNumber=%%2B254711XXXYYY&networkCode=63902"
                 "&retryCount=0",
                 status_cases[i].status);
        request(f, NULL, body);
        assert_int_equal(gateway_africastalking.parse_status(&f->g.in, &st, err), 0);
        assert_string_equal(st.msg_id, "ATXid_1");
        assert_int_equal(st.delivery, status_cases[i].want);
        assert_string_equal(st.error, "");
    }
    request(f, NULL, "id=ATXid_2&status=Failed&failureReason=AbsentSubscriber");
    assert_int_equal(gateway_africastalking.parse_status(&f->g.in, &st, err), 0);
    assert_string_equal(st.error, "AbsentSubscriber");
    request(f, NULL, "id=ATXid_2");
    assert_int_equal(gateway_africastalking.parse_status(&f->g.in, &st, err), -1);
    assert_string_equal(err, "missing field 'status'");
}

static void build_send_matches_the_sdk_request(void **state)
{
    struct fake *f = *state;
    struct gateway_message msg = {.to = "+254711082000", .from = "", .text = "Habari äöå?"};
    struct gateway_request req;
    char err[256];

    assert_int_equal(gateway_africastalking.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.url, "https://api.africastalking.com/version1/messaging");
    assert_string_equal(req.body, "username=katto&to=%2B254711082000"
                                  "&message=Habari%20%C3%A4%C3%B6%C3%A5%3F&from=KATTO"
                                  "&bulkSMSMode=1");
    assert_int_equal(req.body_len, strlen(req.body));
    assert_int_equal(req.nheaders, 3);
    assert_string_equal(req.headers[0], "apiKey: atsk_0123456789");
    assert_string_equal(req.headers[1], "Accept: application/json");
    assert_string_equal(req.headers[2],
                        "Content-Type: application/x-www-form-urlencoded;charset=utf-8");
    assert_null(req.userpwd);
    gateway_request_release(&req);

    /* No sender: "from" is left out and AT uses the account default. */
    testlib_set_str(&f->g.cfg.gateways.africastalking.from, "");
    testlib_set_str(&f->g.cfg.gateways.africastalking.username, "sandbox");
    assert_int_equal(gateway_africastalking.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.url, "https://api.sandbox.africastalking.com/version1/messaging");
    assert_string_equal(req.body, "username=sandbox&to=%2B254711082000"
                                  "&message=Habari%20%C3%A4%C3%B6%C3%A5%3F&bulkSMSMode=1");
    gateway_request_release(&req);

    /* A base_url set for tests wins over the sandbox switch. */
    testlib_set_str(&f->g.cfg.gateways.africastalking.base_url, "http://127.0.0.1:8999");
    assert_int_equal(gateway_africastalking.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.url, "http://127.0.0.1:8999/version1/messaging");
    gateway_request_release(&req);

    testlib_set_str(&f->g.cfg.gateways.africastalking.api_key, "");
    assert_int_equal(gateway_africastalking.build_send(&f->g.gw, &msg, &req, err), -1);
    assert_string_equal(err, "gateways.africastalking.username and "
                             "gateways.africastalking.api_key must be set");
}

#define RECIPIENT(code, status, id)                                                                \
    "{\"SMSMessageData\":{\"Message\":\"Sent to 1/1 Total Cost: KES 0.8000\",\"Recipients\":[{"    \
    "\"statusCode\":" #code ",\"number\":\"+254711082000\",\"status\":\"" status "\","             \
    "\"cost\":\"KES 0.8000\",\"messageId\":\"" id "\"}]}}"

struct send_case {
    const char *why;
    long status;
    const char *body;
    const char *retry_after;
    enum gateway_send_outcome outcome;
    const char *msg_id;
    long wait;
    const char *error;
};

static const struct send_case send_cases[] = {
    {"sent", 201, RECIPIENT(101, "Success", "ATXid_0a1b"), NULL, GATEWAY_SEND_OK, "ATXid_0a1b", 0,
     ""},
    {"processed", 201, RECIPIENT(100, "Success", "ATXid_2"), NULL, GATEWAY_SEND_OK, "ATXid_2", 0,
     ""},
    {"queued", 201, RECIPIENT(102, "Success", "ATXid_3"), NULL, GATEWAY_SEND_OK, "ATXid_3", 0, ""},
    {"200 read like 201", 200, RECIPIENT(101, "Success", "ATXid_4"), NULL, GATEWAY_SEND_OK,
     "ATXid_4", 0, ""},
    {"201 with an invalid number", 201, RECIPIENT(403, "InvalidPhoneNumber", "None"), NULL,
     GATEWAY_SEND_FAIL, "", 0, "403: InvalidPhoneNumber"},
    {"201 with no balance", 201, RECIPIENT(405, "InsufficientBalance", "None"), NULL,
     GATEWAY_SEND_FAIL, "", 0, "405: InsufficientBalance"},
    {"201 with AT's internal error", 201, RECIPIENT(500, "InternalServerError", "None"), NULL,
     GATEWAY_SEND_RETRY, "", 0, "500: InternalServerError"},
    {"201 with a gateway error", 201, RECIPIENT(501, "GatewayError", "None"), NULL,
     GATEWAY_SEND_RETRY, "", 0, "501: GatewayError"},
    {"201 with no recipient", 201,
     "{\"SMSMessageData\":{\"Message\":\"InvalidSenderId\",\"Recipients\":[]}}", NULL,
     GATEWAY_SEND_FAIL, "", 0, "no recipient accepted: InvalidSenderId"},
    {"2xx garbage: sent, id unknown", 201, "<html>", NULL, GATEWAY_SEND_OK, "", 0,
     "http 201 with an unreadable body"},
    {"bad credentials", 401, "The supplied authentication is invalid", NULL, GATEWAY_SEND_FAIL, "",
     0, "The supplied authentication is invalid"},
    {"rate limited", 429, "", "60", GATEWAY_SEND_RETRY, "", 60, "http 429"},
    {"server error", 500, "Internal Server Error", NULL, GATEWAY_SEND_RETRY, "", 0,
     "Internal Server Error"},
    {"bad request", 400, "Request is missing required form field 'to'", NULL, GATEWAY_SEND_FAIL, "",
     0, "Request is missing required form field 'to'"},
};

static void parse_send_reads_the_recipient_status(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(send_cases); i++) {
        const struct send_case *c = &send_cases[i];
        struct gateway_send_result r;

        gateway_africastalking.parse_send(c->status, c->body, strlen(c->body), c->retry_after, &r);
        if (r.outcome != c->outcome)
            fail_msg("%s: outcome %d", c->why, r.outcome);
        assert_string_equal(r.msg_id, c->msg_id);
        assert_int_equal(r.retry_after, c->wait);
        assert_string_equal(r.error, c->error);
    }
}

static void ack_is_an_empty_200(void **state)
{
    struct fake *f = *state;
    struct gateway_ack ack;

    gateway_africastalking.ack_inbound(&f->g.gw, "no inline replies", &ack);
    assert_int_equal(ack.status, 200);
    assert_null(ack.content_type);
    assert_null(ack.body);
    assert_false(gateway_africastalking.eu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(verify_checks_the_route_token, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_reads_couriers_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_names_what_is_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_status_maps_delivery_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(build_send_matches_the_sdk_request, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_send_reads_the_recipient_status, setup, teardown),
        cmocka_unit_test_setup_teardown(ack_is_an_empty_200, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
