/*
 * fuzz_place: what a person types when asked where they are (place.h),
 * looked up in the real postal code table (db/data/postal_codes_fi.csv,
 * loaded once per process): postal codes with spaces, names in Finnish and
 * Swedish, inflected forms, leading phrases and one-typo guesses.
 * Properties (place.h): a match's name looks up again to the same city;
 * place_parse_postal_code gives five digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "place.h"
#include "utf8.h"

static struct place_table *table;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[ERR_LEN];

    (void)argc;
    (void)argv;
    table = place_table_load_csv(fuzz_source_path("db/data/postal_codes_fi.csv"), err);
    if (table == NULL) {
        fprintf(stderr, "fuzz_place: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *input = fuzz_strndup(data, size);
    struct place p, again;
    char code[6];

    if (place_parse_postal_code(input, code))
        FUZZ_CHECK(strlen(code) == 5 && strspn(code, "0123456789") == 5);
    memset(&p, 0, sizeof(p));
    if (place_lookup(table, input, &p) == 0) {
        FUZZ_CHECK(memchr(p.city, '\0', sizeof(p.city)) != NULL && p.city[0] != '\0');
        FUZZ_CHECK(utf8_valid(p.name, strlen(p.name)));
        FUZZ_CHECK(place_city_known(table, p.city));
        const char *key = p.postal_code[0] != '\0' ? p.postal_code : p.name;

        FUZZ_CHECK(place_lookup(table, key, &again) == 0);
        FUZZ_CHECK(strcmp(again.city, p.city) == 0);
        if (p.postal_code[0] == '\0')
            FUZZ_CHECK(again.has_point == p.has_point &&
                       (!p.has_point || (again.lat == p.lat && again.lon == p.lon)));
    }
    free(input);
    return 0;
}
