/* cli_flows.c: katto check, chat and graph (see cli_flows.h). */
#include "cli_flows.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "directory_import.h"
#include "crypto.h"
#include "err.h"
#include "exitcode.h"
#include "flow.h"
#include "flow_engine.h"
#include "flow_graph.h"
#include "flow_render.h"
#include "place.h"
#include "team.h"
#include "utf8.h"

static struct flow_check_options check_options(const struct config *cfg)
{
    return (struct flow_check_options){
        .ussd_budget = (size_t)cfg->ussd.screen_budget,
        .sms_max_segments = (size_t)cfg->sms.max_segments,
    };
}

static int asprintf_path(char **out, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;

    if ((*out = malloc(n)) == NULL)
        return -1;
    snprintf(*out, n, "%s/%s", dir, name);
    return 0;
}

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* True if some given file has the same base name as path. */
static bool shadowed(const char *path, const char *const *given, size_t ngiven)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

    for (size_t i = 0; i < ngiven; i++) {
        const char *g = strrchr(given[i], '/') ? strrchr(given[i], '/') + 1 : given[i];

        if (strcmp(base, g) == 0)
            return true;
    }
    return false;
}

static bool is_given(const char *file, const char *const *given, size_t ngiven)
{
    for (size_t i = 0; i < ngiven; i++) {
        if (strcmp(file, given[i]) == 0)
            return true;
    }
    return false;
}

/*
 * Checks files in the context of the configured flows directory: the other
 * files there (global texts, the main flow, jump targets) are loaded too, so
 * a draft can be checked before it is copied in. Only problems in the given
 * files, and those of the set as a whole, are printed.
 */
static int check_files(const struct config *cfg, const char *const *given, size_t ngiven,
                       bool strict)
{
    struct flow_check_options opt = check_options(cfg);
    const char *files[512];
    char *context[512];
    size_t nfiles = 0, ncontext = 0, errors = 0, warnings = 0, hidden = 0;
    struct diag d = {0};
    struct flow_set *set;
    DIR *dir = opendir(cfg->flows);
    struct dirent *e;

    for (size_t i = 0; i < ngiven; i++)
        files[nfiles++] = given[i];
    while (dir != NULL && (e = readdir(dir)) != NULL && ncontext < 256) {
        size_t n = strlen(e->d_name);
        char *path;

        if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        if (asprintf_path(&path, cfg->flows, e->d_name) != 0)
            break;
        if (shadowed(path, given, ngiven) || is_given(path, given, ngiven)) {
            free(path);
            continue;
        }
        context[ncontext++] = path;
        files[nfiles++] = path;
    }
    if (dir != NULL)
        closedir(dir);
    set = flow_set_load_files(files, nfiles, &opt, &d);
    for (size_t i = 0; i < d.n; i++) {
        const struct diag_entry *de = &d.entries[i];
        bool mine = is_given(de->file, given, ngiven) || de->file[0] == '\0';

        if (!mine) {
            hidden++;
            continue;
        }
        fprintf(stdout, "%s: %s%s%s%s\n", de->file, de->path, de->path[0] ? ": " : "",
                de->severity == DIAG_WARNING ? "warning: " : "", de->message);
        if (de->severity == DIAG_ERROR)
            errors++;
        else
            warnings++;
    }
    if (hidden > 0)
        printf("(%zu more problem%s in other files of %s: run katto check)\n", hidden,
               hidden == 1 ? "" : "s", cfg->flows);
    for (size_t i = 0; i < ncontext; i++)
        free(context[i]);
    flow_set_unref(set);
    diag_release(&d);
    if (errors > 0 || (strict && warnings > 0) || (set == NULL && errors == 0 && hidden == 0)) {
        printf("%zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s", warnings,
               warnings == 1 ? "" : "s");
        return EXIT_DATAERR;
    }
    printf("ok: %zu file%s, %zu warning%s\n", ngiven, ngiven == 1 ? "" : "s", warnings,
           warnings == 1 ? "" : "s");
    return 0;
}

int cli_check(const struct config *cfg, int argc, char **argv)
{
    struct flow_check_options opt = check_options(cfg);
    struct diag d = {0};
    struct flow_set *set;
    const char *files[256];
    size_t nfiles = 0;
    bool strict = false;
    const char *dir = NULL;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--strict") == 0) {
            strict = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "katto check: unknown option '%s'\n", argv[i]);
            return EXIT_USAGE;
        } else if (is_dir(argv[i]) && dir == NULL && nfiles == 0) {
            dir = argv[i];
        } else if (!is_dir(argv[i]) && dir == NULL && nfiles < sizeof(files) / sizeof(files[0])) {
            files[nfiles++] = argv[i];
        } else {
            fprintf(stderr, "katto check: give one directory or a list of files\n");
            return EXIT_USAGE;
        }
    }
    if (nfiles > 0)
        return check_files(cfg, files, nfiles, strict);
    if (dir == NULL)
        dir = cfg->flows;
    set = flow_set_load_dir(dir, &opt, &d);
    diag_print(&d, stdout);
    if (d.errors > 0 || (strict && d.warnings > 0)) {
        printf("%zu error%s, %zu warning%s%s\n", d.errors, d.errors == 1 ? "" : "s", d.warnings,
               d.warnings == 1 ? "" : "s", strict && d.errors == 0 ? " (--strict)" : "");
        rc = EXIT_DATAERR;
    } else {
        printf("ok: %zu flow%s, %zu warning%s\n", set->nflows, set->nflows == 1 ? "" : "s",
               d.warnings, d.warnings == 1 ? "" : "s");
        rc = 0;
    }
    flow_set_unref(set);
    diag_release(&d);
    return rc;
}

/* Loads the flows for chat and graph, printing problems; NULL if they do not
 * load. */
struct flow_set *cli_load_flows(const struct config *cfg, const char *cmd)
{
    struct flow_check_options opt = check_options(cfg);
    struct diag d = {0};
    struct flow_set *set = flow_set_load_dir(cfg->flows, &opt, &d);

    if (set == NULL) {
        diag_print(&d, stderr);
        fprintf(stderr, "katto %s: the flows in '%s' have errors (see katto check)\n", cmd,
                cfg->flows);
    }
    diag_release(&d);
    return set;
}

int cli_graph(const struct config *cfg, int argc, char **argv)
{
    struct flow_set *set;
    const struct flow *f;
    char *dot;

    if (argc != 1) {
        fprintf(stderr, "usage: katto graph FLOW\n");
        return EXIT_USAGE;
    }
    if ((set = cli_load_flows(cfg, "graph")) == NULL)
        return EXIT_DATAERR;
    if ((f = flow_set_find(set, argv[0])) == NULL) {
        fprintf(stderr, "katto graph: no flow named '%s'\n", argv[0]);
        flow_set_unref(set);
        return EXIT_USAGE;
    }
    dot = flow_graph_dot(f);
    if (dot != NULL)
        fputs(dot, stdout);
    free(dot);
    flow_set_unref(set);
    return dot != NULL ? 0 : EXIT_FAILURE;
}

struct chat {
    struct flow_env env;
    struct flow_session session;
    bool opted_out;
    long max_segments;
    long long at; /* --at: the clock the chat runs at (0: now) */
};

static void show_sms(const struct chat *c, const char *text)
{
    struct flow_sms sms;

    if (flow_render_sms(text, (size_t)c->max_segments, &sms) != 0) {
        printf("(cannot render this reply)\n");
        return;
    }
    for (size_t i = 0; i < sms.n; i++) {
        const struct flow_sms_part *p = &sms.parts[i];

        printf("[SMS %zu/%zu: %s, %zu segment%s, %zu %s]\n%s\n", i + 1, sms.n,
               p->info.encoding == GSM7_ENC_GSM7 ? "GSM-7" : "UCS-2", p->info.segments,
               p->info.segments == 1 ? "" : "s", p->info.units,
               p->info.encoding == GSM7_ENC_GSM7 ? "septets" : "UTF-16 units", p->text);
    }
    flow_sms_release(&sms);
}

/* Applies the effects that change how the next step runs, and lists them. */
static void apply_effects(struct chat *c, const struct flow_reply *r)
{
    for (size_t i = 0; i < r->neffects; i++) {
        const struct flow_effect *e = &r->effects[i];

        switch (e->kind) {
        case FLOW_EFFECT_OPT_OUT: c->opted_out = true; break;
        case FLOW_EFFECT_OPT_IN: c->opted_out = false; break;
        case FLOW_EFFECT_ERASE:
            c->opted_out = false;
            flow_session_init(&c->session);
            break;
        default: break;
        }
        if (e->kind != FLOW_EFFECT_NODE)
            printf("  * %s%s%s%s%s%s%s%s\n", flow_effect_name(e->kind), e->at.flow[0] ? " " : "",
                   e->at.flow, e->at.node[0] ? "/" : "", e->at.node, e->arg[0] ? " (" : "", e->arg,
                   e->arg[0] ? ")" : "");
    }
    if (r->callback.filed) {
        const struct flow_callback *cb = &r->callback;

        /* The chat stores nothing; this is what the server would file. */
        printf("  * request %s to team %s, window %s, language %s, topic %s: %s\n", cb->ref,
               cb->team, cb->window, cb->lang, cb->topic[0] ? cb->topic : "-",
               cb->sender_safe ? "call this number"
               : cb->number[0] ? "call another number"
                               : "meet at a place and time");
    }
}

static int chat_step(struct chat *c, const char *text, const char *start_flow)
{
    struct flow_input in = {.text = text, .opted_out = c->opted_out};
    struct flow_reply r;
    int rc;

    c->env.now = c->at != 0 ? c->at : (long long)time(NULL);
    rc = start_flow != NULL ? flow_engine_start(&c->env, &c->session, start_flow, &r)
                            : flow_engine_step(&c->env, &c->session, &in, &r);
    if (rc != 0) {
        printf("(the engine could not answer)\n");
        return -1;
    }
    if (r.text == NULL)
        printf("(no reply: this number has sent STOP)\n");
    else if (c->env.channel == FLOW_CHANNEL_USSD)
        printf("[USSD %s, %zu characters]\n%s\n", r.end ? "END" : "CON", utf8_count(r.text),
               r.text);
    else
        show_sms(c, r.text);
    apply_effects(c, &r);
    if (r.end && c->env.channel == FLOW_CHANNEL_USSD) {
        printf("(USSD session ended; type anything to dial again)\n");
        char lang[FLOW_LANG_MAX];

        snprintf(lang, sizeof(lang), "%s", c->session.lang);
        flow_session_init(&c->session);
        snprintf(c->session.lang, sizeof(c->session.lang), "%s", lang);
    }
    flow_reply_release(&r);
    return 0;
}

int cli_load_directory(const struct config *cfg, struct place_table **places,
                       struct directory **services, char *err)
{
    sqlite3 *db = db_open(cfg->database, err);
    long long generation;
    int rc = -1;

    if (db == NULL)
        return -1;
    if (db_migrate(db, db_migrations, db_migrations_count, err) == 0 &&
        directory_import_seed(db, cfg->postal_codes, cfg->services, (long long)time(NULL), err) ==
            0)
        rc = directory_load_all(db, places, services, &generation, err);
    db_close(db);
    return rc;
}

int cli_parse_local_time(const char *s, long long *t)
{
    struct tm tm = {0};
    char tail;
    time_t v;

    char sep;

    /* "2026-11-24 22:00" or, easier to pass through a shell, "2026-11-24T22:00". */
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep, &tm.tm_hour,
               &tm.tm_min, &tail) != 6 ||
        (sep != ' ' && sep != 'T') || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    if ((v = mktime(&tm)) == (time_t)-1)
        return -1;
    *t = (long long)v;
    return 0;
}

/* A reference for a request the chat files (and never stores). */
static int chat_ref(void *arg, char *ref, size_t size)
{
    uint8_t r[2];

    (void)arg;
    if (crypto_random(r, sizeof(r)) != 0)
        return -1;
    snprintf(ref, size, "K-%04u", (unsigned)((r[0] << 8 | r[1]) % 10000));
    return 0;
}

int cli_chat(const struct config *cfg, int argc, char **argv)
{
    struct chat c = {.max_segments = cfg->sms.max_segments};
    const char *start_flow = NULL, *lang = NULL, *channel = "sms";
    struct place_table *places = NULL;
    struct directory *services = NULL;
    struct team_list teams = {0};
    struct flow_set *set;
    char err[ERR_LEN], line[1024];
    bool dial = true;

    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--flow") == 0)
            start_flow = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--lang") == 0)
            lang = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--channel") == 0)
            channel = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--at") == 0 &&
                 cli_parse_local_time(argv[i + 1], &c.at) == 0)
            i++;
        else {
            fprintf(stderr, "usage: katto chat [--flow FLOW] [--lang LANG] "
                            "[--channel sms|ussd] [--at 'YYYY-MM-DD HH:MM']\n");
            return EXIT_USAGE;
        }
    }
    if (strcmp(channel, "sms") != 0 && strcmp(channel, "ussd") != 0) {
        fprintf(stderr, "katto chat: --channel must be sms or ussd\n");
        return EXIT_USAGE;
    }
    if ((set = cli_load_flows(cfg, "chat")) == NULL)
        return EXIT_DATAERR;
    if (start_flow != NULL && flow_set_find(set, start_flow) == NULL) {
        fprintf(stderr, "katto chat: no flow named '%s'\n", start_flow);
        flow_set_unref(set);
        return EXIT_USAGE;
    }
    if (cli_load_directory(cfg, &places, &services, err) != 0)
        fprintf(stderr,
                "katto chat: no postal codes or services (%s): only the form of a postal code "
                "is checked\n",
                err);
    if (team_list_parse(cfg->callbacks.teams, &teams, err) != 0)
        fprintf(stderr, "katto chat: callbacks.teams: %s\n", err); /* config_load checked it */
    c.env = (struct flow_env){
        .flows = set,
        .places = places,
        .services = services,
        .teams = &teams,
        .callback_now_minutes = cfg->callbacks.now_minutes,
        .new_callback_ref = chat_ref,
        .services_max_age_days = cfg->services_max_age_days,
        .sms_max_segments = (size_t)cfg->sms.max_segments,
        .channel = strcmp(channel, "ussd") == 0 ? FLOW_CHANNEL_USSD : FLOW_CHANNEL_SMS,
        .ussd_budget = (size_t)cfg->ussd.screen_budget,
        .session_timeout = cfg->sms.session_timeout,
        .privacy_url = cfg->privacy_url,
    };
    flow_session_init(&c.session);
    if (lang != NULL)
        snprintf(c.session.lang, sizeof(c.session.lang), "%s", lang);
    printf("katto chat: %s, %s. Type messages as a client would; an empty line "
           "or Ctrl-D ends.\n",
           start_flow != NULL ? start_flow : "main flow", channel);
    if (start_flow != NULL) {
        chat_step(&c, NULL, start_flow);
        dial = false;
    }
    for (;;) {
        if (c.env.channel == FLOW_CHANNEL_USSD && dial && c.session.at.flow[0] == '\0') {
            printf("(dialling)\n");
            chat_step(&c, "", NULL);
        }
        dial = true;
        printf("> ");
        fflush(stdout);
        if (fgets(line, sizeof(line), stdin) == NULL)
            break;
        line[strcspn(line, "\r\n")] = '\0';
        if (!isatty(0))
            printf("%s\n", line); /* a scripted session reads like a transcript */
        if (line[0] == '\0')
            break;
        chat_step(&c, line, NULL);
    }
    printf("\n");
    place_table_free(places);
    directory_free(services);
    team_list_release(&teams);
    flow_set_unref(set);
    return 0;
}
