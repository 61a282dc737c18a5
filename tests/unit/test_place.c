/*
 * test_place.c: unit tests for place.c against the real postal code file
 * (db/data/postal_codes_fi.csv), because what matters is that what people
 * actually type ("00 530", "ESBO", "jyvaskyla", "Kallio") finds the right
 * municipality in the data we ship. Broken files are written to a temp dir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "place.h"
#include "testlib.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define HEADER "postal_code,name_fi,name_sv,municipality,lat,lon\n"

static int load_real_table(void **state)
{
    char path[1024], err[ERR_LEN] = "";

    snprintf(path, sizeof(path), "%s/db/data/postal_codes_fi.csv", testlib_src_dir());
    *state = place_table_load_csv(path, err);
    if (*state == NULL) {
        print_error("loading %s: %s\n", path, err);
        return -1;
    }
    return 0;
}

static int free_table(void **state)
{
    place_table_free(*state);
    return 0;
}

static void real_file_loads_every_row(void **state)
{
    assert_int_equal(place_table_count(*state), 3622);
}

struct lookup_case {
    const char *why;
    const char *input;
    const char *postal_code; /* NULL: not found */
    const char *city;
};

static const struct lookup_case lookup_cases[] = {
    {"postal code", "00530", "00530", "Helsinki"},
    {"postal code with a space inside", "00 530", "00530", "Helsinki"},
    {"postal code with surrounding spaces", "  33100\n", "33100", "Tampere"},
    {"postal code after a no-break space",
     "\xc2\xa0"
     "02100",
     "02100", "Espoo"},
    {"Finnish city name", "Helsinki", "", "Helsinki"},
    {"Swedish name of Helsinki", "Helsingfors", "", "Helsinki"},
    {"Swedish name of Espoo in capitals", "ESBO", "", "Espoo"},
    {"Swedish name of Vantaa", "Vanda", "", "Vantaa"},
    {"Swedish name of Tampere", "Tammerfors", "", "Tampere"},
    {"Swedish name of Oulu", "Uleåborg", "", "Oulu"},
    {"Swedish name of Oulu without the ring", "uleaborg", "", "Oulu"},
    {"Swedish name of Pori", "Björneborg", "", "Pori"},
    {"Jyväskylä typed without dots", "jyvaskyla", "", "Jyväskylä"},
    {"Jyväskylä in capitals without dots", "JYVASKYLA", "", "Jyväskylä"},
    {"Jyväskylä as written", "jyväskylä", "", "Jyväskylä"},
    {"city name with extra spaces", "  oulu  ", "", "Oulu"},
    {"municipality outside the programme cities", "Rovaniemi", "", "Rovaniemi"},
    {"area name", "Kallio", "", "Helsinki"},
    {"Swedish area name", "Berghäll", "", "Helsinki"},
    {"part of a combined area name", "Punavuori", "", "Helsinki"},
    /* 99999 looks made up but is Korvatunturi, Santa Claus's postal code. */
    {"highest postal code is real", "99999", "99999", "Rovaniemi"},
    {"postal code not in the table", "00000", NULL, NULL},
    {"another postal code not in the table", "99998", NULL, NULL},
    {"text around a postal code", "postinumero 00530", NULL, NULL},
    {"four digits", "0053", NULL, NULL},
    {"six digits", "005300", NULL, NULL},
    {"unknown word", "foo", NULL, NULL},
    {"empty input", "", NULL, NULL},
    {"only spaces", "   ", NULL, NULL},
    {"invalid UTF-8", "Hels\xffinki", NULL, NULL},
};

static void lookup_finds_codes_cities_and_areas(void **state)
{
    const struct place_table *t = *state;

    for (size_t i = 0; i < N_ROWS(lookup_cases); i++) {
        const struct lookup_case *c = &lookup_cases[i];
        struct place p;
        int rc;

        memset(&p, 'x', sizeof(p));
        rc = place_lookup(t, c->input, &p);
        if (c->postal_code == NULL) {
            if (rc != -1)
                fail_msg("%s: '%s' found %s '%s', expected nothing", c->why, c->input,
                         p.postal_code, p.city);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: '%s' not found", c->why, c->input);
        if (strcmp(p.postal_code, c->postal_code) != 0 || strcmp(p.city, c->city) != 0)
            fail_msg("%s: '%s' gave '%s' '%s', expected '%s' '%s'", c->why, c->input, p.postal_code,
                     p.city, c->postal_code, c->city);
    }
}

static void lookup_handles_null_table_and_input(void **state)
{
    struct place p;

    assert_int_equal(place_lookup(*state, NULL, &p), -1);
    assert_int_equal(place_lookup(NULL, "00530", &p), -1);
    assert_int_equal(place_table_count(NULL), 0);
    place_table_free(NULL);
}

struct parse_case {
    const char *input;
    const char *code; /* NULL: not a postal code */
};

static const struct parse_case parse_cases[] = {
    {"00530", "00530"},
    {"00 530", "00530"},
    {" 00530 ", "00530"},
    {"0 0 5 3 0", "00530"},
    {"\t00530\r\n", "00530"},
    {"0053", NULL},
    {"005301", NULL},
    {"00-530", NULL},
    {"FI-00530", NULL},
    {"postinumero 00530", NULL},
    {"", NULL},
    {"abcde", NULL},
    {"００５３０", NULL}, /* full-width digits are not ASCII digits */
};

static void parse_postal_code_accepts_only_the_code(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        char code[6] = "";
        bool ok = place_parse_postal_code(c->input, code);

        if (ok != (c->code != NULL))
            fail_msg("'%s': %s, expected %s", c->input, ok ? "accepted" : "rejected",
                     c->code ? "accepted" : "rejected");
        if (ok && strcmp(code, c->code) != 0)
            fail_msg("'%s': code '%s', expected '%s'", c->input, code, c->code);
    }
    assert_false(place_parse_postal_code(NULL, (char[6]){0}));
}

/* A small table where "Keskusta" belongs to two municipalities and "Kallio" to one. */
static void ambiguous_area_is_not_found(void **state)
{
    char *dir = testlib_tmpdir();
    char path[1024], err[ERR_LEN] = "";
    struct place_table *t;
    struct place p;

    (void)state;
    snprintf(path, sizeof(path), "%s/small.csv", dir);
    testlib_write_file(path, "municipality,extra,postal_code,name_sv,name_fi\n"
                             "Helsinki,x,00530,Berghäll,Kallio\n"
                             "Helsinki,x,00100,Centrum,Keskusta\n"
                             "Oulu,x,90100,Centrum,Keskusta\n");
    t = place_table_load_csv(path, err);
    if (t == NULL)
        fail_msg("load failed: %s", err);
    assert_int_equal(place_table_count(t), 3);
    assert_int_equal(place_lookup(t, "keskusta", &p), -1);
    assert_int_equal(place_lookup(t, "Centrum", &p), -1);
    assert_int_equal(place_lookup(t, "kallio", &p), 0);
    assert_string_equal(p.city, "Helsinki");
    assert_int_equal(place_lookup(t, "Uleåborg", &p), 0);
    assert_string_equal(p.city, "Oulu");
    /* Alias targets missing from the table are not invented. */
    assert_int_equal(place_lookup(t, "Tammerfors", &p), -1);
    place_table_free(t);
    testlib_rmrf(dir);
    free(dir);
}

struct bad_file_case {
    const char *why;
    const char *text; /* NULL: the file does not exist */
    const char *err;  /* expected after "<path>:" */
};

static const struct bad_file_case bad_file_cases[] = {
    {"unterminated quote",
     HEADER "00100,Keskusta,Centrum,Helsinki,,\n"
            "00530,\"Kallio,Berghäll,Helsinki,,\n",
     "3: unterminated quote"},
    {"postal code with four digits",
     HEADER "00100,Keskusta,Centrum,Helsinki,,\n"
            "0053,Kallio,Berghäll,Helsinki,,\n",
     "3: bad postal code '0053': expected five digits"},
    {"postal code with letters", HEADER "0010A,Keskusta,Centrum,Helsinki,,\n",
     "2: bad postal code '0010A': expected five digits"},
    {"postal code with a space", HEADER "00 100,Keskusta,Centrum,Helsinki,,\n",
     "2: bad postal code '00 100': expected five digits"},
    {"duplicate postal code",
     HEADER "00100,Keskusta,Centrum,Helsinki,,\n"
            "00530,Kallio,Berghäll,Helsinki,,\n"
            "00100,Keskusta,Centrum,Helsinki,,\n",
     "4: duplicate postal code 00100 (first on line 2)"},
    {"missing column", "postal_code,name_fi,municipality\n00100,Keskusta,Helsinki\n",
     "1: missing column 'name_sv'"},
    {"short row", HEADER "00100,Keskusta\n", "2: expected at least 4 fields, got 2"},
    {"empty municipality", HEADER "00100,Keskusta,Centrum,,,\n",
     "2: postal code 00100 has no municipality"},
    {"invalid UTF-8", HEADER "00100,Keskusta,Centrum,Hels\xffinki,,\n", "2: invalid UTF-8"},
    {"empty file", "", " empty file"},
    {"missing file", NULL, " No such file or directory"},
};

static void load_reports_bad_files_with_line(void **state)
{
    char *dir = testlib_tmpdir();

    (void)state;
    for (size_t i = 0; i < N_ROWS(bad_file_cases); i++) {
        const struct bad_file_case *c = &bad_file_cases[i];
        char path[1024], expected[ERR_LEN + 1100], err[ERR_LEN] = "";
        struct place_table *t;

        snprintf(path, sizeof(path), "%s/bad%zu.csv", dir, i);
        if (c->text)
            testlib_write_file(path, c->text);
        t = place_table_load_csv(path, err);
        if (t != NULL) {
            place_table_free(t);
            fail_msg("%s: loaded", c->why);
        }
        snprintf(expected, sizeof(expected), "%s:%s", path, c->err);
        if (strcmp(err, expected) != 0)
            fail_msg("%s: error '%s', expected '%s'", c->why, err, expected);
    }
    testlib_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest real[] = {
        cmocka_unit_test(real_file_loads_every_row),
        cmocka_unit_test(lookup_finds_codes_cities_and_areas),
        cmocka_unit_test(lookup_handles_null_table_and_input),
    };
    const struct CMUnitTest files[] = {
        cmocka_unit_test(parse_postal_code_accepts_only_the_code),
        cmocka_unit_test(ambiguous_area_is_not_found),
        cmocka_unit_test(load_reports_bad_files_with_line),
    };
    int failed =
        cmocka_run_group_tests_name("real postal codes", real, load_real_table, free_table);

    return failed + cmocka_run_group_tests_name("small files", files, NULL, NULL);
}
