/*
 * cli_worker.h: outreach workers' accounts, as katto subcommands:
 *   katto worker add NAME --team T   a worker of team T (an id in callbacks.teams); prints the
 *                                    sign-in token once, with its expiry date
 *   katto worker renew NAME          a fresh token (the old one and its sessions stop working)
 *   katto worker remove NAME         revokes the token and ends the worker's sessions
 *   katto worker list                name, team, created, expires, status (never tokens)
 * Each change is audited in worker_audit. Returns a process exit status (0,
 * 1 runtime failure, 64 usage).
 */
#ifndef KATTO_CLI_WORKER_H
#define KATTO_CLI_WORKER_H

#include "config.h"

int cli_worker(const struct config *cfg, int argc, char **argv);

#endif
