/*
 * test_csv.c: unit tests for csv.c. The table runs small files through the
 * reader from memory (fmemopen) and compares every row, field by field, or
 * the error and its line number. Reference data comes from spreadsheets, so
 * CRLF, byte order marks, quoted commas and line breaks all appear in practice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define MAX_ROWS 4
#define MAX_FIELDS 4

struct read_case {
    const char *why;
    const char *input;
    size_t nrows;
    size_t nfields[MAX_ROWS];
    const char *fields[MAX_ROWS][MAX_FIELDS];
    size_t lines[MAX_ROWS]; /* line on which each row starts */
};

static const struct read_case read_cases[] = {
    {"simple rows with LF", "a,b\nc,d\n", 2, {2, 2}, {{"a", "b"}, {"c", "d"}}, {1, 2}},
    {"CRLF line ends", "a,b\r\nc,d\r\n", 2, {2, 2}, {{"a", "b"}, {"c", "d"}}, {1, 2}},
    {"last line without line end", "a,b\nc,d", 2, {2, 2}, {{"a", "b"}, {"c", "d"}}, {1, 2}},
    {"empty fields are kept", ",x,\n", 1, {3}, {{"", "x", ""}}, {1}},
    {"quoted comma stays in the field",
     "\"Hyvinkää, sairaala-alue\",x\n",
     1,
     {2},
     {{"Hyvinkää, sairaala-alue", "x"}},
     {1}},
    {"doubled quote is one quote", "\"say \"\"hi\"\"\",x\n", 1, {2}, {{"say \"hi\"", "x"}}, {1}},
    {"quoted empty field", "\"\",x\n", 1, {2}, {{"", "x"}}, {1}},
    {"quoted line break stays and counts as a line",
     "\"a\nb\",c\nd\n",
     2,
     {2, 1},
     {{"a\nb", "c"}, {"d"}},
     {1, 3}},
    {"quoted CRLF becomes LF", "\"a\r\nb\"\r\nc\r\n", 2, {1, 1}, {{"a\nb"}, {"c"}}, {1, 3}},
    {"blank lines are skipped but counted", "a\n\n\r\nb\n", 2, {1, 1}, {{"a"}, {"b"}}, {1, 4}},
    {"byte order mark is dropped",
     "\xef\xbb\xbf"
     "postal_code,name\n",
     1,
     {2},
     {{"postal_code", "name"}},
     {1}},
    {"spaces are data", " a , b \n", 1, {2}, {{" a ", " b "}}, {1}},
    {"UTF-8 letters pass", "Jyväskylä,Björneborg\n", 1, {2}, {{"Jyväskylä", "Björneborg"}}, {1}},
    {"empty file has no rows", "", 0, {0}, {{NULL}}, {0}},
    {"only blank lines have no rows", "\n\r\n\n", 0, {0}, {{NULL}}, {0}},
};

/* Opens text as a read-only stream; fmemopen rejects size 0, so use a file then. */
static FILE *open_text(const char *text)
{
    FILE *fp = strlen(text) ? fmemopen((void *)text, strlen(text), "r") : tmpfile();

    assert_non_null(fp);
    return fp;
}

static void read_row_handles_quotes_line_ends_and_blank_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(read_cases); i++) {
        const struct read_case *c = &read_cases[i];
        FILE *fp = open_text(c->input);
        struct csv_reader r;
        struct csv_row row = CSV_ROW_INIT;
        char err[ERR_LEN] = "";
        size_t n = 0;
        int rc;

        csv_reader_init(&r, fp);
        while ((rc = csv_read_row(&r, &row, err)) == 1) {
            if (n >= c->nrows)
                fail_msg("%s: unexpected row %zu", c->why, n + 1);
            if (row.n != c->nfields[n])
                fail_msg("%s: row %zu has %zu fields, expected %zu", c->why, n + 1, row.n,
                         c->nfields[n]);
            for (size_t f = 0; f < row.n; f++) {
                if (strcmp(row.fields[f], c->fields[n][f]) != 0)
                    fail_msg("%s: row %zu field %zu is '%s', expected '%s'", c->why, n + 1, f,
                             row.fields[f], c->fields[n][f]);
            }
            if (row.line != c->lines[n])
                fail_msg("%s: row %zu starts on line %zu, expected %zu", c->why, n + 1, row.line,
                         c->lines[n]);
            n++;
        }
        if (rc != 0)
            fail_msg("%s: read failed: %s", c->why, err);
        if (n != c->nrows)
            fail_msg("%s: %zu rows, expected %zu", c->why, n, c->nrows);
        assert_null(row.fields);
        csv_row_release(&row);
        fclose(fp);
    }
}

struct error_case {
    const char *why;
    const char *input;
    size_t good_rows; /* rows read before the error */
    const char *err;
};

static const struct error_case error_cases[] = {
    {"unterminated quote names the line it opened on", "a\nb\n\"c,d\ne\n", 2,
     "line 3: unterminated quote"},
    {"text after a closing quote", "\"a\"b,c\n", 0, "line 1: text after closing quote"},
    {"quote inside an unquoted field", "ok\nab\"c\n", 1, "line 2: quote inside unquoted field"},
    {"invalid UTF-8", "ok\n\xff\n", 1, "line 2: invalid UTF-8"},
    {"truncated UTF-8 sequence", "a,\xc3\n", 0, "line 1: invalid UTF-8"},
    {"overlong UTF-8", "\xc0\xaf\n", 0, "line 1: invalid UTF-8"},
    {"broken byte order mark",
     "\xef\xbb"
     "a\n",
     0, "line 1: invalid UTF-8"},
};

static void read_row_reports_malformed_input_with_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(error_cases); i++) {
        const struct error_case *c = &error_cases[i];
        FILE *fp = open_text(c->input);
        struct csv_reader r;
        struct csv_row row = CSV_ROW_INIT;
        char err[ERR_LEN] = "";
        size_t n = 0;
        int rc;

        csv_reader_init(&r, fp);
        while ((rc = csv_read_row(&r, &row, err)) == 1)
            n++;
        if (rc != -1)
            fail_msg("%s: no error (rc %d)", c->why, rc);
        if (n != c->good_rows)
            fail_msg("%s: %zu rows before the error, expected %zu", c->why, n, c->good_rows);
        if (strcmp(err, c->err) != 0)
            fail_msg("%s: error '%s', expected '%s'", c->why, err, c->err);
        assert_null(row.fields);
        fclose(fp);
    }
}

static void read_row_rejects_nul_byte(void **state)
{
    static const char text[] = "a,b\0c\n";
    FILE *fp = fmemopen((void *)text, sizeof(text) - 1, "r");
    struct csv_reader r;
    struct csv_row row = CSV_ROW_INIT;
    char err[ERR_LEN];

    (void)state;
    assert_non_null(fp);
    csv_reader_init(&r, fp);
    assert_int_equal(csv_read_row(&r, &row, err), -1);
    assert_string_equal(err, "line 1: NUL byte");
    assert_int_equal(r.error_line, 1);
    fclose(fp);
}

static void read_row_caps_row_size(void **state)
{
    size_t len = CSV_ROW_MAX + 10;
    char *text = malloc(len + 2);
    FILE *fp;
    struct csv_reader r;
    struct csv_row row = CSV_ROW_INIT;
    char err[ERR_LEN];

    (void)state;
    assert_non_null(text);
    memcpy(text, "ok\n", 3);
    memset(text + 3, 'x', len - 3);
    text[len] = '\n';
    text[len + 1] = '\0';
    fp = fmemopen(text, len + 1, "r");
    assert_non_null(fp);
    csv_reader_init(&r, fp);
    assert_int_equal(csv_read_row(&r, &row, err), 1);
    assert_int_equal(csv_read_row(&r, &row, err), -1);
    assert_string_equal(err, "line 2: row longer than 65536 bytes");
    fclose(fp);
    free(text);
}

static void row_just_under_cap_is_read(void **state)
{
    /* CSV_ROW_MAX - 1 bytes of text plus its terminating NUL fill the row exactly. */
    size_t len = CSV_ROW_MAX - 1;
    char *text = malloc(len + 1);
    FILE *fp;
    struct csv_reader r;
    struct csv_row row = CSV_ROW_INIT;
    char err[ERR_LEN];

    (void)state;
    assert_non_null(text);
    memset(text, 'x', len);
    text[len] = '\n';
    fp = fmemopen(text, len + 1, "r");
    assert_non_null(fp);
    csv_reader_init(&r, fp);
    assert_int_equal(csv_read_row(&r, &row, err), 1);
    assert_int_equal(strlen(row.fields[0]), len);
    assert_int_equal(csv_read_row(&r, &row, err), 0);
    csv_row_release(&row);
    fclose(fp);
    free(text);
}

static void column_finds_header_names(void **state)
{
    FILE *fp = open_text("postal_code,name_fi,extra,municipality\n");
    struct csv_reader r;
    struct csv_row header = CSV_ROW_INIT;
    char err[ERR_LEN];

    (void)state;
    csv_reader_init(&r, fp);
    assert_int_equal(csv_read_row(&r, &header, err), 1);
    assert_int_equal(csv_column(&header, "postal_code"), 0);
    assert_int_equal(csv_column(&header, "municipality"), 3);
    assert_int_equal(csv_column(&header, "extra"), 2);
    assert_int_equal(csv_column(&header, "lat"), -1);
    assert_int_equal(csv_column(&header, "Postal_code"), -1);
    csv_row_release(&header);
    csv_row_release(&header); /* releasing twice is harmless */
    fclose(fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_row_handles_quotes_line_ends_and_blank_lines),
        cmocka_unit_test(read_row_reports_malformed_input_with_line),
        cmocka_unit_test(read_row_rejects_nul_byte),
        cmocka_unit_test(read_row_caps_row_size),
        cmocka_unit_test(row_just_under_cap_is_read),
        cmocka_unit_test(column_finds_header_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
