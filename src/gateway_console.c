/*
 * gateway_console.c: the gateway used when no SMS account is configured.
 * It receives nothing (no webhook routes) and "sends" by handing the outbox a
 * request for the URL "console:", which the outbox prints with
 * gateway_console_format() instead of sending, so a developer sees every
 * reply while the whole outbox path (rows, ordering, statuses) still runs.
 */
#include "gateway_console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "gsm7.h"
#include "utf8.h"

#define LINE_MAX_BYTES (64 * 1024)

static bool console_configured(const struct config *cfg)
{
    (void)cfg;
    return true;
}

static bool console_can_verify(const struct config *cfg)
{
    (void)cfg;
    return false;
}

static int console_verify(const struct gateway *gw, const struct gateway_http *in, char *err)
{
    (void)gw;
    (void)in;
    (void)err;
    return 0;
}

static int console_parse_inbound(const struct gateway_http *in, struct gateway_inbound *out,
                                 char *err)
{
    (void)in;
    memset(out, 0, sizeof(*out));
    err_set(err, "the console gateway receives no webhooks");
    return -1;
}

static int console_build_send(const struct gateway *gw, const struct gateway_message *msg,
                              struct gateway_request *req, char *err)
{
    (void)gw;
    memset(req, 0, sizeof(*req));
    if (msg->text == NULL) {
        err_set(err, "message has no text");
        return -1;
    }
    req->url = strdup(GATEWAY_CONSOLE_URL);
    req->body = strdup(msg->text);
    if (req->url == NULL || req->body == NULL) {
        gateway_request_release(req);
        err_set(err, "out of memory");
        return -1;
    }
    req->body_len = strlen(req->body);
    return 0;
}

/* Printing cannot be refused: every console send is accepted. */
static void console_parse_send(long http_status, const char *body, size_t len,
                               const char *retry_after, struct gateway_send_result *out)
{
    struct gsm7_info info;

    (void)http_status;
    (void)retry_after;
    memset(out, 0, sizeof(*out));
    out->outcome = GATEWAY_SEND_OK;
    if (body != NULL && gsm7_analyse(body, len, &info) == 0)
        out->segments = (int)info.segments;
}

static void console_ack_inbound(const struct gateway *gw, const char *inline_reply,
                                struct gateway_ack *out)
{
    (void)gw;
    (void)inline_reply;
    memset(out, 0, sizeof(*out));
    out->status = 204;
}

const struct gateway_ops gateway_console = {
    .name = "console",
    .sms_path = NULL,
    .status_path = NULL,
    .eu = true, /* nothing leaves the machine */
    .configured = console_configured,
    .can_verify = console_can_verify,
    .verify = console_verify,
    .parse_inbound = console_parse_inbound,
    .parse_status = NULL,
    .build_send = console_build_send,
    .parse_send = console_parse_send,
    .ack_inbound = console_ack_inbound,
};

/* "+358*****567": the country code (up to three digits after '+') and the last three digits. */
static void mask_number(const char *to, char *out, size_t cap)
{
    size_t n = to != NULL ? strlen(to) : 0;

    if (n < 8 || to[0] != '+') {
        snprintf(out, cap, "*****");
        return;
    }
    snprintf(out, cap, "%.4s*****%s", to, to + n - 3);
}

int gateway_console_format(const struct gateway_message *msg, char *out, size_t cap)
{
    struct gsm7_info info;
    struct buf b;
    char masked[GATEWAY_NUMBER_MAX];
    const char *text = msg->text != NULL ? msg->text : "";
    size_t len = strlen(text), fit;
    int rc = 0;

    if (cap > 0)
        out[0] = '\0';
    if (gsm7_analyse(text, len, &info) < 0)
        return -1;
    mask_number(msg->to, masked, sizeof(masked));
    buf_init(&b, LINE_MAX_BYTES);
    rc |= buf_printf(&b, "to=%s parts=%zu text=", masked, info.segments);
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '\n')
            rc |= buf_puts(&b, "\\n");
        else if (c == '\r')
            rc |= buf_puts(&b, "\\r");
        else if (c == '\t')
            rc |= buf_puts(&b, "\\t");
        else if (c == '\\')
            rc |= buf_puts(&b, "\\\\");
        else if (c < 0x20 || c == 0x7f)
            rc |= buf_printf(&b, "\\x%02X", c);
        else
            rc |= buf_append(&b, (const char *)&text[i], 1);
    }
    if (cap == 0) {
        buf_release(&b);
        return -1;
    }
    fit = utf8_truncate(buf_str(&b), cap - 1);
    memcpy(out, buf_str(&b), fit);
    out[fit] = '\0';
    if (rc != 0 || fit < b.len) {
        buf_release(&b);
        return -1;
    }
    buf_release(&b);
    return (int)fit;
}
