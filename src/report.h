/*
 * report.h: anonymous statistics for the cities (katto report, GET
 * /admin/report), read from the contact log (migration 0005), the service
 * directory (0006) and the callback requests (0007). Nothing here can name a
 * person: the rows hold no number and no text, and every published count is
 * protected by small-cell suppression.
 *
 * Definitions (also in README.md, "Reports"):
 *
 * - Conversation: the rows of one pseudonym on one channel from a
 *   'session_start' row up to the next one. Both channels log 'session_start'
 *   when a conversation begins (USSD too: its dial-in starts the main flow or
 *   the service code's flow), so the USSD summary rows ('ussd_session',
 *   'ussd_timeout') are not counted again. Rows without a pseudonym (events
 *   after an erasure, a USSD session whose gateway sent no number) cannot be
 *   linked and count on their own. A conversation's city and language are the
 *   last ones its rows name ('unknown' if none); its week and channel are
 *   those of its first row.
 * - contacts: conversations started ('session_start' rows), SMS and USSD.
 * - unique_contacts: distinct pseudonyms among those starts. The pseudonym's
 *   key changes every calendar month by design, so people are unique within
 *   a month only; over a longer range this is the sum of the monthly counts.
 * - opt_outs, crisis, erasures: 'opt_out', 'crisis' and 'erase' rows.
 * - topic: the first question a conversation reached after the main menu:
 *   its first 'node' row other than the main flow's start node, as
 *   "flow/node" ('none' if it never got further). Without loaded flows the
 *   first 'node' row counts as is.
 * - referrals: 'referral' rows by the category of their service
 *   (services.category); ids no longer in the directory count as 'unknown'.
 * - callbacks: callback_requests created in the range, by outcome ('open'
 *   while not closed). They carry no channel and no menu topic, so those
 *   dimensions read 'n/a' for them.
 * - Dimensions (--by): city, topic, week (ISO 8601 week of the local hour,
 *   2026-W48), channel, language. Several give a cross table whose rows are
 *   the combinations that occur. Dates are local (Europe/Helsinki), both
 *   ends inclusive; the default is the 30 days ending today.
 *
 * Suppression: a count from 1 to 4 is published as "<5" (primary); 0 is
 * published as 0 (it identifies nobody). Then secondary suppression: every
 * table is a system of equations (each row and column adds up to its total),
 * and a hidden cell must not be computable from the published ones. Seen as
 * a graph whose nodes are the equations and whose edges are the cells (a
 * contingency table with margins is exactly that), a hidden cell can be
 * computed if and only if it is a bridge among the hidden cells; each such
 * cell is put on a cycle by also hiding the cheapest path of published cells
 * (smallest counts first, totals last), until none is left. Those extra
 * cells are published as "x".
 */
#ifndef KATTO_REPORT_H
#define KATTO_REPORT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "flow.h"

#define REPORT_THRESHOLD 5      /* counts 1 .. REPORT_THRESHOLD - 1 are published as "<5" */
#define REPORT_DATE_LEN 11      /* YYYY-MM-DD + NUL */
#define REPORT_MAX_DAYS 3660    /* longest range: ten years (retention is at most 120 months) */
#define REPORT_MAX_CELLS 200000 /* cells of one table; more is refused as too fine */

enum report_dim {
    REPORT_CITY,
    REPORT_TOPIC,
    REPORT_WEEK,
    REPORT_CHANNEL,
    REPORT_LANGUAGE,
    REPORT_NDIMS
};

struct report_query {
    char from[REPORT_DATE_LEN], to[REPORT_DATE_LEN]; /* local dates, both inclusive */
    enum report_dim by[REPORT_NDIMS];
    size_t nby; /* at least 1 */
};

/* The 30 days ending on now's local date, by city. */
void report_query_init(struct report_query *q, long long now);

/*
 * Sets what is given (NULL keeps the current value): from and to as
 * YYYY-MM-DD, by as dimension names separated by commas ("city,week").
 * 0, or -1 with err saying which value is wrong (never echoing it).
 */
int report_query_set(struct report_query *q, const char *from, const char *to, const char *by,
                     char *err);

/* "city", "topic", "week", "channel", "language". */
const char *report_dim_name(enum report_dim d);

/* How a count is published. */
enum report_mark {
    REPORT_SHOWN,  /* as the number */
    REPORT_SMALL,  /* 1..4: "<5" */
    REPORT_HIDDEN, /* hidden so that totals do not give a small count away: "x" */
};

struct report_cell {
    long long n;
    enum report_mark mark;
};

/*
 * One table: rows are combinations of the dimensions (labels), columns are
 * measures or categories. Every column has a total; when the columns are
 * parts of one whole (additive), every row has a total too, and there is a
 * grand total.
 */
struct report_table {
    const char *name;  /* contacts, topics, referrals, callbacks, chart: static */
    const char *title; /* static */
    size_t nkeys;      /* label columns */
    enum report_dim keys[REPORT_NDIMS];
    size_t nrows, ncols;
    char **labels;                  /* nrows * nkeys, owned */
    char **columns;                 /* ncols, owned */
    struct report_cell *cells;      /* nrows * ncols */
    struct report_cell *col_totals; /* ncols */
    bool additive;
    struct report_cell *row_totals; /* nrows, when additive */
    struct report_cell grand;       /* when additive */
};

#define REPORT_MAX_TABLES 4

struct report {
    struct report_query q;
    struct report_table tables[REPORT_MAX_TABLES]; /* contacts, [topics], referrals, callbacks */
    size_t ntables;
    /*
     * Contacts per city (rows) and ISO week (columns: every week of the range),
     * additive: the chart (report_svg.h). Protected with its margins, which are
     * the contacts by city and by week; with --by city, week or both the contacts
     * column of the contacts table is a view of this one table, so the chart and
     * that column can never be played against each other.
     */
    struct report_table chart;
    bool flows_known; /* topics exclude the main menu */
};

#define REPORT_TOO_LARGE (-2) /* report_build: a table would pass REPORT_MAX_CELLS */

/*
 * Reads the database (a few indexed queries; the caller's connection, no
 * transaction needed) and builds the protected tables. flows (may be NULL)
 * names the main flow and its start node for topics. 0, REPORT_TOO_LARGE
 * with err (the query asks for too fine a table), or -1 with err. Release
 * with report_release, also after a failure.
 */
int report_build(sqlite3 *db, const struct flow_set *flows, const struct report_query *q,
                 struct report *r, char *err);
void report_release(struct report *r);

/*
 * Applies primary and secondary suppression to t's counts (the n fields of
 * cells and totals), setting every mark. 0, or -1 with err (a table that
 * cannot be protected, which a connected table never is).
 */
int report_table_protect(struct report_table *t, char *err);

/* A cell as published: the number, "<5" or "x", into out. Returns out. */
const char *report_cell_text(const struct report_cell *c, char out[24]);

/* A column's heading for people ("unique contacts"); data names stay as they are. */
const char *report_column_label(const char *column);

/* The notes every format carries (definitions and the suppression legend), NULL-terminated. */
extern const char *const report_notes[];

/*
 * The report as aligned text, as CSV (RFC 4180, one line per published
 * count: table, the dimensions, column, value) or as JSON. 0, or -1 if out
 * of memory.
 */
int report_write_text(const struct report *r, struct buf *out);
int report_write_csv(const struct report *r, struct buf *out);
int report_write_json(const struct report *r, struct buf *out);

#endif
