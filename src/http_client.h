/*
 * http_client.h: outgoing HTTP requests (gateway send APIs) on the same
 * libevent event_base as everything else, with libcurl's multi_socket API
 * (curl's hiperfifo pattern): one CURLM and one timer event per client, one
 * libevent event per socket libcurl asks us to watch. Nothing here blocks the
 * loop (Debian's libcurl resolves names on a thread) and nothing decides about
 * retries: the caller (the outbox) gets the transport result, the HTTP status
 * and the body, and judges.
 *
 * The contract (libuv's rule): http_client_send() either returns 0 and later
 * calls done exactly once, from the event loop, or returns -1 and never calls
 * it.
 */
#ifndef KATTO_HTTP_CLIENT_H
#define KATTO_HTTP_CLIENT_H

#include <event2/event.h>
#include <stddef.h>

#define HTTP_CLIENT_MAX_RESPONSE (64 * 1024)     /* larger response bodies fail the transfer */
#define HTTP_CLIENT_DEFAULT_TIMEOUT_MS 30000L    /* when a request gives no timeout */
#define HTTP_CLIENT_MAX_CONNECT_TIMEOUT_MS 5000L /* connect phase, within the whole timeout */

struct http_client;

/* What became of one request. Every pointer is borrowed for the callback only. */
struct http_result {
    /*
     * CURLcode; 0 = the transfer completed (whatever the HTTP status). Notable
     * others: CURLE_OPERATION_TIMEDOUT (28), CURLE_COULDNT_CONNECT (7),
     * CURLE_COULDNT_RESOLVE_HOST (6), CURLE_FILESIZE_EXCEEDED (63) for a body
     * over HTTP_CLIENT_MAX_RESPONSE, CURLE_ABORTED_BY_CALLBACK (42) when the
     * client was freed with the request in flight. Check it before status:
     * a 200 whose body was too large has status 200 and curl_code 63.
     */
    int curl_code;
    long status;             /* HTTP status of the last response, 0 if none */
    const char *body;        /* response body, NUL-terminated, never NULL ("" if none) */
    size_t body_len;         /* without the NUL */
    const char *retry_after; /* Retry-After header value (trimmed) or NULL */
    const char *error;       /* curl's error text when curl_code != 0, else NULL */
    double seconds;          /* total time of the transfer */
};

/*
 * Called exactly once per accepted request: from the event loop, or from
 * http_client_free when cancelled; never from inside http_client_send.
 */
typedef void http_client_done_cb(const struct http_result *res, void *arg);

struct http_client_request {
    const char *method;         /* "POST" (also when NULL), "GET", "PUT", "PATCH", "DELETE" */
    const char *url;            /* http:// or https:// only; other schemes fail the transfer */
    const char *const *headers; /* nheaders "Name: value" lines; may be NULL if nheaders is 0 */
    size_t nheaders;
    const char *userpwd; /* basic auth "user:pass", or NULL */
    const char *body;    /* request body (may be NULL if body_len is 0); ignored for GET */
    size_t body_len;
    long timeout_ms; /* whole request including queueing; <= 0 means the default */
};

/*
 * Creates a client on base (kept: it must outlive the client). At most
 * max_parallel_per_host connections are opened to one host (<= 0: no limit);
 * further requests wait in libcurl's queue, their timeout running.
 *
 * The first call also runs curl_global_init(). That is thread-safe only in a
 * libcurl with the CURL_VERSION_THREADSAFE feature (7.84+; Debian 12's has
 * it): with an older libcurl, create the first client before starting any
 * thread. Returns NULL with err on failure.
 */
struct http_client *http_client_new(struct event_base *base, long max_parallel_per_host, char *err);

/*
 * Frees the client. Requests still in flight are cancelled, and each one's
 * done is called exactly once, before this returns, with curl_code
 * CURLE_ABORTED_BY_CALLBACK; sends attempted from those callbacks fail. The
 * event_base must still be alive (libcurl may still update sockets while it
 * closes its connection cache). Must not be called from inside a done
 * callback of this client (that aborts the process). NULL is a no-op.
 */
void http_client_free(struct http_client *c);

/*
 * Starts a request. Every input in req is copied, so req and its strings are
 * borrowed for the call only. Returns 0 and later calls done(res, arg) exactly
 * once (success, HTTP error, transport error, timeout, or cancellation by
 * http_client_free) -- never from inside this call; or returns -1 (bad
 * arguments, out of memory, client being freed) and never calls done. May be
 * called from inside a done callback.
 */
int http_client_send(struct http_client *c, const struct http_client_request *req,
                     http_client_done_cb *done, void *arg);

/* Requests sent whose done has not been called yet. */
size_t http_client_running(const struct http_client *c);

#endif
