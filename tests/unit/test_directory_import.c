/*
 * test_directory_import.c: the postal code, service and HSDS imports. Good
 * fixtures (tests/fixtures/directory/) must load exactly as expected; bad ones
 * must have every broken line reported and change nothing, so a failed import
 * leaves the previous directory in service. The shipped data (db/data/) must
 * load without a single problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "diag.h"
#include "directory_import.h"
#include "err.h"
#include "testlib.h"

#define NOW 1795000000LL /* 2026-11-18 11:06 UTC */

struct fixture {
    char *dir;
    sqlite3 *db;
    struct diag d;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[4096], err[ERR_LEN];

    f->dir = testlib_tmpdir();
    snprintf(path, sizeof(path), "%s/katto.db", f->dir);
    assert_non_null(f->db = db_open(path, err));
    assert_int_equal(db_migrate(f->db, db_migrations, db_migrations_count, err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    diag_release(&f->d);
    assert_int_equal(sqlite3_close(f->db), SQLITE_OK);
    testlib_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Path of a fixture (static buffer: copy it before the next call). */
static const char *fixture(const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/tests/fixtures/directory/%s", testlib_src_dir(), name);
    return path;
}

static const char *shipped(const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/db/data/%s", testlib_src_dir(), name);
    return path;
}

static long long count(struct fixture *f, const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;

    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Column col of the services row id as text ("NULL" for NULL), into a static buffer. */
static const char *service_value(struct fixture *f, const char *id, const char *col)
{
    static char out[512];
    char sql[256];
    sqlite3_stmt *st;

    snprintf(sql, sizeof(sql), "SELECT %s FROM services WHERE id = ?1", col);
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        snprintf(out, sizeof(out), "(no row %s)", id);
    else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        snprintf(out, sizeof(out), "NULL");
    else
        snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

/* True if d has a problem of severity sev whose file ends in "name:line" and message has needle. */
static bool has(const struct diag *d, enum diag_severity sev, const char *name, size_t line,
                const char *needle)
{
    char suffix[256];

    snprintf(suffix, sizeof(suffix), "/%s:%zu", name, line);
    for (size_t i = 0; i < d->n; i++) {
        const struct diag_entry *e = &d->entries[i];
        size_t fl = strlen(e->file), sl = strlen(suffix);

        if (e->severity == sev && fl >= sl && strcmp(e->file + fl - sl, suffix) == 0 &&
            strstr(e->message, needle) != NULL)
            return true;
    }
    return false;
}

static void print_diag(const struct diag *d)
{
    diag_print(d, stderr);
}

static void import_postal_fixture(struct fixture *f)
{
    int n = directory_import_postal_codes(f->db, fixture("postal_codes.csv"), NOW, &f->d);

    if (n != 8)
        print_diag(&f->d);
    assert_int_equal(n, 8);
    diag_release(&f->d);
}

/* ---- dates -------------------------------------------------------------- */

static void dates_are_checked_and_counted_from_their_first_day(void **state)
{
    long long t;

    (void)state;
    assert_true(directory_import_date("2026-11-18", &t));
    assert_int_equal(t, 1795000000LL - 1795000000LL % 86400);
    assert_true(directory_import_date("1970-01", &t));
    assert_int_equal(t, 0);
    assert_true(directory_import_date("2024", &t));
    assert_int_equal(t, 1704067200LL); /* 2024-01-01 */
    assert_true(directory_import_date("2024-02-29", NULL));
    assert_false(directory_import_date("2023-02-29", NULL));
    assert_false(directory_import_date("2021-13", NULL));
    assert_false(directory_import_date("2021-1", NULL));
    assert_false(directory_import_date("2021-01-1x", NULL));
    assert_false(directory_import_date("21-01-01", NULL));
    assert_false(directory_import_date("", NULL));
    assert_false(directory_import_date("2021-00", NULL));
}

/* ---- postal codes ---------------------------------------------------------- */

static void postal_codes_load_in_any_column_order(void **state)
{
    struct fixture *f = *state;

    import_postal_fixture(f);
    assert_int_equal(count(f, "SELECT count(*) FROM postal_codes"), 8);
    assert_int_equal(count(f, "SELECT count(*) FROM postal_codes WHERE postal_code = '00530' "
                              "AND name_sv = 'Berghäll' AND municipality = 'Helsinki' "
                              "AND abs(lat - 60.1841) < 1e-9 AND abs(lon - 24.9507) < 1e-9"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM postal_codes WHERE postal_code = '00101' "
                              "AND lat IS NULL AND lon IS NULL"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM directory_imports WHERE kind = "
                              "'postal_codes' AND source = 'postal_codes.csv' AND rows = 8 "
                              "AND at = 1795000000"),
                     1);
}

static void bad_postal_codes_are_all_reported_and_nothing_is_written(void **state)
{
    struct fixture *f = *state;
    const char *name = "postal_codes_bad.csv";

    import_postal_fixture(f);
    assert_int_equal(directory_import_postal_codes(f->db, fixture(name), NOW, &f->d),
                     DIRECTORY_IMPORT_INVALID);
    assert_true(has(&f->d, DIAG_ERROR, name, 3, "'0053' is not five digits"));
    assert_true(has(&f->d, DIAG_ERROR, name, 4, "duplicate postal code 00100 (first on line 2)"));
    assert_true(has(&f->d, DIAG_ERROR, name, 5, "no municipality"));
    assert_true(has(&f->d, DIAG_ERROR, name, 6, "not a latitude in Finland"));
    assert_true(has(&f->d, DIAG_ERROR, name, 7, "lat and lon must be given together"));
    assert_true(has(&f->d, DIAG_ERROR, name, 8, "5 fields, but the header has 6"));
    assert_int_equal(f->d.errors, 6);
    /* The previous table is untouched. */
    assert_int_equal(count(f, "SELECT count(*) FROM postal_codes"), 8);
    assert_int_equal(count(f, "SELECT count(*) FROM postal_codes WHERE postal_code = '33100' "
                              "AND lat > 61"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM directory_imports"), 1);
}

static void missing_columns_and_files_are_reported(void **state)
{
    struct fixture *f = *state;
    char path[4096];

    snprintf(path, sizeof(path), "%s/codes.csv", f->dir);
    testlib_write_file(path, "postal_code,name_fi,municipality\n00100,Keskusta,Helsinki\n");
    assert_int_equal(directory_import_postal_codes(f->db, path, NOW, &f->d),
                     DIRECTORY_IMPORT_INVALID);
    assert_true(has(&f->d, DIAG_ERROR, "codes.csv", 1, "missing column 'name_sv'"));
    diag_release(&f->d);
    assert_int_equal(directory_import_services(f->db, fixture("nosuch.csv"), NOW, &f->d),
                     DIRECTORY_IMPORT_INVALID);
    assert_true(diag_has(&f->d, "", "cannot open"));
}

/* ---- Katto's service CSV --------------------------------------------------- */

static void services_load_with_hidden_addresses_dropped(void **state)
{
    struct fixture *f = *state;
    int n;

    import_postal_fixture(f);
    n = directory_import_services(f->db, fixture("services.csv"), NOW, &f->d);
    if (n != 5)
        print_diag(&f->d);
    assert_int_equal(n, 5);
    assert_int_equal(f->d.n, 0);
    assert_string_equal(service_value(f, "t-yomaja", "street_address"), "Testikatu 1");
    assert_string_equal(service_value(f, "t-yomaja", "postal_code"), "00530");
    assert_string_equal(service_value(f, "t-yomaja", "hours_text"), "joka yö 22-06");
    assert_string_equal(service_value(f, "t-yomaja", "hours"), "Mo-Su 22:00-06:00");
    assert_string_equal(service_value(f, "t-yomaja", "phone_e164"), "+35891234567");
    assert_string_equal(service_value(f, "t-yomaja", "address_hidden"), "0");
    assert_string_equal(service_value(f, "t-yomaja", "typeof(lat)"), "real");
    /* `checked` wins over source_date; without it, source_date is the checked date. */
    assert_string_equal(service_value(f, "t-yomaja", "checked_on"), "2025-11-02");
    assert_string_equal(service_value(f, "t-paiva", "checked_on"), "2024-06");
    assert_string_equal(service_value(f, "t-112", "checked_on"), "NULL");
    /* Empty values are NULL, quoted commas and quotes survive. */
    assert_string_equal(service_value(f, "t-paiva", "phone"), "NULL");
    assert_string_equal(service_value(f, "t-paiva", "name_sv"), "NULL");
    assert_string_equal(service_value(f, "t-paiva", "hours_text"),
                        "arkisin 9-16, \"lauantaisin\" 10-14");
    assert_string_equal(service_value(f, "t-112", "city"), "national");
    assert_string_equal(service_value(f, "t-112", "phone_e164"), "112");
    /* A violence shelter never keeps an address or point, whatever its flag says. */
    assert_string_equal(service_value(f, "t-turvakoti", "address_hidden"), "1");
    assert_int_equal(count(f, "SELECT count(*) FROM services WHERE id IN ('t-turvakoti', "
                              "'t-piilo') AND address_hidden = 1 AND street_address IS NULL AND "
                              "postal_code IS NULL AND lat IS NULL AND lon IS NULL"),
                     2);
    assert_string_equal(service_value(f, "t-turvakoti", "phone"), "040 123 4567");
    assert_int_equal(count(f, "SELECT count(*) FROM directory_imports WHERE kind = 'services' "
                              "AND source = 'services.csv' AND rows = 5"),
                     1);
}

static void bad_services_are_all_reported_and_the_old_ones_stay(void **state)
{
    struct fixture *f = *state;
    const char *name = "services_bad.csv";

    import_postal_fixture(f);
    assert_int_equal(directory_import_services(f->db, fixture("services.csv"), NOW, &f->d), 5);
    diag_release(&f->d);
    assert_int_equal(directory_import_services(f->db, fixture(name), NOW, &f->d),
                     DIRECTORY_IMPORT_INVALID);
    assert_true(has(&f->d, DIAG_ERROR, name, 3, "id 'Bad_Id' is not"));
    assert_true(has(&f->d, DIAG_ERROR, name, 4, "duplicate id t-ok (first on line 2)"));
    assert_true(has(&f->d, DIAG_ERROR, name, 5, "unknown category 'soup_kitchen'"));
    assert_true(has(&f->d, DIAG_ERROR, name, 6, "hours 'Mo-Fx 09:00-16:00': column 4"));
    assert_true(has(&f->d, DIAG_ERROR, name, 7, "phone and phone_e164 must be given together"));
    assert_true(has(&f->d, DIAG_ERROR, name, 8, "is not an http(s) URL"));
    assert_true(has(&f->d, DIAG_ERROR, name, 9, "source_date '2021-02-30' is not a date"));
    assert_true(has(&f->d, DIAG_ERROR, name, 10, "city 'Helsingfors' is not a municipality"));
    assert_true(has(&f->d, DIAG_ERROR, name, 11, "postal code 00999 is not in the postal codes"));
    assert_true(has(&f->d, DIAG_ERROR, name, 12, "lat and lon must be given together"));
    assert_true(has(&f->d, DIAG_ERROR, name, 13, "address_hidden '2'"));
    assert_true(has(&f->d, DIAG_ERROR, name, 14, "no name"));
    assert_true(has(&f->d, DIAG_ERROR, name, 15, "phone_e164 '+0912'"));
    assert_true(has(&f->d, DIAG_ERROR, name, 16, "source_date '2021-13' is not a date"));
    assert_int_equal(f->d.errors, 14);
    /* Nothing changed: the previous services are still there, and no import was recorded. */
    assert_int_equal(count(f, "SELECT count(*) FROM services"), 5);
    assert_string_equal(service_value(f, "t-ok", "id"), "(no row t-ok)");
    assert_int_equal(count(f, "SELECT count(*) FROM directory_imports WHERE kind = 'services'"), 1);
}

static void without_postal_codes_cities_are_not_checked(void **state)
{
    struct fixture *f = *state;
    char path[4096];

    snprintf(path, sizeof(path), "%s/s.csv", f->dir);
    testlib_write_file(path, "id,city,category,source_url,postal_code,name_fi\n"
                             "x-1,Inari,day_centre,https://example.fi,99870,Päiväkeskus\n");
    assert_int_equal(directory_import_services(f->db, path, NOW, &f->d), 1);
    assert_int_equal(f->d.errors, 0);
    assert_int_equal(f->d.warnings, 1);
    assert_true(diag_has(&f->d, "", "postal_codes table is empty"));
}

static void a_database_failure_changes_nothing(void **state)
{
    struct fixture *f = *state;
    char err[ERR_LEN];

    import_postal_fixture(f);
    /* BEGIN IMMEDIATE inside an open transaction fails like a locked database would. */
    assert_int_equal(db_exec(f->db, "BEGIN", "begin", err), 0);
    assert_int_equal(directory_import_services(f->db, fixture("services.csv"), NOW, &f->d),
                     DIRECTORY_IMPORT_FAILED);
    assert_true(diag_has(&f->d, "", "database: "));
    assert_int_equal(db_exec(f->db, "ROLLBACK", "rollback", err), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM services"), 0);
}

/* ---- the shipped data -------------------------------------------------------- */

static void shipped_data_loads_without_a_problem(void **state)
{
    struct fixture *f = *state;
    int n;

    n = directory_import_postal_codes(f->db, shipped("postal_codes_fi.csv"), NOW, &f->d);
    if (f->d.n > 0)
        print_diag(&f->d);
    assert_int_equal(n, 3622);
    assert_int_equal(f->d.n, 0);
    n = directory_import_services(f->db, shipped("services_fi.csv"), NOW, &f->d);
    if (f->d.n > 0)
        print_diag(&f->d);
    assert_int_equal(n, 59);
    assert_int_equal(f->d.n, 0);
    assert_int_equal(count(f, "SELECT count(*) FROM services WHERE category = "
                              "'violence_shelter'"),
                     7);
    assert_int_equal(count(f, "SELECT count(*) FROM services WHERE (category = "
                              "'violence_shelter' OR address_hidden = 1) AND (street_address "
                              "IS NOT NULL OR postal_code IS NOT NULL OR lat IS NOT NULL OR lon "
                              "IS NOT NULL OR address_hidden = 0)"),
                     0);
    assert_int_equal(count(f, "SELECT count(*) FROM services WHERE hours IS NOT NULL"), 37);
    assert_string_equal(service_value(f, "hel-hdl-alppikulma", "postal_code"), "00530");
}

static void seeding_fills_only_empty_tables(void **state)
{
    struct fixture *f = *state;
    char err[ERR_LEN] = "", postal[4096], services[4096];

    snprintf(postal, sizeof(postal), "%s", fixture("postal_codes.csv"));
    snprintf(services, sizeof(services), "%s", fixture("services.csv"));
    assert_int_equal(directory_import_seed(f->db, postal, services, NOW, err), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM postal_codes"), 8);
    assert_int_equal(count(f, "SELECT count(*) FROM services"), 5);
    /* Tables with rows are left alone, even if the files are broken now. */
    snprintf(postal, sizeof(postal), "%s", fixture("postal_codes_bad.csv"));
    snprintf(services, sizeof(services), "%s", fixture("services_bad.csv"));
    assert_int_equal(directory_import_seed(f->db, postal, services, NOW, err), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM directory_imports"), 2);
    assert_int_equal(db_exec(f->db, "DELETE FROM services", "delete", err), 0);
    assert_int_equal(directory_import_seed(f->db, NULL, services, NOW, err), -1);
    assert_non_null(strstr(err, "services_bad.csv:3: id 'Bad_Id'"));
}

/* ---- HSDS ---------------------------------------------------------------- */

static void hsds_3_maps_services_locations_phones_and_schedules(void **state)
{
    struct fixture *f = *state;
    int n;

    import_postal_fixture(f);
    n = directory_import_hsds(f->db, fixture("hsds"), NOW, &f->d);
    if (n != 5)
        print_diag(&f->d);
    assert_int_equal(n, 5);
    assert_int_equal(f->d.errors, 0);
    assert_true(has(&f->d, DIAG_WARNING, "services.csv", 5, "'svc-old' skipped"));
    assert_true(has(&f->d, DIAG_WARNING, "schedules.csv", 7, "freq is not WEEKLY"));
    assert_int_equal(f->d.warnings, 2);

    /* One location: the id is the service's; the city takes the postal codes' spelling. */
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "city"), "Helsinki");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "name_fi"), "Yömaja Testi");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "organization"), "Testiyhdistys ry");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "category"), "night_shelter");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "street_address"), "Testikatu 1");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "postal_code"), "00530");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "lat"), "60.1841");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "phone_e164"), "+35891234567");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "hours"), "Mo-Su 22:00-06:00");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "hours_text"), "Joka yö");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "checked_on"), "2025-03-01");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "source_url"),
                        "https://testiyhdistys.example.fi/yomaja");
    assert_string_equal(service_value(f, "hsds-svc-yomaja", "notes"), "HSDS service svc-yomaja");

    /* Two locations: one row each, the location's phone and the site's own schedule. */
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-kallio", "hours"),
                        "Mo-Th 09:00-12:00,15:00-17:00");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-kallio", "phone_e164"),
                        "+358501112222");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-kallio", "source_url"),
                        "https://testiyhdistys.example.fi");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-kallio", "checked_on"), "2025-05-06");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-kallio", "category"), "day_centre");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-tapiola", "city"), "Espoo");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-tapiola", "street_address"),
                        "Tapiolantie 2, 2. krs");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-tapiola", "hours"), "Sa 10:00-14:00");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-tapiola", "phone"),
                        "+358 (0)9 765 4321");
    assert_string_equal(service_value(f, "hsds-svc-paiva-loc-tapiola", "phone_e164"),
                        "+35897654321");

    /* A monthly schedule leaves hours empty; the phone falls back to the organization's. */
    assert_string_equal(service_value(f, "hsds-svc-neuvonta", "hours"), "NULL");
    assert_string_equal(service_value(f, "hsds-svc-neuvonta", "hours_text"),
                        "First Monday of the month");
    assert_string_equal(service_value(f, "hsds-svc-neuvonta", "category"), "housing_advice");
    assert_string_equal(service_value(f, "hsds-svc-neuvonta", "phone_e164"), "+358105551234");
    assert_string_equal(service_value(f, "hsds-svc-neuvonta", "street_address"), "NULL");
    assert_string_equal(service_value(f, "hsds-svc-neuvonta", "checked_on"), "2024-11");
    assert_string_equal(service_value(f, "hsds-svc-old", "id"), "(no row hsds-svc-old)");
    assert_int_equal(count(f, "SELECT count(*) FROM directory_imports WHERE kind = 'services' "
                              "AND source = 'hsds' AND rows = 5"),
                     1);
}

static void hsds_violence_shelter_loses_its_address(void **state)
{
    struct fixture *f = *state;

    import_postal_fixture(f);
    assert_int_equal(directory_import_hsds(f->db, fixture("hsds"), NOW, &f->d), 5);
    assert_int_equal(count(f, "SELECT count(*) FROM services WHERE id = 'hsds-svc-turva' AND "
                              "category = 'violence_shelter' AND address_hidden = 1 AND "
                              "street_address IS NULL AND postal_code IS NULL AND lat IS NULL "
                              "AND lon IS NULL AND city = 'Tampere' AND hours = '24/7' AND "
                              "phone_e164 = '+358401234567'"),
                     1);
}

static void hsds_2_names_are_read(void **state)
{
    struct fixture *f = *state;
    int n;

    import_postal_fixture(f);
    n = directory_import_hsds(f->db, fixture("hsds_v2"), NOW, &f->d);
    if (n != 2)
        print_diag(&f->d);
    assert_int_equal(n, 2);
    assert_int_equal(f->d.n, 0);
    assert_string_equal(service_value(f, "hsds-s1", "category"), "night_shelter");
    assert_string_equal(service_value(f, "hsds-s1", "hours"), "Mo-Fr 09:00-16:00; Sa 10:00-14:00");
    assert_string_equal(service_value(f, "hsds-s1", "street_address"), "Kalliolantie 1");
    assert_string_equal(service_value(f, "hsds-s1", "lat"), "NULL");
    assert_string_equal(service_value(f, "hsds-s1", "source_url"), "https://vanha.example.fi");
    assert_string_equal(service_value(f, "hsds-s2", "category"), "outreach");
    assert_string_equal(service_value(f, "hsds-s2", "phone"), "0800 123 456 ext. 12");
    assert_string_equal(service_value(f, "hsds-s2", "phone_e164"), "+358800123456");
}

static void hsds_problems_name_the_file_and_line(void **state)
{
    struct fixture *f = *state;

    import_postal_fixture(f);
    assert_int_equal(directory_import_hsds(f->db, fixture("hsds"), NOW, &f->d), 5);
    diag_release(&f->d);
    assert_int_equal(directory_import_hsds(f->db, fixture("hsds_bad"), NOW, &f->d),
                     DIRECTORY_IMPORT_INVALID);
    assert_true(has(&f->d, DIAG_ERROR, "services.csv", 2, "'b1' has no Katto category"));
    assert_true(has(&f->d, DIAG_ERROR, "services.csv", 3, "no source_url"));
    assert_true(has(&f->d, DIAG_ERROR, "services.csv", 4, "city 'Stockholm'"));
    assert_true(has(&f->d, DIAG_ERROR, "services.csv", 5, "'b4' has no location"));
    assert_true(has(&f->d, DIAG_ERROR, "service_at_locations.csv", 5, "'nope' is not in"));
    assert_true(has(&f->d, DIAG_ERROR, "phones.csv", 2, "'call us' cannot be read"));
    /* The earlier import stays. */
    assert_int_equal(count(f, "SELECT count(*) FROM services WHERE id LIKE 'hsds-svc-%'"), 5);
}

static void hsds_ids_are_slugs_cut_to_size(void **state)
{
    struct fixture *f = *state;
    char dir[4096], path[4200];
    static const char *const files[][2] = {
        {"services.csv", "id,name,url\n"
                         "Ääni_Palvelu/1,Ääni,https://example.fi\n"
                         "ääni palvelu 1,Toinen,https://example.fi\n"
                         "0b5e4c3a-3f0e-4c3b-9a57-0d5b8f3b6c1e-0b5e4c3a-3f0e-4c3b-9a57,Pitkä,"
                         "https://example.fi\n"},
        {"service_at_locations.csv", "id,service_id,location_id\n"
                                     "1,Ääni_Palvelu/1,l\n"
                                     "2,ääni palvelu 1,l\n"
                                     "3,0b5e4c3a-3f0e-4c3b-9a57-0d5b8f3b6c1e-0b5e4c3a-3f0e-4c3b-"
                                     "9a57,l\n"},
        {"locations.csv", "id,latitude,longitude\nl,60.17,24.93\n"},
        {"addresses.csv", "id,location_id,address_1,city,postal_code\n"
                          "a,l,Katu 1,Helsinki,00100\n"},
        {"service_taxonomy.csv", "id,service_id,taxonomy_id\n"
                                 "1,Ääni_Palvelu/1,day_centre\n"
                                 "2,ääni palvelu 1,day_centre\n"
                                 "3,0b5e4c3a-3f0e-4c3b-9a57-0d5b8f3b6c1e-0b5e4c3a-3f0e-4c3b-9a57,"
                                 "day_centre\n"},
    };

    import_postal_fixture(f);
    snprintf(dir, sizeof(dir), "%s/slugs", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
        testlib_write_file(path, files[i][1]);
    }
    assert_int_equal(directory_import_hsds(f->db, dir, NOW, &f->d), 3);
    assert_string_equal(service_value(f, "hsds-aani-palvelu-1", "name_fi"), "Ääni");
    assert_string_equal(service_value(f, "hsds-aani-palvelu-1-2", "name_fi"), "Toinen");
    assert_int_equal(count(f, "SELECT count(*) FROM services WHERE name_fi = 'Pitkä' AND "
                              "length(id) = 63 AND id LIKE 'hsds-0b5e4c3a-%'"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dates_are_checked_and_counted_from_their_first_day),
        cmocka_unit_test_setup_teardown(postal_codes_load_in_any_column_order, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_postal_codes_are_all_reported_and_nothing_is_written,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(missing_columns_and_files_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(services_load_with_hidden_addresses_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_services_are_all_reported_and_the_old_ones_stay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(without_postal_codes_cities_are_not_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_database_failure_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(shipped_data_loads_without_a_problem, setup, teardown),
        cmocka_unit_test_setup_teardown(seeding_fills_only_empty_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(hsds_3_maps_services_locations_phones_and_schedules, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hsds_violence_shelter_loses_its_address, setup, teardown),
        cmocka_unit_test_setup_teardown(hsds_2_names_are_read, setup, teardown),
        cmocka_unit_test_setup_teardown(hsds_problems_name_the_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(hsds_ids_are_slugs_cut_to_size, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
