/*
 * test_place.c: unit tests for place.c against the real postal code file
 * (db/data/postal_codes_fi.csv), because what matters is that what people
 * actually type ("00 530", "ESBO", "jyvaskyla", "Kallio", "Helsingissä",
 * "Helsnki") finds the right municipality and point in the data we ship, and
 * that everyday words do not. Broken files are written to a temp dir; the
 * database loader is tried on an in-memory SQLite database built with the
 * real migration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
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

/* True if a and b are within tol degrees. */
static bool near(double a, double b, double tol)
{
    return a - b <= tol && b - a <= tol;
}

/* Looks input up and fails the test unless it gives city (and, if name is not NULL, name). */
static struct place expect_place(const struct place_table *t, const char *why, const char *input,
                                 const char *city, const char *name)
{
    struct place p;

    memset(&p, 'x', sizeof(p));
    if (place_lookup(t, input, &p) != 0)
        fail_msg("%s: '%s' not found, expected %s", why, input, city);
    if (strcmp(p.city, city) != 0 || (name && strcmp(p.name, name) != 0))
        fail_msg("%s: '%s' gave %s '%s', expected %s '%s'", why, input, p.city, p.name, city,
                 name ? name : "(any)");
    return p;
}

static void expect_nothing(const struct place_table *t, const char *why, const char *input)
{
    struct place p;

    memset(&p, 'x', sizeof(p));
    if (place_lookup(t, input, &p) != -1)
        fail_msg("%s: '%s' found %s '%s', expected nothing", why, input, p.city, p.name);
}

static void postal_codes_carry_points_and_names(void **state)
{
    const struct place_table *t = *state;
    struct place p;

    p = expect_place(t, "area code", "00530", "Helsinki", "Kallio");
    assert_string_equal(p.postal_code, "00530");
    assert_true(p.has_point);
    assert_true(near(p.lat, 60.18, 0.01) && near(p.lon, 24.95, 0.01));
    /* A post office box code: no point in the data, and its name is the city's. */
    p = expect_place(t, "box code without a point", "00101", "Helsinki", "Helsinki");
    assert_false(p.has_point);
    /* "Aijala" (Salo) folds like "Äijälä" (Laukaa), so the name would lead nowhere. */
    p = expect_place(t, "code whose name is shared", "25550", "Salo", "Salo");
    assert_true(p.has_point);
    expect_nothing(t, "the shared name itself", "Aijala");
    p = expect_place(t, "postal code with a full stop", "33100.", "Tampere", "Tampere Keskus");
}

struct city_point_case {
    const char *city;
    double lat, lon; /* the centre as on a map */
};

/*
 * Within 0.05 degrees (about 3-5 km): tight enough that Vantaa's lowest code,
 * 01200 Hakunila, would fail where its centre 01300 Tikkurila passes.
 */
static const struct city_point_case city_point_cases[] = {
    {"Helsinki", 60.17, 24.94}, {"Espoo", 60.18, 24.81},     {"Vantaa", 60.29, 25.04},
    {"Tampere", 61.50, 23.76},  {"Oulu", 65.01, 25.47},      {"Jyväskylä", 62.24, 25.75},
    {"Pori", 61.48, 21.80},     {"Rovaniemi", 66.50, 25.73},
};

static void city_points_are_centres(void **state)
{
    const struct place_table *t = *state;
    double lat = 1, lon = 2;

    for (size_t i = 0; i < N_ROWS(city_point_cases); i++) {
        const struct city_point_case *c = &city_point_cases[i];

        if (!place_city_known(t, c->city) || !place_city_point(t, c->city, &lat, &lon))
            fail_msg("%s: no point", c->city);
        if (!near(lat, c->lat, 0.05) || !near(lon, c->lon, 0.05))
            fail_msg("%s: point %f,%f, expected about %f,%f", c->city, lat, lon, c->lat, c->lon);
    }
    lat = 1;
    lon = 2;
    assert_false(place_city_point(t, "Helsingfors", &lat, &lon)); /* Finnish names only */
    assert_false(place_city_point(t, "helsinki", &lat, &lon));    /* exact */
    assert_false(place_city_point(t, "Atlantis", &lat, &lon));
    assert_false(place_city_point(NULL, "Helsinki", &lat, &lon));
    assert_true(lat == 1 && lon == 2);
    assert_true(place_city_known(t, "Ii"));
    assert_false(place_city_known(t, "Kallio")); /* an area, not a municipality */
    assert_false(place_city_known(t, ""));
    assert_false(place_city_known(NULL, "Helsinki"));
}

/* A name's point is its municipality's centre, or the point of the area's postal code. */
static void names_carry_points(void **state)
{
    const struct place_table *t = *state;
    double lat, lon;
    struct place p;

    assert_true(place_city_point(t, "Helsinki", &lat, &lon));
    p = expect_place(t, "city", "Helsinki", "Helsinki", "Helsinki");
    assert_true(p.has_point && p.lat == lat && p.lon == lon);
    assert_string_equal(p.postal_code, "");
    p = expect_place(t, "Swedish name", "Helsingfors", "Helsinki", "Helsingfors");
    assert_true(p.has_point && p.lat == lat && p.lon == lon);
    p = expect_place(t, "inflected city", "Helsingissä", "Helsinki", "Helsinki");
    assert_true(p.has_point && p.lat == lat && p.lon == lon);
    p = expect_place(t, "area", "Kallio", "Helsinki", "Kallio");
    assert_true(p.has_point && near(p.lat, 60.1826, 1e-9) && near(p.lon, 24.9505, 1e-9));
    p = expect_place(t, "Swedish area", "berghall", "Helsinki", "Berghäll");
    assert_true(p.has_point && near(p.lat, 60.1826, 1e-9) && near(p.lon, 24.9505, 1e-9));
}

struct name_case {
    const char *input;
    const char *city;
    const char *name; /* NULL: not checked */
};

/* Every programme city in the cases people type, as written, folded and in capitals. */
static const struct name_case inflected_cases[] = {
    {"Helsingissä", "Helsinki", "Helsinki"},
    {"helsingissa", "Helsinki", "Helsinki"},
    {"HELSINGISSÄ", "Helsinki", "Helsinki"},
    {"Helsinkiin", "Helsinki", "Helsinki"},
    {"Helsingistä", "Helsinki", "Helsinki"},
    {"Helsingin", "Helsinki", "Helsinki"},
    {"Helsingille", "Helsinki", "Helsinki"},
    {"Espoossa", "Espoo", "Espoo"},
    {"Espooseen", "Espoo", "Espoo"},
    {"Espoosta", "Espoo", "Espoo"},
    {"ESPOOSSA", "Espoo", "Espoo"},
    {"Vantaalla", "Vantaa", "Vantaa"},
    {"Vantaalle", "Vantaa", "Vantaa"},
    {"Vantaalta", "Vantaa", "Vantaa"},
    {"Vantaaseen", "Vantaa", "Vantaa"},
    {"Tampereella", "Tampere", "Tampere"},
    {"Tampereelle", "Tampere", "Tampere"},
    {"Tampereelta", "Tampere", "Tampere"},
    {"Tampereen", "Tampere", "Tampere"},
    {"TAMPEREELLA", "Tampere", "Tampere"},
    {"Oulussa", "Oulu", "Oulu"},
    {"Ouluun", "Oulu", "Oulu"},
    {"Oulusta", "Oulu", "Oulu"},
    {"Jyväskylässä", "Jyväskylä", "Jyväskylä"},
    {"Jyväskylään", "Jyväskylä", "Jyväskylä"},
    {"jyvaskylassa", "Jyväskylä", "Jyväskylä"},
    {"JYVASKYLAAN", "Jyväskylä", "Jyväskylä"},
    {"Porissa", "Pori", "Pori"},
    {"Poriin", "Pori", "Pori"},
    {"Porista", "Pori", "Pori"},
    {"porissa", "Pori", "Pori"},
    /* Other municipalities, through the same rules. */
    {"Turussa", "Turku", "Turku"},
    {"Lahdessa", "Lahti", "Lahti"},
    {"Lahteen", "Lahti", "Lahti"},
    {"Rovaniemellä", "Rovaniemi", "Rovaniemi"},
    {"Seinäjoella", "Seinäjoki", "Seinäjoki"},
    {"Lappeenrannassa", "Lappeenranta", "Lappeenranta"},
    {"Joensuuhun", "Joensuu", "Joensuu"},
    {"Järvenpäähän", "Järvenpää", "Järvenpää"},
    {"Iissä", "Ii", "Ii"},
    {"Iihin", "Ii", "Ii"},
    /* Areas. */
    {"Kalliossa", "Helsinki", "Kallio"},
    {"kalliosta", "Helsinki", "Kallio"},
    {"Punavuoressa", "Helsinki", "Punavuori"},
    {"Kannelmäessä", "Helsinki", "Kannelmäki"},
};

static void lookup_understands_inflected_names(void **state)
{
    for (size_t i = 0; i < N_ROWS(inflected_cases); i++) {
        const struct name_case *c = &inflected_cases[i];

        expect_place(*state, "inflected", c->input, c->city, c->name);
    }
}

static const struct name_case phrase_cases[] = {
    {"i Helsingfors", "Helsinki", "Helsingfors"},
    {"i Esbo", "Espoo", "Esbo"},
    {"till Vanda", "Vantaa", "Vanda"},
    {"från Tammerfors", "Tampere", "Tammerfors"},
    {"i Uleåborg", "Oulu", "Uleåborg"},
    {"I BJÖRNEBORG", "Pori", "Björneborg"},
    {"jag är i Esbo", "Espoo", "Esbo"},
    {"Jag är i Berghäll", "Helsinki", "Berghäll"},
    {"olen helsingissä", "Helsinki", "Helsinki"},
    {"Olen nyt Tampereella", "Tampere", "Tampere"},
    {"olen Kalliossa", "Helsinki", "Kallio"},
    {"I am in Espoo", "Espoo", "Espoo"},
    {"I'm in Oulu", "Oulu", "Oulu"},
    {"I’m in Pori", "Pori", "Pori"},
    {"im in vantaa", "Vantaa", "Vantaa"},
    {"in Espoo", "Espoo", "Espoo"},
    {"Helsinki!", "Helsinki", "Helsinki"},
    {" kallio.", "Helsinki", "Kallio"},
    {"\"Oulu\"", "Oulu", "Oulu"},
    {"Espoo?!", "Espoo", "Espoo"},
    {"…Tampere…", "Tampere", "Tampere"},
    {"olen Helsingissä.", "Helsinki", "Helsinki"},
};

static void lookup_understands_phrases_and_punctuation(void **state)
{
    for (size_t i = 0; i < N_ROWS(phrase_cases); i++) {
        const struct name_case *c = &phrase_cases[i];

        expect_place(*state, "phrase", c->input, c->city, c->name);
    }
}

static const struct name_case typo_cases[] = {
    {"Helsnki", "Helsinki", "Helsinki"},       /* missing letter */
    {"Helsinkii", "Helsinki", "Helsinki"},     /* extra letter */
    {"Hwlsinki", "Helsinki", "Helsinki"},      /* wrong letter */
    {"Tamprere", "Tampere", "Tampere"},        /* extra letter */
    {"Tmapere", "Tampere", "Tampere"},         /* swapped letters */
    {"TAMPRE", "Tampere", "Tampere"},          /* missing letter, capitals */
    {"Vanta", "Vantaa", "Vantaa"},             /* missing letter */
    {"Jyvaskyla", "Jyväskylä", "Jyväskylä"},   /* no dots: not a typo at all */
    {"Jyväskyä", "Jyväskylä", "Jyväskylä"},    /* missing letter */
    {"Helsingfos", "Helsinki", "Helsingfors"}, /* Swedish name */
    {"i Tammerfor", "Tampere", "Tammerfors"},  /* after a phrase */
    {"Kannelmki", "Helsinki", "Kannelmäki"},   /* long area name */
};

static void lookup_forgives_one_typo_in_long_names(void **state)
{
    for (size_t i = 0; i < N_ROWS(typo_cases); i++) {
        const struct name_case *c = &typo_cases[i];

        expect_place(*state, "typo", c->input, c->city, c->name);
    }
}

struct nothing_case {
    const char *why;
    const char *input;
};

static const struct nothing_case nothing_cases[] = {
    {"short name with a typo: not guessed", "Espo"},
    {"short name with a typo: not guessed", "Ouluu"},
    {"short area name with a typo: not guessed", "Kalio"},
    {"typo in the first letter", "Jelsinki"},
    {"two edits", "Helsnkii"},
    {"typo of two municipalities (Hattula, Hartola)", "Hattola"},
    {"typo of two municipalities (Karijoki, Kalajoki)", "Karajoki"},
    {"ambiguous area", "Keskusta"},
    {"ambiguous area, inflected", "Keskustassa"},
    {"ambiguous area after a phrase", "i Centrum"},
    {"family, not Perho", "perhe"},
    {"hi, not Tervo", "terve"},
    {"chemistry, not Kemi", "kemia"},
    {"child, not Lappi", "lapsi"},
    {"hospital, not Sairiala", "sairaala"},
    {"yes, not Kolla", "kyllä"},
    {"English, not Pello or Hillo", "hello"},
    {"English, not an inflected Sökö", "soon"},
    {"how, not Kuikka", "kuinka"},
    {"a sentence", "tarvitsen apua nyt heti"},
    {"I do not know", "en tiedä"},
    {"only a phrase", "olen"},
    {"a phrase and nothing else", "jag är i"},
    {"only punctuation", "?!"},
    {"mostly digits", "00530a"},
    {"digits and a name", "12345 6 Helsinki"},
    {"digits after a phrase", "olen 00530"},
    {"a digit in a name", "Helsink1"},
    {"a long text", "Helsinki Helsinki Helsinki Helsinki Helsinki Helsinki Helsinki Helsinki"},
};

static void lookup_does_not_guess(void **state)
{
    for (size_t i = 0; i < N_ROWS(nothing_cases); i++)
        expect_nothing(*state, nothing_cases[i].why, nothing_cases[i].input);
}

/*
 * Looks up p->name, which input gave, and checks that it leads to the same
 * municipality; when input was a name, also to the same point and name. Returns
 * what p->name gave.
 */
static struct place check_round_trip(const struct place_table *t, const char *input,
                                     const struct place *p)
{
    struct place q;

    if (place_lookup(t, p->name, &q) != 0)
        fail_msg("'%s' gave name '%s', which is not found", input, p->name);
    if (strcmp(q.city, p->city) != 0)
        fail_msg("'%s' gave %s '%s', which gives %s", input, p->city, p->name, q.city);
    if (p->postal_code[0] != '\0')
        return q;
    if (q.has_point != p->has_point || (p->has_point && (q.lat != p->lat || q.lon != p->lon)))
        fail_msg("'%s' gave '%s', whose point differs", input, p->name);
    if (strcmp(q.name, p->name) != 0)
        fail_msg("'%s' gave '%s', which gives '%s'", input, p->name, q.name);
    return q;
}

/*
 * Every postal code, and the Finnish and Swedish area names behind it, gives a
 * name that leads back to the same municipality (names: also the same point).
 */
static void names_round_trip(void **state)
{
    const struct place_table *t = *state;
    static const char *const inputs[] = {"Helsingissä", "i Esbo",    "Helsnki",   "Kalliossa",
                                         "Tampereelle", "Punavuori", "JYVASKYLA", "Berghäll"};
    size_t codes = 0;

    for (size_t i = 0; i < N_ROWS(inputs); i++) {
        struct place p;

        assert_int_equal(place_lookup(t, inputs[i], &p), 0);
        (void)check_round_trip(t, inputs[i], &p);
    }
    for (int n = 0; n <= 99999; n++) {
        char code[6];
        struct place p, q;

        snprintf(code, sizeof(code), "%05d", n);
        if (place_lookup(t, code, &p) != 0)
            continue;
        codes++;
        q = check_round_trip(t, code, &p);
        (void)check_round_trip(t, p.name, &q);
    }
    assert_int_equal(codes, place_table_count(t));
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

static void builder_adds_rows_and_finishes(void **state)
{
    struct place_table *t = place_table_new();
    char err[ERR_LEN] = "";
    double lat = 0, lon = 0;
    struct place p;

    (void)state;
    assert_non_null(t);
    assert_int_equal(
        place_table_add(t, "00530", "Kallio", "Berghäll", "Helsinki", true, 60.18, 24.95, err), 0);
    /* "Keskusta": 00100 has no point, so the area's point is the lowest code that has one. */
    assert_int_equal(
        place_table_add(t, "00130", "Keskusta", "Centrum", "Helsinki", true, 60.16, 24.94, err), 0);
    assert_int_equal(
        place_table_add(t, "00100", "Keskusta", "Centrum", "Helsinki", false, 0, 0, err), 0);
    assert_int_equal(
        place_table_add(t, "00120", "Keskusta", NULL, "Helsinki", true, 60.163, 24.939, err), 0);
    assert_int_equal(place_table_add(t, "90100", "Oulu Keskus", "Uleåborg centrum", "Oulu", true,
                                     65.01, 25.47, err),
                     0);
    assert_int_equal(place_table_count(t), 5);
    assert_int_equal(place_lookup(t, "Kallio", &p), -1); /* not finished yet */
    assert_false(place_city_known(t, "Helsinki"));
    assert_int_equal(place_table_finish(t, err), 0);
    assert_int_equal(place_table_add(t, "00200", "X", "X", "Helsinki", false, 0, 0, err), -1);
    assert_string_equal(err, "table is already finished");
    assert_int_equal(place_table_finish(t, err), -1);

    assert_int_equal(place_lookup(t, "keskustassa", &p), 0);
    assert_string_equal(p.city, "Helsinki");
    assert_string_equal(p.name, "Keskusta");
    assert_true(p.has_point && p.lat == 60.163 && p.lon == 24.939);
    assert_int_equal(place_lookup(t, "00100", &p), 0);
    assert_false(p.has_point);
    assert_string_equal(p.name, "Keskusta");
    /* The Programme centre 00100 has no point here, so Helsinki takes its lowest code with one. */
    assert_true(place_city_point(t, "Helsinki", &lat, &lon));
    assert_true(lat == 60.163 && lon == 24.939);
    assert_true(place_city_point(t, "Oulu", &lat, &lon));
    assert_true(lat == 65.01 && lon == 25.47);
    assert_int_equal(place_lookup(t, "i Uleåborg", &p), 0);
    assert_string_equal(p.city, "Oulu");
    assert_true(p.has_point && p.lat == 65.01);
    /* Only the programme cities present get their Swedish names. */
    assert_int_equal(place_lookup(t, "Esbo", &p), -1);
    place_table_free(t);
}

static void builder_finds_duplicates(void **state)
{
    struct place_table *t = place_table_new();
    char err[ERR_LEN] = "";

    (void)state;
    assert_int_equal(place_table_add(t, "00530", "Kallio", "", "Helsinki", false, 0, 0, err), 0);
    assert_int_equal(place_table_add(t, "00100", "Keskusta", "", "Helsinki", false, 0, 0, err), 0);
    assert_int_equal(place_table_add(t, "00530", "Kallio", "", "Helsinki", false, 0, 0, err), 0);
    assert_int_equal(place_table_finish(t, err), -1);
    assert_string_equal(err, "duplicate postal code 00530");
    place_table_free(t);
    assert_int_equal(place_table_finish(NULL, err), -1);
    assert_int_equal(place_table_add(NULL, "00530", "", "", "Helsinki", false, 0, 0, err), -1);
}

struct bad_row_case {
    const char *why;
    const char *code, *name_fi, *municipality;
    bool has_point;
    double lat, lon;
    const char *err;
};

static const struct bad_row_case bad_row_cases[] = {
    {"four digits", "0053", "Kallio", "Helsinki", false, 0, 0,
     "bad postal code '0053': expected five digits"},
    {"letters", "0053O", "Kallio", "Helsinki", false, 0, 0,
     "bad postal code '0053O': expected five digits"},
    {"no municipality", "00530", "Kallio", "", false, 0, 0,
     "postal code 00530 has no municipality"},
    {"municipality too long", "00530", "Kallio",
     "Helsinki Helsinki Helsinki Helsinki Helsinki Helsinki", false, 0, 0,
     "postal code 00530: municipality name longer than 47 bytes"},
    {"invalid UTF-8 in a name", "00530", "Kall\xffio", "Helsinki", false, 0, 0,
     "postal code 00530: name_fi is not valid UTF-8"},
    {"name too long", "00530",
     "Kallio Kallio Kallio Kallio Kallio Kallio Kallio Kallio Kallio Kallio", "Helsinki", false, 0,
     0, "postal code 00530: name_fi longer than 63 bytes"},
    {"latitude south of Finland", "00530", "Kallio", "Helsinki", true, 58.9, 24.95,
     "postal code 00530: point 58.9,24.95 is outside Finland"},
    {"lat and lon swapped", "00530", "Kallio", "Helsinki", true, 24.95, 60.18,
     "postal code 00530: point 24.95,60.18 is outside Finland"},
    {"longitude east of Finland", "00530", "Kallio", "Helsinki", true, 60.18, 32.5,
     "postal code 00530: point 60.18,32.5 is outside Finland"},
    {"latitude not a number", "00530", "Kallio", "Helsinki", true, NAN, 24.95,
     "postal code 00530: point nan,24.95 is outside Finland"},
};

static void builder_rejects_bad_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(bad_row_cases); i++) {
        const struct bad_row_case *c = &bad_row_cases[i];
        struct place_table *t = place_table_new();
        char err[ERR_LEN] = "";

        if (place_table_add(t, c->code, c->name_fi, "", c->municipality, c->has_point, c->lat,
                            c->lon, err) != -1)
            fail_msg("%s: accepted", c->why);
        if (strcmp(err, c->err) != 0)
            fail_msg("%s: error '%s', expected '%s'", c->why, err, c->err);
        assert_int_equal(place_table_count(t), 0);
        /* A refused row leaves nothing behind: the table still finishes, empty. */
        assert_int_equal(place_table_finish(t, err), 0);
        assert_false(place_city_known(t, c->municipality));
        place_table_free(t);
    }
}

/* An in-memory database with the real migration that creates postal_codes, and rows. */
static sqlite3 *open_db(const char *rows_sql)
{
    char path[1024], *schema;
    sqlite3 *db = NULL;
    char *msg = NULL;

    snprintf(path, sizeof(path), "%s/db/migrations/0006_directory.sql", testlib_src_dir());
    schema = testlib_read_file(path, NULL);
    assert_non_null(schema);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, rows_sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("setting up the database: %s", msg);
    free(schema);
    return db;
}

static void load_db_reads_rows_and_points(void **state)
{
    sqlite3 *db =
        open_db("INSERT INTO postal_codes VALUES"
                " ('00530', 'Kallio', 'Berghäll', 'Helsinki', 60.1826, 24.9505),"
                " ('00100', 'Helsinki keskusta - Etu-Töölö', 'Helsingfors centrum - Främre Tölö',"
                "  'Helsinki', 60.1714, 24.9316),"
                " ('00101', 'Helsinki', 'Helsingfors', 'Helsinki', NULL, NULL),"
                " ('33100', 'Tampere Keskus', 'Tammerfors centrum', 'Tampere', 61.4942, 23.7817);");
    char err[ERR_LEN] = "";
    struct place_table *t = place_table_load_db(db, err);
    double lat, lon;
    struct place p;

    (void)state;
    if (!t)
        fail_msg("load failed: %s", err);
    assert_int_equal(place_table_count(t), 4);
    assert_int_equal(place_lookup(t, "00530", &p), 0);
    assert_true(p.has_point && p.lat == 60.1826 && p.lon == 24.9505);
    assert_string_equal(p.name, "Kallio");
    assert_int_equal(place_lookup(t, "00101", &p), 0);
    assert_false(p.has_point);
    assert_int_equal(place_lookup(t, "i Tammerfors", &p), 0);
    assert_string_equal(p.city, "Tampere");
    assert_int_equal(place_lookup(t, "Etu-Töölössä", &p), 0);
    assert_string_equal(p.name, "Etu-Töölö");
    assert_true(place_city_point(t, "Helsinki", &lat, &lon));
    assert_true(lat == 60.1714 && lon == 24.9316); /* 00100, the centre */
    assert_true(place_city_known(t, "Tampere"));
    place_table_free(t);
    sqlite3_close(db);
}

struct bad_db_case {
    const char *why;
    const char *sql; /* run after the migration */
    const char *err;
};

static const struct bad_db_case bad_db_cases[] = {
    {"empty table", "", "no postal codes"},
    {"no table", "DROP TABLE postal_codes;", "postal_codes: no such table: postal_codes"},
    {"point outside Finland",
     "INSERT INTO postal_codes VALUES ('00530', 'Kallio', 'Berghäll', 'Helsinki', 24.95, 60.18);",
     "postal_codes: postal code 00530: point 24.95,60.18 is outside Finland"},
    {"lat without lon",
     "INSERT INTO postal_codes VALUES ('00530', 'Kallio', 'Berghäll', 'Helsinki', 60.18, NULL);",
     "postal_codes: postal code 00530: lat and lon must both be given or both be NULL"},
    {"bad postal code",
     "INSERT INTO postal_codes VALUES ('530', 'Kallio', 'Berghäll', 'Helsinki', NULL, NULL);",
     "postal_codes: bad postal code '530': expected five digits"},
};

static void load_db_reports_bad_tables(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(bad_db_cases); i++) {
        const struct bad_db_case *c = &bad_db_cases[i];
        sqlite3 *db = open_db(c->sql);
        char err[ERR_LEN] = "";
        struct place_table *t = place_table_load_db(db, err);

        if (t) {
            place_table_free(t);
            fail_msg("%s: loaded", c->why);
        }
        if (strcmp(err, c->err) != 0)
            fail_msg("%s: error '%s', expected '%s'", c->why, err, c->err);
        sqlite3_close(db);
    }
}

/* The same file as the real one, but written by us: lat and lon are optional columns. */
static void load_csv_reads_points(void **state)
{
    char *dir = testlib_tmpdir();
    char path[1024], err[ERR_LEN] = "";
    struct place_table *t;
    struct place p;

    (void)state;
    snprintf(path, sizeof(path), "%s/points.csv", dir);
    testlib_write_file(path, "lon,postal_code,name_fi,name_sv,municipality,lat\n"
                             "24.9505,00530,Kallio,Berghäll,Helsinki,60.1826\n"
                             ",00101,Helsinki,Helsingfors,Helsinki,\n");
    t = place_table_load_csv(path, err);
    if (t == NULL)
        fail_msg("load failed: %s", err);
    assert_int_equal(place_lookup(t, "00530", &p), 0);
    assert_true(p.has_point && p.lat == 60.1826 && p.lon == 24.9505);
    assert_int_equal(place_lookup(t, "00101", &p), 0);
    assert_false(p.has_point);
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
    {"latitude not a number", HEADER "00100,Keskusta,Centrum,Helsinki,north,24.93\n",
     "2: bad lat 'north': expected a number"},
    {"longitude with trailing text", HEADER "00100,Keskusta,Centrum,Helsinki,60.17,24.93E\n",
     "2: bad lon '24.93E': expected a number"},
    {"latitude without longitude", HEADER "00100,Keskusta,Centrum,Helsinki,60.17,\n",
     "2: postal code 00100: lat and lon must both be given or both be empty"},
    {"lat and lon swapped", HEADER "00100,Keskusta,Centrum,Helsinki,24.93,60.17\n",
     "2: postal code 00100: point 24.93,60.17 is outside Finland"},
    {"lat column without lon", "postal_code,name_fi,name_sv,municipality,lat\n",
     "1: missing column 'lon'"},
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
        cmocka_unit_test(postal_codes_carry_points_and_names),
        cmocka_unit_test(city_points_are_centres),
        cmocka_unit_test(names_carry_points),
        cmocka_unit_test(lookup_understands_inflected_names),
        cmocka_unit_test(lookup_understands_phrases_and_punctuation),
        cmocka_unit_test(lookup_forgives_one_typo_in_long_names),
        cmocka_unit_test(lookup_does_not_guess),
        cmocka_unit_test(names_round_trip),
    };
    const struct CMUnitTest files[] = {
        cmocka_unit_test(parse_postal_code_accepts_only_the_code),
        cmocka_unit_test(ambiguous_area_is_not_found),
        cmocka_unit_test(builder_adds_rows_and_finishes),
        cmocka_unit_test(builder_finds_duplicates),
        cmocka_unit_test(builder_rejects_bad_rows),
        cmocka_unit_test(load_db_reads_rows_and_points),
        cmocka_unit_test(load_db_reports_bad_tables),
        cmocka_unit_test(load_csv_reads_points),
        cmocka_unit_test(load_reports_bad_files_with_line),
    };
    int failed =
        cmocka_run_group_tests_name("real postal codes", real, load_real_table, free_table);

    return failed + cmocka_run_group_tests_name("small files", files, NULL, NULL);
}
