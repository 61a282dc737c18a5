/*
 * test_hostile.c: hostile clients against the real katto: slowloris
 * connections past the connection cap, a flood of connect-and-idle sockets
 * and huge headers, while a signed gateway webhook still gets its 2xx and its
 * reply reaches the gateway emulator; and a client that keeps trickling
 * header bytes is still cut off at the request deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define TWILIO_SID "AC00000000000000000000000000000001"
#define TWILIO_TOKEN "twilio-test-token"
#define CLIENT "+358401234567"
#define CAP 8           /* limits.max_connections in these tests */
#define SLOWLORIS CAP   /* enough to fill the cap on their own */
#define FLOOD (3 * CAP) /* connect-and-idle sockets, in two waves */
#define HUGE 3          /* requests with headers over limits.max_header_bytes */

struct world {
    struct testlib_emu emu;
    struct testlib_server s;
};

static void start_world(struct world *w, const char *limits)
{
    static const char *const emu_args[] = {"--twilio-sid", TWILIO_SID, "--twilio-token",
                                           TWILIO_TOKEN, NULL};
    char *json;

    memset(w, 0, sizeof(*w));
    assert_int_equal(testlib_emu_start(&w->emu, 0, emu_args), 0);
    assert_true(asprintf(&json,
                         "\"gateways\": {\"twilio\": {\"account_sid\": \"%s\", \"auth_token\": "
                         "\"%s\", \"from\": \"+15005550006\", \"base_url\": \"%s\"}},"
                         "\"default_gateway\": \"twilio\", \"limits\": {%s}",
                         TWILIO_SID, TWILIO_TOKEN, w->emu.base_url, limits) > 0);
    assert_int_equal(testlib_server_start(&w->s, json, NULL), 0);
    free(json);
}

static void stop_world(struct world *w)
{
    assert_int_equal(testlib_server_stop(&w->s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&w->s));
    testlib_emu_stop(&w->emu);
    testlib_server_release(&w->s);
    testlib_emu_release(&w->emu);
}

/* Posts a signed Twilio inbound SMS; returns the HTTP status. */
static long post_twilio(const struct world *w, const char *sid, const char *text)
{
    return testlib_send_twilio(w->s.base_url, TWILIO_TOKEN, TWILIO_SID, sid, CLIENT, text, NULL);
}

struct want {
    const struct world *w;
    int n;
};

static bool have_replies(void *arg)
{
    const struct want *want = arg;

    return testlib_emu_count(&want->w->emu, "twilio", 1) >= want->n;
}

/* A slowloris client: a request line and one header, never the blank line that ends them. */
static int slowloris(int port)
{
    static const char part[] = "POST /webhooks/twilio/sms HTTP/1.1\r\nHost: x\r\n";
    int fd = testlib_connect(port);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, part, sizeof(part) - 1), (ssize_t)(sizeof(part) - 1));
    return fd;
}

/*
 * Sends a request whose headers are far over the limit and reads what comes
 * back until the server closes, into out (NUL-terminated). True if it closed
 * within timeout_ms.
 */
static bool huge_headers(int port, char *out, size_t cap, int timeout_ms)
{
    int fd = testlib_connect(port);
    size_t big = 16 * 1024, used = 0;
    char *req = malloc(big + 128);
    int n;

    assert_true(fd >= 0);
    assert_non_null(req);
    n = snprintf(req, 128, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\n\r\n", 4);
    /* The server may answer and close before it has read everything: ignore EPIPE/ECONNRESET. */
    (void)send(fd, req, (size_t)n + big + 4, MSG_NOSIGNAL);
    free(req);
    out[0] = '\0';
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, timeout_ms) <= 0) {
            close(fd);
            return false;
        }
        r = recv(fd, out + used, cap - 1 - used, 0);
        if (r <= 0)
            break;
        used += (size_t)r;
        out[used] = '\0';
        if (used == cap - 1)
            used = 0; /* keep reading to the close; the status line was seen */
    }
    close(fd);
    return true;
}

static long long metric(const struct world *w, const char *sample)
{
    struct testlib_response r;
    char url[128];
    char line[128];
    const char *p;
    long long v = 0; /* a counter not yet incremented has no sample */

    /* The sample line, not the # HELP line that also names it. */
    snprintf(line, sizeof(line), "\n%s ", sample);
    snprintf(url, sizeof(url), "%s/metrics", w->s.base_url);
    assert_int_equal(testlib_http("GET", url, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    if ((p = strstr(r.body, line)) != NULL)
        v = atoll(p + strlen(line));
    testlib_response_release(&r);
    return v;
}

static void open_flood(int *fds, int n, int port)
{
    for (int i = 0; i < n; i++) {
        fds[i] = testlib_connect(port);
        assert_true(fds[i] >= 0);
    }
}

static void slowloris_floods_and_huge_headers_do_not_lock_out_a_gateway(void **state)
{
    struct world w;
    struct want want;
    int slow[SLOWLORIS], flood[FLOOD];
    char answer[512], *log;
    struct timespec t0, t1;

    (void)state;
    /* header_timeout far beyond the test: eviction, not the deadline, must make the room. */
    start_world(&w, "\"max_connections\": 8, \"header_timeout\": 120, \"idle_timeout\": 120, "
                    "\"max_header_bytes\": 4096");
    want.w = &w;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* The cap is full of slowloris clients, then a first wave of idle sockets arrives. */
    for (int i = 0; i < SLOWLORIS; i++)
        slow[i] = slowloris(w.s.port);
    open_flood(flood, FLOOD / 2, w.s.port);

    /* A gateway still gets through, and its reply goes out. */
    assert_int_equal(post_twilio(&w, "SM00000000000000000000000000000101", "APUA"), 200);
    want.n = 1;
    assert_true(testlib_wait_for(have_replies, &want, 10000));

    /* Huge headers: a quick 400 and a close, the others undisturbed. */
    for (int i = 0; i < HUGE; i++) {
        assert_true(huge_headers(w.s.port, answer, sizeof(answer), 5000));
        if (strncmp(answer, "HTTP/1.1 400 ", 13) != 0)
            fail_msg("huge headers got: %.60s", answer);
    }

    /* A second wave of idle sockets, and a second message from the gateway. */
    open_flood(flood + FLOOD / 2, FLOOD - FLOOD / 2, w.s.port);
    assert_int_equal(post_twilio(&w, "SM00000000000000000000000000000102", "1"), 200);
    want.n = 2;
    assert_true(testlib_wait_for(have_replies, &want, 10000));

    /* The slowloris clients were the oldest: all of them were evicted. */
    for (int i = 0; i < SLOWLORIS; i++)
        assert_true(testlib_socket_closed(slow[i], 5000));
    /* Every connection past the cap cost an older waiting one its place. */
    assert_true(metric(&w, "katto_http_connections_evicted_total") >= SLOWLORIS + FLOOD - CAP);
    assert_true(metric(&w, "katto_http_connections_open") <= CAP);
    /* Generous: the deadline (120 s) played no part. */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 60);
    assert_int_equal(metric(&w, "katto_http_request_deadline_total"), 0);

    /* Logged, once per burst, with no address or number in it. */
    log = testlib_read_file(w.s.log_path, NULL);
    assert_non_null(log);
    char *line = strstr(log, "event=http.evicted");
    assert_non_null(line);
    char *eol = strchr(line, '\n');
    if (eol != NULL)
        *eol = '\0';
    assert_null(strstr(line, "127.0.0.1"));
    assert_null(strstr(line, "358401234567"));
    assert_null(strstr(line, "port"));
    free(log);

    for (int i = 0; i < SLOWLORIS; i++)
        close(slow[i]);
    for (int i = 0; i < FLOOD; i++)
        close(flood[i]);
    stop_world(&w);
}

/* Unlike the idle timeout, the request deadline is not reset by each byte that trickles in. */
static void trickled_header_bytes_hit_the_request_deadline(void **state)
{
    struct world w;
    struct timespec t0, t1;
    int fd;
    bool closed = false;

    (void)state;
    start_world(&w, "\"header_timeout\": 2, \"idle_timeout\": 60");
    fd = testlib_connect(w.s.port);
    assert_true(fd >= 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(write(fd, "GET /healthz HTTP/1.1\r\n", 23), 23);
    /* One byte of a header every 200 ms, for up to 20 s: the server must cut it first. */
    for (int i = 0; i < 100 && !closed; i++) {
        if (send(fd, "X", 1, MSG_NOSIGNAL) != 1)
            closed = true;
        else
            closed = testlib_socket_closed(fd, 200);
    }
    assert_true(closed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 15); /* the deadline is 2 s; this bound is generous */
    close(fd);
    assert_int_equal(metric(&w, "katto_http_request_deadline_total"), 1);
    stop_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slowloris_floods_and_huge_headers_do_not_lock_out_a_gateway),
        cmocka_unit_test(trickled_header_bytes_hit_the_request_deadline),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
