/* app.c: wiring for `katto serve` (see app.h). */
#include "app.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_web.h"
#include "batch.h"
#include "callback.h"
#include "checkpoint.h"
#include "clock.h"
#include "contact_log.h"
#include "crypto.h"
#include "db.h"
#include "db_fault.h"
#include "diag.h"
#include "directory.h"
#include "directory_import.h"
#include "err.h"
#include "exitcode.h"
#include "flow.h"
#include "flow_watch.h"
#include "http_client.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "place.h"
#include "secret.h"
#include "session.h"
#include "team.h"
#include "sms_channel.h"
#include "ussd_channel.h"
#include "worker_web.h"

#define PURGE_CHUNK 500 /* rows per purge statement: bounded work per loop turn */

struct app {
    const struct config *cfg;
    struct event_base *base;
    sqlite3 *db;
    struct checkpointer *checkpointer;
    struct metrics *metrics;
    struct batch *batch;
    struct http_server *http;
    struct event *sigterm, *sigint, *sighup, *drain;
    struct timespec stop_requested;
    time_t started;
    struct flow_set *flows; /* in service; replaced whole on reload */
    struct flow_watch *watch;
    struct team_list teams;     /* callbacks.teams, parsed once (config checked it) */
    struct place_table *places; /* postal codes and services in service; replaced together */
    struct directory *services;
    long long directory_generation; /* of the loaded copy; -1: none loaded */
    struct session_store *sessions;
    struct http_client *http_client;
    struct outbox *outbox;
    struct callback_service *callbacks;
    struct sms_channel *sms;
    struct ussd_channel *ussd;
    struct contact_log *log;
    /* The administrators' report page (admin_web.c). */
    struct admin_web *admin_web;
    struct worker_web *worker_web; /* the workers' page (worker_web.c) */
    struct event *maintenance;
    uint8_t contact_key[CRYPTO_KEY_LEN], number_key[CRYPTO_KEY_LEN];
    size_t flow_reload_errors; /* problems in the last failed reload, 0 after a
                                  good one */
    uint8_t secret[SECRET_LEN];
};

static void healthz(struct http_exchange *ex, void *arg)
{
    struct app *a = arg;
    cJSON *o = cJSON_CreateObject();
    /* Reads work on a full disk or behind a busy writer: writes are what webhooks need. */
    bool db_ok = db_ping(a->db) && batch_writes_ok(a->batch);
    char *text;

    cJSON_AddStringToObject(o, "status", db_ok ? "ok" : "degraded");
    cJSON_AddBoolToObject(o, "database", db_ok);
    cJSON_AddNumberToObject(o, "flows", a->flows != NULL ? (double)a->flows->nflows : 0);
    cJSON_AddStringToObject(o, "flows_reload", a->flow_reload_errors ? "failed" : "ok");
    cJSON_AddNumberToObject(o, "flow_errors", (double)a->flow_reload_errors);
    /* What a monitoring system alerts on: replies not going out, callbacks left waiting. */
    if (a->outbox != NULL) {
        long long oldest = outbox_oldest_queued(a->outbox), now = clock_now();

        cJSON_AddNumberToObject(o, "outbox_depth", (double)outbox_depth(a->outbox));
        cJSON_AddNumberToObject(o, "outbox_oldest_age", oldest ? (double)(now - oldest) : 0);
    }
    if (a->callbacks != NULL)
        cJSON_AddNumberToObject(o, "callbacks_overdue",
                                (double)callback_overdue_count(a->callbacks, clock_now()));
    cJSON_AddStringToObject(o, "version", KATTO_VERSION);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL) {
        http_exchange_error(ex, 500, "out of memory");
        return;
    }
    http_exchange_reply(ex, db_ok ? 200 : 503, "application/json", text, strlen(text));
    cJSON_free(text);
}

static void metrics_page(struct http_exchange *ex, void *arg)
{
    struct app *a = arg;
    size_t len;
    char *text = metrics_render(a->metrics, &len);

    if (text == NULL) {
        http_exchange_error(ex, 500, "out of memory");
        return;
    }
    http_exchange_reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static double gauge_connections(void *arg)
{
    return (double)http_server_connections(((struct app *)arg)->http);
}

static double gauge_in_flight(void *arg)
{
    return (double)http_server_in_flight(((struct app *)arg)->http);
}

static double gauge_uptime(void *arg)
{
    return difftime(time(NULL), ((struct app *)arg)->started);
}

static double gauge_flows(void *arg)
{
    struct app *a = arg;

    return a->flows != NULL ? (double)a->flows->nflows : 0;
}

static double gauge_checkpoints(void *arg)
{
    return (double)checkpointer_runs(((struct app *)arg)->checkpointer, NULL, NULL);
}

static double gauge_checkpoints_failed(void *arg)
{
    unsigned long failed = 0;

    checkpointer_runs(((struct app *)arg)->checkpointer, &failed, NULL);
    return (double)failed;
}

static double gauge_checkpoints_by_writer(void *arg)
{
    unsigned long by_writer = 0;

    checkpointer_runs(((struct app *)arg)->checkpointer, NULL, &by_writer);
    return (double)by_writer;
}

static int declare_metrics(struct app *a)
{
    struct metrics *m = a->metrics;

    return metrics_declare(m, "katto_http_connections_open", "gauge", "Open client connections.") ||
           metrics_gauge(m, "katto_http_connections_open", "", gauge_connections, a) ||
           metrics_declare(m, "katto_http_requests_in_flight", "gauge",
                           "Requests being handled and not yet answered.") ||
           metrics_gauge(m, "katto_http_requests_in_flight", "", gauge_in_flight, a) ||
           metrics_declare(m, "katto_uptime_seconds", "gauge", "Seconds since start-up.") ||
           metrics_gauge(m, "katto_uptime_seconds", "", gauge_uptime, a) ||
           metrics_declare(m, "katto_flow_reloads_total", "counter",
                           "Flow reloads after SIGHUP or a file change, by result.") ||
           metrics_declare(m, "katto_flows_loaded", "gauge", "Flows in service.") ||
           metrics_gauge(m, "katto_flows_loaded", "", gauge_flows, a) ||
           metrics_declare(m, "katto_db_checkpoints_total", "counter",
                           "WAL checkpoints run by the checkpoint thread.") ||
           metrics_gauge(m, "katto_db_checkpoints_total", "", gauge_checkpoints, a) ||
           metrics_declare(m, "katto_db_checkpoint_failures_total", "counter",
                           "WAL checkpoints that failed (not counting a busy one).") ||
           metrics_gauge(m, "katto_db_checkpoint_failures_total", "", gauge_checkpoints_failed,
                         a) ||
           metrics_declare(
               m, "katto_db_checkpoints_by_writer_total", "counter",
               "WAL checkpoints the event loop finished itself (the WAL kept growing).") ||
           metrics_gauge(m, "katto_db_checkpoints_by_writer_total", "", gauge_checkpoints_by_writer,
                         a);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Polls until in-flight work is done or the shutdown timeout passes, then ends
 * the loop. */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;
    size_t busy = http_server_in_flight(a->http) + batch_pending(a->batch) +
                  (a->outbox != NULL ? outbox_in_flight(a->outbox) : 0);
    double waited = seconds_since(&a->stop_requested);

    (void)fd;
    (void)what;
    if (busy > 0 && waited < (double)a->cfg->limits.shutdown_timeout)
        return;
    if (busy > 0)
        log_warn("server.shutdown_timeout", "unfinished=%zu", busy);
    event_del(a->drain);
    event_base_loopexit(a->base, NULL);
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    struct timeval tick = {0, 20000};

    (void)what;
    if (event_pending(a->drain, EV_TIMEOUT, NULL))
        return; /* already stopping */
    log_info("server.stopping", "signal=%s in_flight=%zu", sig == SIGTERM ? "TERM" : "INT",
             http_server_in_flight(a->http));
    clock_gettime(CLOCK_MONOTONIC, &a->stop_requested);
    http_server_stop_accepting(a->http);
    if (a->outbox != NULL)
        outbox_stop(a->outbox); /* sends in flight finish; no new ones start */
    event_add(a->drain, &tick);
    drain_cb(-1, 0, a);
}

static struct flow_check_options flow_options(const struct config *cfg)
{
    return (struct flow_check_options){
        .ussd_budget = (size_t)cfg->ussd.screen_budget,
        .sms_max_segments = (size_t)cfg->sms.max_segments,
    };
}

static void log_diag(const struct diag *d, enum log_level level)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct diag_entry *e = &d->entries[i];

        log_event(e->severity == DIAG_ERROR ? level : LOG_LEVEL_WARN, "flows.problem",
                  "file=%s path=%s severity=%s problem=\"%s\"", e->file, e->path[0] ? e->path : "-",
                  e->severity == DIAG_ERROR ? "error" : "warning", e->message);
    }
}

/*
 * Loads the flows directory and swaps the new set in whole. A broken edit is
 * reported and the previous good flows stay in service; sessions standing on
 * a node that disappeared start over politely at their next message.
 */
static void reload_flows(struct app *a, const char *why)
{
    struct flow_check_options opt = flow_options(a->cfg);
    struct diag d = {0};
    struct flow_set *set = flow_set_load_dir(a->cfg->flows, &opt, &d);

    log_diag(&d, LOG_LEVEL_ERROR);
    if (set == NULL) {
        a->flow_reload_errors = d.errors;
        metrics_add(a->metrics, "katto_flow_reloads_total", "result=\"failed\"", 1);
        log_error("flows.reload_failed", "trigger=%s errors=%zu kept=%zu", why, d.errors,
                  a->flows != NULL ? a->flows->nflows : 0);
    } else {
        flow_set_unref(a->flows);
        a->flows = set;
        a->flow_reload_errors = 0;
        metrics_add(a->metrics, "katto_flow_reloads_total", "result=\"ok\"", 1);
        log_info("flows.reloaded", "trigger=%s flows=%zu warnings=%zu", why, set->nflows,
                 d.warnings);
    }
    diag_release(&d);
}

/*
 * Purges expired sessions, old dedupe records, abuse counters, finished
 * messages and abandoned USSD sessions, and rotates the contact log's keys,
 * in bounded chunks.
 */
/*
 * Loads the postal codes and services again if an import changed them (or
 * always, when forced). A failed load keeps the copy in service.
 */
static void reload_directory(struct app *a, bool force, const char *why)
{
    struct place_table *places;
    struct directory *services;
    long long generation = directory_generation(a->db);
    char err[ERR_LEN];

    if (generation < 0 || (!force && generation == a->directory_generation))
        return;
    if (directory_load_all(a->db, &places, &services, &generation, err) != 0) {
        log_error("directory.reload_failed",
                  "trigger=%s problem=\"%s\" effect=\"the previous "
                  "directory stays in service\"",
                  why, err);
        return;
    }
    /* Nothing holds on to the old copy between loop callbacks: swap and free. */
    place_table_free(a->places);
    directory_free(a->services);
    a->places = places;
    a->services = services;
    a->directory_generation = generation;
    log_info("directory.loaded", "trigger=%s postal_codes=%zu services=%zu generation=%lld", why,
             place_table_count(places), directory_count(services), generation);
}

/*
 * Callback reminders, escalations and purges, in one short transaction of
 * their own (maintenance runs between loop callbacks, so no group commit is
 * open). Queued notifications are sent after the commit.
 */
static void callbacks_maintenance(struct app *a, long long now)
{
    char err[ERR_LEN];
    int sent, purged = 0;

    if (a->callbacks == NULL || db_exec(a->db, "BEGIN IMMEDIATE", "callbacks", err) != 0)
        return;
    if ((sent = callback_tick(a->callbacks, now, err)) < 0 ||
        (purged = callback_purge(a->callbacks, now, PURGE_CHUNK, err)) < 0 ||
        (a->worker_web != NULL && worker_web_purge(a->worker_web, now, PURGE_CHUNK, err) < 0)) {
        log_error("maintenance.callbacks", "problem=\"%s\"", err);
        db_exec(a->db, "ROLLBACK", "callbacks", err);
        return;
    }
    if (db_exec(a->db, "COMMIT", "callbacks", err) != 0) {
        log_error("maintenance.callbacks", "problem=\"%s\"", err);
        db_exec(a->db, "ROLLBACK", "callbacks", err);
        return;
    }
    if (sent > 0)
        outbox_kick(a->outbox);
    if (sent > 0 || purged > 0)
        log_info("maintenance.callbacks", "notified=%d purged=%d", sent, purged);
}

static void maintenance_cb(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;
    long long now = clock_now();
    char err[ERR_LEN];
    int n;

    (void)fd;
    (void)what;
    if ((n = session_purge_expired(a->sessions, now, PURGE_CHUNK, err)) < 0)
        log_error("maintenance.sessions", "problem=\"%s\"", err);
    else if (n > 0)
        log_debug("maintenance.sessions", "purged=%d", n);
    if (sms_channel_purge_seen(a->sms, now, PURGE_CHUNK) < 0)
        log_error("maintenance.dedupe", "problem=\"purge failed\"");
    if (ussd_channel_purge(a->ussd, now, PURGE_CHUNK) < 0)
        log_error("maintenance.ussd", "problem=\"purge failed\"");
    if (contact_log_rotate(a->log, now, a->cfg->log_retention_months, err) != 0)
        log_error("maintenance.contact_log", "problem=\"%s\"", err);
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM send_counts WHERE hour < %lld", now / 3600 - 48);
    if (db_exec(a->db, sql, "purge send counts", err) != 0)
        log_error("maintenance.send_counts", "problem=\"%s\"", err);
    if (outbox_purge(a->outbox, now, PURGE_CHUNK, err) < 0)
        log_error("maintenance.outbox", "problem=\"%s\"", err);
    callbacks_maintenance(a, now);
    reload_directory(a, false, "import");
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    reload_flows(arg, "sighup");
    reload_directory(arg, true, "sighup");
}

static void flows_changed(void *arg)
{
    reload_flows(arg, "file_change");
}

/* Writes the bound port to path atomically, for scripts and tests that listen
 * on port 0. */
static int write_port_file(const char *path, int port, char *err)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
        rename(tmp, path) != 0) {
        err_set(err, "cannot write port file '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void forget_contact_log_key(void *arg)
{
    contact_log_forget_key(arg);
}

static int start(struct app *a, char *err)
{
    const struct config *cfg = a->cfg;
    char host[256];
    int port, bound;

    if (secret_make_parent_dirs(cfg->database, err) != 0)
        return EXIT_CONFIG;
    if (secret_load(cfg->secret, cfg->secret_file, a->secret, err) != 0)
        return EXIT_CONFIG;
    if ((a->db = db_open(cfg->database, err)) == NULL)
        return EXIT_FAILURE;
    if (db_migrate(a->db, db_migrations, db_migrations_count, err) != 0)
        return EXIT_FAILURE;
    if ((a->checkpointer = checkpointer_start(a->db, cfg->database, CHECKPOINT_PAGES,
                                              CHECKPOINT_WRITER_PAGES, err)) == NULL)
        return EXIT_FAILURE;
    if ((a->base = event_base_new()) == NULL || (a->metrics = metrics_new()) == NULL ||
        declare_metrics(a) != 0 || (a->batch = batch_new(a->base, a->db, a->metrics)) == NULL) {
        err_set(err, "out of memory");
        return EXIT_FAILURE;
    }
    if ((a->http = http_server_new(a->base, &cfg->limits, a->metrics, err)) == NULL ||
        http_server_route(a->http, "healthz", "/healthz", HTTP_GET, healthz, a) != 0 ||
        http_server_route(a->http, "metrics", "/metrics", HTTP_GET, metrics_page, a) != 0)
        return EXIT_FAILURE;
    struct flow_check_options opt = flow_options(cfg);
    struct diag d = {0};
    a->flows = flow_set_load_dir(cfg->flows, &opt, &d);
    log_diag(&d, LOG_LEVEL_ERROR);
    diag_release(&d);
    if (a->flows == NULL) {
        err_set(err, "the flows in '%s' have errors (run katto check)", cfg->flows);
        return EXIT_DATAERR;
    }
    if (crypto_derive_key(a->secret, "contact-key", a->contact_key) != 0 ||
        crypto_derive_key(a->secret, "number-encryption", a->number_key) != 0) {
        err_set(err, "cannot derive keys from the secret");
        return EXIT_FAILURE;
    }
    if (team_list_parse(cfg->callbacks.teams, &a->teams, err) != 0)
        return EXIT_CONFIG;
    /* A first start fills the empty tables from the shipped data (db/data/). */
    if (directory_import_seed(a->db, cfg->postal_codes, cfg->services, clock_now(), err) != 0)
        log_warn("directory.not_seeded", "problem=\"%s\"", err);
    a->directory_generation = -1;
    reload_directory(a, true, "start");
    if (a->places == NULL)
        log_warn("places.not_loaded",
                 "effect=\"postal codes are checked for form only; nearest gives 112\"");
    if ((a->sessions = session_store_new(a->db, err)) == NULL ||
        (a->log = contact_log_new(a->db, err)) == NULL)
        return EXIT_FAILURE;
    /* The contact log caches the month's key, which a job may have just created. */
    if (batch_on_rollback(a->batch, forget_contact_log_key, a->log) != 0) {
        err_set(err, "cannot watch rollbacks");
        return EXIT_FAILURE;
    }
    if ((a->http_client = http_client_new(a->base, cfg->outbox.max_parallel, err)) == NULL)
        return EXIT_FAILURE;
    if ((a->outbox = outbox_new(a->base, a->db, a->batch, a->http_client, a->metrics, cfg,
                                a->number_key, err)) == NULL)
        return EXIT_FAILURE;
    struct callback_deps cdeps = {
        .db = a->db,
        .outbox = a->outbox,
        .cfg = cfg,
        .teams = &a->teams,
        .flows = &a->flows,
        .services = &a->services,
        .metrics = a->metrics,
        .number_key = a->number_key,
        .contact_key = a->contact_key,
    };
    if (a->teams.n > 0 && (a->callbacks = callback_service_new(&cdeps, err)) == NULL)
        return EXIT_FAILURE;
    if (gateway_find(cfg->default_gateway) == NULL ||
        !gateway_find(cfg->default_gateway)->configured(cfg))
        log_warn("config.default_gateway",
                 "gateway=%s problem=\"not configured: notifications cannot be sent\"",
                 cfg->default_gateway);
    struct sms_channel_deps deps = {
        .cfg = cfg,
        .db = a->db,
        .batch = a->batch,
        .outbox = a->outbox,
        .sessions = a->sessions,
        .flows = &a->flows,
        .places = &a->places,
        .services = &a->services,
        .teams = &a->teams,
        .callbacks = a->callbacks,
        .metrics = a->metrics,
        .log = a->log,
        .contact_key = a->contact_key,
    };
    if ((a->sms = sms_channel_new(&deps, a->http, err)) == NULL ||
        (a->ussd = ussd_channel_new(&deps, a->http, err)) == NULL)
        return EXIT_FAILURE;
    /* ---- The workers' page: sign-in, callback requests (worker_web.c) ---- */
    struct worker_web_deps wdeps = {
        .cfg = cfg,
        .db = a->db,
        .batch = a->batch,
        .teams = &a->teams,
        .number_key = a->number_key,
    };
    if ((a->worker_web = worker_web_new(&wdeps, a->http, err)) == NULL)
        return EXIT_FAILURE;
    /* ---- end of the workers' page ---- */
    /* ---- The administrators' report page, when admin.token is set (admin_web.c) ---- */
    struct admin_web_deps adeps = {
        .cfg = cfg,
        .db = a->db,
        .flows = &a->flows,
        .secret = a->secret,
    };
    if ((a->admin_web = admin_web_new(&adeps, a->http, err)) == NULL)
        return EXIT_FAILURE;
    /* ---- end of the administrators' report page ---- */
    struct timeval every = {cfg->maintenance_interval, 0};
    if ((a->maintenance = event_new(a->base, -1, EV_PERSIST, maintenance_cb, a)) == NULL ||
        event_add(a->maintenance, &every) != 0) {
        err_set(err, "out of memory");
        return EXIT_FAILURE;
    }
    if ((a->watch = flow_watch_new(a->base, cfg->flows, flows_changed, a, err)) == NULL)
        log_warn("flows.not_watched", "problem=\"%s\" reload=sighup", err);
    if (cfg->limits.shutdown_timeout <= cfg->outbox.timeout)
        log_warn("config.shutdown_timeout",
                 "problem=\"limits.shutdown_timeout (%ld s) is not longer than outbox.timeout "
                 "(%ld s): a send cut off at shutdown may be sent twice\"",
                 cfg->limits.shutdown_timeout, cfg->outbox.timeout);
    if (cfg->privacy_url[0] == '\0')
        log_warn("config.privacy_url",
                 "problem=\"privacy_url is not set: the privacy notice has no link\"");
    a->sigterm = evsignal_new(a->base, SIGTERM, stop_cb, a);
    a->sigint = evsignal_new(a->base, SIGINT, stop_cb, a);
    a->sighup = evsignal_new(a->base, SIGHUP, hup_cb, a);
    a->drain = event_new(a->base, -1, EV_PERSIST, drain_cb, a);
    if (a->sigterm == NULL || a->sigint == NULL || a->sighup == NULL || a->drain == NULL ||
        event_add(a->sigterm, NULL) || event_add(a->sigint, NULL) || event_add(a->sighup, NULL)) {
        err_set(err, "cannot install signal handlers");
        return EXIT_FAILURE;
    }
    config_listen_split(cfg->listen, host, sizeof(host), &port, NULL);
    if (http_server_listen(a->http, host, port, &bound, err) != 0)
        return EXIT_FAILURE;
    if (cfg->port_file[0] != '\0' && write_port_file(cfg->port_file, bound, err) != 0)
        return EXIT_FAILURE;
    log_info("server.listening", "address=%s port=%d database=%s schema=%d flows=%zu version=%s",
             host, bound, cfg->database, db_schema_version(a->db), a->flows->nflows, KATTO_VERSION);
    return 0;
}

static void stop(struct app *a)
{
    /* Order matters: sends cancelled while the outbox can still record them; pending
     * commits, which answer their requests; the server (503 for anything left); then the
     * loop's objects. */
    if (a->outbox != NULL)
        outbox_stop(a->outbox);
    http_client_free(a->http_client);
    batch_free(a->batch); /* pending jobs still answer their requests */
    http_server_free(a->http);
    /* ---- The workers' page: after the batch and the server, which may still call it ---- */
    worker_web_free(a->worker_web);
    /* ---- end of the workers' page ---- */
    /* ---- The administrators' report page: after the server, which may still call it ---- */
    admin_web_free(a->admin_web);
    /* ---- end of the administrators' report page ---- */
    sms_channel_free(a->sms);
    ussd_channel_free(a->ussd);
    contact_log_free(a->log);
    callback_service_free(a->callbacks);
    outbox_free(a->outbox);
    session_store_free(a->sessions);
    place_table_free(a->places);
    directory_free(a->services);
    team_list_release(&a->teams);
    if (a->maintenance)
        event_free(a->maintenance);
    flow_watch_free(a->watch);
    flow_set_unref(a->flows);
    if (a->sigterm)
        event_free(a->sigterm);
    if (a->sigint)
        event_free(a->sigint);
    if (a->sighup)
        event_free(a->sighup);
    if (a->drain)
        event_free(a->drain);
    metrics_free(a->metrics);
    if (a->base)
        event_base_free(a->base);
    checkpointer_stop(a->checkpointer);
    db_close(a->db);
    explicit_bzero(a->secret, sizeof(a->secret));
    explicit_bzero(a->contact_key, sizeof(a->contact_key));
    explicit_bzero(a->number_key, sizeof(a->number_key));
}

int app_serve(const struct config *cfg)
{
    struct app a = {.cfg = cfg, .started = time(NULL)};
    char err[ERR_LEN] = "";
    int rc;

    clock_use_file(cfg->test_clock_file);
    if (db_fault_install(cfg->test_disk_full_file, err) != 0) {
        log_error("server.start_failed", "problem=\"%s\"", err);
        return EXIT_CONFIG;
    }
    /* Opening hours and the contact log's hours are Finnish local time (main.c sets TZ;
     * repeated here for callers that embed the server). */
    setenv("TZ", "Europe/Helsinki", 1);
    tzset();
    /* Database, WAL and secret files are for the service user only. */
    umask(077);
    /* A gateway hanging up mid-reply must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    rc = start(&a, err);
    if (rc != 0) {
        log_error("server.start_failed", "problem=\"%s\"", err);
        stop(&a);
        return rc;
    }
    if (event_base_dispatch(a.base) != 0) {
        log_error("server.loop_failed", "problem=\"event loop error\"");
        rc = EXIT_FAILURE;
    }
    stop(&a);
    log_info("server.stopped", "status=%d", rc);
    return rc;
}
