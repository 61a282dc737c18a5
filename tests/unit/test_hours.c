/*
 * test_hours.c: unit tests for hours.c. Tables of local Helsinki times run
 * through hours_open_at and compare open/closed and the closing or next
 * opening time; the holiday table pins Easter-based and weekday-based dates for
 * 2026 and 2027. The DST rows check that spans across the March and October
 * changes end at the right absolute time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "hours.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

struct local {
    int y, mo, d, h, mi; /* y == 0: no time (until is 0) */
};

/* Unix time of a Helsinki wall-clock time. */
static long long at(struct local l)
{
    struct tm tm = {
        .tm_year = l.y - 1900,
        .tm_mon = l.mo - 1,
        .tm_mday = l.d,
        .tm_hour = l.h,
        .tm_min = l.mi,
        .tm_isdst = -1,
    };
    return (long long)mktime(&tm);
}

static int set_helsinki(void **state)
{
    (void)state;
    setenv("TZ", "Europe/Helsinki", 1);
    tzset();
    return 0;
}

/* Every distinct value of the hours column in shared/data/services_fi.csv. */
static const char *const csv_values[] = {
    "24/7",
    "Fr 09:00-13:00",
    "Mo,Tu,Fr 09:00-16:00; We,Th 09:00-18:00",
    "Mo,We,Fr 09:00-11:30,12:00-15:00",
    "Mo,We,Fr 10:00-14:00",
    "Mo-Fr 08:00-15:00; Sa,Su 09:00-17:00",
    "Mo-Fr 08:00-16:00",
    "Mo-Fr 08:00-16:30",
    "Mo-Fr 08:15-16:00",
    "Mo-Fr 09:00-16:00",
    "Mo-Fr 10:00-17:00",
    "Mo-Fr 12:00-17:00",
    "Mo-Su 17:00-09:00",
    "Mo-Su 17:00-10:00",
    "Mo-Su 18:00-08:00",
    "Mo-Su 20:00-08:00",
    "Mo-Su 22:00-06:00",
};

static void every_csv_value_parses(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(csv_values); i++) {
        char err[ERR_LEN] = "";
        struct hours *h = hours_parse(csv_values[i], err);
        if (h == NULL)
            fail_msg("'%s': %s", csv_values[i], err);
        hours_free(h);
    }
}

static const char *const other_good[] = {
    "Mo-Fr 08:00-16:00; PH off", "Mo-Fr 08:00-16:00; Sa,Su,PH 10:00-14:00", "  Mo-Su 00:00-24:00  ",
    "Sa-Mo 10:00-12:00",         "Mo,We 09:00-11:00, 12:00-13:00;Tu off",   "Mo-Su 10:00-10:00",
};

static void other_valid_forms_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(other_good); i++) {
        char err[ERR_LEN] = "";
        struct hours *h = hours_parse(other_good[i], err);
        if (h == NULL)
            fail_msg("'%s': %s", other_good[i], err);
        hours_free(h);
    }
}

struct bad_case {
    const char *input;
    const char *err;
};

static const struct bad_case bad_cases[] = {
    {"", "empty"},
    {"   ", "empty"},
    {"Mo-Fr 8-16", "column 7: expected 'off' or a time HH:MM"},
    {"Xx 10:00-12:00", "column 1: expected a day (Mo Tu We Th Fr Sa Su or PH)"},
    {"Mo 25:00-26:00", "column 4: hour out of range in '25:00'"},
    {"Mo 10:00", "column 9: expected '-' after the start time"},
    {"PH maybe", "column 4: expected 'off' or a time HH:MM"},
    {"Mo 10:60-12:00", "column 4: minutes out of range in '10:60'"},
    {"Mo 24:00-02:00", "column 4: hour out of range in '24:00'"},
    {"Mo 10:00-24:30", "column 10: hour out of range in '24:30'"},
    {"Mo 10:00-12:00,", "column 16: expected a time HH:MM"},
    {"Mo10:00-12:00", "column 3: expected a space between days and times"},
    {"Mo-PH 10:00-12:00", "column 1: 'PH' cannot be part of a day range"},
    {"Mo 10:00-12:00;", "column 16: expected a day (Mo Tu We Th Fr Sa Su or PH)"},
    {"Mo 10:00-12:00 x", "column 16: expected ';' or the end of the text"},
    {"24/7; Mo off", "column 1: expected a day (Mo Tu We Th Fr Sa Su or PH)"},
    {"Mo offf", "column 4: expected 'off' or a time HH:MM"},
    {"Mo 100:00-12:00", "column 4: expected 'off' or a time HH:MM"},
    {"Mo 01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,09:00-10:00,11:00-12:00,"
     "13:00-14:00,15:00-16:00,17:00-18:00",
     "column 100: more than 8 time ranges"},
};

static void bad_formats_are_rejected_with_column(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(bad_cases); i++) {
        char err[ERR_LEN] = "";
        struct hours *h = hours_parse(bad_cases[i].input, err);
        if (h != NULL) {
            hours_free(h);
            fail_msg("'%s' was accepted", bad_cases[i].input);
        }
        if (strcmp(err, bad_cases[i].err) != 0)
            fail_msg("'%s': got \"%s\", want \"%s\"", bad_cases[i].input, err, bad_cases[i].err);
    }
}

static void null_err_is_allowed(void **state)
{
    (void)state;
    assert_null(hours_parse("Xx", NULL));
    assert_null(hours_parse("", NULL));
}

struct open_case {
    const char *why;
    const char *hours;
    struct local when;
    bool open;
    struct local until; /* closing time if open, next opening if closed */
};

/* 2.3.2026 is a Monday; no holidays in March 2026. */
static const struct open_case open_cases[] = {
    {"weekday inside range", "Mo-Fr 08:00-16:00", {2026, 3, 2, 10, 0}, true, {2026, 3, 2, 16, 0}},
    {"weekday before opening", "Mo-Fr 08:00-16:00", {2026, 3, 2, 7, 59}, false, {2026, 3, 2, 8, 0}},
    {"opening minute is open", "Mo-Fr 08:00-16:00", {2026, 3, 2, 8, 0}, true, {2026, 3, 2, 16, 0}},
    {"closing minute is closed",
     "Mo-Fr 08:00-16:00",
     {2026, 3, 2, 16, 0},
     false,
     {2026, 3, 3, 8, 0}},
    {"weekend closed until monday",
     "Mo-Fr 08:00-16:00",
     {2026, 3, 7, 12, 0},
     false,
     {2026, 3, 9, 8, 0}},
    {"second rule for wednesday",
     "Mo,Tu,Fr 09:00-16:00; We,Th 09:00-18:00",
     {2026, 3, 4, 17, 0},
     true,
     {2026, 3, 4, 18, 0}},
    {"first rule closes tuesday early",
     "Mo,Tu,Fr 09:00-16:00; We,Th 09:00-18:00",
     {2026, 3, 3, 17, 0},
     false,
     {2026, 3, 4, 9, 0}},
    {"weekend rule",
     "Mo-Fr 08:00-15:00; Sa,Su 09:00-17:00",
     {2026, 3, 8, 16, 0},
     true,
     {2026, 3, 8, 17, 0}},
    {"last rule wins for a day",
     "Mo-Su 09:00-17:00; Su off",
     {2026, 3, 8, 12, 0},
     false,
     {2026, 3, 9, 9, 0}},
    {"single day every week", "Fr 09:00-13:00", {2026, 3, 7, 9, 0}, false, {2026, 3, 13, 9, 0}},
    {"wrapping day range", "Sa-Mo 10:00-12:00", {2026, 3, 2, 11, 0}, true, {2026, 3, 2, 12, 0}},
    {"lunch break is closed",
     "Mo,We,Fr 09:00-11:30,12:00-15:00",
     {2026, 3, 2, 11, 45},
     false,
     {2026, 3, 2, 12, 0}},
    {"after lunch is open",
     "Mo,We,Fr 09:00-11:30,12:00-15:00",
     {2026, 3, 2, 12, 30},
     true,
     {2026, 3, 2, 15, 0}},
    {"before lunch closes at lunch",
     "Mo,We,Fr 09:00-11:30,12:00-15:00",
     {2026, 3, 2, 9, 0},
     true,
     {2026, 3, 2, 11, 30}},
    {"day off between list days",
     "Mo,We,Fr 09:00-11:30,12:00-15:00",
     {2026, 3, 3, 10, 0},
     false,
     {2026, 3, 4, 9, 0}},
    {"overnight early morning", "Mo-Su 17:00-09:00", {2026, 3, 3, 3, 0}, true, {2026, 3, 3, 9, 0}},
    {"overnight closed at noon",
     "Mo-Su 17:00-09:00",
     {2026, 3, 3, 12, 0},
     false,
     {2026, 3, 3, 17, 0}},
    {"overnight evening", "Mo-Su 17:00-09:00", {2026, 3, 3, 20, 0}, true, {2026, 3, 4, 9, 0}},
    {"friday night spills into saturday",
     "Fr 22:00-06:00",
     {2026, 3, 7, 3, 0},
     true,
     {2026, 3, 7, 6, 0}},
    {"friday night from friday", "Fr 22:00-06:00", {2026, 3, 6, 23, 0}, true, {2026, 3, 7, 6, 0}},
    {"saturday morning after the span",
     "Fr 22:00-06:00",
     {2026, 3, 7, 7, 0},
     false,
     {2026, 3, 13, 22, 0}},
    {"friday night not on thursday",
     "Fr 22:00-06:00",
     {2026, 3, 6, 3, 0},
     false,
     {2026, 3, 6, 22, 0}},
    {"24:00 end chains into the next day",
     "Mo 20:00-24:00; Tu 00:00-02:00",
     {2026, 3, 2, 21, 0},
     true,
     {2026, 3, 3, 2, 0}},
    {"never closing within 8 days", "Mo-Su 00:00-24:00", {2026, 3, 2, 10, 0}, true, {0}},
    {"equal start and end is 24 hours",
     "Tu 10:00-10:00",
     {2026, 3, 4, 9, 0},
     true,
     {2026, 3, 4, 10, 0}},
    {"next opening a week later",
     "Mo 10:00-12:00; Tu off",
     {2026, 3, 2, 12, 0},
     false,
     {2026, 3, 9, 10, 0}},
    {"all off", "Mo-Su off", {2026, 3, 2, 12, 0}, false, {0}},
    /* Easter 2026: Good Friday 3.4, Easter Sunday 5.4, Easter Monday 6.4 */
    {"holiday follows weekday without PH",
     "Mo-Fr 08:00-16:00",
     {2026, 4, 6, 10, 0},
     true,
     {2026, 4, 6, 16, 0}},
    {"PH off closes a weekday holiday",
     "Mo-Fr 08:00-16:00; PH off",
     {2026, 4, 6, 10, 0},
     false,
     {2026, 4, 7, 8, 0}},
    {"PH off skips easter",
     "Mo-Fr 08:00-16:00; PH off",
     {2026, 4, 2, 17, 0},
     false,
     {2026, 4, 7, 8, 0}},
    {"PH hours on a holiday",
     "Mo-Fr 08:00-16:00; PH 10:00-14:00",
     {2026, 4, 6, 11, 0},
     true,
     {2026, 4, 6, 14, 0}},
    {"PH hours not yet open",
     "Mo-Fr 08:00-16:00; PH 10:00-14:00",
     {2026, 4, 6, 9, 0},
     false,
     {2026, 4, 6, 10, 0}},
    {"PH hours on a sunday holiday",
     "Mo-Fr 08:00-16:00; PH 10:00-14:00",
     {2026, 4, 4, 12, 0},
     false,
     {2026, 4, 5, 10, 0}},
    {"overnight span runs into a PH off day",
     "Mo-Su 22:00-06:00; PH off",
     {2026, 4, 2, 23, 0},
     true,
     {2026, 4, 3, 6, 0}},
    {"midsummer eve with PH off",
     "Mo-Fr 08:00-16:00; PH off",
     {2026, 6, 19, 10, 0},
     false,
     {2026, 6, 22, 8, 0}},
    /* DST: 29.3.2026 03:00 -> 04:00, 25.10.2026 04:00 -> 03:00 */
    {"overnight across spring forward",
     "Mo-Su 22:00-06:00",
     {2026, 3, 28, 23, 0},
     true,
     {2026, 3, 29, 6, 0}},
    {"overnight across fall back",
     "Mo-Su 22:00-06:00",
     {2026, 10, 24, 23, 0},
     true,
     {2026, 10, 25, 6, 0}},
    {"closed on spring forward day",
     "Mo-Su 22:00-06:00",
     {2026, 3, 29, 12, 0},
     false,
     {2026, 3, 29, 22, 0}},
};

static void open_at_follows_the_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(open_cases); i++) {
        const struct open_case *c = &open_cases[i];
        struct hours *h = hours_parse(c->hours, NULL);
        if (h == NULL)
            fail_msg("%s: '%s' does not parse", c->why, c->hours);
        long long until = -1;
        bool open = hours_open_at(h, at(c->when), &until);
        hours_free(h);
        long long want = c->until.y == 0 ? 0 : at(c->until);
        if (open != c->open || until != want)
            fail_msg("%s: open %d until %lld, want open %d until %lld", c->why, open, until,
                     c->open, want);
    }
}

static void always_open_until_zero(void **state)
{
    (void)state;
    struct hours *h = hours_parse("24/7", NULL);
    assert_non_null(h);
    long long until = -1;
    assert_true(hours_open_at(h, at((struct local){2026, 3, 2, 3, 0}), &until));
    assert_int_equal(until, 0);
    assert_true(hours_open_at(h, 0, NULL));
    hours_free(h);
}

static void spring_forward_night_is_an_hour_shorter(void **state)
{
    (void)state;
    struct hours *h = hours_parse("Mo-Su 22:00-06:00", NULL);
    assert_non_null(h);
    long long t = at((struct local){2026, 3, 28, 23, 0});
    long long until = 0;
    char hhmm[6];
    assert_true(hours_open_at(h, t, &until));
    hours_local_hhmm(until, hhmm);
    assert_string_equal(hhmm, "06:00");
    assert_int_equal(until - t, 6 * 3600);
    /* 03:30 does not exist that night; at 04:30 the span still ends at 06:00 */
    t = at((struct local){2026, 3, 29, 4, 30});
    assert_true(hours_open_at(h, t, &until));
    assert_int_equal(until - t, 90 * 60);
    hours_free(h);
}

static void fall_back_night_is_an_hour_longer(void **state)
{
    (void)state;
    struct hours *h = hours_parse("Mo-Su 22:00-06:00", NULL);
    assert_non_null(h);
    long long t = at((struct local){2026, 10, 24, 23, 0});
    long long until = 0;
    char hhmm[6];
    assert_true(hours_open_at(h, t, &until));
    hours_local_hhmm(until, hhmm);
    assert_string_equal(hhmm, "06:00");
    assert_int_equal(until - t, 8 * 3600);
    /* closed at noon: opens at 22:00 local, 10 hours later */
    t = at((struct local){2026, 10, 25, 12, 0});
    assert_false(hours_open_at(h, t, &until));
    hours_local_hhmm(until, hhmm);
    assert_string_equal(hhmm, "22:00");
    assert_int_equal(until - t, 10 * 3600);
    hours_free(h);
}

static void local_hhmm_uses_helsinki_time(void **state)
{
    (void)state;
    char hhmm[6];
    hours_local_hhmm(1767225600LL, hhmm); /* 2026-01-01 00:00 UTC, winter time +2 */
    assert_string_equal(hhmm, "02:00");
    hours_local_hhmm(1782864000LL + 9 * 3600 + 5 * 60, hhmm); /* 2026-07-01 09:05 UTC, +3 */
    assert_string_equal(hhmm, "12:05");
}

struct easter_case {
    int year, month, day;
};

static const struct easter_case easter_cases[] = {
    {2024, 3, 31}, {2025, 4, 20}, {2026, 4, 5}, {2027, 3, 28}, {2038, 4, 25}, {2000, 4, 23},
};

static void easter_follows_gregorian_computus(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(easter_cases); i++) {
        int m = 0, d = 0;
        hours_easter(easter_cases[i].year, &m, &d);
        if (m != easter_cases[i].month || d != easter_cases[i].day)
            fail_msg("easter %d: got %d.%d, want %d.%d", easter_cases[i].year, d, m,
                     easter_cases[i].day, easter_cases[i].month);
    }
}

struct holiday_case {
    int y, m, d;
    bool holiday;
    const char *why;
};

static const struct holiday_case holiday_cases[] = {
    {2026, 1, 1, true, "new year's day"},
    {2026, 1, 6, true, "epiphany"},
    {2026, 4, 3, true, "good friday 2026"},
    {2026, 4, 4, false, "holy saturday is not a holiday"},
    {2026, 4, 5, true, "easter sunday 2026"},
    {2026, 4, 6, true, "easter monday 2026"},
    {2026, 5, 1, true, "may day"},
    {2026, 5, 14, true, "ascension 2026"},
    {2026, 5, 24, true, "whit sunday 2026"},
    {2026, 6, 19, true, "midsummer eve 2026"},
    {2026, 6, 20, true, "midsummer day 2026"},
    {2026, 6, 26, false, "a friday outside midsummer week"},
    {2026, 10, 31, true, "all saints 2026"},
    {2026, 11, 7, false, "saturday after all saints week"},
    {2026, 12, 6, true, "independence day"},
    {2026, 12, 24, true, "christmas eve"},
    {2026, 12, 25, true, "christmas day"},
    {2026, 12, 26, true, "st stephen's day"},
    {2026, 3, 2, false, "an ordinary monday"},
    {2026, 12, 31, false, "new year's eve"},
    {2027, 3, 26, true, "good friday 2027"},
    {2027, 3, 28, true, "easter sunday 2027"},
    {2027, 3, 29, true, "easter monday 2027"},
    {2027, 5, 6, true, "ascension 2027"},
    {2027, 5, 16, true, "whit sunday 2027"},
    {2027, 6, 25, true, "midsummer eve 2027"},
    {2027, 6, 26, true, "midsummer day 2027"},
    {2027, 6, 19, false, "a saturday before midsummer 2027"},
    {2027, 11, 6, true, "all saints 2027"},
    {2027, 10, 31, false, "a sunday before all saints 2027"},
    {2027, 4, 5, false, "a monday after easter 2027"},
};

static void public_holidays_2026_and_2027(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(holiday_cases); i++) {
        const struct holiday_case *c = &holiday_cases[i];
        if (hours_is_public_holiday(c->y, c->m, c->d) != c->holiday)
            fail_msg("%s (%d.%d.%d): want %d", c->why, c->d, c->m, c->y, c->holiday);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_csv_value_parses),
        cmocka_unit_test(other_valid_forms_parse),
        cmocka_unit_test(bad_formats_are_rejected_with_column),
        cmocka_unit_test(null_err_is_allowed),
        cmocka_unit_test(open_at_follows_the_rules),
        cmocka_unit_test(always_open_until_zero),
        cmocka_unit_test(spring_forward_night_is_an_hour_shorter),
        cmocka_unit_test(fall_back_night_is_an_hour_longer),
        cmocka_unit_test(local_hhmm_uses_helsinki_time),
        cmocka_unit_test(easter_follows_gregorian_computus),
        cmocka_unit_test(public_holidays_2026_and_2027),
    };
    return cmocka_run_group_tests(tests, set_helsinki, NULL);
}
