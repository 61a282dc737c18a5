/*
 * test_log.c: unit tests for log.c, the last guard of the privacy promise.
 * A table pins down what log_scrub redacts (phone numbers in every usual
 * shape) and what it must keep (short numbers, ports, dates, counts, hex
 * pseudonyms); whole lines written through log_event are checked for their
 * shape, for redaction, for newline injection and for level filtering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

struct scrub_case {
    const char *in;
    const char *out;
};

static const struct scrub_case scrub_cases[] = {
    /* Redacted: every usual way of writing a Finnish number. */
    {"+358401234567", "[redacted]"},
    {"from +358401234567 said hi", "from [redacted] said hi"},
    {"040 123 4567", "[redacted]"},
    {"call 040 123 4567 now", "call [redacted] now"},
    {"040-1234567", "[redacted]"},
    {"to=040-1234567 ok", "to=[redacted] ok"},
    {"0401234567", "[redacted]"},
    {"text=\"my number is 0401234567.\"", "text=\"my number is [redacted].\""},
    {"+358 40 123 4567", "[redacted]"},
    {"+358-40-123-4567", "[redacted]"},
    {"1234567", "[redacted]"}, /* seven digits is the shortest run treated as a number */
    {"(0401234567)", "([redacted])"},
    {"a=0401234567,b=0501234567", "a=[redacted],b=[redacted]"},
    {"0401234567 0501234567x", "[redacted]x"}, /* single space joins the runs */
    {"tel:+358401234567", "tel:[redacted]"},
    /* Kept: not phone numbers. */
    {"", ""},
    {"dial 112", "dial 112"},
    {"port=8080", "port=8080"},
    {"listen=127.0.0.1:8080", "listen=127.0.0.1:8080"},
    {"day=2026-11-24", "day=2026-11-24"},
    {"2026-11-24", "2026-11-24"},
    {"contact=ab12cd34", "contact=ab12cd34"},
    {"contact=deadbeef01", "contact=deadbeef01"},
    {"n=123456", "n=123456"},
    {"123456", "123456"},
    {"status=200 bytes=65536 ms=12", "status=200 bytes=65536 ms=12"},
    {"12:30:45", "12:30:45"},
    {"v=1.234567", "v=1.234567"},
    {"a  1234  567", "a  1234  567"}, /* two spaces end a run */
    {"+", "+"},
    {"+12", "+12"},
    {"1-2-3", "1-2-3"},
};

static void scrub_redacts_phone_numbers_and_keeps_other_digits(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(scrub_cases); i++) {
        const struct scrub_case *c = &scrub_cases[i];
        char buf[256];
        size_t n;

        snprintf(buf, sizeof(buf), "%s", c->in);
        n = log_scrub(buf, sizeof(buf));
        if (strcmp(buf, c->out) != 0)
            fail_msg("'%s': scrubbed to '%s', expected '%s'", c->in, buf, c->out);
        if (n != strlen(buf))
            fail_msg("'%s': returned %zu, length is %zu", c->in, n, strlen(buf));
    }
}

/* Longest run of consecutive decimal digits in s. */
static size_t longest_digit_run(const char *s)
{
    size_t best = 0, cur = 0;

    for (; *s != '\0'; s++) {
        cur = isdigit((unsigned char)*s) ? cur + 1 : 0;
        if (cur > best)
            best = cur;
    }
    return best;
}

static void scrub_truncates_rather_than_overflow_a_full_buffer(void **state)
{
    /* The mark is longer than a 7-digit run: the tail must be cut, not the guard dropped. */
    char buf[32] = "1234567 and the rest of it";
    size_t n;

    (void)state;
    n = log_scrub(buf, 27);
    assert_true(n <= 26);
    assert_int_equal(n, strlen(buf));
    assert_memory_equal(buf, "[redacted]", 10);
    assert_true(longest_digit_run(buf) < 7);
}

/*
 * A number at the very end of a buffer with no room for the mark must still
 * disappear: printing it is worse than losing the end of the line.
 */
static void scrub_never_keeps_a_number_it_has_no_room_to_mark(void **state)
{
    static const char *const cases[] = {
        "call 1234567", "x 0401234567", "a 1234567 b", "+358401234567", "ab 040 123 4567",
    };

    (void)state;
    for (size_t i = 0; i < N_ROWS(cases); i++) {
        char buf[64];
        size_t cap = strlen(cases[i]) + 1;

        snprintf(buf, sizeof(buf), "%s", cases[i]);
        log_scrub(buf, cap);
        if (longest_digit_run(buf) >= 7 || strlen(buf) >= cap)
            fail_msg("'%s' with cap %zu: scrubbed to '%s'", cases[i], cap, buf);
    }
}

struct capture {
    char *text;
    size_t size;
    FILE *f;
};

static int setup(void **state)
{
    struct capture *c = calloc(1, sizeof(*c));

    if (c == NULL || (c->f = open_memstream(&c->text, &c->size)) == NULL)
        return -1;
    log_set_stream(c->f);
    log_set_level(LOG_LEVEL_INFO);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct capture *c = *state;

    log_set_stream(NULL);
    log_set_level(LOG_LEVEL_INFO);
    fclose(c->f);
    free(c->text);
    free(c);
    return 0;
}

/* What has been logged so far (log_event flushes after each line). */
static const char *captured(const struct capture *c)
{
    fflush(c->f);
    return c->text != NULL ? c->text : "";
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void event_line_has_time_level_event_and_fields(void **state)
{
    struct capture *c = *state;
    regex_t re;
    const char *out;

    log_info("x.y", "listen=%s n=%d", "127.0.0.1:8080", 3);
    out = captured(c);
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z "
                             "level=info event=x\\.y listen=127\\.0\\.0\\.1:8080 n=3\n$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    if (regexec(&re, out, 0, NULL, 0) != 0)
        fail_msg("unexpected line: %s", out);
    regfree(&re);
}

static void event_without_fields_ends_after_the_event_name(void **state)
{
    struct capture *c = *state;
    const char *out, *tail = " level=warn event=server.stop\n";

    log_warn("server.stop", NULL);
    out = captured(c);
    assert_int_equal(count_lines(out), 1);
    /* The line ends right after the event name (no trailing space). */
    assert_true(strlen(out) > strlen(tail));
    assert_string_equal(out + strlen(out) - strlen(tail), tail);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-zero-length"
    log_warn("server.stop", "");
#pragma GCC diagnostic pop
    out = captured(c);
    assert_int_equal(count_lines(out), 2);
    assert_string_equal(out + strlen(out) - strlen(tail), tail);
}

static void event_line_redacts_a_phone_number(void **state)
{
    struct capture *c = *state;
    const char *out;

    log_info("x.y", "from=%s text=\"%s\"", "+358401234567", "call me at 040 123 4567");
    out = captured(c);
    assert_non_null(strstr(out, "level=info event=x.y from=[redacted] "
                                "text=\"call me at [redacted]\"\n"));
    assert_null(strstr(out, "358401234567"));
    assert_null(strstr(out, "4567"));
}

static void newlines_in_values_cannot_forge_a_second_line(void **state)
{
    struct capture *c = *state;
    const char *out;

    log_error("x.y", "problem=\"%s\"", "bad\nlevel=info event=forged\r\nmore");
    out = captured(c);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "problem=\"bad level=info event=forged  more\"\n"));
}

static void a_number_split_by_a_newline_is_still_redacted(void **state)
{
    struct capture *c = *state;

    log_info("x.y", "text=\"040\n1234567\"");
    assert_non_null(strstr(captured(c), "text=\"[redacted]\""));
}

static void overlong_line_is_cut_to_one_line(void **state)
{
    struct capture *c = *state;
    char *big = malloc(5000);
    const char *out;

    assert_non_null(big);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    log_info("x.y", "v=%s", big);
    out = captured(c);
    assert_int_equal(count_lines(out), 1);
    assert_true(strlen(out) <= 2048);
    assert_int_equal(out[strlen(out) - 1], '\n');
    free(big);
}

/*
 * Whatever the length of the text before it, a phone number at the end of a
 * line that fills the buffer must not be written (the line may be cut).
 */
static void number_at_the_end_of_a_full_line_is_not_logged(void **state)
{
    struct capture *c = *state;
    static char pad[2100];

    for (size_t len = 1960; len < 2020; len++) {
        memset(pad, 'a', len);
        pad[len] = '\0';
        /* A fresh capture per row: only this line is checked. */
        fclose(c->f);
        free(c->text);
        c->text = NULL;
        assert_non_null(c->f = open_memstream(&c->text, &c->size));
        log_set_stream(c->f);
        log_info("x.y", "pad=%s to=%s", pad, "0401234567");
        fflush(c->f);
        if (longest_digit_run(c->text) >= 7)
            fail_msg("pad of %zu: the number reached the log: ...%s", len,
                     c->text + strlen(c->text) - 20);
    }
}

static void level_filter_suppresses_lower_levels(void **state)
{
    struct capture *c = *state;
    static const struct {
        enum log_level min, level;
        bool written;
    } cases[] = {
        {LOG_LEVEL_INFO, LOG_LEVEL_DEBUG, false}, {LOG_LEVEL_INFO, LOG_LEVEL_INFO, true},
        {LOG_LEVEL_INFO, LOG_LEVEL_WARN, true},   {LOG_LEVEL_INFO, LOG_LEVEL_ERROR, true},
        {LOG_LEVEL_DEBUG, LOG_LEVEL_DEBUG, true}, {LOG_LEVEL_WARN, LOG_LEVEL_INFO, false},
        {LOG_LEVEL_ERROR, LOG_LEVEL_WARN, false}, {LOG_LEVEL_ERROR, LOG_LEVEL_ERROR, true},
    };

    for (size_t i = 0; i < N_ROWS(cases); i++) {
        size_t before = count_lines(captured(c));

        log_set_level(cases[i].min);
        assert_int_equal(log_get_level(), cases[i].min);
        log_event(cases[i].level, "t.level", "row=%zu", i);
        if ((count_lines(captured(c)) > before) != cases[i].written)
            fail_msg("row %zu: level %s at minimum %s %s", i, log_level_name(cases[i].level),
                     log_level_name(cases[i].min), cases[i].written ? "not written" : "written");
    }
    assert_null(strstr(captured(c), "level=debug event=t.level row=0"));
    assert_non_null(strstr(captured(c), "level=debug event=t.level row=4"));
}

static void level_names_parse_and_print_back(void **state)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    static const char *const bad[] = {"", "verbose", "warning", "INFO", "info ", "err"};
    enum log_level level;

    (void)state;
    for (size_t i = 0; i < N_ROWS(names); i++) {
        assert_int_equal(log_level_parse(names[i], &level), 0);
        assert_int_equal(level, (enum log_level)i);
        assert_string_equal(log_level_name(level), names[i]);
    }
    for (size_t i = 0; i < N_ROWS(bad); i++) {
        level = LOG_LEVEL_ERROR;
        if (log_level_parse(bad[i], &level) != -1)
            fail_msg("'%s' parsed as a level", bad[i]);
        assert_int_equal(level, LOG_LEVEL_ERROR); /* untouched on failure */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        cmocka_unit_test(scrub_redacts_phone_numbers_and_keeps_other_digits),
        cmocka_unit_test(scrub_truncates_rather_than_overflow_a_full_buffer),
        cmocka_unit_test(scrub_never_keeps_a_number_it_has_no_room_to_mark),
        T(event_line_has_time_level_event_and_fields),
        T(event_without_fields_ends_after_the_event_name),
        T(event_line_redacts_a_phone_number),
        T(newlines_in_values_cannot_forge_a_second_line),
        T(a_number_split_by_a_newline_is_still_redacted),
        T(overlong_line_is_cut_to_one_line),
        T(number_at_the_end_of_a_full_line_is_not_logged),
        T(level_filter_suppresses_lower_levels),
        cmocka_unit_test(level_names_parse_and_print_back),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
