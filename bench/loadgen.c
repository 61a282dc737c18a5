/*
 * loadgen.c: send exactly N requests to a server on 127.0.0.1, for scripts/bench.
 *
 * wrk runs for a time; some scenarios need a number instead: queue 50,000 replies,
 * open 100,000 USSD sessions. This sends them over C keep-alive connections, one
 * request in flight per connection, and says how many got a 2xx.
 *
 *   loadgen --port P [--connections C] --pool FILE
 *       every line of FILE once: PATH <TAB> HEADER|- <TAB> BODY (see sign.c)
 *   loadgen --port P [--connections C] --ussd PATH --count N --run R
 *       N first steps of fresh Africa's Talking USSD sessions on *500# (text "")
 *
 * Prints: "requests N ok N failed N seconds S rate R". Exit 0 if every request got
 * a 2xx, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN 512

struct conn {
    int fd;
    char *out;            /* the request being sent (malloc'd) */
    size_t out_len, sent; /* bytes of out written so far */
    char in[65536];
    size_t in_len;
    bool busy;
};

static int port;
static long total, issued, ok, failed;
static char **pool;
static const char *ussd_path;
static long run_id;

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int open_conn(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Builds request number k. */
static char *build(long k, size_t *len)
{
    char *req = NULL;
    int n;

    if (pool != NULL) {
        char *line = pool[k], *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        const char *header;

        if (t2 == NULL) {
            fprintf(stderr, "loadgen: pool line %ld is not PATH<TAB>HEADER<TAB>BODY\n", k + 1);
            exit(2);
        }
        *t1 = *t2 = '\0';
        header = strcmp(t1 + 1, "-") == 0 ? "" : t1 + 1;
        n = asprintf(&req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     line, port, header, header[0] ? "\r\n" : "", strlen(t2 + 1), t2 + 1);
        *t1 = *t2 = '\t';
    } else {
        char body[256];
        int blen =
            snprintf(body, sizeof(body),
                     "sessionId=ATUid_mem_%ld_%ld&serviceCode=%%2A500%%23&phoneNumber=%%2B2547"
                     "%08ld&networkCode=63902&text=",
                     run_id, k, k % 100000000);

        n = asprintf(&req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     ussd_path, port, blen, body);
    }
    if (n < 0)
        die("asprintf");
    *len = (size_t)n;
    return req;
}

static void start_next(struct conn *c)
{
    free(c->out);
    c->out = NULL;
    c->busy = false;
    if (issued >= total)
        return;
    c->out = build(issued++, &c->out_len);
    c->sent = 0;
    c->in_len = 0;
    c->busy = true;
}

/* A complete response in c->in? Returns its status, 0 if not complete yet. */
static int response_done(struct conn *c)
{
    char *end, *cl;
    long status, body_len;

    c->in[c->in_len] = '\0';
    if ((end = strstr(c->in, "\r\n\r\n")) == NULL)
        return 0;
    if (sscanf(c->in, "HTTP/1.%*d %ld", &status) != 1)
        return -1;
    cl = strcasestr(c->in, "\r\nContent-Length:");
    body_len = cl != NULL && cl < end ? strtol(cl + 17, NULL, 10) : 0;
    if ((size_t)(end + 4 - c->in) + (size_t)body_len > c->in_len)
        return 0;
    return (int)status;
}

static char **read_pool(const char *path, long *n)
{
    FILE *f = fopen(path, "r");
    char **lines = NULL, *line = NULL;
    size_t cap = 0, lcap = 0;
    ssize_t len;

    if (f == NULL)
        die(path);
    *n = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if ((size_t)*n == cap) {
            cap = cap ? cap * 2 : 4096;
            if ((lines = realloc(lines, cap * sizeof(*lines))) == NULL)
                die("realloc");
        }
        if ((lines[(*n)++] = strdup(line)) == NULL)
            die("strdup");
    }
    free(line);
    fclose(f);
    return lines;
}

int main(int argc, char **argv)
{
    static struct conn conns[MAXCONN];
    struct pollfd pfd[MAXCONN];
    const char *pool_path = NULL;
    int nconn = 50;
    struct timespec t0, t1;
    double secs;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--connections") == 0)
            nconn = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--pool") == 0)
            pool_path = argv[i + 1];
        else if (strcmp(argv[i], "--ussd") == 0)
            ussd_path = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            total = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--run") == 0)
            run_id = atol(argv[i + 1]);
        else
            goto usage;
    }
    if (argc % 2 != 1 || port <= 0 || nconn < 1 || nconn > MAXCONN ||
        (pool_path == NULL) == (ussd_path == NULL) || (ussd_path != NULL && total <= 0)) {
    usage:
        fprintf(stderr, "usage: loadgen --port P [--connections C] --pool FILE\n"
                        "       loadgen --port P [--connections C] --ussd PATH --count N "
                        "--run R\n");
        return 64;
    }
    if (pool_path != NULL)
        pool = read_pool(pool_path, &total);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < nconn; i++) {
        conns[i].fd = open_conn();
        start_next(&conns[i]);
    }
    while (ok + failed < total) {
        for (int i = 0; i < nconn; i++) {
            pfd[i].fd = conns[i].busy ? conns[i].fd : -1;
            pfd[i].events = conns[i].sent < conns[i].out_len ? POLLOUT : POLLIN;
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)nconn, 30000) <= 0)
            die("poll (no answer for 30 s?)");
        for (int i = 0; i < nconn; i++) {
            struct conn *c = &conns[i];
            ssize_t got;
            int status;

            if (pfd[i].revents == 0)
                continue;
            if (c->sent < c->out_len) {
                if ((got = write(c->fd, c->out + c->sent, c->out_len - c->sent)) < 0)
                    die("write");
                c->sent += (size_t)got;
                continue;
            }
            got = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
            if (got <= 0) {
                /* Closed by the server: count the request as failed, reconnect. */
                failed++;
                close(c->fd);
                c->fd = open_conn();
                start_next(c);
                continue;
            }
            c->in_len += (size_t)got;
            if ((status = response_done(c)) == 0)
                continue;
            if (status >= 200 && status < 300)
                ok++;
            else if (failed++ < 5)
                fprintf(stderr, "loadgen: HTTP %d: %.300s\n", status, c->in);
            start_next(c);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("requests %ld ok %ld failed %ld seconds %.3f rate %.0f\n", total, ok, failed, secs,
           (double)total / secs);
    for (int i = 0; i < nconn; i++)
        close(conns[i].fd);
    return failed == 0 ? 0 : 1;
}
