/*
 * fuzz_gateway_send: what a gateway answers to a send (its JSON or text
 * body, status and Retry-After), read by parse_send; the error text it may
 * quote goes through gateway_copy_text into logs and rows. Also builds a send
 * request whose text is the body, as the outbox does with a reply.
 *
 * Input (gateway_input.h): "<gateway> <HTTP status> [<Retry-After value>]",
 * no headers needed, then the response body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "gateway.h"
#include "gateway_input.h"
#include "utf8.h"

/* gateway_copy_text's promises: valid UTF-8, and no phone number (7+ digits in a row) left. */
static void check_copied(const char *s, size_t cap)
{
    size_t len = strnlen(s, cap), digits = 0;

    FUZZ_CHECK(len < cap);
    FUZZ_CHECK(utf8_valid(s, len));
    for (size_t i = 0; i < len; i++) {
        digits = s[i] >= '0' && s[i] <= '9' ? digits + 1 : 0;
        FUZZ_CHECK(digits < 7);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_gateway_input fi;
    struct gateway_send_result res;
    char *retry = NULL;
    long status;

    fuzz_gateway_input_parse(data, size, &fi);
    const struct gateway gw = {.ops = fi.ops, .cfg = fuzz_gateway_config()};

    /* curl reports a three-digit status (0 for none); larger numbers are not a real answer. */
    status = labs(strtol(fi.line, &retry, 10) % 1000);
    while (retry != NULL && *retry == ' ')
        retry++;

    memset(&res, 0xa5, sizeof(res)); /* parse_send must set every field it promises */
    fi.ops->parse_send(status, fi.body, fi.body_len, retry != NULL && *retry ? retry : NULL, &res);
    FUZZ_CHECK(res.outcome == GATEWAY_SEND_OK || res.outcome == GATEWAY_SEND_RETRY ||
               res.outcome == GATEWAY_SEND_FAIL);
    FUZZ_CHECK(memchr(res.msg_id, '\0', sizeof(res.msg_id)) != NULL);
    FUZZ_CHECK(res.retry_after >= 0 && res.retry_after <= 86400);
    check_copied(res.error, sizeof(res.error));

    /* The same bytes as a vendor's error text, cut at several sizes. */
    static const size_t caps[] = {1, 2, 9, 17, 64, 256};
    char copy[256];

    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        gateway_copy_text(copy, caps[i], fi.body, fi.body_len);
        check_copied(copy, caps[i]);
    }

    /* The body as the text of a reply: only valid UTF-8 without NUL reaches an adapter. */
    if (utf8_valid(fi.body, fi.body_len) && strlen(fi.body) == fi.body_len) {
        struct gateway_message msg = {.to = "+358401234567",
                                      .from = "",
                                      .text = fi.body,
                                      .status_url = "https://katto.example/status"};
        struct gateway_request req = {0};
        char err[ERR_LEN];

        if (fi.ops->build_send(&gw, &msg, &req, err) == 0)
            FUZZ_CHECK(req.url != NULL);
        gateway_request_release(&req);
    }
    fuzz_gateway_input_release(&fi);
    return 0;
}
