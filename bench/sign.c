/*
 * sign.c: a pool of inbound SMS webhooks for scripts/bench, one request per line.
 *
 * wrk's Lua has no HMAC, so the Twilio requests are signed here ahead of time, each
 * with its own MessageSid and sender so that every request is a new message (not a
 * gateway retry, which Katto answers from its dedupe record without a step).
 *
 *   sign --gateway twilio|46elks|africastalking --count N --run R
 *        [--public-url URL] [--token T] [--account SID] [--to NUMBER]
 *
 * Each line is  PATH <TAB> HEADER <TAB> BODY  where HEADER is "X-Twilio-Signature: ..."
 * for Twilio and "-" for the others (they authenticate with the route token in PATH),
 * and BODY is the form-encoded body exactly as the gateway posts it:
 *
 *  - twilio: the parameters Twilio sends for an SMS (MessageSid, AccountSid, From, To,
 *    Body, NumSegments, ...), signed as Twilio does: HMAC-SHA1 keyed with the auth token
 *    over the public URL + path followed by every parameter, sorted by name, as name and
 *    value, in base64 (https://www.twilio.com/docs/usage/security);
 *  - 46elks: id, from, to, message, created (?token= in the path);
 *  - africastalking: id, from, to, text, date, linkId, networkCode (?token= in the path).
 *
 * The texts take turns: APUA, HELP, HJÄLP, YÖ 00530 (a keyword that answers at once with
 * the nearest open shelters). R (a small number) makes the ids and senders of one run
 * differ from another's, so that pools of several rounds never collide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

struct param {
    const char *name;
    char value[96];
};

static int param_cmp(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

/* application/x-www-form-urlencoded, as Twilio encodes: unreserved kept, space as '+'. */
static void form_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0' && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else if (c == ' ') {
            out[o++] = '+';
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* Appends name=value pairs to body, form-encoded, in the given order. */
static void body_of(const struct param *p, size_t n, char *body, size_t cap)
{
    char enc[300];
    size_t used = 0;

    body[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        form_encode(p[i].value, enc, sizeof(enc));
        used += (size_t)snprintf(body + used, cap - used, "%s%s=%s", i ? "&" : "", p[i].name, enc);
    }
}

static void twilio_signature(const char *token, const char *url, const struct param *p, size_t n,
                             char out[64])
{
    struct param sorted[32];
    char data[4096];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    size_t used;

    memcpy(sorted, p, n * sizeof(*p));
    qsort(sorted, n, sizeof(*sorted), param_cmp);
    used = (size_t)snprintf(data, sizeof(data), "%s", url);
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(data + used, sizeof(data) - used, "%s%s", sorted[i].name,
                                 sorted[i].value);
    HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)data, used, mac, &maclen);
    EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
}

static void usage(void)
{
    fprintf(stderr, "usage: sign --gateway twilio|46elks|africastalking --count N --run R\n"
                    "            [--public-url URL] [--token T] [--account SID] [--to NUMBER]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    static const char *const texts[] = {"APUA", "HELP", "HJÄLP", "YÖ 00530"};
    const char *gateway = NULL, *public_url = "https://katto.bench.invalid", *token = "";
    const char *account = "AC00000000000000000000000000000000", *to = "+358451234567";
    long count = -1, run = -1;
    char body[4096], sig[64], path[512], id[64], from[32], when[32];

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--gateway") == 0)
            gateway = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            count = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--run") == 0)
            run = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--public-url") == 0)
            public_url = argv[i + 1];
        else if (strcmp(argv[i], "--token") == 0)
            token = argv[i + 1];
        else if (strcmp(argv[i], "--account") == 0)
            account = argv[i + 1];
        else if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
        else
            usage();
    }
    if (argc % 2 != 1 || gateway == NULL || count < 0 || run < 0 || run > 99)
        usage();
    for (long k = 0; k < count; k++) {
        struct param p[24];
        size_t n = 0;
        const char *text = texts[k % 4];

        /* A Finnish mobile number per message: +358 4x, then run and serial. */
        snprintf(from, sizeof(from), "+3584%02ld%07ld", run, k % 10000000);
        if (strcmp(gateway, "twilio") == 0) {
            char url[600];

            snprintf(id, sizeof(id), "SM%02ld%030ld", run, k);
#define P(n_, v_)                                                                                  \
    do {                                                                                           \
        p[n].name = (n_);                                                                          \
        snprintf(p[n].value, sizeof(p[n].value), "%s", (v_));                                      \
        n++;                                                                                       \
    } while (0)
            P("ToCountry", "FI");
            P("ToState", "");
            P("SmsMessageSid", id);
            P("NumMedia", "0");
            P("ToCity", "");
            P("FromZip", "");
            P("SmsSid", id);
            P("FromState", "");
            P("SmsStatus", "received");
            P("FromCity", "");
            P("Body", text);
            P("FromCountry", "FI");
            P("To", to);
            P("ToZip", "");
            P("NumSegments", "1");
            P("ReferralNumMedia", "0");
            P("MessageSid", id);
            P("AccountSid", account);
            P("From", from);
            P("ApiVersion", "2010-04-01");
            snprintf(path, sizeof(path), "/webhooks/twilio/sms");
            snprintf(url, sizeof(url), "%s%s", public_url, path);
            twilio_signature(token, url, p, n, sig);
            body_of(p, n, body, sizeof(body));
            printf("%s\tX-Twilio-Signature: %s\t%s\n", path, sig, body);
        } else if (strcmp(gateway, "46elks") == 0) {
            snprintf(id, sizeof(id), "s%02ld%030ld", run, k);
            P("direction", "incoming");
            P("id", id);
            P("from", from);
            P("to", to);
            P("created", "2026-11-24T18:20:48.123456");
            P("message", text);
            snprintf(path, sizeof(path), "/webhooks/46elks/sms?token=%s", token);
            body_of(p, n, body, sizeof(body));
            printf("%s\t-\t%s\n", path, body);
        } else if (strcmp(gateway, "africastalking") == 0) {
            snprintf(id, sizeof(id), "ATXid_%02ld%030ld", run, k);
            snprintf(when, sizeof(when), "2026-11-24 18:20:48");
            P("linkId", "");
            P("text", text);
            P("to", "21525");
            P("id", id);
            P("date", when);
            P("from", from);
            P("networkCode", "24405");
            snprintf(path, sizeof(path), "/webhooks/africastalking/sms?token=%s", token);
            body_of(p, n, body, sizeof(body));
            printf("%s\t-\t%s\n", path, body);
        } else {
            usage();
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
