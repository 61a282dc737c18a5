/*
 * gateway_twilio.c: Twilio Programmable Messaging (../shared/gateways.md 1).
 * Inbound SMS and status callbacks are form POSTs signed with
 * X-Twilio-Signature: HMAC-SHA1, keyed with the auth token, over the public
 * URL followed by every body parameter sorted by name. Sends go to the
 * Messages REST API with HTTP basic auth. Replies are never given inline as
 * TwiML: they leave through the outbox, so that they are retried, rate
 * limited and recorded like every other message.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "err.h"
#include "gateway.h"

#define SIGNATURE_LEN 28 /* base64 of a 20-byte HMAC-SHA1 */
#define TWIML_EMPTY "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"

static bool twilio_configured(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.twilio.account_sid) &&
           gateway_is_set(cfg->gateways.twilio.auth_token);
}

static bool twilio_can_verify(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.twilio.auth_token);
}

struct param {
    const char *name, *value;
};

static int param_cmp(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

/*
 * The string Twilio signs: the URL, then for each parameter name in strcmp
 * order, name + value. A name that occurs more than once contributes each
 * distinct value once, values sorted, as twilio-node (Array.from(new
 * Set(values)).sort()) and twilio-python (sorted(gateway_is_set(values))) do. Returns it
 * owned, or NULL if out of memory.
 */
static char *signing_data(const char *url, const struct gateway_http *in, bool with_params)
{
    struct param sorted[GATEWAY_MAX_PARAMS];
    size_t n = with_params ? in->nparams : 0, len = strlen(url), k = 0;
    char *out, *p;

    for (size_t i = 0; i < n; i++) {
        sorted[i].name = in->params[i].name;
        sorted[i].value = in->params[i].value;
        len += strlen(sorted[i].name) + strlen(sorted[i].value);
    }
    qsort(sorted, n, sizeof(sorted[0]), param_cmp);
    out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    p = out;
    memcpy(p, url, strlen(url));
    p += strlen(url);
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && param_cmp(&sorted[i], &sorted[k - 1]) == 0)
            continue; /* a repeated name=value pair counts once */
        sorted[k++] = sorted[i];
        memcpy(p, sorted[i].name, strlen(sorted[i].name));
        p += strlen(sorted[i].name);
        memcpy(p, sorted[i].value, strlen(sorted[i].value));
        p += strlen(sorted[i].value);
    }
    *p = '\0';
    return out;
}

/* True if header matches the signature of url (+ the parameters). */
static bool signature_matches(const char *token, const char *url, const struct gateway_http *in,
                              bool with_params, const char *header, bool *oom)
{
    uint8_t mac[20];
    char want[SIGNATURE_LEN + 1];
    char *data = signing_data(url, in, with_params);
    bool ok;

    if (data == NULL) {
        *oom = true;
        return false;
    }
    crypto_hmac_sha1(token, strlen(token), data, strlen(data), mac);
    explicit_bzero(data, strlen(data));
    free(data);
    if (crypto_base64_encode(mac, sizeof(mac), want, sizeof(want)) != SIGNATURE_LEN)
        return false;
    ok = gateway_secure_equal(want, header);
    return ok;
}

/*
 * The URL with the scheme's default port taken out (if it is there) or put
 * in (if no port is given), owned; NULL when there is no such variant: a
 * non-default port must match exactly (gateways.md 1.2 step 4).
 */
static char *port_variant(const char *url)
{
    const char *dflt, *auth, *auth_end, *host, *colon = NULL;
    size_t skip, head;
    char *out;

    if (strncasecmp(url, "https://", 8) == 0) {
        dflt = "443";
        skip = 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        dflt = "80";
        skip = 7;
    } else {
        return NULL;
    }
    auth = url + skip;
    auth_end = auth + strcspn(auth, "/?#");
    host = auth;
    for (const char *p = auth; p < auth_end; p++) {
        if (*p == '@')
            host = p + 1; /* user:password@ */
    }
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(auth_end - host));

        if (rb == NULL)
            return NULL;
        if (rb + 1 < auth_end && rb[1] == ':')
            colon = rb + 1;
    } else {
        colon = memchr(host, ':', (size_t)(auth_end - host));
    }
    if (colon != NULL) {
        size_t port_len = (size_t)(auth_end - colon - 1);

        if (port_len != strlen(dflt) || memcmp(colon + 1, dflt, port_len) != 0)
            return NULL;
        out = malloc(strlen(url) + 1);
        if (out == NULL)
            return NULL;
        memcpy(out, url, (size_t)(colon - url));
        memcpy(out + (colon - url), auth_end, strlen(auth_end) + 1);
        return out;
    }
    head = (size_t)(auth_end - url);
    out = malloc(strlen(url) + strlen(dflt) + 2);
    if (out == NULL)
        return NULL;
    memcpy(out, url, head);
    out[head] = ':';
    memcpy(out + head + 1, dflt, strlen(dflt));
    memcpy(out + head + 1 + strlen(dflt), auth_end, strlen(auth_end) + 1);
    return out;
}

/*
 * A JSON-body webhook carries bodySHA256 in its query: then only the URL is
 * signed and the raw body must hash to that value (gateways.md 1.2 step 6).
 */
static int check_body_hash(const struct gateway_http *in, const char *want, char *err)
{
    uint8_t digest[32];
    char hex[65];

    crypto_sha256(in->body != NULL ? in->body : "", in->body != NULL ? in->body_len : 0, digest);
    crypto_hex(digest, sizeof(digest), hex);
    if (!gateway_secure_equal(hex, want)) {
        err_set(err, "body does not match its bodySHA256");
        return -1;
    }
    return 0;
}

static int twilio_verify(const struct gateway *gw, const struct gateway_http *in, char *err)
{
    const char *token = gw->cfg->gateways.twilio.auth_token;
    const char *header;
    char *body_hash, *variant;
    bool ok, oom = false, with_params = true;

    if (!twilio_can_verify(gw->cfg))
        return 0;
    header = in->header != NULL ? in->header(in->header_ctx, "X-Twilio-Signature") : NULL;
    if (header == NULL || header[0] == '\0') {
        err_set(err, "missing X-Twilio-Signature");
        return -1;
    }
    if (in->public_url == NULL || in->public_url[0] == '\0') {
        err_set(err, "no public URL to check X-Twilio-Signature against");
        return -1;
    }
    body_hash = gateway_query_param(in->query, "bodySHA256");
    if (body_hash != NULL) {
        int rc = check_body_hash(in, body_hash, err);

        free(body_hash);
        if (rc < 0)
            return -1;
        with_params = false;
    }
    ok = signature_matches(token, in->public_url, in, with_params, header, &oom);
    if (!ok && !oom) {
        variant = port_variant(in->public_url);
        if (variant != NULL)
            ok = signature_matches(token, variant, in, with_params, header, &oom);
        free(variant);
    }
    if (!ok) {
        err_set(err, oom ? "out of memory" : "X-Twilio-Signature does not match");
        return -1;
    }
    return 0;
}

static int twilio_parse_inbound(const struct gateway_http *in, struct gateway_inbound *out,
                                char *err)
{
    /* Body is always sent, "" for an empty text or a picture; its absence means another webhook. */
    return gateway_parse_form_inbound(in, "MessageSid", "From", "To", "Body", out, err);
}

static const struct {
    const char *status;
    enum gateway_delivery delivery;
} statuses[] = {
    {"queued", GATEWAY_DELIVERY_QUEUED},    {"accepted", GATEWAY_DELIVERY_QUEUED},
    {"scheduled", GATEWAY_DELIVERY_QUEUED}, {"sending", GATEWAY_DELIVERY_SENT},
    {"sent", GATEWAY_DELIVERY_SENT},        {"delivered", GATEWAY_DELIVERY_DELIVERED},
    {"read", GATEWAY_DELIVERY_DELIVERED},   {"failed", GATEWAY_DELIVERY_FAILED},
    {"canceled", GATEWAY_DELIVERY_FAILED},  {"undelivered", GATEWAY_DELIVERY_UNDELIVERED},
};

static int twilio_parse_status(const struct gateway_http *in, struct gateway_status *out, char *err)
{
    const char *sid, *status, *code;
    enum gateway_delivery d = GATEWAY_DELIVERY_UNKNOWN;

    memset(out, 0, sizeof(*out));
    if (!gateway_form_body(in, err))
        return -1;
    if ((sid = gateway_required(in, "MessageSid", err)) == NULL ||
        (status = gateway_required(in, "MessageStatus", err)) == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcmp(statuses[i].status, status) == 0)
            d = statuses[i].delivery;
    }
    code = gateway_param(in, "ErrorCode");
    return gateway_status_fill(out, sid, d, code, err);
}

static int twilio_build_send(const struct gateway *gw, const struct gateway_message *msg,
                             struct gateway_request *req, char *err)
{
    const struct config_twilio *c = &gw->cfg->gateways.twilio;
    const char *from = gateway_is_set(msg->from) ? msg->from : c->from;
    char path[128];
    const char *pairs[] = {
        "To",
        msg->to,
        "From",
        from,
        "Body",
        msg->text,
        "StatusCallback",
        gateway_is_set(msg->status_url) ? msg->status_url : NULL,
    };

    memset(req, 0, sizeof(*req));
    if (!twilio_configured(gw->cfg)) {
        err_set(err, "gateways.twilio.account_sid and gateways.twilio.auth_token must be set");
        return -1;
    }
    if (!gateway_is_set(from)) {
        err_set(err, "no sender: set gateways.twilio.from");
        return -1;
    }
    if (msg->to == NULL || msg->text == NULL) {
        err_set(err, "message has no recipient or text");
        return -1;
    }
    /* The SID goes into the path: AC + 32 hex digits, nothing to escape. */
    if (strspn(c->account_sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
            strlen(c->account_sid) ||
        strlen(c->account_sid) > 64) {
        err_set(err, "gateways.twilio.account_sid must be letters and digits");
        return -1;
    }
    snprintf(path, sizeof(path), "/2010-04-01/Accounts/%s/Messages.json", c->account_sid);
    req->url = gateway_url(c->base_url, path);
    req->body = gateway_form_encode(pairs, sizeof(pairs) / sizeof(pairs[0]) / 2);
    if (req->url == NULL || req->body == NULL ||
        gateway_request_add_header(req, "Content-Type: application/x-www-form-urlencoded") < 0 ||
        gateway_request_add_header(req, "Accept: application/json") < 0 ||
        gateway_request_add_header(req, "Accept-Charset: utf-8") < 0)
        goto oom;
    req->body_len = strlen(req->body);
    req->userpwd = malloc(strlen(c->account_sid) + strlen(c->auth_token) + 2);
    if (req->userpwd == NULL)
        goto oom;
    snprintf(req->userpwd, strlen(c->account_sid) + strlen(c->auth_token) + 2, "%s:%s",
             c->account_sid, c->auth_token);
    return 0;
oom:
    gateway_request_release(req);
    err_set(err, "out of memory");
    return -1;
}

/* "21211: The 'To' number [number] is not a valid phone number." from Twilio's error JSON. */
static void error_from_json(const cJSON *root, struct gateway_send_result *out)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(root, "message");
    char text[512];

    if (!cJSON_IsString(message) || message->valuestring == NULL)
        return;
    if (cJSON_IsNumber(code))
        snprintf(text, sizeof(text), "%.0f: %s", code->valuedouble, message->valuestring);
    else
        snprintf(text, sizeof(text), "%s", message->valuestring);
    gateway_copy_text(out->error, sizeof(out->error), text, strlen(text));
}

static void twilio_parse_send(long http_status, const char *body, size_t len,
                              const char *retry_after, struct gateway_send_result *out)
{
    cJSON *root;
    const cJSON *sid, *segments;

    gateway_send_classify(http_status, retry_after, out);
    root = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
    if (out->outcome != GATEWAY_SEND_OK) {
        if (cJSON_IsObject(root))
            error_from_json(root, out);
        cJSON_Delete(root);
        return;
    }
    /*
     * A 2xx means Twilio created the message, even if the body cannot be
     * read (a proxy mangled it, a new format). Retrying would text the
     * person a second time, so the send counts as done; only the message id,
     * and with it the delivery reports, is lost. The note says so.
     */
    sid = cJSON_GetObjectItemCaseSensitive(root, "sid");
    if (cJSON_IsString(sid) && sid->valuestring != NULL &&
        strlen(sid->valuestring) < sizeof(out->msg_id)) {
        memcpy(out->msg_id, sid->valuestring, strlen(sid->valuestring) + 1);
    } else {
        snprintf(out->error, sizeof(out->error), "http %ld without a message sid", http_status);
    }
    segments = cJSON_GetObjectItemCaseSensitive(root, "num_segments");
    if (cJSON_IsString(segments) && segments->valuestring != NULL) {
        char *end;
        long n = strtol(segments->valuestring, &end, 10);

        if (end != segments->valuestring && *end == '\0' && n >= 0 && n <= 1000)
            out->segments = (int)n;
    } else if (cJSON_IsNumber(segments) && segments->valuedouble >= 0 &&
               segments->valuedouble <= 1000) {
        out->segments = (int)segments->valuedouble;
    }
    cJSON_Delete(root);
}

/*
 * An empty TwiML document: "received, no reply". An empty 200 body would
 * raise error 12300 in the customer's Twilio debugger. Replies are not put in
 * <Message> here because a TwiML reply is fire-and-forget: if Twilio fails
 * to send it, nothing retries it and Katto never learns its status, while an
 * outbox row is retried, rate limited and tracked by status callbacks.
 */
/*
 * TwiML answering a webhook: <Response/>, or with inline_reply a <Message>
 * that Twilio sends back to the sender. Text is escaped as twilio-node does
 * (& < > and CR); other C0 controls are illegal in XML 1.0 and dropped.
 */
static char *twiml(const char *inline_reply)
{
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>";
    static const char tail[] = "</Message></Response>";
    char *out, *p;

    if (inline_reply == NULL)
        return strdup(TWIML_EMPTY);
    /* At most 5 bytes ("&amp;", "&#xD;") per input byte. */
    if ((out = malloc(sizeof(head) + 5 * strlen(inline_reply) + sizeof(tail))) == NULL)
        return NULL;
    p = out + sprintf(out, "%s", head);
    for (const unsigned char *c = (const unsigned char *)inline_reply; *c != '\0'; c++) {
        if (*c == '&')
            p += sprintf(p, "&amp;");
        else if (*c == '<')
            p += sprintf(p, "&lt;");
        else if (*c == '>')
            p += sprintf(p, "&gt;");
        else if (*c == '\r')
            p += sprintf(p, "&#xD;");
        else if (*c >= 0x20 || *c == '\t' || *c == '\n')
            *p++ = (char)*c;
    }
    sprintf(p, "%s", tail);
    return out;
}

static void twilio_ack_inbound(const struct gateway *gw, const char *inline_reply,
                               struct gateway_ack *out)
{
    (void)gw;
    out->body = twiml(inline_reply);
    out->status = out->body != NULL ? 200 : 500;
    out->content_type = out->body != NULL ? "text/xml" : NULL;
}

const struct gateway_ops gateway_twilio = {
    .name = "twilio",
    .sms_path = "/webhooks/twilio/sms",
    .status_path = "/webhooks/twilio/status",
    .eu = false,
    .retries_webhooks = false,
    .configured = twilio_configured,
    .can_verify = twilio_can_verify,
    .verify = twilio_verify,
    .parse_inbound = twilio_parse_inbound,
    .parse_status = twilio_parse_status,
    .build_send = twilio_build_send,
    .parse_send = twilio_parse_send,
    .ack_inbound = twilio_ack_inbound,
};
