/*
 * gateway_gatewayapi.c: GatewayAPI, Denmark (../shared/gateways.md 4).
 * Webhooks are JSON. Classic webhooks (MO messages and delivery statuses)
 * are signed with X-Gwapi-Signature, a JWT made with HS256 and the webhook's
 * authentication token; the newer Mobile Messaging API's events carry
 * "Signature: v1=<hex HMAC-SHA256 of the raw body>". Sends use the classic
 * REST API (/rest/mtsms) with the API token as the basic-auth user name.
 *
 * Numbers (msisdn) are JSON integers wider than 32 bits. They are never
 * read through a double: the digits are taken from the raw JSON text, and
 * anything longer than E.164's 15 digits is refused.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "err.h"
#include "gateway.h"
#include "gsm7.h"

#define JWT_MAX 16384       /* longest X-Gwapi-Signature considered */
#define JWT_HEADER_MAX 1024 /* decoded JOSE header */
#define DIGITS_MAX 64       /* raw integer text read before the length check */
#define MSISDN_MAX_DIGITS 15
#define STATUS_EVENT "message.status.sms"

static bool gwapi_configured(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.gatewayapi.token);
}

static bool gwapi_can_verify(const struct config *cfg)
{
    return gateway_is_set(cfg->gateways.gatewayapi.webhook_secret) ||
           gateway_is_set(cfg->gateways.gatewayapi.status_secret);
}

/*
 * Raw JSON scanning, just enough to find the text of a top-level member's
 * value. It runs only on text cJSON has already accepted, so it need not
 * diagnose errors; it only must not read past the end.
 */
static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is '"': returns the index after the closing quote (len if none). */
static size_t skip_string(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return len;
}

static size_t skip_value(const char *s, size_t len, size_t i)
{
    int depth = 0;

    if (i < len && s[i] == '"')
        return skip_string(s, len, i);
    while (i < len) {
        char c = s[i];

        if (c == '"') {
            i = skip_string(s, len, i);
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i;
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return i;
        }
        i++;
    }
    return len;
}

/* 1 and the raw value text of member key of the top-level object, 0 if absent, -1 if no object. */
static int member_raw(const char *s, size_t len, const char *key, const char **val, size_t *val_len)
{
    size_t klen = strlen(key), i = skip_ws(s, len, 0);

    if (i >= len || s[i] != '{')
        return -1;
    i++;
    for (;;) {
        size_t kstart, kend, vstart;

        i = skip_ws(s, len, i);
        if (i >= len || s[i] != '"')
            return 0;
        kstart = i + 1;
        i = skip_string(s, len, i);
        kend = i - 1;
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != ':')
            return 0;
        vstart = skip_ws(s, len, i + 1);
        i = skip_value(s, len, vstart);
        if (kend - kstart == klen && memcmp(s + kstart, key, klen) == 0) {
            *val = s + vstart;
            *val_len = i - vstart;
            return 1;
        }
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != ',')
            return 0;
        i++;
    }
}

enum digits_result { DIGITS_ABSENT, DIGITS_OK, DIGITS_BAD };

/*
 * The decimal digits of member key, a JSON integer or a string of digits,
 * exactly as written, into out (cap bytes). DIGITS_ABSENT for a missing or
 * null member; DIGITS_BAD for anything else (sign, fraction, exponent,
 * letters) or more than cap - 1 digits.
 */
static enum digits_result member_digits(const char *s, size_t len, const char *key, char *out,
                                        size_t cap)
{
    const char *v;
    size_t n;

    if (member_raw(s, len, key, &v, &n) != 1 || (n == 4 && memcmp(v, "null", 4) == 0))
        return DIGITS_ABSENT;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return DIGITS_BAD;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return DIGITS_BAD;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return DIGITS_OK;
}

/* The msisdn of a body as "+<digits>". 0, or -1 with err. */
static int read_msisdn(const char *s, size_t len, char *out, size_t cap, char *err)
{
    char digits[DIGITS_MAX];

    switch (member_digits(s, len, "msisdn", digits, sizeof(digits))) {
    case DIGITS_ABSENT: err_set(err, "missing field 'msisdn'"); return -1;
    case DIGITS_BAD: err_set(err, "field 'msisdn' is not an integer"); return -1;
    case DIGITS_OK: break;
    }
    if (strlen(digits) > MSISDN_MAX_DIGITS) {
        err_set(err, "field 'msisdn' has more than %d digits", MSISDN_MAX_DIGITS);
        return -1;
    }
    snprintf(out, cap, "+%s", digits);
    return 0;
}

static const char *header(const struct gateway_http *in, const char *name)
{
    return in->header != NULL ? in->header(in->header_ctx, name) : NULL;
}

/*
 * A claim in comparable form: strings as their value, numbers (and other
 * scalars) as their raw JSON text, so that 4542609045 is never rounded.
 * Returns 1 with *text (owned), 0 if absent or null, -1 for objects/arrays.
 */
static int canonical(const cJSON *obj, const char *raw, size_t raw_len, const char *key,
                     char **text)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *v;
    size_t n;

    *text = NULL;
    if (item == NULL || cJSON_IsNull(item))
        return 0;
    if (cJSON_IsString(item)) {
        *text = strdup(item->valuestring);
        return *text != NULL ? 1 : -1;
    }
    if (cJSON_IsObject(item) || cJSON_IsArray(item) || member_raw(raw, raw_len, key, &v, &n) != 1)
        return -1;
    *text = strndup(v, n);
    return *text != NULL ? 1 : -1;
}

/*
 * The JWT signs its claims, not the body, and carries no exp or iat, so a
 * token seen once could be replayed with any body. The claims are therefore
 * bound to the body: id and msisdn must be present in both and equal (a
 * replay then names the same message id, which dedupe answers once), and the
 * fields Katto acts on (receiver, message, status) must be equal where
 * either side has them.
 */
static int claims_match(const cJSON *claims, const char *claims_raw, size_t claims_len,
                        const struct gateway_http *in, char *err)
{
    static const char *const bound[] = {"id", "msisdn", "receiver", "message", "status"};
    cJSON *body = cJSON_ParseWithLength(in->body != NULL ? in->body : "", in->body_len);
    int rc = 0;

    if (!cJSON_IsObject(body)) {
        err_set(err, "body is not a JSON object");
        cJSON_Delete(body);
        return -1;
    }
    for (size_t i = 0; i < sizeof(bound) / sizeof(bound[0]) && rc == 0; i++) {
        char *a, *b;
        int ka = canonical(claims, claims_raw, claims_len, bound[i], &a);
        int kb = canonical(body, in->body, in->body_len, bound[i], &b);

        if (ka < 0 || kb < 0 || ka != kb || (ka == 1 && strcmp(a, b) != 0) || (i < 2 && ka == 0)) {
            err_set(err, "X-Gwapi-Signature: claim '%s' does not match the body", bound[i]);
            rc = -1;
        }
        free(a);
        free(b);
    }
    cJSON_Delete(body);
    return rc;
}

/* Checks the JOSE header: exactly HS256, and no extension that must be understood. */
static int check_jose_header(const char *b64, size_t n, char *err)
{
    uint8_t raw[JWT_HEADER_MAX];
    size_t len;
    cJSON *h;
    const cJSON *alg;
    int rc = -1;

    if (crypto_base64url_decode(b64, n, raw, sizeof(raw), &len) < 0) {
        err_set(err, "X-Gwapi-Signature: malformed JWT header");
        return -1;
    }
    h = cJSON_ParseWithLength((const char *)raw, len);
    alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    if (!cJSON_IsObject(h))
        err_set(err, "X-Gwapi-Signature: malformed JWT header");
    else if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0)
        err_set(err, "X-Gwapi-Signature: JWT algorithm is not HS256");
    else if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL)
        err_set(err, "X-Gwapi-Signature: JWT has critical extensions");
    else
        rc = 0;
    cJSON_Delete(h);
    return rc;
}

static int verify_jwt(const char *token, const char *secret, const struct gateway_http *in,
                      char *err)
{
    size_t tlen = strlen(token), plen;
    const char *dot1, *dot2;
    uint8_t mac[32], sig[64], *payload = NULL;
    size_t sig_len;
    cJSON *claims = NULL;
    int rc = -1;

    if (tlen > JWT_MAX) {
        err_set(err, "X-Gwapi-Signature is too long");
        return -1;
    }
    dot1 = memchr(token, '.', tlen);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', tlen - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', tlen - (size_t)(dot2 + 1 - token)) != NULL) {
        err_set(err, "X-Gwapi-Signature is not a JWT");
        return -1;
    }
    /* The algorithm is fixed by Katto, never chosen by the token ("alg": "none" attacks). */
    if (check_jose_header(token, (size_t)(dot1 - token), err) < 0)
        return -1;
    if (crypto_base64url_decode(dot2 + 1, tlen - (size_t)(dot2 + 1 - token), sig, sizeof(sig),
                                &sig_len) < 0 ||
        sig_len != sizeof(mac)) {
        err_set(err, "X-Gwapi-Signature: malformed JWT signature");
        return -1;
    }
    crypto_hmac_sha256(secret, strlen(secret), token, (size_t)(dot2 - token), mac);
    if (!crypto_equal(mac, sig, sizeof(mac))) {
        err_set(err, "X-Gwapi-Signature does not match");
        return -1;
    }
    plen = (size_t)(dot2 - dot1 - 1);
    payload = malloc(plen + 1);
    if (payload == NULL) {
        err_set(err, "out of memory");
        return -1;
    }
    if (crypto_base64url_decode(dot1 + 1, plen, payload, plen + 1, &plen) < 0 ||
        !cJSON_IsObject(claims = cJSON_ParseWithLength((const char *)payload, plen))) {
        err_set(err, "X-Gwapi-Signature: malformed JWT claims");
        goto out;
    }
    rc = claims_match(claims, (const char *)payload, plen, in, err);
out:
    cJSON_Delete(claims);
    free(payload);
    return rc;
}

/* "Signature: v1=<hex>" (several comma-separated entries allowed, for key rotation). */
static int verify_v1(const char *value, const char *secret, const struct gateway_http *in,
                     char *err)
{
    uint8_t mac[32];
    char want[65];
    const char *p = value;

    crypto_hmac_sha256(secret, strlen(secret), in->body != NULL ? in->body : "",
                       in->body != NULL ? in->body_len : 0, mac);
    crypto_hex(mac, sizeof(mac), want);
    while (*p != '\0') {
        size_t n;

        while (*p == ' ' || *p == ',')
            p++;
        n = strcspn(p, ", ");
        if (n == 3 + 64 && strncmp(p, "v1=", 3) == 0) {
            char given[65];

            for (size_t i = 0; i < 64; i++)
                given[i] = (char)tolower((unsigned char)p[3 + i]);
            given[64] = '\0';
            if (gateway_secure_equal(given, want))
                return 0;
        }
        p += n;
    }
    err_set(err, "Signature does not match");
    return -1;
}

/*
 * The header present picks the check. When any secret is configured, a
 * request must pass a check made with a configured secret: a request with no
 * header, or only a header whose secret is not configured, is refused. (Were
 * the kind taken from the body instead, a forger could post an envelope
 * without a header whenever only webhook_secret is set.)
 */
static int gwapi_verify(const struct gateway *gw, const struct gateway_http *in, char *err)
{
    const struct config_gatewayapi *c = &gw->cfg->gateways.gatewayapi;
    const char *jwt = header(in, "X-Gwapi-Signature");
    const char *v1 = header(in, "Signature");

    if (!gwapi_can_verify(gw->cfg))
        return 0;
    if (gateway_is_set(jwt) && gateway_is_set(c->webhook_secret))
        return verify_jwt(jwt, c->webhook_secret, in, err);
    if (gateway_is_set(v1) && gateway_is_set(c->status_secret))
        return verify_v1(v1, c->status_secret, in, err);
    err_set(err, "missing %s",
            gateway_is_set(c->webhook_secret) ? "X-Gwapi-Signature" : "Signature");
    return -1;
}

static cJSON *json_body(const struct gateway_http *in, char *err)
{
    static const char json[] = "application/json";
    cJSON *root;

    if (in->content_type == NULL || strncasecmp(in->content_type, json, sizeof(json) - 1) != 0) {
        err_set(err, "expected an %s body", json);
        return NULL;
    }
    root = cJSON_ParseWithLength(in->body != NULL ? in->body : "", in->body_len);
    if (!cJSON_IsObject(root)) {
        err_set(err, "body is not a JSON object");
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static int gwapi_parse_inbound(const struct gateway_http *in, struct gateway_inbound *out,
                               char *err)
{
    cJSON *root;
    const cJSON *message;
    char id[GATEWAY_ID_MAX], from[GATEWAY_NUMBER_MAX], to[GATEWAY_NUMBER_MAX];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if ((root = json_body(in, err)) == NULL)
        return -1;
    message = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (member_digits(in->body, in->body_len, "id", id, sizeof(id)) != DIGITS_OK)
        err_set(err, "missing or malformed field 'id'");
    else if (read_msisdn(in->body, in->body_len, from, sizeof(from), err) < 0)
        ; /* err set */
    else if (member_digits(in->body, in->body_len, "receiver", to, sizeof(to)) != DIGITS_OK)
        err_set(err, "missing or malformed field 'receiver'");
    else if (!cJSON_IsString(message))
        err_set(err, "missing field 'message'");
    else
        rc = gateway_inbound_fill(out, id, from, to, message->valuestring, err);
    cJSON_Delete(root);
    return rc;
}

/*
 * Classic statuses (gateways.md 4.1). EXPIRED and UNDELIVERABLE went to the
 * network and never arrived; REJECTED, DELETED and SKIPPED were never sent.
 * Matched without regard to case, because the newer API's events were only
 * described in prose.
 */
static const struct {
    const char *status;
    enum gateway_delivery delivery;
} statuses[] = {
    {"ACCEPTED", GATEWAY_DELIVERY_QUEUED},     {"SCHEDULED", GATEWAY_DELIVERY_QUEUED},
    {"BUFFERED", GATEWAY_DELIVERY_SENT},       {"ENROUTE", GATEWAY_DELIVERY_SENT},
    {"DELIVERED", GATEWAY_DELIVERY_DELIVERED}, {"UNDELIVERABLE", GATEWAY_DELIVERY_UNDELIVERED},
    {"EXPIRED", GATEWAY_DELIVERY_UNDELIVERED}, {"REJECTED", GATEWAY_DELIVERY_FAILED},
    {"DELETED", GATEWAY_DELIVERY_FAILED},      {"SKIPPED", GATEWAY_DELIVERY_FAILED},
    {"UNKNOWN", GATEWAY_DELIVERY_UNKNOWN},
};

static enum gateway_delivery map_status(const char *s)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcasecmp(statuses[i].status, s) == 0)
            return statuses[i].delivery;
    }
    return GATEWAY_DELIVERY_UNKNOWN;
}

static const char *json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "0x0213: error text", or whichever of the two is present. */
static void status_error(const cJSON *obj, char *out, size_t cap)
{
    const char *code = json_string(obj, "code"), *text = json_string(obj, "error");

    if (code == NULL)
        code = json_string(obj, "error_code");
    if (text == NULL)
        text = json_string(obj, "error_message");
    if (code != NULL && text != NULL)
        snprintf(out, cap, "%s: %s", code, text);
    else
        snprintf(out, cap, "%s", code != NULL ? code : text != NULL ? text : "");
}

/*
 * The newer API's envelope: {"event_type": "message.status.sms", "event":
 * {"msg_id": ..., "status": ...}}. The event's field names come from the
 * prose of the docs only; other event types are accepted and ignored so
 * that GatewayAPI does not retry them for a day.
 */
static int parse_event(const cJSON *root, const char *type, struct gateway_status *out, char *err)
{
    const cJSON *event = cJSON_GetObjectItemCaseSensitive(root, "event");
    const cJSON *id;
    const char *status;
    char idbuf[GATEWAY_ID_MAX], error[128];

    if (strcmp(type, STATUS_EVENT) != 0)
        return gateway_status_fill(out, "", GATEWAY_DELIVERY_UNKNOWN, NULL, err);
    if (!cJSON_IsObject(event)) {
        err_set(err, "missing object 'event'");
        return -1;
    }
    id = cJSON_GetObjectItemCaseSensitive(event, "msg_id");
    if (id == NULL)
        id = cJSON_GetObjectItemCaseSensitive(event, "id");
    if (cJSON_IsString(id) && id->valuestring != NULL) {
        snprintf(idbuf, sizeof(idbuf), "%s", id->valuestring);
    } else if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 9007199254740992.0 &&
               id->valuedouble == (double)(long long)id->valuedouble) {
        snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id->valuedouble);
    } else {
        err_set(err, "missing field 'event.msg_id'");
        return -1;
    }
    if ((status = json_string(event, "status")) == NULL) {
        err_set(err, "missing field 'event.status'");
        return -1;
    }
    status_error(event, error, sizeof(error));
    return gateway_status_fill(out, idbuf, map_status(status), error, err);
}

static int gwapi_parse_status(const struct gateway_http *in, struct gateway_status *out, char *err)
{
    cJSON *root;
    const char *type, *status;
    char id[GATEWAY_ID_MAX], error[128];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if ((root = json_body(in, err)) == NULL)
        return -1;
    if ((type = json_string(root, "event_type")) != NULL) {
        rc = parse_event(root, type, out, err);
    } else if (member_digits(in->body, in->body_len, "id", id, sizeof(id)) != DIGITS_OK) {
        err_set(err, "missing or malformed field 'id'");
    } else if ((status = json_string(root, "status")) == NULL) {
        err_set(err, "missing field 'status'");
    } else {
        status_error(root, error, sizeof(error));
        rc = gateway_status_fill(out, id, map_status(status), error, err);
    }
    cJSON_Delete(root);
    return rc;
}

/* "+358401234567" -> "358401234567": the recipient as GatewayAPI's integer msisdn. */
static int msisdn_digits(const char *to, char *out, size_t cap)
{
    size_t n;

    if (to == NULL || to[0] != '+')
        return -1;
    n = strlen(to + 1);
    if (n < 1 || n > MSISDN_MAX_DIGITS || n >= cap || strspn(to + 1, "0123456789") != n ||
        to[1] == '0')
        return -1;
    memcpy(out, to + 1, n + 1);
    return 0;
}

static int gwapi_build_send(const struct gateway *gw, const struct gateway_message *msg,
                            struct gateway_request *req, char *err)
{
    const struct config_gatewayapi *c = &gw->cfg->gateways.gatewayapi;
    const char *from = gateway_is_set(msg->from) ? msg->from : c->from;
    char digits[MSISDN_MAX_DIGITS + 1];
    struct gsm7_info info;
    cJSON *root = NULL, *recipients = NULL, *recipient = NULL;
    char *printed = NULL;
    size_t n;

    memset(req, 0, sizeof(*req));
    if (!gwapi_configured(gw->cfg)) {
        err_set(err, "gateways.gatewayapi.token must be set");
        return -1;
    }
    if (msisdn_digits(msg->to, digits, sizeof(digits)) < 0) {
        err_set(err, "recipient is not an E.164 number");
        return -1;
    }
    if (msg->text == NULL || gsm7_analyse(msg->text, strlen(msg->text), &info) < 0) {
        err_set(err, "message text is missing or not valid UTF-8");
        return -1;
    }
    root = cJSON_CreateObject();
    if (root == NULL ||
        (gateway_is_set(from) && cJSON_AddStringToObject(root, "sender", from) == NULL) ||
        cJSON_AddStringToObject(root, "message", msg->text) == NULL ||
        (recipients = cJSON_AddArrayToObject(root, "recipients")) == NULL ||
        (recipient = cJSON_CreateObject()) == NULL)
        goto oom;
    cJSON_AddItemToArray(recipients, recipient);
    /* Written as raw digits: a double would do for 15 digits, but raw text cannot round. */
    if (cJSON_AddRawToObject(recipient, "msisdn", digits) == NULL ||
        (gateway_is_set(msg->status_url) &&
         cJSON_AddStringToObject(root, "callback_url", msg->status_url) == NULL) ||
        /* The classic API sends GSM-7 unless told otherwise; it never picks UCS-2 itself. */
        (info.encoding == GSM7_ENC_UCS2 &&
         cJSON_AddStringToObject(root, "encoding", "UCS2") == NULL))
        goto oom;
    printed = cJSON_PrintUnformatted(root);
    if (printed == NULL)
        goto oom;
    req->body = strdup(printed);
    req->url = gateway_url(c->base_url, "/rest/mtsms");
    if (req->body == NULL || req->url == NULL ||
        gateway_request_add_header(req, "Content-Type: application/json") < 0 ||
        gateway_request_add_header(req, "Accept: application/json") < 0)
        goto oom;
    req->body_len = strlen(req->body);
    /* The API token is the user name and the password is empty. */
    n = strlen(c->token) + 2;
    req->userpwd = malloc(n);
    if (req->userpwd == NULL)
        goto oom;
    snprintf(req->userpwd, n, "%s:", c->token);
    explicit_bzero(printed, strlen(printed));
    cJSON_free(printed);
    cJSON_Delete(root);
    return 0;
oom:
    if (printed != NULL) {
        explicit_bzero(printed, strlen(printed));
        cJSON_free(printed);
    }
    cJSON_Delete(root);
    gateway_request_release(req);
    err_set(err, "out of memory");
    return -1;
}

/*
 * GatewayAPI's error JSON: {"code": "0x0213", "message": "Unauthorized
 * IP-address: %1", "variables": ["1.2.3.4"]}, with %1.. filled in.
 */
static void error_from_json(const cJSON *root, struct gateway_send_result *out)
{
    const char *code = json_string(root, "code"), *message = json_string(root, "message");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variables");
    char text[512];
    size_t n = 0;

    if (message == NULL)
        return;
    if (code != NULL)
        n = (size_t)snprintf(text, sizeof(text), "%s: ", code);
    for (const char *p = message; *p != '\0' && n < sizeof(text) - 1; p++) {
        const cJSON *v;

        if (p[0] == '%' && p[1] >= '1' && p[1] <= '9' &&
            cJSON_IsString(v = cJSON_GetArrayItem(vars, p[1] - '1'))) {
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", v->valuestring);
            p++;
        } else {
            text[n++] = *p;
        }
        if (n > sizeof(text) - 1)
            n = sizeof(text) - 1;
    }
    text[n < sizeof(text) ? n : sizeof(text) - 1] = '\0';
    gateway_copy_text(out->error, sizeof(out->error), text, strlen(text));
}

/* The first id of {"ids": [421332671], ...}, as decimal text (never through a double). */
static int first_id(const char *body, size_t len, char *out, size_t cap)
{
    const char *v;
    size_t n, i, start;

    if (member_raw(body, len, "ids", &v, &n) != 1 || n == 0 || v[0] != '[')
        return -1;
    i = skip_ws(v, n, 1);
    if (i < n && v[i] == '"')
        i++;
    start = i;
    while (i < n && v[i] >= '0' && v[i] <= '9')
        i++;
    if (i == start || i - start >= cap)
        return -1;
    memcpy(out, v + start, i - start);
    out[i - start] = '\0';
    return 0;
}

static void gwapi_parse_send(long http_status, const char *body, size_t len,
                             const char *retry_after, struct gateway_send_result *out)
{
    cJSON *root;

    gateway_send_classify(http_status, retry_after, out);
    root = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
    if (out->outcome != GATEWAY_SEND_OK) {
        if (cJSON_IsObject(root))
            error_from_json(root, out);
        else if (body != NULL && len > 0)
            gateway_copy_text(out->error, sizeof(out->error), body, len);
        cJSON_Delete(root);
        return;
    }
    /*
     * A 2xx means the message was accepted even if the body cannot be read;
     * a retry would text the person twice, so it counts as sent without an
     * id (and so without delivery reports).
     */
    if (!cJSON_IsObject(root) || first_id(body, len, out->msg_id, sizeof(out->msg_id)) < 0)
        snprintf(out->error, sizeof(out->error), "http %ld without a message id", http_status);
    cJSON_Delete(root);
}

/* GatewayAPI wants any 2xx, quickly (5 s); the body is ignored. */
static void gwapi_ack_inbound(const struct gateway *gw, const char *inline_reply,
                              struct gateway_ack *out)
{
    (void)gw;
    (void)inline_reply;
    memset(out, 0, sizeof(*out));
    out->status = 200;
}

const struct gateway_ops gateway_gatewayapi = {
    .name = "gatewayapi",
    .sms_path = "/webhooks/gatewayapi/sms",
    .status_path = "/webhooks/gatewayapi/status",
    .eu = true,
    .retries_webhooks = true,
    .configured = gwapi_configured,
    .can_verify = gwapi_can_verify,
    .verify = gwapi_verify,
    .parse_inbound = gwapi_parse_inbound,
    .parse_status = gwapi_parse_status,
    .build_send = gwapi_build_send,
    .parse_send = gwapi_parse_send,
    .ack_inbound = gwapi_ack_inbound,
};
