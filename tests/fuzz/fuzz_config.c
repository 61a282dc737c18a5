/*
 * fuzz_config: the JSON configuration file (config.h) with the environment
 * left empty, so only the file counts; when it loads, the callback teams it
 * holds (team.h, JSON inside the configuration) and the listen address are
 * read as the server would, and the effective configuration is printed.
 * config_load takes a path, so each run writes its input to the tmpfs
 * scratch directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "fuzz.h"
#include "team.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_helsinki_time();
    if ((devnull = fopen("/dev/null", "w")) == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("katto.json", data, size);
    char *const envp[] = {NULL};
    struct config cfg;
    char err[ERR_LEN] = "";

    config_init(&cfg);
    if (config_load(&cfg, path, envp, err) == 0) {
        char host[256];
        int port;

        (void)config_listen_split(cfg.listen, host, sizeof(host), &port, err);
        if (cfg.callbacks.teams != NULL && cfg.callbacks.teams[0] != '\0') {
            struct team_list teams = {0};

            /* config_load has already checked the teams, so they must parse here too. */
            FUZZ_CHECK(team_list_parse(cfg.callbacks.teams, &teams, err) == 0);
            team_list_release(&teams);
        }
        config_print(&cfg, devnull);
    } else {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    }
    config_release(&cfg);
    return 0;
}
