/* test_contact_log.c: the anonymous log: pseudonyms per period, erasure, retention, local hours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contact_log.h"
#include "db.h"
#include "testlib.h"

#define NOV_2026 1795000000LL /* 2026-11-18 11:06 UTC = 13:06 in Helsinki (EET, UTC+2) */
#define JUL_2026 1782909000LL /* 2026-07-01 12:30 UTC = 15:30 in Helsinki (EEST, UTC+3) */
#define DAY 86400LL

struct fixture {
    char *dir;
    sqlite3 *db;
    struct contact_log *log;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[4096], err[256];

    setenv("TZ", "Europe/Helsinki", 1);
    tzset();
    f->dir = testlib_tmpdir();
    snprintf(path, sizeof(path), "%s/katto.db", f->dir);
    assert_non_null(f->db = db_open(path, err));
    assert_int_equal(db_migrate(f->db, db_migrations, db_migrations_count, err), 0);
    assert_non_null(f->log = contact_log_new(f->db, err));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    contact_log_free(f->log);
    assert_int_equal(sqlite3_close(f->db), SQLITE_OK);
    testlib_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void log_step(struct fixture *f, const char *number, long long now, enum flow_effect_kind k)
{
    struct flow_reply r = {.neffects = 1};
    struct contact_log_context ctx = {
        .now = now,
        .channel = "sms",
        .gateway = "46elks",
        .e164 = number,
        .lang = "fi",
        .city = "Tampere",
    };
    char err[256];

    r.effects[0].kind = k;
    snprintf(r.effects[0].at.flow, sizeof(r.effects[0].at.flow), "helpline");
    snprintf(r.effects[0].at.node, sizeof(r.effects[0].at.node), "welcome");
    assert_int_equal(contact_log_effects(f->log, &ctx, &r, err), 0);
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

static void rows_hold_the_local_hour_and_city_but_never_the_number(void **state)
{
    struct fixture *f = *state;
    char hour[20];

    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_SESSION_START);
    contact_log_hour(NOV_2026, hour);
    assert_string_equal(hour, "2026-11-18 13:00");
    contact_log_hour(JUL_2026, hour); /* summer time */
    assert_string_equal(hour, "2026-07-01 15:00");
    assert_int_equal(count(f, "SELECT count(*) FROM contact_log WHERE hour = '2026-11-18 13:00' "
                              "AND city = 'Tampere' AND event = 'session_start' "
                              "AND length(pseudonym) = 16"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_log WHERE "
                              "instr(coalesce(pseudonym,'') || city || flow || node, '401234567')"),
                     0);
}

static void pseudonyms_link_contacts_within_a_period_only(void **state)
{
    struct fixture *f = *state;
    char err[256];

    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_SESSION_START);
    log_step(f, "+358401234567", NOV_2026 + DAY, FLOW_EFFECT_SESSION_START);
    log_step(f, "+358409999999", NOV_2026, FLOW_EFFECT_SESSION_START);
    assert_int_equal(count(f, "SELECT count(DISTINCT pseudonym) FROM contact_log"), 2);
    /* December: a new key, so the same number gets an unrelated pseudonym... */
    log_step(f, "+358401234567", NOV_2026 + 20 * DAY, FLOW_EFFECT_SESSION_START);
    assert_int_equal(count(f, "SELECT count(DISTINCT pseudonym) FROM contact_log"), 3);
    /* ...and once December's rotation runs, November's key is gone for good. */
    assert_int_equal(contact_log_rotate(f->log, NOV_2026 + 20 * DAY, 24, err), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM pseudonym_keys"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM pseudonym_keys WHERE period = '2026-12'"), 1);
}

static void erase_removes_exactly_that_contacts_rows_of_the_period(void **state)
{
    struct fixture *f = *state;
    char err[256];

    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_SESSION_START);
    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_NODE);
    log_step(f, "+358409999999", NOV_2026, FLOW_EFFECT_SESSION_START);
    assert_int_equal(contact_log_erase(f->log, "+358401234567", NOV_2026, err), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_log"), 1);
    /* The erase itself is logged without a pseudonym. */
    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_ERASE);
    assert_int_equal(
        count(f, "SELECT count(*) FROM contact_log WHERE event = 'erase' AND pseudonym IS NULL"),
        1);
}

static void retention_deletes_exactly_the_old_rows(void **state)
{
    struct fixture *f = *state;
    char err[256];

    log_step(f, "+358401234567", NOV_2026 - 760 * DAY, FLOW_EFFECT_SESSION_START); /* 2024-10 */
    log_step(f, "+358401234567", NOV_2026 - 700 * DAY, FLOW_EFFECT_SESSION_START); /* 2024-12 */
    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_SESSION_START);
    assert_int_equal(contact_log_rotate(f->log, NOV_2026, 24, err), 0);
    /* 24 months before November 2026 is November 2024: October 2024 goes, December stays. */
    assert_int_equal(count(f, "SELECT count(*) FROM contact_log"), 2);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_log WHERE period = '2024-10'"), 0);
}

/* A rolled-back step must not leave the month's key only in memory. */
static void key_created_in_a_rolled_back_step_is_created_again(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_SESSION_START);
    assert_int_equal(sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    contact_log_forget_key(f->log); /* what the batch's rollback listener does */
    log_step(f, "+358401234567", NOV_2026, FLOW_EFFECT_SESSION_START);
    assert_int_equal(count(f, "SELECT count(*) FROM pseudonym_keys"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_log"), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(rows_hold_the_local_hour_and_city_but_never_the_number),
        T(pseudonyms_link_contacts_within_a_period_only),
        T(erase_removes_exactly_that_contacts_rows_of_the_period),
        T(retention_deletes_exactly_the_old_rows),
        T(key_created_in_a_rolled_back_step_is_created_again),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
