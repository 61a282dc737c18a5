/*
 * test_report.c: katto report's counts and their protection. A temporary
 * database gets contact-log, service and callback rows written directly;
 * the report must count conversations (once per USSD session too), people
 * within a month, topics after the main menu, referrals by category and
 * callbacks by outcome, group weeks by ISO 8601 across a year boundary, and
 * never publish a count from 1 to 4, nor let one be computed from the
 * published cells and totals: checked here by Gaussian elimination, which
 * is independent of the graph method report.c uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "db.h"
#include "diag.h"
#include "flow.h"
#include "report.h"
#include "report_svg.h"
#include "testlib.h"

#define NOV_24_2026 1795514400LL /* 2026-11-24 12:00 in Helsinki */

struct fixture {
    char *dir;
    sqlite3 *db;
    struct flow_set *flows;
    int next_id; /* pseudonyms */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[4096], err[256];
    struct diag d = {0};
    struct flow_check_options opt = {.ussd_budget = 160, .sms_max_segments = 2};

    setenv("TZ", "Europe/Helsinki", 1);
    tzset();
    f->dir = testlib_tmpdir();
    snprintf(path, sizeof(path), "%s/katto.db", f->dir);
    assert_non_null(f->db = db_open(path, err));
    assert_int_equal(db_migrate(f->db, db_migrations, db_migrations_count, err), 0);
    snprintf(path, sizeof(path), "%s/flows", testlib_src_dir());
    assert_non_null(f->flows = flow_set_load_dir(path, &opt, &d));
    diag_release(&d);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    flow_set_unref(f->flows);
    assert_int_equal(sqlite3_close(f->db), SQLITE_OK);
    testlib_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- rows ------------------------------------------------------------------------------ */

struct row {
    const char *hour, *channel, *lang, *city, *flow, *node, *event, *service, *pseudonym;
};

static void log_row(struct fixture *f, const struct row *r)
{
    sqlite3_stmt *st;
    char period[8];

    snprintf(period, sizeof(period), "%.7s", r->hour);
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "INSERT INTO contact_log (hour, period, channel, gateway,"
                                        " lang, city, flow, node, event, service_id, pseudonym)"
                                        " VALUES (?1, ?2, ?3, 'emu', ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, r->hour, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->channel != NULL ? r->channel : "sms", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->lang, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->city, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->node, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->pseudonym, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void new_pseudonym(struct fixture *f, char out[17])
{
    snprintf(out, 17, "%016x", ++f->next_id);
}

/*
 * One conversation as the engine logs it: the start, the main menu, then
 * (topic_flow/topic_node given) the question chosen there, where the city
 * becomes known.
 */
static void conversation(struct fixture *f, const char *pseudonym, const char *hour,
                         const char *channel, const char *city, const char *topic_flow,
                         const char *topic_node)
{
    log_row(f, &(struct row){hour, channel, "fi", NULL, "helpline", "welcome", "session_start",
                             NULL, pseudonym});
    log_row(f, &(struct row){hour, channel, "fi", NULL, "helpline", "welcome", "node", NULL,
                             pseudonym});
    if (topic_flow != NULL)
        log_row(f, &(struct row){hour, channel, "fi", city, topic_flow, topic_node, "node", NULL,
                                 pseudonym});
}

/* n people, each with one conversation in city at hour. */
static void people(struct fixture *f, int n, const char *hour, const char *city)
{
    char p[17];

    for (int i = 0; i < n; i++) {
        new_pseudonym(f, p);
        conversation(f, p, hour, "sms", city, "tonight", "ask_place");
    }
}

static void service(struct fixture *f, const char *id, const char *category)
{
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "INSERT INTO services (id, city, category, source_url)"
                                        " VALUES (?1, 'Helsinki', ?2, 'https://example.org')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, category, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void callback_request(struct fixture *f, const char *city, long long created,
                             const char *outcome)
{
    static int ref;
    sqlite3_stmt *st;
    char r[16];

    snprintf(r, sizeof(r), "K-%04d", ++ref);
    assert_int_equal(
        sqlite3_prepare_v2(f->db,
                           "INSERT INTO callback_requests (ref, team, city, lang, time_window,"
                           " notify_sender, created_at, due_at, purge_at, closed_at, outcome)"
                           " VALUES (?1, 'team', ?2, 'fi', 'today', 0, ?3, ?3 + 3600, ?3 + 86400,"
                           " CASE WHEN ?4 IS NULL THEN NULL ELSE ?3 + 600 END, ?4)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, r, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, city, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, created);
    sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* ---- reading a report ---------------------------------------------------------------------- */

static void build(struct fixture *f, const char *from, const char *to, const char *by,
                  const struct flow_set *flows, struct report *r)
{
    struct report_query q;
    char err[256] = "";

    report_query_init(&q, NOV_24_2026);
    assert_int_equal(report_query_set(&q, from, to, by, err), 0);
    if (report_build(f->db, flows, &q, r, err) != 0)
        fail_msg("report_build: %s", err);
}

static const struct report_table *table(const struct report *r, const char *name)
{
    for (size_t i = 0; i < r->ntables; i++) {
        if (strcmp(r->tables[i].name, name) == 0)
            return &r->tables[i];
    }
    return NULL;
}

static long column(const struct report_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++) {
        if (strcmp(t->columns[c], name) == 0)
            return (long)c;
    }
    return -1;
}

/* The cell at the row whose first label is label ("total": the column's total). */
static const struct report_cell *at(const struct report_table *t, const char *label,
                                    const char *col)
{
    long c = column(t, col);

    if (c < 0)
        fail_msg("%s: no column %s", t->name, col);
    if (strcmp(label, "total") == 0)
        return &t->col_totals[c];
    for (size_t r = 0; r < t->nrows; r++) {
        if (strcmp(t->labels[r * t->nkeys], label) == 0)
            return &t->cells[r * t->ncols + (size_t)c];
    }
    fail_msg("%s: no row %s", t->name, label);
    return NULL;
}

static long long shown(const struct report_table *t, const char *label, const char *col)
{
    const struct report_cell *c = at(t, label, col);

    if (c->mark != REPORT_SHOWN)
        fail_msg("%s %s/%s is hidden (%lld)", t->name, label, col, c->n);
    return c->n;
}

/* ---- an independent check: can a hidden count be computed? ---------------------------------- */

/*
 * Every cell of t (totals included) is a variable; the equations say that
 * the cells of a row or column add up to its total. Published values are
 * known. A hidden variable can be computed if and only if, in the reduced
 * row echelon form of the system restricted to the hidden variables, its
 * column has a pivot whose row has no other non-zero entry.
 */
struct system {
    size_t nvars, neq;
    const struct report_cell **vars;
    double *a; /* neq * nvars coefficients */
};

static size_t var(struct system *s, const struct report_cell *c)
{
    for (size_t i = 0; i < s->nvars; i++) {
        if (s->vars[i] == c)
            return i;
    }
    s->vars[s->nvars] = c;
    return s->nvars++;
}

static double *equation(struct system *s, size_t max_vars)
{
    s->a = realloc(s->a, (s->neq + 1) * max_vars * sizeof(*s->a));
    memset(s->a + s->neq * max_vars, 0, max_vars * sizeof(*s->a));
    return s->a + s->neq++ * max_vars;
}

static void build_system(const struct report_table *t, struct system *s, size_t *stride)
{
    size_t R = t->nrows, C = t->ncols, max = R * C + R + C + 1;

    memset(s, 0, sizeof(*s));
    s->vars = calloc(max, sizeof(*s->vars));
    *stride = max;
    for (size_t c = 0; c < C; c++) {
        double *e = equation(s, max);

        for (size_t r = 0; r < R; r++)
            e[var(s, &t->cells[r * C + c])] = 1;
        e[var(s, &t->col_totals[c])] = -1;
    }
    if (!t->additive)
        return;
    for (size_t r = 0; r < R; r++) {
        double *e = equation(s, max);

        for (size_t c = 0; c < C; c++)
            e[var(s, &t->cells[r * C + c])] = 1;
        e[var(s, &t->row_totals[r])] = -1;
    }
    double *e = equation(s, max);
    for (size_t r = 0; r < R; r++)
        e[var(s, &t->row_totals[r])] = 1;
    e[var(s, &t->grand)] = -1;
    e = equation(s, max); /* the previous pointer may have moved */
    for (size_t c = 0; c < C; c++)
        e[var(s, &t->col_totals[c])] = 1;
    e[var(s, &t->grand)] = -1;
}

/* The first hidden cell that the published ones determine, or NULL. */
static const struct report_cell *derivable(const struct report_table *t)
{
    struct system s;
    size_t stride, rank = 0;
    const struct report_cell *found = NULL;
    size_t *pivot_col;

    build_system(t, &s, &stride);
    pivot_col = calloc(s.neq + 1, sizeof(*pivot_col));
    /* Known variables move to the right-hand side: only the hidden columns matter. */
    for (size_t col = 0; col < s.nvars && rank < s.neq; col++) {
        size_t p = rank;

        if (s.vars[col]->mark == REPORT_SHOWN)
            continue;
        for (size_t i = rank; i < s.neq; i++) {
            if (fabs(s.a[i * stride + col]) > fabs(s.a[p * stride + col]))
                p = i;
        }
        if (fabs(s.a[p * stride + col]) < 1e-9)
            continue;
        for (size_t k = 0; k < s.nvars; k++) {
            double tmp = s.a[p * stride + k];

            s.a[p * stride + k] = s.a[rank * stride + k];
            s.a[rank * stride + k] = tmp;
        }
        double pv = s.a[rank * stride + col];
        for (size_t k = 0; k < s.nvars; k++)
            s.a[rank * stride + k] /= pv;
        for (size_t i = 0; i < s.neq; i++) {
            double m = s.a[i * stride + col];

            if (i == rank || fabs(m) < 1e-12)
                continue;
            for (size_t k = 0; k < s.nvars; k++)
                s.a[i * stride + k] -= m * s.a[rank * stride + k];
        }
        pivot_col[rank++] = col;
    }
    for (size_t i = 0; i < rank && found == NULL; i++) {
        bool alone = true;

        for (size_t k = 0; k < s.nvars; k++) {
            if (k != pivot_col[i] && s.vars[k]->mark != REPORT_SHOWN &&
                fabs(s.a[i * stride + k]) > 1e-9)
                alone = false;
        }
        if (alone)
            found = s.vars[pivot_col[i]];
    }
    free(pivot_col);
    free(s.vars);
    free(s.a);
    return found;
}

/* No count 1..4 published, every 1..4 marked "<5", and nothing hidden computable. */
static void assert_protected(const struct report_table *t)
{
    struct system s;
    size_t stride;

    build_system(t, &s, &stride);
    for (size_t i = 0; i < s.nvars; i++) {
        const struct report_cell *c = s.vars[i];

        if ((c->n >= 1 && c->n <= 4) != (c->mark == REPORT_SMALL))
            fail_msg("%s: a count of %lld is marked %d", t->name, c->n, c->mark);
    }
    free(s.vars);
    free(s.a);
    if (derivable(t) != NULL)
        fail_msg("%s: a hidden count of %lld can be computed from the published ones", t->name,
                 derivable(t)->n);
}

/* ---- hand-made tables --------------------------------------------------------------------------
 */

static struct report_table make_table(size_t R, size_t C, const long long *values, bool additive)
{
    struct report_table t = {.name = "test", .title = "test", .nrows = R, .ncols = C};

    t.additive = additive;
    t.cells = calloc(R * C + 1, sizeof(*t.cells));
    t.col_totals = calloc(C + 1, sizeof(*t.col_totals));
    t.row_totals = calloc(R + 1, sizeof(*t.row_totals));
    for (size_t r = 0; r < R; r++) {
        for (size_t c = 0; c < C; c++) {
            t.cells[r * C + c].n = values[r * C + c];
            t.row_totals[r].n += values[r * C + c];
            t.col_totals[c].n += values[r * C + c];
            t.grand.n += values[r * C + c];
        }
    }
    return t;
}

static void free_table(struct report_table *t)
{
    free(t->cells);
    free(t->col_totals);
    free(t->row_totals);
}

static void test_checker_sees_subtraction(void **state)
{
    /* The checker itself: a lone hidden cell in a column is found. */
    static const long long v[] = {3, 10, 12};
    struct report_table t = make_table(3, 1, v, false);

    (void)state;
    for (size_t i = 0; i < 3; i++)
        t.cells[i].mark = REPORT_SHOWN;
    t.col_totals[0].mark = REPORT_SHOWN;
    t.cells[0].mark = REPORT_SMALL;
    assert_ptr_equal(derivable(&t), &t.cells[0]);
    t.cells[1].mark = REPORT_HIDDEN;
    assert_null(derivable(&t));
    free_table(&t);
}

static void test_one_dimension(void **state)
{
    /* 3 + 10 + 12 + 20 = 45: the 3 alone would be 45 - 42, so the 10 goes too. */
    static const long long v[] = {3, 10, 12, 20};
    struct report_table t = make_table(4, 1, v, false);
    char err[256];

    (void)state;
    assert_int_equal(report_table_protect(&t, err), 0);
    assert_int_equal(t.cells[0].mark, REPORT_SMALL);
    assert_int_equal(t.cells[1].mark, REPORT_HIDDEN); /* the next smallest */
    assert_int_equal(t.cells[2].mark, REPORT_SHOWN);
    assert_int_equal(t.cells[3].mark, REPORT_SHOWN);
    assert_int_equal(t.col_totals[0].mark, REPORT_SHOWN);
    assert_protected(&t);
    free_table(&t);
}

static void test_two_dimensions(void **state)
{
    /* One small cell: a rectangle of four cells must hide, and the totals stay. */
    static const long long v[] = {
        2,  30, 41, /* */
        25, 9,  60, /* */
        33, 47, 8,
    };
    struct report_table t = make_table(3, 3, v, true);
    char err[256];
    int hidden = 0;

    (void)state;
    assert_int_equal(report_table_protect(&t, err), 0);
    assert_int_equal(t.cells[0].mark, REPORT_SMALL);
    for (size_t i = 0; i < 9; i++)
        hidden += t.cells[i].mark != REPORT_SHOWN;
    assert_int_equal(hidden, 4);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(t.row_totals[i].mark, REPORT_SHOWN);
        assert_int_equal(t.col_totals[i].mark, REPORT_SHOWN);
    }
    assert_protected(&t);
    free_table(&t);
}

static void test_bridge_between_rectangles(void **state)
{
    /*
     * Two blocks of small counts joined by a small cell (row 1, column 2):
     * every row and column with a hidden cell has at least two, so the simple
     * "two per line" rule adds nothing, yet rows 0-1 minus columns 0-1 give
     * the joining cell away. The graph method finds it (a bridge).
     */
    static const long long v[] = {
        1,  2,  50, 60, /* */
        3,  4,  3,  70, /* */
        80, 90, 1,  2,  /* */
        85, 95, 3,  4,
    };
    struct report_table t = make_table(4, 4, v, true);
    char err[256];

    (void)state;
    for (size_t i = 0; i < 16; i++)
        t.cells[i].mark = v[i] < 5 ? REPORT_SMALL : REPORT_SHOWN;
    for (size_t i = 0; i < 4; i++)
        t.row_totals[i].mark = t.col_totals[i].mark = REPORT_SHOWN;
    t.grand.mark = REPORT_SHOWN;
    assert_ptr_equal(derivable(&t), &t.cells[1 * 4 + 2]);
    assert_int_equal(report_table_protect(&t, err), 0);
    assert_protected(&t);
    free_table(&t);
}

static void test_margins_that_are_cells(void **state)
{
    /* One row: each column total equals its cell, so small totals are small cells too. */
    static const long long v[] = {3, 40, 0, 7};
    struct report_table t = make_table(1, 4, v, true);
    struct report_table u = make_table(4, 1, v, true);
    char err[256];

    (void)state;
    assert_int_equal(report_table_protect(&t, err), 0);
    assert_int_equal(report_table_protect(&u, err), 0);
    assert_protected(&t);
    assert_protected(&u);
    assert_int_equal(t.cells[2].mark, REPORT_SHOWN); /* 0 stays 0 */
    free_table(&t);
    free_table(&u);
}

static void test_random_tables(void **state)
{
    unsigned seed = 20261124;

    (void)state;
    for (int round = 0; round < 400; round++) {
        size_t R = 1 + (size_t)(rand_r(&seed) % 7), C = 1 + (size_t)(rand_r(&seed) % 6);
        long long v[64];
        char err[256];

        /* Many small counts and zeros, as in a city's week. */
        for (size_t i = 0; i < R * C; i++) {
            int k = rand_r(&seed) % 10;

            v[i] = k < 3 ? 0 : k < 6 ? 1 + rand_r(&seed) % 4 : 5 + rand_r(&seed) % 40;
        }
        struct report_table t = make_table(R, C, v, round % 3 != 0);
        if (report_table_protect(&t, err) != 0)
            fail_msg("round %d: %s", round, err);
        assert_protected(&t);
        free_table(&t);
    }
}

/* ---- reports from the database
 * ----------------------------------------------------------------------- */

static void test_contacts_by_city(void **state)
{
    struct fixture *f = *state;
    const struct report_table *t;
    struct report r;
    char p[17];

    people(f, 6, "2026-11-10 09:00", "Helsinki");
    new_pseudonym(f, p); /* one of them writes twice: 8 contacts, 7 people */
    conversation(f, p, "2026-11-11 10:00", "sms", "Helsinki", "tonight", "ask_place");
    conversation(f, p, "2026-11-12 10:00", "sms", "Helsinki", "helpline", "eviction_court");
    people(f, 9, "2026-11-10 10:00", "Tampere");
    people(f, 2, "2026-11-10 11:00", "Pori");
    for (int i = 0; i < 6; i++) {
        new_pseudonym(f, p);
        conversation(f, p, "2026-11-13 12:00", "sms", "Tampere", "tonight", "ask_place");
        log_row(f, &(struct row){"2026-11-13 12:00", "sms", "fi", "Tampere", "helpline", "welcome",
                                 "opt_out", NULL, p});
    }
    log_row(f, &(struct row){"2026-11-14 12:00", "sms", "fi", NULL, "helpline", "welcome", "crisis",
                             NULL, NULL});
    /* Outside the range. */
    people(f, 7, "2026-10-31 23:00", "Helsinki");
    people(f, 7, "2026-12-01 00:00", "Helsinki");

    build(f, "2026-11-01", "2026-11-30", "city", f->flows, &r);
    assert_non_null(t = table(&r, "contacts"));
    /* 25 - 15 - 8 would give Pori's 2 away: the next smallest, Helsinki, is hidden too. */
    assert_int_equal(at(t, "Helsinki", "contacts")->n, 8);
    assert_int_equal(at(t, "Helsinki", "contacts")->mark, REPORT_HIDDEN);
    assert_int_equal(at(t, "Helsinki", "unique_contacts")->n, 7); /* hidden likewise */
    assert_int_equal(shown(t, "Tampere", "contacts"), 15);
    assert_int_equal(shown(t, "Tampere", "opt_outs"), 6);
    assert_int_equal(at(t, "Pori", "contacts")->mark, REPORT_SMALL);
    assert_int_equal(at(t, "unknown", "crisis")->mark, REPORT_SMALL);
    assert_int_equal(at(t, "total", "contacts")->n, 25);
    assert_int_equal(at(t, "total", "unique_contacts")->n, 24);
    assert_protected(t);
    assert_protected(&r.chart);
    report_release(&r);
}

static void test_unique_within_a_month(void **state)
{
    struct fixture *f = *state;
    const struct report_table *t;
    struct report r;
    char p[6][17];

    /* Six people write in November and in December: twelve "unique" over two months. */
    for (int i = 0; i < 6; i++) {
        new_pseudonym(f, p[i]);
        conversation(f, p[i], "2026-11-20 10:00", "sms", "Oulu", "tonight", "ask_place");
        conversation(f, p[i], "2026-11-21 10:00", "sms", "Oulu", "tonight", "ask_place");
        conversation(f, p[i], "2026-12-02 10:00", "sms", "Oulu", "tonight", "ask_place");
    }
    build(f, "2026-11-01", "2026-12-31", "city", f->flows, &r);
    assert_non_null(t = table(&r, "contacts"));
    assert_int_equal(shown(t, "Oulu", "contacts"), 18);
    assert_int_equal(shown(t, "Oulu", "unique_contacts"), 12);
    report_release(&r);
}

static void test_ussd_session_counts_once(void **state)
{
    struct fixture *f = *state;
    const struct report_table *t;
    struct report r;
    char p[17];

    for (int i = 0; i < 5; i++) {
        new_pseudonym(f, p);
        conversation(f, p, "2026-11-10 09:00", "ussd", "Vantaa", "tonight", "ask_place");
        log_row(f, &(struct row){"2026-11-10 09:00", "ussd", "fi", "Vantaa", NULL, NULL,
                                 "ussd_session", NULL, p});
    }
    /* An abandoned session's summary row, without a pseudonym. */
    log_row(f, &(struct row){"2026-11-10 10:00", "ussd", "fi", "Vantaa", NULL, NULL, "ussd_timeout",
                             NULL, NULL});
    build(f, "2026-11-01", "2026-11-30", "channel", f->flows, &r);
    assert_non_null(t = table(&r, "contacts"));
    assert_int_equal(t->nrows, 1);
    assert_int_equal(shown(t, "ussd", "contacts"), 5);
    report_release(&r);
}

static void test_weeks_across_new_year(void **state)
{
    struct fixture *f = *state;
    const struct report_table *t;
    struct report r;

    /* 2026 has 53 ISO weeks: Friday 2027-01-01 is in 2026-W53, Monday 2027-01-04 starts W01. */
    people(f, 5, "2026-12-28 09:00", "Espoo");
    people(f, 6, "2027-01-01 09:00", "Espoo");
    people(f, 7, "2027-01-03 23:00", "Espoo");
    people(f, 8, "2027-01-04 00:00", "Espoo");
    people(f, 9, "2026-12-27 23:00", "Espoo"); /* Sunday: 2026-W52 */
    build(f, "2026-12-20", "2027-01-10", "week", f->flows, &r);
    assert_non_null(t = table(&r, "contacts"));
    assert_int_equal(t->nrows, 3);
    assert_int_equal(shown(t, "2026-W52", "contacts"), 9);
    assert_int_equal(shown(t, "2026-W53", "contacts"), 18);
    assert_int_equal(shown(t, "2027-W01", "contacts"), 8);
    /* The chart has every week of the range, in order. */
    assert_int_equal(r.chart.ncols, 4);
    assert_string_equal(r.chart.columns[0], "2026-W51");
    assert_string_equal(r.chart.columns[1], "2026-W52");
    assert_string_equal(r.chart.columns[2], "2026-W53");
    assert_string_equal(r.chart.columns[3], "2027-W01");
    report_release(&r);
}

static void test_topics_after_main_menu(void **state)
{
    struct fixture *f = *state;
    const struct report_table *t;
    struct report r;
    char p[17];

    people(f, 6, "2026-11-10 09:00", "Helsinki"); /* tonight/ask_place */
    for (int i = 0; i < 5; i++) {
        new_pseudonym(f, p);
        conversation(f, p, "2026-11-10 10:00", "sms", "Helsinki", "helpline", "eviction_court");
        new_pseudonym(f, p);
        conversation(f, p, "2026-11-10 11:00", "sms", NULL, NULL, NULL); /* menu only */
    }
    build(f, "2026-11-01", "2026-11-30", "channel", f->flows, &r);
    assert_non_null(t = table(&r, "topics"));
    assert_int_equal(shown(t, "sms", "tonight/ask_place"), 6);
    assert_int_equal(shown(t, "sms", "helpline/eviction_court"), 5);
    assert_int_equal(column(t, "helpline/welcome"), -1);
    assert_int_equal(column(t, "none"), -1);
    report_release(&r);

    /* Without the flows the main menu cannot be told apart: the first question counts. */
    build(f, "2026-11-01", "2026-11-30", "channel", NULL, &r);
    assert_non_null(t = table(&r, "topics"));
    assert_int_equal(shown(t, "sms", "helpline/welcome"), 16);
    report_release(&r);

    /* By topic, the contacts table counts conversations per topic ('none': the menu only). */
    build(f, "2026-11-01", "2026-11-30", "topic", f->flows, &r);
    assert_null(table(&r, "topics"));
    assert_non_null(t = table(&r, "contacts"));
    assert_int_equal(shown(t, "none", "contacts"), 5);
    assert_int_equal(shown(t, "tonight/ask_place", "contacts"), 6);
    report_release(&r);
}

static void test_referrals_by_category(void **state)
{
    struct fixture *f = *state;
    const struct report_table *t;
    struct report r;
    char p[17];

    service(f, "hel-shelter", "emergency_accommodation");
    service(f, "hel-sos", "social_emergency");
    for (int i = 0; i < 7; i++) {
        new_pseudonym(f, p);
        conversation(f, p, "2026-11-10 09:00", "sms", "Helsinki", "tonight", "ask_place");
        log_row(f, &(struct row){"2026-11-10 09:00", "sms", "fi", "Helsinki", "tonight", "shelter",
                                 "referral", "hel-shelter", p});
        log_row(f, &(struct row){"2026-11-10 09:00", "sms", "fi", "Helsinki", "tonight", "shelter",
                                 "referral", i < 6 ? "hel-sos" : "closed-long-ago", p});
    }
    build(f, "2026-11-01", "2026-11-30", "city", f->flows, &r);
    assert_non_null(t = table(&r, "referrals"));
    assert_int_equal(shown(t, "Helsinki", "emergency_accommodation"), 7);
    assert_int_equal(at(t, "Helsinki", "unknown")->mark, REPORT_SMALL);
    assert_int_equal(at(t, "Helsinki", "social_emergency")->mark, REPORT_HIDDEN);
    assert_int_equal(at(t, "Helsinki", "social_emergency")->n, 6);
    assert_protected(t);
    report_release(&r);
}

static void test_callbacks_by_outcome(void **state)
{
    struct fixture *f = *state;
    const struct report_table *t;
    struct report r;

    for (int i = 0; i < 6; i++) {
        callback_request(f, "Helsinki", NOV_24_2026 - i * 3600, "reached");
        callback_request(f, "Helsinki", NOV_24_2026 - i * 3600, NULL);
        callback_request(f, "Tampere", NOV_24_2026 - i * 3600, "no_answer");
    }
    callback_request(f, "Tampere", NOV_24_2026, "wrong_number");
    callback_request(f, "Tampere", NOV_24_2026 + 40 * 86400, "reached"); /* after the range */
    build(f, "2026-11-01", "2026-11-30", "city,channel", f->flows, &r);
    assert_non_null(t = table(&r, "callbacks"));
    assert_int_equal(shown(t, "Helsinki", "reached"), 6);
    assert_int_equal(shown(t, "Helsinki", "open"), 6);
    assert_int_equal(at(t, "Tampere", "no_answer")->n, 6);
    assert_int_equal(at(t, "Tampere", "wrong_number")->mark, REPORT_SMALL);
    assert_string_equal(t->labels[1], "n/a"); /* callbacks carry no channel */
    assert_int_equal(t->grand.n, 19);
    assert_protected(t);
    report_release(&r);
}

static void test_query(void **state)
{
    struct report_query q;
    char err[256];

    (void)state;
    report_query_init(&q, NOV_24_2026);
    assert_string_equal(q.from, "2026-10-26");
    assert_string_equal(q.to, "2026-11-24");
    assert_int_equal(q.nby, 1);
    assert_int_equal(q.by[0], REPORT_CITY);
    assert_int_equal(report_query_set(&q, NULL, NULL, "week,lang,city", err), 0);
    assert_int_equal(q.nby, 3);
    assert_int_equal(q.by[1], REPORT_LANGUAGE);
    assert_int_equal(report_query_set(&q, "2026-02-30", NULL, NULL, err), -1);
    assert_non_null(strstr(err, "--from"));
    assert_int_equal(report_query_set(&q, "2026-11-25", NULL, NULL, err), -1);
    assert_int_equal(report_query_set(&q, NULL, "26-11-01", NULL, err), -1);
    assert_int_equal(report_query_set(&q, NULL, NULL, "city,city", err), -1);
    assert_int_equal(report_query_set(&q, NULL, NULL, "postcode", err), -1);
    assert_null(strstr(err, "postcode")); /* never echoed */
    assert_int_equal(report_query_set(&q, NULL, NULL, "", err), -1);
    assert_int_equal(report_query_set(&q, "2010-01-01", NULL, NULL, err), -1); /* too long */
    assert_string_equal(q.from, "2026-10-26");                                 /* unchanged */
}

/* ---- formats ------------------------------------------------------------------------------------
 */

static void fill_small_world(struct fixture *f)
{
    people(f, 9, "2026-11-10 09:00", "Helsinki");
    people(f, 1, "2026-11-10 09:00", "Pori");
    people(f, 4, "2026-11-17 09:00", "Pori");
    people(f, 12, "2026-11-17 09:00", "Helsinki");
    people(f, 3, "2026-11-17 09:00", "Tampere");
}

/* Splits one CSV line (no quotes needed here) into at most max fields. */
static size_t csv_fields(char *line, char **out, size_t max)
{
    size_t n = 0;

    for (char *p = line; n < max; p++) {
        out[n++] = p;
        p = strchr(p, ',');
        if (p == NULL)
            break;
        *p = '\0';
    }
    return n;
}

static void test_csv(void **state)
{
    struct fixture *f = *state;
    struct report r;
    struct buf b;
    char *text, *line, *save = NULL;
    int lines = 0, small = 0;

    fill_small_world(f);
    build(f, "2026-11-01", "2026-11-30", "city,week", f->flows, &r);
    buf_init(&b, 1 << 20);
    assert_int_equal(report_write_csv(&r, &b), 0);
    text = buf_detach(&b);
    assert_non_null(strstr(text, "\r\n")); /* RFC 4180 line ends */
    for (line = strtok_r(text, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
        char *field[8] = {NULL};

        assert_int_equal(csv_fields(line, field, 8), 5);
        if (lines++ == 0) {
            assert_string_equal(field[0], "table");
            assert_string_equal(field[1], "city");
            assert_string_equal(field[2], "week");
            assert_string_equal(field[3], "column");
            assert_string_equal(field[4], "value");
            continue;
        }
        if (strcmp(field[4], "<5") == 0) {
            small++;
        } else if (strcmp(field[4], "x") != 0) {
            long n = strtol(field[4], NULL, 10);

            assert_true(n == 0 || n >= REPORT_THRESHOLD);
        }
    }
    assert_true(lines > 10);
    assert_true(small > 0);
    free(text);
    report_release(&r);
}

static void test_json(void **state)
{
    struct fixture *f = *state;
    struct report r;
    struct buf b;
    cJSON *root, *tables, *t, *chart;

    fill_small_world(f);
    build(f, "2026-11-01", "2026-11-30", "city", f->flows, &r);
    buf_init(&b, 1 << 20);
    assert_int_equal(report_write_json(&r, &b), 0);
    assert_non_null(root = cJSON_Parse(buf_str(&b)));
    assert_string_equal(cJSON_GetObjectItem(root, "from")->valuestring, "2026-11-01");
    assert_non_null(tables = cJSON_GetObjectItem(root, "tables"));
    assert_true(cJSON_GetArraySize(tables) >= 3);
    t = cJSON_GetArrayItem(tables, 0);
    assert_string_equal(cJSON_GetObjectItem(t, "name")->valuestring, "contacts");
    cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(t, "rows"))
    {
        cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(row, "values"), 0);
        const char *city = cJSON_GetArrayItem(cJSON_GetObjectItem(row, "key"), 0)->valuestring;

        /* As published in the report: Pori's 1 + 4 may have to hide to protect Tampere. */
        if (strcmp(city, "Pori") == 0 && at(&r.tables[0], "Pori", "contacts")->mark == REPORT_SHOWN)
            assert_int_equal(v->valuedouble, 5);
        else if (strcmp(city, "Pori") == 0)
            assert_string_equal(v->valuestring, "x");
        else if (strcmp(city, "Tampere") == 0)
            assert_string_equal(v->valuestring, "<5");
        else
            assert_true(cJSON_IsNumber(v) || strcmp(v->valuestring, "x") == 0);
    }
    /* Anywhere in the document: a number is 0 or at least 5, a string "<5" or "x". */
    for (cJSON *tb = tables->child; tb != NULL; tb = tb->next) {
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(tb, "rows"))
        {
            cJSON *v;

            cJSON_ArrayForEach(v, cJSON_GetObjectItem(row, "values"))
            {
                if (cJSON_IsNumber(v))
                    assert_true(v->valuedouble == 0 || v->valuedouble >= REPORT_THRESHOLD);
                else
                    assert_true(strcmp(v->valuestring, "<5") == 0 ||
                                strcmp(v->valuestring, "x") == 0);
            }
        }
    }
    assert_non_null(chart = cJSON_GetObjectItem(root, "chart"));
    assert_null(cJSON_GetObjectItem(chart, "totals"));
    cJSON_Delete(root);
    buf_release(&b);
    report_release(&r);
}

/* The value of attribute name in the tag that starts at tag. */
static long attr(const char *tag, const char *name)
{
    char key[32];
    const char *p, *end = strchr(tag, '>');

    snprintf(key, sizeof(key), " %s=\"", name);
    p = strstr(tag, key);
    assert_true(p != NULL && p < end);
    return strtol(p + strlen(key), NULL, 10);
}

static void test_svg(void **state)
{
    struct fixture *f = *state;
    struct report r;
    struct buf b;
    const char *s, *p;
    int hidden = 0, bars = 0;

    fill_small_world(f);
    build(f, "2026-11-01", "2026-11-30", "city", f->flows, &r);
    buf_init(&b, 1 << 20);
    assert_int_equal(report_write_svg(&r, &b, true), 0);
    s = buf_str(&b);
    assert_non_null(strstr(s, "<?xml"));
    assert_non_null(strstr(s, "<svg"));
    assert_non_null(strstr(s, "Contacts per week by city, 2026-11-01 to 2026-11-30"));
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, " on"));   /* no event handler attributes */
    assert_null(strstr(s, "href=")); /* nothing external */
    assert_non_null(strstr(s, ">Helsinki</text>"));
    /* Pori has 1 and 4: both hidden boxes of the same height, whatever the count. */
    for (p = strstr(s, "<rect class=\"suppressed\""); p != NULL;
         p = strstr(p + 1, "<rect class=\"suppressed\"")) {
        assert_int_equal(attr(p, "height"), REPORT_SVG_HIDDEN_HEIGHT);
        hidden++;
    }
    for (p = strstr(s, "<rect class=\"bar\""); p != NULL; p = strstr(p + 1, "<rect class=\"bar\""))
        bars++;
    assert_true(hidden >= 3); /* Pori twice, Tampere */
    assert_int_equal(bars + hidden, 5);
    assert_null(strstr(s, ": 1<"));
    assert_null(strstr(s, ": 4<"));
    assert_null(strstr(s, ": 3<"));
    buf_release(&b);

    /* Inline in a page: no XML declaration. */
    buf_init(&b, 1 << 20);
    assert_int_equal(report_write_svg(&r, &b, false), 0);
    assert_null(strstr(buf_str(&b), "<?xml"));
    buf_release(&b);
    report_release(&r);
}

static void test_text(void **state)
{
    struct fixture *f = *state;
    struct report r;
    struct buf b;

    fill_small_world(f);
    build(f, "2026-11-01", "2026-11-30", "city", f->flows, &r);
    buf_init(&b, 1 << 20);
    assert_int_equal(report_write_text(&r, &b), 0);
    assert_non_null(strstr(buf_str(&b), "Katto report 2026-11-01 to 2026-11-30"));
    assert_non_null(strstr(buf_str(&b), "unique contacts"));
    assert_non_null(strstr(buf_str(&b), "<5"));
    assert_non_null(strstr(buf_str(&b), "sum of the monthly counts"));
    buf_release(&b);
    report_release(&r);
}

static void test_empty_range(void **state)
{
    struct fixture *f = *state;
    struct report r;
    struct buf b;

    build(f, "2026-11-01", "2026-11-30", "city,topic,week,channel,language", f->flows, &r);
    assert_int_equal(r.tables[0].nrows, 0);
    buf_init(&b, 1 << 20);
    assert_int_equal(report_write_svg(&r, &b, true), 0);
    assert_non_null(strstr(buf_str(&b), "No contacts"));
    buf_release(&b);
    report_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_sees_subtraction),
        cmocka_unit_test(test_one_dimension),
        cmocka_unit_test(test_two_dimensions),
        cmocka_unit_test(test_bridge_between_rectangles),
        cmocka_unit_test(test_margins_that_are_cells),
        cmocka_unit_test(test_random_tables),
        cmocka_unit_test(test_query),
        cmocka_unit_test_setup_teardown(test_contacts_by_city, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_within_a_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ussd_session_counts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weeks_across_new_year, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topics_after_main_menu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_referrals_by_category, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callbacks_by_outcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_range, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
