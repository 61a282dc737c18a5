/*
 * cli_flows.h: the administrators' flow tools, as katto subcommands:
 *   katto check [--strict] [FILES|DIR]   validate flows, one line per problem
 *   katto chat [--flow F] [--lang L] [--channel sms|ussd]   try flows in a terminal
 *   katto graph FLOW                     Graphviz DOT of a flow
 * Each returns a process exit status (0, 1, 64 usage, 65 invalid flows).
 */
#ifndef KATTO_CLI_FLOWS_H
#define KATTO_CLI_FLOWS_H

#include "config.h"

int cli_check(const struct config *cfg, int argc, char **argv);
int cli_chat(const struct config *cfg, int argc, char **argv);
int cli_graph(const struct config *cfg, int argc, char **argv);

#endif
