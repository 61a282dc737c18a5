/* testlib_gateway.c: see testlib_gateway.h. */
#include "testlib_gateway.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

void testlib_gateway_init(struct testlib_gateway *g, const struct gateway_ops *ops)
{
    memset(g, 0, sizeof(*g));
    config_init(&g->cfg);
    g->gw.ops = ops;
    g->gw.cfg = &g->cfg;
}

void testlib_gateway_release(struct testlib_gateway *g)
{
    gateway_http_release(&g->in);
    config_release(&g->cfg);
}

void testlib_set_str(char **slot, const char *value)
{
    free(*slot);
    *slot = strdup(value);
    assert_non_null(*slot);
}

void testlib_gateway_request(struct testlib_gateway *g, const char *url, const char *query,
                             const char *content_type, const char *body)
{
    gateway_http_release(&g->in);
    memset(&g->in, 0, sizeof(g->in));
    g->in.public_url = url;
    g->in.query = query;
    g->in.content_type = content_type;
    g->in.body = body;
    g->in.body_len = strlen(body);
    if (strncmp(content_type, "application/x-www-form-urlencoded", 33) == 0)
        assert_int_equal(gateway_parse_form(&g->in, NULL), 0);
}
