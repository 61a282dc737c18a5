/*
 * test_utf8.c: unit tests for utf8.c. Tables of byte strings pin down the
 * strict decoder (every malformed class from RFC 3629 and the Unicode
 * "Best Practice" list), boundary-safe truncation, and the keyword folding
 * that lets "  HJÄLP " match "hjalp".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define BYTES(s) s, sizeof(s) - 1

/* Invisible characters are spelled out so that the tables can be read. */
#define NBSP "\xc2\xa0"                /* U+00A0 no-break space */
#define SHY "\xc2\xad"                 /* U+00AD soft hyphen */
#define COMBINING_DIAERESIS "\xcc\x88" /* U+0308 */
#define EM_SPACE "\xe2\x80\x83"        /* U+2003 */
#define ZWSP "\xe2\x80\x8b"            /* U+200B zero-width space */
#define RLM "\xe2\x80\x8f"             /* U+200F right-to-left mark */
#define NNBSP "\xe2\x80\xaf"           /* U+202F narrow no-break space */
#define BOM "\xef\xbb\xbf"             /* U+FEFF */

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

struct valid_case {
    const char *why;
    const char *in;
    size_t len;
    bool valid;
};

static const struct valid_case valid_cases[] = {
    {"empty", BYTES(""), true},
    {"ascii", BYTES("apua"), true},
    {"embedded nul is a code point", BYTES("a\0b"), true},
    {"two-byte ä", BYTES("hjälp"), true},
    {"three-byte €", BYTES("€"), true},
    {"four-byte emoji", BYTES("😀"), true},
    {"lowest two-byte U+0080", BYTES("\xc2\x80"), true},
    {"lowest three-byte U+0800", BYTES("\xe0\xa0\x80"), true},
    {"lowest four-byte U+10000", BYTES("\xf0\x90\x80\x80"), true},
    {"last before surrogates U+D7FF", BYTES("\xed\x9f\xbf"), true},
    {"first after surrogates U+E000", BYTES("\xee\x80\x80"), true},
    {"U+FFFF", BYTES("\xef\xbf\xbf"), true},
    {"highest U+10FFFF", BYTES("\xf4\x8f\xbf\xbf"), true},
    {"above U+10FFFF", BYTES("\xf4\x90\x80\x80"), false},
    {"lead byte F5", BYTES("\xf5\x80\x80\x80"), false},
    {"lead byte FE", BYTES("\xfe"), false},
    {"lead byte FF", BYTES("\xff"), false},
    {"overlong C0 80 (nul)", BYTES("\xc0\x80"), false},
    {"overlong C1 BF", BYTES("\xc1\xbf"), false},
    {"overlong three-byte slash", BYTES("\xe0\x80\xaf"), false},
    {"overlong three-byte U+07FF", BYTES("\xe0\x9f\xbf"), false},
    {"overlong four-byte", BYTES("\xf0\x80\x80\xaf"), false},
    {"overlong four-byte U+FFFF", BYTES("\xf0\x8f\xbf\xbf"), false},
    {"high surrogate U+D800", BYTES("\xed\xa0\x80"), false},
    {"low surrogate U+DFFF", BYTES("\xed\xbf\xbf"), false},
    {"cesu-8 surrogate pair", BYTES("\xed\xa0\xbd\xed\xb8\x80"), false},
    {"lone continuation byte", BYTES("\x80"), false},
    {"continuation after ascii", BYTES("a\xbf"), false},
    {"truncated two-byte", BYTES("\xc3"), false},
    {"truncated three-byte", BYTES("\xe2\x82"), false},
    {"truncated four-byte", BYTES("\xf0\x9f\x98"), false},
    {"truncated at end of text", BYTES("hj\xc3"), false},
    {"lead byte followed by ascii", BYTES("\xc3Q"), false},
    {"three-byte interrupted", BYTES("\xe2\x82Q"), false},
};

static void valid_accepts_well_formed_and_rejects_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(valid_cases); i++) {
        const struct valid_case *c = &valid_cases[i];

        if (utf8_valid(c->in, c->len) != c->valid)
            fail_msg("%s: expected %s", c->why, c->valid ? "valid" : "invalid");
    }
}

static void valid_respects_length_not_terminator(void **state)
{
    (void)state;
    /* Cutting "ä" in half must be caught even though the byte after it is readable. */
    assert_false(utf8_valid("ä", 1));
    assert_true(utf8_valid("äxyz", 2));
}

static void decode_walks_code_points_and_advances_pos(void **state)
{
    static const char text[] = "aä€😀";
    static const uint32_t want_cp[] = {0x61, 0xE4, 0x20AC, 0x1F600};
    static const size_t want_pos[] = {1, 3, 6, 10};
    size_t pos = 0;
    uint32_t cp;

    (void)state;
    for (size_t i = 0; i < N_ROWS(want_cp); i++) {
        assert_int_equal(utf8_decode(text, sizeof(text) - 1, &pos, &cp), 0);
        assert_int_equal(cp, want_cp[i]);
        assert_int_equal(pos, want_pos[i]);
    }
    assert_int_equal(utf8_decode(text, sizeof(text) - 1, &pos, &cp), -1);
    assert_int_equal(pos, sizeof(text) - 1);
}

static void decode_failure_leaves_pos_and_cp_untouched(void **state)
{
    static const char text[] = "a\xed\xa0\x80";
    size_t pos = 1;
    uint32_t cp = 0x1234;

    (void)state;
    assert_int_equal(utf8_decode(text, sizeof(text) - 1, &pos, &cp), -1);
    assert_int_equal(pos, 1);
    assert_int_equal(cp, 0x1234);
}

struct encode_case {
    uint32_t cp;
    const char *out;
    size_t len;
};

static const struct encode_case encode_cases[] = {
    {0x00, BYTES("\0")},
    {0x41, BYTES("A")},
    {0x7F, BYTES("\x7f")},
    {0x80, BYTES("\xc2\x80")},
    {0xE4, BYTES("\xc3\xa4")},
    {0x7FF, BYTES("\xdf\xbf")},
    {0x800, BYTES("\xe0\xa0\x80")},
    {0x20AC, BYTES("\xe2\x82\xac")},
    {0xD7FF, BYTES("\xed\x9f\xbf")},
    {0xD800, BYTES("")},
    {0xDFFF, BYTES("")},
    {0xE000, BYTES("\xee\x80\x80")},
    {0xFFFF, BYTES("\xef\xbf\xbf")},
    {0x10000, BYTES("\xf0\x90\x80\x80")},
    {0x1F600, BYTES("\xf0\x9f\x98\x80")},
    {0x10FFFF, BYTES("\xf4\x8f\xbf\xbf")},
    {0x110000, BYTES("")},
    {0xFFFFFFFF, BYTES("")},
};

static void encode_writes_shortest_form_and_refuses_non_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(encode_cases); i++) {
        const struct encode_case *c = &encode_cases[i];
        char out[4];
        size_t pos = 0;
        uint32_t back;
        size_t n = utf8_encode(c->cp, out);

        if (n != c->len)
            fail_msg("U+%04X: encoded to %zu bytes, expected %zu", (unsigned)c->cp, n, c->len);
        assert_memory_equal(out, c->out, n);
        if (n > 0) {
            /* Whatever the encoder writes, the strict decoder must read back. */
            assert_int_equal(utf8_decode(out, n, &pos, &back), 0);
            assert_int_equal(back, c->cp);
            assert_int_equal(pos, n);
        }
    }
}

struct count_case {
    const char *in;
    size_t count;
};

static const struct count_case count_cases[] = {
    {"", 0}, {"apua", 4}, {"hjälp", 5}, {"€5", 2}, {"😀😀", 2}, {"Помощь", 6},
};

static void count_counts_code_points_not_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(count_cases); i++)
        assert_int_equal(utf8_count(count_cases[i].in), count_cases[i].count);
}

struct truncate_case {
    const char *in;
    size_t max;
    size_t want;
};

static const struct truncate_case truncate_cases[] = {
    {"", 0, 0},           /* empty stays empty */
    {"", 10, 0},          /* room to spare */
    {"apua", 0, 0},       /* no room at all */
    {"apua", 3, 3},       /* ASCII cuts anywhere */
    {"apua", 4, 4},       /* exact fit */
    {"apua", 100, 4},     /* shorter than the limit */
    {"hjälp", 2, 2},      /* cut just before ä */
    {"hjälp", 3, 2},      /* would split ä */
    {"hjälp", 4, 4},      /* cut just after ä */
    {"€", 1, 0},          /* three bytes that cannot be cut */
    {"€", 2, 0},          /* still inside € */
    {"€", 3, 3},          /* whole € */
    {"a😀b", 4, 1},        /* the emoji takes bytes 1..4 */
    {"a😀b", 5, 5},        /* whole emoji */
    {"a😀b", 6, 6},        /* whole text */
    {"abc", SIZE_MAX, 3}, /* no overflow at the largest limit */
};

static void truncate_never_splits_a_code_point(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(truncate_cases); i++) {
        const struct truncate_case *c = &truncate_cases[i];
        size_t got = utf8_truncate(c->in, c->max);

        if (got != c->want)
            fail_msg("row %zu: truncate to %zu gave %zu, expected %zu", i, c->max, got, c->want);
        assert_true(utf8_valid(c->in, got));
    }
}

struct fold_case {
    const char *in;
    const char *want; /* NULL: fold must fail */
};

static const struct fold_case fold_cases[] = {
    /* Keywords as users type them. */
    {"APUA", "apua"},
    {"apua", "apua"},
    {"Apua", "apua"},
    {"HJÄLP", "hjalp"},
    {"HJALP", "hjalp"},
    {"hjälp", "hjalp"},
    {"  HJÄLP ", "hjalp"},
    {"SVENSKA", "svenska"},
    {"  stop  ", "stop"},
    {"STOP", "stop"},
    /* Whitespace: trimmed, runs collapsed, Unicode spaces included. */
    {"", ""},
    {"   ", ""},
    {" \t\r\n", ""},
    {"en  gl\tish", "en gl ish"},
    {"stop \t\r\n now", "stop now"},
    {NBSP "apua" NBSP, "apua"},
    {"apua" NBSP NBSP "nyt", "apua nyt"},
    {EM_SPACE "apua" NNBSP, "apua"},
    /* Invisible characters vanish. */
    {BOM "apua", "apua"},
    {"ap" ZWSP "ua", "apua"},
    {"ap" SHY "ua", "apua"},
    /* Accents a basic phone drops, both cases. */
    {"äöåÄÖÅ", "aoaaoa"},
    {"éÉüÜ", "eeuu"},
    {"õÕ", "oo"},
    {"šžŠŽ", "szsz"},
    {"TÕE", "toe"},
    {"Łódź", "lodz"},
    {"Ça", "ca"},
    {"Ñandú", "nandu"},
    {"ÿýÝ", "yyy"},
    {"øØ", "oo"},
    {"Straße", "strasse"},
    {"Ææ", "aeae"},
    {"Œuvre", "oeuvre"},
    {"Þingvellir", "thingvellir"},
    {"×÷", "×÷"}, /* signs in the Latin-1 letter block, not letters */
    /* Decomposed accents (A + combining diaeresis) fold like precomposed ones. */
    {"HJA" COMBINING_DIAERESIS "LP", "hjalp"},
    /* Other scripts: simple lower-casing, nothing removed. */
    {"ПОМОЩЬ", "помощь"},
    {"ЁЛКА", "ёлка"},
    {"ҐІ", "ґі"}, /* Ukrainian */
    {"й", "й"},   /* keeps its breve */
    {"ΒΟΗΘΕΙΑ", "βοηθεια"},
    {" مساعدة ", "مساعدة"},
    {RLM "مس" RLM, "مس"}, /* bidi marks around right-to-left text */
    {"Apua 😢", "apua 😢"},
    /* Invalid input. */
    {"hj\xc3", NULL},
    {"\xed\xa0\x80", NULL},
    {"\xc0\xaf", NULL},
};

static void fold_matches_keywords_across_case_accents_and_spacing(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(fold_cases); i++) {
        const struct fold_case *c = &fold_cases[i];
        char *got = utf8_fold(c->in);

        if (c->want == NULL) {
            if (got != NULL)
                fail_msg("row %zu: expected failure, got \"%s\"", i, got);
            continue;
        }
        if (got == NULL)
            fail_msg("row %zu: fold of \"%s\" failed", i, c->in);
        if (strcmp(got, c->want) != 0)
            fail_msg("row %zu: fold of \"%s\" gave \"%s\", expected \"%s\"", i, c->in, got,
                     c->want);
        assert_true(strlen(got) <= strlen(c->in));
        free(got);
    }
}

static void fold_rejects_null(void **state)
{
    (void)state;
    assert_null(utf8_fold(NULL));
}

static void fold_is_idempotent(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(fold_cases); i++) {
        char *once, *twice;

        if (fold_cases[i].want == NULL)
            continue;
        once = utf8_fold(fold_cases[i].in);
        assert_non_null(once);
        twice = utf8_fold(once);
        assert_non_null(twice);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_accepts_well_formed_and_rejects_malformed),
        cmocka_unit_test(valid_respects_length_not_terminator),
        cmocka_unit_test(decode_walks_code_points_and_advances_pos),
        cmocka_unit_test(decode_failure_leaves_pos_and_cp_untouched),
        cmocka_unit_test(encode_writes_shortest_form_and_refuses_non_characters),
        cmocka_unit_test(count_counts_code_points_not_bytes),
        cmocka_unit_test(truncate_never_splits_a_code_point),
        cmocka_unit_test(fold_matches_keywords_across_case_accents_and_spacing),
        cmocka_unit_test(fold_rejects_null),
        cmocka_unit_test(fold_is_idempotent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
