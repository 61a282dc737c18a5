/* cli_directory.c: katto import and katto services (see cli_directory.h). */
#include "cli_directory.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "diag.h"
#include "directory.h"
#include "directory_import.h"
#include "clock.h"
#include "cli_flows.h"
#include "err.h"
#include "exitcode.h"
#include "flow_nearest.h"
#include "gsm7.h"
#include "hours.h"
#include "secret.h"
#include "text_table.h"
#include "utf8.h"

#define CLI_BUSY_TIMEOUT_MS 5000 /* unlike the server's loop, a command may wait for a writer */
#define STALE_DAYS 180           /* default of katto services stale --days */

/* Opens and migrates the configured database, with a patient busy timeout. NULL after a message. */
static sqlite3 *open_db(const struct config *cfg, const char *cmd)
{
    char err[ERR_LEN];
    sqlite3 *db = NULL;

    if (secret_make_parent_dirs(cfg->database, err) != 0 ||
        (db = db_open(cfg->database, err)) == NULL ||
        db_migrate(db, db_migrations, db_migrations_count, err) != 0) {
        fprintf(stderr, "katto %s: %s\n", cmd, err);
        db_close(db);
        return NULL;
    }
    /* Like the server's first start; an import replaces what this fills anyway. */
    if (directory_import_seed(db, cfg->postal_codes, cfg->services, clock_now(), err) != 0)
        fprintf(stderr, "katto %s: note: the shipped data was not loaded: %s\n", cmd, err);
    sqlite3_busy_timeout(db, CLI_BUSY_TIMEOUT_MS);
    return db;
}

/* ---- tables (text_table.c), with "-" for an empty value --------------------------------- */

/* Starts t with a heading row of ncols headers. 0, or -1 out of memory. */
static int table_start(struct text_table *t, const char *const *headers, size_t ncols)
{
    return text_table_init(t, ncols) == 0 && text_table_add(t, headers) == 0 ? 0 : -1;
}

/* Appends a row (NULL or "" shows as "-"). 0, or -1 out of memory. */
static int table_add(struct text_table *t, const char *const *values)
{
    const char *row[16];

    for (size_t c = 0; c < t->ncols && c < 16; c++)
        row[c] = values[c] != NULL && values[c][0] != '\0' ? values[c] : "-";
    return text_table_add(t, row);
}

/* Prints t to stdout when it has rows besides the heading, and releases it. 0, or -1. */
static int table_print(struct text_table *t)
{
    struct buf b;
    int rc = 0;

    buf_init(&b, 16 << 20);
    if (t->nrows > 1 && (rc = text_table_write(t, &b)) == 0)
        fputs(buf_str(&b), stdout);
    buf_release(&b);
    text_table_release(t);
    return rc;
}

/* ---- katto import --------------------------------------------------------- */

static void import_usage(FILE *out)
{
    fprintf(out, "usage: katto import postal-codes FILE.csv\n"
                 "       katto import services FILE.csv\n"
                 "       katto import services --hsds DIR\n");
}

enum import_kind { IMPORT_POSTAL_CODES, IMPORT_SERVICES, IMPORT_HSDS };

/* Reads the arguments of katto import. 0, or -1 for a usage error. */
static int import_args(int argc, char **argv, enum import_kind *kind, const char **path)
{
    if (argc == 3 && strcmp(argv[0], "services") == 0 && strcmp(argv[1], "--hsds") == 0) {
        *kind = IMPORT_HSDS;
        *path = argv[2];
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-')
        return -1;
    *path = argv[1];
    if (strcmp(argv[0], "postal-codes") == 0)
        *kind = IMPORT_POSTAL_CODES;
    else if (strcmp(argv[0], "services") == 0)
        *kind = IMPORT_SERVICES;
    else
        return -1;
    return 0;
}

int cli_import(const struct config *cfg, int argc, char **argv)
{
    static const char *const what[] = {"postal codes", "services", "services"};
    enum import_kind kind;
    const char *path;
    struct diag d = {0};
    long long now = (long long)time(NULL);
    sqlite3 *db;
    int n;

    if (import_args(argc, argv, &kind, &path) != 0) {
        import_usage(stderr);
        return EXIT_USAGE;
    }
    if ((db = open_db(cfg, "import")) == NULL)
        return EXIT_FAILURE;
    n = kind == IMPORT_POSTAL_CODES ? directory_import_postal_codes(db, path, now, &d)
        : kind == IMPORT_SERVICES   ? directory_import_services(db, path, now, &d)
                                    : directory_import_hsds(db, path, now, &d);
    db_close(db);
    diag_print(&d, stderr);
    if (n >= 0) {
        printf("imported %d %s from %s\n", n, what[kind], path);
        printf("the server reloads the directory within %ld second%s (maintenance_interval) or "
               "at SIGHUP\n",
               cfg->maintenance_interval, cfg->maintenance_interval == 1 ? "" : "s");
    } else {
        fprintf(stderr, "katto import: %zu error%s in %s: nothing was changed\n", d.errors,
                d.errors == 1 ? "" : "s", path);
    }
    diag_release(&d);
    return n >= 0 ? 0 : n == DIRECTORY_IMPORT_INVALID ? EXIT_DATAERR : EXIT_FAILURE;
}

/* ---- katto services ---------------------------------------------------- */

static void services_usage(FILE *out)
{
    fprintf(out, "usage: katto services stale [--days N]\n"
                 "       katto services list [--city CITY] [--category CATEGORY]\n"
                 "       katto services near PLACE [--category C]... [--open-now] [--at TIME]\n"
                 "                           [--lang L] [--count N]\n");
}

/*
 * Reads option name's value at argv[*i] ("--name VALUE" or "--name=VALUE"),
 * advancing *i past it. Returns 1 if argv[*i] is that option, 0 if not, -1 if
 * its value is missing.
 */
static int option(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

/* Days since checked (a partial date counts from its first day), or -1 if never or unreadable. */
static long long age_days(const char *checked, long long now)
{
    long long start;

    if (checked == NULL || !directory_import_date(checked, &start))
        return -1;
    return now > start ? (now - start) / 86400 : 0;
}

struct stale {
    char *id, *city, *category, *checked; /* owned */
    long long age;                        /* -1: never checked */
};

/* Never checked first, then the oldest, then by id. */
static int cmp_stale(const void *a, const void *b)
{
    const struct stale *x = a, *y = b;

    if ((x->age < 0) != (y->age < 0))
        return x->age < 0 ? -1 : 1;
    if (x->age != y->age)
        return x->age > y->age ? -1 : 1;
    return strcmp(x->id, y->id);
}

static char *dup_column(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);

    return s != NULL ? strdup(s) : NULL;
}

static void stale_free(struct stale *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].id);
        free(v[i].city);
        free(v[i].category);
        free(v[i].checked);
    }
    free(v);
}

/*
 * Collects the services not checked within days into *out (owned, *n rows),
 * counting all services into *total. 0, or -1 with err.
 */
static int stale_collect(sqlite3 *db, long days, long long now, struct stale **out, size_t *n,
                         size_t *total, char *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = *total = 0;
    if (sqlite3_prepare_v2(db, "SELECT id, city, category, checked_on FROM services", -1, &st,
                           NULL) != SQLITE_OK) {
        err_set(err, "read services: %s", sqlite3_errmsg(db));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct stale s = {.age = age_days((const char *)sqlite3_column_text(st, 3), now)};

        (*total)++;
        if (s.age >= 0 && s.age <= days)
            continue;
        if (*n == cap) {
            struct stale *bigger = realloc(*out, (cap ? cap * 2 : 64) * sizeof(*bigger));

            if (bigger == NULL)
                break;
            *out = bigger;
            cap = cap ? cap * 2 : 64;
        }
        s.id = dup_column(st, 0);
        s.city = dup_column(st, 1);
        s.category = dup_column(st, 2);
        s.checked = dup_column(st, 3);
        (*out)[(*n)++] = s;
        if (s.id == NULL || s.city == NULL || s.category == NULL)
            break;
    }
    if (rc != SQLITE_DONE)
        err_set(err, "read services: %s", rc == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int print_stale(const struct stale *v, size_t n)
{
    static const char *const headers[] = {"id", "city", "category", "checked", "age_days"};
    struct text_table g;
    int rc = table_start(&g, headers, 5);

    for (size_t i = 0; i < n && rc == 0; i++) {
        char age[24];
        const char *row[5] = {v[i].id, v[i].city, v[i].category,
                              v[i].age < 0 ? "never" : v[i].checked, age};

        snprintf(age, sizeof(age), v[i].age < 0 ? "-" : "%lld", v[i].age);
        rc = table_add(&g, row);
    }
    if (rc != 0) {
        text_table_release(&g);
        return rc;
    }
    return table_print(&g);
}

static int services_stale(sqlite3 *db, int argc, char **argv)
{
    long days = STALE_DAYS;
    struct stale *v = NULL;
    size_t n, total;
    char err[ERR_LEN];

    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        char *end;

        if (option(argc, argv, &i, "--days", &value) != 1) {
            services_usage(stderr);
            return EXIT_USAGE;
        }
        errno = 0;
        days = strtol(value, &end, 10);
        if (end == value || *end != '\0' || errno != 0 || days < 0) {
            fprintf(stderr, "katto services stale: --days wants a number of days, not '%s'\n",
                    value);
            return EXIT_USAGE;
        }
    }
    if (stale_collect(db, days, (long long)time(NULL), &v, &n, &total, err) != 0) {
        fprintf(stderr, "katto services stale: %s\n", err);
        stale_free(v, n);
        return EXIT_FAILURE;
    }
    qsort(v, n, sizeof(*v), cmp_stale);
    if (print_stale(v, n) != 0) {
        fprintf(stderr, "katto services stale: out of memory\n");
        stale_free(v, n);
        return EXIT_FAILURE;
    }
    printf("%zu of %zu services need checking (not checked within %ld days)\n", n, total, days);
    stale_free(v, n);
    return 0;
}

static void print_categories(FILE *out)
{
    char list[1024];

    directory_category_list(list, sizeof(list));
    for (char *p = list; *p; p++) {
        if (*p == '\n' && p[1] != '\0')
            *p = ' ';
    }
    fprintf(out, "%s", list);
}

/* True if city (borrowed, may be NULL) matches want folded: "helsinki", "JYVASKYLA". */
static bool city_matches(const char *city, const char *want_folded)
{
    char *f = city != NULL ? utf8_fold(city) : NULL;
    bool same = f != NULL && strcmp(f, want_folded) == 0;

    free(f);
    return same;
}

/* Adds the services of city (folded, may be NULL) and category (may be NULL) to g. */
static int list_collect(sqlite3 *db, const char *city, const char *category, struct text_table *g,
                        char *err)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, city, category, coalesce(name_fi, name_sv, name_en, "
                           "organization), phone, hours FROM services "
                           "WHERE ?1 IS NULL OR category = ?1 ORDER BY city, category, id",
                           -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "read services: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (category != NULL)
        sqlite3_bind_text(st, 1, category, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *row[6];

        for (int i = 0; i < 6; i++)
            row[i] = (const char *)sqlite3_column_text(st, i);
        if (city != NULL && !city_matches(row[1], city))
            continue;
        if (table_add(g, row) != 0)
            break;
    }
    if (rc != SQLITE_DONE)
        err_set(err, "read services: %s", rc == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int services_list(sqlite3 *db, int argc, char **argv)
{
    static const char *const headers[] = {"id", "city", "category", "name", "phone", "hours"};
    const char *city = NULL, *category = NULL;
    struct text_table g;
    char err[ERR_LEN], *folded = NULL;
    size_t n;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (option(argc, argv, &i, "--city", &city) != 1 &&
            option(argc, argv, &i, "--category", &category) != 1) {
            services_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (category != NULL && !directory_category_known(category)) {
        fprintf(stderr, "katto services list: unknown category '%s'; the categories are:\n",
                category);
        print_categories(stderr);
        return EXIT_USAGE;
    }
    if (city != NULL && (folded = utf8_fold(city)) == NULL) {
        fprintf(stderr, "katto services list: --city is not valid UTF-8\n");
        return EXIT_USAGE;
    }
    if (table_start(&g, headers, 6) != 0) {
        free(folded);
        fprintf(stderr, "katto services list: out of memory\n");
        return EXIT_FAILURE;
    }
    rc = list_collect(db, folded, category, &g, err);
    free(folded);
    if (rc != 0) {
        fprintf(stderr, "katto services list: %s\n", err);
        text_table_release(&g);
        return EXIT_FAILURE;
    }
    n = g.nrows - 1; /* the heading */
    if (table_print(&g) != 0)
        return EXIT_FAILURE;
    printf("%zu service%s\n", n, n == 1 ? "" : "s");
    return 0;
}

/* ---- katto services near ------------------------------------------------ */

struct near_args {
    const char *where, *lang;
    char *categories[16];
    size_t ncategories;
    bool open_now;
    long long at;
    long count;
};

static int near_parse(int argc, char **argv, struct near_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        char *end;

        if (strcmp(argv[i], "--open-now") == 0) {
            a->open_now = true;
        } else if (option(argc, argv, &i, "--category", &v) == 1) {
            if (!directory_category_known(v) || a->ncategories == 16) {
                fprintf(stderr, "katto services near: unknown category '%s'; categories: ", v);
                print_categories(stderr);
                return -1;
            }
            a->categories[a->ncategories++] = (char *)v; /* argv outlives the node */
        } else if (option(argc, argv, &i, "--at", &v) == 1) {
            if (cli_parse_local_time(v, &a->at) != 0) {
                fprintf(stderr, "katto services near: --at wants 'YYYY-MM-DD HH:MM'\n");
                return -1;
            }
        } else if (option(argc, argv, &i, "--lang", &v) == 1) {
            a->lang = v;
        } else if (option(argc, argv, &i, "--count", &v) == 1) {
            a->count = strtol(v, &end, 10);
            if (end == v || *end != '\0' || a->count < 1 || a->count > FLOW_NEAREST_MAX) {
                fprintf(stderr, "katto services near: --count must be 1 to %d\n", FLOW_NEAREST_MAX);
                return -1;
            }
        } else if (argv[i][0] != '-' && a->where == NULL) {
            a->where = argv[i];
        } else {
            services_usage(stderr);
            return -1;
        }
    }
    if (a->where == NULL) {
        services_usage(stderr);
        return -1;
    }
    return 0;
}

/* "open 24/7", "open until 09:00", "opens 17:00", "closed", or "" when hours are unknown. */
static void near_state(const struct directory_hit *h, char *out, size_t size)
{
    char hhmm[6] = "";

    if (h->until != 0)
        hours_local_hhmm(h->until, hhmm);
    if (!h->hours_known)
        snprintf(out, size, "hours unknown");
    else if (h->open && h->until == 0)
        snprintf(out, size, "open 24/7");
    else if (h->open)
        snprintf(out, size, "open until %s", hhmm);
    else if (h->until != 0)
        snprintf(out, size, "opens %s", hhmm);
    else
        snprintf(out, size, "closed");
}

/* The ranking as a table: what the reply is built from. */
static int near_table(const struct directory *d, const struct place_table *places,
                      const struct near_args *a, const struct place *p, const char *const *cats)
{
    static const char *const headers[] = {"id", "city", "category", "km", "now", "checked"};
    struct directory_query q = {
        .has_point = p->has_point,
        .lat = p->lat,
        .lon = p->lon,
        .city = p->city,
        .categories = cats,
        .ncategories = a->ncategories,
        .now = a->at,
        .open = a->open_now ? DIRECTORY_OPEN_ONLY : DIRECTORY_OPEN_PREFER,
    };
    struct directory_hit hits[FLOW_NEAREST_MAX];
    struct text_table g;
    size_t n = directory_nearest(d, places, &q, hits, (size_t)a->count);

    if (table_start(&g, headers, 6) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char km[16] = "", state[32];
        const char *row[6] = {hits[i].s->id,
                              hits[i].s->city,
                              hits[i].s->category,
                              km,
                              state,
                              hits[i].s->checked_on ? hits[i].s->checked_on : "never"};

        if (hits[i].distance_known)
            snprintf(km, sizeof(km), "%.1f", hits[i].km);
        near_state(&hits[i], state, sizeof(state));
        if (table_add(&g, row) != 0) {
            text_table_release(&g);
            return -1;
        }
    }
    return table_print(&g);
}

/* The text a client would get from a nearest node with these settings. */
static int near_reply(const struct config *cfg, const struct flow_set *set,
                      const struct directory *d, const struct place_table *places,
                      const struct near_args *a, const struct place *p)
{
    struct flow_node node = {
        .categories = (char **)a->categories,
        .ncategories = a->ncategories,
        .count = (int)a->count,
        .open = a->open_now ? DIRECTORY_OPEN_ONLY : DIRECTORY_OPEN_PREFER,
    };
    struct flow_nearest_request rq = {
        .dir = d,
        .places = places,
        .node = &node,
        .lang = a->lang,
        .place = p->postal_code[0] ? p->postal_code : p->name,
        .city = p->city,
        .now = a->at,
        .max_age_days = cfg->services_max_age_days,
        .budget = (size_t)cfg->sms.max_segments,
        .heading = "",
    };
    struct flow_nearest_result res;
    struct gsm7_info info;
    const char *fallback = set->global.nlanguages > 0 ? set->global.languages[0] : "fi";

    for (int i = 0; i < FLOW_TEXT_COUNT; i++)
        rq.texts[i] = flow_text_get(&set->global.texts[i], a->lang, fallback);
    if (flow_nearest_compose(&rq, &res) != 0)
        return -1;
    if (gsm7_analyse(res.text, strlen(res.text), &info) == 0)
        printf("\nreply (%s, %zu segment%s, %s):\n", a->lang, info.segments,
               info.segments == 1 ? "" : "s", info.encoding == GSM7_ENC_GSM7 ? "GSM-7" : "UCS-2");
    printf("%s\n", res.text);
    free(res.text);
    return 0;
}

static int services_near(const struct config *cfg, int argc, char **argv)
{
    struct near_args a = {.lang = "fi", .count = 3, .at = clock_now()};
    struct place_table *places = NULL;
    struct directory *d = NULL;
    struct flow_set *set = NULL;
    struct place p;
    char err[ERR_LEN];
    int rc = EXIT_FAILURE;

    if (near_parse(argc, argv, &a) != 0)
        return EXIT_USAGE;
    if (cli_load_directory(cfg, &places, &d, err) != 0) {
        fprintf(stderr, "katto services near: %s\n", err);
        return EXIT_FAILURE;
    }
    if ((set = cli_load_flows(cfg, "services near")) == NULL) {
        rc = EXIT_DATAERR;
    } else if (place_lookup(places, a.where, &p) != 0) {
        fprintf(stderr, "katto services near: '%s' is not a postal code or place Katto knows\n",
                a.where);
        rc = EXIT_DATAERR;
    } else {
        printf("place: %s%s%s (%s)%s\n", p.postal_code, p.postal_code[0] ? " " : "", p.name, p.city,
               p.has_point ? "" : ", no point: ranked by city");
        if (near_table(d, places, &a, &p, (const char *const *)a.categories) == 0 &&
            near_reply(cfg, set, d, places, &a, &p) == 0)
            rc = 0;
    }
    flow_set_unref(set);
    directory_free(d);
    place_table_free(places);
    return rc;
}

int cli_services(const struct config *cfg, int argc, char **argv)
{
    bool stale = argc > 0 && strcmp(argv[0], "stale") == 0;
    sqlite3 *db;
    int rc;

    if (argc > 0 && strcmp(argv[0], "near") == 0)
        return services_near(cfg, argc - 1, argv + 1);
    if (argc == 0 || (!stale && strcmp(argv[0], "list") != 0)) {
        services_usage(stderr);
        return EXIT_USAGE;
    }
    if ((db = open_db(cfg, "services")) == NULL)
        return EXIT_FAILURE;
    rc = stale ? services_stale(db, argc - 1, argv + 1) : services_list(db, argc - 1, argv + 1);
    db_close(db);
    return rc;
}
