/*
 * http_server.h: Katto's HTTP front on libevent 2.1.12's evhttp. It owns the
 * route table, the limits (body and header size, idle timeout, a deadline for
 * a complete request so slowloris clients cannot hold connections, a cap on
 * open connections at which the connection longest without a complete
 * request is evicted for a new one), per-route metrics, and the rule that
 * every request handed to a handler gets exactly one reply.
 *
 * A handler receives a struct http_exchange and must eventually call
 * http_exchange_reply() or http_exchange_error() exactly once, now or later
 * (after a group commit, say); that call frees the exchange.
 */
#ifndef KATTO_HTTP_SERVER_H
#define KATTO_HTTP_SERVER_H

#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "metrics.h"

struct http_server;
struct http_exchange;

typedef void http_handler_cb(struct http_exchange *ex, void *arg);

/* Methods, as libevent's EVHTTP_REQ_* bits. HEAD is accepted wherever GET is. */
#define HTTP_GET EVHTTP_REQ_GET
#define HTTP_POST EVHTTP_REQ_POST

/*
 * Creates a server on base with the given limits (borrowed for the call) that
 * counts requests in metrics (kept: must outlive the server). NULL on error.
 */
struct http_server *http_server_new(struct event_base *base, const struct config_limits *limits,
                                    struct metrics *metrics, char *err);

/* Frees the server, closing every connection. Exchanges still held are answered 503 first. */
void http_server_free(struct http_server *s);

/*
 * Adds a route: exact path match, methods a mask of HTTP_* bits; name labels
 * the route in metrics (static string). Another method on the path gets 405.
 */
int http_server_route(struct http_server *s, const char *name, const char *path, unsigned methods,
                      http_handler_cb *handler, void *arg);

/* Binds host:port (0 = any free port) and reports the bound port. 0, or -1 with err. */
int http_server_listen(struct http_server *s, const char *host, int port, int *bound_port,
                       char *err);

/* Stops accepting new connections (shutdown); requests already read are still served. */
void http_server_stop_accepting(struct http_server *s);

/* Requests handed to handlers and not yet answered. */
size_t http_server_in_flight(const struct http_server *s);

/* Open client connections. */
size_t http_server_connections(const struct http_server *s);

/* The request line's method bit, path (decoded, without query) and raw query (may be NULL). */
unsigned http_exchange_method(const struct http_exchange *ex);
const char *http_exchange_path(const struct http_exchange *ex);
const char *http_exchange_query(const struct http_exchange *ex);

/* A request header (case-insensitive name), or NULL. Borrowed until the reply. */
const char *http_exchange_header(const struct http_exchange *ex, const char *name);

/*
 * The request body as one contiguous buffer of *len bytes, NUL-terminated for
 * convenience (the NUL is not counted). Borrowed until the reply. NULL if out
 * of memory.
 */
const char *http_exchange_body(struct http_exchange *ex, size_t *len);

/* The underlying request, for adapters that need libevent calls directly. */
struct evhttp_request *http_exchange_request(struct http_exchange *ex);

/*
 * The value of cookie name from the Cookie header into out (cap bytes with
 * the NUL), if it is made only of the characters in charset and fits.
 * Returns its length; 0 (and out = "") when absent or malformed.
 */
size_t http_exchange_cookie(const struct http_exchange *ex, const char *name, const char *charset,
                            char *out, size_t cap);

/* The TCP peer of ex, or NULL if the connection is gone. Borrowed. */
const struct sockaddr *http_exchange_peer(struct http_exchange *ex);

/* True for 127.0.0.0/8 and ::1 (also as an IPv4-mapped address). */
bool http_addr_is_loopback(const struct sockaddr *sa);

/*
 * Whether the person at the other end used HTTPS. Katto speaks plain HTTP,
 * so pages with personal data (workers, administrators) are served only to
 * a loopback peer (a TLS proxy on this host, or a browser on it); with
 * trusted_proxy, only when that proxy says X-Forwarded-Proto: https.
 */
bool http_exchange_over_tls(struct http_exchange *ex, bool trusted_proxy);

/* Adds a response header before the reply. */
void http_exchange_add_header(struct http_exchange *ex, const char *name, const char *value);

/* Sends status with body (len bytes, copied) and frees ex. content_type may be NULL. */
void http_exchange_reply(struct http_exchange *ex, int status, const char *content_type,
                         const char *body, size_t len);

/* Sends status with a short plain-text body "text\n" (never echoing input) and frees ex. */
void http_exchange_error(struct http_exchange *ex, int status, const char *text);

#endif
