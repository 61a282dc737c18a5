/*
 * place.h: where a person is, from what they type: a postal code ("00530",
 * "00 530"), a municipality in Finnish ("Jyväskylä", "JYVASKYLA"), the Swedish
 * name of a programme city ("Helsingfors") or an unambiguous area ("Kallio",
 * "Berghäll"). The table is loaded once at start from the postal code CSV and
 * is read-only afterwards, so lookups need no locking. Names are matched in
 * their utf8_fold() form, as a basic phone without ä or ö would type them.
 */
#ifndef KATTO_PLACE_H
#define KATTO_PLACE_H

#include <stdbool.h>
#include <stddef.h>

#define PLACE_CITY_LEN 48 /* bytes of struct place.city, NUL included */

struct place {
    char postal_code[6];       /* "" when the person gave a city or area name */
    char city[PLACE_CITY_LEN]; /* municipality, Finnish name, e.g. "Helsinki" */
};

struct place_table;

/*
 * Loads postal codes from the CSV file at path (borrowed). The header row names
 * the columns, in any order and with extra columns allowed; postal_code,
 * name_fi, name_sv and municipality are required (lat and lon are not used
 * here). Every row must have a postal code of exactly five digits, appear once,
 * and name a municipality of at most PLACE_CITY_LEN - 1 bytes. Returns the
 * table, returned owned (free with place_table_free), or NULL with err
 * (ERR_LEN, may be NULL) set to "path:line: problem" ("path: problem" when the
 * file cannot be read).
 */
struct place_table *place_table_load_csv(const char *path, char *err);

/* Frees t; NULL is a no-op. */
void place_table_free(struct place_table *t);

/* Number of postal codes in t (borrowed). */
size_t place_table_count(const struct place_table *t);

/*
 * Looks up what a person typed, input (borrowed, UTF-8). Returns 0 and fills
 * *out if input is:
 * - a postal code in the table: five digits, spaces between them tolerated
 *   ("00 530"), but nothing else around them ("postinumero 00530" is not one);
 * - the Finnish name of any municipality in the table;
 * - the Swedish name of a programme city: Helsingfors, Esbo, Vanda,
 *   Tammerfors, Uleåborg, Björneborg (their English names are the Finnish ones;
 *   Jyväskylä is the same in all);
 * - an area name from the name_fi or name_sv column ("Kallio", "Berghäll"), or
 *   one part of a combined name ("Punavuori" from "Punavuori - Bulevardi"),
 *   when it belongs to exactly one municipality.
 * Names are compared folded (case, accents and spacing ignored); municipality
 * names win over area names. For names, out->postal_code is "". Returns -1 if
 * nothing matches, the area is ambiguous or input is not valid UTF-8.
 */
int place_lookup(const struct place_table *t, const char *input, struct place *out);

/*
 * True if s (borrowed; NULL gives false), after trimming ASCII whitespace, is
 * exactly five ASCII digits with optional spaces between them. Writes the five
 * digits and a NUL to code (only when true).
 */
bool place_parse_postal_code(const char *s, char code[6]);

#endif
