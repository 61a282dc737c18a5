/*
 * hours.c: opening hours parser and evaluator (format in hours.h). A parsed
 * value is a list of minute ranges per weekday plus one for public holidays.
 * Evaluation turns the ranges of the local days around t into absolute spans
 * with mktime(tm_isdst = -1), so the wall-clock rules stay right across
 * daylight-saving changes, then answers from those spans.
 */
#include "hours.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"

#define DAY_MIN 1440
#define PH_INDEX 7      /* day[] index of the public holiday rule */
#define WINDOW_BEFORE 1 /* local days before t whose spans can still run at t */
#define WINDOW_AFTER 9  /* local days after t searched for openings */
#define LOOKAHEAD (8LL * 86400)

struct range {
    int start; /* minutes from local midnight, 0..1439 */
    int end;   /* minutes from the same midnight, start < end <= start + DAY_MIN */
};

struct day_rule {
    int n; /* ranges in r; 0 is closed */
    struct range r[HOURS_MAX_RANGES];
};

struct hours {
    bool always;                       /* "24/7" */
    bool has_ph;                       /* some rule names PH: it replaces weekdays on holidays */
    struct day_rule day[PH_INDEX + 1]; /* Mo..Su, then PH */
};

struct parser {
    const char *text; /* whole input, for column numbers */
    const char *p;    /* current position */
    char *err;
};

static const char *const day_names[PH_INDEX + 1] = {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su", "PH"};

static int column(const struct parser *ps)
{
    return (int)(ps->p - ps->text) + 1;
}

static void skip_spaces(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

static int parse_day(struct parser *ps)
{
    for (int i = 0; i <= PH_INDEX; i++) {
        if (strncmp(ps->p, day_names[i], 2) == 0) {
            ps->p += 2;
            return i;
        }
    }
    err_set(ps->err, "column %d: expected a day (Mo Tu We Th Fr Sa Su or PH)", column(ps));
    return -1;
}

/* Parses days into sel[]; -1 on error. */
static int parse_days(struct parser *ps, bool sel[PH_INDEX + 1])
{
    for (;;) {
        const char *item = ps->p;
        int first = parse_day(ps);
        if (first < 0)
            return -1;
        if (*ps->p == '-') {
            ps->p++;
            int last = parse_day(ps);
            if (last < 0)
                return -1;
            if (first == PH_INDEX || last == PH_INDEX) {
                ps->p = item;
                err_set(ps->err, "column %d: 'PH' cannot be part of a day range", column(ps));
                return -1;
            }
            for (int d = first;; d = (d + 1) % 7) {
                sel[d] = true;
                if (d == last)
                    break;
            }
        } else {
            sel[first] = true;
        }
        if (*ps->p != ',')
            return 0;
        ps->p++;
        skip_spaces(ps);
    }
}

static bool is_digit(char c)
{
    return isdigit((unsigned char)c) != 0;
}

/* Parses "HH:MM" into minutes; 24:00 only if is_end. -1 on error. */
static int parse_time(struct parser *ps, bool is_end, const char *expected)
{
    const char *s = ps->p;
    if (!is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' || !is_digit(s[3]) || !is_digit(s[4]) ||
        is_digit(s[5])) {
        err_set(ps->err, "column %d: expected %s", column(ps), expected);
        return -1;
    }
    int hh = (s[0] - '0') * 10 + (s[1] - '0');
    int mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (mm > 59) {
        err_set(ps->err, "column %d: minutes out of range in '%.5s'", column(ps), s);
        return -1;
    }
    if (hh > 23 && !(is_end && hh == 24 && mm == 0)) {
        err_set(ps->err, "column %d: hour out of range in '%.5s'", column(ps), s);
        return -1;
    }
    ps->p += 5;
    return hh * 60 + mm;
}

/* Parses "off" or a list of ranges into *out; -1 on error. */
static int parse_times(struct parser *ps, struct day_rule *out)
{
    out->n = 0;
    if (strncmp(ps->p, "off", 3) == 0 && !isalnum((unsigned char)ps->p[3])) {
        ps->p += 3;
        return 0;
    }
    for (;;) {
        const char *expected = out->n == 0 ? "'off' or a time HH:MM" : "a time HH:MM";
        if (out->n == HOURS_MAX_RANGES) {
            err_set(ps->err, "column %d: more than %d time ranges", column(ps), HOURS_MAX_RANGES);
            return -1;
        }
        int start = parse_time(ps, false, expected);
        if (start < 0)
            return -1;
        if (*ps->p != '-') {
            err_set(ps->err, "column %d: expected '-' after the start time", column(ps));
            return -1;
        }
        ps->p++;
        int end = parse_time(ps, true, "an end time HH:MM");
        if (end < 0)
            return -1;
        if (end <= start)
            end += DAY_MIN; /* overnight into the next day */
        out->r[out->n++] = (struct range){.start = start, .end = end};
        if (*ps->p != ',')
            return 0;
        ps->p++;
        skip_spaces(ps);
    }
}

static int parse_rule(struct parser *ps, struct hours *h)
{
    bool sel[PH_INDEX + 1] = {false};
    struct day_rule rule;

    skip_spaces(ps);
    if (parse_days(ps, sel) < 0)
        return -1;
    if (*ps->p != ' ' && *ps->p != '\t') {
        err_set(ps->err, "column %d: expected a space between days and times", column(ps));
        return -1;
    }
    skip_spaces(ps);
    if (parse_times(ps, &rule) < 0)
        return -1;
    for (int d = 0; d <= PH_INDEX; d++) {
        if (sel[d])
            h->day[d] = rule;
    }
    if (sel[PH_INDEX])
        h->has_ph = true;
    skip_spaces(ps);
    return 0;
}

static bool is_only(const char *text, const char *word)
{
    size_t n = strlen(word);
    while (*text == ' ' || *text == '\t')
        text++;
    if (strncmp(text, word, n) != 0)
        return false;
    for (text += n; *text == ' ' || *text == '\t'; text++)
        ;
    return *text == '\0';
}

struct hours *hours_parse(const char *text, char *err)
{
    if (is_only(text, "")) {
        err_set(err, "empty");
        return NULL;
    }
    struct hours *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    if (is_only(text, "24/7")) {
        h->always = true;
        return h;
    }
    struct parser ps = {.text = text, .p = text, .err = err};
    for (;;) {
        if (parse_rule(&ps, h) < 0)
            goto fail;
        if (*ps.p == '\0')
            return h;
        if (*ps.p != ';') {
            err_set(err, "column %d: expected ';' or the end of the text", column(&ps));
            goto fail;
        }
        ps.p++;
    }
fail:
    free(h);
    return NULL;
}

void hours_free(struct hours *h)
{
    free(h);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* 0 = Monday .. 6 = Sunday. */
static int weekday(int y, int m, int d)
{
    long w = (days_from_civil(y, m, d) + 3) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

void hours_easter(int year, int *month, int *day)
{
    /* Anonymous Gregorian algorithm (Meeus/Jones/Butcher) */
    int a = year % 19, b = year / 100, c = year % 100;
    int d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    *month = (h + l - 7 * m + 114) / 31;
    *day = (h + l - 7 * m + 114) % 31 + 1;
}

bool hours_is_public_holiday(int year, int month, int day)
{
    static const int fixed[][2] = {{1, 1}, {1, 6}, {5, 1}, {12, 6}, {12, 24}, {12, 25}, {12, 26}};
    static const int easter_offsets[] = {-2, 0, 1, 39, 49};

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (month == fixed[i][0] && day == fixed[i][1])
            return true;
    }
    int em, ed;
    hours_easter(year, &em, &ed);
    long delta = days_from_civil(year, month, day) - days_from_civil(year, em, ed);
    for (size_t i = 0; i < sizeof(easter_offsets) / sizeof(easter_offsets[0]); i++) {
        if (delta == easter_offsets[i])
            return true;
    }
    int wd = weekday(year, month, day);
    if (month == 6 && day >= 19 && day <= 25 && wd == 4)
        return true; /* Midsummer Eve, de facto */
    if (month == 6 && day >= 20 && day <= 26 && wd == 5)
        return true; /* Midsummer Day */
    if (((month == 10 && day == 31) || (month == 11 && day <= 6)) && wd == 5)
        return true; /* All Saints' Day */
    return false;
}

struct span {
    long long start, end; /* unix times, start < end */
};

/* Unix time of local minute `minute` (may exceed a day) after midnight of y-mon-mday. */
static long long local_time(int y, int mon, int mday, int minute)
{
    struct tm tm = {
        .tm_year = y,
        .tm_mon = mon,
        .tm_mday = mday + minute / DAY_MIN,
        .tm_hour = minute % DAY_MIN / 60,
        .tm_min = minute % 60,
        .tm_isdst = -1,
    };
    return (long long)mktime(&tm);
}

/* Collects the spans starting on the local days around t into out; returns the count. */
static size_t collect_spans(const struct hours *h, long long t, struct span *out)
{
    time_t tt = (time_t)t;
    struct tm now;
    size_t n = 0;

    if (localtime_r(&tt, &now) == NULL)
        return 0;
    for (int k = -WINDOW_BEFORE; k <= WINDOW_AFTER; k++) {
        /* Noon is never skipped or repeated by a DST change */
        struct tm day = {
            .tm_year = now.tm_year,
            .tm_mon = now.tm_mon,
            .tm_mday = now.tm_mday + k,
            .tm_hour = 12,
            .tm_isdst = -1,
        };
        if (mktime(&day) == (time_t)-1)
            continue;
        const struct day_rule *rule = &h->day[(day.tm_wday + 6) % 7];
        if (h->has_ph && hours_is_public_holiday(day.tm_year + 1900, day.tm_mon + 1, day.tm_mday))
            rule = &h->day[PH_INDEX];
        for (int i = 0; i < rule->n; i++) {
            struct span s = {
                .start = local_time(day.tm_year, day.tm_mon, day.tm_mday, rule->r[i].start),
                .end = local_time(day.tm_year, day.tm_mon, day.tm_mday, rule->r[i].end),
            };
            if (s.start < s.end)
                out[n++] = s;
        }
    }
    return n;
}

bool hours_open_at(const struct hours *h, long long t, long long *until)
{
    struct span spans[(WINDOW_BEFORE + 1 + WINDOW_AFTER) * HOURS_MAX_RANGES];
    long long dummy;

    if (until == NULL)
        until = &dummy;
    *until = 0;
    if (h->always)
        return true;

    size_t n = collect_spans(h, t, spans);
    long long end = 0;
    long long next = 0;
    for (size_t i = 0; i < n; i++) {
        if (spans[i].start <= t && t < spans[i].end && spans[i].end > end)
            end = spans[i].end;
        if (spans[i].start > t && (next == 0 || spans[i].start < next))
            next = spans[i].start;
    }
    if (end == 0) {
        if (next != 0 && next - t <= LOOKAHEAD)
            *until = next;
        return false;
    }
    /* Follow spans that start before the current one ends (overnight into morning) */
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            if (spans[i].start <= end && spans[i].end > end) {
                end = spans[i].end;
                grew = true;
            }
        }
    }
    *until = end - t > LOOKAHEAD ? 0 : end;
    return true;
}

void hours_local_hhmm(long long t, char out[6])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL) {
        memcpy(out, "--:--", 6);
        return;
    }
    out[0] = (char)('0' + tm.tm_hour / 10);
    out[1] = (char)('0' + tm.tm_hour % 10);
    out[2] = ':';
    out[3] = (char)('0' + tm.tm_min / 10);
    out[4] = (char)('0' + tm.tm_min % 10);
    out[5] = '\0';
}
