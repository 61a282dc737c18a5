/*
 * place.h: where a person is, from what they type: a postal code ("00530",
 * "00 530"), a municipality in Finnish ("Jyväskylä", "JYVASKYLA", also
 * inflected: "Helsingissä", "Tampereelle"), the Swedish name of a programme
 * city ("i Helsingfors") or an unambiguous area ("Kallio", "Berghäll"), with
 * one typo forgiven ("Helsnki"). Each postal code carries its point, so the
 * service directory can rank by distance.
 *
 * A table is built row by row (place_table_new, place_table_add,
 * place_table_finish) or loaded whole from the CSV file or the database; once
 * finished it is read-only, so lookups need no locking. Names are matched in
 * their utf8_fold() form, as a basic phone without ä or ö would type them.
 */
#ifndef KATTO_PLACE_H
#define KATTO_PLACE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define PLACE_CITY_LEN 48 /* bytes of struct place.city, NUL included */
#define PLACE_NAME_LEN 64 /* bytes of struct place.name, NUL included */

struct place {
    char postal_code[6];       /* "" when the person gave a city or area name */
    char city[PLACE_CITY_LEN]; /* municipality, Finnish name, e.g. "Helsinki" */
    /*
     * The name that matched as the data spells it ("Kallio", "Berghäll",
     * "Helsingfors", "Helsinki" for "helsingissä" or "Helsnki"); for a postal
     * code its name_fi, or the municipality when that name_fi would not lead
     * back to it (shared by several municipalities). Looking name up again
     * gives the same city, and for a name the same point.
     */
    char name[PLACE_NAME_LEN];
    bool has_point;  /* lat and lon are valid */
    double lat, lon; /* WGS84 degrees: the postal code's, the area's or the city's point */
};

struct place_table;

/* An empty table to fill with place_table_add, returned owned; NULL when out of memory. */
struct place_table *place_table_new(void);

/*
 * Adds one postal code row to t (not yet finished); the strings are borrowed
 * and copied. code must be five ASCII digits; municipality (Finnish name)
 * non-empty and shorter than PLACE_CITY_LEN bytes; name_fi and name_sv (NULL
 * is taken as "") valid UTF-8 and shorter than PLACE_NAME_LEN bytes. With
 * has_point, lat must lie in [59, 71] and lon in [19, 32] (Finland: anything
 * else is a data error); without it lat and lon are ignored. Duplicate codes
 * are found by place_table_finish. Returns 0, or -1 with err (ERR_LEN, may be
 * NULL) set to the problem, without any line or file prefix.
 */
int place_table_add(struct place_table *t, const char *code, const char *name_fi,
                    const char *name_sv, const char *municipality, bool has_point, double lat,
                    double lon, char *err);

/*
 * Indexes the rows added to t; afterwards t is read-only (place_table_add
 * fails) and can be looked up. Returns 0, or -1 with err such as "duplicate
 * postal code 00530"; t must still be freed then.
 */
int place_table_finish(struct place_table *t, char *err);

/*
 * Loads postal codes from the CSV file at path (borrowed). The header row names
 * the columns, in any order and with extra columns allowed; postal_code,
 * name_fi, name_sv and municipality are required, lat and lon optional (both or
 * neither; an empty field means no point). Rows are checked as by
 * place_table_add, and every postal code must appear once. Returns the
 * finished table, returned owned (free with place_table_free), or NULL with
 * err (ERR_LEN, may be NULL) set to "path:line: problem" ("path: problem"
 * when the file cannot be read).
 */
struct place_table *place_table_load_csv(const char *path, char *err);

/*
 * Loads the finished table from the postal_codes table of db (borrowed;
 * migration 0006: postal_code, name_fi, name_sv, municipality, lat, lon, where
 * NULL lat and lon mean no point). Returns the table, owned, or NULL with err
 * set to "postal_codes: problem", or to "no postal codes" when the table is
 * empty.
 */
struct place_table *place_table_load_db(sqlite3 *db, char *err);

/* Frees t; NULL is a no-op. */
void place_table_free(struct place_table *t);

/* Number of postal codes in t (borrowed; NULL gives 0). */
size_t place_table_count(const struct place_table *t);

/*
 * The point of municipality city (borrowed, exact Finnish name as in struct
 * place.city) in the finished table t: for the programme cities the point of
 * their centre's postal code (00100 Helsinki, 02100 Tapiola for Espoo, 01300
 * Tikkurila for Vantaa, 33100 Tampere, 90100 Oulu, 40100 Jyväskylä, 28100
 * Pori), for other municipalities that of their lowest-numbered postal code
 * with a point, which in Finland is the centre. Returns false, leaving *lat
 * and *lon alone, if the municipality is unknown or none of its codes has a
 * point.
 */
bool place_city_point(const struct place_table *t, const char *city, double *lat, double *lon);

/*
 * The name of municipality city (Finnish, borrowed) to show in lang: the
 * Swedish name of a programme city for "sv" ("Tammerfors"), else city itself.
 */
const char *place_city_name(const char *city, const char *lang);

/* True if city (borrowed, exact Finnish name) is a municipality of the finished table t. */
bool place_city_known(const struct place_table *t, const char *city);

/*
 * Looks up what a person typed, input (borrowed, UTF-8), in the finished
 * table t. Input is folded (case, accents and spacing ignored), and
 * punctuation around it is dropped ("Helsinki!", " kallio."). Returns 0 and
 * fills *out if it is, in this order of preference:
 * 1. a postal code in the table: five digits, spaces between them tolerated
 *    ("00 530"), but no other text around them ("postinumero 00530" is not
 *    one); the point is the code's own;
 * 2. exactly a name: the Finnish name of a municipality in the table, the
 *    Swedish name of a programme city (Helsingfors, Esbo, Vanda, Tammerfors,
 *    Uleåborg, Björneborg; Jyväskylä is the same in all), or an area name from
 *    the name_fi or name_sv column ("Kallio", "Berghäll") or one part of a
 *    combined one ("Punavuori" from "Punavuori - Bulevardi"), when it belongs
 *    to exactly one municipality; municipality names win over area names;
 * 3. such a name after one leading phrase: "olen", "olen nyt", "jag är i",
 *    "jag är", "i", "till", "från", "in", "i am in", "i'm in", "im in"
 *    ("jag är i Esbo", "olen Helsingissä");
 * 4. a name in a Finnish locative, directional or genitive case: the
 *    endings -ssa -sta -lla -lta -lle -seen -na -n (folded: -ssä is -ssa) and
 *    the illatives -Vn and -hVn ("Oulussa", "Espooseen", "Poriin", "Iihin",
 *    "Kalliossa"), with consonant gradation and the e-stems of names ending
 *    in -e or -i ("Helsingissä", "Tampereella", "Lahdessa", "Rovaniemellä");
 *    only the last word of a name is inflected, and names ending in a
 *    consonant are not;
 * 5. a name with one letter wrong, missing or extra, or two neighbours
 *    swapped ("Helsnki", "Tamprere", "Tmapere"), but the first letter right:
 *    municipality and Swedish names of at least six letters, area names of
 *    at least nine (shorter ones are too close to everyday words: "perhe"
 *    is not Perho, "Espo" is not guessed); municipality and Swedish names win
 *    over areas, and two municipalities within reach give -1.
 * A step that finds a name shared by several municipalities ends the search
 * with -1 rather than guessing further. For names, out->postal_code is "".
 * Returns -1 if nothing matches, the match is ambiguous, input is mostly
 * digits without being a postal code, or it is empty or not valid UTF-8; *out
 * is then unchanged.
 */
int place_lookup(const struct place_table *t, const char *input, struct place *out);

/*
 * True if s (borrowed; NULL gives false), after trimming ASCII whitespace, is
 * exactly five ASCII digits with optional spaces between them. Writes the five
 * digits and a NUL to code (only when true).
 */
bool place_parse_postal_code(const char *s, char code[6]);

#endif
