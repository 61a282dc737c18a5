/* cli_report.c: katto report (see cli_report.h). */
#include "cli_report.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "db.h"
#include "diag.h"
#include "err.h"
#include "exitcode.h"
#include "flow.h"
#include "report.h"
#include "report_svg.h"

#define CLI_BUSY_TIMEOUT_MS 5000     /* unlike the server's loop, a command may wait for a writer */
#define REPORT_OUTPUT_MAX (64 << 20) /* bytes of output at most */

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON, FORMAT_SVG };

struct args {
    const char *from, *to, *by, *format;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: katto report [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
                 "                    [--by city,topic,week,channel,language]\n"
                 "                    [--format table|csv|json|svg]\n");
}

/*
 * Takes "--name VALUE" or "--name=VALUE" at argv[*i] into *value, moving *i
 * past it. 1 if argv[*i] is --name, 0 if not, -1 if the value is missing.
 */
static int take(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0 || (argv[*i][n] != '\0' && argv[*i][n] != '='))
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const char *const names[] = {"--from", "--to", "--by", "--format"};
    const char **slots[] = {&a->from, &a->to, &a->by, &a->format};

    for (int i = 0; i < argc; i++) {
        int found = 0;

        for (size_t k = 0; k < 4 && found == 0; k++) {
            if ((found = take(argc, argv, &i, names[k], slots[k])) < 0) {
                fprintf(stderr, "katto report: %s needs a value\n", names[k]);
                return -1;
            }
        }
        if (found == 0) {
            fprintf(stderr, "katto report: unexpected argument '%.64s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

static int parse_format(const char *s, enum format *f)
{
    static const char *const names[] = {"table", "csv", "json", "svg"};

    for (size_t i = 0; i < 4; i++) {
        if (s == NULL || strcmp(s, names[i]) == 0) {
            *f = s == NULL ? FORMAT_TABLE : (enum format)i;
            return 0;
        }
    }
    fprintf(stderr, "katto report: --format must be table, csv, json or svg\n");
    return -1;
}

/* The flows name the main menu for topics; without them topics count every first question. */
static struct flow_set *load_flows(const struct config *cfg)
{
    struct flow_check_options opt = {
        .ussd_budget = (size_t)cfg->ussd.screen_budget,
        .sms_max_segments = (size_t)cfg->sms.max_segments,
    };
    struct diag d = {0};
    struct flow_set *set = flow_set_load_dir(cfg->flows, &opt, &d);

    if (set == NULL)
        fprintf(stderr,
                "katto report: note: the flows in '%s' did not load (run katto check); topics "
                "include the main menu\n",
                cfg->flows);
    diag_release(&d);
    return set;
}

static int write_format(const struct report *r, enum format f, struct buf *out)
{
    switch (f) {
    case FORMAT_CSV: return report_write_csv(r, out);
    case FORMAT_JSON: return report_write_json(r, out);
    case FORMAT_SVG: return report_write_svg(r, out, true);
    default: return report_write_text(r, out);
    }
}

int cli_report(const struct config *cfg, int argc, char **argv)
{
    struct args a = {0};
    struct report_query q;
    struct report r = {0};
    struct flow_set *flows = NULL;
    struct buf out;
    enum format f;
    char err[ERR_LEN];
    sqlite3 *db = NULL;
    int rc = EXIT_FAILURE;

    report_query_init(&q, clock_now());
    if (parse_args(argc, argv, &a) != 0 || parse_format(a.format, &f) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (report_query_set(&q, a.from, a.to, a.by, err) != 0) {
        fprintf(stderr, "katto report: %s\n", err);
        return EXIT_USAGE;
    }
    buf_init(&out, REPORT_OUTPUT_MAX);
    if ((db = db_open(cfg->database, err)) == NULL ||
        db_migrate(db, db_migrations, db_migrations_count, err) != 0) {
        fprintf(stderr, "katto report: %s\n", err);
        goto out;
    }
    sqlite3_busy_timeout(db, CLI_BUSY_TIMEOUT_MS);
    flows = load_flows(cfg);
    if (report_build(db, flows, &q, &r, err) != 0) {
        fprintf(stderr, "katto report: %s\n", err);
        goto out;
    }
    if (write_format(&r, f, &out) != 0) {
        fprintf(stderr, "katto report: out of memory\n");
        goto out;
    }
    if (fwrite(buf_str(&out), 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "katto report: cannot write the output\n");
        goto out;
    }
    rc = 0;
out:
    report_release(&r);
    flow_set_unref(flows);
    db_close(db);
    buf_release(&out);
    return rc;
}
