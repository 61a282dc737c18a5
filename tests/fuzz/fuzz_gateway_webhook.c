/*
 * fuzz_gateway_webhook: an inbound webhook of any gateway (form or JSON body,
 * signature headers, query token), through the same steps as sms_channel.c:
 * form decoding, verify(), then parse_inbound, parse_status and the ack.
 * The parsers run even when verify() refuses, because a signature bug must
 * not be the only thing that keeps a parser bug unreachable.
 *
 * Input (gateway_input.h): "<gateway> <public URL with ?query>", headers
 * (Content-Type, X-Twilio-Signature, X-Gwapi-Signature, Signature...), body.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "fuzz.h"
#include "gateway.h"
#include "gateway_input.h"
#include "utf8.h"

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_gateway_input fi;
    struct gateway_http in = {0};
    struct gateway_inbound msg;
    struct gateway_status st;
    struct gateway_ack ack;
    char err[ERR_LEN];

    fuzz_gateway_input_parse(data, size, &fi);
    const struct gateway gw = {.ops = fi.ops, .cfg = fuzz_gateway_config()};
    const char *q = strchr(fi.line, '?');

    in.public_url = fi.line;
    in.query = q != NULL ? q + 1 : NULL;
    in.content_type = fuzz_gateway_header(&fi, "Content-Type");
    in.body = fi.body;
    in.body_len = fi.body_len;
    in.header = fuzz_gateway_header;
    in.header_ctx = &fi;

    /* The channel decodes a form body first and refuses the request if that fails. */
    if (in.content_type != NULL &&
        strncasecmp(in.content_type, "application/x-www-form-urlencoded", 33) == 0 &&
        gateway_parse_form(&in, err) != 0)
        goto out;
    for (size_t i = 0; i < in.nparams; i++)
        FUZZ_CHECK(utf8_valid(in.params[i].name, strlen(in.params[i].name)) &&
                   utf8_valid(in.params[i].value, strlen(in.params[i].value)));

    err[0] = '\0';
    (void)fi.ops->verify(&gw, &in, err);
    FUZZ_CHECK(terminated(err, sizeof(err)));

    const char *reply = NULL;

    if (fi.ops->parse_inbound(&in, &msg, err) == 0) {
        /* What the rest of Katto relies on: an E.164 sender and valid UTF-8 text. */
        FUZZ_CHECK(terminated(msg.msg_id, sizeof(msg.msg_id)));
        FUZZ_CHECK(terminated(msg.to, sizeof(msg.to)));
        FUZZ_CHECK(msg.from[0] == '+' && terminated(msg.from, sizeof(msg.from)));
        FUZZ_CHECK(msg.text != NULL && utf8_valid(msg.text, strlen(msg.text)));
        reply = msg.text;
    }
    if (fi.ops->parse_status != NULL && fi.ops->parse_status(&in, &st, err) == 0) {
        FUZZ_CHECK(terminated(st.msg_id, sizeof(st.msg_id)));
        FUZZ_CHECK(utf8_valid(st.error, strnlen(st.error, sizeof(st.error))));
        FUZZ_CHECK(gateway_delivery_name(st.delivery) != NULL);
    }
    /* The ack may carry the first reply inline (46elks): use the inbound text as one. */
    memset(&ack, 0, sizeof(ack));
    fi.ops->ack_inbound(&gw, reply, &ack);
    FUZZ_CHECK(ack.status >= 200 && ack.status < 600);
    gateway_ack_release(&ack);
    if (reply != NULL)
        gateway_inbound_release(&msg);
out:
    gateway_http_release(&in);
    fuzz_gateway_input_release(&fi);
    return 0;
}
