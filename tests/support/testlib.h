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

/*
 * ms times KATTO_TEST_TIME_SCALE (default 1). The valgrind pass sets it because katto runs
 * tens of times slower under memcheck. testlib scales its own limits with it (server and
 * emulator start-up and stop, the default HTTP timeout), so tests need not; the waits a test
 * passes to testlib_wait_for, testlib_socket_closed or testlib_http_set_timeout are not scaled,
 * because they often race a server timer (a header timeout, a retry delay) and must keep their
 * meaning.
 */
int testlib_timeout_ms(int ms);

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
 * With KATTO_TEST_VALGRIND set (a valgrind command line), katto runs under it:
 * testlib_server_stop and testlib_server_release then fail on any error or leak
 * it reports.
 */
int testlib_server_start(struct testlib_server *s, const char *extra_json, char *const *env);

/*
 * Starts the server on an existing dir (for restarts on the same database):
 * like testlib_server_start but keeps s->dir and the generated file names.
 */
int testlib_server_restart(struct testlib_server *s, const char *extra_json, char *const *env);

/*
 * Sets the server's wall clock (config test_clock_file, clock.h) to
 * unix_seconds; it reads the new time at its next clock read. Before the
 * first call the server runs on the real time.
 */
void testlib_server_set_clock(const struct testlib_server *s, long long unix_seconds);

/*
 * Posts an inbound Twilio SMS (MessageSid sid, From from, Body text) to the
 * server at base_url, signed with auth_token as Twilio signs; asserts
 * nothing, returns the HTTP status or -1, and the answer's body in *body
 * (owned) unless body is NULL.
 */
long testlib_send_twilio(const char *base_url, const char *auth_token, const char *account_sid,
                         const char *sid, const char *from, const char *text, char **body);

/*
 * Posts an inbound 46elks SMS (form fields id, from, to, message) to the
 * server at base_url with the route token; asserts nothing, returns the
 * HTTP status or -1.
 */
struct testlib_emu;

long testlib_send_elks(const char *base_url, const char *token, const char *id, const char *from,
                       const char *text);

/* Texts the emulator accepted for number to, each followed by "\n---\n"; owned ("" if none). */
char *testlib_emu_texts_to(const struct testlib_emu *e, const char *to);

struct place_table;
struct directory;

/*
 * Loads the shipped postal codes and services (db/data/) the way the server
 * does: imported into a fresh database in a temp dir, then read into memory.
 * Returns 0 (both owned by the caller) or -1 (the problems are printed).
 */
int testlib_load_directory(struct place_table **places, struct directory **services);

/*
 * Sends SIGTERM and waits up to timeout_ms; returns the exit status, or -1 if it
 * hung, crashed or valgrind reported an error or leak (the log is printed).
 */
int testlib_server_stop(struct testlib_server *s, int timeout_ms);

/* True if the server's log holds a sanitizer report (ASan/UBSan/LSan). */
bool testlib_server_log_has_sanitizer_report(const struct testlib_server *s);

/*
 * Kills the server if still running (SIGKILL: no leak check), frees s's strings and
 * removes its temp dir. Under valgrind, fails the test (cmocka) if any earlier run
 * of the server in that dir reported an error or leak.
 */
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

/*
 * Sets the whole-request timeout of testlib_http in ms; returns the old one. The default,
 * 0, means testlib_timeout_ms(10000).
 */
long testlib_http_set_timeout(long ms);

/* Opens a TCP connection to 127.0.0.1:port; returns the fd or -1. */
int testlib_connect(int port);

/* True if the peer has closed fd (reads EOF or error) within timeout_ms. */
bool testlib_socket_closed(int fd, int timeout_ms);

/*
 * Gateway emulator (tests/support/gateway_emu.c; binary from KATTO_TEST_EMU).
 * It serves the send APIs of Twilio, 46elks, GatewayAPI and Africa's Talking on
 * one loopback port, records every request (GET /_emu/requests), can be told to
 * fail (POST /_emu/fail) and posts delivery reports to Katto (POST /_emu/report).
 * testlib_emu_start passes these credentials; extra_args given later win.
 */
#define TESTLIB_EMU_TWILIO_SID "AC0123456789abcdef0123456789abcdef"
#define TESTLIB_EMU_TWILIO_TOKEN "emu-twilio-auth-token"
#define TESTLIB_EMU_ELKS_USER "u0123456789abcdef0123456789abcdef"
#define TESTLIB_EMU_ELKS_PASS "emu-46elks-password"
#define TESTLIB_EMU_GWAPI_TOKEN "emu-gatewayapi-token"
#define TESTLIB_EMU_GWAPI_SECRET "emu-gatewayapi-webhook-secret" /* signs its reports (JWT) */
#define TESTLIB_EMU_AT_KEY "emu-africastalking-api-key"
#define TESTLIB_EMU_AT_USER "sandbox"

struct cJSON;

struct testlib_emu {
    pid_t pid;
    int port;
    char *dir; /* temp dir holding the port file and the log */
    char *port_file;
    char base_url[64]; /* http://127.0.0.1:PORT */
    char *log_path;    /* the emulator's stderr */
};

/*
 * Starts the emulator in a new temp dir on 127.0.0.1:port (0 = any free port)
 * with the TESTLIB_EMU_* credentials plus extra_args (NULL-terminated, may be
 * NULL), and waits for its port file. Returns 0, or -1 (the log is printed).
 */
int testlib_emu_start(struct testlib_emu *e, int port, const char *const *extra_args);

/* Starts it again in the same dir on the same port (after testlib_emu_stop): "gateway back". */
int testlib_emu_restart(struct testlib_emu *e, const char *const *extra_args);

/*
 * SIGTERM and wait (testlib_timeout_ms(10000)); returns the exit status (0 = clean), or -1 if it
 * hung, crashed or logged a sanitizer report (the log is printed).
 */
int testlib_emu_stop(struct testlib_emu *e);

/* Kills it if still running, removes its temp dir, frees e's strings. */
void testlib_emu_release(struct testlib_emu *e);

/* GET /_emu/requests parsed: a cJSON array in arrival order (caller cJSON_Delete), or NULL. */
struct cJSON *testlib_emu_requests(const struct testlib_emu *e);

/*
 * Counts recorded requests for gateway ("twilio", "46elks", "gatewayapi",
 * "africastalking"; NULL = any) with accepted == 1 / 0 (-1 = either); -1 on error.
 */
int testlib_emu_count(const struct testlib_emu *e, const char *gateway, int accepted);

/* POST /_emu/reset: forget the record and stop failing. Returns 0 or -1. */
int testlib_emu_reset(const struct testlib_emu *e);

/*
 * POST /_emu/fail: the next count sends (-1 = until told otherwise) get mode:
 * "500" (any "400".."599"), "429" (with Retry-After: retry_after), "garbage",
 * "close", "timeout", "slow" or "ok". Returns 0 or -1.
 */
int testlib_emu_fail(const struct testlib_emu *e, const char *mode, int count, int retry_after);

/*
 * POST /_emu/report: has the emulator post gateway's delivery report for message
 * id with status (the gateway's own word, e.g. "delivered", "DELIVERED",
 * "Success") to url. Returns the HTTP status Katto answered, 502 if Katto
 * could not be reached, or -1.
 */
int testlib_emu_report(const struct testlib_emu *e, const char *gateway, const char *id,
                       const char *status, const char *url);

/* x-www-form-urlencoded body from NULL-terminated name, value pairs (malloc'd; spaces as %20). */
char *testlib_form(const char *const *pairs);

/* "Authorization: Basic base64(user:pass)" header line, malloc'd. */
char *testlib_basic_auth(const char *user, const char *pass);

/* Twilio signature of url + form pairs with token (base64), into out[64]. */
void testlib_twilio_sign(const char *token, const char *url, const char *const *pairs,
                         char out[64]);

/* GatewayAPI X-Gwapi-Signature JWT (HS256) over a JSON claims string, malloc'd. */
char *testlib_gwapi_jwt(const char *secret, const char *claims_json);

#endif
