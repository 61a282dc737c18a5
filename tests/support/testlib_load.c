/* testlib_load.c: see testlib_load.h. Test code: aborting on set-up failure is fine here. */
#include "testlib_load.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 8
#define MAX_PER_THREAD 64
#define DOWN_PAUSE_MS 20 /* after a refused attempt, as a gateway backs off (shorter) */
#define MAX_PRINTED 5    /* problems printed per kind */

/* One conversation: a number walking the script of its route. */
struct conv {
    long index;
    enum testlib_route route;
    char number[24];
    int step, nsteps; /* steps answered 2xx so far, of nsteps */
};

struct testlib_load {
    struct testlib_load_params p;
    pthread_mutex_t mu; /* guards everything below */
    char base_url[64];
    bool stopping;
    struct conv **convs; /* every conversation started, in order */
    size_t nconvs, cap;
    long next_index;
    struct testlib_load_stats st;
    int running; /* threads not yet finished */
    pthread_t threads[MAX_THREADS];
    int nthreads;
};

struct worker {
    struct testlib_load *l;
    unsigned int rng;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int script_len(const char *const *script)
{
    int n = 0;

    while (script != NULL && script[n] != NULL)
        n++;
    return n;
}

/* xorshift32: reproducible from the seed, private to one thread. */
static unsigned int next_rand(unsigned int *s)
{
    unsigned int x = *s ? *s : 0x9e3779b9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static const char *route_name(enum testlib_route r)
{
    return r == TESTLIB_ROUTE_ELKS ? "46elks" : r == TESTLIB_ROUTE_TWILIO ? "twilio" : "ussd";
}

/*
 * Posts step `step` of c to base_url the way its gateway does. Returns the
 * HTTP status, or -1 if there was no answer; *body gets the answer (owned)
 * when body is not NULL.
 */
static long post_step(const struct testlib_load_params *p, const char *base_url,
                      const struct conv *c, int step, char **body, long *latency_ms)
{
    static const char *const form_ct = "Content-Type: application/x-www-form-urlencoded";
    char url[256], id[64], sig[64], sig_header[96];
    const char *headers[3] = {form_ct, NULL, NULL};
    struct testlib_response r;
    struct timespec t0;
    char *form;
    long status;

    if (c->route == TESTLIB_ROUTE_ELKS) {
        snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=%s", base_url, p->elks_token);
        snprintf(id, sizeof(id), "elks-%ld-%d", c->index, step);
        const char *const pairs[] = {
            "id", id, "from", c->number, "to", "+46766861004", "message", p->sms_script[step],
            NULL};
        form = testlib_form(pairs);
    } else if (c->route == TESTLIB_ROUTE_TWILIO) {
        snprintf(url, sizeof(url), "%s/webhooks/twilio/sms", base_url);
        snprintf(id, sizeof(id), "SM%030ld%02d", c->index, step);
        const char *const pairs[] = {
            "MessageSid",   id,     "AccountSid",        p->twilio_sid, "From", c->number, "To",
            "+15005550006", "Body", p->sms_script[step], "NumSegments", "1",    NULL};
        form = testlib_form(pairs);
        testlib_twilio_sign(p->twilio_token, url, pairs, sig);
        snprintf(sig_header, sizeof(sig_header), "X-Twilio-Signature: %s", sig);
        headers[1] = sig_header;
    } else {
        snprintf(url, sizeof(url), "%s/webhooks/africastalking/ussd/%s", base_url, p->ussd_token);
        snprintf(id, sizeof(id), "ATUid_%ld", c->index);
        const char *const pairs[] = {
            "sessionId",   id,      "serviceCode", p->ussd_code,         "phoneNumber", c->number,
            "networkCode", "24405", "text",        p->ussd_script[step], NULL};
        form = testlib_form(pairs);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    status = testlib_http("POST", url, headers, form, strlen(form), &r) == 0 ? r.status : -1;
    *latency_ms = elapsed_ms(&t0);
    free(form);
    if (body != NULL) {
        *body = r.body;
        r.body = NULL;
    }
    testlib_response_release(&r);
    return status;
}

static bool ok_status(long status)
{
    return status >= 200 && status < 300;
}

static struct conv *conv_new(struct testlib_load *l, unsigned int *rng)
{
    struct conv *c = calloc(1, sizeof(*c));
    enum testlib_route routes[TESTLIB_ROUTE_COUNT];
    int n = 0;

    if (c == NULL)
        abort();
    for (int r = 0; r < TESTLIB_ROUTE_COUNT; r++) {
        if (l->p.routes & (1u << r))
            routes[n++] = (enum testlib_route)r;
    }
    c->route = routes[next_rand(rng) % (unsigned int)n];
    c->nsteps = script_len(c->route == TESTLIB_ROUTE_USSD ? l->p.ussd_script : l->p.sms_script);
    pthread_mutex_lock(&l->mu);
    c->index = l->next_index++;
    snprintf(c->number, sizeof(c->number), "+35850%07ld", l->p.first_number + c->index);
    if (l->nconvs == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        if ((l->convs = realloc(l->convs, l->cap * sizeof(*l->convs))) == NULL)
            abort();
    }
    l->convs[l->nconvs++] = c;
    l->st.started++;
    pthread_mutex_unlock(&l->mu);
    return c;
}

/* Posts a step; on an answer to a USSD step, compares it with the reference screen. */
static long attempt(struct testlib_load *l, struct conv *c, bool again)
{
    char url[64], *body = NULL;
    long latency, status;
    bool wrong = false;

    pthread_mutex_lock(&l->mu);
    snprintf(url, sizeof(url), "%s", l->base_url);
    pthread_mutex_unlock(&l->mu);
    status = post_step(&l->p, url, c, c->step, &body, &latency);
    if (ok_status(status) && c->route == TESTLIB_ROUTE_USSD && l->p.ussd_screens != NULL &&
        strcmp(body, l->p.ussd_screens[c->step]) != 0)
        wrong = true;
    pthread_mutex_lock(&l->mu);
    l->st.posts++;
    if (status >= 0 && latency > l->st.max_latency_ms)
        l->st.max_latency_ms = latency;
    if (!ok_status(status))
        l->st.refused++;
    else if (again)
        l->st.redelivered++;
    if (wrong && l->st.ussd_wrong++ == 0)
        fprintf(stderr, "load: USSD %ld step %d%s: got \"%s\", want \"%s\"\n", c->index, c->step,
                again ? " (posted again)" : "", body, l->p.ussd_screens[c->step]);
    pthread_mutex_unlock(&l->mu);
    free(body);
    return status;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct testlib_load *l = w->l;
    struct conv *active[MAX_PER_THREAD] = {NULL};
    int slots = l->p.per_thread;

    for (;;) {
        bool stopping, any = false;
        struct conv *c;
        int slot;

        pthread_mutex_lock(&l->mu);
        stopping = l->stopping;
        pthread_mutex_unlock(&l->mu);
        for (int i = 0; i < slots; i++) {
            if (active[i] == NULL && !stopping)
                active[i] = conv_new(l, &w->rng);
            any |= active[i] != NULL;
        }
        if (!any)
            break;
        do
            slot = (int)(next_rand(&w->rng) % (unsigned int)slots);
        while (active[slot] == NULL);
        c = active[slot];
        if (!ok_status(attempt(l, c, false))) {
            sleep_ms(DOWN_PAUSE_MS); /* the server is down or failing: try again later */
            continue;
        }
        /* Answered: sometimes the gateway delivers it again anyway. */
        if (next_rand(&w->rng) % 100 < (unsigned int)l->p.redeliver_percent)
            attempt(l, c, true);
        pthread_mutex_lock(&l->mu);
        l->st.accepted++;
        if (++c->step == c->nsteps) {
            l->st.finished++;
            active[slot] = NULL;
        }
        pthread_mutex_unlock(&l->mu);
        if (l->p.pause_ms > 0)
            sleep_ms(l->p.pause_ms);
    }
    pthread_mutex_lock(&l->mu);
    l->running--;
    pthread_mutex_unlock(&l->mu);
    free(w);
    return NULL;
}

struct testlib_load *testlib_load_start(const struct testlib_load_params *p, const char *base_url)
{
    struct testlib_load *l = calloc(1, sizeof(*l));

    if (l == NULL || p->threads < 1 || p->threads > MAX_THREADS || p->per_thread < 1 ||
        p->per_thread > MAX_PER_THREAD || p->routes == 0 ||
        p->routes >= (1u << TESTLIB_ROUTE_COUNT)) {
        free(l);
        return NULL;
    }
    curl_global_init(CURL_GLOBAL_ALL); /* before the threads: it is not thread-safe */
    l->p = *p;
    pthread_mutex_init(&l->mu, NULL);
    snprintf(l->base_url, sizeof(l->base_url), "%s", base_url);
    l->running = p->threads;
    for (int i = 0; i < p->threads; i++) {
        struct worker *w = calloc(1, sizeof(*w));

        if (w == NULL)
            abort();
        w->l = l;
        w->rng = p->seed * 2654435761u + (unsigned int)i * 40503u + 1u;
        if (pthread_create(&l->threads[i], NULL, worker_main, w) != 0)
            abort();
        l->nthreads++;
    }
    return l;
}

void testlib_load_set_target(struct testlib_load *l, const char *base_url)
{
    pthread_mutex_lock(&l->mu);
    snprintf(l->base_url, sizeof(l->base_url), "%s", base_url);
    pthread_mutex_unlock(&l->mu);
}

int testlib_load_stop(struct testlib_load *l, int timeout_ms)
{
    int running = 0;

    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_mutex_unlock(&l->mu);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        pthread_mutex_lock(&l->mu);
        running = l->running;
        pthread_mutex_unlock(&l->mu);
        if (running == 0)
            break;
        sleep_ms(10);
    }
    if (running != 0) {
        fprintf(stderr, "load: %d threads still have unfinished conversations\n", running);
        return -1;
    }
    for (int i = 0; i < l->nthreads; i++)
        pthread_join(l->threads[i], NULL);
    l->nthreads = 0;
    return 0;
}

void testlib_load_stats(struct testlib_load *l, struct testlib_load_stats *out)
{
    pthread_mutex_lock(&l->mu);
    *out = l->st;
    pthread_mutex_unlock(&l->mu);
}

void testlib_load_free(struct testlib_load *l)
{
    if (l == NULL)
        return;
    if (l->nthreads > 0 && testlib_load_stop(l, 60000) != 0)
        abort(); /* the threads still use l */
    for (size_t i = 0; i < l->nconvs; i++)
        free(l->convs[i]);
    free(l->convs);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

void testlib_load_strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

static void strv_push(char ***v, size_t *n, const char *s)
{
    if ((*v = realloc(*v, (*n + 2) * sizeof(**v))) == NULL || ((*v)[*n] = strdup(s)) == NULL)
        abort();
    (*v)[++*n] = NULL;
}

static const char *str_field(const cJSON *r, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(r, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Texts the emulator accepted for number, in arrival order (NULL-terminated, owned). */
static char **accepted_texts(const struct testlib_emu *emu, const char *number, size_t *n)
{
    cJSON *all = testlib_emu_requests(emu);
    const cJSON *r;
    char **v = calloc(1, sizeof(*v)); /* never NULL, even when empty */

    *n = 0;
    if (v == NULL)
        abort();
    cJSON_ArrayForEach(r, all)
    {
        const char *to = str_field(r, "to"), *text = str_field(r, "text");

        if (cJSON_IsTrue(cJSON_GetObjectItem(r, "accepted")) && to != NULL &&
            strcmp(to, number) == 0)
            strv_push(&v, n, text != NULL ? text : "");
    }
    cJSON_Delete(all);
    return v;
}

long testlib_load_outbox_queued(const char *db_path)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    long queued = -1;

    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox WHERE status = 'queued'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        queued = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return queued;
}

static bool settled_cb(void *arg)
{
    return testlib_load_outbox_queued(arg) == 0;
}

char **testlib_load_reference(const struct testlib_load_params *p, const char *base_url,
                              const char *db_path, const struct testlib_emu *emu,
                              enum testlib_route route, const char *number)
{
    struct conv c = {.index = 9000000 + route, .route = route};
    const char *const *script = route == TESTLIB_ROUTE_USSD ? p->ussd_script : p->sms_script;
    char **out = calloc(1, sizeof(*out)), **texts;
    size_t n = 0, got;
    long latency;

    if (out == NULL)
        abort();
    snprintf(c.number, sizeof(c.number), "%s", number);
    c.nsteps = script_len(script);
    for (c.step = 0; c.step < c.nsteps; c.step++) {
        char *body = NULL;
        long status = post_step(p, base_url, &c, c.step, &body, &latency);

        if (!ok_status(status)) {
            fprintf(stderr, "load: reference %s step %d: status %ld\n", route_name(route), c.step,
                    status);
            free(body);
            testlib_load_strv_free(out);
            return NULL;
        }
        if (route == TESTLIB_ROUTE_USSD) {
            strv_push(&out, &n, body);
            free(body);
            continue;
        }
        free(body);
        /* One reply per step at least, before the next step (a client reads, then answers). */
        for (int waited = 0;; waited += 20) {
            testlib_load_strv_free(accepted_texts(emu, number, &got));
            if (got >= (size_t)c.step + 1)
                break;
            if (waited > 20000) {
                fprintf(stderr, "load: reference %s step %d: no reply\n", route_name(route),
                        c.step);
                testlib_load_strv_free(out);
                return NULL;
            }
            sleep_ms(20);
        }
    }
    if (route == TESTLIB_ROUTE_USSD)
        return out;
    if (!testlib_wait_for(settled_cb, (void *)db_path, 20000)) {
        testlib_load_strv_free(out);
        return NULL;
    }
    texts = accepted_texts(emu, number, &got);
    testlib_load_strv_free(out);
    /* Runs of one text would hide duplicates: the reconciliation needs them apart. */
    for (size_t i = 1; i < got; i++) {
        if (strcmp(texts[i], texts[i - 1]) == 0) {
            fprintf(stderr, "load: reference %s: replies %zu and %zu are the same text\n",
                    route_name(route), i - 1, i);
            testlib_load_strv_free(texts);
            return NULL;
        }
    }
    return texts;
}

int testlib_load_emu_phase(const struct testlib_emu *e, const char *mode, int count, int delay_ms)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    char url[128], body[160];
    struct testlib_response r;
    int rc;

    snprintf(url, sizeof(url), "%s/_emu/fail", e->base_url);
    snprintf(body, sizeof(body), "{\"mode\": \"%s\", \"count\": %d, \"delay_ms\": %d}", mode, count,
             delay_ms);
    rc =
        testlib_http("POST", url, headers, body, strlen(body), &r) == 0 && r.status == 200 ? 0 : -1;
    testlib_response_release(&r);
    return rc;
}

static long last_seq(const struct testlib_emu *e)
{
    cJSON *all = testlib_emu_requests(e);
    const cJSON *last;
    long seq = -1;

    if (all == NULL)
        return -1;
    last = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1);
    seq = last != NULL ? (long)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "seq")) : 0;
    cJSON_Delete(all);
    return seq;
}

long testlib_load_emu_quiet_seq(const struct testlib_emu *e)
{
    long seq = last_seq(e), again;

    /* A send the dead server wrote just before it died may still be on its way. */
    for (int i = 0; i < 50; i++) {
        sleep_ms(100);
        if ((again = last_seq(e)) == seq)
            return seq;
        seq = again;
    }
    return -1;
}

/* One send to a load number, as the emulator recorded it. */
struct sent {
    const char *to, *text, *id, *mode;
    long seq;
    bool accepted;
};

static int sent_cmp(const void *a, const void *b)
{
    const struct sent *x = a, *y = b;
    int c = strcmp(x->to, y->to);

    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Katto's recorded gateway message ids, sorted (owned strings). */
static char **recorded_ids(const char *db_path, size_t *n)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    char **v = NULL;
    size_t cap = 0;

    *n = 0;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT gateway_msg_id FROM outbox WHERE gateway_msg_id IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "load: %s: %s\n", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap && (v = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v))) == NULL)
            abort();
        v[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (v == NULL && (v = calloc(1, sizeof(*v))) == NULL)
        abort();
    qsort(v, *n, sizeof(*v), str_cmp);
    return v;
}

static void ids_free(char **ids, size_t n)
{
    for (size_t i = 0; ids != NULL && i < n; i++)
        free(ids[i]);
    free(ids);
}

static bool recorded(char **ids, size_t n, const char *id)
{
    return id != NULL && bsearch(&id, ids, n, sizeof(*ids), str_cmp) != NULL;
}

/* The first kill whose boundary lies in [from, to), or -1. */
static int kill_between(const long *kill_seqs, int nkills, long from, long to)
{
    for (int i = 0; i < nkills; i++) {
        if (kill_seqs[i] >= from && kill_seqs[i] < to)
            return i;
    }
    return -1;
}

int testlib_load_reconcile(struct testlib_load *l, const struct cJSON *records, const char *db_path,
                           char **const refs[TESTLIB_ROUTE_COUNT], const long *kill_seqs,
                           int nkills, bool late_answers, struct testlib_reconcile *out)
{
    size_t nids, nsent = 0;
    char **ids = recorded_ids(db_path, &nids);
    struct sent *sent = calloc((size_t)cJSON_GetArraySize(records) + 1, sizeof(*sent));
    long *per_kill = calloc((size_t)nkills + 1, sizeof(*per_kill));
    const cJSON *r;
    long printed = 0;

    memset(out, 0, sizeof(*out));
    if (ids == NULL || sent == NULL || per_kill == NULL) {
        ids_free(ids, nids);
        free(sent);
        free(per_kill);
        return -1;
    }
    cJSON_ArrayForEach(r, records)
    {
        const char *gw = str_field(r, "gateway"), *to = str_field(r, "to");

        if (gw == NULL || to == NULL || strncmp(to, "+35850", 6) != 0 ||
            (strcmp(gw, "46elks") != 0 && strcmp(gw, "twilio") != 0))
            continue;
        sent[nsent++] = (struct sent){
            .to = to,
            .text = str_field(r, "text") ? str_field(r, "text") : "",
            .id = str_field(r, "id"),
            .mode = str_field(r, "mode") ? str_field(r, "mode") : "",
            .seq = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "seq")),
            .accepted = cJSON_IsTrue(cJSON_GetObjectItem(r, "accepted")),
        };
    }
    qsort(sent, nsent, sizeof(*sent), sent_cmp);

    pthread_mutex_lock(&l->mu);
    for (size_t ci = 0; ci < l->nconvs; ci++) {
        const struct conv *c = l->convs[ci];
        char *const *ref = refs[c->route];
        struct sent key = {.to = c->number, .seq = -1};
        size_t i = 0, nref = 0, run = 0;
        bool finished = c->step == c->nsteps, wrong = false;
        struct sent *prev = NULL;

        if (c->route == TESTLIB_ROUTE_USSD)
            continue;
        while (ref[nref] != NULL)
            nref++;
        out->conversations++;
        if (finished)
            out->expected += (long)nref;
        /* The sends to this number: the first index with to >= number, by binary search. */
        for (size_t hi = nsent; i < hi;) {
            size_t mid = (i + hi) / 2;

            if (sent_cmp(&sent[mid], &key) < 0)
                i = mid + 1;
            else
                hi = mid;
        }
        for (; i < nsent && strcmp(sent[i].to, c->number) == 0; i++) {
            struct sent *s = &sent[i];

            if (!s->accepted) {
                out->unanswered += strcmp(s->mode, "timeout") == 0;
                out->failed_sends += strcmp(s->mode, "timeout") != 0;
                continue;
            }
            out->replies++;
            if (prev != NULL && strcmp(prev->text, s->text) == 0) {
                /* The same reply again: the earlier send must be one Katto never recorded. */
                int k = kill_between(kill_seqs, nkills, prev->seq, s->seq);
                bool late = late_answers && strcmp(prev->mode, "slow") == 0;

                out->duplicates++;
                if (!recorded(ids, nids, prev->id) && k >= 0)
                    per_kill[k]++;
                else if (!recorded(ids, nids, prev->id) && late)
                    out->late++;
                else if (out->unexplained++ < MAX_PRINTED)
                    fprintf(stderr,
                            "load: %s conversation %ld: reply %zu sent again (seq %ld, then %ld) "
                            "although %s\n",
                            route_name(c->route), c->index, run, prev->seq, s->seq,
                            recorded(ids, nids, prev->id) ? "Katto had recorded the first send"
                                                          : "no kill or late answer came between");
            } else {
                if (prev != NULL && !recorded(ids, nids, prev->id) &&
                    out->not_recorded++ < MAX_PRINTED)
                    fprintf(stderr, "load: conversation %ld: reply %zu went out unrecorded\n",
                            c->index, run - 1);
                if (run >= nref || strcmp(ref[run], s->text) != 0)
                    wrong = true;
                run++;
            }
            prev = s;
        }
        if (prev != NULL && !recorded(ids, nids, prev->id) && out->not_recorded++ < MAX_PRINTED)
            fprintf(stderr, "load: conversation %ld: its last reply went out unrecorded\n",
                    c->index);
        if (finished && run < nref) {
            out->lost += (long)(nref - run);
            if (printed++ < MAX_PRINTED)
                fprintf(stderr, "load: %s conversation %ld: %zu of %zu replies arrived\n",
                        route_name(c->route), c->index, run, nref);
        }
        if (wrong && out->wrong++ < MAX_PRINTED)
            fprintf(stderr,
                    "load: %s conversation %ld: replies unlike the reference, or out "
                    "of order\n",
                    route_name(c->route), c->index);
    }
    pthread_mutex_unlock(&l->mu);
    for (int k = 0; k < nkills; k++) {
        if (per_kill[k] > out->max_per_kill)
            out->max_per_kill = per_kill[k];
    }
    ids_free(ids, nids);
    free(sent);
    free(per_kill);
    return 0;
}
