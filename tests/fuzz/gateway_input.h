/*
 * gateway_input.h: the input format of the gateway fuzz targets, readable so
 * that the corpus can be seeded by hand from the vendors' examples:
 *
 *   <gateway> <rest of the first line>\n
 *   <Header-Name>: <value>\n          zero or more
 *   \n
 *   <body: every remaining byte>
 *
 * The gateway is named as in gateway_all ("twilio", "46elks", ...); an
 * unknown name picks one by its first byte, so mutations stay useful.
 */
#ifndef KATTO_FUZZ_GATEWAY_INPUT_H
#define KATTO_FUZZ_GATEWAY_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "gateway.h"

#define FUZZ_MAX_HEADERS 16

struct fuzz_gateway_input {
    const struct gateway_ops *ops;
    char *line; /* rest of the first line, NUL-terminated (owned by copy) */
    struct {
        char *name, *value; /* into copy */
    } headers[FUZZ_MAX_HEADERS];
    size_t nheaders;
    char *body; /* into copy; NUL-terminated, body_len bytes (may hold NULs) */
    size_t body_len;
    char *copy; /* owned */
};

/* Splits data into *in (release with fuzz_gateway_input_release). */
void fuzz_gateway_input_parse(const uint8_t *data, size_t size, struct fuzz_gateway_input *in);
void fuzz_gateway_input_release(struct fuzz_gateway_input *in);

/* Header lookup for struct gateway_http: ctx is the struct fuzz_gateway_input; case-insensitive. */
const char *fuzz_gateway_header(const void *ctx, const char *name);

/*
 * One configuration with every gateway set up, with the secrets of the unit
 * tests (Twilio auth token "12345", GatewayAPI "webhook-secret" and
 * "status-secret", route tokens "route-s3cr3t"), so that their signed
 * vectors pass verify() and seeds reach the parsers as in production.
 */
const struct config *fuzz_gateway_config(void);

#endif
