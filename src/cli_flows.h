/*
 * cli_flows.h: the administrators' flow tools, as katto subcommands:
 *   katto check [--strict] [FILES|DIR]   validate flows, one line per problem
 *   katto chat [--flow F] [--lang L] [--channel sms|ussd] [--at TIME]   try flows in a terminal
 *   katto graph FLOW                     Graphviz DOT of a flow
 * Each returns a process exit status (0, 1, 64 usage, 65 invalid flows).
 */
#ifndef KATTO_CLI_FLOWS_H
#define KATTO_CLI_FLOWS_H

#include "config.h"
#include "directory.h"
#include "place.h"

int cli_check(const struct config *cfg, int argc, char **argv);
int cli_chat(const struct config *cfg, int argc, char **argv);
int cli_graph(const struct config *cfg, int argc, char **argv);

/* Loads the configured flows for command cmd; NULL after printing the problems. */
struct flow_set *cli_load_flows(const struct config *cfg, const char *cmd);

/*
 * Opens the configured database (migrating it, and filling empty postal code
 * and service tables from the shipped files as the server does), loads both
 * into memory and closes it. 0, or -1 with err.
 */
int cli_load_directory(const struct config *cfg, struct place_table **places,
                       struct directory **services, char *err);

/* Parses "YYYY-MM-DD HH:MM" (or with a T) as Europe/Helsinki local time into *t. 0, or -1. */
int cli_parse_local_time(const char *s, long long *t);

#endif
