/*
 * baseline.c: the ceiling of Katto's HTTP stack on this machine, for scripts/bench.
 *
 * A bare libevent evhttp server on 127.0.0.1 that answers every POST with the same
 * 60-byte text body (anything else gets 405). No parsing, no database, no logging:
 * what is left is libevent's accept, HTTP parsing and reply path, which Katto shares.
 *
 *   baseline PORT_FILE      listen on a free port and write it to PORT_FILE
 *
 * Exits 0 on SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* Exactly 60 bytes, about the size of a short USSD screen or a webhook acknowledgement. */
static const char BODY[] = "OK: baseline answer, sixty bytes of fixed text for wrk.....\n";

static void on_request(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);

    (void)arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        evhttp_send_error(req, 405, NULL);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    evbuffer_add_reference(out, BODY, sizeof(BODY) - 1, NULL, NULL);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    struct event *term, *intr;
    char tmp[4096];
    FILE *f;

    _Static_assert(sizeof(BODY) - 1 == 60, "the baseline body is 60 bytes");
    if (argc != 2) {
        fprintf(stderr, "usage: baseline PORT_FILE\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((base = event_base_new()) == NULL || (http = evhttp_new(base)) == NULL)
        return 1;
    evhttp_set_gencb(http, on_request, NULL);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_POST | EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    if ((bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0)) == NULL ||
        getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &salen) != 0) {
        perror("baseline: listen");
        return 1;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
    if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 ||
        fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
        perror("baseline: port file");
        return 1;
    }
    term = evsignal_new(base, SIGTERM, on_signal, base);
    intr = evsignal_new(base, SIGINT, on_signal, base);
    evsignal_add(term, NULL);
    evsignal_add(intr, NULL);
    event_base_dispatch(base);
    event_free(term);
    event_free(intr);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
