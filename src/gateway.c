/*
 * gateway.c: the registry of SMS gateways and what their adapters share:
 * form decoding and encoding, constant-time comparison, route tokens, phone
 * number normalisation, and small builders for requests, inbound messages
 * and send results. Like the adapters it does no I/O. Every decoded string
 * is checked to be NUL-free UTF-8 here, so later layers can trust it.
 */
#include "gateway.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "utf8.h"

#define RETRY_AFTER_MAX 86400L /* one day: longer waits are the outbox's max_age problem */
#define NUMBER_MIN_DIGITS 8
#define NUMBER_MAX_DIGITS 15 /* E.164 */

const struct gateway_ops *const gateway_all[] = {
    &gateway_console,    &gateway_twilio,         &gateway_46elks,
    &gateway_gatewayapi, &gateway_africastalking, NULL,
};

const struct gateway_ops *gateway_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; gateway_all[i] != NULL; i++) {
        if (strcmp(gateway_all[i]->name, name) == 0)
            return gateway_all[i];
    }
    return NULL;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decodes one form or query component of len bytes at s. Returns the text,
 * owned, or NULL with *why set to a static reason.
 */
static char *form_decode(const char *s, size_t len, const char **why)
{
    char *out = malloc(len + 1);
    size_t n = 0;

    if (out == NULL) {
        *why = "out of memory";
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = len - i >= 3 ? hex_value((unsigned char)s[i + 1]) : -1;
            int lo = len - i >= 3 ? hex_value((unsigned char)s[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                *why = "malformed %-escape";
                goto fail;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            *why = "NUL byte";
            goto fail;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    if (!utf8_valid(out, n)) {
        *why = "invalid UTF-8";
        goto fail;
    }
    return out;
fail:
    explicit_bzero(out, n);
    free(out);
    return NULL;
}

/* Names are quoted in errors only when they are short and plainly a field name. */
static bool quotable(const char *name)
{
    size_t n = 0;

    for (; name[n] != '\0'; n++) {
        char c = name[n];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return n > 0 && n <= 32;
}

static void free_params(struct gateway_http *in)
{
    for (size_t i = 0; i < in->nparams; i++) {
        if (in->params[i].name != NULL) {
            explicit_bzero(in->params[i].name, strlen(in->params[i].name));
            free(in->params[i].name);
        }
        if (in->params[i].value != NULL) {
            explicit_bzero(in->params[i].value, strlen(in->params[i].value));
            free(in->params[i].value);
        }
        in->params[i].name = in->params[i].value = NULL;
    }
    in->nparams = 0;
}

int gateway_parse_form(struct gateway_http *in, char *err)
{
    const char *s = in->body;
    size_t len = in->body != NULL ? in->body_len : 0;
    size_t i = 0;

    free_params(in);
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp != NULL ? (size_t)(amp - s) : len;

        if (end > i) {
            const char *eq = memchr(s + i, '=', end - i);
            size_t name_end = eq != NULL ? (size_t)(eq - s) : end;
            const char *why = NULL;
            char *name, *value;

            if (in->nparams == GATEWAY_MAX_PARAMS) {
                err_set(err, "more than %d form fields", GATEWAY_MAX_PARAMS);
                goto fail;
            }
            name = form_decode(s + i, name_end - i, &why);
            if (name == NULL) {
                err_set(err, "form field %zu: name: %s", in->nparams + 1, why);
                goto fail;
            }
            value = eq != NULL ? form_decode(eq + 1, end - name_end - 1, &why)
                               : form_decode("", 0, &why);
            if (value == NULL) {
                if (quotable(name))
                    err_set(err, "form field '%s': %s", name, why);
                else
                    err_set(err, "form field %zu: %s", in->nparams + 1, why);
                free(name);
                goto fail;
            }
            in->params[in->nparams].name = name;
            in->params[in->nparams].value = value;
            in->nparams++;
        }
        i = end + 1;
    }
    return 0;
fail:
    free_params(in);
    return -1;
}

void gateway_http_release(struct gateway_http *in)
{
    if (in != NULL)
        free_params(in);
}

bool gateway_is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

bool gateway_form_body(const struct gateway_http *in, char *err)
{
    static const char form[] = "application/x-www-form-urlencoded";

    if (in->content_type == NULL || strncasecmp(in->content_type, form, sizeof(form) - 1) != 0) {
        err_set(err, "expected an %s body", form);
        return false;
    }
    return true;
}

const char *gateway_required(const struct gateway_http *in, const char *name, char *err)
{
    const char *v = gateway_param(in, name);

    if (v == NULL)
        err_set(err, "missing field '%s'", name);
    return v;
}

int gateway_parse_form_inbound(const struct gateway_http *in, const char *id_field,
                               const char *from_field, const char *to_field, const char *text_field,
                               struct gateway_inbound *out, char *err)
{
    const char *id, *from, *to, *text;

    memset(out, 0, sizeof(*out));
    if (!gateway_form_body(in, err))
        return -1;
    if ((id = gateway_required(in, id_field, err)) == NULL ||
        (from = gateway_required(in, from_field, err)) == NULL ||
        (to = gateway_required(in, to_field, err)) == NULL ||
        (text = gateway_required(in, text_field, err)) == NULL)
        return -1;
    return gateway_inbound_fill(out, id, from, to, text, err);
}

const char *gateway_param(const struct gateway_http *in, const char *name)
{
    for (size_t i = 0; i < in->nparams; i++) {
        if (strcmp(in->params[i].name, name) == 0)
            return in->params[i].value;
    }
    return NULL;
}

bool gateway_secure_equal(const char *a, const char *b)
{
    size_t n;

    if (a == NULL || b == NULL)
        return false;
    n = strlen(a);
    if (n != strlen(b))
        return false;
    return crypto_equal(a, b, n);
}

char *gateway_query_param(const char *query, const char *name)
{
    size_t len, i = 0;

    if (query == NULL)
        return NULL;
    len = strlen(query);
    while (i < len) {
        const char *amp = memchr(query + i, '&', len - i);
        size_t end = amp != NULL ? (size_t)(amp - query) : len;
        const char *eq = memchr(query + i, '=', end - i);
        size_t name_end = eq != NULL ? (size_t)(eq - query) : end;
        const char *why;
        char *key = form_decode(query + i, name_end - i, &why);

        if (key != NULL && strcmp(key, name) == 0) {
            free(key);
            return eq != NULL ? form_decode(eq + 1, end - name_end - 1, &why)
                              : form_decode("", 0, &why);
        }
        free(key);
        i = end + 1;
    }
    return NULL;
}

int gateway_check_query_token(const struct gateway_http *in, const char *token, char *err)
{
    char *given;
    bool ok;

    if (token == NULL || token[0] == '\0') {
        err_set(err, "no route token is configured");
        return -1;
    }
    given = gateway_query_param(in->query, "token");
    if (given == NULL) {
        err_set(err, "missing route token");
        return -1;
    }
    ok = gateway_secure_equal(given, token);
    explicit_bzero(given, strlen(given));
    free(given);
    if (!ok) {
        err_set(err, "wrong route token");
        return -1;
    }
    return 0;
}

int gateway_normalise_number(const char *in, char out[GATEWAY_NUMBER_MAX])
{
    char digits[GATEWAY_NUMBER_MAX];
    const char *d = digits, *prefix = "";
    size_t n = 0, total;
    bool plus = false;

    if (in == NULL)
        return -1;
    for (const char *p = in; *p != '\0'; p++) {
        char c = *p;

        if (c == ' ' || c == '-' || c == '(' || c == ')')
            continue;
        if (c == '+' && !plus && n == 0) {
            plus = true;
            continue;
        }
        if (c < '0' || c > '9' || n + 1 >= sizeof(digits))
            return -1;
        digits[n++] = c;
    }
    digits[n] = '\0';
    if (!plus && n >= 2 && digits[0] == '0' && digits[1] == '0') {
        d += 2; /* international prefix 00 */
    } else if (!plus && n >= 1 && digits[0] == '0') {
        prefix = "358"; /* Finnish national number: trunk prefix 0 */
        d += 1;
    }
    total = strlen(prefix) + strlen(d);
    if (total < NUMBER_MIN_DIGITS || total > NUMBER_MAX_DIGITS)
        return -1;
    if ((prefix[0] != '\0' ? prefix[0] : d[0]) == '0')
        return -1; /* no country code starts with 0 */
    /* total <= 15 digits, so '+', the digits and the NUL fit GATEWAY_NUMBER_MAX. */
    out[0] = '+';
    memcpy(out + 1, prefix, strlen(prefix));
    memcpy(out + 1 + strlen(prefix), d, strlen(d) + 1);
    return 0;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static size_t encoded_len(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += unreserved((unsigned char)*s) ? 1 : 3;
    return n;
}

static char *encode_into(char *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (unreserved(c)) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    return p;
}

char *gateway_form_encode(const char *const *pairs, size_t npairs)
{
    size_t len = 0;
    char *out, *p;

    for (size_t i = 0; i < npairs; i++) {
        if (pairs[2 * i + 1] != NULL)
            len += encoded_len(pairs[2 * i]) + 1 + encoded_len(pairs[2 * i + 1]) + 1;
    }
    out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    p = out;
    for (size_t i = 0; i < npairs; i++) {
        if (pairs[2 * i + 1] == NULL)
            continue;
        if (p != out)
            *p++ = '&';
        p = encode_into(p, pairs[2 * i]);
        *p++ = '=';
        p = encode_into(p, pairs[2 * i + 1]);
    }
    *p = '\0';
    return out;
}

char *gateway_url(const char *base, const char *path)
{
    size_t blen, plen;
    char *out;

    if (base == NULL || path == NULL)
        return NULL;
    blen = strlen(base);
    plen = strlen(path);
    if (blen > 0 && base[blen - 1] == '/')
        blen--;
    out = malloc(blen + plen + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, base, blen);
    memcpy(out + blen, path, plen + 1);
    return out;
}

int gateway_request_add_header(struct gateway_request *req, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *h;

    if (req->nheaders == GATEWAY_MAX_HEADERS)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    h = malloc((size_t)n + 1);
    if (h == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(h, (size_t)n + 1, fmt, ap);
    va_end(ap);
    req->headers[req->nheaders++] = h;
    return 0;
}

int gateway_inbound_fill(struct gateway_inbound *out, const char *id, const char *from,
                         const char *to, const char *text, char *err)
{
    memset(out, 0, sizeof(*out));
    if (id == NULL || id[0] == '\0') {
        err_set(err, "missing message id");
        return -1;
    }
    if (strlen(id) >= sizeof(out->msg_id)) {
        err_set(err, "message id is longer than %zu bytes", sizeof(out->msg_id) - 1);
        return -1;
    }
    if (from == NULL || gateway_normalise_number(from, out->from) < 0) {
        err_set(err, "sender is not a phone number");
        goto fail;
    }
    if (to == NULL || to[0] == '\0' || strlen(to) >= sizeof(out->to)) {
        err_set(err, "recipient is missing or too long");
        goto fail;
    }
    if (text == NULL || !utf8_valid(text, strlen(text))) {
        err_set(err, "message text is missing or not valid UTF-8");
        goto fail;
    }
    memcpy(out->msg_id, id, strlen(id) + 1);
    memcpy(out->to, to, strlen(to) + 1);
    out->text = strdup(text);
    if (out->text == NULL) {
        err_set(err, "out of memory");
        goto fail;
    }
    return 0;
fail:
    explicit_bzero(out, sizeof(*out));
    return -1;
}

int gateway_status_fill(struct gateway_status *out, const char *id, enum gateway_delivery d,
                        const char *error, char *err)
{
    memset(out, 0, sizeof(*out));
    if (id == NULL || strlen(id) >= sizeof(out->msg_id)) {
        err_set(err, "message id is missing or longer than %zu bytes", sizeof(out->msg_id) - 1);
        return -1;
    }
    memcpy(out->msg_id, id, strlen(id) + 1);
    out->delivery = d;
    if (error != NULL)
        gateway_copy_text(out->error, sizeof(out->error), error, strlen(error));
    return 0;
}

/* Delta-seconds only; an HTTP-date or garbage gives 0. */
static long parse_retry_after(const char *v)
{
    long n = 0;

    if (v == NULL)
        return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v < '0' || *v > '9')
        return 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        n = n * 10 + (*v - '0');
        if (n > RETRY_AFTER_MAX)
            n = RETRY_AFTER_MAX;
    }
    while (*v == ' ' || *v == '\t')
        v++;
    return *v == '\0' ? n : 0;
}

void gateway_send_classify(long http_status, const char *retry_after,
                           struct gateway_send_result *out)
{
    memset(out, 0, sizeof(*out));
    if (http_status >= 200 && http_status <= 299) {
        out->outcome = GATEWAY_SEND_OK;
        return;
    }
    if (http_status < 100 || http_status == 408 || http_status == 429 || http_status >= 500) {
        out->outcome = GATEWAY_SEND_RETRY;
        out->retry_after = parse_retry_after(retry_after);
    } else {
        out->outcome = GATEWAY_SEND_FAIL;
    }
    snprintf(out->error, sizeof(out->error), "http %ld", http_status);
}

/* Length of a run of 7+ digits (optionally after '+') starting at s[i], else 0. */
static size_t number_run(const char *s, size_t len, size_t i)
{
    size_t j = i;

    if (j < len && s[j] == '+')
        j++;
    while (j < len && s[j] >= '0' && s[j] <= '9')
        j++;
    if (j - i - (s[i] == '+') < 7)
        return 0;
    return j - i;
}

void gateway_copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    static const char mask[] = "[number]";
    size_t n = 0, i = 0;

    if (cap == 0)
        return;
    while (i < len && src != NULL) {
        size_t run = number_run(src, len, i);
        size_t pos = i;
        uint32_t cp;

        if (run > 0 && (i == 0 || src[i - 1] < '0' || src[i - 1] > '9')) {
            if (n + sizeof(mask) - 1 >= cap)
                break;
            memcpy(dst + n, mask, sizeof(mask) - 1);
            n += sizeof(mask) - 1;
            i += run;
            continue;
        }
        if (utf8_decode(src, len, &pos, &cp) < 0) {
            if (n + 1 >= cap)
                break;
            dst[n++] = '?';
            i++;
            continue;
        }
        if (cp < 0x20 || cp == 0x7f) {
            if (n + 1 >= cap)
                break;
            dst[n++] = ' ';
        } else {
            if (n + (pos - i) >= cap)
                break;
            memcpy(dst + n, src + i, pos - i);
            n += pos - i;
        }
        i = pos;
    }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

void gateway_inbound_release(struct gateway_inbound *in)
{
    if (in == NULL)
        return;
    if (in->text != NULL) {
        explicit_bzero(in->text, strlen(in->text));
        free(in->text);
    }
    explicit_bzero(in, sizeof(*in));
}

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void gateway_request_release(struct gateway_request *req)
{
    if (req == NULL)
        return;
    free(req->url);
    if (req->body != NULL) {
        explicit_bzero(req->body, req->body_len);
        free(req->body);
    }
    for (size_t i = 0; i < req->nheaders; i++)
        wipe_free(req->headers[i]); /* may carry an API key */
    wipe_free(req->userpwd);
    memset(req, 0, sizeof(*req));
}

void gateway_ack_release(struct gateway_ack *ack)
{
    if (ack == NULL)
        return;
    free(ack->body);
    ack->body = NULL;
}

static const char *const delivery_names[] = {
    [GATEWAY_DELIVERY_QUEUED] = "queued",           [GATEWAY_DELIVERY_SENT] = "sent",
    [GATEWAY_DELIVERY_DELIVERED] = "delivered",     [GATEWAY_DELIVERY_FAILED] = "failed",
    [GATEWAY_DELIVERY_UNDELIVERED] = "undelivered", [GATEWAY_DELIVERY_UNKNOWN] = "unknown",
};
_Static_assert(sizeof(delivery_names) / sizeof(delivery_names[0]) == GATEWAY_DELIVERY_UNKNOWN + 1,
               "one name per delivery state");

const char *gateway_delivery_name(enum gateway_delivery d)
{
    if ((unsigned)d > GATEWAY_DELIVERY_UNKNOWN)
        return "unknown";
    return delivery_names[d];
}
