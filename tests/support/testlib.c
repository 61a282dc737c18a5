/* testlib.c: see testlib.h. Test code: aborting on set-up failure is fine here. */
#include "testlib.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "directory.h"
#include "directory_import.h"
#include "err.h"

extern char **environ;

static void die(const char *what)
{
    fprintf(stderr, "testlib: %s: %s\n", what, strerror(errno));
    abort();
}

char *testlib_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (asprintf(&path, "%s/katto-test-XXXXXX", base != NULL ? base : "/tmp") < 0)
        die("asprintf");
    if (mkdtemp(path) == NULL)
        die("mkdtemp");
    return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void testlib_rmrf(const char *path)
{
    if (path != NULL)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *testlib_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if ((buf = realloc(buf, cap)) == NULL)
                die("realloc");
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

void testlib_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
        die(path);
}

const char *testlib_src_dir(void)
{
    const char *s = getenv("KATTO_TEST_SRC");

    return s != NULL ? s : ".";
}

const char *testlib_katto_bin(void)
{
    const char *s = getenv("KATTO_TEST_BIN");

    return s != NULL ? s : "katto";
}

int testlib_timeout_ms(int ms)
{
    static int scale;

    if (scale == 0) {
        const char *s = getenv("KATTO_TEST_TIME_SCALE");

        scale = s != NULL && atoi(s) > 1 ? atoi(s) : 1;
    }
    return ms > INT_MAX / scale ? INT_MAX : ms * scale;
}

bool testlib_wait_for(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    struct timespec tick = {0, 10 * 1000 * 1000};

    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (cond(arg))
            return true;
        nanosleep(&tick, NULL);
    }
    return cond(arg);
}

/* Servers still running when a test fails (cmocka jumps out) are killed at exit. */
static pid_t children[64];

static void kill_children(void)
{
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
        if (children[i] > 0 && kill(children[i], SIGKILL) == 0)
            waitpid(children[i], NULL, 0);
    }
}

static void track_child(pid_t pid)
{
    static bool registered;

    if (!registered) {
        atexit(kill_children);
        registered = true;
    }
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
        if (children[i] <= 0) {
            children[i] = pid;
            return;
        }
    }
}

/* Called once a child has been reaped, so its pid is never signalled after reuse. */
static void untrack_child(pid_t pid)
{
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
        if (children[i] == pid)
            children[i] = 0;
    }
}

static char *path_in(const char *dir, const char *name)
{
    char *p;

    if (asprintf(&p, "%s/%s", dir, name) < 0)
        die("asprintf");
    return p;
}

static bool port_file_ready(void *arg)
{
    struct testlib_server *s = arg;
    char *port_path = path_in(s->dir, "port");
    char *text = testlib_read_file(port_path, NULL);
    int status;

    free(port_path);
    if (text != NULL) {
        s->port = atoi(text);
        free(text);
        return s->port > 0;
    }
    /* Stop waiting if the server died. */
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        untrack_child(s->pid);
        s->pid = -1;
        return true;
    }
    return false;
}

static void print_log(const struct testlib_server *s)
{
    char *log = testlib_read_file(s->log_path, NULL);

    fprintf(stderr, "---- katto log ----\n%s------------------\n", log ? log : "(none)");
    free(log);
}

/*
 * The valgrind pass (tests/CMakeLists.txt) sets KATTO_TEST_VALGRIND to a valgrind command
 * line, words separated by spaces. spawn() runs katto under it, each run logging to
 * valgrind-<pid>.log in the server's dir. Returns the words (NULL-terminated; free words[0],
 * which holds them all, then the array) and their count in *n, or NULL when not set.
 */
static char **valgrind_words(size_t *n)
{
    const char *cmd = getenv("KATTO_TEST_VALGRIND");
    char *copy, *save = NULL, **words;

    *n = 0;
    if (cmd == NULL || cmd[0] == '\0')
        return NULL;
    if ((copy = strdup(cmd)) == NULL || (words = calloc(strlen(cmd) + 1, sizeof(*words))) == NULL)
        die("valgrind command");
    for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
        words[(*n)++] = w;
    if (*n == 0)
        free(copy);
    return words;
}

/*
 * Checks every finished valgrind run in s->dir: a log with an ERROR SUMMARY of anything but
 * "0 errors" (memcheck counts definite and indirect leaks as errors, see the options in
 * tests/CMakeLists.txt) is printed and makes this return false. A run killed with SIGKILL
 * writes no summary and cannot be checked, so it is passed over.
 */
static bool valgrind_logs_clean(const struct testlib_server *s)
{
    DIR *d = s->dir != NULL ? opendir(s->dir) : NULL;
    struct dirent *e;
    bool clean = true;

    if (d == NULL)
        return true;
    while ((e = readdir(d)) != NULL) {
        char *path, *log;
        const char *summary;

        if (strncmp(e->d_name, "valgrind-", 9) != 0)
            continue;
        path = path_in(s->dir, e->d_name);
        log = testlib_read_file(path, NULL);
        summary = log != NULL ? strstr(log, "ERROR SUMMARY: ") : NULL;
        if (summary != NULL && strncmp(summary, "ERROR SUMMARY: 0 errors", 23) != 0) {
            fprintf(stderr, "---- %s ----\n%s------------------\n", path, log);
            clean = false;
        }
        free(log);
        free(path);
    }
    closedir(d);
    return clean;
}

static int spawn(struct testlib_server *s, const char *extra_json, char *const *env)
{
    char *port_path = path_in(s->dir, "port");
    char *secret_path = path_in(s->dir, "secret");
    char *flows_path = path_in(testlib_src_dir(), "flows");
    char *places_path = path_in(testlib_src_dir(), "db/data/postal_codes_fi.csv");
    char *services_path = path_in(testlib_src_dir(), "db/data/services_fi.csv");
    char *clock_path = path_in(s->dir, "clock");
    char *vg_log = path_in(s->dir, "valgrind-%p.log");
    char *json, *vg_log_opt;
    size_t nwords;
    char **words = valgrind_words(&nwords);
    const char **argv = calloc(nwords + 6, sizeof(*argv));
    size_t argc = 0;
    pid_t pid;

    unlink(port_path);
    if (asprintf(&json,
                 "{\n  \"listen\": \"127.0.0.1:0\",\n  \"port_file\": \"%s\",\n"
                 "  \"database\": \"%s\",\n  \"secret_file\": \"%s\",\n  \"flows\": \"%s\",\n"
                 "  \"postal_codes\": \"%s\",\n  \"services\": \"%s\",\n"
                 "  \"test_clock_file\": \"%s\"%s%s\n}\n",
                 port_path, s->db_path, secret_path, flows_path, places_path, services_path,
                 clock_path, extra_json != NULL ? ",\n  " : "",
                 extra_json != NULL ? extra_json : "") < 0)
        die("asprintf");
    testlib_write_file(s->config_path, json);
    free(json);
    free(secret_path);
    free(flows_path);
    free(places_path);
    free(services_path);
    free(clock_path);
    if (argv == NULL || asprintf(&vg_log_opt, "--log-file=%s", vg_log) < 0)
        die("argv");
    for (size_t i = 0; i < nwords; i++)
        argv[argc++] = words[i];
    if (nwords > 0)
        argv[argc++] = vg_log_opt;
    argv[argc++] = nwords > 0 ? testlib_katto_bin() : "katto";
    argv[argc++] = "--config";
    argv[argc++] = s->config_path;
    argv[argc++] = "serve";
    fflush(NULL);
    if ((pid = fork()) < 0)
        die("fork");
    if (pid == 0) {
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

        /* stdout too: a child holding the test's stdout would keep ctest waiting. */
        if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
            _exit(127);
        if (geteuid() == 0) /* CI containers run as root: katto serve refuses it otherwise */
            setenv("KATTO_ALLOW_ROOT", "1", 1);
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            putenv(env[i]);
        if (nwords > 0)
            execvp(words[0], (char *const *)argv); /* "valgrind" is looked up in PATH */
        else
            execv(testlib_katto_bin(), (char *const *)argv);
        _exit(127);
    }
    if (nwords > 0)
        free(words[0]);
    free(words);
    free(argv);
    free(vg_log_opt);
    free(vg_log);
    s->pid = pid;
    s->port = 0;
    track_child(pid);
    free(port_path);
    if (!testlib_wait_for(port_file_ready, s, testlib_timeout_ms(15000)) || s->pid < 0) {
        print_log(s);
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            untrack_child(s->pid);
            s->pid = -1;
        }
        return -1;
    }
    snprintf(s->base_url, sizeof(s->base_url), "http://127.0.0.1:%d", s->port);
    return 0;
}

int testlib_server_start(struct testlib_server *s, const char *extra_json, char *const *env)
{
    memset(s, 0, sizeof(*s));
    s->dir = testlib_tmpdir();
    s->config_path = path_in(s->dir, "katto.json");
    s->db_path = path_in(s->dir, "katto.db");
    s->log_path = path_in(s->dir, "katto.log");
    return spawn(s, extra_json, env);
}

int testlib_server_restart(struct testlib_server *s, const char *extra_json, char *const *env)
{
    return spawn(s, extra_json, env);
}

int testlib_server_stop(struct testlib_server *s, int timeout_ms)
{
    int status;

    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    timeout_ms = testlib_timeout_ms(timeout_ms);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            untrack_child(s->pid);
            s->pid = -1;
            if (!valgrind_logs_clean(s))
                return -1;
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            print_log(s);
            return -1;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    print_log(s);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    untrack_child(s->pid);
    s->pid = -1;
    return -1;
}

bool testlib_server_log_has_sanitizer_report(const struct testlib_server *s)
{
    char *log = testlib_read_file(s->log_path, NULL);
    bool found = log != NULL &&
                 (strstr(log, "AddressSanitizer") != NULL || strstr(log, "LeakSanitizer") != NULL ||
                  strstr(log, "runtime error:") != NULL);

    if (found)
        print_log(s);
    free(log);
    return found;
}

void testlib_server_release(struct testlib_server *s)
{
    bool clean;

    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        untrack_child(s->pid);
    }
    /* Also catches runs that ended on their own, e.g. a start-up the test expected to fail. */
    clean = valgrind_logs_clean(s);
    testlib_rmrf(s->dir);
    free(s->dir);
    free(s->config_path);
    free(s->db_path);
    free(s->log_path);
    memset(s, 0, sizeof(*s));
    if (!clean)
        fail_msg("valgrind reported errors or leaks in katto (log above)");
}

/* 0: the default, 10 s times the time scale; a test's own choice is used as it is. */
static long http_timeout_ms = 0;

long testlib_http_set_timeout(long ms)
{
    long old = http_timeout_ms;

    http_timeout_ms = ms;
    return old;
}

struct grow {
    char *p;
    size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
    struct grow *g = arg;
    size_t add = size * nmemb;

    if ((g->p = realloc(g->p, g->n + add + 1)) == NULL)
        die("realloc");
    memcpy(g->p + g->n, data, add);
    g->n += add;
    g->p[g->n] = '\0';
    return add;
}

int testlib_http(const char *method, const char *url, const char *const *headers, const char *body,
                 size_t body_len, struct testlib_response *res)
{
    CURL *c = curl_easy_init();
    struct curl_slist *list = NULL;
    struct grow b = {calloc(1, 1), 0}, h = {calloc(1, 1), 0};
    CURLcode rc;

    memset(res, 0, sizeof(*res));
    if (c == NULL)
        return -1;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     http_timeout_ms > 0 ? http_timeout_ms : (long)testlib_timeout_ms(10000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    res->body = b.p;
    res->body_len = b.n;
    res->headers = h.p;
    return rc == CURLE_OK ? 0 : -1;
}

void testlib_response_release(struct testlib_response *res)
{
    free(res->body);
    free(res->headers);
    memset(res, 0, sizeof(*res));
}

int testlib_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool testlib_socket_closed(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[4096];

    for (;;) {
        int n = poll(&p, 1, timeout_ms);

        if (n <= 0)
            return false;
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            return true;
        /* Data (an error reply) may precede the close: keep reading. */
    }
}

/*
 * Gateway emulator (see testlib.h). Its headers are included here, with the
 * code that needs them.
 */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char *emu_bin(void)
{
    const char *s = getenv("KATTO_TEST_EMU");

    return s != NULL ? s : "gateway_emu";
}

static bool emu_port_ready(void *arg)
{
    struct testlib_emu *e = arg;
    char *text = testlib_read_file(e->port_file, NULL);
    int status;

    if (text != NULL) {
        e->port = (int)strtol(text, NULL, 10);
        free(text);
        return e->port > 0;
    }
    if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
        untrack_child(e->pid);
        e->pid = -1;
        return true;
    }
    return false;
}

static void emu_print_log(const struct testlib_emu *e)
{
    char *log = testlib_read_file(e->log_path, NULL);

    fprintf(stderr, "---- gateway_emu log ----\n%s-------------------------\n",
            log ? log : "(none)");
    free(log);
}

static int emu_spawn(struct testlib_emu *e, int port, const char *const *extra_args)
{
    static const char *const defaults[] = {
        "--twilio-sid",  TESTLIB_EMU_TWILIO_SID,  "--twilio-token", TESTLIB_EMU_TWILIO_TOKEN,
        "--elks-user",   TESTLIB_EMU_ELKS_USER,   "--elks-pass",    TESTLIB_EMU_ELKS_PASS,
        "--gwapi-token", TESTLIB_EMU_GWAPI_TOKEN, "--gwapi-secret", TESTLIB_EMU_GWAPI_SECRET,
        "--at-key",      TESTLIB_EMU_AT_KEY,      "--at-user",      TESTLIB_EMU_AT_USER};
    size_t ndef = sizeof(defaults) / sizeof(defaults[0]), nextra = 0, n = 0;
    const char **argv;
    char port_text[16];
    pid_t pid;

    while (extra_args != NULL && extra_args[nextra] != NULL)
        nextra++;
    if ((argv = calloc(6 + ndef + nextra, sizeof(*argv))) == NULL)
        die("calloc");
    snprintf(port_text, sizeof(port_text), "%d", port);
    argv[n++] = "gateway_emu";
    argv[n++] = "--port-file";
    argv[n++] = e->port_file;
    argv[n++] = "--port";
    argv[n++] = port_text;
    for (size_t i = 0; i < ndef; i++)
        argv[n++] = defaults[i];
    for (size_t i = 0; i < nextra; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;
    unlink(e->port_file);
    fflush(NULL);
    if ((pid = fork()) < 0)
        die("fork");
    if (pid == 0) {
        int fd = open(e->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

        if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
            _exit(127);
        execv(emu_bin(), (char *const *)argv);
        _exit(127);
    }
    free(argv);
    e->pid = pid;
    e->port = 0;
    track_child(pid);
    if (!testlib_wait_for(emu_port_ready, e, testlib_timeout_ms(15000)) || e->pid < 0) {
        emu_print_log(e);
        if (e->pid > 0) {
            kill(e->pid, SIGKILL);
            waitpid(e->pid, NULL, 0);
            untrack_child(e->pid);
            e->pid = -1;
        }
        return -1;
    }
    snprintf(e->base_url, sizeof(e->base_url), "http://127.0.0.1:%d", e->port);
    return 0;
}

int testlib_emu_start(struct testlib_emu *e, int port, const char *const *extra_args)
{
    memset(e, 0, sizeof(*e));
    e->pid = -1;
    e->dir = testlib_tmpdir();
    e->port_file = path_in(e->dir, "port");
    e->log_path = path_in(e->dir, "gateway_emu.log");
    return emu_spawn(e, port, extra_args);
}

int testlib_emu_restart(struct testlib_emu *e, const char *const *extra_args)
{
    if (e->pid > 0)
        testlib_emu_stop(e);
    return emu_spawn(e, e->port, extra_args);
}

static bool emu_log_has_sanitizer_report(const struct testlib_emu *e)
{
    char *log = testlib_read_file(e->log_path, NULL);
    bool found = log != NULL &&
                 (strstr(log, "AddressSanitizer") != NULL || strstr(log, "LeakSanitizer") != NULL ||
                  strstr(log, "runtime error:") != NULL);

    free(log);
    return found;
}

int testlib_emu_stop(struct testlib_emu *e)
{
    int status, timeout_ms = testlib_timeout_ms(10000);

    if (e->pid <= 0)
        return -1;
    kill(e->pid, SIGTERM);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
            untrack_child(e->pid);
            e->pid = -1;
            if (WIFEXITED(status) && !emu_log_has_sanitizer_report(e))
                return WEXITSTATUS(status);
            emu_print_log(e);
            return -1;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    emu_print_log(e);
    kill(e->pid, SIGKILL);
    waitpid(e->pid, NULL, 0);
    untrack_child(e->pid);
    e->pid = -1;
    return -1;
}

void testlib_emu_release(struct testlib_emu *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
        untrack_child(e->pid);
    }
    testlib_rmrf(e->dir);
    free(e->dir);
    free(e->port_file);
    free(e->log_path);
    memset(e, 0, sizeof(*e));
}

/* Sends a control request; returns the status or -1, and the body if wanted (malloc'd). */
static long emu_control(const struct testlib_emu *e, const char *method, const char *path,
                        const char *json, char **body)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct testlib_response r;
    char *url;
    long status = -1;

    if (asprintf(&url, "%s%s", e->base_url, path) < 0)
        die("asprintf");
    if (testlib_http(method, url, json != NULL ? headers : NULL, json,
                     json != NULL ? strlen(json) : 0, &r) == 0) {
        status = r.status;
        if (body != NULL) {
            *body = r.body;
            r.body = NULL;
        }
    }
    testlib_response_release(&r);
    free(url);
    return status;
}

struct cJSON *testlib_emu_requests(const struct testlib_emu *e)
{
    char *body = NULL;
    cJSON *j = NULL;

    if (emu_control(e, "GET", "/_emu/requests", NULL, &body) == 200)
        j = cJSON_Parse(body);
    free(body);
    if (j != NULL && !cJSON_IsArray(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

int testlib_emu_count(const struct testlib_emu *e, const char *gateway, int accepted)
{
    cJSON *all = testlib_emu_requests(e);
    const cJSON *rec;
    int n = 0;

    if (all == NULL)
        return -1;
    cJSON_ArrayForEach(rec, all)
    {
        const cJSON *gw = cJSON_GetObjectItem(rec, "gateway");
        bool acc = cJSON_IsTrue(cJSON_GetObjectItem(rec, "accepted"));

        if (gateway != NULL && (!cJSON_IsString(gw) || strcmp(gw->valuestring, gateway) != 0))
            continue;
        if (accepted >= 0 && acc != (accepted > 0))
            continue;
        n++;
    }
    cJSON_Delete(all);
    return n;
}

int testlib_emu_reset(const struct testlib_emu *e)
{
    return emu_control(e, "POST", "/_emu/reset", "{}", NULL) == 200 ? 0 : -1;
}

int testlib_emu_fail(const struct testlib_emu *e, const char *mode, int count, int retry_after)
{
    cJSON *j = cJSON_CreateObject();
    char *json;
    long status;

    cJSON_AddStringToObject(j, "mode", mode);
    cJSON_AddNumberToObject(j, "count", count);
    cJSON_AddNumberToObject(j, "retry_after", retry_after);
    json = cJSON_PrintUnformatted(j);
    status = emu_control(e, "POST", "/_emu/fail", json, NULL);
    cJSON_free(json);
    cJSON_Delete(j);
    return status == 200 ? 0 : -1;
}

int testlib_emu_report(const struct testlib_emu *e, const char *gateway, const char *id,
                       const char *status, const char *url)
{
    cJSON *j = cJSON_CreateObject();
    char *json;
    long code;

    cJSON_AddStringToObject(j, "gateway", gateway);
    cJSON_AddStringToObject(j, "id", id);
    cJSON_AddStringToObject(j, "status", status);
    cJSON_AddStringToObject(j, "url", url);
    json = cJSON_PrintUnformatted(j);
    code = emu_control(e, "POST", "/_emu/report", json, NULL);
    cJSON_free(json);
    cJSON_Delete(j);
    return (int)code;
}

static void form_escape(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
}

char *testlib_form(const char *const *pairs)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    if (out == NULL)
        die("open_memstream");
    for (size_t i = 0; pairs != NULL && pairs[i] != NULL && pairs[i + 1] != NULL; i += 2) {
        if (i > 0)
            fputc('&', out);
        form_escape(out, pairs[i]);
        fputc('=', out);
        form_escape(out, pairs[i + 1]);
    }
    if (fclose(out) != 0)
        die("fclose");
    return text;
}

char *testlib_basic_auth(const char *user, const char *pass)
{
    char *plain, *line;
    unsigned char *b64;
    int n;

    if ((n = asprintf(&plain, "%s:%s", user, pass)) < 0)
        die("asprintf");
    if ((b64 = malloc(4 * (((size_t)n + 2) / 3) + 1)) == NULL)
        die("malloc");
    EVP_EncodeBlock(b64, (const unsigned char *)plain, n);
    if (asprintf(&line, "Authorization: Basic %s", (const char *)b64) < 0)
        die("asprintf");
    free(plain);
    free(b64);
    return line;
}

static int pair_cmp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    int c = strcmp(x[0], y[0]);

    return c != 0 ? c : strcmp(x[1], y[1]);
}

void testlib_twilio_sign(const char *token, const char *url, const char *const *pairs, char out[64])
{
    size_t n = 0, len = 0;
    const char **sorted = NULL; /* die() does not return, but clang cannot tell */
    char *data = NULL;
    FILE *f = open_memstream(&data, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    while (pairs != NULL && pairs[n] != NULL && pairs[n + 1] != NULL)
        n += 2;
    if (f == NULL || (sorted = malloc((n + 1) * sizeof(*sorted))) == NULL)
        die("open_memstream");
    memcpy(sorted, pairs, n * sizeof(*sorted));
    /* By name, then by value: the official SDKs' rule for repeated names. */
    qsort(sorted, n / 2, 2 * sizeof(*sorted), pair_cmp);
    fputs(url, f);
    for (size_t i = 0; i < n; i++)
        fputs(sorted[i], f);
    if (fclose(f) != 0)
        die("fclose");
    HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)data, len, md, &mdlen);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
    free(sorted);
    free(data);
}

/* base64url without padding, malloc'd. */
static char *b64url(const unsigned char *in, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    size_t n;

    if (out == NULL)
        die("malloc");
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    for (n = 0; out[n] != '\0'; n++) {
        if (out[n] == '+')
            out[n] = '-';
        else if (out[n] == '/')
            out[n] = '_';
    }
    while (n > 0 && out[n - 1] == '=')
        out[--n] = '\0';
    return out;
}

char *testlib_gwapi_jwt(const char *secret, const char *claims_json)
{
    static const char head[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *h = b64url((const unsigned char *)head, strlen(head));
    char *c = b64url((const unsigned char *)claims_json, strlen(claims_json));
    char *input, *sig, *jwt;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (asprintf(&input, "%s.%s", h, c) < 0)
        die("asprintf");
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)input, strlen(input), md,
         &mdlen);
    sig = b64url(md, mdlen);
    if (asprintf(&jwt, "%s.%s", input, sig) < 0)
        die("asprintf");
    free(h);
    free(c);
    free(input);
    free(sig);
    return jwt;
}

void testlib_server_set_clock(const struct testlib_server *s, long long unix_seconds)
{
    char *path = path_in(s->dir, "clock"), *tmp = path_in(s->dir, "clock.tmp");
    char text[32];

    /* Renamed into place, so the server never reads a half-written number. */
    snprintf(text, sizeof(text), "%lld\n", unix_seconds);
    testlib_write_file(tmp, text);
    if (rename(tmp, path) != 0)
        die("rename clock");
    free(path);
    free(tmp);
}

int testlib_load_directory(struct place_table **places, struct directory **services)
{
    char *dir = testlib_tmpdir(), *db_path = path_in(dir, "katto.db");
    char *postal = path_in(testlib_src_dir(), "db/data/postal_codes_fi.csv");
    char *csv = path_in(testlib_src_dir(), "db/data/services_fi.csv");
    char err[ERR_LEN] = "";
    long long generation;
    sqlite3 *db = db_open(db_path, err);
    int rc = -1;

    if (db != NULL && db_migrate(db, db_migrations, db_migrations_count, err) == 0 &&
        directory_import_seed(db, postal, csv, 1795000000LL, err) == 0 &&
        directory_load_all(db, places, services, &generation, err) == 0)
        rc = 0;
    if (rc != 0)
        fprintf(stderr, "testlib_load_directory: %s\n", err);
    db_close(db);
    testlib_rmrf(dir);
    free(dir);
    free(db_path);
    free(postal);
    free(csv);
    return rc;
}

long testlib_send_elks(const char *base_url, const char *token, const char *id, const char *from,
                       const char *text)
{
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *const pairs[] = {"id",           id,        "from", from, "to",
                                 "+46766861004", "message", text,   NULL};
    char url[512], *form = testlib_form(pairs);
    struct testlib_response r;
    long status = -1;

    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=%s", base_url, token);
    if (testlib_http("POST", url, form_ct, form, strlen(form), &r) == 0) {
        status = r.status;
        testlib_response_release(&r);
    }
    free(form);
    return status;
}

long testlib_send_twilio(const char *base_url, const char *auth_token, const char *account_sid,
                         const char *sid, const char *from, const char *text, char **body)
{
    const char *const pairs[] = {
        "MessageSid",   sid,    "AccountSid", account_sid,   "From", from, "To",
        "+15005550006", "Body", text,         "NumSegments", "1",    NULL};
    char url[512], sig[64], sig_header[128], *form = testlib_form(pairs);
    struct testlib_response r;
    long status = -1;

    snprintf(url, sizeof(url), "%s/webhooks/twilio/sms", base_url);
    testlib_twilio_sign(auth_token, url, pairs, sig);
    snprintf(sig_header, sizeof(sig_header), "X-Twilio-Signature: %s", sig);
    const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded", sig_header,
                                   NULL};
    if (body != NULL)
        *body = NULL;
    if (testlib_http("POST", url, headers, form, strlen(form), &r) == 0) {
        status = r.status;
        if (body != NULL)
            *body = strdup(r.body != NULL ? r.body : "");
        testlib_response_release(&r);
    }
    free(form);
    return status;
}

char *testlib_emu_texts_to(const struct testlib_emu *e, const char *to)
{
    cJSON *all = testlib_emu_requests(e), *r;
    struct buf out;

    buf_init(&out, 1 << 20);
    cJSON_ArrayForEach(r, all)
    {
        const cJSON *t = cJSON_GetObjectItem(r, "text"), *dst = cJSON_GetObjectItem(r, "to");

        if (cJSON_IsTrue(cJSON_GetObjectItem(r, "accepted")) && cJSON_IsString(t) &&
            cJSON_IsString(dst) && strcmp(dst->valuestring, to) == 0 &&
            (buf_puts(&out, t->valuestring) != 0 || buf_puts(&out, "\n---\n") != 0))
            die("texts_to: too long");
    }
    cJSON_Delete(all);
    return buf_detach(&out);
}
