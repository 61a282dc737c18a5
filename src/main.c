/*
 * main.c: the katto command line. Each command is a function taking the
 * effective configuration and its own arguments; `--config FILE` may appear
 * anywhere on the line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cli_backup.h"
#include "cli_directory.h"
#include "cli_flows.h"
#include "cli_report.h"
#include "cli_worker.h"
#include "config.h"
#include "err.h"
#include "exitcode.h"
#include "log.h"

extern char **environ;

struct command {
    const char *name;
    const char *summary;
    int (*run)(const struct config *cfg, int argc, char **argv);
};

/* ---- Root: `katto serve` refuses it unless --allow-root or KATTO_ALLOW_ROOT=1 ---- */
static bool allow_root_env; /* KATTO_ALLOW_ROOT=1, taken out of the environment in main() */

static int cmd_serve(const struct config *cfg, int argc, char **argv)
{
    bool allow_root = allow_root_env;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--allow-root") != 0) {
            fprintf(stderr, "katto serve: unexpected argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
        allow_root = true;
    }
    if (geteuid() == 0 && !allow_root) {
        fprintf(stderr, "katto serve: refusing to run as root: run it as its own unprivileged "
                        "user (deploy/katto.service uses 'katto'); in a throwaway container "
                        "pass --allow-root or set KATTO_ALLOW_ROOT=1\n");
        return EXIT_NOPERM;
    }
    if (geteuid() == 0)
        log_warn("server.as_root", "note=\"allowed by --allow-root or KATTO_ALLOW_ROOT=1\"");
    return app_serve(cfg);
}
/* ---- end of the root check ---- */

static int cmd_config(const struct config *cfg, int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        fprintf(stderr, "katto config: unexpected argument '%s'\n", argv[0]);
        return EXIT_USAGE;
    }
    config_print(cfg, stdout);
    return 0;
}

static int cmd_version(const struct config *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    printf("katto %s\n", KATTO_VERSION);
    return 0;
}

static int cmd_help(const struct config *cfg, int argc, char **argv);

static const struct command commands[] = {
    {"serve", "run the helpline server (refuses root unless --allow-root)", cmd_serve},
    {"config", "print the effective configuration, secrets masked", cmd_config},
    {"check", "check flow files: katto check [--strict] [FILES|DIR]", cli_check},
    {"chat", "try the flows in a terminal: [--flow F] [--lang L] [--channel sms|ussd]", cli_chat},
    {"graph", "print a flow as Graphviz DOT: katto graph FLOW | dot -Tsvg", cli_graph},
    {"import", "replace the directory: postal-codes FILE | services FILE | services --hsds DIR",
     cli_import},
    {"services", "the service directory: near PLACE | stale [--days N] | list [--city C]",
     cli_services},
    {"worker", "outreach workers: add NAME --team T | renew NAME | remove NAME | list", cli_worker},
    {"backup", "copy the database while the server runs: backup [--force] FILE", cli_backup},
    {"report", "anonymous statistics: [--from D] [--to D] [--by city,week,...] [--format F]",
     cli_report},
    {"version", "print the version", cmd_version},
    {"help", "show this help", cmd_help},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: katto [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nEvery setting can also come from the environment, e.g. KATTO_LISTEN;\n"
                 "see README.md for the full reference and exit codes.\n");
}

static int cmd_help(const struct config *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    char *rest[64];
    int nrest = 0, rc;
    struct config cfg;
    char err[ERR_LEN];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "katto: --config needs a file name\n");
                return EXIT_USAGE;
            }
            config_path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config_path = argv[i] + 9;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (nrest < (int)(sizeof(rest) / sizeof(rest[0]))) {
            rest[nrest++] = argv[i];
        } else {
            fprintf(stderr, "katto: too many arguments\n");
            return EXIT_USAGE;
        }
    }
    if (nrest == 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* A switch of `katto serve`, not a setting: out of the way of the KATTO_ settings check. */
    const char *allow_root = getenv("KATTO_ALLOW_ROOT");
    allow_root_env = allow_root != NULL && strcmp(allow_root, "1") == 0;
    unsetenv("KATTO_ALLOW_ROOT");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(rest[0], commands[i].name) != 0)
            continue;
        config_init(&cfg);
        if (config_load(&cfg, config_path, environ, err) != 0) {
            fprintf(stderr, "katto: configuration: %s\n", err);
            config_release(&cfg);
            return EXIT_CONFIG;
        }
        log_set_level(cfg.log_level);
        /* Opening hours, the contact log and `--at` times are Finnish local time. */
        setenv("TZ", "Europe/Helsinki", 1);
        tzset();
        rc = commands[i].run(&cfg, nrest - 1, rest + 1);
        config_release(&cfg);
        return rc;
    }
    fprintf(stderr, "katto: unknown command '%s'\n\n", rest[0]);
    usage(stderr);
    return EXIT_USAGE;
}
