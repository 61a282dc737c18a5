/*
 * http_server.c: evhttp with Katto's routes and limits (see http_server.h).
 *
 * Connection tracking. libevent 2.1.12 has no connection-count limit and no
 * new-connection hook, so connections are followed through evhttp_set_bevcb:
 * the bufferevent factory runs once per accepted connection (we count it).
 * evhttp then installs its own callbacks on that bufferevent with the
 * evhttp_connection as their argument; a zero-delay "adopt" event reads it
 * back with bufferevent_getcb() after the accept has finished, registers a
 * close callback (which evhttp calls exactly once, from
 * evhttp_connection_reset_ or _free) and arms the request deadline.
 * The factory must not use BEV_OPT_DEFER_CALLBACKS: group commit relies on
 * request callbacks running in the same loop pass as the flush event.
 *
 * The connection cap. A connection is "waiting" while it has not delivered a
 * complete request: from its accept, and again from the moment a reply has
 * been written until the next request is complete. Waiting connections are
 * kept in a queue, oldest first. A connection accepted at the cap evicts the
 * head of that queue: the one that has gone longest without completing a
 * request. So slowloris clients, connect-and-idle floods and idle keep-alive
 * connections make room for a gateway, whose request completes in
 * milliseconds and is then never evicted while it is handled or answered.
 * The listener pauses only when the cap is reached and nothing is waiting
 * (every connection has a request in progress). Eviction does not look at
 * peer addresses: behind nginx every peer is 127.0.0.1, and the forwarded
 * address is in the very headers a slow client never finishes.
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "err.h"
#include "log.h"

#define ALL_METHODS 0x1ff /* every EVHTTP_REQ_* bit: unknown methods reach us and get 405 */

struct http_route {
    const char *name;
    char *path;
    unsigned methods;
    http_handler_cb *handler;
    void *arg;
};

struct http_conn {
    struct http_server *server;
    struct evhttp_connection *evcon;
    struct event *deadline; /* fires if a complete request has not arrived in time */
    int fd;
    bool waiting;          /* in server->waiting: no complete request yet */
    struct timespec since; /* when it began waiting (CLOCK_MONOTONIC) */
    struct http_conn *wprev, *wnext;
};

#define EVICT_LOG_INTERVAL 10 /* seconds: one log line per burst of evictions, not one each */

struct http_exchange {
    struct http_server *server;
    struct evhttp_request *req;
    const struct http_route *route; /* NULL for 404 */
    char *path;
    struct http_exchange *prev, *next; /* in server->exchanges */
};

struct http_server {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener;
    struct metrics *metrics;
    struct config_limits limits;
    struct http_route *routes;
    size_t nroutes;
    struct bufferevent **pending; /* accepted, not yet adopted */
    size_t npending, cappending;
    struct event *adopt_ev;
    struct http_conn **by_fd; /* open connections by socket */
    size_t nby_fd;
    size_t open;    /* connections counted by the factory */
    bool accepting; /* false after http_server_stop_accepting */
    bool paused;    /* listener disabled: at the cap with nothing to evict */
    struct http_conn *waiting_head, *waiting_tail; /* oldest first (file comment) */
    unsigned long long evicted_unlogged;           /* evictions since the last log line */
    struct timespec evict_logged;                  /* when that line was written */
    struct http_exchange *exchanges;
    size_t in_flight;
};

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static void waiting_add(struct http_server *s, struct http_conn *c)
{
    if (c->waiting)
        return;
    clock_gettime(CLOCK_MONOTONIC, &c->since);
    c->wprev = s->waiting_tail;
    c->wnext = NULL;
    if (s->waiting_tail != NULL)
        s->waiting_tail->wnext = c;
    else
        s->waiting_head = c;
    s->waiting_tail = c;
    c->waiting = true;
}

static void waiting_remove(struct http_server *s, struct http_conn *c)
{
    if (!c->waiting)
        return;
    if (c->wprev != NULL)
        c->wprev->wnext = c->wnext;
    else
        s->waiting_head = c->wnext;
    if (c->wnext != NULL)
        c->wnext->wprev = c->wprev;
    else
        s->waiting_tail = c->wprev;
    c->wprev = c->wnext = NULL;
    c->waiting = false;
}

static void update_listener(struct http_server *s)
{
    /* At the cap a new connection can still come in if an old one can be evicted for it. */
    bool want =
        s->accepting && (s->open < (size_t)s->limits.max_connections || s->waiting_head != NULL);

    if (s->listener == NULL || want == !s->paused)
        return;
    if (want) {
        evconnlistener_enable(s->listener);
        log_info("http.resumed", "connections=%zu", s->open);
    } else {
        evconnlistener_disable(s->listener);
        if (s->accepting)
            log_warn("http.paused",
                     "connections=%zu limit=%ld reason=\"every connection has a "
                     "request in progress\"",
                     s->open, s->limits.max_connections);
    }
    s->paused = !want;
}

static void arm_deadline(struct http_conn *c)
{
    struct timeval tv = {c->server->limits.header_timeout, 0};

    event_add(c->deadline, &tv);
}

static struct http_conn *conn_of(struct http_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
    int fd = bev != NULL ? (int)bufferevent_getfd(bev) : -1;

    if (fd < 0 || (size_t)fd >= s->nby_fd || s->by_fd[fd] == NULL || s->by_fd[fd]->evcon != evcon)
        return NULL;
    return s->by_fd[fd];
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;

    (void)fd;
    (void)what;
    metrics_add(c->server->metrics, "katto_http_request_deadline_total", "", 1);
    /* Calls conn_closed_cb, which frees c and its event: allowed for a fired one-shot event. */
    evhttp_connection_free(c->evcon);
}

static void conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
    struct http_conn *c = arg;
    struct http_server *s = c->server;

    (void)evcon;
    waiting_remove(s, c);
    if ((size_t)c->fd < s->nby_fd && s->by_fd[c->fd] == c)
        s->by_fd[c->fd] = NULL;
    event_free(c->deadline);
    free(c);
    s->open--;
    update_listener(s);
}

static int track(struct http_server *s, struct bufferevent *bev)
{
    struct evhttp_connection *evcon = NULL;
    struct http_conn *c;
    int fd = (int)bufferevent_getfd(bev);
    void *cbarg = NULL;

    bufferevent_getcb(bev, NULL, NULL, NULL, &cbarg);
    evcon = cbarg;
    if (evcon == NULL || fd < 0 || (c = calloc(1, sizeof(*c))) == NULL)
        return -1;
    if ((size_t)fd >= s->nby_fd) {
        size_t n = (size_t)fd * 2 + 16;
        struct http_conn **bigger = realloc(s->by_fd, n * sizeof(*bigger));

        if (bigger == NULL) {
            free(c);
            return -1;
        }
        memset(bigger + s->nby_fd, 0, (n - s->nby_fd) * sizeof(*bigger));
        s->by_fd = bigger;
        s->nby_fd = n;
    }
    c->server = s;
    c->evcon = evcon;
    c->fd = fd;
    if ((c->deadline = evtimer_new(s->base, deadline_cb, c)) == NULL) {
        free(c);
        return -1;
    }
    s->by_fd[fd] = c;
    evhttp_connection_set_closecb(evcon, conn_closed_cb, c);
    arm_deadline(c);
    waiting_add(s, c);
    return 0;
}

/*
 * Closes the connection that has gone longest without completing a request,
 * to make room for a new one at the cap. Logged without the peer's address
 * (it may be a person's browser), at most one line per EVICT_LOG_INTERVAL.
 */
static void evict_oldest_waiting(struct http_server *s)
{
    struct http_conn *c = s->waiting_head;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    metrics_add(s->metrics, "katto_http_connections_evicted_total", "", 1);
    s->evicted_unlogged++;
    if (s->evict_logged.tv_sec == 0 || now.tv_sec - s->evict_logged.tv_sec >= EVICT_LOG_INTERVAL) {
        log_warn("http.evicted",
                 "evicted=%llu waited_s=%lld connections=%zu limit=%ld "
                 "reason=\"at the connection cap: closed the connection longest without a "
                 "complete request\"",
                 s->evicted_unlogged, (long long)(now.tv_sec - c->since.tv_sec), s->open,
                 s->limits.max_connections);
        s->evicted_unlogged = 0;
        s->evict_logged = now;
    }
    /* Calls conn_closed_cb, which unlinks and frees c. */
    evhttp_connection_free(c->evcon);
}

static void adopt_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;

    (void)fd;
    (void)what;
    for (size_t i = 0; i < s->npending; i++) {
        if (track(s, s->pending[i]) != 0) {
            /* Untracked: it still works, but without deadline and close count. */
            log_error("http.track", "problem=\"cannot track connection\"");
        }
    }
    s->npending = 0;
    update_listener(s); /* the adopted ones can be evicted now, if it had to pause */
}

static struct bufferevent *bev_factory(struct event_base *base, void *arg)
{
    struct http_server *s = arg;
    struct bufferevent *bev;

    if (s->npending == s->cappending) {
        size_t n = s->cappending ? s->cappending * 2 : 16;
        struct bufferevent **bigger = realloc(s->pending, n * sizeof(*bigger));

        if (bigger == NULL)
            return NULL;
        s->pending = bigger;
        s->cappending = n;
    }
    /* At the cap: make room (update_listener paused us if there was nothing to evict). */
    if (s->open >= (size_t)s->limits.max_connections && s->waiting_head != NULL)
        evict_oldest_waiting(s);
    /* No BEV_OPT_DEFER_CALLBACKS: see the file comment. */
    if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
        return NULL;
    s->pending[s->npending++] = bev;
    event_active(s->adopt_ev, EV_TIMEOUT, 0);
    s->open++;
    metrics_add(s->metrics, "katto_http_connections_total", "", 1);
    update_listener(s);
    return bev;
}

static void count(struct http_exchange *ex, int status)
{
    char labels[128];

    snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%d\"",
             ex->route != NULL ? ex->route->name : "unknown", status);
    metrics_add(ex->server->metrics, "katto_http_requests_total", labels, 1);
}

static void exchange_free(struct http_exchange *ex)
{
    struct http_server *s = ex->server;

    if (ex->prev != NULL)
        ex->prev->next = ex->next;
    else
        s->exchanges = ex->next;
    if (ex->next != NULL)
        ex->next->prev = ex->prev;
    s->in_flight--;
    free(ex->path);
    free(ex);
}

void http_exchange_reply(struct http_exchange *ex, int status, const char *content_type,
                         const char *body, size_t len)
{
    struct evhttp_request *req = ex->req;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *buf = evbuffer_new();
    struct http_conn *c = conn_of(ex->server, req);

    if (content_type != NULL)
        evhttp_add_header(out, "Content-Type", content_type);
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    if (buf != NULL && len > 0)
        evbuffer_add(buf, body, len);
    count(ex, status);
    /* The connection waits for its next request under the same deadline. */
    if (c != NULL)
        arm_deadline(c);
    evhttp_send_reply(req, status, reason_phrase(status), buf);
    evbuffer_free(buf);
    exchange_free(ex);
}

void http_exchange_error(struct http_exchange *ex, int status, const char *text)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "%s\n", text);

    http_exchange_reply(ex, status, "text/plain; charset=utf-8", body,
                        (size_t)n < sizeof(body) ? (size_t)n : sizeof(body) - 1);
}

unsigned http_exchange_method(const struct http_exchange *ex)
{
    return (unsigned)evhttp_request_get_command(ex->req);
}

const char *http_exchange_path(const struct http_exchange *ex)
{
    return ex->path;
}

const char *http_exchange_query(const struct http_exchange *ex)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ex->req);

    return uri != NULL ? evhttp_uri_get_query(uri) : NULL;
}

const char *http_exchange_header(const struct http_exchange *ex, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(ex->req), name);
}

const char *http_exchange_body(struct http_exchange *ex, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(ex->req);
    unsigned char *p;

    /* One spare byte for the NUL; the body was capped by max_body_bytes already. */
    if (evbuffer_add(in, "", 1) != 0 || (p = evbuffer_pullup(in, -1)) == NULL)
        return NULL;
    *len = evbuffer_get_length(in) - 1;
    return (const char *)p;
}

struct evhttp_request *http_exchange_request(struct http_exchange *ex)
{
    return ex->req;
}

void http_exchange_add_header(struct http_exchange *ex, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(ex->req), name, value);
}

static void allow_header(struct http_exchange *ex, unsigned methods)
{
    char allow[64] = "";

    if (methods & HTTP_GET)
        strcat(allow, "GET, HEAD");
    if (methods & HTTP_POST)
        strcat(allow, allow[0] ? ", POST" : "POST");
    http_exchange_add_header(ex, "Allow", allow);
}

/* The reply is out (evhttp calls this before it reads the next request or closes). */
static void reply_written(struct evhttp_request *req, void *arg)
{
    struct http_server *s = arg;
    struct http_conn *c = conn_of(s, req);

    if (c != NULL) {
        waiting_add(s, c);
        update_listener(s);
    }
}

static void request_cb(struct evhttp_request *req, void *arg)
{
    struct http_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    struct http_conn *c = conn_of(s, req);
    struct http_exchange *ex;
    unsigned method = (unsigned)evhttp_request_get_command(req);

    if (c != NULL) {
        event_del(c->deadline); /* the request is complete: the handler's time starts */
        /* Not evictable until its reply is written (reply_written). */
        waiting_remove(s, c);
        evhttp_request_set_on_complete_cb(req, reply_written, s);
        update_listener(s);
    }
    if ((ex = calloc(1, sizeof(*ex))) == NULL) {
        evhttp_send_error(req, 503, "Service Unavailable");
        return;
    }
    ex->server = s;
    ex->req = req;
    ex->next = s->exchanges;
    if (s->exchanges != NULL)
        s->exchanges->prev = ex;
    s->exchanges = ex;
    s->in_flight++;
    ex->path = evhttp_uridecode(raw != NULL && raw[0] != '\0' ? raw : "/", 0, NULL);
    if (ex->path == NULL) {
        http_exchange_error(ex, 400, "bad request");
        return;
    }
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct http_route *r = &s->routes[i];
        unsigned allowed = r->methods | ((r->methods & HTTP_GET) ? EVHTTP_REQ_HEAD : 0);

        if (strcmp(r->path, ex->path) != 0)
            continue;
        ex->route = r;
        if ((method & allowed) == 0) {
            allow_header(ex, r->methods);
            http_exchange_error(ex, 405, "method not allowed");
            return;
        }
        r->handler(ex, r->arg);
        return;
    }
    http_exchange_error(ex, 404, "not found");
}

struct http_server *http_server_new(struct event_base *base, const struct config_limits *limits,
                                    struct metrics *metrics, char *err)
{
    struct http_server *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    s->base = base;
    s->limits = *limits;
    s->metrics = metrics;
    s->accepting = true;
    if ((s->http = evhttp_new(base)) == NULL ||
        (s->adopt_ev = event_new(base, -1, 0, adopt_cb, s)) == NULL) {
        err_set(err, "cannot create HTTP server");
        http_server_free(s);
        return NULL;
    }
    evhttp_set_max_body_size(s->http, limits->max_body_bytes);
    evhttp_set_max_headers_size(s->http, limits->max_header_bytes);
    evhttp_set_timeout(s->http, (int)limits->idle_timeout);
    evhttp_set_allowed_methods(s->http, ALL_METHODS);
    evhttp_set_bevcb(s->http, bev_factory, s);
    evhttp_set_gencb(s->http, request_cb, s);
    metrics_declare(metrics, "katto_http_requests_total", "counter",
                    "HTTP requests answered by Katto's handlers, by route and status.");
    metrics_declare(metrics, "katto_http_connections_total", "counter",
                    "Client connections accepted.");
    metrics_declare(metrics, "katto_http_request_deadline_total", "counter",
                    "Connections closed because a complete request did not arrive in time.");
    metrics_declare(metrics, "katto_http_connections_evicted_total", "counter",
                    "Connections closed at the connection cap to make room for a new one: the "
                    "one longest without a complete request.");
    return s;
}

void http_server_free(struct http_server *s)
{
    if (s == NULL)
        return;
    while (s->exchanges != NULL)
        http_exchange_error(s->exchanges, 503, "shutting down");
    s->accepting = false;
    s->listener = NULL; /* evhttp_free frees it; closing connections must not touch it */
    if (s->http != NULL)
        evhttp_free(s->http); /* closes connections: conn_closed_cb frees their state */
    /* Accepted in this very turn and never adopted: evhttp_free released them. */
    s->npending = 0;
    if (s->adopt_ev != NULL)
        event_free(s->adopt_ev);
    for (size_t i = 0; i < s->nroutes; i++)
        free(s->routes[i].path);
    free(s->routes);
    free(s->pending);
    free(s->by_fd);
    free(s);
}

int http_server_route(struct http_server *s, const char *name, const char *path, unsigned methods,
                      http_handler_cb *handler, void *arg)
{
    struct http_route *bigger = realloc(s->routes, (s->nroutes + 1) * sizeof(*bigger));

    if (bigger == NULL)
        return -1;
    s->routes = bigger;
    if ((bigger[s->nroutes].path = strdup(path)) == NULL)
        return -1;
    bigger[s->nroutes].name = name;
    bigger[s->nroutes].methods = methods;
    bigger[s->nroutes].handler = handler;
    bigger[s->nroutes].arg = arg;
    s->nroutes++;
    return 0;
}

int http_server_listen(struct http_server *s, const char *host, int port, int *bound_port,
                       char *err)
{
    struct evhttp_bound_socket *bound;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);

    bound = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
    if (bound == NULL) {
        err_set(err, "cannot listen on %s:%d (address in use, or not a local address?)", host,
                port);
        return -1;
    }
    s->listener = evhttp_bound_socket_get_listener(bound);
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sslen) != 0) {
        err_set(err, "cannot read the bound address");
        return -1;
    }
    *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

void http_server_stop_accepting(struct http_server *s)
{
    s->accepting = false;
    update_listener(s);
}

size_t http_server_in_flight(const struct http_server *s)
{
    return s->in_flight;
}

size_t http_server_connections(const struct http_server *s)
{
    return s->open;
}

const struct sockaddr *http_exchange_peer(struct http_exchange *ex)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(http_exchange_request(ex));

    return evcon != NULL ? evhttp_connection_get_addr(evcon) : NULL;
}

bool http_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

bool http_exchange_over_tls(struct http_exchange *ex, bool trusted_proxy)
{
    const struct sockaddr *peer = http_exchange_peer(ex);
    const char *proto;

    if (peer == NULL || !http_addr_is_loopback(peer))
        return false;
    if (!trusted_proxy)
        return true;
    proto = http_exchange_header(ex, "X-Forwarded-Proto");
    return proto != NULL && strcasecmp(proto, "https") == 0;
}

size_t http_exchange_cookie(const struct http_exchange *ex, const char *name, const char *charset,
                            char *out, size_t cap)
{
    const char *h = http_exchange_header(ex, "Cookie"), *p = h;
    size_t n = strlen(name), len;

    out[0] = '\0';
    /* "name=" at the start of a cookie, not inside another one's name. */
    while (p != NULL && (p = strstr(p, name)) != NULL) {
        if ((p == h || p[-1] == ' ' || p[-1] == ';') && p[n] == '=')
            break;
        p += n;
    }
    if (p == NULL)
        return 0;
    p += n + 1;
    len = strspn(p, charset);
    if (len == 0 || len >= cap || (p[len] != '\0' && p[len] != ';' && p[len] != ' '))
        return 0;
    memcpy(out, p, len);
    out[len] = '\0';
    return len;
}
