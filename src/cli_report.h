/*
 * cli_report.h: katto report, the anonymous statistics for the cities:
 *   katto report [--from DATE] [--to DATE] [--by city,topic,week,channel,language]
 *                [--format table|csv|json|svg]
 * Dates are YYYY-MM-DD in Helsinki time, both inclusive (default: the 30 days
 * ending today); --by defaults to city. Every count under 5 is printed "<5"
 * and totals never give one away (report.h). Returns a process exit status
 * (0, 1 runtime failure, 64 usage).
 */
#ifndef KATTO_CLI_REPORT_H
#define KATTO_CLI_REPORT_H

#include "config.h"

int cli_report(const struct config *cfg, int argc, char **argv);

#endif
