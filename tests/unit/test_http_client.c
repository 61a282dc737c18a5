/*
 * test_http_client.c: unit tests for http_client.c against an evhttp server
 * on 127.0.0.1:0 running on the same event_base, so one event_base_dispatch
 * drives both ends. Every request's callback is counted: each must fire
 * exactly once, never from inside http_client_send, and a watchdog stops any
 * test after 2 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http_client.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define MAX_CALLS 16
#define MAX_HELD 16

struct fixture;

/* One request's outcome, copied out of the callback. */
struct call {
    struct fixture *fx;
    int calls;
    int curl_code;
    long status;
    char *body;
    size_t body_len;
    char *retry_after;
    char *error;
    double seconds;
    int resend_rc; /* result of a send tried from inside the callback */
    void (*then)(struct call *call);
};

struct fixture {
    struct event_base *base;
    struct evhttp *http;
    struct event *watchdog;
    struct http_client *client;
    char url[64];     /* http://127.0.0.1:PORT */
    int refused_sock; /* bound, never listening: connects to it are refused */
    int refused_port;
    int expected, fired; /* callbacks wanted before the loop stops, and seen */
    bool in_send;        /* a callback during http_client_send is a bug */
    bool callback_in_send;
    struct evhttp_request *held[MAX_HELD]; /* /hang requests, answered at teardown */
    int nheld;
    int stop_at_held;          /* loopexit when this many /hang requests arrived */
    int slow_active, slow_max; /* concurrent /slow requests */
    struct call calls[MAX_CALLS];
    int ncalls;
};

/* ---- the server */

static void reply(struct evhttp_request *req, int code, const char *reason, const char *body)
{
    struct evbuffer *out = evbuffer_new();

    evbuffer_add(out, body, strlen(body));
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

static void echo_cb(struct evhttp_request *req, void *arg)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    const char *auth = evhttp_find_header(in, "Authorization");
    const char *test = evhttp_find_header(in, "X-Test");
    const char *ctype = evhttp_find_header(in, "Content-Type");
    const char *expect = evhttp_find_header(in, "Expect");
    const char *method = evhttp_request_get_command(req) == EVHTTP_REQ_POST  ? "POST"
                         : evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET"
                         : evhttp_request_get_command(req) == EVHTTP_REQ_PUT ? "PUT"
                                                                             : "other";
    struct evbuffer *out = evbuffer_new();

    (void)arg;
    evbuffer_add_printf(out, "method=%s auth=%s x-test=%s ctype=%s expect=%s body=", method,
                        auth ? auth : "-", test ? test : "-", ctype ? ctype : "-",
                        expect ? expect : "-");
    evbuffer_add_buffer(out, body);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void ok_cb(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply(req, 200, "OK", "hello");
}

static void too_many_cb(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "7");
    reply(req, 429, "Too Many Requests", "slow down");
}

static void error_cb(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply(req, 500, "Internal Server Error", "broken");
}

static void hang_cb(struct evhttp_request *req, void *arg)
{
    struct fixture *fx = arg;

    assert_true(fx->nheld < MAX_HELD);
    fx->held[fx->nheld++] = req;
    if (fx->stop_at_held > 0 && fx->nheld == fx->stop_at_held)
        event_base_loopexit(fx->base, NULL);
}

static void sized_reply(struct evhttp_request *req, size_t n, bool chunked)
{
    struct evbuffer *out = evbuffer_new();
    char *big = malloc(n);

    assert_non_null(big);
    memset(big, 'x', n);
    evbuffer_add(out, big, n);
    free(big);
    if (chunked) {
        evhttp_send_reply_start(req, 200, "OK");
        evhttp_send_reply_chunk(req, out);
        evhttp_send_reply_end(req);
    } else {
        evhttp_send_reply(req, 200, "OK", out);
    }
    evbuffer_free(out);
}

static void exact_cb(struct evhttp_request *req, void *arg)
{
    (void)arg;
    sized_reply(req, HTTP_CLIENT_MAX_RESPONSE, false);
}

static void big_cb(struct evhttp_request *req, void *arg)
{
    (void)arg;
    sized_reply(req, 100 * 1024, false);
}

static void big_chunked_cb(struct evhttp_request *req, void *arg)
{
    (void)arg;
    sized_reply(req, 100 * 1024, true);
}

struct slow {
    struct fixture *fx;
    struct evhttp_request *req;
};

static void slow_reply_cb(evutil_socket_t fd, short what, void *arg)
{
    struct slow *s = arg;

    (void)fd;
    (void)what;
    s->fx->slow_active--;
    reply(s->req, 200, "OK", "slow");
    free(s);
}

/* Answers after 50 ms, counting how many are in progress at once. */
static void slow_cb(struct evhttp_request *req, void *arg)
{
    struct fixture *fx = arg;
    struct slow *s = malloc(sizeof(*s));
    struct timeval tv = {0, 50 * 1000};

    assert_non_null(s);
    s->fx = fx;
    s->req = req;
    if (++fx->slow_active > fx->slow_max)
        fx->slow_max = fx->slow_active;
    assert_int_equal(event_base_once(fx->base, -1, EV_TIMEOUT, slow_reply_cb, s, &tv), 0);
}

static int bound_port(int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
        return -1;
    return ntohs(sin.sin_port);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    struct fixture *fx = arg;

    (void)fd;
    (void)what;
    fprintf(stderr, "watchdog: %d of %d callbacks after 2 s\n", fx->fired, fx->expected);
    event_base_loopexit(fx->base, NULL);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct evhttp_bound_socket *bound;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    char err[256];

    if (fx == NULL)
        return -1;
    fx->base = event_base_new();
    fx->http = evhttp_new(fx->base);
    fx->watchdog = evtimer_new(fx->base, watchdog_cb, fx);
    if (fx->base == NULL || fx->http == NULL || fx->watchdog == NULL)
        return -1;
    bound = evhttp_bind_socket_with_handle(fx->http, "127.0.0.1", 0);
    if (bound == NULL)
        return -1;
    snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%d",
             bound_port(evhttp_bound_socket_get_fd(bound)));
    evhttp_set_cb(fx->http, "/echo", echo_cb, fx);
    evhttp_set_cb(fx->http, "/ok", ok_cb, fx);
    evhttp_set_cb(fx->http, "/429", too_many_cb, fx);
    evhttp_set_cb(fx->http, "/500", error_cb, fx);
    evhttp_set_cb(fx->http, "/hang", hang_cb, fx);
    evhttp_set_cb(fx->http, "/exact", exact_cb, fx);
    evhttp_set_cb(fx->http, "/big", big_cb, fx);
    evhttp_set_cb(fx->http, "/bigchunked", big_chunked_cb, fx);
    evhttp_set_cb(fx->http, "/slow", slow_cb, fx);

    /* A port that is bound but not listening refuses connections, and nobody else can take it. */
    fx->refused_sock = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fx->refused_sock < 0 || bind(fx->refused_sock, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        return -1;
    fx->refused_port = bound_port(fx->refused_sock);

    fx->client = http_client_new(fx->base, 8, err);
    if (fx->client == NULL) {
        fprintf(stderr, "http_client_new: %s\n", err);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    int rc = 0;

    http_client_free(fx->client);
    for (int i = 0; i < fx->ncalls; i++) {
        if (fx->calls[i].calls > 1) {
            fprintf(stderr, "request %d: callback called %d times\n", i, fx->calls[i].calls);
            rc = -1;
        }
        free(fx->calls[i].body);
        free(fx->calls[i].retry_after);
        free(fx->calls[i].error);
    }
    /* evhttp frees a request handed to us only once it is answered. */
    for (int i = 0; i < fx->nheld; i++)
        evhttp_send_reply(fx->held[i], 200, "OK", NULL);
    evhttp_free(fx->http);
    event_free(fx->watchdog);
    close(fx->refused_sock);
    event_base_free(fx->base);
    free(fx);
    return rc;
}

/* ---- the client side */

static char *dup_or_null(const char *s, size_t n)
{
    char *copy;

    if (s == NULL)
        return NULL;
    copy = malloc(n + 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

static void done_cb(const struct http_result *res, void *arg)
{
    struct call *call = arg;
    struct fixture *fx = call->fx;

    if (fx->in_send)
        fx->callback_in_send = true;
    call->calls++;
    call->curl_code = res->curl_code;
    call->status = res->status;
    assert_non_null(res->body);
    assert_int_equal(strlen(res->body), res->body_len);
    free(call->body);
    call->body = dup_or_null(res->body, res->body_len);
    call->body_len = res->body_len;
    free(call->retry_after);
    call->retry_after =
        dup_or_null(res->retry_after, res->retry_after ? strlen(res->retry_after) : 0);
    free(call->error);
    call->error = dup_or_null(res->error, res->error ? strlen(res->error) : 0);
    call->seconds = res->seconds;
    if (call->then != NULL)
        call->then(call);
    if (++fx->fired == fx->expected)
        event_base_loopexit(fx->base, NULL);
}

static struct call *new_call(struct fixture *fx)
{
    struct call *call;

    assert_true(fx->ncalls < MAX_CALLS);
    call = &fx->calls[fx->ncalls++];
    call->fx = fx;
    return call;
}

/* Sends method url (a path on the test server, or a full URL) and returns its record. */
static struct call *send_req(struct fixture *fx, const char *method, const char *path,
                             long timeout_ms)
{
    struct call *call = new_call(fx);
    char url[256];
    struct http_client_request req = {.method = method, .url = url, .timeout_ms = timeout_ms};

    if (path[0] == '/')
        snprintf(url, sizeof(url), "%s%s", fx->url, path);
    else
        snprintf(url, sizeof(url), "%s", path);
    fx->in_send = true;
    assert_int_equal(http_client_send(fx->client, &req, done_cb, call), 0);
    fx->in_send = false;
    return call;
}

/* Runs the loop until fx->fired reaches expected (or the watchdog fires). */
static void run_until(struct fixture *fx, int expected)
{
    struct timeval two_s = {2, 0};

    fx->expected = expected;
    evtimer_add(fx->watchdog, &two_s);
    event_base_dispatch(fx->base);
    evtimer_del(fx->watchdog);
    assert_int_equal(fx->fired, expected);
    assert_false(fx->callback_in_send);
}

/* ---- tests */

static void post_sends_body_headers_and_auth(void **state)
{
    struct fixture *fx = *state;
    static const char *const headers[] = {"X-Test: yes", "Content-Type: application/json"};
    char url[128], body[2048];
    struct call *call = new_call(fx);
    struct http_client_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .nheaders = N_ROWS(headers),
        .userpwd = "user:pass",
        .body = body,
        .body_len = sizeof(body) - 1,
        .timeout_ms = 1000,
    };

    /* Over 1 KiB, where curl before 7.69 sent "Expect: 100-continue"; the client never does. */
    memset(body, 'b', sizeof(body) - 1);
    body[0] = '{';
    body[sizeof(body) - 1] = '\0';
    snprintf(url, sizeof(url), "%s/echo", fx->url);
    fx->in_send = true;
    assert_int_equal(http_client_send(fx->client, &req, done_cb, call), 0);
    fx->in_send = false;
    /* Everything was copied: scribbling over the inputs changes nothing. */
    memset(url, 0, sizeof(url));
    memset(body, 0, sizeof(body));
    assert_int_equal(http_client_running(fx->client), 1);
    assert_int_equal(call->calls, 0);
    run_until(fx, 1);
    assert_int_equal(call->calls, 1);
    assert_int_equal(call->curl_code, CURLE_OK);
    assert_int_equal(call->status, 200);
    assert_null(call->error);
    assert_null(call->retry_after);
    assert_true(call->seconds > 0 && call->seconds < 1);
    assert_non_null(strstr(call->body, "method=POST auth=Basic dXNlcjpwYXNz x-test=yes "
                                       "ctype=application/json expect=- body={bbb"));
    assert_int_equal(call->body_len, strlen("method=POST auth=Basic dXNlcjpwYXNz x-test=yes "
                                            "ctype=application/json expect=- body=") +
                                         sizeof(body) - 1);
    assert_int_equal(http_client_running(fx->client), 0);
}

static void get_and_put_use_their_methods(void **state)
{
    struct fixture *fx = *state;
    struct call *get = send_req(fx, "GET", "/echo", 1000);
    struct call *put = send_req(fx, "PUT", "/echo", 1000);

    run_until(fx, 2);
    assert_int_equal(get->status, 200);
    assert_non_null(strstr(get->body, "method=GET "));
    assert_int_equal(put->status, 200);
    assert_non_null(strstr(put->body, "method=PUT "));
}

static void http_errors_complete_with_status_and_retry_after(void **state)
{
    struct fixture *fx = *state;
    struct call *ok = send_req(fx, NULL, "/ok", 1000);
    struct call *limited = send_req(fx, "POST", "/429", 1000);
    struct call *broken = send_req(fx, "POST", "/500", 1000);
    struct call *missing = send_req(fx, "POST", "/nowhere", 1000);

    run_until(fx, 4);
    assert_int_equal(ok->curl_code, CURLE_OK);
    assert_int_equal(ok->status, 200);
    assert_string_equal(ok->body, "hello");
    assert_int_equal(limited->curl_code, CURLE_OK);
    assert_int_equal(limited->status, 429);
    assert_string_equal(limited->retry_after, "7");
    assert_string_equal(limited->body, "slow down");
    assert_int_equal(broken->curl_code, CURLE_OK);
    assert_int_equal(broken->status, 500);
    assert_null(broken->retry_after);
    assert_int_equal(missing->curl_code, CURLE_OK);
    assert_int_equal(missing->status, 404);
}

static void a_silent_server_times_out(void **state)
{
    struct fixture *fx = *state;
    struct call *call = send_req(fx, "POST", "/hang", 200);

    run_until(fx, 1);
    assert_int_equal(call->calls, 1);
    assert_int_equal(call->curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(call->status, 0);
    assert_non_null(call->error);
    assert_true(call->seconds >= 0.15 && call->seconds < 1.0);
    assert_int_equal(fx->nheld, 1);
}

static void a_closed_port_is_refused(void **state)
{
    struct fixture *fx = *state;
    char url[64];
    struct call *call;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", fx->refused_port);
    call = send_req(fx, "POST", url, 1000);
    assert_int_equal(call->calls, 0);
    run_until(fx, 1);
    assert_int_equal(call->curl_code, CURLE_COULDNT_CONNECT);
    assert_int_equal(call->status, 0);
    assert_non_null(call->error);
    assert_string_equal(call->body, "");
}

static void other_schemes_fail_the_transfer(void **state)
{
    struct fixture *fx = *state;
    struct call *call = send_req(fx, "POST", "ftp://127.0.0.1/file", 1000);

    assert_int_equal(call->calls, 0);
    run_until(fx, 1);
    assert_int_equal(call->curl_code, CURLE_UNSUPPORTED_PROTOCOL);
}

struct size_row {
    const char *path;
    int curl_code;
};

static const struct size_row size_rows[] = {
    {"/exact", CURLE_OK},                     /* exactly the limit */
    {"/big", CURLE_FILESIZE_EXCEEDED},        /* Content-Length over it: refused up front */
    {"/bigchunked", CURLE_FILESIZE_EXCEEDED}, /* no length: the write callback stops it */
};

static void response_bodies_are_capped(void **state)
{
    struct fixture *fx = *state;
    struct call *calls[N_ROWS(size_rows)];

    for (size_t i = 0; i < N_ROWS(size_rows); i++)
        calls[i] = send_req(fx, "POST", size_rows[i].path, 1000);
    run_until(fx, (int)N_ROWS(size_rows));
    for (size_t i = 0; i < N_ROWS(size_rows); i++) {
        if (calls[i]->curl_code != size_rows[i].curl_code)
            fail_msg("%s: curl code %d, expected %d (%s)", size_rows[i].path, calls[i]->curl_code,
                     size_rows[i].curl_code, calls[i]->error ? calls[i]->error : "");
        assert_true(calls[i]->body_len <= HTTP_CLIENT_MAX_RESPONSE);
    }
    assert_int_equal(calls[0]->body_len, HTTP_CLIENT_MAX_RESPONSE);
    assert_non_null(calls[2]->error);
}

static void parallel_requests_respect_the_per_host_limit(void **state)
{
    struct fixture *fx = *state;
    struct call *calls[8];
    char err[256];

    http_client_free(fx->client);
    fx->client = http_client_new(fx->base, 2, err);
    assert_non_null(fx->client);
    for (size_t i = 0; i < N_ROWS(calls); i++)
        calls[i] = send_req(fx, "POST", "/slow", 1500);
    assert_int_equal(http_client_running(fx->client), N_ROWS(calls));
    run_until(fx, (int)N_ROWS(calls));
    for (size_t i = 0; i < N_ROWS(calls); i++) {
        assert_int_equal(calls[i]->calls, 1);
        assert_int_equal(calls[i]->curl_code, CURLE_OK);
        assert_string_equal(calls[i]->body, "slow");
    }
    assert_int_equal(fx->slow_max, 2);
    assert_int_equal(http_client_running(fx->client), 0);
}

static void send_next(struct call *call)
{
    struct fixture *fx = call->fx;
    struct call *next = new_call(fx);
    char url[128];
    struct http_client_request req = {.url = url, .timeout_ms = 1000};

    snprintf(url, sizeof(url), "%s/ok", fx->url);
    call->resend_rc = http_client_send(fx->client, &req, done_cb, next);
}

static void a_callback_may_send_the_next_request(void **state)
{
    struct fixture *fx = *state;
    struct call *first = send_req(fx, "POST", "/429", 1000);

    first->then = send_next;
    run_until(fx, 2);
    assert_int_equal(first->resend_rc, 0);
    assert_int_equal(first->status, 429);
    assert_int_equal(fx->calls[1].calls, 1);
    assert_int_equal(fx->calls[1].status, 200);
}

static void free_cancels_requests_in_flight_once_each(void **state)
{
    struct fixture *fx = *state;
    struct call *calls[3];

    for (size_t i = 0; i < N_ROWS(calls); i++) {
        calls[i] = send_req(fx, "POST", "/hang", 1500);
        calls[i]->then = send_next;
    }
    /* Stop once the server holds all three, so they are truly in flight. */
    fx->stop_at_held = 3;
    run_until(fx, 0);
    assert_int_equal(fx->nheld, 3);
    assert_int_equal(http_client_running(fx->client), 3);
    http_client_free(fx->client);
    fx->client = NULL;
    for (size_t i = 0; i < N_ROWS(calls); i++) {
        assert_int_equal(calls[i]->calls, 1);
        assert_int_equal(calls[i]->curl_code, CURLE_ABORTED_BY_CALLBACK);
        assert_non_null(calls[i]->error);
        /* A client being freed takes no new work. */
        assert_int_equal(calls[i]->resend_rc, -1);
    }
    /* The failed resends' records were never called. */
    for (int i = (int)N_ROWS(calls); i < fx->ncalls; i++)
        assert_int_equal(fx->calls[i].calls, 0);
}

static void invalid_requests_fail_without_a_callback(void **state)
{
    struct fixture *fx = *state;
    struct call *call = new_call(fx);
    struct http_client_request no_url = {.method = "POST"};
    struct http_client_request no_headers = {.url = "http://127.0.0.1/", .nheaders = 1};
    struct http_client_request no_body = {.url = "http://127.0.0.1/", .body_len = 3};
    struct http_client_request fine = {.url = "http://127.0.0.1/"};

    assert_int_equal(http_client_send(fx->client, &no_url, done_cb, call), -1);
    assert_int_equal(http_client_send(fx->client, &no_headers, done_cb, call), -1);
    assert_int_equal(http_client_send(fx->client, &no_body, done_cb, call), -1);
    assert_int_equal(http_client_send(fx->client, &fine, NULL, call), -1);
    assert_int_equal(http_client_send(NULL, &fine, done_cb, call), -1);
    assert_int_equal(http_client_running(fx->client), 0);
    assert_int_equal(call->calls, 0);
    http_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(post_sends_body_headers_and_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(get_and_put_use_their_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(http_errors_complete_with_status_and_retry_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_silent_server_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(a_closed_port_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(other_schemes_fail_the_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(response_bodies_are_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(parallel_requests_respect_the_per_host_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_callback_may_send_the_next_request, setup, teardown),
        cmocka_unit_test_setup_teardown(free_cancels_requests_in_flight_once_each, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_requests_fail_without_a_callback, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
