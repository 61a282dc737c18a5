/*
 * testlib_gateway.h: fixtures for the gateway adapters' unit tests: a
 * configuration with one gateway set up, and a webhook as the adapter sees it.
 */
#ifndef KATTO_TESTLIB_GATEWAY_H
#define KATTO_TESTLIB_GATEWAY_H

#include "config.h"
#include "gateway.h"

struct testlib_gateway {
    struct config cfg;
    struct gateway gw;
    struct gateway_http in;
};

/* Embedded defaults, the adapter ops; release with testlib_gateway_release. */
void testlib_gateway_init(struct testlib_gateway *g, const struct gateway_ops *ops);
void testlib_gateway_release(struct testlib_gateway *g);

/* Replaces the string setting at slot (owned by the config) with a copy of value. */
void testlib_set_str(char **slot, const char *value);

/*
 * Points g->in at a webhook (strings borrowed): url, raw query (NULL if
 * none), content type and body; a form body is decoded as the channel does.
 */
void testlib_gateway_request(struct testlib_gateway *g, const char *url, const char *query,
                             const char *content_type, const char *body);

#endif
