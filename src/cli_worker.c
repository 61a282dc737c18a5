/* cli_worker.c: katto worker add | renew | remove | list (see cli_worker.h). */
#include "cli_worker.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "err.h"
#include "exitcode.h"
#include "secret.h"
#include "team.h"
#include "worker.h"

#define CLI_BUSY_TIMEOUT_MS 5000 /* a command may wait for the server's commit */

static const char usage_text[] = "usage: katto worker add NAME --team TEAM | renew NAME | "
                                 "remove NAME | list\n";

/* Everything a subcommand needs: the database, the statements and the teams. */
struct ctx {
    sqlite3 *db;
    struct worker_store *ws;
    struct team_list teams;
};

static void ctx_close(struct ctx *c)
{
    worker_store_free(c->ws);
    db_close(c->db);
    team_list_release(&c->teams);
}

static int ctx_open(const struct config *cfg, struct ctx *c)
{
    char err[ERR_LEN];

    memset(c, 0, sizeof(*c));
    /* Tests move the clock; production never sets the file. */
    clock_use_file(cfg->test_clock_file);
    if (team_list_parse(cfg->callbacks.teams, &c->teams, err) != 0) {
        fprintf(stderr, "katto worker: callbacks.teams: %s\n", err);
        return EXIT_CONFIG;
    }
    if (secret_make_parent_dirs(cfg->database, err) != 0 ||
        (c->db = db_open(cfg->database, err)) == NULL ||
        db_migrate(c->db, db_migrations, db_migrations_count, err) != 0 ||
        (c->ws = worker_store_new(c->db, err)) == NULL) {
        fprintf(stderr, "katto worker: %s\n", err);
        ctx_close(c);
        return EXIT_FAILURE;
    }
    sqlite3_busy_timeout(c->db, CLI_BUSY_TIMEOUT_MS);
    return 0;
}

static void day_of(long long t, char out[16])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 16, "?");
}

/* Runs one change in its own transaction. 0, or -1 with err (rolled back). */
static int begin(struct ctx *c, char *err)
{
    return db_exec(c->db, "BEGIN IMMEDIATE", "begin", err);
}

static int finish(struct ctx *c, int rc, char *err)
{
    if (rc >= 0 && db_exec(c->db, "COMMIT", "commit", err) == 0)
        return rc;
    db_exec(c->db, "ROLLBACK", "rollback", NULL);
    return -1;
}

static void print_token(const struct worker_account *w, const char *token, const char *what)
{
    char expires[16];

    day_of(w->expires_at, expires);
    printf("%s: %s, team %s\n", what, w->name, w->team);
    printf("token: %s\n", token);
    printf("This token is shown only now and cannot be shown again: Katto keeps only its hash.\n"
           "Give it to %s in person. It expires on %s.\n",
           w->name, expires);
}

static void list_teams(const struct team_list *teams)
{
    fprintf(stderr, "katto worker: teams in callbacks.teams:");
    for (size_t i = 0; i < teams->n; i++)
        fprintf(stderr, " %s", teams->teams[i].id);
    fprintf(stderr, "%s\n", teams->n == 0 ? " (none)" : "");
}

/*
 * The end of add and renew: the new token printed once (rc 0) or the error,
 * the token wiped, the database closed. Returns the command's exit status.
 */
static int token_issued(struct ctx *c, int rc, const struct worker_account *w,
                        char token[WORKER_TOKEN_HEX], const char *what, const char *command,
                        const char *err)
{
    if (rc == 0)
        print_token(w, token, what);
    else
        fprintf(stderr, "katto worker %s: %s\n", command, err);
    explicit_bzero(token, WORKER_TOKEN_HEX);
    ctx_close(c);
    return rc == 0 ? 0 : EXIT_FAILURE;
}

static int cmd_add(const struct config *cfg, int argc, char **argv)
{
    const char *name = NULL, *team = NULL;
    char err[ERR_LEN], token[WORKER_TOKEN_HEX];
    struct worker_account w;
    struct ctx c;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--team") == 0 && i + 1 < argc)
            team = argv[++i];
        else if (strncmp(argv[i], "--team=", 7) == 0)
            team = argv[i] + 7;
        else if (name == NULL && argv[i][0] != '-')
            name = argv[i];
        else
            return fprintf(stderr, "%s", usage_text), EXIT_USAGE;
    }
    if (name == NULL || team == NULL)
        return fprintf(stderr, "%s", usage_text), EXIT_USAGE;
    if (worker_check_name(name, err) != 0)
        return fprintf(stderr, "katto worker add: %s\n", err), EXIT_USAGE;
    if ((rc = ctx_open(cfg, &c)) != 0)
        return rc;
    if (team_find(&c.teams, team) == NULL) {
        fprintf(stderr, "katto worker add: no team '%s' in callbacks.teams\n", team);
        list_teams(&c.teams);
        ctx_close(&c);
        return EXIT_USAGE;
    }
    rc = begin(&c, err);
    if (rc == 0)
        rc = finish(&c,
                    worker_add(c.ws, &c.teams, name, team, clock_now(), cfg->worker.token_days,
                               token, &w, err),
                    err);
    return token_issued(&c, rc, &w, token, "added worker", "add", err);
}

static int cmd_renew(const struct config *cfg, int argc, char **argv)
{
    char err[ERR_LEN], token[WORKER_TOKEN_HEX];
    struct worker_account w;
    struct ctx c;
    int rc;

    if (argc != 1)
        return fprintf(stderr, "%s", usage_text), EXIT_USAGE;
    if ((rc = ctx_open(cfg, &c)) != 0)
        return rc;
    rc = begin(&c, err);
    if (rc == 0)
        rc = finish(
            &c, worker_renew(c.ws, argv[0], clock_now(), cfg->worker.token_days, token, &w, err),
            err);
    return token_issued(&c, rc, &w, token, "new token for worker", "renew", err);
}

static int cmd_remove(const struct config *cfg, int argc, char **argv)
{
    char err[ERR_LEN];
    struct ctx c;
    int rc;

    if (argc != 1)
        return fprintf(stderr, "%s", usage_text), EXIT_USAGE;
    if ((rc = ctx_open(cfg, &c)) != 0)
        return rc;
    rc = begin(&c, err);
    if (rc == 0)
        rc = finish(&c, worker_remove(c.ws, argv[0], clock_now(), err), err);
    if (rc == 0)
        printf("removed worker %s: the token no longer works and the sessions are ended\n",
               argv[0]);
    else if (rc == 1)
        printf("worker %s was removed already\n", argv[0]);
    else
        fprintf(stderr, "katto worker remove: %s\n", err);
    ctx_close(&c);
    return rc >= 0 ? 0 : EXIT_FAILURE;
}

static int print_row(const struct worker_account *w, void *arg)
{
    long long now = *(const long long *)arg;
    char created[16], expires[16];

    day_of(w->created_at, created);
    day_of(w->expires_at, expires);
    printf("%-24s %-20s %-10s %-10s %s\n", w->name, w->team, created, expires,
           w->revoked_at != 0     ? "removed"
           : w->expires_at <= now ? "expired"
                                  : "active");
    return 0;
}

static int cmd_list(const struct config *cfg, int argc, char **argv)
{
    char err[ERR_LEN];
    long long now;
    struct ctx c;
    int rc;

    (void)argv;
    if (argc != 0)
        return fprintf(stderr, "%s", usage_text), EXIT_USAGE;
    if ((rc = ctx_open(cfg, &c)) != 0)
        return rc;
    now = clock_now();
    printf("%-24s %-20s %-10s %-10s %s\n", "NAME", "TEAM", "CREATED", "EXPIRES", "STATUS");
    if ((rc = worker_list(c.ws, print_row, &now, err)) != 0)
        fprintf(stderr, "katto worker list: %s\n", err);
    ctx_close(&c);
    return rc == 0 ? 0 : EXIT_FAILURE;
}

int cli_worker(const struct config *cfg, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const struct config *cfg, int argc, char **argv);
    } subs[] = {{"add", cmd_add}, {"renew", cmd_renew}, {"remove", cmd_remove}, {"list", cmd_list}};

    for (size_t i = 0; argc > 0 && i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(argv[0], subs[i].name) == 0)
            return subs[i].run(cfg, argc - 1, argv + 1);
    }
    fprintf(stderr, "%s", usage_text);
    return EXIT_USAGE;
}
