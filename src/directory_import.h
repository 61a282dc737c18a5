/*
 * directory_import.h: loading the directory's reference data (migration 0006)
 * from files: Finnish postal codes, Katto's own service CSV
 * (db/data/services_fi.csv) and Open Referral HSDS CSV packages, the format
 * in which cities publish service data.
 *
 * Every import validates the whole input first and reports every problem at
 * once into a struct diag, as "path:LINE: problem" (the diag entry's file is
 * "path:LINE", its path ""). If anything is wrong nothing is written;
 * otherwise one BEGIN IMMEDIATE transaction replaces the table as a whole and
 * adds a directory_imports row, which the server watches to reload its copy.
 *
 * Values have spaces and tabs around them removed; an empty value is stored
 * as NULL. Rows of a category that hides its address (violence_shelter), and
 * rows with address_hidden = 1, are stored without street address, postal
 * code or point, and with address_hidden = 1, whatever the input says.
 */
#ifndef KATTO_DIRECTORY_IMPORT_H
#define KATTO_DIRECTORY_IMPORT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "diag.h"

/* Returned by the imports: the input has problems (all in d), nothing was written. */
#define DIRECTORY_IMPORT_INVALID (-1)
/* Returned by the imports: the database failed (the message is in d), nothing was written. */
#define DIRECTORY_IMPORT_FAILED (-2)

/*
 * Replaces the postal_codes table of db (borrowed) with the CSV file at
 * csv_path. The header names the columns, in any order, extra columns
 * allowed: postal_code, name_fi, name_sv and municipality are required, lat
 * and lon optional. Each row needs a unique five-digit code and a
 * municipality of at most 47 bytes; lat and lon are both empty or both a
 * point in Finland (lat 59..71, lon 19..32). now (unix seconds) stamps the
 * directory_imports row. Returns the number of rows imported, or
 * DIRECTORY_IMPORT_INVALID / DIRECTORY_IMPORT_FAILED with the problems in d
 * (borrowed; warnings may be added on success too).
 */
int directory_import_postal_codes(sqlite3 *db, const char *csv_path, long long now, struct diag *d);

/*
 * Replaces the services table of db with Katto's service CSV at csv_path:
 * the columns of db/data/services_fi.csv (id, name_fi, name_sv, name_en,
 * organization, city, category, street_address, postal_code, phone,
 * phone_e164, opening_hours, source_url, source_date, notes, hours,
 * address_hidden) plus optional lat, lon and checked. id, city, category and
 * source_url are required columns. opening_hours is stored as hours_text.
 * checked_on is the date the information is known to have held: `checked`
 * (when someone last checked it against the source), else `source_date` (the
 * date the source page itself shows). Cities must be a municipality of the
 * postal_codes table or "national", and postal codes must be in it, unless
 * that table is empty (then a warning says they were not checked). Returns
 * the number of rows imported, or an error code as above.
 */
int directory_import_services(sqlite3 *db, const char *csv_path, long long now, struct diag *d);

/*
 * Replaces the services table with the Open Referral HSDS CSV files in dir:
 * 3.0 names (services, organizations, locations, service_at_locations,
 * addresses, phones, schedules, taxonomy_terms, attributes) and the 2.0 ones
 * (physical_addresses, regular_schedules, service_taxonomy, taxonomy). One
 * Katto row per service and location; see directory_hsds.c for the
 * mapping. Problems are reported against the HSDS file and line. Returns the
 * number of rows imported, or an error code as above.
 */
int directory_import_hsds(sqlite3 *db, const char *dir, long long now, struct diag *d);

/*
 * Fills empty tables from the shipped files at server start: postal_csv
 * when postal_codes is empty, then services_csv when services is empty
 * (either path may be NULL: skipped). Returns 0, or -1 with err (ERR_LEN, may
 * be NULL) set to the first problem.
 */
int directory_import_seed(sqlite3 *db, const char *postal_csv, const char *services_csv,
                          long long now, char *err);

/*
 * True if s (borrowed) is a date as the checked columns hold it: YYYY,
 * YYYY-MM or YYYY-MM-DD, a real calendar date. *start (may be NULL) receives
 * the unix time of 00:00 UTC on its first day.
 */
bool directory_import_date(const char *s, long long *start);

#endif
