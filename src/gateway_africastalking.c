/*
 * gateway_africastalking.c: Africa's Talking SMS (../shared/gateways.md 2.2,
 * 2.3). Webhooks are unsigned form POSTs, so their routes carry a secret
 * ?token= compared in constant time. Sends follow the official node SDK
 * 0.8.3: a form POST with the apiKey header, answered 201 with one result per
 * recipient; a 201 can still carry a rejected recipient, so the recipient's
 * own status decides.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "gateway.h"

#define LIVE_URL "https://api.africastalking.com"
#define SANDBOX_URL "https://api.sandbox.africastalking.com"

static bool at_configured(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.africastalking.username) &&
           gateway_is_set(cfg->gateways.africastalking.api_key);
}

static bool at_can_verify(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.africastalking.webhook_token);
}

static int at_verify(const struct gateway *gw, const struct gateway_http *in, char *err)
{
    if (!at_can_verify(gw->cfg))
        return 0;
    return gateway_check_query_token(in, gw->cfg->gateways.africastalking.webhook_token, err);
}

static int at_parse_inbound(const struct gateway_http *in, struct gateway_inbound *out, char *err)
{
    return gateway_parse_form_inbound(in, "id", "from", "to", "text", out, err);
}

/* As courier maps them (gateways.md 2.2); anything else is ignored. */
static const struct {
    const char *status;
    enum gateway_delivery delivery;
} statuses[] = {
    {"Success", GATEWAY_DELIVERY_DELIVERED}, {"Sent", GATEWAY_DELIVERY_SENT},
    {"Buffered", GATEWAY_DELIVERY_SENT},     {"Rejected", GATEWAY_DELIVERY_FAILED},
    {"Failed", GATEWAY_DELIVERY_FAILED},     {"Expired", GATEWAY_DELIVERY_FAILED},
};

static int at_parse_status(const struct gateway_http *in, struct gateway_status *out, char *err)
{
    const char *id, *status;
    enum gateway_delivery d = GATEWAY_DELIVERY_UNKNOWN;

    memset(out, 0, sizeof(*out));
    if (!gateway_form_body(in, err))
        return -1;
    if ((id = gateway_required(in, "id", err)) == NULL ||
        (status = gateway_required(in, "status", err)) == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcmp(statuses[i].status, status) == 0)
            d = statuses[i].delivery;
    }
    return gateway_status_fill(out, id, d, gateway_param(in, "failureReason"), err);
}

static int at_build_send(const struct gateway *gw, const struct gateway_message *msg,
                         struct gateway_request *req, char *err)
{
    const struct config_africastalking *c = &gw->cfg->gateways.africastalking;
    const char *from = gateway_is_set(msg->from) ? msg->from : c->from;
    const char *base = c->base_url;
    /* The SDK always sends bulkSMSMode=1 for ordinary (not premium) messages. */
    const char *pairs[] = {
        "username",    c->username, "to",   msg->to,
        "message",     msg->text,   "from", gateway_is_set(from) ? from : NULL,
        "bulkSMSMode", "1",
    };

    memset(req, 0, sizeof(*req));
    if (!at_configured(gw->cfg)) {
        err_set(err, "gateways.africastalking.username and gateways.africastalking.api_key "
                     "must be set");
        return -1;
    }
    if (msg->to == NULL || msg->text == NULL) {
        err_set(err, "message has no recipient or text");
        return -1;
    }
    /* Like the SDK, the username "sandbox" means the sandbox host, unless base_url was changed. */
    if (strcmp(c->username, "sandbox") == 0 && base != NULL &&
        (strcmp(base, LIVE_URL) == 0 || strcmp(base, LIVE_URL "/") == 0))
        base = SANDBOX_URL;
    req->url = gateway_url(base, "/version1/messaging");
    req->body = gateway_form_encode(pairs, sizeof(pairs) / sizeof(pairs[0]) / 2);
    if (req->url == NULL || req->body == NULL ||
        gateway_request_add_header(req, "apiKey: %s", c->api_key) < 0 ||
        gateway_request_add_header(req, "Accept: application/json") < 0 ||
        gateway_request_add_header(
            req, "Content-Type: application/x-www-form-urlencoded;charset=utf-8") < 0) {
        gateway_request_release(req);
        err_set(err, "out of memory");
        return -1;
    }
    req->body_len = strlen(req->body);
    return 0;
}

static const char *json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Reads the first recipient of a 2xx answer. */
static void read_recipient(const cJSON *root, long http_status, struct gateway_send_result *out)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "SMSMessageData");
    const cJSON *recipients = cJSON_GetObjectItemCaseSensitive(data, "Recipients");
    const cJSON *r = cJSON_GetArrayItem(recipients, 0);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "statusCode");
    const char *status = json_string(r, "status"), *id = json_string(r, "messageId");
    const char *summary = json_string(data, "Message");
    int sc = cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 10000
                 ? (int)code->valuedouble
                 : 0;
    char text[256];

    if (root == NULL) {
        /*
         * A 2xx that cannot be read: AT has most likely queued the message,
         * and a retry would text the person twice, so it counts as sent
         * (without an id, so without delivery reports).
         */
        snprintf(out->error, sizeof(out->error), "http %ld with an unreadable body", http_status);
        return;
    }
    if (!cJSON_IsObject(r)) {
        /* No recipient accepted: the summary says why ("InvalidSenderId"). */
        out->outcome = GATEWAY_SEND_FAIL;
        snprintf(text, sizeof(text), "no recipient accepted: %s",
                 summary != NULL ? summary : "no reason given");
        gateway_copy_text(out->error, sizeof(out->error), text, strlen(text));
        return;
    }
    if ((status != NULL && strcmp(status, "Success") == 0) || sc == 100 || sc == 101 || sc == 102) {
        if (id != NULL && strlen(id) < sizeof(out->msg_id))
            memcpy(out->msg_id, id, strlen(id) + 1);
        return;
    }
    /* 500 InternalServerError and 501 GatewayError are AT's own trouble: try again later. */
    out->outcome = sc == 500 || sc == 501 ? GATEWAY_SEND_RETRY : GATEWAY_SEND_FAIL;
    snprintf(text, sizeof(text), "%d: %s", sc, status != NULL ? status : "no status");
    gateway_copy_text(out->error, sizeof(out->error), text, strlen(text));
}

/*
 * The SDK accepts only 201; any 2xx is read the same way here, because the
 * recipient's status says whether the message went out, and failing a
 * message that was sent would be worse than trusting a 200.
 */
static void at_parse_send(long http_status, const char *body, size_t len, const char *retry_after,
                          struct gateway_send_result *out)
{
    cJSON *root;

    gateway_send_classify(http_status, retry_after, out);
    if (out->outcome != GATEWAY_SEND_OK) {
        /* Errors come as plain text ("The supplied authentication is invalid"). */
        if (body != NULL && len > 0)
            gateway_copy_text(out->error, sizeof(out->error), body, len);
        return;
    }
    root = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
    read_recipient(cJSON_IsObject(root) ? root : NULL, http_status, out);
    cJSON_Delete(root);
}

static void at_ack_inbound(const struct gateway *gw, const char *inline_reply,
                           struct gateway_ack *out)
{
    (void)gw;
    (void)inline_reply; /* AT sends no reply from a webhook answer */
    memset(out, 0, sizeof(*out));
    out->status = 200;
}

const struct gateway_ops gateway_africastalking = {
    .name = "africastalking",
    .sms_path = "/webhooks/africastalking/sms",
    .status_path = "/webhooks/africastalking/status",
    .eu = false,
    .retries_webhooks = false,
    .configured = at_configured,
    .can_verify = at_can_verify,
    .verify = at_verify,
    .parse_inbound = at_parse_inbound,
    .parse_status = at_parse_status,
    .build_send = at_build_send,
    .parse_send = at_parse_send,
    .ack_inbound = at_ack_inbound,
};
