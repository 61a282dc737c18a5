/* gateway_input.c: see gateway_input.h. */
#include "gateway_input.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "fuzz.h"

void fuzz_gateway_input_parse(const uint8_t *data, size_t size, struct fuzz_gateway_input *in)
{
    size_t ngateways = 0;
    char *p, *end, *nl;

    memset(in, 0, sizeof(*in));
    in->copy = fuzz_strndup(data, size);
    p = in->copy;
    end = in->copy + size;
    while (gateway_all[ngateways] != NULL)
        ngateways++;

    /* First line: gateway name, then the rest. */
    nl = memchr(p, '\n', (size_t)(end - p));
    char *line_end = nl != NULL ? nl : end;
    char *space = memchr(p, ' ', (size_t)(line_end - p));
    char *name_end = space != NULL ? space : line_end;

    *name_end = '\0';
    in->ops = gateway_find(p);
    if (in->ops == NULL)
        in->ops = gateway_all[(size > 0 ? data[0] : 0) % ngateways];
    *line_end = '\0';
    in->line = space != NULL ? space + 1 : line_end;
    p = nl != NULL ? nl + 1 : end;

    /* Headers until an empty line. */
    while (p < end && *p != '\n') {
        nl = memchr(p, '\n', (size_t)(end - p));
        line_end = nl != NULL ? nl : end;
        *line_end = '\0';
        char *colon = strchr(p, ':');

        if (colon != NULL && in->nheaders < FUZZ_MAX_HEADERS) {
            *colon = '\0';
            char *value = colon + 1;

            while (*value == ' ')
                value++;
            in->headers[in->nheaders].name = p;
            in->headers[in->nheaders].value = value;
            in->nheaders++;
        }
        p = nl != NULL ? nl + 1 : end;
    }
    if (p < end)
        p++; /* the empty line */
    in->body = p;
    in->body_len = (size_t)(end - p);
}

void fuzz_gateway_input_release(struct fuzz_gateway_input *in)
{
    free(in->copy);
    memset(in, 0, sizeof(*in));
}

const char *fuzz_gateway_header(const void *ctx, const char *name)
{
    const struct fuzz_gateway_input *in = ctx;

    for (size_t i = 0; i < in->nheaders; i++)
        if (strcasecmp(in->headers[i].name, name) == 0)
            return in->headers[i].value;
    return NULL;
}

static void set(char **slot, const char *value)
{
    free(*slot);
    if ((*slot = strdup(value)) == NULL)
        abort();
}

const struct config *fuzz_gateway_config(void)
{
    static struct config cfg;
    static bool ready;

    if (ready)
        return &cfg;
    config_init(&cfg);
    set(&cfg.gateways.twilio.account_sid, "AC0123456789abcdef0123456789abcdef");
    set(&cfg.gateways.twilio.auth_token, "12345");
    set(&cfg.gateways.twilio.from, "+15005550006");
    set(&cfg.gateways.elks.username, "u0123456789abcdef");
    set(&cfg.gateways.elks.password, "PASSWORD123");
    set(&cfg.gateways.elks.from, "Katto");
    set(&cfg.gateways.elks.webhook_token, "route-s3cr3t");
    set(&cfg.gateways.gatewayapi.token, "gw-token");
    set(&cfg.gateways.gatewayapi.webhook_secret, "webhook-secret");
    set(&cfg.gateways.gatewayapi.status_secret, "status-secret");
    set(&cfg.gateways.gatewayapi.from, "Katto");
    set(&cfg.gateways.africastalking.username, "katto");
    set(&cfg.gateways.africastalking.api_key, "atsk_0123456789");
    set(&cfg.gateways.africastalking.from, "KATTO");
    set(&cfg.gateways.africastalking.webhook_token, "route-s3cr3t");
    ready = true;
    /* Kept for the life of the process: the targets share it across runs. */
    return &cfg;
}
