/*
 * test_gsm7.c: unit tests for gsm7.c. The length table walks every boundary
 * where an SMS gains a part (160/161 and 306/307 septets, 70/71 and 134/135
 * UCS-2 units) plus the cases where a naive division is wrong: an escape or a
 * surrogate pair that would straddle two parts. A message that needs one part
 * more than the author expected costs the helpline real money.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gsm7.h"
#include "utf8.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

#define EURO "€"                 /* U+20AC, extension table */
#define O_TILDE "õ"              /* U+00F5, not GSM-7 */
#define EMOJI "\xf0\x9f\x98\x80" /* 😀 U+1F600, outside the BMP */
#define A_UML "ä"                /* U+00E4, GSM-7 */

/* Invisible characters are spelled out so that the tables can be read. */
#define NBSP "\xc2\xa0"         /* U+00A0 no-break space */
#define SHY "\xc2\xad"          /* U+00AD soft hyphen */
#define EN_SPACE "\xe2\x80\x82" /* U+2002 */
#define ZWSP "\xe2\x80\x8b"     /* U+200B zero-width space */
#define ZWNJ "\xe2\x80\x8c"     /* U+200C zero-width non-joiner */
#define ZWJ "\xe2\x80\x8d"      /* U+200D zero-width joiner */
#define LSEP "\xe2\x80\xa8"     /* U+2028 line separator */
#define NNBSP "\xe2\x80\xaf"    /* U+202F narrow no-break space */
#define MMSP "\xe2\x81\x9f"     /* U+205F medium mathematical space */
#define BOM "\xef\xbb\xbf"      /* U+FEFF */

/* Returns head_count copies of head, then middle, then tail_count copies of tail; caller frees. */
static char *build(const char *head, size_t head_count, const char *middle, const char *tail,
                   size_t tail_count)
{
    size_t hlen = strlen(head), mlen = strlen(middle), tlen = strlen(tail);
    char *s = malloc(hlen * head_count + mlen + tlen * tail_count + 1);
    char *p = s;

    assert_non_null(s);
    for (size_t i = 0; i < head_count; i++, p += hlen)
        memcpy(p, head, hlen);
    memcpy(p, middle, mlen);
    p += mlen;
    for (size_t i = 0; i < tail_count; i++, p += tlen)
        memcpy(p, tail, tlen);
    *p = '\0';
    return s;
}

struct length_case {
    const char *why;
    const char *head; /* text is head x head_count + middle + tail x tail_count */
    size_t head_count;
    const char *middle;
    const char *tail;
    size_t tail_count;
    enum gsm7_encoding encoding;
    size_t units;
    size_t segments;
};

static const struct length_case length_cases[] = {
    {"empty text has no parts", "a", 0, "", "", 0, GSM7_ENC_GSM7, 0, 0},
    {"one character", "a", 1, "", "", 0, GSM7_ENC_GSM7, 1, 1},
    {"160 septets fit one part", "a", 160, "", "", 0, GSM7_ENC_GSM7, 160, 1},
    {"161 septets need two", "a", 161, "", "", 0, GSM7_ENC_GSM7, 161, 2},
    {"306 septets fit two parts of 153", "a", 306, "", "", 0, GSM7_ENC_GSM7, 306, 2},
    {"307 septets need three", "a", 307, "", "", 0, GSM7_ENC_GSM7, 307, 3},
    {"459 septets fit three", "a", 459, "", "", 0, GSM7_ENC_GSM7, 459, 3},
    {"460 septets need four", "a", 460, "", "", 0, GSM7_ENC_GSM7, 460, 4},
    {"GSM-7 letters are one septet", A_UML, 160, "", "", 0, GSM7_ENC_GSM7, 160, 1},
    {"80 euro signs are 160 septets", EURO, 80, "", "", 0, GSM7_ENC_GSM7, 160, 1},
    {"81 euro signs are 162 septets", EURO, 81, "", "", 0, GSM7_ENC_GSM7, 162, 2},
    {"159 septets and an escape overflow", "a", 159, EURO, "", 0, GSM7_ENC_GSM7, 161, 2},
    /*
     * 152 + 2 + 152 = 306 septets, which naive division puts in two parts, but
     * the escape cannot straddle septets 153/154: part one holds 152, part two
     * 2 + 151, and the last 'a' spills into a third part.
     */
    {"escape straddling a boundary moves to the next part", "a", 152, EURO, "a", 152, GSM7_ENC_GSM7,
     306, 3},
    /* 151 + 2 fills part one exactly, so 306 septets stay in two parts. */
    {"escape ending exactly on a boundary fits", "a", 151, EURO, "a", 153, GSM7_ENC_GSM7, 306, 2},
    {"70 UCS-2 units fit one part", O_TILDE, 70, "", "", 0, GSM7_ENC_UCS2, 70, 1},
    {"71 UCS-2 units need two", O_TILDE, 71, "", "", 0, GSM7_ENC_UCS2, 71, 2},
    {"134 UCS-2 units fit two parts of 67", O_TILDE, 134, "", "", 0, GSM7_ENC_UCS2, 134, 2},
    {"135 UCS-2 units need three", O_TILDE, 135, "", "", 0, GSM7_ENC_UCS2, 135, 3},
    {"one õ turns 160 ASCII into UCS-2", "a", 159, O_TILDE, "", 0, GSM7_ENC_UCS2, 160, 3},
    {"euro sign is one UCS-2 unit", O_TILDE, 1, "", EURO, 69, GSM7_ENC_UCS2, 70, 1},
    {"emoji is two UTF-16 units", EMOJI, 1, "", "", 0, GSM7_ENC_UCS2, 2, 1},
    {"35 emoji fit one part", EMOJI, 35, "", "", 0, GSM7_ENC_UCS2, 70, 1},
    {"36 emoji need two", EMOJI, 36, "", "", 0, GSM7_ENC_UCS2, 72, 2},
    /*
     * 66 + 2 + 66 = 134 units: the pair cannot straddle units 67/68, so part
     * one holds 66, part two 2 + 65, and one õ is left for a third part.
     */
    {"surrogate pair straddling a boundary moves to the next part", O_TILDE, 66, EMOJI, O_TILDE, 66,
     GSM7_ENC_UCS2, 134, 3},
    {"surrogate pair ending exactly on a boundary fits", O_TILDE, 65, EMOJI, O_TILDE, 67,
     GSM7_ENC_UCS2, 134, 2},
};

static void analyse_counts_units_and_parts_at_every_boundary(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(length_cases); i++) {
        const struct length_case *c = &length_cases[i];
        char *text = build(c->head, c->head_count, c->middle, c->tail, c->tail_count);
        struct gsm7_info info;

        assert_int_equal(gsm7_analyse(text, strlen(text), &info), 0);
        if (info.encoding != c->encoding || info.units != c->units || info.segments != c->segments)
            fail_msg("%s: got %s %zu units %zu parts, expected %s %zu units %zu parts", c->why,
                     info.encoding == GSM7_ENC_GSM7 ? "GSM-7" : "UCS-2", info.units, info.segments,
                     c->encoding == GSM7_ENC_GSM7 ? "GSM-7" : "UCS-2", c->units, c->segments);
        free(text);
    }
}

struct char_case {
    const char *ch;
    int septets; /* 0: forces UCS-2 */
};

static const struct char_case char_cases[] = {
    /* Nordic and common European letters that are in the default alphabet. */
    {"ä", 1},
    {"ö", 1},
    {"å", 1},
    {"Ä", 1},
    {"Ö", 1},
    {"Å", 1},
    {"é", 1},
    {"É", 1},
    {"ü", 1},
    {"Ü", 1},
    {"Æ", 1},
    {"ø", 1},
    {"ß", 1},
    {"Ç", 1},
    {"à", 1},
    {"£", 1},
    {"§", 1},
    {"Δ", 1},
    {"@", 1},
    {"$", 1},
    {"_", 1},
    {"\n", 1},
    {"\r", 1},
    /* Extension table: escape plus one septet. */
    {"€", 2},
    {"[", 2},
    {"]", 2},
    {"{", 2},
    {"}", 2},
    {"~", 2},
    {"^", 2},
    {"\\", 2},
    {"|", 2},
    {"\f", 2},
    /* Not GSM-7 at all. */
    {"õ", 0},
    {"Õ", 0},
    {"š", 0},
    {"Š", 0},
    {"ž", 0},
    {"Ž", 0},
    {"ç", 0}, /* only the capital Ç is in the alphabet */
    {"á", 0},
    {"`", 0},
    {"\t", 0},
    {"Ж", 0},
    {"ع", 0},
    {"α", 0}, /* only the Greek capitals that differ from Latin ones are GSM-7 */
    {"“", 0},
    {EMOJI, 0},
};

static void analyse_classifies_single_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(char_cases); i++) {
        const struct char_case *c = &char_cases[i];
        struct gsm7_info info;
        size_t pos = 0;
        uint32_t cp;

        assert_int_equal(utf8_decode(c->ch, strlen(c->ch), &pos, &cp), 0);
        if (gsm7_char_septets(cp) != c->septets)
            fail_msg("U+%04X: %d septets, expected %d", (unsigned)cp, gsm7_char_septets(cp),
                     c->septets);
        assert_int_equal(gsm7_analyse(c->ch, strlen(c->ch), &info), 0);
        assert_int_equal(info.segments, 1);
        if (c->septets > 0) {
            assert_int_equal(info.encoding, GSM7_ENC_GSM7);
            assert_int_equal(info.units, c->septets);
            assert_int_equal(info.first_ucs2_char, 0);
        } else {
            assert_int_equal(info.encoding, GSM7_ENC_UCS2);
            assert_int_equal(info.units, cp >= 0x10000 ? 2 : 1);
            assert_int_equal(info.first_ucs2_char, cp);
            assert_int_equal(info.first_ucs2_offset, 0);
        }
    }
}

static void analyse_accepts_whole_default_alphabet(void **state)
{
    /* All 127 characters of GSM 03.38 (every septet but the escape), in septet order. */
    static const char alphabet[] =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    struct gsm7_info info;

    (void)state;
    assert_int_equal(utf8_count(alphabet), 127);
    assert_int_equal(gsm7_analyse(alphabet, sizeof(alphabet) - 1, &info), 0);
    assert_int_equal(info.encoding, GSM7_ENC_GSM7);
    assert_int_equal(info.units, 127);
    assert_int_equal(info.segments, 1);
}

struct first_case {
    const char *text;
    uint32_t cp;
    size_t offset;
};

static const struct first_case first_cases[] = {
    {"Tere õhtust", 0xF5, 5},
    {"Hyvää õš", 0xF5, 8}, /* ä is GSM-7, so õ comes first */
    {"abc šõ", 0x161, 4},
    {"€ " EMOJI, 0x1F600, 4},
};

static void analyse_reports_first_character_that_forces_ucs2(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(first_cases); i++) {
        const struct first_case *c = &first_cases[i];
        struct gsm7_info info;

        assert_int_equal(gsm7_analyse(c->text, strlen(c->text), &info), 0);
        assert_int_equal(info.encoding, GSM7_ENC_UCS2);
        assert_int_equal(info.first_ucs2_char, c->cp);
        assert_int_equal(info.first_ucs2_offset, c->offset);
    }
}

static void analyse_stops_at_given_length(void **state)
{
    struct gsm7_info info;

    (void)state;
    /* The õ after the length limit must not be seen. */
    assert_int_equal(gsm7_analyse("abcõ", 3, &info), 0);
    assert_int_equal(info.encoding, GSM7_ENC_GSM7);
    assert_int_equal(info.units, 3);
}

static void analyse_rejects_invalid_utf8(void **state)
{
    static const char *const bad[] = {"abc\xc3", "\xed\xa0\x80", "\xc0\xaf", "a\xff"};
    struct gsm7_info info;

    (void)state;
    for (size_t i = 0; i < N_ROWS(bad); i++)
        assert_int_equal(gsm7_analyse(bad[i], strlen(bad[i]), &info), -1);
}

struct normalise_case {
    const char *in;
    const char *want; /* NULL: normalising must fail */
};

static const struct normalise_case normalise_cases[] = {
    {"“Hei” – ‘moi’…", "\"Hei\" - 'moi'..."},
    {"", ""},
    {"plain ASCII stays", "plain ASCII stays"},
    {"‚a‛ „b‟", "'a' \"b\""},
    {"5′ 6″", "5' 6\""},
    {"«apua» ‹x›", "\"apua\" 'x'"},
    {"`a´", "'a'"},
    {"a—b−c‑d‐e‒f―g", "a-b-c-d-e-f-g"},
    {"• Kela", "- Kela"},
    {"klo" NBSP "18", "klo 18"},
    {"a" EN_SPACE "b" NNBSP "c" MMSP "d", "a b c d"},
    {"a\tb", "a b"},
    {"a" LSEP "b", "a\nb"},
    {BOM "apu" SHY "a" ZWSP "!", "apua!"},
    {"a" ZWNJ ZWJ "b", "ab"},
    {"Tõnu €", "Tõnu €"}, /* letters and the euro sign are kept */
    {"Помощь", "Помощь"},
    {"bad \xc3", NULL},
    {"\xed\xb0\x80", NULL},
};

static void normalise_replaces_lookalikes_with_gsm7_twins(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(normalise_cases); i++) {
        const struct normalise_case *c = &normalise_cases[i];
        char *got = gsm7_normalise(c->in);

        if (c->want == NULL) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        assert_string_equal(got, c->want);
        free(got);
    }
}

static void normalised_word_processor_text_is_gsm7(void **state)
{
    static const char pasted[] = "“Hei” – ‘moi’…" NBSP "• Soita" ZWSP " 116‑123";
    struct gsm7_info before, after;
    char *fixed;

    (void)state;
    assert_int_equal(gsm7_analyse(pasted, sizeof(pasted) - 1, &before), 0);
    assert_int_equal(before.encoding, GSM7_ENC_UCS2);
    fixed = gsm7_normalise(pasted);
    assert_non_null(fixed);
    assert_string_equal(fixed, "\"Hei\" - 'moi'... - Soita 116-123");
    assert_int_equal(gsm7_analyse(fixed, strlen(fixed), &after), 0);
    assert_int_equal(after.encoding, GSM7_ENC_GSM7);
    free(fixed);
}

static void normalise_rejects_null(void **state)
{
    (void)state;
    assert_null(gsm7_normalise(NULL));
}

struct describe_case {
    uint32_t cp;
    const char *want;
};

static const struct describe_case describe_cases[] = {
    {0xF5, "'õ' (U+00F5)"},
    {0x161, "'š' (U+0161)"},
    {0x41, "'A' (U+0041)"},
    {0x1F600, "'" EMOJI "' (U+1F600)"},
    {0x10FFFF, "'\xf4\x8f\xbf\xbf' (U+10FFFF)"},
    {0x0A, "U+000A"},
    {0x09, "U+0009"},
    {0x7F, "U+007F"},
    {0x200B, "U+200B"},
    {0x0308, "U+0308"},
    {0xD800, "U+D800"},
    {0x110000, "U+110000"},
};

static void describe_char_quotes_printable_characters_with_code_point(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(describe_cases); i++) {
        char out[GSM7_DESCRIBE_LEN];

        assert_ptr_equal(gsm7_describe_char(describe_cases[i].cp, out), out);
        assert_string_equal(out, describe_cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(analyse_counts_units_and_parts_at_every_boundary),
        cmocka_unit_test(analyse_classifies_single_characters),
        cmocka_unit_test(analyse_accepts_whole_default_alphabet),
        cmocka_unit_test(analyse_reports_first_character_that_forces_ucs2),
        cmocka_unit_test(analyse_stops_at_given_length),
        cmocka_unit_test(analyse_rejects_invalid_utf8),
        cmocka_unit_test(normalise_replaces_lookalikes_with_gsm7_twins),
        cmocka_unit_test(normalised_word_processor_text_is_gsm7),
        cmocka_unit_test(normalise_rejects_null),
        cmocka_unit_test(describe_char_quotes_printable_characters_with_code_point),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
