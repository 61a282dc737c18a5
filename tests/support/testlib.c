/* testlib.c: see testlib.h. Test code: aborting on set-up failure is fine here. */
#include "testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

static int spawn(struct testlib_server *s, const char *extra_json, char *const *env)
{
    char *port_path = path_in(s->dir, "port");
    char *secret_path = path_in(s->dir, "secret");
    char *flows_path = path_in(testlib_src_dir(), "flows");
    char *json;
    pid_t pid;

    unlink(port_path);
    if (asprintf(
            &json,
            "{\n  \"listen\": \"127.0.0.1:0\",\n  \"port_file\": \"%s\",\n"
            "  \"database\": \"%s\",\n  \"secret_file\": \"%s\",\n  \"flows\": \"%s\"%s%s\n}\n",
            port_path, s->db_path, secret_path, flows_path, extra_json != NULL ? ",\n  " : "",
            extra_json != NULL ? extra_json : "") < 0)
        die("asprintf");
    testlib_write_file(s->config_path, json);
    free(json);
    free(secret_path);
    free(flows_path);
    fflush(NULL);
    if ((pid = fork()) < 0)
        die("fork");
    if (pid == 0) {
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

        /* stdout too: a child holding the test's stdout would keep ctest waiting. */
        if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
            _exit(127);
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            putenv(env[i]);
        execl(testlib_katto_bin(), "katto", "--config", s->config_path, "serve", (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    s->port = 0;
    track_child(pid);
    free(port_path);
    if (!testlib_wait_for(port_file_ready, s, 15000) || s->pid < 0) {
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
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            untrack_child(s->pid);
            s->pid = -1;
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
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        untrack_child(s->pid);
    }
    testlib_rmrf(s->dir);
    free(s->dir);
    free(s->config_path);
    free(s->db_path);
    free(s->log_path);
    memset(s, 0, sizeof(*s));
}

static long http_timeout_ms = 10000;

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
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, http_timeout_ms);
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
