/*
 * test_gateway_gatewayapi.c: the GatewayAPI adapter. Vectors and where they
 * come from:
 * - DOCS_JWT: the X-Gwapi-Signature example of GatewayAPI's own docs
 *   (onlinecity/gatewayapi-docs docs/rest.rst, "Authentication token"),
 *   secret "secret": a DELIVERED status for id 2381703, msisdn 4542609045.
 * - JWT_*: made for these tests with Python's hmac/hashlib and json (an
 *   implementation independent of Katto's), secret "webhook-secret", over
 *   the MO body MO_BODY; the claims escape "äöå" as \u00e4... while the body
 *   carries raw UTF-8, as a PHP or Python signer would.
 * - V1_SIGNATURE: HMAC-SHA256 hex of EVENT_BODY with "status-secret",
 *   computed with Python from the docs' sentence only (no vendor library
 *   exists for the newer API's signature).
 * - MO and status bodies: the docs' callback examples.
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
#define JSON "application/json"

#define DOCS_JWT                                                                                   \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MjM4MTcwMywibXNpc2RuIjo0NTQyNjA5MDQ1LCJ0aW1lIjoxNTIyNzY0MDYyLCJzdGF0dXMiOiJERUxJVkVS" \
    "RUQiLCJlcnJvciI6bnVsbCwiY29kZSI6bnVsbCwidXNlcnJlZiI6bnVsbCwiY2FsbGJhY2tfdXJsIjoiaHR0cDovL2Ji" \
    "YWY3MTQyLm5ncm9rLmlvIiwiYXBpIjo0fQ.KdfDH65bnQtgxEkFnpAQodOciAJedZFB13r9wEo8t3Y"
/* The claims of DOCS_JWT, as the JSON body of the same webhook. */
#define DOCS_STATUS_BODY                                                                           \
    "{\"id\":2381703,\"msisdn\":4542609045,\"time\":1522764062,\"status\":\"DELIVERED\","          \
    "\"error\":null,\"code\":null,\"userref\":null,\"callback_url\":\"http://bbaf7142.ngrok.io\"," \
    "\"api\":4}"

#define MO_BODY                                                                                    \
    "{\"id\":1000001,\"msisdn\":358401234567,\"receiver\":451204,\"message\":\"foo Hei äöå\","  \
    "\"senttime\":1450000000,\"webhook_label\":\"test\"}"

#define JWT_VALID                                                                                  \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".C8v563c3fTnKLLkVm_ON4Hg09kHNzPtFUV0OmvI5PYA"
#define JWT_NONE                                                                                   \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0."                                                         \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    "."
#define JWT_NONE_SIGNED                                                                            \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0."                                                         \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".vht7GYJFlUkn2IT6_T_H9LbQTLGUpUTkrNlAX5Kmdfg"
#define JWT_HS512                                                                                  \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".rHDuz-gXw2X5OewcBGR-Au7GiFuzz6XpPzb03Px08MsgNklFmlDRJLoqL2JT3KfmyfLKooQRkB_SiF-m-WSO5g"
#define JWT_RS256                                                                                  \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".2NgGpnVckhXxXyR6UY6ER8dbWp-p37zQ1HPPhp9LW_c"
#define JWT_NO_ALG                                                                                 \
    "eyJ0eXAiOiJKV1QifQ."                                                                          \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".yuRyQvi4qK_ztM0GAPTKUZRgAD_QxgmsIF7kUiDJijo"
#define JWT_LOWER                                                                                  \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJoczI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".jrELbcgTYDNMTBI9gdMpAE0JRgMMY3VQoDhoMa_6C0M"
#define JWT_TAMPERED                                                                               \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSEiLCJzZW50dGltZSI6MTQ1MDAwMDAwMCwid2ViaG9va19sYWJlbCI6InRlc3Qi" \
    "fQ.C8v563c3fTnKLLkVm_ON4Hg09kHNzPtFUV0OmvI5PYA"
#define JWT_OTHER_MSISDN                                                                           \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjgsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".er6sNiCQ83z7euo35JzY4TlMkT_vlkVe0uQ-AfWkBK4"
#define JWT_OTHER_MESSAGE                                                                          \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSEiLCJzZW50dGltZSI6MTQ1MDAwMDAwMCwid2ViaG9va19sYWJlbCI6InRlc3Qi" \
    "fQ.63xuvGvajfRng2dxY95U--qzKE2zyOaUMNYE6KqDg6Y"
#define JWT_OTHER_ID                                                                               \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMiwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".Yn-teR6723nU92rCF6gyJl5O4Xmhzv7odoVwR828w4Y"
#define JWT_WRONG_SECRET                                                                           \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwibXNpc2RuIjozNTg0MDEyMzQ1NjcsInJlY2VpdmVyIjo0NTEyMDQsIm1lc3NhZ2UiOiJmb28g" \
    "SGVpIFx1MDBlNFx1MDBmNlx1MDBlNSIsInNlbnR0aW1lIjoxNDUwMDAwMDAwLCJ3ZWJob29rX2xhYmVsIjoidGVzdCJ9" \
    ".h-iMJOpUn4vVjnp4O2MfCQfKVs6VWCs_CHFbvZN4dEw"
#define JWT_NO_MSISDN                                                                              \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJpZCI6MTAwMDAwMSwicmVjZWl2ZXIiOjQ1MTIwNCwibWVzc2FnZSI6ImZvbyBIZWkgXHUwMGU0XHUwMGY2XHUwMGU1" \
    "Iiwic2VudHRpbWUiOjE0NTAwMDAwMDAsIndlYmhvb2tfbGFiZWwiOiJ0ZXN0In0."                             \
    "KStB3YRglnX2dU09gNkLL5tvWefCkhuZxzIqqeb7V2U"

#define EVENT_BODY                                                                                 \
    "{\"event_id\":\"01JQ0000000000000000000000\",\"timestamp\":\"2025-03-20T12:00:00Z\","         \
    "\"event_type\":\"message.status.sms\",\"event\":{\"msg_id\":\"01JNNZ1Z2X3Y4W5V6U7T8S9R0Q\","  \
    "\"status\":\"DELIVERED\"}}"
#define V1_SIGNATURE "v1=10f5ec1f206f936c6d84f629e636f15b0e017c551c914ab341e4c8dff2c501bf"

struct fake {
    struct testlib_gateway g; /* configuration, gateway and webhook */
    const char *jwt;          /* X-Gwapi-Signature */
    const char *v1;           /* Signature */
};

static const char *fake_header(const void *ctx, const char *name)
{
    const struct fake *f = ctx;

    if (strcasecmp(name, "X-Gwapi-Signature") == 0)
        return f->jwt;
    if (strcasecmp(name, "Signature") == 0)
        return f->v1;
    return NULL;
}

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    testlib_gateway_init(&f->g, &gateway_gatewayapi);
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.token, "gw-token");
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.webhook_secret, "webhook-secret");
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.from, "Katto");
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

static void request(struct fake *f, const char *body, const char *jwt, const char *v1)
{
    testlib_gateway_request(&f->g, "https://katto.example/webhooks/gatewayapi/sms", NULL, JSON,
                            body);
    f->g.in.header = fake_header;
    f->g.in.header_ctx = f;
    f->jwt = jwt;
    f->v1 = v1;
}

static int verify(struct fake *f, char *err)
{
    err[0] = '\0';
    return gateway_gatewayapi.verify(&f->g.gw, &f->g.in, err);
}

static void verify_accepts_the_docs_example_token(void **state)
{
    struct fake *f = *state;
    struct gateway_status st;
    char err[256];

    testlib_set_str(&f->g.cfg.gateways.gatewayapi.webhook_secret, "secret");
    request(f, DOCS_STATUS_BODY, DOCS_JWT, NULL);
    assert_int_equal(verify(f, err), 0);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), 0);
    assert_string_equal(st.msg_id, "2381703");
    assert_int_equal(st.delivery, GATEWAY_DELIVERY_DELIVERED);
    assert_string_equal(st.error, "");

    /* The same values, pretty-printed: the claims still match the body. */
    request(f,
            "{\n  \"id\": 2381703,\n  \"msisdn\": 4542609045,\n  \"status\": \"DELIVERED\",\n"
            "  \"time\": 1522764062\n}",
            DOCS_JWT, NULL);
    assert_int_equal(verify(f, err), 0);

    testlib_set_str(&f->g.cfg.gateways.gatewayapi.webhook_secret, "Secret");
    request(f, DOCS_STATUS_BODY, DOCS_JWT, NULL);
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "X-Gwapi-Signature does not match");
}

struct jwt_case {
    const char *why;
    const char *token;
    const char *body;
    const char *err; /* NULL: accepted */
};

static const struct jwt_case jwt_cases[] = {
    {"valid HS256", JWT_VALID, MO_BODY, NULL},
    {"alg none, no signature", JWT_NONE, MO_BODY, "X-Gwapi-Signature: JWT algorithm is not HS256"},
    {"alg none with a valid MAC", JWT_NONE_SIGNED, MO_BODY,
     "X-Gwapi-Signature: JWT algorithm is not HS256"},
    {"HS512", JWT_HS512, MO_BODY, "X-Gwapi-Signature: JWT algorithm is not HS256"},
    {"RS256", JWT_RS256, MO_BODY, "X-Gwapi-Signature: JWT algorithm is not HS256"},
    {"no alg", JWT_NO_ALG, MO_BODY, "X-Gwapi-Signature: JWT algorithm is not HS256"},
    {"alg in lower case", JWT_LOWER, MO_BODY, "X-Gwapi-Signature: JWT algorithm is not HS256"},
    {"tampered payload", JWT_TAMPERED, MO_BODY, "X-Gwapi-Signature does not match"},
    {"wrong secret", JWT_WRONG_SECRET, MO_BODY, "X-Gwapi-Signature does not match"},
    {"claims for another msisdn", JWT_OTHER_MSISDN, MO_BODY,
     "X-Gwapi-Signature: claim 'msisdn' does not match the body"},
    {"claims for another text", JWT_OTHER_MESSAGE, MO_BODY,
     "X-Gwapi-Signature: claim 'message' does not match the body"},
    {"claims for another id", JWT_OTHER_ID, MO_BODY,
     "X-Gwapi-Signature: claim 'id' does not match the body"},
    {"claims without msisdn", JWT_NO_MSISDN, MO_BODY,
     "X-Gwapi-Signature: claim 'msisdn' does not match the body"},
    {"valid token, forged body", JWT_VALID,
     "{\"id\":1000001,\"msisdn\":358401234567,\"receiver\":451204,\"message\":\"STOP\"}",
     "X-Gwapi-Signature: claim 'message' does not match the body"},
    {"valid token, body without msisdn", JWT_VALID,
     "{\"id\":1000001,\"receiver\":451204,\"message\":\"foo Hei äöå\"}",
     "X-Gwapi-Signature: claim 'msisdn' does not match the body"},
    {"valid token, body not JSON", JWT_VALID, "id=1000001", "body is not a JSON object"},
    {"two parts", "eyJhbGciOiJIUzI1NiJ9.e30", MO_BODY, "X-Gwapi-Signature is not a JWT"},
    {"four parts", JWT_VALID ".x", MO_BODY, "X-Gwapi-Signature is not a JWT"},
    {"bearer prefix", "Bearer " JWT_VALID, MO_BODY, "X-Gwapi-Signature: malformed JWT header"},
    {"header not JSON", "bm90IGpzb24.e30.AAAA", MO_BODY, "X-Gwapi-Signature: malformed JWT header"},
};

static void verify_accepts_only_hs256_tokens_bound_to_the_body(void **state)
{
    struct fake *f = *state;
    char err[256];

    for (size_t i = 0; i < N_ROWS(jwt_cases); i++) {
        const struct jwt_case *c = &jwt_cases[i];
        int rc;

        request(f, c->body, c->token, NULL);
        rc = verify(f, err);
        if (rc != (c->err == NULL ? 0 : -1))
            fail_msg("%s: rc %d (%s)", c->why, rc, err);
        if (c->err != NULL && strcmp(err, c->err) != 0)
            fail_msg("%s: err '%s', want '%s'", c->why, err, c->err);
    }
}

static void verify_picks_the_check_by_header_and_fails_closed(void **state)
{
    struct fake *f = *state;
    char err[256];

    /* webhook_secret only: no header, or only a Signature header, is refused. */
    request(f, MO_BODY, NULL, NULL);
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "missing X-Gwapi-Signature");
    request(f, EVENT_BODY, NULL, V1_SIGNATURE);
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "missing X-Gwapi-Signature");

    /* status_secret only. */
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.webhook_secret, "");
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.status_secret, "status-secret");
    assert_true(gateway_gatewayapi.can_verify(&f->g.cfg));
    request(f, EVENT_BODY, NULL, V1_SIGNATURE);
    assert_int_equal(verify(f, err), 0);
    request(f, EVENT_BODY, NULL, NULL);
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "missing Signature");
    request(f, MO_BODY, JWT_VALID, NULL);
    assert_int_equal(verify(f, err), -1);
    assert_string_equal(err, "missing Signature");

    /* Both: each header is checked with its own secret. */
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.webhook_secret, "webhook-secret");
    request(f, MO_BODY, JWT_VALID, NULL);
    assert_int_equal(verify(f, err), 0);
    request(f, EVENT_BODY, NULL, V1_SIGNATURE);
    assert_int_equal(verify(f, err), 0);

    /* Neither: nothing to check with (start-up warned). */
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.webhook_secret, "");
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.status_secret, "");
    assert_false(gateway_gatewayapi.can_verify(&f->g.cfg));
    request(f, MO_BODY, NULL, NULL);
    assert_int_equal(verify(f, err), 0);
}

struct v1_case {
    const char *why;
    const char *header;
    const char *body;
    int rc;
};

static const struct v1_case v1_cases[] = {
    {"valid", V1_SIGNATURE, EVENT_BODY, 0},
    {"upper-case hex", "v1=10F5EC1F206F936C6D84F629E636F15B0E017C551C914AB341E4C8DFF2C501BF",
     EVENT_BODY, 0},
    {"one of several",
     "v1="
     "0000000000000000000000000000000000000000000000000000000000000000, " V1_SIGNATURE,
     EVENT_BODY, 0},
    {"tampered body", V1_SIGNATURE,
     "{\"event_id\":\"01JQ0000000000000000000000\",\"timestamp\":\"2025-03-20T12:00:00Z\","
     "\"event_type\":\"message.status.sms\",\"event\":{\"msg_id\":\"01JNNZ1Z2X3Y4W5V6U7T8S9R0Q\","
     "\"status\":\"FAILED\"}}",
     -1},
    {"re-serialised body", V1_SIGNATURE,
     "{\"event_id\": \"01JQ0000000000000000000000\", \"timestamp\": \"2025-03-20T12:00:00Z\", "
     "\"event_type\": \"message.status.sms\", \"event\": {\"msg_id\": "
     "\"01JNNZ1Z2X3Y4W5V6U7T8S9R0Q\", \"status\": \"DELIVERED\"}}",
     -1},
    {"bare hex", "10f5ec1f206f936c6d84f629e636f15b0e017c551c914ab341e4c8dff2c501bf", EVENT_BODY,
     -1},
    {"v2 scheme", "v2=10f5ec1f206f936c6d84f629e636f15b0e017c551c914ab341e4c8dff2c501bf", EVENT_BODY,
     -1},
    {"truncated", "v1=10f5ec1f206f936c6d84f629e636f15b0e017c551c914ab341e4c8dff2c501b", EVENT_BODY,
     -1},
    {"empty", "v1=", EVENT_BODY, -1},
};

static void verify_checks_the_v1_hmac_of_the_raw_body(void **state)
{
    struct fake *f = *state;
    char err[256];

    testlib_set_str(&f->g.cfg.gateways.gatewayapi.status_secret, "status-secret");
    for (size_t i = 0; i < N_ROWS(v1_cases); i++) {
        const struct v1_case *c = &v1_cases[i];

        request(f, c->body, NULL, c->header);
        if (verify(f, err) != c->rc)
            fail_msg("%s: want %d (%s)", c->why, c->rc, err);
        if (c->rc < 0)
            assert_string_equal(err, "Signature does not match");
    }
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.status_secret, "other");
    request(f, EVENT_BODY, NULL, V1_SIGNATURE);
    assert_int_equal(verify(f, err), -1);
}

static void parse_inbound_reads_the_docs_mo_example(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    request(f,
            "{\n    \"id\": 1000001,\n    \"msisdn\": 4587654321,\n    \"receiver\": 451204,\n"
            "    \"message\": \"foo Hello World\",\n    \"senttime\": 1450000000,\n"
            "    \"webhook_label\": \"test\",\n    \"country_code\": \"DK\",\n"
            "    \"country_prefix\": 45\n}",
            NULL, NULL);
    assert_int_equal(gateway_gatewayapi.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.msg_id, "1000001");
    assert_string_equal(m.from, "+4587654321");
    assert_string_equal(m.to, "451204");
    assert_string_equal(m.text, "foo Hello World");
    gateway_inbound_release(&m);

    request(f, MO_BODY, JWT_VALID, NULL);
    assert_int_equal(gateway_gatewayapi.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.from, "+358401234567");
    assert_string_equal(m.text, "foo Hei äöå");
    gateway_inbound_release(&m);
}

struct msisdn_case {
    const char *msisdn; /* JSON text */
    const char *from;   /* NULL: rejected with err */
    const char *err;
};

static const struct msisdn_case msisdn_cases[] = {
    {"4512345678", "+4512345678", NULL},
    {"358401234567", "+358401234567", NULL},
    {"\"358401234567\"", "+358401234567", NULL},
    {"123456789012345", "+123456789012345", NULL},
    /* 2^53 + 1: a double would silently make it ...992. */
    {"9007199254740993", NULL, "field 'msisdn' has more than 15 digits"},
    {"1234567890123456", NULL, "field 'msisdn' has more than 15 digits"},
    {"-4512345678", NULL, "field 'msisdn' is not an integer"},
    {"4512345678.0", NULL, "field 'msisdn' is not an integer"},
    {"4.512345678e9", NULL, "field 'msisdn' is not an integer"},
    {"\"+4512345678\"", NULL, "field 'msisdn' is not an integer"},
    {"true", NULL, "field 'msisdn' is not an integer"},
    {"{\"n\":1}", NULL, "field 'msisdn' is not an integer"},
    {"null", NULL, "missing field 'msisdn'"},
    {"123", NULL, "sender is not a phone number"},
};

static void parse_inbound_reads_msisdn_without_loss(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256], body[256];

    for (size_t i = 0; i < N_ROWS(msisdn_cases); i++) {
        const struct msisdn_case *c = &msisdn_cases[i];
        int rc;

        snprintf(body, sizeof(body),
                 "{\"id\":7,\"msisdn\":%s,\"receiver\":451204,\"message\":\"hi\"}", c->msisdn);
        request(f, body, NULL, NULL);
        err[0] = '\0';
        rc = gateway_gatewayapi.parse_inbound(&f->g.in, &m, err);
        if (c->from != NULL) {
            if (rc != 0)
                fail_msg("msisdn %s: %s", c->msisdn, err);
            assert_string_equal(m.from, c->from);
            gateway_inbound_release(&m);
        } else {
            if (rc != -1)
                fail_msg("msisdn %s accepted", c->msisdn);
            assert_string_equal(err, c->err);
        }
    }
}

static void parse_inbound_reads_only_top_level_members(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    /* Look-alike keys inside nested values and strings must not be taken for the real ones. */
    request(f,
            "{\"meta\": {\"msisdn\": 1, \"id\": [2, {\"x\": \"}\"}]}, "
            "\"note\": \"\\\"msisdn\\\": 3, {[\", \"id\": 1000001, \"msisdn\": 4512345678, "
            "\"receiver\": 451204, \"message\": \"hi\"}",
            NULL, NULL);
    assert_int_equal(gateway_gatewayapi.parse_inbound(&f->g.in, &m, err), 0);
    assert_string_equal(m.msg_id, "1000001");
    assert_string_equal(m.from, "+4512345678");
    gateway_inbound_release(&m);
}

struct bad_mo_case {
    const char *body;
    const char *content_type;
    const char *err;
};

static const struct bad_mo_case bad_mo_cases[] = {
    {"{\"msisdn\":4512345678,\"receiver\":451204,\"message\":\"hi\"}", JSON,
     "missing or malformed field 'id'"},
    {"{\"id\":1,\"receiver\":451204,\"message\":\"hi\"}", JSON, "missing field 'msisdn'"},
    {"{\"id\":1,\"msisdn\":4512345678,\"message\":\"hi\"}", JSON,
     "missing or malformed field 'receiver'"},
    {"{\"id\":1,\"msisdn\":4512345678,\"receiver\":451204}", JSON, "missing field 'message'"},
    {"{\"id\":1,\"msisdn\":4512345678,\"receiver\":451204,\"message\":7}", JSON,
     "missing field 'message'"},
    {"{\"id\":1,\"msisdn\":4512345678,\"receiver\":451204,\"message\":\"\xc3\x28\"}", JSON,
     "message text is missing or not valid UTF-8"},
    {"{\"id\":1,\"msisdn\":4512345678,\"receiver\":451204,\"message\":\"\xed\xa0\x80\"}", JSON,
     "message text is missing or not valid UTF-8"},
    {"{\"id\":1,\"msisdn\":4512345678", JSON, "body is not a JSON object"},
    {"[1,2]", JSON, "body is not a JSON object"},
    {"", JSON, "body is not a JSON object"},
    {"{\"id\":1}", "application/x-www-form-urlencoded", "expected an application/json body"},
    {"{\"id\":1}", NULL, "expected an application/json body"},
};

static void parse_inbound_names_what_is_wrong(void **state)
{
    struct fake *f = *state;
    struct gateway_inbound m;
    char err[256];

    for (size_t i = 0; i < N_ROWS(bad_mo_cases); i++) {
        request(f, bad_mo_cases[i].body, NULL, NULL);
        f->g.in.content_type = bad_mo_cases[i].content_type;
        assert_int_equal(gateway_gatewayapi.parse_inbound(&f->g.in, &m, err), -1);
        assert_string_equal(err, bad_mo_cases[i].err);
        assert_null(m.text);
    }
    /* Key and charset parameters in the content type are fine. */
    request(f, MO_BODY, NULL, NULL);
    f->g.in.content_type = "application/json; charset=utf-8";
    assert_int_equal(gateway_gatewayapi.parse_inbound(&f->g.in, &m, err), 0);
    gateway_inbound_release(&m);
}

struct status_case {
    const char *status;
    enum gateway_delivery want;
};

static const struct status_case status_cases[] = {
    {"UNKNOWN", GATEWAY_DELIVERY_UNKNOWN},       {"SCHEDULED", GATEWAY_DELIVERY_QUEUED},
    {"ACCEPTED", GATEWAY_DELIVERY_QUEUED},       {"BUFFERED", GATEWAY_DELIVERY_SENT},
    {"ENROUTE", GATEWAY_DELIVERY_SENT},          {"DELIVERED", GATEWAY_DELIVERY_DELIVERED},
    {"EXPIRED", GATEWAY_DELIVERY_UNDELIVERED},   {"UNDELIVERABLE", GATEWAY_DELIVERY_UNDELIVERED},
    {"DELETED", GATEWAY_DELIVERY_FAILED},        {"REJECTED", GATEWAY_DELIVERY_FAILED},
    {"SKIPPED", GATEWAY_DELIVERY_FAILED},        {"delivered", GATEWAY_DELIVERY_DELIVERED},
    {"SOMETHING_NEW", GATEWAY_DELIVERY_UNKNOWN},
};

static void parse_status_maps_every_status(void **state)
{
    struct fake *f = *state;
    struct gateway_status st;
    char err[256], body[512];

    for (size_t i = 0; i < N_ROWS(status_cases); i++) {
        snprintf(body, sizeof(body),
                 "{\"id\": 1000001, \"msisdn\": 4587654321, \"time\": 1450000000, "
                 "\"status\": \"%s\", \"userref\": \"foobar\", \"charge_status\": \"CAPTURED\", "
                 "\"country_code\": \"DK\", \"country_prefix\": 45}",
                 status_cases[i].status);
        request(f, body, NULL, NULL);
        assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), 0);
        assert_string_equal(st.msg_id, "1000001");
        if (st.delivery != status_cases[i].want)
            fail_msg("%s mapped to %s", status_cases[i].status, gateway_delivery_name(st.delivery));
    }
    request(f,
            "{\"id\": 1000001, \"msisdn\": 4587654321, \"status\": \"REJECTED\", "
            "\"error\": \"Destination 4587654321 blocked\", \"code\": \"0x0507\"}",
            NULL, NULL);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), 0);
    assert_string_equal(st.error, "0x0507: Destination [number] blocked");
    request(f, "{\"msisdn\": 4587654321, \"status\": \"DELIVERED\"}", NULL, NULL);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), -1);
    assert_string_equal(err, "missing or malformed field 'id'");
    request(f, "{\"id\": 1, \"msisdn\": 4587654321}", NULL, NULL);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), -1);
    assert_string_equal(err, "missing field 'status'");
}

static void parse_status_reads_the_newer_event_envelope(void **state)
{
    struct fake *f = *state;
    struct gateway_status st;
    char err[256];

    request(f, EVENT_BODY, NULL, V1_SIGNATURE);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), 0);
    assert_string_equal(st.msg_id, "01JNNZ1Z2X3Y4W5V6U7T8S9R0Q");
    assert_int_equal(st.delivery, GATEWAY_DELIVERY_DELIVERED);

    request(f, "{\"event_type\": \"message.status.rcs\", \"event\": {\"msg_id\": \"x\"}}", NULL,
            NULL);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), 0);
    assert_string_equal(st.msg_id, "");
    assert_int_equal(st.delivery, GATEWAY_DELIVERY_UNKNOWN);

    request(f, "{\"event_type\": \"message.status.sms\"}", NULL, NULL);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), -1);
    assert_string_equal(err, "missing object 'event'");
    request(f, "{\"event_type\": \"message.status.sms\", \"event\": {\"status\": \"DELIVERED\"}}",
            NULL, NULL);
    assert_int_equal(gateway_gatewayapi.parse_status(&f->g.in, &st, err), -1);
    assert_string_equal(err, "missing field 'event.msg_id'");
}

static void build_send_makes_the_mtsms_request(void **state)
{
    struct fake *f = *state;
    struct gateway_message msg = {
        .to = "+358401234567",
        .from = "",
        .text = "Hei äöå \"lainaus\"\n€",
        .status_url = "https://katto.example/webhooks/gatewayapi/status",
    };
    struct gateway_request req;
    char err[256];

    assert_int_equal(gateway_gatewayapi.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.url, "https://gatewayapi.eu/rest/mtsms");
    /* äöå and € are GSM-7: no encoding field, UTF-8 straight into the JSON. */
    assert_string_equal(req.body,
                        "{\"sender\":\"Katto\",\"message\":\"Hei äöå \\\"lainaus\\\"\\n€\","
                        "\"recipients\":[{\"msisdn\":358401234567}],"
                        "\"callback_url\":\"https://katto.example/webhooks/gatewayapi/"
                        "status\"}");
    assert_int_equal(req.body_len, strlen(req.body));
    assert_int_equal(req.nheaders, 2);
    assert_string_equal(req.headers[0], "Content-Type: application/json");
    assert_string_equal(req.headers[1], "Accept: application/json");
    assert_string_equal(req.userpwd, "gw-token:");
    gateway_request_release(&req);

    /* õ is not GSM-7: the classic API must be told UCS2. */
    msg.to = "+4512345678";
    msg.text = "Tere õhtust";
    msg.status_url = NULL;
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.from, "");
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.base_url, "http://127.0.0.1:8999/");
    assert_int_equal(gateway_gatewayapi.build_send(&f->g.gw, &msg, &req, err), 0);
    assert_string_equal(req.url, "http://127.0.0.1:8999/rest/mtsms");
    assert_string_equal(req.body,
                        "{\"message\":\"Tere õhtust\","
                        "\"recipients\":[{\"msisdn\":4512345678}],\"encoding\":\"UCS2\"}");
    gateway_request_release(&req);
}

static void build_send_refuses_what_it_cannot_send(void **state)
{
    struct fake *f = *state;
    struct gateway_message msg = {.to = "0401234567", .from = "", .text = "x"};
    struct gateway_request req;
    char err[256];

    assert_int_equal(gateway_gatewayapi.build_send(&f->g.gw, &msg, &req, err), -1);
    assert_string_equal(err, "recipient is not an E.164 number");
    msg.to = "+1234567890123456";
    assert_int_equal(gateway_gatewayapi.build_send(&f->g.gw, &msg, &req, err), -1);
    msg.to = "+358401234567";
    msg.text = "\xff";
    assert_int_equal(gateway_gatewayapi.build_send(&f->g.gw, &msg, &req, err), -1);
    assert_string_equal(err, "message text is missing or not valid UTF-8");
    msg.text = "x";
    testlib_set_str(&f->g.cfg.gateways.gatewayapi.token, "");
    assert_int_equal(gateway_gatewayapi.build_send(&f->g.gw, &msg, &req, err), -1);
    assert_string_equal(err, "gateways.gatewayapi.token must be set");
    assert_null(req.url);
}

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
    {"accepted", 200,
     "{\"ids\": [421332671], \"usage\": {\"countries\": {\"DK\": 1}, \"currency\": \"DKK\", "
     "\"total_cost\": 0.14}}",
     NULL, GATEWAY_SEND_OK, "421332671", 0, ""},
    {"id beyond a double's precision", 200, "{\"usage\": {}, \"ids\": [ 9007199254740993 ]}", NULL,
     GATEWAY_SEND_OK, "9007199254740993", 0, ""},
    {"2xx garbage: sent, id unknown", 200, "<html>ok</html>", NULL, GATEWAY_SEND_OK, "", 0,
     "http 200 without a message id"},
    {"2xx without ids", 200, "{\"ids\": []}", NULL, GATEWAY_SEND_OK, "", 0,
     "http 200 without a message id"},
    {"rate limited", 429, "", "20", GATEWAY_SEND_RETRY, "", 20, "http 429"},
    {"server error", 500,
     "{\"incident_uuid\": \"d8127429-fd9a-4a53-b3e0-9f2a5e2b0b1e\", \"message\": \"Internal\"}",
     NULL, GATEWAY_SEND_RETRY, "", 0, "Internal"},
    {"ip not allowed, variables filled in", 403,
     "{\"code\": \"0x0213\", \"incident_uuid\": \"x\", "
     "\"message\": \"Unauthorized IP-address: %1\", \"variables\": [\"1.2.3.4\"]}",
     NULL, GATEWAY_SEND_FAIL, "", 0, "0x0213: Unauthorized IP-address: 1.2.3.4"},
    {"bad request", 400, "{\"code\": \"0x0215\", \"message\": \"Invalid recipient 4512345678\"}",
     NULL, GATEWAY_SEND_FAIL, "", 0, "0x0215: Invalid recipient [number]"},
    {"unauthorized plain text", 401, "Unauthorized", NULL, GATEWAY_SEND_FAIL, "", 0,
     "Unauthorized"},
};

static void parse_send_reads_ids_and_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(send_cases); i++) {
        const struct send_case *c = &send_cases[i];
        struct gateway_send_result r;

        gateway_gatewayapi.parse_send(c->status, c->body, strlen(c->body), c->retry_after, &r);
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

    gateway_gatewayapi.ack_inbound(&f->g.gw, "never inline", &ack);
    assert_int_equal(ack.status, 200);
    assert_null(ack.content_type);
    assert_null(ack.body);
    assert_true(gateway_gatewayapi.eu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(verify_accepts_the_docs_example_token, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_accepts_only_hs256_tokens_bound_to_the_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(verify_picks_the_check_by_header_and_fails_closed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(verify_checks_the_v1_hmac_of_the_raw_body, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_reads_the_docs_mo_example, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_reads_msisdn_without_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_reads_only_top_level_members, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(parse_inbound_names_what_is_wrong, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_status_maps_every_status, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_status_reads_the_newer_event_envelope, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(build_send_makes_the_mtsms_request, setup, teardown),
        cmocka_unit_test_setup_teardown(build_send_refuses_what_it_cannot_send, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_send_reads_ids_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(ack_is_an_empty_200, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
