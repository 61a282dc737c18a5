/*
 * gateway_46elks.c: 46elks, Sweden (../shared/gateways.md 3). Webhooks are
 * unsigned form POSTs, so their routes carry a secret ?token= compared in
 * constant time. 46elks sends a plain-text response body back to the sender
 * as an SMS, which saves a request for the first reply when
 * gateways.46elks.inline_reply is on. Sends use HTTP basic auth.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "gateway.h"

static bool elks_configured(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.elks.username) &&
           gateway_is_set(cfg->gateways.elks.password);
}

static bool elks_can_verify(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.elks.webhook_token);
}

static int elks_verify(const struct gateway *gw, const struct gateway_http *in, char *err)
{
    if (!elks_can_verify(gw->cfg))
        return 0;
    return gateway_check_query_token(in, gw->cfg->gateways.elks.webhook_token, err);
}

static int elks_parse_inbound(const struct gateway_http *in, struct gateway_inbound *out, char *err)
{
    return gateway_parse_form_inbound(in, "id", "from", "to", "message", out, err);
}

static int elks_parse_status(const struct gateway_http *in, struct gateway_status *out, char *err)
{
    const char *id, *status;
    enum gateway_delivery d = GATEWAY_DELIVERY_UNKNOWN;

    memset(out, 0, sizeof(*out));
    if (!gateway_form_body(in, err))
        return -1;
    if ((id = gateway_required(in, "id", err)) == NULL ||
        (status = gateway_required(in, "status", err)) == NULL)
        return -1;
    if (strcmp(status, "sent") == 0)
        d = GATEWAY_DELIVERY_SENT;
    else if (strcmp(status, "delivered") == 0)
        d = GATEWAY_DELIVERY_DELIVERED;
    else if (strcmp(status, "failed") == 0)
        d = GATEWAY_DELIVERY_FAILED;
    return gateway_status_fill(out, id, d, NULL, err);
}

static int elks_build_send(const struct gateway *gw, const struct gateway_message *msg,
                           struct gateway_request *req, char *err)
{
    const struct config_46elks *c = &gw->cfg->gateways.elks;
    const char *from = gateway_is_set(msg->from) ? msg->from : c->from;
    const char *pairs[] = {
        "from",
        from,
        "to",
        msg->to,
        "message",
        msg->text,
        "whendelivered",
        gateway_is_set(msg->status_url) ? msg->status_url : NULL,
    };
    size_t n;

    memset(req, 0, sizeof(*req));
    if (!elks_configured(gw->cfg)) {
        err_set(err, "gateways.46elks.username and gateways.46elks.password must be set");
        return -1;
    }
    if (!gateway_is_set(from)) {
        err_set(err, "no sender: set gateways.46elks.from");
        return -1;
    }
    if (msg->to == NULL || msg->text == NULL) {
        err_set(err, "message has no recipient or text");
        return -1;
    }
    req->url = gateway_url(c->base_url, "/a1/sms");
    req->body = gateway_form_encode(pairs, sizeof(pairs) / sizeof(pairs[0]) / 2);
    if (req->url == NULL || req->body == NULL ||
        gateway_request_add_header(req, "Content-Type: application/x-www-form-urlencoded") < 0 ||
        gateway_request_add_header(req, "Accept: application/json") < 0)
        goto oom;
    req->body_len = strlen(req->body);
    n = strlen(c->username) + strlen(c->password) + 2;
    req->userpwd = malloc(n);
    if (req->userpwd == NULL)
        goto oom;
    snprintf(req->userpwd, n, "%s:%s", c->username, c->password);
    return 0;
oom:
    gateway_request_release(req);
    err_set(err, "out of memory");
    return -1;
}

static void elks_parse_send(long http_status, const char *body, size_t len, const char *retry_after,
                            struct gateway_send_result *out)
{
    cJSON *root;
    const cJSON *id, *parts;

    gateway_send_classify(http_status, retry_after, out);
    if (out->outcome != GATEWAY_SEND_OK) {
        /* 46elks explains errors in plain text ("Invalid to number"). */
        if (body != NULL && len > 0)
            gateway_copy_text(out->error, sizeof(out->error), body, len);
        return;
    }
    /*
     * 2xx: the message was created even if the body cannot be read, so it
     * counts as sent (a retry would text the person twice); only its id, and
     * so its delivery reports, is lost.
     */
    root = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
    id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (cJSON_IsString(id) && id->valuestring != NULL &&
        strlen(id->valuestring) < sizeof(out->msg_id))
        memcpy(out->msg_id, id->valuestring, strlen(id->valuestring) + 1);
    else
        snprintf(out->error, sizeof(out->error), "http %ld without a message id", http_status);
    parts = cJSON_GetObjectItemCaseSensitive(root, "parts");
    if (cJSON_IsNumber(parts) && parts->valuedouble >= 0 && parts->valuedouble <= 1000)
        out->segments = (int)parts->valuedouble;
    cJSON_Delete(root);
}

/*
 * 46elks turns a plain-text answer into an SMS to the sender; an empty 204
 * means no reply. Any 2xx stops its retries (it retries for 6 hours
 * otherwise).
 */
static void elks_ack_inbound(const struct gateway *gw, const char *inline_reply,
                             struct gateway_ack *out)
{
    (void)gw;
    memset(out, 0, sizeof(*out));
    out->status = 204;
    if (inline_reply == NULL)
        return;
    out->body = strdup(inline_reply);
    if (out->body == NULL) {
        out->status = 500; /* 46elks retries; the dedupe row answers the retry */
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; charset=utf-8";
}

const struct gateway_ops gateway_46elks = {
    .name = "46elks",
    .sms_path = "/webhooks/46elks/sms",
    .status_path = "/webhooks/46elks/status",
    .eu = true,
    .retries_webhooks = true,
    .configured = elks_configured,
    .can_verify = elks_can_verify,
    .verify = elks_verify,
    .parse_inbound = elks_parse_inbound,
    .parse_status = elks_parse_status,
    .build_send = elks_build_send,
    .parse_send = elks_parse_send,
    .ack_inbound = elks_ack_inbound,
};
