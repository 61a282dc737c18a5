/*
 * http_client.c: libcurl's multi_socket API on a libevent event_base (curl's
 * docs/examples/hiperfifo.c, see style.md section 3). libcurl tells us which
 * sockets to watch (socket_cb) and when to wake it (timer_cb); we tell it
 * what happened with curl_multi_socket_action() and then drain finished
 * transfers with curl_multi_info_read(). Done callbacks run only from that
 * drain (or from http_client_free), never from inside a libcurl callback,
 * because libcurl forbids calling it back from there.
 */
#include "http_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event_struct.h>

#include "buf.h"
#include "err.h"
#include "log.h"

#ifndef KATTO_VERSION
#define KATTO_VERSION "dev"
#endif

#define RETRY_AFTER_MAX 64 /* longer Retry-After values are ignored */

/* One request in flight; its easy handle points back here through CURLOPT_PRIVATE. */
struct job {
    CURL *easy;
    struct curl_slist *headers;            /* must outlive the transfer: curl does not copy */
    struct buf body;                       /* response body, capped */
    bool too_big;                          /* the write callback refused more */
    char retry_after[RETRY_AFTER_MAX + 1]; /* "" if none */
    char errbuf[CURL_ERROR_SIZE];          /* CURLOPT_ERRORBUFFER */
    http_client_done_cb *done;
    void *arg;
    struct job *prev, *next; /* client->jobs */
};

/* One socket libcurl wants watched; attached to it with curl_multi_assign(). */
struct sock {
    struct event ev; /* EV_PERSIST read and/or write event on fd */
    curl_socket_t fd;
    struct sock *prev, *next; /* client->socks */
};

struct http_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer; /* the single timer libcurl asks for */
    struct job *jobs;    /* in flight */
    size_t njobs;
    struct sock *socks; /* watched sockets */
    int dispatching;    /* > 0 while a done callback runs */
    bool closing;       /* http_client_free has started */
};

static bool curl_initialised;

static void socket_action(struct http_client *c, curl_socket_t fd, int mask);

/* ---- libcurl callbacks: only bookkeeping, never a curl_multi_* call but assign */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct job *job = userp;
    size_t n = size * nmemb;

    if (buf_append(&job->body, data, n) != 0) {
        /* A short count makes libcurl fail the transfer with CURLE_WRITE_ERROR. */
        job->too_big = true;
        return 0;
    }
    return n;
}

static size_t header_cb(char *line, size_t size, size_t nitems, void *userp)
{
    static const char name[] = "retry-after:";
    struct job *job = userp;
    size_t n = size * nitems, start = sizeof(name) - 1, end = n;

    /* A new status line (after "100 Continue", say) starts a new set of headers. */
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        job->retry_after[0] = '\0';
        return n;
    }
    if (n < start || strncasecmp(line, name, start) != 0)
        return n;
    while (start < end && (line[start] == ' ' || line[start] == '\t'))
        start++;
    while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' ' ||
                           line[end - 1] == '\t'))
        end--;
    if (end - start <= RETRY_AFTER_MAX) {
        memcpy(job->retry_after, line + start, end - start);
        job->retry_after[end - start] = '\0';
    }
    return n;
}

static void sock_free(struct http_client *c, struct sock *s)
{
    event_del(&s->ev);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    free(s);
}

static void sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_client *c = arg;
    int mask = 0;

    if (what & EV_READ)
        mask |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        mask |= CURL_CSELECT_OUT;
    /* This may free the struct sock of fd (CURL_POLL_REMOVE): it is not used after. */
    socket_action(c, fd, mask);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching fd. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct http_client *c = userp;
    struct sock *s = socketp;
    short kind = EV_PERSIST;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        /* libcurl may also remove sockets it never asked us to watch. */
        if (s != NULL)
            sock_free(c, s);
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL) {
            log_error("http_client.oom", "what=socket");
            return -1; /* fails the transfers on this multi handle: better than hanging */
        }
        s->fd = fd;
        s->next = c->socks;
        if (c->socks != NULL)
            c->socks->prev = s;
        c->socks = s;
        curl_multi_assign(c->multi, fd, s);
    } else {
        event_del(&s->ev);
    }
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    event_assign(&s->ev, c->base, fd, kind, sock_event_cb, c);
    if ((kind & (EV_READ | EV_WRITE)) != 0 && event_add(&s->ev, NULL) != 0) {
        log_error("http_client.event_add", "fd=%d", (int)fd);
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: only (re)arm or stop the timer; calling libcurl from here recurses. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_client *c = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    if (evtimer_add(c->timer, &tv) != 0) {
        log_error("http_client.timer_add", "timeout_ms=%ld", timeout_ms);
        return -1;
    }
    return 0;
}

/* ---- completion */

static void job_unlink(struct http_client *c, struct job *job)
{
    if (job->prev != NULL)
        job->prev->next = job->next;
    else
        c->jobs = job->next;
    if (job->next != NULL)
        job->next->prev = job->prev;
    c->njobs--;
}

static void job_free(struct job *job)
{
    if (job->easy != NULL)
        curl_easy_cleanup(job->easy);
    curl_slist_free_all(job->headers);
    buf_release(&job->body);
    free(job);
}

/*
 * Reports job's outcome and frees it. The job has been removed from the multi
 * handle; everything needed is read from the easy handle first, then the
 * handle is cleaned up before the callback runs, so a callback that starts
 * new requests finds a tidy multi handle.
 */
static void job_finish(struct http_client *c, struct job *job, CURLcode code, const char *why)
{
    struct http_result res = {0};
    curl_off_t usec = 0;
    long status = 0;

    curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(job->easy, CURLINFO_TOTAL_TIME_T, &usec);
    curl_easy_cleanup(job->easy);
    job->easy = NULL;
    job_unlink(c, job);

    if (code == CURLE_WRITE_ERROR && job->too_big) {
        code = CURLE_FILESIZE_EXCEEDED;
        why = "response body larger than the limit";
    }
    res.curl_code = (int)code;
    res.status = status;
    res.body = buf_str(&job->body);
    res.body_len = job->body.len;
    res.retry_after = job->retry_after[0] != '\0' ? job->retry_after : NULL;
    if (code != CURLE_OK)
        res.error = why ? why : job->errbuf[0] ? job->errbuf : curl_easy_strerror(code);
    res.seconds = (double)usec / 1e6;

    c->dispatching++;
    job->done(&res, job->arg);
    c->dispatching--;
    job_free(job);
}

/* Reports every transfer libcurl has finished. Called after each socket_action. */
static void drain(struct http_client *c)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        char *priv = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg dies with the removal below: everything was copied out above. */
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        curl_multi_remove_handle(c->multi, easy);
        job_finish(c, (struct job *)priv, code, NULL);
    }
}

static void socket_action(struct http_client *c, curl_socket_t fd, int mask)
{
    int running = 0;
    CURLMcode rc = curl_multi_socket_action(c->multi, fd, mask, &running);

    /*
     * CURLM_BAD_SOCKET only means libcurl had already forgotten fd (hiperfifo
     * ignores it too); anything else leaves the multi handle in an unknown
     * state, which is a bug here.
     */
    if (rc != CURLM_OK && rc != CURLM_BAD_SOCKET)
        log_error("http_client.socket_action", "error=\"%s\"", curl_multi_strerror(rc));
    drain(c);
}

static void timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    socket_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* ---- public API */

struct http_client *http_client_new(struct event_base *base, long max_parallel_per_host, char *err)
{
    struct http_client *c;
    int bad = 0;

    if (base == NULL) {
        err_set(err, "http client: no event base");
        return NULL;
    }
    if (!curl_initialised) {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

        if (rc != CURLE_OK) {
            err_set(err, "http client: curl_global_init: %s", curl_easy_strerror(rc));
            return NULL;
        }
        curl_initialised = true;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        err_set(err, "http client: out of memory");
        return NULL;
    }
    c->base = base;
    c->timer = evtimer_new(base, timer_event_cb, c);
    c->multi = curl_multi_init();
    if (c->timer == NULL || c->multi == NULL) {
        err_set(err, "http client: out of memory");
        goto fail;
    }
    bad |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK;
    bad |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK;
    bad |= curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK;
    bad |= curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK;
    if (max_parallel_per_host > 0)
        bad |= curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_parallel_per_host) !=
               CURLM_OK;
    if (bad) {
        err_set(err, "http client: cannot configure libcurl's multi handle");
        goto fail;
    }
    return c;
fail:
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    if (c->timer != NULL)
        event_free(c->timer);
    free(c);
    return NULL;
}

void http_client_free(struct http_client *c)
{
    if (c == NULL)
        return;
    if (c->dispatching > 0) {
        /* The caller's own job would be freed under its feet: a bug, not an input. */
        fputs("http_client_free called from inside a done callback\n", stderr);
        abort();
    }
    c->closing = true;
    /* Report what has already finished with its real result, then cancel the rest. */
    drain(c);
    while (c->jobs != NULL) {
        struct job *job = c->jobs;

        curl_multi_remove_handle(c->multi, job->easy);
        job_finish(c, job, CURLE_ABORTED_BY_CALLBACK, "cancelled: http client shut down");
    }
    /* May still call socket_cb (closing cached connections), so the base must be alive. */
    curl_multi_cleanup(c->multi);
    /* Sockets libcurl never told us to forget. */
    while (c->socks != NULL)
        sock_free(c, c->socks);
    event_free(c->timer);
    free(c);
}

/*
 * The request's headers plus an empty "Expect:", so that curl never holds a
 * body back waiting for "100 Continue" (it asks for one above 1 MiB since
 * 7.69, above 1 KiB before). 0, or -1 if out of memory.
 */
static int build_headers(const struct http_client_request *req, struct curl_slist **out)
{
    struct curl_slist *list = NULL, *tmp;
    bool has_expect = false;

    for (size_t i = 0; i < req->nheaders; i++) {
        if (req->headers[i] == NULL)
            goto fail;
        if (strncasecmp(req->headers[i], "expect:", 7) == 0)
            has_expect = true;
        if ((tmp = curl_slist_append(list, req->headers[i])) == NULL)
            goto fail;
        list = tmp;
    }
    if (!has_expect) {
        if ((tmp = curl_slist_append(list, "Expect:")) == NULL)
            goto fail;
        list = tmp;
    }
    *out = list;
    return 0;
fail:
    curl_slist_free_all(list);
    return -1;
}

int http_client_send(struct http_client *c, const struct http_client_request *req,
                     http_client_done_cb *done, void *arg)
{
    const char *method;
    struct job *job;
    CURL *e;
    long timeout, connect_timeout;
    int bad = 0;

    if (c == NULL || c->closing || req == NULL || req->url == NULL || done == NULL ||
        (req->nheaders > 0 && req->headers == NULL) || (req->body_len > 0 && req->body == NULL))
        return -1;
    method = req->method ? req->method : "POST";
    timeout = req->timeout_ms > 0 ? req->timeout_ms : HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
    connect_timeout =
        timeout < HTTP_CLIENT_MAX_CONNECT_TIMEOUT_MS ? timeout : HTTP_CLIENT_MAX_CONNECT_TIMEOUT_MS;

    job = calloc(1, sizeof(*job));
    if (job == NULL)
        return -1;
    job->done = done;
    job->arg = arg;
    buf_init(&job->body, HTTP_CLIENT_MAX_RESPONSE);
    if (build_headers(req, &job->headers) != 0)
        goto fail;
    job->easy = e = curl_easy_init();
    if (e == NULL)
        goto fail;

    bad |= curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK;
    if (strcmp(method, "GET") == 0) {
        bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    } else {
        if (strcmp(method, "POST") == 0)
            bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
        else
            bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
        if (strcmp(method, "POST") == 0 || req->body_len > 0) {
            /* The size first: COPYPOSTFIELDS copies that many bytes (the body may hold NULs). */
            bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) !=
                   CURLE_OK;
            bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body_len ? req->body : "") !=
                   CURLE_OK;
        }
    }
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, job->headers) != CURLE_OK;
    if (req->userpwd != NULL) {
        bad |= curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd) != CURLE_OK;
    }
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "katto/" KATTO_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    /* Refuses early when Content-Length is too big; write_cb catches the rest. */
    bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_CLIENT_MAX_RESPONSE) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, job) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, job) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, job) != CURLE_OK;
    if (bad)
        goto fail;
    /* libcurl now asks timer_cb for an immediate timeout; the transfer starts from the loop. */
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
        goto fail;
    job->next = c->jobs;
    if (c->jobs != NULL)
        c->jobs->prev = job;
    c->jobs = job;
    c->njobs++;
    return 0;
fail:
    job_free(job);
    return -1;
}

size_t http_client_running(const struct http_client *c)
{
    return c ? c->njobs : 0;
}
