/*
 * cli_directory.h: the service directory's administration, as katto subcommands:
 *   katto import postal-codes FILE.csv     replace the postal codes
 *   katto import services FILE.csv         replace the services (Katto's CSV)
 *   katto import services --hsds DIR       replace the services (Open Referral HSDS CSVs)
 *   katto services stale [--days N]        services not checked within N days (180)
 *   katto services list [--city C] [--category C]
 *   katto services near PLACE [--category C]... [--open-now] [--at TIME] [--lang L] [--count N]
 *                                          the ranking and the reply a client would get
 * Imports change nothing unless the whole input is valid; the running server
 * notices an import by itself. Each returns a process exit status (0, 1
 * runtime failure, 64 usage, 65 invalid data).
 */
#ifndef KATTO_CLI_DIRECTORY_H
#define KATTO_CLI_DIRECTORY_H

#include "config.h"

int cli_import(const struct config *cfg, int argc, char **argv);
int cli_services(const struct config *cfg, int argc, char **argv);

#endif
