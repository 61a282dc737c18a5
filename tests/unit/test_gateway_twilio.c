/*
 * test_gateway_twilio.c: the Twilio adapter against Twilio's own published
 * vectors (auth token 12345, URL https://mycompany.com/myapp.php?foo=1&bar=2):
 * - 0/KCTR6DLpKmkAf8muzZqo1nDgQ=: the worked example of the webhook security
 *   docs (Caller/From +12349013030);
 * - RSOYDt4T1cUTdK1PDd93/VVr8B8=, IK+Dwps556ElfBT0I3Rgjkr1wJU= (repeated
 *   Digits), kvajT1Ptam85bY51eRf/AJRuM3w= (:443 added),
 *   0ZXoZLH/DfblKGATFgpif+LLRf4= (http, :80 added),
 *   Zmvh+3yNM1Phv2jhDCwEM3q5ebU= (http, :1234) and a9nBmqA0ju/hNViExpshrM61xv4=
 *   (JSON body, bodySHA256 0a1ff763...6620): twilio-python
 *   tests/unit/test_request_validator.py.
 * Every body below is posted the way Twilio sends it: form-encoded, in an
 * arbitrary order, so the sorting is exercised too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "gateway.h"
#include "testlib_gateway.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define FORM "application/x-www-form-urlencoded"
#define DOCS_URL "https://mycompany.com/myapp.php?foo=1&bar=2"

/* The webhook of the docs' worked example, fields shuffled. */
#define DOCS_BODY                                                                                  \
    "To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=1234&From=%2B12349013030"                  \
    "&Caller=%2B12349013030"
/* The SDK tests' parameters. */
#define SDK_BODY                                                                                   \
    "Digits=1234&To=%2B18005551212&Caller=%2B14158675309&From=%2B14158675309"                      \
    "&CallSid=CA1234567890ABCDE"

struct fake {
    struct testlib_gateway g; /* configuration, gateway and webhook */
    const char *signature;    /* X-Twilio-Signature, or NULL */
};

static const char *fake_header(const void *ctx, const char *name)
{
    const struct fake *f = ctx;

    return strcasecmp(name, "X-Twilio-Signature") == 0 ? f->signature : NULL;
}

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    testlib_gateway_init(&f->g, &gateway_twilio);
    testlib_set_str(&f->g.cfg.gateways.twilio.account_sid, "AC0123456789abcdef0123456789abcdef");
    testlib_set_str(&f->g.cfg.gateways.twilio.auth_token, "12345");
    testlib_set_str(&f->g.cfg.gateways.twilio.from, "+15005550006");
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

/* Points f->g.in at a webhook; url is the public URL, whose query becomes in.query. */
static void request(struct fake *f, const char *url, const char *body, const char *signature)
{
    const char *q = strchr(url, '?');

    testlib_gateway_request(&f->g, url, q != NULL ? q + 1 : NULL, FORM, body);
    f->g.in.header = fake_header;
    f->g.in.header_ctx = f;
    f->signature = signature;
}

static int verify(struct fake *f, char *err)
{
    err[0] = '\0';
    return gateway_twilio.verify(&f->g.gw, &f->g.in, err);
}

struct vector {
    const char *why;
    const char *url;
    const char *body;
    const char *signature;
    int rc;
};

static const struct vector vectors[] = {
    {"docs worked example", DOCS_URL, DOCS_BODY, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", 0},
    {"SDK test vector", DOCS_URL, SDK_BODY, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", 0},
    {"repeated key: values deduplicated and sorted", DOCS_URL,
     "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234", "IK+Dwps556ElfBT0I3Rgjkr1wJU=", 0},
    {"repeated key in another order", DOCS_URL,
     "Digits=1234&SidAccount=AC123&Digits=5678&Sid=CA123", "IK+Dwps556ElfBT0I3Rgjkr1wJU=", 0},
    {"repeated identical pair counts once", DOCS_URL,
     "Sid=CA123&Digits=1234&SidAccount=AC123&Digits=5678&Digits=1234",
     "IK+Dwps556ElfBT0I3Rgjkr1wJU=", 0},
    {"signed with :443, configured without", DOCS_URL, SDK_BODY, "kvajT1Ptam85bY51eRf/AJRuM3w=", 0},
    {"signed without :443, configured with", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
     SDK_BODY, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", 0},
    {"signed with :443, configured with", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
     SDK_BODY, "kvajT1Ptam85bY51eRf/AJRuM3w=", 0},
    {"http signed with :80, configured without", "http://mycompany.com/myapp.php?foo=1&bar=2",
     SDK_BODY, "0ZXoZLH/DfblKGATFgpif+LLRf4=", 0},
    {"non-default port matches exactly", "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
     SDK_BODY, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", 0},
    /*
     * twilio-python and twilio-node also drop a non-default port; gateways.md
     * 1.2 says it must match exactly (a proxy on :1234 is not the URL Twilio
     * called), so Katto does not.
     */
    {"non-default port is never dropped", "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
     SDK_BODY, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", -1},
    {"non-default port is never added", DOCS_URL, SDK_BODY, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", -1},
    {"https signature does not fit http", "http://mycompany.com/myapp.php?foo=1&bar=2", SDK_BODY,
     "RSOYDt4T1cUTdK1PDd93/VVr8B8=", -1},
    {"tampered value", DOCS_URL,
     "To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=9999&From=%2B12349013030"
     "&Caller=%2B12349013030",
     "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", -1},
    {"added parameter", DOCS_URL, DOCS_BODY "&Body=STOP", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", -1},
    {"added empty parameter", DOCS_URL, DOCS_BODY "&Body=", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", -1},
    {"dropped parameter", DOCS_URL,
     "To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=1234&From=%2B12349013030",
     "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", -1},
    {"changed query", "https://mycompany.com/myapp.php?foo=1&bar=3", DOCS_BODY,
     "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", -1},
    {"re-ordered query", "https://mycompany.com/myapp.php?bar=2&foo=1", DOCS_BODY,
     "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", -1},
    {"changed host", "https://evil.example/myapp.php?foo=1&bar=2", DOCS_BODY,
     "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", -1},
    {"truncated signature", DOCS_URL, DOCS_BODY, "0/KCTR6DLpKmkAf8muzZqo1nDgQ", -1},
    {"signature of another request", DOCS_URL, DOCS_BODY, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", -1},
};

static void verify_matches_twilios_published_vectors(void **state)
{
    struct fake *f = *state;
    char err[256];

    for (size_t i = 0; i < N_ROWS(vectors); i++) {
        const struct vector *v = &vectors[i];
        int rc;

        request(f, v->url, v->body, v->signature);
        rc = verify(f, err);
        if (rc != v->rc)
            fail_msg("%s: rc %d, want %d (%s)", v->why, rc, v->rc, err);
        if (rc < 0)
            assert_string_equal(err, "X-Twilio-Signature does not match");
    }
}

static void verify_rejects_a_wrong_token(void **state)
{
    struct fake *f = *state;
    char err[256];

    testlib_set_str(&f->g.cfg.gateways.twilio.auth_token, "12346");
    request(f, DOCS_URL, DOCS_BODY, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "X-Twilio-Signature does not match");
}

static void verify_rejects_a_missing_signature_or_url(void **state)
{
    struct fake *f = *state;
    char err[256];

    request(f, DOCS_URL, DOCS_BODY, NULL);
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "missing X-Twilio-Signature");
    request(f, DOCS_URL, DOCS_BODY, "");
    assert_int_equal(verify(f, err), -1);
    request(f, "", DOCS_BODY, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "no public URL to check X-Twilio-Signature against");
}

static void verify_is_off_without_an_auth_token(void **state)
{
    struct fake *f = *state;
    char err[256];

    testlib_set_str(&f->g.cfg.gateways.twilio.auth_token, "");
    assert_false(gateway_twilio.can_verify(&f->g.cfg));
    request(f, DOCS_URL, DOCS_BODY, NULL);
    assert_int_equal(verify(f, err), 0);
}

#define JSON_BODY "{\"property\": \"value\", \"boolean\": true}"
#define JSON_URL                                                                                   \
    DOCS_URL "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"

static void verify_checks_json_bodies_by_their_hash(void **state)
{
    struct fake *f = *state;
    char err[256];

    request(f, JSON_URL, "", "a9nBmqA0ju/hNViExpshrM61xv4=");
    f->g.in.content_type = "application/json";
    f->g.in.body = JSON_BODY;
    f->g.in.body_len = strlen(JSON_BODY);
    assert_int_equal(verify(f, err), 0);

    f->g.in.body = "{\"property\": \"value\", \"boolean\": false}";
    f->g.in.body_len = strlen(f->g.in.body);
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "body does not match its bodySHA256");

    f->g.in.body = JSON_BODY;
    f->g.in.body_len = strlen(JSON_BODY);
    f->signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    assert_int_equal(verify(f, err), -1);
}

static void parse_inbound_reads_an_sms(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    request(f, DOCS_URL,
            "ToCountry=FI&ToState=&SmsMessageSid=SM0123456789abcdef0123456789abcdef&NumMedia=0"
            "&ToCity=&FromZip=&SmsSid=SM0123456789abcdef0123456789abcdef&FromState="
            "&SmsStatus=received&FromCity=&Body=Hei+%C3%A4%C3%B6%C3%A5%21&FromCountry=FI"
            "&To=%2B15005550006&ToZip=&NumSegments=1"
            "&MessageSid=SM0123456789abcdef0123456789abcdef&AccountSid=AC0123"
            "&From=%2B358401234567&ApiVersion=2010-04-01",
            NULL);
    assert_int_equal(gateway_twilio.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.msg_id, "SM0123456789abcdef0123456789abcdef");
    assert_string_equal(m.from, "+358401234567");
    assert_string_equal(m.to, "+15005550006");
    assert_string_equal(m.text, "Hei äöå!");
    gateway_inbound_release(&m);

    request(f, DOCS_URL, "MessageSid=SM1&From=%2B358401234567&To=%2B15005550006&Body=", NULL);
    assert_int_equal(gateway_twilio.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.text, "");
    gateway_inbound_release(&m);
}

struct missing_case {
    const char *body;
    const char *err;
};

static const struct missing_case missing_cases[] = {
    {"From=%2B358401234567&To=%2B15005550006&Body=x", "missing field 'MessageSid'"},
    {"MessageSid=SM1&To=%2B15005550006&Body=x", "missing field 'From'"},
    {"MessageSid=SM1&From=%2B358401234567&Body=x", "missing field 'To'"},
    {"MessageSid=SM1&From=%2B358401234567&To=%2B15005550006&MessageStatus=sent",
     "missing field 'Body'"},
    {"MessageSid=&From=%2B358401234567&To=%2B15005550006&Body=x", "missing message id"},
    {"MessageSid=SM1&From=whatsapp%3A%2B358401234567&To=%2B15005550006&Body=x",
     "sender is not a phone number"},
};

static void parse_inbound_names_what_is_missing(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    for (size_t i = 0; i < N_ROWS(missing_cases); i++) {
        request(f, DOCS_URL, missing_cases[i].body, NULL);
        assert_int_equal(gateway_twilio.parse_inbound(&f->g.in, &m, err), -1);
        assert_string_equal(err, missing_cases[i].err);
        assert_null(m.text);
    }
    request(f, DOCS_URL, "MessageSid=SM1&From=%2B358401234567&To=%2B15005550006&Body=x", NULL);
    f->g.in.content_type = "application/json";
    assert_int_equal(gateway_twilio.parse_inbound(&f->g.in, &m, err), -1);
    assert_string_equal(err, "expected an application/x-www-form-urlencoded body");
    f->g.in.content_type = "application/x-www-form-urlencoded; charset=UTF-8";
    assert_int_equal(gateway_twilio.parse_inbound(&f->g.in, &m, err), 0);
    gateway_inbound_release(&m);
}

static void invalid_utf8_never_reaches_the_adapter(void **state)
{
    struct fake *f = *state;
    char err[256];
    static const char body[] = "MessageSid=SM1&From=%2B358401234567&To=%2B1500&Body=%C3%28";

    (void)f;
    gateway_http_release(&f->g.in);
    memset(&f->g.in, 0, sizeof(f->g.in));
    f->g.in.body = body;
    f->g.in.body_len = strlen(body);
    assert_int_equal(gateway_parse_form(&f->g.in, err), -1);
    assert_string_equal(err, "form field 'Body': invalid UTF-8");
}

struct status_case {
    const char *status;
    enum gateway_delivery want;
};

static const struct status_case status_cases[] = {
    {"queued", GATEWAY_DELIVERY_QUEUED},
    {"accepted", GATEWAY_DELIVERY_QUEUED},
    {"scheduled", GATEWAY_DELIVERY_QUEUED},
    {"sending", GATEWAY_DELIVERY_SENT},
    {"sent", GATEWAY_DELIVERY_SENT},
    {"delivered", GATEWAY_DELIVERY_DELIVERED},
    {"read", GATEWAY_DELIVERY_DELIVERED},
    {"failed", GATEWAY_DELIVERY_FAILED},
    {"canceled", GATEWAY_DELIVERY_FAILED},
    {"undelivered", GATEWAY_DELIVERY_UNDELIVERED},
    {"partially_delivered", GATEWAY_DELIVERY_UNKNOWN},
    {"receiving", GATEWAY_DELIVERY_UNKNOWN},
    {"received", GATEWAY_DELIVERY_UNKNOWN},
    {"Delivered", GATEWAY_DELIVERY_UNKNOWN},
    {"", GATEWAY_DELIVERY_UNKNOWN},
};

static void parse_status_maps_every_message_status(void **state)
{
    struct fake *f = *state;
    struct gateway_status st;
    char err[256], body[256];

    for (size_t i = 0; i < N_ROWS(status_cases); i++) {
        snprintf(body, sizeof(body),
                 "SmsSid=SM1&SmsStatus=%s&MessageStatus=%s&To=%%2B358401234567&MessageSid=SM1"
                 "&AccountSid=AC1&From=%%2B15005550006&ApiVersion=2010-04-01",
                 status_cases[i].status, status_cases[i].status);
        request(f, DOCS_URL, body, NULL);
        assert_int_equal(gateway_twilio.parse_status(&f->g.in, &st, err), 0);
        assert_string_equal(st.msg_id, "SM1");
        if (st.delivery != status_cases[i].want)
            fail_msg("'%s' mapped to %s", status_cases[i].status,
                     gateway_delivery_name(st.delivery));
        assert_string_equal(st.error, "");
    }
    request(f, DOCS_URL, "ErrorCode=21610&MessageSid=SM2&MessageStatus=failed&To=%2B3584012", NULL);
    assert_int_equal(gateway_twilio.parse_status(&f->g.in, &st, err), 0);
    assert_int_equal(st.delivery, GATEWAY_DELIVERY_FAILED);
    assert_string_equal(st.error, "21610");
    request(f, DOCS_URL, "MessageSid=SM2", NULL);
    assert_int_equal(gateway_twilio.parse_status(&f->g.in, &st, err), -1);
    assert_string_equal(err, "missing field 'MessageStatus'");
}

static void build_send_makes_the_messages_api_request(void **state)
{
    struct fake *f = *state;
    struct gateway_message msg = {
        .to = "+358401234567",
        .from = "",
        .text = "Hei äöå! 1+1=2",
        .status_url = "https://katto.example/webhooks/twilio/status",
    };
    struct gateway_request req;
    char err[256];

    assert_int_equal(gateway_twilio.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(
        req.url, "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/"
                 "Messages.json");
    assert_string_equal(req.body,
                        "To=%2B358401234567&From=%2B15005550006"
                        "&Body=Hei%20%C3%A4%C3%B6%C3%A5%21%201%2B1%3D2"
                        "&StatusCallback=https%3A%2F%2Fkatto.example%2Fwebhooks%2Ftwilio%2Fstatus");
    assert_int_equal(req.body_len, strlen(req.body));
    assert_int_equal(req.nheaders, 3);
    assert_string_equal(req.headers[0], "Content-Type: application/x-www-form-urlencoded");
    assert_string_equal(req.headers[1], "Accept: application/json");
    assert_string_equal(req.headers[2], "Accept-Charset: utf-8");
    assert_string_equal(req.userpwd, "AC0123456789abcdef0123456789abcdef:12345");
    gateway_request_release(&req);

    /* A sender in the message wins; no status URL, no StatusCallback; base_url from config. */
    testlib_set_str(&f->g.cfg.gateways.twilio.base_url, "http://127.0.0.1:8999/");
    msg.from = "Katto";
    msg.status_url = NULL;
    assert_int_equal(gateway_twilio.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.url, "http://127.0.0.1:8999/2010-04-01/Accounts/"
                                 "AC0123456789abcdef0123456789abcdef/Messages.json");
    assert_string_equal(req.body, "To=%2B358401234567&From=Katto"
                                  "&Body=Hei%20%C3%A4%C3%B6%C3%A5%21%201%2B1%3D2");
    gateway_request_release(&req);
}

static void build_send_needs_credentials_and_a_sender(void **state)
{
    struct fake *f = *state;
    struct gateway_message msg = {.to = "+358401234567", .from = "", .text = "x"};
    struct gateway_request req;
    char err[256];

    testlib_set_str(&f->g.cfg.gateways.twilio.from, "");
    assert_int_equal(gateway_twilio.build_send(&f->g.gw, &msg, &req, err), -1);
    assert_string_equal(err, "no sender: set gateways.twilio.from");
    assert_null(req.url);
    testlib_set_str(&f->g.cfg.gateways.twilio.from, "+15005550006");
    testlib_set_str(&f->g.cfg.gateways.twilio.account_sid, "AC1/../x");
    assert_int_equal(gateway_twilio.build_send(&f->g.gw, &msg, &req, err), -1);
    testlib_set_str(&f->g.cfg.gateways.twilio.account_sid, "");
    assert_false(gateway_twilio.configured(&f->g.cfg));
    assert_int_equal(gateway_twilio.build_send(&f->g.gw, &msg, &req, err), -1);
    assert_string_equal(err,
                        "gateways.twilio.account_sid and gateways.twilio.auth_token must be set");
}

struct send_case {
    const char *why;
    long status;
    const char *body;
    const char *retry_after;
    enum gateway_send_outcome outcome;
    const char *msg_id;
    long wait;
    int segments;
    const char *error;
};

static const struct send_case send_cases[] = {
    {"created", 201,
     "{\"account_sid\": \"AC1\", \"api_version\": \"2010-04-01\", \"body\": \"Hei\", "
     "\"date_created\": \"Thu, 30 Jul 2015 20:12:31 +0000\", \"direction\": \"outbound-api\", "
     "\"error_code\": null, \"error_message\": null, \"from\": \"+15005550006\", "
     "\"num_segments\": \"2\", \"sid\": \"SM0123456789abcdef0123456789abcdef\", "
     "\"status\": \"queued\", \"to\": \"+358401234567\"}",
     NULL, GATEWAY_SEND_OK, "SM0123456789abcdef0123456789abcdef", 0, 2, ""},
    {"created through a messaging service", 201,
     "{\"sid\": \"SM2\", \"status\": \"accepted\", \"num_segments\": \"0\"}", NULL, GATEWAY_SEND_OK,
     "SM2", 0, 0, ""},
    {"2xx garbage: sent, id unknown", 201, "<html>proxy</html>", NULL, GATEWAY_SEND_OK, "", 0, 0,
     "http 201 without a message sid"},
    {"2xx empty", 200, "", NULL, GATEWAY_SEND_OK, "", 0, 0, "http 200 without a message sid"},
    {"too many requests", 429,
     "{\"code\": 20429, \"message\": \"Too Many Requests\", \"more_info\": "
     "\"https://www.twilio.com/docs/errors/20429\", \"status\": 429}",
     "7", GATEWAY_SEND_RETRY, "", 7, 0, "20429: Too Many Requests"},
    {"server error", 500, "{\"code\": 20500, \"message\": \"Internal Server Error\"}", NULL,
     GATEWAY_SEND_RETRY, "", 0, 0, "20500: Internal Server Error"},
    {"bad gateway html", 502, "<html>Bad Gateway</html>", NULL, GATEWAY_SEND_RETRY, "", 0, 0,
     "http 502"},
    {"invalid To, number masked", 400,
     "{\"code\": 21211, \"message\": \"The 'To' number +15005550001 is not a valid phone "
     "number.\", \"more_info\": \"https://www.twilio.com/docs/errors/21211\", \"status\": 400}",
     NULL, GATEWAY_SEND_FAIL, "", 0, 0,
     "21211: The 'To' number [number] is not a valid phone number."},
    {"stopped", 400,
     "{\"code\": 21610, \"message\": \"Attempt to send to unsubscribed recipient\"}", NULL,
     GATEWAY_SEND_FAIL, "", 0, 0, "21610: Attempt to send to unsubscribed recipient"},
    {"bad credentials", 401, "{\"code\": 20003, \"message\": \"Authenticate\"}", NULL,
     GATEWAY_SEND_FAIL, "", 0, 0, "20003: Authenticate"},
    {"4xx garbage", 404, "not json", NULL, GATEWAY_SEND_FAIL, "", 0, 0, "http 404"},
};

static void parse_send_reads_created_and_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(send_cases); i++) {
        const struct send_case *c = &send_cases[i];
        struct gateway_send_result r;

        gateway_twilio.parse_send(c->status, c->body, strlen(c->body), c->retry_after, &r);
        if (r.outcome != c->outcome)
            fail_msg("%s: outcome %d", c->why, r.outcome);
        assert_string_equal(r.msg_id, c->msg_id);
        assert_int_equal(r.retry_after, c->wait);
        assert_int_equal(r.segments, c->segments);
        assert_string_equal(r.error, c->error);
    }
}

static void ack_is_empty_twiml_or_one_escaped_message(void **state)
{
    struct fake *f = *state;
    struct gateway_ack ack;

    gateway_twilio.ack_inbound(&f->g.gw, NULL, &ack);
    assert_int_equal(ack.status, 200);
    assert_string_equal(ack.content_type, "text/xml");
    assert_string_equal(ack.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
    gateway_ack_release(&ack);
    assert_null(ack.body);
    /* With text (the apology when a message cannot be stored): escaped as twilio-node does. */
    gateway_twilio.ack_inbound(&f->g.gw, "Hyvä <b>&\r\nok\x07", &ack);
    assert_int_equal(ack.status, 200);
    assert_string_equal(ack.content_type, "text/xml");
    assert_string_equal(ack.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>"
                                  "Hyvä &lt;b&gt;&amp;&#xD;\nok</Message></Response>");
    gateway_ack_release(&ack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(verify_matches_twilios_published_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_rejects_a_wrong_token, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_rejects_a_missing_signature_or_url, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_is_off_without_an_auth_token, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_checks_json_bodies_by_their_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_reads_an_sms, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_names_what_is_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_utf8_never_reaches_the_adapter, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_status_maps_every_message_status, setup, teardown),
        cmocka_unit_test_setup_teardown(build_send_makes_the_messages_api_request, setup, teardown),
        cmocka_unit_test_setup_teardown(build_send_needs_credentials_and_a_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_send_reads_created_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(ack_is_empty_twiml_or_one_escaped_message, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
