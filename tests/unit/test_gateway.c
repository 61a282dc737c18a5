/*
 * test_gateway.c: unit tests for gateway.c (the registry and the helpers
 * every adapter shares) and the console gateway. Form decoding is the first
 * thing an attacker's bytes meet, so its table covers every malformed escape
 * and invalid UTF-8 form; number normalisation decides who gets a reply.
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
#include "gateway_console.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

static void registry_lists_every_gateway_once(void **state)
{
    static const char *const names[] = {"console", "twilio", "46elks", "gatewayapi",
                                        "africastalking"};
    size_t n = 0;

    (void)state;
    for (; gateway_all[n] != NULL; n++) {
        const struct gateway_ops *ops = gateway_all[n];

        assert_true(n < N_ROWS(names));
        assert_string_equal(ops->name, names[n]);
        assert_ptr_equal(gateway_find(names[n]), ops);
        assert_non_null(ops->configured);
        assert_non_null(ops->can_verify);
        assert_non_null(ops->verify);
        assert_non_null(ops->parse_inbound);
        assert_non_null(ops->build_send);
        assert_non_null(ops->parse_send);
        assert_non_null(ops->ack_inbound);
        if (strcmp(ops->name, "console") != 0) {
            char want[64];

            snprintf(want, sizeof(want), "/webhooks/%s/sms", ops->name);
            assert_string_equal(ops->sms_path, want);
            snprintf(want, sizeof(want), "/webhooks/%s/status", ops->name);
            assert_string_equal(ops->status_path, want);
            assert_non_null(ops->parse_status);
        }
    }
    assert_int_equal(n, N_ROWS(names));
    assert_null(gateway_find("nexmo"));
    assert_null(gateway_find("Twilio"));
    assert_null(gateway_find(NULL));
}

struct form_case {
    const char *why;
    const char *body;
    int rc;
    size_t nparams;
    const char *name, *value; /* the last field, when rc == 0 */
};

static const struct form_case form_cases[] = {
    {"two fields", "a=1&b=2", 0, 2, "b", "2"},
    {"plus is a space", "Body=Hei+maailma%21", 0, 1, "Body", "Hei maailma!"},
    {"UTF-8 escapes", "Body=%C3%A4%C3%B6%C3%A5", 0, 1, "Body", "äöå"},
    {"raw UTF-8", "Body=äö", 0, 1, "Body", "äö"},
    {"lower-case hex", "Body=%c3%a4", 0, 1, "Body", "ä"},
    {"escaped plus", "From=%2B358401234567", 0, 1, "From", "+358401234567"},
    {"empty value", "a=1&Body=", 0, 2, "Body", ""},
    {"no '='", "a=1&flag", 0, 2, "flag", ""},
    {"empty fields skipped", "&&a=1&&", 0, 1, "a", "1"},
    {"empty name kept", "=x", 0, 1, "", "x"},
    {"'=' inside a value", "a=b=c", 0, 1, "a", "b=c"},
    {"empty body", "", 0, 0, NULL, NULL},
    {"escaped name", "Sms%53id=1", 0, 1, "SmsSid", "1"},
    {"truncated escape", "a=%2", -1, 0, NULL, NULL},
    {"bare percent", "a=%", -1, 0, NULL, NULL},
    {"non-hex escape", "a=%zz", -1, 0, NULL, NULL},
    {"half-hex escape", "a=%4g", -1, 0, NULL, NULL},
    {"escaped NUL", "a=%00", -1, 0, NULL, NULL},
    {"lone continuation byte", "a=%80", -1, 0, NULL, NULL},
    {"truncated sequence", "a=%C3", -1, 0, NULL, NULL},
    {"bad continuation", "a=%C3%28", -1, 0, NULL, NULL},
    {"overlong slash", "a=%C0%AF", -1, 0, NULL, NULL},
    {"surrogate", "a=%ED%A0%80", -1, 0, NULL, NULL},
    {"above U+10FFFF", "a=%F4%90%80%80", -1, 0, NULL, NULL},
    {"0xFF", "a=%FF", -1, 0, NULL, NULL},
    {"raw invalid byte", "a=\xff", -1, 0, NULL, NULL},
    {"bad escape in a name", "%ZZ=1", -1, 0, NULL, NULL},
    {"invalid UTF-8 in a name", "%FF=1", -1, 0, NULL, NULL},
    {"good fields before a bad one", "a=1&b=2&c=%", -1, 0, NULL, NULL},
};

static void parse_form_decodes_and_rejects_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(form_cases); i++) {
        const struct form_case *c = &form_cases[i];
        struct gateway_http in = {.body = c->body, .body_len = strlen(c->body)};
        char err[256] = "";
        int rc = gateway_parse_form(&in, err);

        if (rc != c->rc)
            fail_msg("%s: rc %d, want %d (%s)", c->why, rc, c->rc, err);
        assert_int_equal(in.nparams, c->nparams);
        if (rc == 0 && c->name != NULL) {
            assert_string_equal(in.params[in.nparams - 1].name, c->name);
            assert_string_equal(in.params[in.nparams - 1].value, c->value);
        }
        if (rc < 0)
            assert_true(err[0] != '\0');
        gateway_http_release(&in);
    }
}

static void parse_form_errors_name_the_field_without_quoting_the_value(void **state)
{
    struct gateway_http in = {0};
    char err[256];
    static const char body[] = "From=%2B358401234567&Body=%FF";

    (void)state;
    in.body = body;
    in.body_len = strlen(body);
    assert_int_equal(gateway_parse_form(&in, err), -1);
    assert_string_equal(err, "form field 'Body': invalid UTF-8");
    assert_null(strstr(err, "358"));
}

static void parse_form_respects_body_len_not_the_terminator(void **state)
{
    struct gateway_http in = {0};
    static const char body[] = "a=1&b=2";

    (void)state;
    in.body = body;
    in.body_len = 3;
    assert_int_equal(gateway_parse_form(&in, NULL), 0);
    assert_int_equal(in.nparams, 1);
    assert_string_equal(gateway_param(&in, "a"), "1");
    assert_null(gateway_param(&in, "b"));
    gateway_http_release(&in);
}

static void parse_form_caps_the_number_of_fields(void **state)
{
    char body[GATEWAY_MAX_PARAMS * 8 + 16];
    size_t n = 0;
    struct gateway_http in = {0};
    char err[256];

    (void)state;
    for (int i = 0; i < GATEWAY_MAX_PARAMS; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%sf%d=%d", i ? "&" : "", i, i);
    in.body = body;
    in.body_len = n;
    assert_int_equal(gateway_parse_form(&in, err), 0);
    assert_int_equal(in.nparams, GATEWAY_MAX_PARAMS);
    /* Parsing again replaces the fields rather than appending. */
    assert_int_equal(gateway_parse_form(&in, err), 0);
    assert_int_equal(in.nparams, GATEWAY_MAX_PARAMS);
    snprintf(body + n, sizeof(body) - n, "&x=1");
    in.body_len = strlen(body);
    assert_int_equal(gateway_parse_form(&in, err), -1);
    assert_string_equal(err, "more than 64 form fields");
    assert_int_equal(in.nparams, 0);
    gateway_http_release(&in);
}

static void param_returns_the_first_of_repeated_fields(void **state)
{
    struct gateway_http in = {0};
    static const char body[] = "Digits=5678&Digits=1234";

    (void)state;
    in.body = body;
    in.body_len = strlen(body);
    assert_int_equal(gateway_parse_form(&in, NULL), 0);
    assert_int_equal(in.nparams, 2);
    assert_string_equal(gateway_param(&in, "Digits"), "5678");
    assert_null(gateway_param(&in, "digits"));
    gateway_http_release(&in);
}

static void secure_equal_compares_whole_strings(void **state)
{
    (void)state;
    assert_true(gateway_secure_equal("abc", "abc"));
    assert_true(gateway_secure_equal("", ""));
    assert_false(gateway_secure_equal("abc", "abd"));
    assert_false(gateway_secure_equal("abc", "ab"));
    assert_false(gateway_secure_equal("ab", "abc"));
    assert_false(gateway_secure_equal(NULL, "abc"));
    assert_false(gateway_secure_equal("abc", NULL));
}

struct token_case {
    const char *query;
    const char *token;
    int rc;
    const char *err;
};

static const struct token_case token_cases[] = {
    {"token=s3cr3t", "s3cr3t", 0, ""},
    {"a=1&token=s3cr3t&b=2", "s3cr3t", 0, ""},
    {"token=a%2Bb", "a+b", 0, ""},
    {"token=a+b", "a b", 0, ""},
    {"%74oken=s3cr3t", "s3cr3t", 0, ""},
    {"token=s3cr3t&token=other", "s3cr3t", 0, ""},
    {"token=S3CR3T", "s3cr3t", -1, "wrong route token"},
    {"token=s3cr3", "s3cr3t", -1, "wrong route token"},
    {"token=s3cr3tX", "s3cr3t", -1, "wrong route token"},
    {"token=", "s3cr3t", -1, "wrong route token"},
    {"token=%zz", "s3cr3t", -1, "missing route token"},
    {"tokens=s3cr3t", "s3cr3t", -1, "missing route token"},
    {"", "s3cr3t", -1, "missing route token"},
    {NULL, "s3cr3t", -1, "missing route token"},
    {"token=", "", -1, "no route token is configured"},
    {"token=x", NULL, -1, "no route token is configured"},
};

static void check_query_token_accepts_only_the_exact_token(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(token_cases); i++) {
        const struct token_case *c = &token_cases[i];
        struct gateway_http in = {.query = c->query};
        char err[256] = "";

        if (gateway_check_query_token(&in, c->token, err) != c->rc)
            fail_msg("query '%s': want %d", c->query ? c->query : "(null)", c->rc);
        assert_string_equal(err, c->err);
    }
}

static void query_param_decodes_the_first_match(void **state)
{
    char *v;

    (void)state;
    v = gateway_query_param("foo=1&bodySHA256=abc%20d&bodySHA256=x", "bodySHA256");
    assert_string_equal(v, "abc d");
    free(v);
    v = gateway_query_param("flag&x=1", "flag");
    assert_string_equal(v, "");
    free(v);
    assert_null(gateway_query_param("foo=1", "bar"));
    assert_null(gateway_query_param(NULL, "bar"));
    assert_null(gateway_query_param("bar=%FF", "bar"));
}

struct number_case {
    const char *in;
    const char *want; /* NULL: rejected */
};

static const struct number_case number_cases[] = {
    {"+358401234567", "+358401234567"},
    {"00358401234567", "+358401234567"},
    {"0401234567", "+358401234567"},
    {"040 123 4567", "+358401234567"},
    {"040-123 45 67", "+358401234567"},
    {"(09) 123 4567", "+35891234567"},
    {"358401234567", "+358401234567"},
    {"4512345678", "+4512345678"},
    {"+45 12 34 56 78", "+4512345678"},
    {"+1 (415) 867-5309", "+14158675309"},
    {"+46701234567", "+46701234567"},
    {"254791541111", "+254791541111"},
    {"+123456789012345", "+123456789012345"}, /* 15 digits: the E.164 maximum */
    {"+12345678", "+12345678"},               /* 8 digits: the minimum */
    {"+1234567890123456", NULL},              /* 16 digits */
    {"+1234567", NULL},                       /* 7 digits */
    {"12345", NULL},                          /* a short code is no one to reply to */
    {"040123", "+35840123"},                  /* 8 digits with +358 */
    {"04012", NULL},                          /* 7 digits with +358 */
    {"+358 40 123 456a", NULL},
    {"whatsapp:+358401234567", NULL},
    {"Katto", NULL},
    {"+358+401234567", NULL},
    {"358401234567+", NULL},
    {"++358401234567", NULL},
    {"+0358401234567", NULL},
    {"000358401234567", NULL},
    {"", NULL},
    {"+", NULL},
    {"   ", NULL},
    {"+358.40.1234567", NULL},
    {"+358401234567\n", NULL},
    {"0000000000000000000000000000000000000000000000001", NULL},
};

static void normalise_number_gives_e164_or_refuses(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(number_cases); i++) {
        const struct number_case *c = &number_cases[i];
        char out[GATEWAY_NUMBER_MAX] = "";
        int rc = gateway_normalise_number(c->in, out);

        if (c->want == NULL) {
            if (rc != -1)
                fail_msg("'%s' accepted as '%s'", c->in, out);
        } else {
            if (rc != 0)
                fail_msg("'%s' rejected", c->in);
            assert_string_equal(out, c->want);
        }
    }
    assert_int_equal(gateway_normalise_number(NULL, (char[GATEWAY_NUMBER_MAX]){0}), -1);
}

static void form_encode_escapes_all_but_unreserved(void **state)
{
    const char *pairs[] = {
        "To",       "+358401234567", "Body", "Hei äöå & tervetuloa!", "Skip", NULL, "Safe",
        "aZ09-._~", "Empty",         "",
    };
    char *s;

    (void)state;
    s = gateway_form_encode(pairs, N_ROWS(pairs) / 2);
    assert_string_equal(s, "To=%2B358401234567&Body=Hei%20%C3%A4%C3%B6%C3%A5%20%26%20tervetuloa%21"
                           "&Safe=aZ09-._~&Empty=");
    free(s);
    s = gateway_form_encode(pairs, 0);
    assert_string_equal(s, "");
    free(s);
    s = gateway_form_encode((const char *[]){"a", NULL, "b=c", "x/y?z"}, 2);
    assert_string_equal(s, "b%3Dc=x%2Fy%3Fz");
    free(s);
}

static void form_encode_round_trips_through_parse_form(void **state)
{
    const char *pairs[] = {"Body", "a+b c%d&e=f\nä€😀", "From", "+358401234567"};
    char *s = gateway_form_encode(pairs, 2);
    struct gateway_http in = {0};

    (void)state;
    in.body = s;
    in.body_len = strlen(s);
    assert_int_equal(gateway_parse_form(&in, NULL), 0);
    assert_string_equal(gateway_param(&in, "Body"), pairs[1]);
    assert_string_equal(gateway_param(&in, "From"), pairs[3]);
    gateway_http_release(&in);
    free(s);
}

static void url_joins_without_a_double_slash(void **state)
{
    char *u;

    (void)state;
    u = gateway_url("https://api.46elks.com", "/a1/sms");
    assert_string_equal(u, "https://api.46elks.com/a1/sms");
    free(u);
    u = gateway_url("http://127.0.0.1:8999/", "/a1/sms");
    assert_string_equal(u, "http://127.0.0.1:8999/a1/sms");
    free(u);
    assert_null(gateway_url(NULL, "/a1/sms"));
}

struct classify_case {
    long status;
    const char *retry_after;
    enum gateway_send_outcome outcome;
    long wait;
    const char *error;
};

static const struct classify_case classify_cases[] = {
    {200, NULL, GATEWAY_SEND_OK, 0, ""},
    {201, "30", GATEWAY_SEND_OK, 0, ""},
    {204, NULL, GATEWAY_SEND_OK, 0, ""},
    {429, "30", GATEWAY_SEND_RETRY, 30, "http 429"},
    {429, " 7 ", GATEWAY_SEND_RETRY, 7, "http 429"},
    {429, "Wed, 21 Oct 2015 07:28:00 GMT", GATEWAY_SEND_RETRY, 0, "http 429"},
    {429, "-5", GATEWAY_SEND_RETRY, 0, "http 429"},
    {429, "12abc", GATEWAY_SEND_RETRY, 0, "http 429"},
    {429, "99999999999999999999", GATEWAY_SEND_RETRY, 86400, "http 429"},
    {429, NULL, GATEWAY_SEND_RETRY, 0, "http 429"},
    {503, "5", GATEWAY_SEND_RETRY, 5, "http 503"},
    {500, NULL, GATEWAY_SEND_RETRY, 0, "http 500"},
    {502, NULL, GATEWAY_SEND_RETRY, 0, "http 502"},
    {408, NULL, GATEWAY_SEND_RETRY, 0, "http 408"},
    {0, NULL, GATEWAY_SEND_RETRY, 0, "http 0"},
    {400, "30", GATEWAY_SEND_FAIL, 0, "http 400"},
    {401, NULL, GATEWAY_SEND_FAIL, 0, "http 401"},
    {403, NULL, GATEWAY_SEND_FAIL, 0, "http 403"},
    {404, NULL, GATEWAY_SEND_FAIL, 0, "http 404"},
    {422, NULL, GATEWAY_SEND_FAIL, 0, "http 422"},
    {301, NULL, GATEWAY_SEND_FAIL, 0, "http 301"},
};

static void send_classify_retries_429_and_5xx_only(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(classify_cases); i++) {
        const struct classify_case *c = &classify_cases[i];
        struct gateway_send_result r;

        memset(&r, 0x55, sizeof(r));
        gateway_send_classify(c->status, c->retry_after, &r);
        if (r.outcome != c->outcome || r.retry_after != c->wait)
            fail_msg("status %ld: outcome %d wait %ld", c->status, r.outcome, r.retry_after);
        assert_string_equal(r.error, c->error);
        assert_string_equal(r.msg_id, "");
        assert_int_equal(r.segments, 0);
    }
}

struct text_case {
    const char *in;
    size_t cap;
    const char *want;
};

static const struct text_case text_cases[] = {
    {"Invalid to number", 256, "Invalid to number"},
    {"line one\nline two\r\t", 256, "line one line two"},
    {"The 'To' number +15005550001 is not a valid phone number.", 256,
     "The 'To' number [number] is not a valid phone number."},
    {"msisdn 4512345678 blocked", 256, "msisdn [number] blocked"},
    {"code 21211 stays", 256, "code 21211 stays"},
    {"123456 is six digits", 256, "123456 is six digits"},
    {"bad \xff byte", 256, "bad ? byte"},
    {"ääää", 6, "ää"}, /* 5 bytes of room: two whole ä, never half of the third */
    {"abc", 1, ""},
    {"", 16, ""},
};

static void copy_text_sanitises_and_masks_numbers(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(text_cases); i++) {
        char out[256];

        gateway_copy_text(out, text_cases[i].cap, text_cases[i].in, strlen(text_cases[i].in));
        assert_string_equal(out, text_cases[i].want);
    }
}

static void inbound_fill_checks_each_field(void **state)
{
    struct gateway_inbound in;
    char err[256], long_id[GATEWAY_ID_MAX + 1];

    (void)state;
    assert_int_equal(gateway_inbound_fill(&in, "SM1", "0401234567", "+15005550006", "Hei ä", err),
                     0);
    assert_string_equal(in.msg_id, "SM1");
    assert_string_equal(in.from, "+358401234567");
    assert_string_equal(in.to, "+15005550006");
    assert_string_equal(in.text, "Hei ä");
    gateway_inbound_release(&in);
    assert_null(in.text);

    assert_int_equal(gateway_inbound_fill(&in, "", "+358401234567", "x", "t", err), -1);
    assert_string_equal(err, "missing message id");
    memset(long_id, 'a', GATEWAY_ID_MAX);
    long_id[GATEWAY_ID_MAX] = '\0';
    assert_int_equal(gateway_inbound_fill(&in, long_id, "+358401234567", "x", "t", err), -1);
    assert_int_equal(gateway_inbound_fill(&in, "1", "Katto", "x", "t", err), -1);
    assert_string_equal(err, "sender is not a phone number");
    assert_int_equal(gateway_inbound_fill(&in, "1", "+358401234567", "", "t", err), -1);
    assert_int_equal(gateway_inbound_fill(&in, "1", "+358401234567", "x", "\xc3", err), -1);
    assert_string_equal(err, "message text is missing or not valid UTF-8");
    assert_null(in.text);
}

static void delivery_names_cover_every_state(void **state)
{
    static const char *const names[] = {"queued", "sent",        "delivered",
                                        "failed", "undelivered", "unknown"};

    (void)state;
    for (int d = GATEWAY_DELIVERY_QUEUED; d <= GATEWAY_DELIVERY_UNKNOWN; d++)
        assert_string_equal(gateway_delivery_name((enum gateway_delivery)d), names[d]);
    assert_string_equal(gateway_delivery_name((enum gateway_delivery)99), "unknown");
}

static void release_functions_accept_null(void **state)
{
    (void)state;
    gateway_inbound_release(NULL);
    gateway_request_release(NULL);
    gateway_ack_release(NULL);
    gateway_http_release(NULL);
}

static void console_prints_instead_of_sending(void **state)
{
    struct config cfg;
    struct gateway gw = {.ops = &gateway_console, .cfg = &cfg};
    struct gateway_message msg = {.to = "+358401234567", .from = "", .text = "Hei äöå"};
    struct gateway_request req;
    struct gateway_send_result res;
    struct gateway_ack ack;
    struct gateway_inbound in;
    struct gateway_http http = {0};
    char err[256];

    (void)state;
    config_init(&cfg);
    assert_true(gateway_console.configured(&cfg));
    assert_false(gateway_console.can_verify(&cfg));
    assert_null(gateway_console.sms_path);
    assert_null(gateway_console.status_path);
    assert_null(gateway_console.parse_status);
    assert_int_equal(gateway_console.verify(&gw, &http, err), 0);
    assert_int_equal(gateway_console.parse_inbound(&http, &in, err), -1);

    assert_int_equal(gateway_console.build_send(&gw, &msg, &req, err), 0);
    assert_string_equal(req.url, GATEWAY_CONSOLE_URL);
    assert_string_equal(req.url, "console:");
    assert_int_equal(req.body_len, strlen(msg.text));
    assert_memory_equal(req.body, msg.text, req.body_len);
    assert_int_equal(req.nheaders, 0);
    assert_null(req.userpwd);
    gateway_console.parse_send(200, req.body, req.body_len, NULL, &res);
    assert_int_equal(res.outcome, GATEWAY_SEND_OK);
    assert_int_equal(res.segments, 1);
    gateway_request_release(&req);

    gateway_console.ack_inbound(&gw, "reply", &ack);
    assert_int_equal(ack.status, 204);
    assert_null(ack.body);
    gateway_ack_release(&ack);
    config_release(&cfg);
}

static void console_format_masks_the_number_and_keeps_one_line(void **state)
{
    struct gateway_message msg = {.to = "+358401234567", .text = "Hei! Mitä kuuluu?\nVastaa 1\\2"};
    char line[256], small[24];
    int n;

    (void)state;
    n = gateway_console_format(&msg, line, sizeof(line));
    assert_string_equal(line, "to=+358*****567 parts=1 text=Hei! Mitä kuuluu?\\nVastaa 1\\\\2");
    assert_int_equal(n, (int)strlen(line));
    assert_null(strstr(line, "401234"));

    msg.text = "tab\there\x01";
    gateway_console_format(&msg, line, sizeof(line));
    assert_string_equal(line, "to=+358*****567 parts=1 text=tab\\there\\x01");

    msg.to = "12345";
    msg.text = "";
    gateway_console_format(&msg, line, sizeof(line));
    assert_string_equal(line, "to=***** parts=0 text=");

    /* Too small: cut on a code point, never half of "ä". */
    msg.to = "+358401234567";
    msg.text = "ääää";
    assert_int_equal(gateway_console_format(&msg, small, sizeof(small)), -1);
    assert_string_equal(small, "to=+358*****567 parts=1");
    assert_int_equal(gateway_console_format(&msg, line, 31), -1); /* 30 bytes: half an ä */
    assert_string_equal(line, "to=+358*****567 parts=1 text=");
    msg.text = "\xff";
    assert_int_equal(gateway_console_format(&msg, line, sizeof(line)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_lists_every_gateway_once),
        cmocka_unit_test(parse_form_decodes_and_rejects_malformed),
        cmocka_unit_test(parse_form_errors_name_the_field_without_quoting_the_value),
        cmocka_unit_test(parse_form_respects_body_len_not_the_terminator),
        cmocka_unit_test(parse_form_caps_the_number_of_fields),
        cmocka_unit_test(param_returns_the_first_of_repeated_fields),
        cmocka_unit_test(secure_equal_compares_whole_strings),
        cmocka_unit_test(check_query_token_accepts_only_the_exact_token),
        cmocka_unit_test(query_param_decodes_the_first_match),
        cmocka_unit_test(normalise_number_gives_e164_or_refuses),
        cmocka_unit_test(form_encode_escapes_all_but_unreserved),
        cmocka_unit_test(form_encode_round_trips_through_parse_form),
        cmocka_unit_test(url_joins_without_a_double_slash),
        cmocka_unit_test(send_classify_retries_429_and_5xx_only),
        cmocka_unit_test(copy_text_sanitises_and_masks_numbers),
        cmocka_unit_test(inbound_fill_checks_each_field),
        cmocka_unit_test(delivery_names_cover_every_state),
        cmocka_unit_test(release_functions_accept_null),
        cmocka_unit_test(console_prints_instead_of_sending),
        cmocka_unit_test(console_format_masks_the_number_and_keeps_one_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
