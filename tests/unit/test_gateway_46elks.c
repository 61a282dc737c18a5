/*
 * test_gateway_46elks.c: the 46elks adapter. Payloads follow 46elks' docs
 * (receive-sms, sms-delivery-reports, send-sms): form fields id, from, to,
 * message, created; reports id, status, delivered; a JSON send response
 * with id and parts; plain-text errors. The route token is the only
 * authentication 46elks allows, so it is checked as strictly as a signature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gateway.h"
#include "testlib_gateway.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define FORM "application/x-www-form-urlencoded"

#define INBOUND                                                                                    \
    "direction=incoming&id=sf8425555e5d8db61dda7a7b3f1b91bdb&from=%2B46704508449"                  \
    "&to=%2B46766861004&created=2018-07-13T13%3A57%3A23.741000&message=Hej+%C3%A5%C3%A4%C3%B6%21"

struct fake {
    struct testlib_gateway g; /* configuration, gateway and webhook */
};

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    testlib_gateway_init(&f->g, &gateway_46elks);
    testlib_set_str(&f->g.cfg.gateways.elks.username, "u0123456789abcdef");
    testlib_set_str(&f->g.cfg.gateways.elks.password, "PASSWORD123");
    testlib_set_str(&f->g.cfg.gateways.elks.from, "Katto");
    testlib_set_str(&f->g.cfg.gateways.elks.webhook_token, "route-s3cr3t");
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
    testlib_gateway_request(&f->g, "https://katto.example/webhooks/46elks/sms", query, FORM, body);
}

static void verify_checks_the_route_token(void **state)
{
    struct fake *f = *state;
    char err[256];

    assert_true(gateway_46elks.can_verify(&f->g.cfg));
    request(f, "token=route-s3cr3t", INBOUND);
    assert_int_equal(gateway_46elks.verify(&f->g.gw, &f->g.in, err), 0);
    request(f, "token=route-s3cr3T", INBOUND);
    assert_int_equal(gateway_46elks.verify(&f->g.gw, &f->g.in, err), -1);
    assert_string_equal(err, "wrong route token");
    request(f, NULL, INBOUND);
    assert_int_equal(gateway_46elks.verify(&f->g.gw, &f->g.in, err), -1);
    assert_string_equal(err, "missing route token");
    /* A token in the body does not count: only the route carries it. */
    request(f, NULL, INBOUND "&token=route-s3cr3t");
    assert_int_equal(gateway_46elks.verify(&f->g.gw, &f->g.in, err), -1);

    testlib_set_str(&f->g.cfg.gateways.elks.webhook_token, "");
    assert_false(gateway_46elks.can_verify(&f->g.cfg));
    request(f, NULL, INBOUND);
    assert_int_equal(gateway_46elks.verify(&f->g.gw, &f->g.in, err), 0);
}

static void parse_inbound_reads_the_docs_example(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    request(f, "token=route-s3cr3t", INBOUND);
    assert_int_equal(gateway_46elks.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.msg_id, "sf8425555e5d8db61dda7a7b3f1b91bdb");
    assert_string_equal(m.from, "+46704508449");
    assert_string_equal(m.to, "+46766861004");
    assert_string_equal(m.text, "Hej åäö!");
    gateway_inbound_release(&m);

    request(f, NULL, "id=s1&from=%2B358401234567&to=%2B46766861004&message=");
    assert_int_equal(gateway_46elks.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.text, "");
    gateway_inbound_release(&m);
}

struct missing_case {
    const char *body;
    const char *err;
};

static const struct missing_case missing_cases[] = {
    {"from=%2B46704508449&to=%2B46766861004&message=x", "missing field 'id'"},
    {"id=s1&to=%2B46766861004&message=x", "missing field 'from'"},
    {"id=s1&from=%2B46704508449&message=x", "missing field 'to'"},
    {"id=s1&from=%2B46704508449&to=%2B46766861004", "missing field 'message'"},
    {"id=s1&from=Katto&to=%2B46766861004&message=x", "sender is not a phone number"},
};

static void parse_inbound_names_what_is_missing(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    for (size_t i = 0; i < N_ROWS(missing_cases); i++) {
        request(f, NULL, missing_cases[i].body);
        assert_int_equal(gateway_46elks.parse_inbound(&f->g.in, &m, err), -1);
        assert_string_equal(err, missing_cases[i].err);
    }
    request(f, NULL, INBOUND);
    f->g.in.content_type = "text/plain";
    assert_int_equal(gateway_46elks.parse_inbound(&f->g.in, &m, err), -1);
    assert_string_equal(err, "expected an application/x-www-form-urlencoded body");
}

struct status_case {
    const char *status;
    enum gateway_delivery want;
};

static const struct status_case status_cases[] = {
    {"sent", GATEWAY_DELIVERY_SENT},     {"delivered", GATEWAY_DELIVERY_DELIVERED},
    {"failed", GATEWAY_DELIVERY_FAILED}, {"created", GATEWAY_DELIVERY_UNKNOWN},
    {"Sent", GATEWAY_DELIVERY_UNKNOWN},
};

static void parse_status_maps_delivery_reports(void **state)
{
    struct fake *f = *state;
    struct gateway_status st;
    char err[256], body[256];

    for (size_t i = 0; i < N_ROWS(status_cases); i++) {
        snprintf(body, sizeof(body),
                 "id=s70df59406a1b4643b96f3f91e0bfb7b0&status=%s"
                 "&delivered=2018-07-13T13%%3A57%%3A23.741000",
                 status_cases[i].status);
        request(f, NULL, body);
        assert_int_equal(gateway_46elks.parse_status(&f->g.in, &st, err), 0);
        assert_string_equal(st.msg_id, "s70df59406a1b4643b96f3f91e0bfb7b0");
        assert_int_equal(st.delivery, status_cases[i].want);
    }
    request(f, NULL, "status=delivered");
    assert_int_equal(gateway_46elks.parse_status(&f->g.in, &st, err), -1);
    assert_string_equal(err, "missing field 'id'");
}

static void build_send_makes_the_a1_sms_request(void **state)
{
    struct fake *f = *state;
    struct gateway_message msg = {
        .to = "+46704508449",
        .from = "",
        .text = "Hej åäö & välkommen",
        .status_url = "https://katto.example/webhooks/46elks/status?token=route-s3cr3t",
    };
    struct gateway_request req;
    char err[256];

    assert_int_equal(gateway_46elks.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.url, "https://api.46elks.com/a1/sms");
    assert_string_equal(req.body, "from=Katto&to=%2B46704508449"
                                  "&message=Hej%20%C3%A5%C3%A4%C3%B6%20%26%20v%C3%A4lkommen"
                                  "&whendelivered=https%3A%2F%2Fkatto.example%2Fwebhooks%2F46elks"
                                  "%2Fstatus%3Ftoken%3Droute-s3cr3t");
    assert_int_equal(req.body_len, strlen(req.body));
    assert_int_equal(req.nheaders, 2);
    assert_string_equal(req.headers[0], "Content-Type: application/x-www-form-urlencoded");
    assert_string_equal(req.headers[1], "Accept: application/json");
    assert_string_equal(req.userpwd, "u0123456789abcdef:PASSWORD123");
    gateway_request_release(&req);

    msg.status_url = NULL;
    msg.from = "+46766861004";
    assert_int_equal(gateway_46elks.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.body, "from=%2B46766861004&to=%2B46704508449"
                                  "&message=Hej%20%C3%A5%C3%A4%C3%B6%20%26%20v%C3%A4lkommen");
    gateway_request_release(&req);

    testlib_set_str(&f->g.cfg.gateways.elks.password, "");
    assert_false(gateway_46elks.configured(&f->g.cfg));
    assert_int_equal(gateway_46elks.build_send(&f->g.gw, &msg, &req, err), -1);
    assert_string_equal(err, "gateways.46elks.username and gateways.46elks.password must be set");
}

struct send_case {
    long status;
    const char *body;
    const char *retry_after;
    enum gateway_send_outcome outcome;
    const char *msg_id;
    int segments;
    long wait;
    const char *error;
};

static const struct send_case send_cases[] = {
    {200,
     "{\"status\": \"created\", \"direction\": \"outgoing\", \"from\": \"Katto\", "
     "\"created\": \"2018-07-13T13:57:23.741000\", \"parts\": 2, "
     "\"to\": \"+46704508449\", \"cost\": 7000, \"message\": \"Hej\", "
     "\"id\": \"s70df59406a1b4643b96f3f91e0bfb7b0\"}",
     NULL, GATEWAY_SEND_OK, "s70df59406a1b4643b96f3f91e0bfb7b0", 2, 0, ""},
    {200, "not json", NULL, GATEWAY_SEND_OK, "", 0, 0, "http 200 without a message id"},
    {429, "Too many requests", "3", GATEWAY_SEND_RETRY, "", 0, 3, "Too many requests"},
    {503, "", NULL, GATEWAY_SEND_RETRY, "", 0, 0, "http 503"},
    {403, "Invalid to number +46704508449", NULL, GATEWAY_SEND_FAIL, "", 0, 0,
     "Invalid to number [number]"},
    {401, "API access requires Basic HTTP authentication.\n", NULL, GATEWAY_SEND_FAIL, "", 0, 0,
     "API access requires Basic HTTP authentication."},
};

static void parse_send_reads_json_and_plain_text_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(send_cases); i++) {
        const struct send_case *c = &send_cases[i];
        struct gateway_send_result r;

        gateway_46elks.parse_send(c->status, c->body, strlen(c->body), c->retry_after, &r);
        assert_int_equal(r.outcome, c->outcome);
        assert_string_equal(r.msg_id, c->msg_id);
        assert_int_equal(r.segments, c->segments);
        assert_int_equal(r.retry_after, c->wait);
        assert_string_equal(r.error, c->error);
    }
}

static void ack_carries_the_inline_reply_as_plain_text(void **state)
{
    struct fake *f = *state;
    struct gateway_ack ack;

    gateway_46elks.ack_inbound(&f->g.gw, "Hei! Vastaa 1 tai 2. äöå", &ack);
    assert_int_equal(ack.status, 200);
    assert_string_equal(ack.content_type, "text/plain; charset=utf-8");
    assert_string_equal(ack.body, "Hei! Vastaa 1 tai 2. äöå");
    gateway_ack_release(&ack);

    gateway_46elks.ack_inbound(&f->g.gw, NULL, &ack);
    assert_int_equal(ack.status, 204);
    assert_null(ack.content_type);
    assert_null(ack.body);
    gateway_ack_release(&ack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(verify_checks_the_route_token, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_reads_the_docs_example, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_names_what_is_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_status_maps_delivery_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(build_send_makes_the_a1_sms_request, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_send_reads_json_and_plain_text_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ack_carries_the_inline_reply_as_plain_text, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
