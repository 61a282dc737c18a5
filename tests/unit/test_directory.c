/*
 * test_directory.c: the service directory and the text of a `nearest` node,
 * against the data Katto ships (db/data/), because what matters is that a
 * person in each of the seven cities is sent to the right door: distance
 * ranking, same-city services first, open ones first, hidden shelters that
 * never give a distance, stale rows, and replies within their SMS budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "diag.h"
#include "directory.h"
#include "directory_import.h"
#include "err.h"
#include "flow_nearest.h"
#include "gsm7.h"
#include "hours.h"
#include "place.h"
#include "testlib.h"

/* Europe/Helsinki local times (EET, UTC+2). */
#define TUE_0300 1795482000LL /* 2026-11-24 03:00, a Tuesday night */
#define TUE_1200 1795514400LL /* 2026-11-24 12:00 */
#define TUE_2200 1795550400LL /* 2026-11-24 22:00 */

struct fixture {
    char *dir;
    struct place_table *places;
    struct directory *services;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[4096], csv[4096], err[ERR_LEN] = "";
    struct diag d = {0};
    long long generation;
    sqlite3 *db;

    setenv("TZ", "Europe/Helsinki", 1);
    tzset();
    f->dir = testlib_tmpdir();
    snprintf(path, sizeof(path), "%s/katto.db", f->dir);
    if ((db = db_open(path, err)) == NULL ||
        db_migrate(db, db_migrations, db_migrations_count, err) != 0) {
        print_error("db: %s\n", err);
        return -1;
    }
    snprintf(csv, sizeof(csv), "%s/db/data/postal_codes_fi.csv", testlib_src_dir());
    if (directory_import_postal_codes(db, csv, TUE_1200, &d) < 0)
        goto fail;
    snprintf(csv, sizeof(csv), "%s/db/data/services_fi.csv", testlib_src_dir());
    if (directory_import_services(db, csv, TUE_1200, &d) < 0)
        goto fail;
    if (directory_load_all(db, &f->places, &f->services, &generation, err) != 0) {
        print_error("load: %s\n", err);
        db_close(db);
        return -1;
    }
    db_close(db);
    diag_release(&d);
    *state = f;
    return 0;
fail:
    diag_print(&d, stderr);
    diag_release(&d);
    db_close(db);
    return -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    place_table_free(f->places);
    directory_free(f->services);
    testlib_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* The first hit for a place typed by a person, in categories (NULL-terminated). */
static size_t nearest(const struct fixture *f, const char *typed, const char *const *categories,
                      enum directory_open open, long long now, struct directory_hit *hits,
                      size_t max)
{
    struct directory_query q = {.categories = categories, .now = now, .open = open};
    struct place p;

    assert_int_equal(place_lookup(f->places, typed, &p), 0);
    q.has_point = p.has_point;
    q.lat = p.lat;
    q.lon = p.lon;
    q.city = p.city;
    while (categories[q.ncategories] != NULL)
        q.ncategories++;
    return directory_nearest(f->services, f->places, &q, hits, max);
}

static void test_distance(void **state)
{
    (void)state;
    /* Helsinki railway station to Tampere railway station: about 161 km. */
    double km = directory_distance_km(60.1710, 24.9414, 61.4981, 23.7737);

    assert_true(km > 155 && km < 167);
    assert_true(directory_distance_km(60.17, 24.94, 60.17, 24.94) < 1e-9);
}

static void test_categories(void **state)
{
    (void)state;
    assert_true(directory_category_known("emergency_accommodation"));
    assert_true(directory_category_known("peer_support"));
    assert_false(directory_category_known("shelter"));
    assert_true(directory_category_hides_address("violence_shelter"));
    assert_false(directory_category_hides_address("night_shelter"));
}

/* Every city's own social emergency number comes first, even where a neighbour's is nearer. */
static void test_social_emergency_each_city(void **state)
{
    static const struct {
        const char *typed, *id;
    } cases[] = {
        {"00530", "hel-sospaiv"},
        {"02100", "esp-sos-kriisipaiv"},
        {"01300", "van-sos-kriisikeskus"},
        {"33100", "tre-sos-kriisipaiv"},
        {"90100", "oulu-sospaiv"},
        {"40100", "jkl-sos-kriisipaiv"},
        {"28100", "pori-sos-kriisipaiv"},
        {"Esbo", "esp-sos-kriisipaiv"},
        {"Vantaalla", "van-sos-kriisikeskus"},
    };
    static const char *const social[] = {"social_emergency", NULL};
    struct directory_hit hits[3];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = nearest(*state, cases[i].typed, social, DIRECTORY_OPEN_ANY, TUE_1200, hits, 3);

        assert_true(n >= 1);
        if (strcmp(hits[0].s->id, cases[i].id) != 0)
            fail_msg("%s: got %s, want %s", cases[i].typed, hits[0].s->id, cases[i].id);
    }
}

static void test_ranking_by_distance(void **state)
{
    static const char *const beds[] = {"emergency_accommodation", "night_shelter", NULL};
    struct directory_hit hits[5];
    size_t n = nearest(*state, "00530", beds, DIRECTORY_OPEN_ANY, TUE_1200, hits, 5);

    assert_int_equal(n, 5);
    /* Alppikulma is in 00530 itself. */
    assert_string_equal(hits[0].s->id, "hel-hdl-alppikulma");
    assert_true(hits[0].distance_known);
    assert_true(hits[0].km < 0.01);
    for (size_t i = 1; i < n; i++) {
        if (hits[i].distance_known && hits[i - 1].distance_known)
            assert_true(hits[i].km >= hits[i - 1].km);
    }
    /* Oulu's bed is found from Oulu, with no distance because it has no postal code. */
    n = nearest(*state, "Oulussa", beds, DIRECTORY_OPEN_ANY, TUE_1200, hits, 5);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].s->id, "oulu-kenttatie");
    assert_false(hits[0].distance_known);
    /* Pori has no bed; Tampere (110 km) is not "near". */
    n = nearest(*state, "28100", beds, DIRECTORY_OPEN_ANY, TUE_1200, hits, 5);
    assert_int_equal(n, 0);
    /* Espoo has none of its own; Helsinki's are within reach. */
    n = nearest(*state, "02100", beds, DIRECTORY_OPEN_ANY, TUE_1200, hits, 5);
    assert_true(n >= 1);
    assert_string_equal(hits[0].s->city, "Helsinki");
}

static void test_open_first(void **state)
{
    static const char *const beds[] = {"emergency_accommodation", "night_shelter", NULL};
    static const char *const day[] = {"day_centre", NULL};
    struct directory_hit hits[5];
    size_t n;

    /* At noon the night places are shut: the 24/7 service centre comes first. */
    n = nearest(*state, "00530", beds, DIRECTORY_OPEN_PREFER, TUE_1200, hits, 5);
    assert_true(n >= 2);
    assert_string_equal(hits[0].s->id, "hel-hietaniemenkatu");
    assert_true(hits[0].open && hits[0].hours_known);
    assert_int_equal(hits[0].until, 0); /* 24/7 */
    /* At 22:00 the nearest, Alppikulma (17-09), is open until 09:00. */
    n = nearest(*state, "00530", beds, DIRECTORY_OPEN_PREFER, TUE_2200, hits, 5);
    assert_string_equal(hits[0].s->id, "hel-hdl-alppikulma");
    assert_true(hits[0].open);
    char hhmm[6];
    hours_local_hhmm(hits[0].until, hhmm);
    assert_string_equal(hhmm, "09:00");
    /* At 03:00 no day centre is open: "only" gives nothing, "prefer" still gives one. */
    assert_int_equal(nearest(*state, "00530", day, DIRECTORY_OPEN_ONLY, TUE_0300, hits, 5), 0);
    n = nearest(*state, "00530", day, DIRECTORY_OPEN_PREFER, TUE_0300, hits, 5);
    assert_true(n >= 1);
    assert_false(hits[0].hours_known && hits[0].open);
}

static void test_hidden_shelters(void **state)
{
    struct fixture *f = *state;
    static const char *const shelters[] = {"violence_shelter", NULL};
    struct directory_hit hits[5];
    size_t n = nearest(f, "00100", shelters, DIRECTORY_OPEN_ANY, TUE_1200, hits, 5);

    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++) {
        assert_true(hits[i].s->address_hidden);
        assert_null(hits[i].s->street_address);
        assert_null(hits[i].s->postal_code);
        assert_false(hits[i].s->has_point);
        assert_false(hits[i].distance_known);
    }
}

static void test_stale_rows(void **state)
{
    struct fixture *f = *state;
    static const char *const social[] = {"social_emergency", NULL};
    const struct service *van = directory_find(f->services, "van-sos-kriisikeskus");
    struct directory_hit hits[3];
    struct directory_query q = {.categories = social,
                                .ncategories = 1,
                                .now = TUE_1200,
                                .city = "Vantaa",
                                .max_age_days = 3 * 365};

    assert_non_null(van);
    /* checked_on "2017-12" counts from 2017-12-01. */
    assert_true(directory_service_age_days(van, TUE_1200) > 8 * 365);
    assert_int_equal(
        directory_service_age_days(directory_find(f->services, "hel-hietaniemenkatu"), TUE_1200),
        -1);
    assert_int_equal(directory_nearest(f->services, f->places, &q, hits, 3), 0);
    q.max_age_days = 0;
    assert_int_equal(directory_nearest(f->services, f->places, &q, hits, 3), 1);
}

static void test_names(void **state)
{
    struct fixture *f = *state;
    const struct service *s = directory_find(f->services, "hel-hietaniemenkatu");

    assert_non_null(s);
    assert_string_equal(directory_service_name(s, "fi"), s->name_fi);
    assert_non_null(directory_service_name(s, "so")); /* any language gets some name */
}

/* The node's global texts in one language. */
static void english_texts(struct flow_nearest_request *rq)
{
    rq->texts[FLOW_TEXT_SERVICE_OPEN_ALWAYS] = "Open 24/7.";
    rq->texts[FLOW_TEXT_SERVICE_OPEN_UNTIL] = "Open until {time}.";
    rq->texts[FLOW_TEXT_SERVICE_OPENS] = "Closed now, opens {time}.";
    rq->texts[FLOW_TEXT_SERVICE_CLOSED] = "Closed now.";
    rq->texts[FLOW_TEXT_SERVICE_PHONE] = "Tel. {phone}.";
    rq->texts[FLOW_TEXT_NEAREST_NONE] = "No such service was found near you.";
    rq->texts[FLOW_TEXT_NEAREST_NONE_OPEN] = "None of these is open now.";
    rq->texts[FLOW_TEXT_NEAREST_SOCIAL] = "Social emergency ({city}): {phone}. Emergencies: 112.";
    rq->texts[FLOW_TEXT_NEAREST_CALL_112] = "Call 112: the emergency centre connects you.";
}

static size_t segments(const char *text)
{
    struct gsm7_info info;
    char *norm = gsm7_normalise(text);

    assert_non_null(norm);
    assert_int_equal(gsm7_analyse(norm, strlen(norm), &info), 0);
    free(norm);
    return info.segments;
}

static void compose(const struct fixture *f, struct flow_node *node, const char *place,
                    const char *city, long long now, size_t budget, struct flow_nearest_result *res)
{
    struct flow_nearest_request rq = {
        .dir = f->services,
        .places = f->places,
        .node = node,
        .lang = "en",
        .place = place,
        .city = city,
        .now = now,
        .budget = budget,
        .heading = "Nearest place to sleep:",
    };

    english_texts(&rq);
    assert_int_equal(flow_nearest_compose(&rq, res), 0);
    assert_non_null(res->text);
}

static void test_compose_fits_budget(void **state)
{
    char beds1[] = "emergency_accommodation", beds2[] = "night_shelter";
    char *cats[] = {beds1, beds2};
    struct flow_node node = {.categories = cats, .ncategories = 2, .count = 5, .social = true};
    struct flow_nearest_result res;

    for (size_t budget = 1; budget <= 3; budget++) {
        compose(*state, &node, "00530", "Helsinki", TUE_2200, budget, &res);
        if (segments(res.text) > budget)
            fail_msg("budget %zu: %zu segments:\n%s", budget, segments(res.text), res.text);
        assert_true(res.nshown >= 1);
        assert_non_null(strstr(res.text, "Open until 09:00."));
        /* Never a cut inside a word: every shown name appears whole or ends in "...". */
        free(res.text);
    }
    compose(*state, &node, "00530", "Helsinki", TUE_2200, 3, &res);
    assert_non_null(strstr(res.text, "Alppikatu 2"));
    assert_non_null(strstr(res.text, " km"));
    assert_non_null(strstr(res.text, "Social emergency (Helsinki): +358 (0)206 96006."));
    free(res.text);
}

static void test_compose_nothing_open(void **state)
{
    char beds1[] = "emergency_accommodation", beds2[] = "night_shelter";
    char *cats[] = {beds1, beds2};
    struct flow_node node = {.categories = cats, .ncategories = 2, .count = 2};
    struct flow_nearest_result res;

    /* Pori: no bed within reach, so its social emergency number. */
    compose(*state, &node, "28100", "Pori", TUE_2200, 2, &res);
    assert_int_equal(res.nshown, 0);
    assert_non_null(strstr(res.text, "No such service was found near you."));
    assert_non_null(strstr(res.text, "Social emergency (Pori): 02 623 4380."));
    free(res.text);
    /* Outside the programme cities: 112. */
    compose(*state, &node, "96100", "Rovaniemi", TUE_2200, 2, &res);
    assert_non_null(strstr(res.text, "Call 112"));
    free(res.text);
}

static void test_compose_hidden(void **state)
{
    char shelter[] = "violence_shelter";
    char *cats[] = {shelter};
    struct flow_node node = {.categories = cats, .ncategories = 1, .count = 3};
    struct flow_nearest_result res;

    compose(*state, &node, "00100", "Helsinki", TUE_1200, 3, &res);
    assert_true(res.nshown >= 2);
    assert_null(strstr(res.text, " km"));
    assert_non_null(strstr(res.text, "Tel."));
    free(res.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_social_emergency_each_city),
        cmocka_unit_test(test_ranking_by_distance),
        cmocka_unit_test(test_open_first),
        cmocka_unit_test(test_hidden_shelters),
        cmocka_unit_test(test_stale_rows),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_compose_fits_budget),
        cmocka_unit_test(test_compose_nothing_open),
        cmocka_unit_test(test_compose_hidden),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
