/*
 * gateway.h: one interface for every SMS gateway (curl's Curl_protocol and
 * libevent's eventop idea). Each gateway_<name>.c fills one const struct
 * gateway_ops; gateway.c keeps the registry. An adapter only translates: it
 * parses and verifies webhooks into Katto's structs and builds the HTTP
 * request for a send. It does no I/O, so every adapter is unit-tested
 * against the vendor's published examples.
 *
 * Wire formats: ../shared/gateways.md (and each vendor's docs named there).
 */
#ifndef KATTO_GATEWAY_H
#define KATTO_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define GATEWAY_ID_MAX 128    /* a gateway's message id */
#define GATEWAY_NUMBER_MAX 32 /* E.164 with '+', or a short code / sender id */
#define GATEWAY_MAX_PARAMS 64 /* form fields in one webhook */
#define GATEWAY_MAX_HEADERS 8 /* headers in one send request */

/* A webhook as the adapter sees it: borrowed views into the HTTP request. */
struct gateway_http {
    const char *public_url;   /* the URL the gateway called, as it signed it: public_url
                                 from configuration + path + raw query */
    const char *query;        /* raw query string, or NULL */
    const char *content_type; /* header value, or NULL */
    const char *body;         /* raw body (NUL-terminated copy), body_len bytes */
    size_t body_len;
    const char *(*header)(const void *ctx, const char *name); /* request header lookup */
    const void *header_ctx;
    /* Decoded form fields of an application/x-www-form-urlencoded body, in received order. */
    struct {
        char *name, *value;
    } params[GATEWAY_MAX_PARAMS];
    size_t nparams;
};

/* An inbound SMS, normalised. */
struct gateway_inbound {
    char msg_id[GATEWAY_ID_MAX];   /* the gateway's id: dedupe key with the gateway name */
    char from[GATEWAY_NUMBER_MAX]; /* sender in E.164 with '+': used to reply, stored encrypted */
    char to[GATEWAY_NUMBER_MAX];   /* our number or short code */
    char *text;                    /* owned (free with gateway_inbound_release); valid UTF-8 */
};

enum gateway_delivery {
    GATEWAY_DELIVERY_QUEUED, /* accepted by the gateway, not yet sent */
    GATEWAY_DELIVERY_SENT,
    GATEWAY_DELIVERY_DELIVERED,
    GATEWAY_DELIVERY_FAILED,
    GATEWAY_DELIVERY_UNDELIVERED,
    GATEWAY_DELIVERY_UNKNOWN, /* a status Katto does not map: ignored */
};

/* A delivery report. */
struct gateway_status {
    char msg_id[GATEWAY_ID_MAX];
    enum gateway_delivery delivery;
    char error[128]; /* the gateway's error code or text, "" if none */
};

/* What to send. */
struct gateway_message {
    const char *to;         /* E.164 with '+' */
    const char *from;       /* configured sender, may be "" */
    const char *text;       /* UTF-8; the adapter decides the encoding flags its API needs */
    const char *status_url; /* where delivery reports should go, or NULL */
};

/* An HTTP request built by an adapter; all strings owned by the struct. */
struct gateway_request {
    char *url;
    char *body;
    size_t body_len;
    char *headers[GATEWAY_MAX_HEADERS]; /* "Name: value" */
    size_t nheaders;
    char *userpwd; /* "user:password" for HTTP basic auth, or NULL */
};

enum gateway_send_outcome {
    GATEWAY_SEND_OK,    /* accepted; msg_id set */
    GATEWAY_SEND_RETRY, /* try again later (429, 5xx, garbage that may hide success) */
    GATEWAY_SEND_FAIL,  /* permanent (other 4xx, rejected recipient): do not retry */
};

struct gateway_send_result {
    enum gateway_send_outcome outcome;
    char msg_id[GATEWAY_ID_MAX];
    long retry_after; /* seconds from Retry-After, 0 if none */
    int segments;     /* parts reported by the gateway, 0 if unknown */
    char error[256];  /* gateway's code and message for the log and the row */
};

/* The webhook's answer: status, content type and body (static or owned per field). */
struct gateway_ack {
    int status;
    const char *content_type; /* NULL for no body */
    char *body;               /* owned; NULL for none */
};

struct gateway {
    const struct gateway_ops *ops;
    const struct config *cfg; /* kept: the whole configuration (credentials, public_url) */
};

struct gateway_ops {
    const char *name;        /* "twilio": configuration key, log and metric label */
    const char *sms_path;    /* inbound SMS route, e.g. "/webhooks/twilio/sms" */
    const char *status_path; /* delivery-report route, or NULL */
    bool eu;                 /* processes data inside the EU (README) */
    /*
     * True if the gateway retries an inbound webhook answered 5xx
     * (../shared/gateways.md): then a 503 loses nothing. False if it does not,
     * or documents no retry: a message Katto cannot store is then lost.
     */
    bool retries_webhooks;

    /* True if credentials for sending are configured. */
    bool (*configured)(const struct config *cfg);

    /* True if inbound webhooks can be authenticated (a signing secret or route token is set). */
    bool (*can_verify)(const struct config *cfg);

    /*
     * Authenticates a webhook (signature, or route token, compared in constant
     * time). 0 if authentic, -1 with err if not. When can_verify() is false it
     * returns 0 (start-up has warned loudly).
     */
    int (*verify)(const struct gateway *gw, const struct gateway_http *in, char *err);

    /* Parses an inbound SMS webhook. 0, or -1 with err (missing field, invalid UTF-8...). */
    int (*parse_inbound)(const struct gateway_http *in, struct gateway_inbound *out, char *err);

    /* Parses a delivery report. 0, or -1 with err. NULL when the gateway has none. */
    int (*parse_status)(const struct gateway_http *in, struct gateway_status *out, char *err);

    /* Builds the send request. 0, or -1 with err (missing credentials). */
    int (*build_send)(const struct gateway *gw, const struct gateway_message *msg,
                      struct gateway_request *req, char *err);

    /* Reads the send response (status, body, Retry-After header value or NULL). */
    void (*parse_send)(long http_status, const char *body, size_t len, const char *retry_after,
                       struct gateway_send_result *out);

    /*
     * The answer to an inbound webhook. inline_reply is the text to send back
     * in the response where the gateway supports it (46elks, Twilio's TwiML),
     * else NULL; out->body stays NULL where it cannot carry one.
     */
    void (*ack_inbound)(const struct gateway *gw, const char *inline_reply,
                        struct gateway_ack *out);
};

extern const struct gateway_ops gateway_console;
extern const struct gateway_ops gateway_twilio;
extern const struct gateway_ops gateway_46elks;
extern const struct gateway_ops gateway_gatewayapi;
extern const struct gateway_ops gateway_africastalking;

/* The registry: every gateway, NULL-terminated; and lookup by name (NULL if unknown). */
extern const struct gateway_ops *const gateway_all[];
const struct gateway_ops *gateway_find(const char *name);

/* Helpers shared by adapters. */

/*
 * Decodes an x-www-form-urlencoded body (in->body, in->body_len bytes) into
 * in->params, replacing any already there: '&' separates fields (empty ones
 * are skipped), '+' is a space, %XX a byte; a field without '=' has the value
 * "". Returns -1 with err on a malformed %-escape, a NUL byte, invalid UTF-8
 * or more than GATEWAY_MAX_PARAMS fields (in->params is then empty). The
 * form gateways' verify and parse functions read in->params, so the caller
 * decodes a form body with this before calling them.
 */
int gateway_parse_form(struct gateway_http *in, char *err);

/* Wipes and frees in->params (they may hold phone numbers); the borrowed views are left alone. */
void gateway_http_release(struct gateway_http *in);

/* True if s is a configured (non-empty) setting. */
bool gateway_is_set(const char *s);

/* True if in carries a form body; otherwise false with err. */
bool gateway_form_body(const struct gateway_http *in, char *err);

/* The first value of form field name, or NULL with err "missing field 'name'". */
const char *gateway_required(const struct gateway_http *in, const char *name, char *err);

/*
 * Parses a form-encoded inbound SMS whose id, sender, recipient and text are
 * in the named fields (each required; the text may be empty). 0, or -1 with err.
 */
int gateway_parse_form_inbound(const struct gateway_http *in, const char *id_field,
                               const char *from_field, const char *to_field, const char *text_field,
                               struct gateway_inbound *out, char *err);

/* The first value of a form field, or NULL. */
const char *gateway_param(const struct gateway_http *in, const char *name);

/* Constant-time comparison of two NUL-terminated strings (length may leak, content not). */
bool gateway_secure_equal(const char *a, const char *b);

/* Checks the ?token= query parameter against the configured token (constant time). */
int gateway_check_query_token(const struct gateway_http *in, const char *token, char *err);

/* Normalises a number to E.164 with '+' (Finnish national numbers get +358). -1 if not a number. */
int gateway_normalise_number(const char *in, char out[GATEWAY_NUMBER_MAX]);

/*
 * The decoded value of the first parameter called name in a raw query string
 * (borrowed; NULL allowed), returned owned (free with free()); NULL if absent,
 * malformed or out of memory.
 */
char *gateway_query_param(const char *query, const char *name);

/*
 * Encodes npairs name/value pairs, given as pairs[2i] and pairs[2i + 1]
 * (borrowed), as an application/x-www-form-urlencoded body. Every byte except
 * the unreserved A-Z a-z 0-9 - . _ ~ is percent-encoded, space as %20 (as
 * twilio-node does; '+' would decode the same), so UTF-8 text such as "ä"
 * becomes %C3%A4. A pair whose value is NULL is left out. Returns the body,
 * owned (free with free()), or NULL if out of memory.
 */
char *gateway_form_encode(const char *const *pairs, size_t npairs);

/* base (a configured base URL; one trailing '/' is dropped) + path, owned (free()); NULL on OOM. */
char *gateway_url(const char *base, const char *path);

/* Appends the header "Name: value" formatted from fmt to req. 0, or -1 if full or out of memory. */
int gateway_request_add_header(struct gateway_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Fills *out (which it first clears) from the fields of an inbound SMS
 * (borrowed): id and to are copied, from is normalised to E.164 and text
 * (valid UTF-8, may be "") is duplicated. 0, or -1 with err saying which field
 * is wrong (never quoting it); *out then owns nothing.
 */
int gateway_inbound_fill(struct gateway_inbound *out, const char *id, const char *from,
                         const char *to, const char *text, char *err);

/* Fills *out for a delivery report; error (NULL allowed) goes through gateway_copy_text. */
int gateway_status_fill(struct gateway_status *out, const char *id, enum gateway_delivery d,
                        const char *error, char *err);

/*
 * Clears *out and classifies a send response by its HTTP status alone: 2xx is
 * GATEWAY_SEND_OK; 408, 429, 5xx and no status at all (< 100) are
 * GATEWAY_SEND_RETRY, with retry_after from a Retry-After value in seconds
 * (NULL allowed; an HTTP-date gives 0, leaving the delay to the outbox's
 * backoff; capped at one day); everything else is GATEWAY_SEND_FAIL. Sets
 * out->error to "http <status>" unless the status is 2xx. Adapters then
 * refine the result from the body.
 */
void gateway_send_classify(long http_status, const char *retry_after,
                           struct gateway_send_result *out);

/*
 * Copies len bytes of text from a gateway (an error message) into dst (cap >
 * 0 bytes, always NUL-terminated) for a log line or a database row: control
 * characters become spaces, invalid UTF-8 becomes '?', runs of 7 or more
 * digits (with an optional '+') become "[number]" because vendors quote the
 * recipient's number in their errors, and the result is cut on a code point.
 */
void gateway_copy_text(char *dst, size_t cap, const char *src, size_t len);

void gateway_inbound_release(struct gateway_inbound *in);
void gateway_request_release(struct gateway_request *req);
void gateway_ack_release(struct gateway_ack *ack);

/* "queued", "sent", "delivered", ... */
const char *gateway_delivery_name(enum gateway_delivery d);

#endif
