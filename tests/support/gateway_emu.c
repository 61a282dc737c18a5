/*
 * gateway_emu.c: a loopback emulator of the SMS gateways' send APIs, for the
 * integration tests. One evhttp server answers Twilio, 46elks, GatewayAPI and
 * Africa's Talking on the same port, in each gateway's wire format (see
 * ../shared/gateways.md), checks their credentials, and records every request
 * it receives. A control API under /_emu/ lists and clears the record, makes
 * the next sends fail in a chosen way (5xx, 429 with Retry-After, garbage,
 * closed connection, no answer, slow answer) and posts signed delivery reports
 * back to Katto. It never contacts anything but the URLs a test gives it.
 *
 *   gateway_emu --port-file FILE [--port P] [--twilio-sid SID --twilio-token T]
 *               [--elks-user U --elks-pass P] [--gwapi-token G] [--gwapi-secret S]
 *               [--at-key K --at-user U]
 *
 * Control API: GET /_emu/requests (the record, a JSON array), POST /_emu/reset,
 * POST /_emu/fail {"mode", "count", "retry_after", "delay_ms", "gateway"} (queues
 * a failure phase), POST /_emu/report {"gateway", "id", "status", "url",
 * "fields"} (answers with Katto's own status). Exits 0 on SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define EMU_MAX_BODY (1024 * 1024)
#define EMU_REPORT_TIMEOUT_S 10
#define EMU_MAX_PHASES 64

/* A request held without an answer (mode timeout), answered late (slow) or to be closed. */
struct held {
    struct evhttp_request *req;
    struct event *timer; /* NULL while held forever */
    int status;          /* slow: the reply to send when the timer fires */
    const char *ctype;   /* slow: static string */
    char *body;          /* slow: malloc'd */
    int retry_after;     /* slow: > 0 adds Retry-After */
    struct emu *emu;     /* back pointer for the timer callback */
    struct held *next;
};

/* A delivery report in flight: Katto's answer goes back to the test's request. */
struct report {
    struct evhttp_request *test_req; /* the POST /_emu/report to answer; NULL once answered */
    struct evhttp_connection *evcon; /* ours: freed from a timer after the answer */
    struct emu *emu;
    struct report *next;
};

/* One POST /_emu/fail: how the next sends are answered. */
struct phase {
    char mode[16];    /* "ok", "timeout", "garbage", "close", "slow" or a status "400".."599" */
    int remaining;    /* sends left in this phase; -1 = until told otherwise */
    int retry_after;  /* seconds, for 429 */
    int delay_ms;     /* for slow */
    char gateway[16]; /* "" = every gateway */
};

struct emu {
    struct event_base *base;
    struct evhttp *http;
    const char *twilio_sid, *twilio_token; /* borrowed from argv */
    const char *elks_user, *elks_pass;
    const char *gwapi_token, *gwapi_secret;
    const char *at_key, *at_user;
    cJSON *records; /* array, arrival order */
    long seq;
    uint64_t gwapi_next_id;
    struct phase phases[EMU_MAX_PHASES]; /* queued failure phases, head first */
    int nphases;
    struct held *held;
    struct report *reports;
};

/* The parts of one send request every personality needs. */
struct call {
    struct emu *emu;
    struct evhttp_request *req;
    const char *gateway_path; /* path of the request (borrowed from the parsed URI) */
    const char *query;        /* may be NULL */
    cJSON *fields;            /* decoded form or JSON body, NULL if malformed; owned by rec */
    cJSON *rec;               /* the record, owned by emu->records */
};

struct reply {
    int status;
    const char *ctype; /* static string */
    char *body;        /* malloc'd */
    int retry_after;   /* > 0 adds Retry-After */
    const char *www_authenticate;
};

struct personality {
    const char *name;
    int ok_status; /* what a successful send answers */
    bool json;     /* body is JSON, not a form */
    const char *to_key, *from_key, *text_key;
    bool (*match)(const char *path);
    void (*send)(struct call *c, struct reply *r); /* checks auth and fields, fills r and rec */
    void (*error)(struct reply *r, int status, const char *message); /* gateway-style error */
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (p == NULL) {
        fprintf(stderr, "gateway_emu: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static char *json_print(const cJSON *j)
{
    char *p = cJSON_PrintUnformatted(j);
    char *s;

    if (p == NULL)
        abort();
    s = xstrdup(p);
    cJSON_free(p);
    return s;
}

/* Writes 2*nbytes random lower-case hex digits and a NUL into out. */
static void rand_hex(char *out, size_t nbytes)
{
    unsigned char raw[32];

    if (nbytes > sizeof(raw) || RAND_bytes(raw, (int)nbytes) != 1)
        abort();
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Now in UTC, as RFC 2822 (Twilio's dates) or as 46elks' ISO form without a zone. */
static void utc_time(char *out, size_t len, bool rfc2822)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    if (rfc2822)
        strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    else
        strftime(out, len, "%Y-%m-%dT%H:%M:%S.000000", &tm);
}

/* '+' followed by 6 to 15 digits. */
static bool valid_e164(const char *s)
{
    size_t n = 0;

    if (s == NULL || *s++ != '+')
        return false;
    for (; s[n] != '\0'; n++) {
        if (!isdigit((unsigned char)s[n]))
            return false;
    }
    return n >= 6 && n <= 15;
}

/* Decodes %XX and '+' in s[0..len); NULL if an escape is bad or decodes to NUL. */
static char *pct_decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            unsigned int v;
            char hex[3];

            if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2])) {
                free(out);
                return NULL;
            }
            hex[0] = s[i + 1];
            hex[1] = s[i + 2];
            hex[2] = '\0';
            v = (unsigned int)strtoul(hex, NULL, 16);
            if (v == 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)v;
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/*
 * Decodes an application/x-www-form-urlencoded body into a cJSON object of
 * strings, in order (a repeated name appears twice). NULL if malformed.
 */
static cJSON *form_decode(const char *s, size_t len)
{
    cJSON *obj = cJSON_CreateObject();
    size_t i = 0;

    while (i < len) {
        size_t end = i, eq;
        char *name, *value;

        while (end < len && s[end] != '&')
            end++;
        for (eq = i; eq < end && s[eq] != '='; eq++)
            ;
        if (end > i) {
            name = pct_decode(s + i, eq - i);
            value = eq < end ? pct_decode(s + eq + 1, end - eq - 1) : xstrdup("");
            if (name == NULL || value == NULL || name[0] == '\0') {
                free(name);
                free(value);
                cJSON_Delete(obj);
                return NULL;
            }
            cJSON_AddItemToObject(obj, name, cJSON_CreateString(value));
            free(name);
            free(value);
        }
        i = end + 1;
    }
    return obj;
}

/* Appends name=value to a form body, both URL-encoded ('+' for space, like Twilio). */
static void form_add(struct evbuffer *out, const char *name, const char *value)
{
    char *n = evhttp_uriencode(name, -1, 1);
    char *v = evhttp_uriencode(value, -1, 1);

    evbuffer_add_printf(out, "%s%s=%s", evbuffer_get_length(out) > 0 ? "&" : "", n, v);
    free(n);
    free(v);
}

/*
 * Rough segment count: GSM-7 (160 / 153 per part, extension characters count
 * two) unless a character is outside GSM 03.38, then UCS-2 (70 / 67 UTF-16 units).
 */
static int count_segments(const char *text)
{
    static const uint32_t gsm_basic[] = {
        0xA3,  0xA5,  0xE8,  0xE9,  0xF9,  0xEC,  0xF2,  0xC7,  0xD8,  0xF8, 0xC5, 0xE5, 0x394,
        0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF, 0xC9,
        0xA4,  0xA1,  0xC4,  0xD6,  0xD1,  0xDC,  0xA7,  0xBF,  0xE4,  0xF6, 0xF1, 0xFC, 0xE0};
    const unsigned char *p = (const unsigned char *)text;
    size_t septets = 0, units = 0;
    bool gsm = true;

    while (*p != '\0') {
        uint32_t cp;
        int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 1;

        cp = n == 1 ? *p : (uint32_t)(*p & (0x7F >> n));
        for (int k = 1; k < n; k++) {
            if ((p[k] & 0xC0) != 0x80) {
                n = k;
                cp = 0xFFFD;
                break;
            }
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        p += n;
        units += cp >= 0x10000 ? 2 : 1;
        if (cp == '\n' || cp == '\r' ||
            (cp >= 0x20 && cp < 0x7F && cp != '`' && strchr("^{}\\[~]|", (int)cp) == NULL)) {
            septets += 1;
        } else if ((cp < 0x7F && strchr("^{}\\[~]|", (int)cp) != NULL && cp != 0) || cp == 0x20AC ||
                   cp == 0x0C) {
            septets += 2;
        } else {
            bool found = false;

            for (size_t i = 0; i < sizeof(gsm_basic) / sizeof(gsm_basic[0]); i++)
                found = found || gsm_basic[i] == cp;
            septets += 1;
            gsm = gsm && found;
        }
    }
    if (gsm)
        return septets <= 160 ? 1 : (int)((septets + 152) / 153);
    return units <= 70 ? 1 : (int)((units + 66) / 67);
}

static const char *header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* True if the request carries HTTP Basic credentials user:pass (compared in constant time). */
static bool basic_auth_ok(struct evhttp_request *req, const char *user, const char *pass)
{
    const char *h = header(req, "Authorization");
    unsigned char dec[1024];
    char *expected;
    size_t n;
    int m;
    bool ok;

    if (h == NULL || user == NULL || pass == NULL || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    for (h += 6; *h == ' '; h++)
        ;
    n = strlen(h);
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(dec))
        return false;
    if ((m = EVP_DecodeBlock(dec, (const unsigned char *)h, (int)n)) < 0)
        return false;
    m -= (h[n - 1] == '=') + (h[n - 2] == '=');
    expected = xprintf("%s:%s", user, pass);
    ok = (size_t)m == strlen(expected) && CRYPTO_memcmp(dec, expected, (size_t)m) == 0;
    free(expected);
    return ok;
}

static bool secret_equal(const char *got, const char *want)
{
    return got != NULL && want != NULL && strlen(got) == strlen(want) &&
           CRYPTO_memcmp(got, want, strlen(want)) == 0;
}

static const char *field(const cJSON *fields, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(fields, name);

    return cJSON_IsString(f) ? f->valuestring : NULL;
}

static void set_reply(struct reply *r, int status, const char *ctype, char *body)
{
    free(r->body);
    r->status = status;
    r->ctype = ctype;
    r->body = body;
}

static void set_json_reply(struct reply *r, int status, cJSON *j)
{
    set_reply(r, status, "application/json", json_print(j));
    cJSON_Delete(j);
}

static void accept_record(struct call *c, const char *id)
{
    cJSON_ReplaceItemInObject(c->rec, "accepted", cJSON_CreateTrue());
    cJSON_ReplaceItemInObject(c->rec, "id", cJSON_CreateString(id));
}

/* Twilio: POST /2010-04-01/Accounts/{sid}/Messages.json */

static bool twilio_match(const char *path)
{
    static const char prefix[] = "/2010-04-01/Accounts/";
    const char *rest = path + sizeof(prefix) - 1;
    const char *slash;

    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0 || (slash = strchr(rest, '/')) == NULL)
        return false;
    return slash > rest && strcmp(slash, "/Messages.json") == 0;
}

static void twilio_error_code(struct reply *r, int status, int code, const char *message)
{
    cJSON *j = cJSON_CreateObject();
    char more[80];

    snprintf(more, sizeof(more), "https://www.twilio.com/docs/errors/%d", code);
    cJSON_AddNumberToObject(j, "code", code);
    cJSON_AddStringToObject(j, "message", message);
    cJSON_AddStringToObject(j, "more_info", more);
    cJSON_AddNumberToObject(j, "status", status);
    set_json_reply(r, status, j);
}

static void twilio_error(struct reply *r, int status, const char *message)
{
    twilio_error_code(r, status, status == 429 ? 20429 : status >= 500 ? 20500 : 20001, message);
}

static void twilio_send(struct call *c, struct reply *r)
{
    struct emu *emu = c->emu;
    const char *sid_start = c->gateway_path + strlen("/2010-04-01/Accounts/");
    size_t sid_len = (size_t)(strchr(sid_start, '/') - sid_start);
    const char *to, *from, *body;
    char sid[35], date[64], uri[160], segments[12];
    cJSON *j;

    if (emu->twilio_sid == NULL || strlen(emu->twilio_sid) != sid_len ||
        strncmp(sid_start, emu->twilio_sid, sid_len) != 0 ||
        !basic_auth_ok(c->req, emu->twilio_sid, emu->twilio_token)) {
        twilio_error_code(r, 401, 20003, "Authenticate");
        r->www_authenticate = "Basic realm=\"Twilio API\"";
        return;
    }
    if (c->fields == NULL) {
        twilio_error_code(r, 400, 21620, "Invalid form body");
        return;
    }
    to = field(c->fields, "To");
    from = field(c->fields, "From");
    body = field(c->fields, "Body");
    if (to == NULL || to[0] == '\0') {
        twilio_error_code(r, 400, 21604, "A 'To' phone number is required.");
        return;
    }
    if (!valid_e164(to)) {
        twilio_error_code(r, 400, 21211, "Invalid 'To' Phone Number");
        return;
    }
    if ((from == NULL || from[0] == '\0') && field(c->fields, "MessagingServiceSid") == NULL) {
        twilio_error_code(r, 400, 21603, "A 'From' phone number is required.");
        return;
    }
    if (body == NULL || body[0] == '\0') {
        twilio_error_code(r, 400, 21602, "Message body is required.");
        return;
    }
    if (strlen(body) > 1600 * 4) {
        twilio_error_code(r, 400, 21617,
                          "The concatenated message body exceeds the 1600 "
                          "character limit.");
        return;
    }
    sid[0] = 'S';
    sid[1] = 'M';
    rand_hex(sid + 2, 16);
    utc_time(date, sizeof(date), true);
    snprintf(uri, sizeof(uri), "/2010-04-01/Accounts/%s/Messages/%s.json", emu->twilio_sid, sid);
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "account_sid", emu->twilio_sid);
    cJSON_AddStringToObject(j, "api_version", "2010-04-01");
    cJSON_AddStringToObject(j, "body", body);
    cJSON_AddStringToObject(j, "date_created", date);
    cJSON_AddNullToObject(j, "date_sent");
    cJSON_AddStringToObject(j, "date_updated", date);
    cJSON_AddStringToObject(j, "direction", "outbound-api");
    cJSON_AddNullToObject(j, "error_code");
    cJSON_AddNullToObject(j, "error_message");
    if (from != NULL)
        cJSON_AddStringToObject(j, "from", from);
    else
        cJSON_AddNullToObject(j, "from");
    cJSON_AddNullToObject(j, "messaging_service_sid");
    cJSON_AddStringToObject(j, "num_media", "0");
    snprintf(segments, sizeof(segments), "%d", count_segments(body));
    cJSON_AddStringToObject(j, "num_segments", segments);
    cJSON_AddNullToObject(j, "price");
    cJSON_AddStringToObject(j, "price_unit", "USD");
    cJSON_AddStringToObject(j, "sid", sid);
    cJSON_AddStringToObject(j, "status", "queued");
    cJSON_AddStringToObject(j, "to", to);
    cJSON_AddStringToObject(j, "uri", uri);
    set_json_reply(r, 201, j);
    accept_record(c, sid);
}

/* 46elks: POST /a1/sms */

static bool elks_match(const char *path)
{
    return strcmp(path, "/a1/sms") == 0;
}

static void elks_error(struct reply *r, int status, const char *message)
{
    /* 46elks answers errors as short plain text. */
    set_reply(r, status, "text/plain; charset=utf-8", xstrdup(message));
}

static void elks_json_error(struct reply *r, int status, const char *message)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "message", message);
    set_json_reply(r, status, j);
}

static void elks_send(struct call *c, struct reply *r)
{
    const char *to, *from, *message;
    char id[34], created[64];
    int parts;
    cJSON *j;

    if (!basic_auth_ok(c->req, c->emu->elks_user, c->emu->elks_pass)) {
        elks_error(r, 401, "API access requires Basic HTTP authentication. Read the docs.");
        r->www_authenticate = "Basic realm=\"46elks API\"";
        return;
    }
    if (c->fields == NULL) {
        elks_error(r, 400, "Invalid form body");
        return;
    }
    to = field(c->fields, "to");
    from = field(c->fields, "from");
    message = field(c->fields, "message");
    if (to == NULL) {
        elks_error(r, 400, "Missing key to");
        return;
    }
    if (from == NULL) {
        elks_error(r, 400, "Missing key from");
        return;
    }
    if (message == NULL || message[0] == '\0') {
        elks_error(r, 400, "Missing key message");
        return;
    }
    if (!valid_e164(to)) {
        elks_error(r, 400, "Invalid to number");
        return;
    }
    id[0] = 's';
    rand_hex(id + 1, 16);
    utc_time(created, sizeof(created), false);
    parts = count_segments(message);
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", "created");
    cJSON_AddStringToObject(j, "direction", "outgoing");
    cJSON_AddStringToObject(j, "from", from);
    cJSON_AddStringToObject(j, "created", created);
    cJSON_AddNumberToObject(j, "parts", parts);
    cJSON_AddStringToObject(j, "to", to);
    cJSON_AddNumberToObject(j, "cost", 3500 * parts);
    cJSON_AddStringToObject(j, "message", message);
    cJSON_AddStringToObject(j, "id", id);
    set_json_reply(r, 200, j);
    accept_record(c, id);
}

/* GatewayAPI: POST /rest/mtsms (JSON) */

static bool gwapi_match(const char *path)
{
    return strcmp(path, "/rest/mtsms") == 0;
}

static void gwapi_error(struct reply *r, int status, const char *message)
{
    cJSON *j = cJSON_CreateObject();
    char uuid[33];

    rand_hex(uuid, 16);
    cJSON_AddStringToObject(j, "incident_uuid", uuid);
    cJSON_AddStringToObject(j, "message", message);
    set_json_reply(r, status, j);
}

/* The ?token= query parameter, GatewayAPI's alternative to Basic auth; malloc'd or NULL. */
static char *query_token(const char *query)
{
    struct evkeyvalq q;
    const char *t;
    char *out = NULL;

    if (query == NULL || evhttp_parse_query_str(query, &q) != 0)
        return NULL;
    if ((t = evhttp_find_header(&q, "token")) != NULL)
        out = xstrdup(t);
    evhttp_clear_headers(&q);
    return out;
}

static void gwapi_send(struct call *c, struct reply *r)
{
    struct emu *emu = c->emu;
    char *qtoken = query_token(c->query);
    bool auth = basic_auth_ok(c->req, emu->gwapi_token, "") ||
                (qtoken != NULL && secret_equal(qtoken, emu->gwapi_token));
    const char *ctype = header(c->req, "Content-Type");
    const cJSON *recipients, *rcpt, *encoding, *sender, *message, *callback;
    int count = 0;
    char id[24];
    cJSON *j, *usage;

    free(qtoken);
    if (!auth) {
        gwapi_error(r, 401, "Unauthorized");
        return;
    }
    if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
        gwapi_error(r, 415, "Unsupported Content-Type: the emulator takes application/json");
        return;
    }
    if (c->fields == NULL || !cJSON_IsObject(c->fields)) {
        gwapi_error(r, 422, "Invalid JSON");
        return;
    }
    message = cJSON_GetObjectItemCaseSensitive(c->fields, "message");
    sender = cJSON_GetObjectItemCaseSensitive(c->fields, "sender");
    recipients = cJSON_GetObjectItemCaseSensitive(c->fields, "recipients");
    encoding = cJSON_GetObjectItemCaseSensitive(c->fields, "encoding");
    callback = cJSON_GetObjectItemCaseSensitive(c->fields, "callback_url");
    if (!cJSON_IsString(message) || message->valuestring[0] == '\0') {
        gwapi_error(r, 400, "message is required");
        return;
    }
    if (sender != NULL && !cJSON_IsString(sender)) {
        gwapi_error(r, 400, "sender must be a string");
        return;
    }
    if (encoding != NULL &&
        (!cJSON_IsString(encoding) || (strcmp(encoding->valuestring, "UTF8") != 0 &&
                                       strcmp(encoding->valuestring, "UCS2") != 0))) {
        gwapi_error(r, 400, "encoding must be UTF8 or UCS2");
        return;
    }
    if (callback != NULL && !cJSON_IsString(callback)) {
        gwapi_error(r, 400, "callback_url must be a string");
        return;
    }
    if (!cJSON_IsArray(recipients) || cJSON_GetArraySize(recipients) == 0) {
        gwapi_error(r, 400, "recipients is required");
        return;
    }
    cJSON_ArrayForEach(rcpt, recipients)
    {
        const cJSON *msisdn = cJSON_GetObjectItemCaseSensitive(rcpt, "msisdn");

        /* The emulator insists on a JSON integer (no '+'), as the classic docs say. */
        if (!cJSON_IsNumber(msisdn) || msisdn->valuedouble < 100000 ||
            msisdn->valuedouble > 999999999999999.0 ||
            msisdn->valuedouble != (double)(int64_t)msisdn->valuedouble) {
            gwapi_error(r, 400, "recipients.msisdn must be a JSON integer");
            return;
        }
        count++;
    }
    snprintf(id, sizeof(id), "%llu", (unsigned long long)emu->gwapi_next_id);
    j = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "ids"),
                         cJSON_CreateNumber((double)emu->gwapi_next_id));
    emu->gwapi_next_id++;
    usage = cJSON_AddObjectToObject(j, "usage");
    cJSON_AddObjectToObject(usage, "countries");
    cJSON_AddStringToObject(usage, "currency", "EUR");
    cJSON_AddNumberToObject(usage, "total_cost", 0.035 * count);
    set_json_reply(r, 200, j);
    accept_record(c, id);
}

/* Africa's Talking: POST /version1/messaging */

static bool at_match(const char *path)
{
    return strcmp(path, "/version1/messaging") == 0;
}

static void at_error(struct reply *r, int status, const char *message)
{
    set_reply(r, status, "text/plain; charset=utf-8", xstrdup(message));
}

static void at_json_error(struct reply *r, int status, const char *message)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "message", message);
    set_json_reply(r, status, j);
}

/* The XML answer AT gives when the client does not ask for JSON. */
static char *at_xml(const cJSON *data)
{
    const cJSON *rcpt;
    struct evbuffer *b = evbuffer_new();
    size_t n;
    char *s;

    evbuffer_add_printf(b,
                        "<?xml version='1.0' encoding='UTF-8'?><AfricasTalkingResponse>"
                        "<SMSMessageData><Message>%s</Message><Recipients>",
                        cJSON_GetObjectItem(data, "Message")->valuestring);
    cJSON_ArrayForEach(rcpt, cJSON_GetObjectItem(data, "Recipients"))
    {
        char *num = evhttp_htmlescape(cJSON_GetObjectItem(rcpt, "number")->valuestring);

        evbuffer_add_printf(b,
                            "<Recipient><number>%s</number><cost>%s</cost><status>%s</status>"
                            "<statusCode>%d</statusCode><messageId>%s</messageId></Recipient>",
                            num, cJSON_GetObjectItem(rcpt, "cost")->valuestring,
                            cJSON_GetObjectItem(rcpt, "status")->valuestring,
                            cJSON_GetObjectItem(rcpt, "statusCode")->valueint,
                            cJSON_GetObjectItem(rcpt, "messageId")->valuestring);
        free(num);
    }
    evbuffer_add_printf(b, "</Recipients></SMSMessageData></AfricasTalkingResponse>");
    n = evbuffer_get_length(b);
    s = xmalloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

static void at_send(struct call *c, struct reply *r)
{
    struct emu *emu = c->emu;
    const char *to, *message, *username, *accept = header(c->req, "Accept");
    char *list, *save = NULL, summary[96], first_id[64] = "";
    int sent = 0, total = 0;
    cJSON *j, *data, *rcpts;

    if (!secret_equal(header(c->req, "apiKey"), emu->at_key)) {
        at_error(r, 401, "The supplied authentication is invalid");
        return;
    }
    if (c->fields == NULL) {
        at_error(r, 400, "Invalid form body");
        return;
    }
    username = field(c->fields, "username");
    to = field(c->fields, "to");
    message = field(c->fields, "message");
    if (username == NULL || emu->at_user == NULL || strcmp(username, emu->at_user) != 0) {
        at_error(r, 401, "The supplied authentication is invalid");
        return;
    }
    if (to == NULL || to[0] == '\0') {
        at_error(r, 400, "Request is missing required form field 'to'");
        return;
    }
    if (message == NULL || message[0] == '\0') {
        at_error(r, 400, "Request is missing required form field 'message'");
        return;
    }
    j = cJSON_CreateObject();
    data = cJSON_AddObjectToObject(j, "SMSMessageData");
    rcpts = cJSON_CreateArray();
    list = xstrdup(to);
    for (char *num = strtok_r(list, ",", &save); num != NULL; num = strtok_r(NULL, ",", &save)) {
        cJSON *o = cJSON_CreateObject();
        bool ok = valid_e164(num);
        char id[64];

        snprintf(id, sizeof(id), "ATXid_");
        rand_hex(id + 6, 16);
        total++;
        cJSON_AddNumberToObject(o, "statusCode", ok ? 101 : 403);
        cJSON_AddStringToObject(o, "number", num);
        cJSON_AddStringToObject(o, "status", ok ? "Success" : "InvalidPhoneNumber");
        cJSON_AddStringToObject(o, "cost", ok ? "KES 0.8000" : "0");
        cJSON_AddStringToObject(o, "messageId", ok ? id : "None");
        if (ok && sent++ == 0)
            snprintf(first_id, sizeof(first_id), "%s", id);
        cJSON_AddItemToArray(rcpts, o);
    }
    free(list);
    if (sent > 0)
        snprintf(summary, sizeof(summary), "Sent to %d/%d Total Cost: KES %.4f", sent, total,
                 0.8 * sent);
    else
        snprintf(summary, sizeof(summary), "Sent to 0/%d Total Cost: 0", total);
    cJSON_AddStringToObject(data, "Message", summary);
    cJSON_AddItemToObject(data, "Recipients", rcpts);
    if (accept != NULL && strstr(accept, "application/json") != NULL) {
        set_json_reply(r, 201, j);
    } else {
        set_reply(r, 201, "application/xml", at_xml(data));
        cJSON_Delete(j);
    }
    if (sent > 0)
        accept_record(c, first_id);
}

static const struct personality personalities[] = {
    {.name = "twilio",
     .ok_status = 201,
     .to_key = "To",
     .from_key = "From",
     .text_key = "Body",
     .match = twilio_match,
     .send = twilio_send,
     .error = twilio_error},
    {.name = "46elks",
     .ok_status = 200,
     .to_key = "to",
     .from_key = "from",
     .text_key = "message",
     .match = elks_match,
     .send = elks_send,
     .error = elks_json_error},
    {.name = "gatewayapi",
     .ok_status = 200,
     .json = true,
     .from_key = "sender",
     .text_key = "message",
     .match = gwapi_match,
     .send = gwapi_send,
     .error = gwapi_error},
    {.name = "africastalking",
     .ok_status = 201,
     .to_key = "to",
     .from_key = "from",
     .text_key = "message",
     .match = at_match,
     .send = at_send,
     .error = at_json_error},
};

static void add_str_or_null(cJSON *o, const char *key, const char *value)
{
    if (value != NULL)
        cJSON_AddStringToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

/* The GatewayAPI recipients as "+digits[,+digits...]" (malloc'd), or NULL. */
static char *gwapi_recipients(const cJSON *fields)
{
    const cJSON *rcpt;
    struct evbuffer *b;
    char *s = NULL;
    size_t n;

    if (!cJSON_IsArray(cJSON_GetObjectItem(fields, "recipients")))
        return NULL;
    b = evbuffer_new();
    cJSON_ArrayForEach(rcpt, cJSON_GetObjectItem(fields, "recipients"))
    {
        const cJSON *m = cJSON_GetObjectItem(rcpt, "msisdn");

        if (cJSON_IsNumber(m))
            evbuffer_add_printf(b, "%s+%.0f", evbuffer_get_length(b) ? "," : "", m->valuedouble);
        else if (cJSON_IsString(m))
            evbuffer_add_printf(b, "%s%s", evbuffer_get_length(b) ? "," : "", m->valuestring);
    }
    if ((n = evbuffer_get_length(b)) > 0) {
        s = xmalloc(n + 1);
        evbuffer_remove(b, s, n);
        s[n] = '\0';
    }
    evbuffer_free(b);
    return s;
}

static char *body_copy(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char *s = xmalloc(n + 1);

    evbuffer_copyout(in, s, n);
    s[n] = '\0';
    *len = n;
    return s;
}

/* Starts a record with what every request has; appended to emu->records. */
static cJSON *record_new(struct emu *emu, struct evhttp_request *req, const char *gateway,
                         const char *path, const char *query, const char *body)
{
    cJSON *rec = cJSON_CreateObject();
    static const char *const methods[] = {"GET",     "POST",  "HEAD",    "PUT",  "DELETE",
                                          "OPTIONS", "TRACE", "CONNECT", "PATCH"};
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *method = "OTHER";

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (cmd == (enum evhttp_cmd_type)(1 << i))
            method = methods[i];
    }
    cJSON_AddNumberToObject(rec, "seq", (double)++emu->seq);
    add_str_or_null(rec, "gateway", gateway);
    cJSON_AddStringToObject(rec, "method", method);
    cJSON_AddStringToObject(rec, "path", path);
    add_str_or_null(rec, "query", query);
    add_str_or_null(rec, "authorization", header(req, "Authorization"));
    add_str_or_null(rec, "api_key", header(req, "apiKey"));
    add_str_or_null(rec, "content_type", header(req, "Content-Type"));
    add_str_or_null(rec, "accept", header(req, "Accept"));
    add_str_or_null(rec, "user_agent", header(req, "User-Agent"));
    add_str_or_null(rec, "twilio_signature", header(req, "X-Twilio-Signature"));
    add_str_or_null(rec, "gwapi_signature", header(req, "X-Gwapi-Signature"));
    cJSON_AddStringToObject(rec, "body", body);
    cJSON_AddNullToObject(rec, "fields");
    cJSON_AddNullToObject(rec, "to");
    cJSON_AddNullToObject(rec, "from");
    cJSON_AddNullToObject(rec, "text");
    cJSON_AddStringToObject(rec, "mode", "ok");
    cJSON_AddNumberToObject(rec, "status", 0);
    cJSON_AddFalseToObject(rec, "accepted");
    cJSON_AddNullToObject(rec, "id");
    cJSON_AddItemToArray(emu->records, rec);
    return rec;
}

static void send_reply(struct evhttp_request *req, const struct reply *r)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();
    char ra[16];

    if (r->ctype != NULL)
        evhttp_add_header(out, "Content-Type", r->ctype);
    if (r->retry_after > 0) {
        snprintf(ra, sizeof(ra), "%d", r->retry_after);
        evhttp_add_header(out, "Retry-After", ra);
    }
    if (r->www_authenticate != NULL)
        evhttp_add_header(out, "WWW-Authenticate", r->www_authenticate);
    if (r->body != NULL)
        evbuffer_add(b, r->body, strlen(r->body));
    evhttp_send_reply(req, r->status, NULL, b);
    evbuffer_free(b);
}

static void send_json(struct evhttp_request *req, int status, cJSON *j)
{
    struct reply r = {.status = status, .ctype = "application/json", .body = json_print(j)};

    cJSON_Delete(j);
    send_reply(req, &r);
    free(r.body);
}

static void send_message(struct evhttp_request *req, int status, const char *key, const char *msg)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, key, msg);
    send_json(req, status, j);
}

/*
 * Lets go of a held request: a live connection is closed (so the client sees
 * it drop); one the client already left is freed by an empty reply.
 */
static void held_drop(struct held *h)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(h->req);

    if (h->timer != NULL)
        event_free(h->timer);
    if (evcon != NULL)
        evhttp_connection_free(evcon);
    else
        evhttp_send_error(h->req, 500, NULL);
    free(h->body);
    free(h);
}

static void held_unlink(struct emu *emu, struct held *h)
{
    for (struct held **p = &emu->held; *p != NULL; p = &(*p)->next) {
        if (*p == h) {
            *p = h->next;
            return;
        }
    }
}

static void held_drop_all(struct emu *emu)
{
    while (emu->held != NULL) {
        struct held *h = emu->held;

        emu->held = h->next;
        held_drop(h);
    }
}

/* Timer of a slow reply (status > 0) or of a connection to close (status 0). */
static void held_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct held *h = arg;
    struct reply r = {
        .status = h->status, .ctype = h->ctype, .body = h->body, .retry_after = h->retry_after};

    (void)fd;
    (void)what;
    held_unlink(h->emu, h);
    if (h->status > 0) {
        event_free(h->timer);
        send_reply(h->req, &r);
        free(h->body);
        free(h);
    } else {
        held_drop(h);
    }
}

/* Holds req; with delay_ms >= 0 a timer fires then (sending r if given, else closing). */
static void hold(struct emu *emu, struct evhttp_request *req, int delay_ms, struct reply *r)
{
    struct held *h = calloc(1, sizeof(*h));

    if (h == NULL)
        abort();
    h->req = req;
    h->emu = emu;
    if (r != NULL) {
        h->status = r->status;
        h->ctype = r->ctype;
        h->body = r->body;
        h->retry_after = r->retry_after;
        r->body = NULL;
    }
    if (delay_ms >= 0) {
        struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};

        h->timer = evtimer_new(emu->base, held_timer_cb, h);
        evtimer_add(h->timer, &tv);
    }
    h->next = emu->held;
    emu->held = h;
}

/*
 * Takes one send from the head phase of the failure queue and returns that
 * phase (mode "ok" if the queue is empty or the head is for another gateway).
 */
static struct phase take_phase(struct emu *emu, const char *gateway)
{
    struct phase ok = {.mode = "ok", .remaining = -1}, head;

    if (emu->nphases == 0 ||
        (emu->phases[0].gateway[0] != '\0' && strcmp(emu->phases[0].gateway, gateway) != 0))
        return ok;
    head = emu->phases[0];
    if (emu->phases[0].remaining > 0 && --emu->phases[0].remaining == 0) {
        emu->nphases--;
        memmove(&emu->phases[0], &emu->phases[1], (size_t)emu->nphases * sizeof(emu->phases[0]));
    }
    return head;
}

static void log_request(const cJSON *rec)
{
    fprintf(stderr, "gateway_emu: #%d %s %s %s -> %d (%s%s)\n",
            cJSON_GetObjectItem(rec, "seq")->valueint,
            cJSON_IsString(cJSON_GetObjectItem(rec, "gateway"))
                ? cJSON_GetObjectItem(rec, "gateway")->valuestring
                : "-",
            cJSON_GetObjectItem(rec, "method")->valuestring,
            cJSON_GetObjectItem(rec, "path")->valuestring,
            cJSON_GetObjectItem(rec, "status")->valueint,
            cJSON_GetObjectItem(rec, "mode")->valuestring,
            cJSON_IsTrue(cJSON_GetObjectItem(rec, "accepted")) ? ", accepted" : "");
}

static void handle_send(struct emu *emu, struct evhttp_request *req, const struct personality *p,
                        const char *path, const char *query)
{
    struct call c = {.emu = emu, .req = req, .gateway_path = path, .query = query};
    struct reply r = {0};
    const char *ctype = header(req, "Content-Type");
    struct phase ph = {.mode = "ok"};
    const char *mode = ph.mode;
    size_t len;
    char *body = body_copy(req, &len);
    char *to = NULL;

    c.rec = record_new(emu, req, p->name, path, query, body);
    if (p->json)
        c.fields = cJSON_ParseWithLength(body, len);
    else if (ctype != NULL && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0)
        c.fields = form_decode(body, len);
    else
        c.fields = cJSON_CreateObject(); /* a gateway sees no parameters in other types */
    free(body);
    if (c.fields != NULL) {
        cJSON_ReplaceItemInObject(c.rec, "fields", c.fields);
        to = p->json ? gwapi_recipients(c.fields) : NULL;
        if (to == NULL && p->to_key != NULL && field(c.fields, p->to_key) != NULL)
            to = xstrdup(field(c.fields, p->to_key));
        if (to != NULL)
            cJSON_ReplaceItemInObject(c.rec, "to", cJSON_CreateString(to));
        if (field(c.fields, p->from_key) != NULL)
            cJSON_ReplaceItemInObject(c.rec, "from",
                                      cJSON_CreateString(field(c.fields, p->from_key)));
        if (field(c.fields, p->text_key) != NULL)
            cJSON_ReplaceItemInObject(c.rec, "text",
                                      cJSON_CreateString(field(c.fields, p->text_key)));
        free(to);
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        p->error(&r, 405, "Method not allowed");
    } else if ((ph = take_phase(emu, p->name), mode = ph.mode, strcmp(mode, "ok") == 0) ||
               strcmp(mode, "slow") == 0) {
        p->send(&c, &r);
    } else if (isdigit((unsigned char)mode[0])) {
        int status = atoi(mode);

        p->error(&r, status, status == 429 ? "Too Many Requests" : "Emulated failure");
        if (status == 429)
            r.retry_after = ph.retry_after;
    } else if (strcmp(mode, "garbage") == 0) {
        set_reply(&r, p->ok_status, "text/html", xstrdup("<html>oops"));
    }
    cJSON_ReplaceItemInObject(c.rec, "mode", cJSON_CreateString(mode));
    cJSON_ReplaceItemInObject(c.rec, "status", cJSON_CreateNumber(r.status));
    log_request(c.rec);
    if (strcmp(mode, "timeout") == 0)
        hold(emu, req, -1, NULL);
    else if (strcmp(mode, "close") == 0)
        hold(emu, req, 0, NULL); /* closed from a timer: not inside evhttp's callback */
    else if (strcmp(mode, "slow") == 0)
        hold(emu, req, ph.delay_ms, &r);
    else
        send_reply(req, &r);
    free(r.body);
}

/* GET /_emu/requests */
static void handle_requests(struct emu *emu, struct evhttp_request *req)
{
    send_json(req, 200, cJSON_Duplicate(emu->records, true));
}

/* POST /_emu/reset: forget the record, stop failing, drop held requests. */
static void handle_reset(struct emu *emu, struct evhttp_request *req)
{
    cJSON_Delete(emu->records);
    emu->records = cJSON_CreateArray();
    emu->nphases = 0;
    held_drop_all(emu);
    send_message(req, 200, "ok", "reset");
}

static cJSON *parse_body_json(struct evhttp_request *req)
{
    size_t len;
    char *body = body_copy(req, &len);
    cJSON *j = cJSON_ParseWithLength(body, len);

    free(body);
    return cJSON_IsObject(j) ? j : (cJSON_Delete(j), NULL);
}

static bool valid_mode(const char *m)
{
    static const char *const named[] = {"ok", "timeout", "garbage", "close", "slow"};

    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (strcmp(m, named[i]) == 0)
            return true;
    }
    /* Or an HTTP status 400..599, written as three digits. */
    return strlen(m) == 3 && (m[0] == '4' || m[0] == '5') && isdigit((unsigned char)m[1]) &&
           isdigit((unsigned char)m[2]);
}

/*
 * POST /_emu/fail {"mode", "count", "retry_after", "delay_ms", "gateway"}:
 * queues a phase of count sends (default 1; -1 = until told otherwise).
 * Phases run in order. "ok" with count <= 0 (or none) clears the queue and
 * drops held requests; "ok" with count > 0 queues that many normal answers.
 */
static void handle_fail(struct emu *emu, struct evhttp_request *req)
{
    cJSON *j = parse_body_json(req);
    const cJSON *mode = cJSON_GetObjectItem(j, "mode");
    const cJSON *count = cJSON_GetObjectItem(j, "count");
    const cJSON *retry = cJSON_GetObjectItem(j, "retry_after");
    const cJSON *delay = cJSON_GetObjectItem(j, "delay_ms");
    const cJSON *gw = cJSON_GetObjectItem(j, "gateway");
    struct phase *ph;

    if (!cJSON_IsString(mode) || !valid_mode(mode->valuestring) ||
        (count != NULL && !cJSON_IsNumber(count)) || (retry != NULL && !cJSON_IsNumber(retry)) ||
        (delay != NULL && !cJSON_IsNumber(delay)) ||
        (gw != NULL && (!cJSON_IsString(gw) || strlen(gw->valuestring) >= sizeof(ph->gateway)))) {
        cJSON_Delete(j);
        send_message(req, 400, "error",
                     "expected {\"mode\": ok|timeout|garbage|close|slow|400..599, "
                     "\"count\": N, \"retry_after\": S, \"delay_ms\": D, \"gateway\": G}");
        return;
    }
    if (strcmp(mode->valuestring, "ok") == 0 && (count == NULL || count->valueint <= 0)) {
        emu->nphases = 0;
        held_drop_all(emu);
        cJSON_Delete(j);
        send_message(req, 200, "ok", "failures cleared");
        return;
    }
    if (emu->nphases == EMU_MAX_PHASES) {
        cJSON_Delete(j);
        send_message(req, 400, "error", "too many queued phases");
        return;
    }
    ph = &emu->phases[emu->nphases];
    snprintf(ph->mode, sizeof(ph->mode), "%s", mode->valuestring);
    ph->remaining = count == NULL ? 1 : count->valueint < 0 ? -1 : count->valueint;
    ph->retry_after = retry != NULL ? retry->valueint : 1;
    ph->delay_ms = delay != NULL && delay->valueint >= 0 ? delay->valueint : 1000;
    snprintf(ph->gateway, sizeof(ph->gateway), "%s", gw != NULL ? gw->valuestring : "");
    cJSON_Delete(j);
    if (ph->remaining == 0) {
        send_message(req, 200, "ok", "empty phase ignored");
        return;
    }
    emu->nphases++;
    send_message(req, 200, "ok", "phase queued");
}

/* The accepted record with this message id, or NULL. */
static const cJSON *find_accepted(const struct emu *emu, const char *id)
{
    const cJSON *rec;

    cJSON_ArrayForEach(rec, emu->records)
    {
        const cJSON *rid = cJSON_GetObjectItem(rec, "id");

        if (cJSON_IsTrue(cJSON_GetObjectItem(rec, "accepted")) && cJSON_IsString(rid) &&
            strcmp(rid->valuestring, id) == 0)
            return rec;
    }
    return NULL;
}

static const char *rec_str(const cJSON *rec, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(rec, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
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

static void base64(const unsigned char *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* base64url without padding of in, malloc'd. */
static char *base64url(const unsigned char *in, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    size_t n;

    base64(in, len, out);
    for (n = 0; out[n] != '\0'; n++) {
        if (out[n] == '+')
            out[n] = '-';
        else if (out[n] == '/')
            out[n] = '_';
    }
    while (n > 0 && out[n - 1] == '=')
        out[--n] = '\0';
    return out;
}

/* X-Twilio-Signature: base64(HMAC-SHA1(token, url + sorted name+value)). */
static void twilio_signature(const char *token, const char *url, struct param *params, size_t n,
                             char out[64])
{
    struct evbuffer *b = evbuffer_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    qsort(params, n, sizeof(*params), param_cmp);
    evbuffer_add(b, url, strlen(url));
    for (size_t i = 0; i < n; i++) {
        evbuffer_add(b, params[i].name, strlen(params[i].name));
        evbuffer_add(b, params[i].value, strlen(params[i].value));
    }
    HMAC(EVP_sha1(), token, (int)strlen(token), evbuffer_pullup(b, -1), evbuffer_get_length(b), md,
         &mdlen);
    base64(md, mdlen, out);
    evbuffer_free(b);
}

/* HS256 JWT over claims, malloc'd. */
static char *jwt_hs256(const char *secret, const char *claims)
{
    static const char head[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *h = base64url((const unsigned char *)head, strlen(head));
    char *c = base64url((const unsigned char *)claims, strlen(claims));
    char *input = xprintf("%s.%s", h, c);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *sig, *jwt;

    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)input, strlen(input), md,
         &mdlen);
    sig = base64url(md, mdlen);
    jwt = xprintf("%s.%s", input, sig);
    free(h);
    free(c);
    free(input);
    free(sig);
    return jwt;
}

static void report_unlink(struct emu *emu, struct report *rep)
{
    for (struct report **p = &emu->reports; *p != NULL; p = &(*p)->next) {
        if (*p == rep) {
            *p = rep->next;
            return;
        }
    }
}

/* Frees a finished report's connection: never from inside libevent's callback on it. */
static void report_reap_cb(evutil_socket_t fd, short what, void *arg)
{
    struct report *rep = arg;

    (void)fd;
    (void)what;
    report_unlink(rep->emu, rep);
    evhttp_connection_free(rep->evcon);
    free(rep);
}

static void report_finish(struct report *rep)
{
    struct timeval now = {0, 0};

    rep->test_req = NULL;
    if (event_base_once(rep->emu->base, -1, EV_TIMEOUT, report_reap_cb, rep, &now) != 0)
        abort();
}

/*
 * Katto answered the report (resp has a status) or the connection failed
 * (resp is NULL or has status 0): tell the test.
 */
static void report_done_cb(struct evhttp_request *resp, void *arg)
{
    struct report *rep = arg;
    int code = resp != NULL ? evhttp_request_get_response_code(resp) : 0;

    if (rep->test_req == NULL)
        return;
    if (code <= 0) {
        send_message(rep->test_req, 502, "error", "emulator: could not deliver the report");
    } else {
        struct evbuffer *in = evhttp_request_get_input_buffer(resp);
        size_t n = evbuffer_get_length(in);
        struct reply r = {
            .status = code, .ctype = "text/plain; charset=utf-8", .body = xmalloc(n + 1)};

        evbuffer_copyout(in, r.body, n);
        r.body[n] = '\0';
        evhttp_add_header(evhttp_request_get_output_headers(rep->test_req), "X-Emu-Report",
                          "forwarded");
        send_reply(rep->test_req, &r);
        free(r.body);
    }
    report_finish(rep);
}

/* Adds the extra "fields" of a report request as form parameters (strings or numbers). */
static size_t extra_params(const cJSON *extra, struct param *params, size_t n, size_t max,
                           char numbuf[][32])
{
    const cJSON *f;

    cJSON_ArrayForEach(f, extra)
    {
        if (n >= max || f->string == NULL)
            break;
        if (cJSON_IsString(f)) {
            params[n++] = (struct param){f->string, f->valuestring};
        } else if (cJSON_IsNumber(f)) {
            snprintf(numbuf[n], 32, "%.0f", f->valuedouble);
            params[n] = (struct param){f->string, numbuf[n]};
            n++;
        }
    }
    return n;
}

/*
 * POST /_emu/report {"gateway", "id", "status", "url", "fields"?}: posts the
 * gateway's delivery report for message id to url and answers with Katto's
 * status and body (502 if Katto could not be reached).
 */
static void handle_report(struct emu *emu, struct evhttp_request *req)
{
    cJSON *j = parse_body_json(req);
    const char *gateway = rec_str(j, "gateway"), *status = rec_str(j, "status");
    const char *url = rec_str(j, "url");
    const cJSON *idj = cJSON_GetObjectItem(j, "id"), *extra = cJSON_GetObjectItem(j, "fields");
    char id[64], when[64], numbuf[32][32], signature[64];
    struct param params[32];
    size_t n = 0;
    const cJSON *rec;
    const char *to = NULL, *from = NULL, *ctype = "application/x-www-form-urlencoded";
    struct evhttp_uri *uri = NULL;
    struct evhttp_request *out;
    struct evkeyvalq *oh;
    struct evbuffer *body;
    struct report *rep;
    char *target = NULL, *hostport = NULL, *jwt = NULL;
    int port;

    if (cJSON_IsString(idj))
        snprintf(id, sizeof(id), "%s", idj->valuestring);
    else if (cJSON_IsNumber(idj))
        snprintf(id, sizeof(id), "%.0f", idj->valuedouble);
    else
        id[0] = '\0';
    if (gateway == NULL || status == NULL || url == NULL || id[0] == '\0' ||
        (uri = evhttp_uri_parse(url)) == NULL || evhttp_uri_get_scheme(uri) == NULL ||
        strcmp(evhttp_uri_get_scheme(uri), "http") != 0 || evhttp_uri_get_host(uri) == NULL) {
        if (uri != NULL)
            evhttp_uri_free(uri);
        cJSON_Delete(j);
        send_message(req, 400, "error",
                     "expected {\"gateway\", \"id\", \"status\", \"url\": \"http://...\", "
                     "\"fields\"?}");
        return;
    }
    if ((rec = find_accepted(emu, id)) != NULL) {
        to = rec_str(rec, "to");
        from = rec_str(rec, "from");
    }
    body = evbuffer_new();
    if (strcmp(gateway, "twilio") == 0) {
        params[n++] = (struct param){"MessageSid", id};
        params[n++] = (struct param){"SmsSid", id};
        params[n++] = (struct param){"MessageStatus", status};
        params[n++] = (struct param){"SmsStatus", status};
        params[n++] = (struct param){"AccountSid", emu->twilio_sid ? emu->twilio_sid : ""};
        params[n++] = (struct param){"ApiVersion", "2010-04-01"};
        if (to != NULL)
            params[n++] = (struct param){"To", to};
        if (from != NULL)
            params[n++] = (struct param){"From", from};
    } else if (strcmp(gateway, "46elks") == 0) {
        params[n++] = (struct param){"id", id};
        params[n++] = (struct param){"status", status};
        if (strcmp(status, "delivered") == 0) {
            utc_time(when, sizeof(when), false);
            params[n++] = (struct param){"delivered", when};
        }
    } else if (strcmp(gateway, "africastalking") == 0) {
        params[n++] = (struct param){"id", id};
        params[n++] = (struct param){"status", status};
        params[n++] = (struct param){"networkCode", "63902"};
        params[n++] = (struct param){"retryCount", "0"};
        if (to != NULL)
            params[n++] = (struct param){"phoneNumber", to};
    } else if (strcmp(gateway, "gatewayapi") == 0) {
        cJSON *dlr = cJSON_CreateObject();
        const cJSON *f;
        char *text;

        cJSON_AddNumberToObject(dlr, "id", strtod(id, NULL));
        if (to != NULL && strchr(to, ',') == NULL)
            cJSON_AddNumberToObject(dlr, "msisdn", strtod(to[0] == '+' ? to + 1 : to, NULL));
        cJSON_AddNumberToObject(dlr, "time", (double)time(NULL));
        cJSON_AddStringToObject(dlr, "status", status);
        cJSON_ArrayForEach(f, extra)
        {
            if (f->string != NULL) {
                cJSON_DeleteItemFromObjectCaseSensitive(dlr, f->string);
                cJSON_AddItemToObject(dlr, f->string, cJSON_Duplicate(f, true));
            }
        }
        text = json_print(dlr);
        cJSON_Delete(dlr);
        evbuffer_add(body, text, strlen(text));
        if (emu->gwapi_secret != NULL)
            jwt = jwt_hs256(emu->gwapi_secret, text);
        free(text);
        ctype = "application/json";
    } else {
        evbuffer_free(body);
        evhttp_uri_free(uri);
        cJSON_Delete(j);
        send_message(req, 400, "error", "unknown gateway");
        return;
    }
    if (strcmp(gateway, "gatewayapi") != 0) {
        n = extra_params(extra, params, n, sizeof(params) / sizeof(params[0]), numbuf);
        for (size_t i = 0; i < n; i++)
            form_add(body, params[i].name, params[i].value);
        if (strcmp(gateway, "twilio") == 0)
            twilio_signature(emu->twilio_token ? emu->twilio_token : "", url, params, n, signature);
    }

    port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
    target = xprintf(
        "%s%s%s",
        evhttp_uri_get_path(uri) && evhttp_uri_get_path(uri)[0] ? evhttp_uri_get_path(uri) : "/",
        evhttp_uri_get_query(uri) ? "?" : "",
        evhttp_uri_get_query(uri) ? evhttp_uri_get_query(uri) : "");
    hostport = xprintf("%s:%d", evhttp_uri_get_host(uri), port);
    rep = calloc(1, sizeof(*rep));
    if (rep == NULL)
        abort();
    rep->emu = emu;
    rep->test_req = req;
    rep->evcon =
        evhttp_connection_base_new(emu->base, NULL, evhttp_uri_get_host(uri), (uint16_t)port);
    if (rep->evcon == NULL)
        abort();
    evhttp_connection_set_timeout(rep->evcon, EMU_REPORT_TIMEOUT_S);
    evhttp_connection_set_retries(rep->evcon, 0);
    /* Listed first: a refused connect calls report_done_cb inside evhttp_make_request. */
    rep->next = emu->reports;
    emu->reports = rep;
    out = evhttp_request_new(report_done_cb, rep);
    oh = evhttp_request_get_output_headers(out);
    evhttp_add_header(oh, "Host", hostport);
    evhttp_add_header(oh, "Content-Type", ctype);
    evhttp_add_header(oh, "Connection", "close");
    evhttp_add_header(oh, "User-Agent", "katto-gateway-emu");
    if (strcmp(gateway, "twilio") == 0)
        evhttp_add_header(oh, "X-Twilio-Signature", signature);
    if (jwt != NULL)
        evhttp_add_header(oh, "X-Gwapi-Signature", jwt);
    if (evhttp_uri_get_userinfo(uri) != NULL) {
        /* http://user:pass@host/...: 46elks' documented way to protect a callback. */
        const char *ui = evhttp_uri_get_userinfo(uri);
        char *b64 = xmalloc(4 * ((strlen(ui) + 2) / 3) + 1), *auth;

        base64((const unsigned char *)ui, strlen(ui), b64);
        auth = xprintf("Basic %s", b64);
        evhttp_add_header(oh, "Authorization", auth);
        free(auth);
        free(b64);
    }
    evbuffer_add_buffer(evhttp_request_get_output_buffer(out), body);
    if (evhttp_make_request(rep->evcon, out, EVHTTP_REQ_POST, target) != 0) {
        /* Only when no socket could be made: the request is left to us. */
        evhttp_request_free(out);
        send_message(req, 502, "error", "emulator: could not start the report request");
        report_finish(rep);
    }
    fprintf(stderr, "gateway_emu: report %s %s -> %s\n", gateway, status, url);
    evbuffer_free(body);
    evhttp_uri_free(uri);
    free(target);
    free(hostport);
    free(jwt);
    cJSON_Delete(j);
}

static void handle_control(struct emu *emu, struct evhttp_request *req, const char *path)
{
    bool get = evhttp_request_get_command(req) == EVHTTP_REQ_GET;
    bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;

    if (strcmp(path, "/_emu/requests") == 0 && get)
        handle_requests(emu, req);
    else if (strcmp(path, "/_emu/reset") == 0 && post)
        handle_reset(emu, req);
    else if (strcmp(path, "/_emu/fail") == 0 && post)
        handle_fail(emu, req);
    else if (strcmp(path, "/_emu/report") == 0 && post)
        handle_report(emu, req);
    else
        send_message(req, 404, "error", "unknown control route or method");
}

static void request_cb(struct evhttp_request *req, void *arg)
{
    struct emu *emu = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path =
        uri != NULL && evhttp_uri_get_path(uri) != NULL ? evhttp_uri_get_path(uri) : "/";
    const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
    const char *ctype;
    size_t len;
    char *body;
    cJSON *rec, *fields;

    if (strncmp(path, "/_emu/", 6) == 0) {
        handle_control(emu, req, path);
        return;
    }
    for (size_t i = 0; i < sizeof(personalities) / sizeof(personalities[0]); i++) {
        if (personalities[i].match(path)) {
            handle_send(emu, req, &personalities[i], path, query);
            return;
        }
    }
    /* Anything else is recorded too (a report posted here, a wrong path). */
    body = body_copy(req, &len);
    rec = record_new(emu, req, NULL, path, query, body);
    ctype = header(req, "Content-Type");
    if (ctype != NULL && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0 &&
        (fields = form_decode(body, len)) != NULL)
        cJSON_ReplaceItemInObject(rec, "fields", fields);
    else if (ctype != NULL && strncasecmp(ctype, "application/json", 16) == 0 &&
             (fields = cJSON_ParseWithLength(body, len)) != NULL)
        cJSON_ReplaceItemInObject(rec, "fields", fields);
    free(body);
    cJSON_ReplaceItemInObject(rec, "mode", cJSON_CreateString("unknown"));
    cJSON_ReplaceItemInObject(rec, "status", cJSON_CreateNumber(404));
    log_request(rec);
    send_message(req, 404, "error", "no such route in the gateway emulator");
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct emu *emu = arg;

    (void)sig;
    (void)what;
    event_base_loopbreak(emu->base);
}

static int write_port_file(const char *path, int port)
{
    char *tmp = xprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = -1;

    /* Written then renamed, so a reader never sees a partial number. */
    if (f != NULL && fprintf(f, "%d\n", port) > 0 && fclose(f) == 0 && rename(tmp, path) == 0)
        rc = 0;
    else if (f != NULL)
        fclose(f);
    free(tmp);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: gateway_emu --port-file FILE [--port P] [--twilio-sid SID] "
                    "[--twilio-token T]\n"
                    "                   [--elks-user U] [--elks-pass P] [--gwapi-token G] "
                    "[--gwapi-secret S]\n"
                    "                   [--at-key K] [--at-user U]\n");
}

int main(int argc, char **argv)
{
    struct emu emu = {0};
    struct {
        const char *flag;
        const char **dst;
    } opts[] = {
        {"--twilio-sid", &emu.twilio_sid},   {"--twilio-token", &emu.twilio_token},
        {"--elks-user", &emu.elks_user},     {"--elks-pass", &emu.elks_pass},
        {"--gwapi-token", &emu.gwapi_token}, {"--gwapi-secret", &emu.gwapi_secret},
        {"--at-key", &emu.at_key},           {"--at-user", &emu.at_user},
    };
    const char *port_file = NULL, *port_arg = "0";
    struct evhttp_bound_socket *bound;
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    struct event *sigterm, *sigint;
    unsigned char seed[4];
    char *end;
    long port;

    for (int i = 1; i < argc; i++) {
        bool known = false;

        if (i + 1 >= argc) {
            usage();
            return 64;
        }
        if (strcmp(argv[i], "--port-file") == 0) {
            port_file = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--port") == 0) {
            port_arg = argv[++i];
            continue;
        }
        for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
            if (strcmp(argv[i], opts[k].flag) == 0) {
                *opts[k].dst = argv[++i];
                known = true;
                break;
            }
        }
        if (!known) {
            usage();
            return 64;
        }
    }
    port = strtol(port_arg, &end, 10);
    if (port_file == NULL || *end != '\0' || port < 0 || port > 65535) {
        usage();
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    /* GatewayAPI ids: random start, so a restarted emulator does not repeat them. */
    if (RAND_bytes(seed, sizeof(seed)) != 1)
        return 1;
    emu.gwapi_next_id = 1000000000ULL + ((uint64_t)seed[0] << 24 | (uint64_t)seed[1] << 16 |
                                         (uint64_t)seed[2] << 8 | seed[3]) *
                                            1000ULL;
    emu.records = cJSON_CreateArray();
    emu.base = event_base_new();
    emu.http = emu.base != NULL ? evhttp_new(emu.base) : NULL;
    if (emu.http == NULL) {
        fprintf(stderr, "gateway_emu: cannot create the event loop\n");
        return 1;
    }
    evhttp_set_max_body_size(emu.http, EMU_MAX_BODY);
    evhttp_set_gencb(emu.http, request_cb, &emu);
    bound = evhttp_bind_socket_with_handle(emu.http, "127.0.0.1", (uint16_t)port);
    if (bound == NULL ||
        getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &salen) != 0) {
        fprintf(stderr, "gateway_emu: cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
        evhttp_free(emu.http);
        event_base_free(emu.base);
        cJSON_Delete(emu.records);
        return 1;
    }
    if (write_port_file(port_file, ntohs(sa.sin_port)) != 0) {
        fprintf(stderr, "gateway_emu: cannot write '%s': %s\n", port_file, strerror(errno));
        evhttp_free(emu.http);
        event_base_free(emu.base);
        cJSON_Delete(emu.records);
        return 1;
    }
    fprintf(stderr, "gateway_emu: listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
    sigterm = evsignal_new(emu.base, SIGTERM, signal_cb, &emu);
    sigint = evsignal_new(emu.base, SIGINT, signal_cb, &emu);
    evsignal_add(sigterm, NULL);
    evsignal_add(sigint, NULL);
    event_base_dispatch(emu.base);

    /* Reports in flight: drop their connections (no callbacks) and their test requests. */
    while (emu.reports != NULL) {
        struct report *rep = emu.reports;

        emu.reports = rep->next;
        evhttp_connection_free(rep->evcon);
        if (rep->test_req != NULL)
            hold(&emu, rep->test_req, -1, NULL);
        free(rep);
    }
    held_drop_all(&emu);
    evhttp_free(emu.http);
    event_free(sigterm);
    event_free(sigint);
    event_base_free(emu.base);
    cJSON_Delete(emu.records);
    fprintf(stderr, "gateway_emu: stopped\n");
    return 0;
}
