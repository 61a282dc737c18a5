/*
 * testlib.h: support for Katto's tests: temporary directories, starting the
 * real katto binary on a free loopback port, blocking HTTP requests with
 * libcurl, raw sockets, and polling waits (never fixed sleeps).
 */
#ifndef KATTO_TESTLIB_H
#define KATTO_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); returns it malloc'd. Aborts on failure. */
char *testlib_tmpdir(void);

/* Removes path recursively; NULL is a no-op. */
void testlib_rmrf(const char *path);

/* Reads a whole file into a malloc'd NUL-terminated string (NULL if missing). */
char *testlib_read_file(const char *path, size_t *len);

/* Writes text to path; aborts on failure. */
void testlib_write_file(const char *path, const char *text);

/* The source tree (KATTO_TEST_SRC) and katto binary (KATTO_TEST_BIN). */
const char *testlib_src_dir(void);
const char *testlib_katto_bin(void);

/* Polls cond(arg) every 10 ms until true or timeout_ms passes; returns the last result. */
bool testlib_wait_for(bool (*cond)(void *arg), void *arg, int timeout_ms);

struct testlib_server {
    pid_t pid;
    int port;
    char *dir;         /* temp dir holding config, database, secret, log */
    char *config_path; /* generated config file */
    char *db_path;
    char *log_path;    /* katto's stderr */
    char base_url[64]; /* http://127.0.0.1:PORT */
};

/*
 * Starts `katto --config <generated> serve` in a new temp dir. extra_json is
 * spliced into the generated config object (e.g. "\"log_level\": \"debug\""),
 * may be NULL; env is extra "NAME=value" strings (NULL-terminated, may be NULL).
 * Waits until the port file appears. Returns 0, or -1 (the log is printed).
 */
int testlib_server_start(struct testlib_server *s, const char *extra_json, char *const *env);

/*
 * Starts the server on an existing dir (for restarts on the same database):
 * like testlib_server_start but keeps s->dir and the generated file names.
 */
int testlib_server_restart(struct testlib_server *s, const char *extra_json, char *const *env);

/* Sends SIGTERM and waits up to timeout_ms; returns the exit status, or -1 if it hung/crashed. */
int testlib_server_stop(struct testlib_server *s, int timeout_ms);

/* True if the server's log holds a sanitizer report (ASan/UBSan/LSan). */
bool testlib_server_log_has_sanitizer_report(const struct testlib_server *s);

/* Frees s's strings and removes its temp dir. */
void testlib_server_release(struct testlib_server *s);

struct testlib_response {
    long status;
    char *body; /* malloc'd, NUL-terminated */
    size_t body_len;
    char *headers; /* raw response headers, malloc'd */
};

/*
 * Blocking HTTP request to url. headers is a NULL-terminated array of
 * "Name: value" (may be NULL); body may be NULL. Returns 0 (any HTTP status)
 * or -1 on transport failure. Free with testlib_response_release.
 */
int testlib_http(const char *method, const char *url, const char *const *headers, const char *body,
                 size_t body_len, struct testlib_response *res);
void testlib_response_release(struct testlib_response *res);

/* Sets the whole-request timeout of testlib_http (default 10000 ms); returns the old one. */
long testlib_http_set_timeout(long ms);

/* Opens a TCP connection to 127.0.0.1:port; returns the fd or -1. */
int testlib_connect(int port);

/* True if the peer has closed fd (reads EOF or error) within timeout_ms. */
bool testlib_socket_closed(int fd, int timeout_ms);

#endif
