/*
 * test_flow_render.c: unit tests for flow_render.c. Every SMS split is
 * checked for the invariants that matter to a person on a basic phone (each
 * message valid UTF-8 and within its segments, nothing lost or reordered)
 * and then for where it was cut. USSD screens are checked against the budget
 * in code points, the "98" line and global option numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_render.h"
#include "gsm7.h"
#include "utf8.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

#define O_TILDE "õ"              /* U+00F5, not GSM-7 */
#define EMOJI "\xf0\x9f\x98\x80" /* 😀 U+1F600, a surrogate pair in UTF-16 */

/* Sentences of plain GSM-7 Finnish: 59, 61 and 60 characters with the space after. */
#define S1 "Voit tulla yöksi Sininauhaliiton asuntolaan klo 18 alkaen. "
#define S2 "Ota mukaan henkilöllisyystodistus, jos sinulla on sellainen. "
#define S3 "Jos et pääse paikalle, vastaa tähän viestiin niin soitamme. "

/* Returns count copies of unit; caller frees. */
static char *repeat(const char *unit, size_t count)
{
    size_t len = strlen(unit);
    char *s = malloc(len * count + 1);

    assert_non_null(s);
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * len, unit, len);
    s[len * count] = '\0';
    return s;
}

/* Copy of s without any ASCII whitespace: what must survive splitting unchanged. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1), *w = out;

    assert_non_null(out);
    for (; *s != '\0'; s++) {
        if (!isspace((unsigned char)*s))
            *w++ = *s;
    }
    *w = '\0';
    return out;
}

/*
 * Checks what every split must guarantee: each part valid UTF-8, non-empty,
 * trimmed, with info matching the text and within max segments; together the
 * parts hold exactly the normalised input, in order, apart from whitespace.
 */
static void check_split(const char *why, const char *input, size_t max, const struct flow_sms *sms)
{
    char *norm = gsm7_normalise(input), *want, *got;
    size_t total = 0;

    assert_non_null(norm);
    for (size_t i = 0; i < sms->n; i++) {
        const struct flow_sms_part *p = &sms->parts[i];
        size_t len = strlen(p->text);
        struct gsm7_info info;

        if (!utf8_valid(p->text, len))
            fail_msg("%s: part %zu is not valid UTF-8", why, i);
        if (len == 0 || isspace((unsigned char)p->text[0]) ||
            isspace((unsigned char)p->text[len - 1]))
            fail_msg("%s: part %zu is empty or untrimmed: '%s'", why, i, p->text);
        assert_int_equal(gsm7_analyse(p->text, len, &info), 0);
        if (info.segments != p->info.segments || info.encoding != p->info.encoding ||
            info.units != p->info.units)
            fail_msg("%s: part %zu info does not match its text", why, i);
        if (info.segments > max)
            fail_msg("%s: part %zu takes %zu segments, max %zu", why, i, info.segments, max);
        total += len;
    }
    got = malloc(total + 1);
    assert_non_null(got);
    got[0] = '\0';
    for (size_t i = 0; i < sms->n; i++)
        strcat(got, sms->parts[i].text);
    want = squeeze(norm);
    {
        char *g = squeeze(got);

        if (strcmp(g, want) != 0)
            fail_msg("%s: parts do not add up to the text", why);
        free(g);
    }
    free(want);
    free(got);
    free(norm);
}

static void sms_160_gsm7_characters_are_one_part(void **state)
{
    char *text = repeat("Apua on. ", 18); /* 162 characters */
    struct flow_sms sms;

    (void)state;
    text[160] = '\0'; /* 160, ending inside "on" */
    assert_int_equal(flow_render_sms(text, 1, &sms), 0);
    check_split("160 characters", text, 1, &sms);
    assert_int_equal(sms.n, 1);
    assert_int_equal(sms.parts[0].info.units, 160);
    assert_int_equal(sms.parts[0].info.encoding, GSM7_ENC_GSM7);
    assert_string_equal(sms.parts[0].text, text);
    flow_sms_release(&sms);
    free(text);
}

static void sms_three_segments_with_max_two_split_at_sentence_end(void **state)
{
    /* 7 sentences: 418 septets, 3 segments as one message. */
    const char *text = S1 S2 S3 S1 S2 S3 S1;
    struct gsm7_info whole;
    struct flow_sms sms;

    (void)state;
    assert_int_equal(gsm7_analyse(text, strlen(text), &whole), 0);
    assert_int_equal(whole.segments, 3);
    assert_int_equal(flow_render_sms(text, 2, &sms), 0);
    check_split("three segments", text, 2, &sms);
    assert_int_equal(sms.n, 2);
    for (size_t i = 0; i < sms.n; i++) {
        const char *t = sms.parts[i].text;

        assert_true(sms.parts[i].info.segments <= 2);
        if (t[strlen(t) - 1] != '.' || !isupper((unsigned char)t[0]))
            fail_msg("part %zu is not whole sentences: '%s'", i, t);
    }
    flow_sms_release(&sms);
}

static void sms_normalises_smart_quotes_to_gsm7(void **state)
{
    const char *text = "Kirjoita “apua” tai ‘help’ – vastaamme pian…";
    struct flow_sms sms;

    (void)state;
    assert_int_equal(flow_render_sms(text, 1, &sms), 0);
    assert_int_equal(sms.n, 1);
    assert_int_equal(sms.parts[0].info.encoding, GSM7_ENC_GSM7);
    assert_string_equal(sms.parts[0].text, "Kirjoita \"apua\" tai 'help' - vastaamme pian...");
    flow_sms_release(&sms);
}

static void sms_one_o_tilde_makes_only_its_own_part_ucs2(void **state)
{
    /* 90, 37 and 99 characters: only the middle one needs UCS-2 (70 units). */
    const char *text = S1 "Meillä on tilaa myös tänä yönä."
                          "\n\n"
                          "Tervetuloa, Võ Thi! Sänky on varattu." /* UCS-2 */
                          "\n\n" S2 "Kysy lisää vastaamalla tähän viestiin.";
    struct flow_sms sms;

    (void)state;
    assert_int_equal(flow_render_sms(text, 1, &sms), 0);
    check_split("one õ", text, 1, &sms);
    assert_int_equal(sms.n, 3);
    assert_int_equal(sms.parts[0].info.encoding, GSM7_ENC_GSM7);
    assert_int_equal(sms.parts[1].info.encoding, GSM7_ENC_UCS2);
    assert_int_equal(sms.parts[2].info.encoding, GSM7_ENC_GSM7);
    assert_string_equal(sms.parts[1].text, "Tervetuloa, Võ Thi! Sänky on varattu.");
    flow_sms_release(&sms);
}

static void sms_prefers_blank_line_to_later_sentence_end(void **state)
{
    /* Two paragraphs of 119: the cut goes between them, not at a later sentence end. */
    const char *text = S1 S2 "\n\n" S3 S1;
    struct flow_sms sms;

    (void)state;
    assert_int_equal(flow_render_sms(text, 1, &sms), 0);
    check_split("blank line", text, 1, &sms);
    assert_int_equal(sms.n, 2);
    assert_string_equal(sms.parts[0].text, S1 "Ota mukaan henkilöllisyystodistus, jos sinulla on "
                                              "sellainen.");
    flow_sms_release(&sms);
}

static void sms_uses_fewest_messages_even_with_an_early_blank_line(void **state)
{
    /*
     * A heading, a blank line, then 250 characters of sentences: cutting at the
     * blank line would leave 250 characters for one message and need three,
     * so the cut goes at a sentence end and two messages suffice.
     */
    const char *text = "Hei!\n\n" S1 S2 S3 S1 "Tervetuloa.";
    struct flow_sms sms;

    (void)state;
    assert_int_equal(flow_render_sms(text, 1, &sms), 0);
    check_split("early blank line", text, 1, &sms);
    assert_int_equal(sms.n, 2);
    assert_int_equal(sms.parts[0].text[strlen(sms.parts[0].text) - 1], '.');
    flow_sms_release(&sms);
}

static void sms_keeps_menu_options_together(void **state)
{
    /* "1 ", "1. " and "1) " all read as options; %s is where the marks go. */
    static const char *const marks[][4] = {
        {"1 ", "2 ", "3 ", "4 "}, {"1. ", "2. ", "3. ", "4. "}, {"1) ", "2) ", "3) ", "4) "}};

    (void)state;
    for (size_t i = 0; i < N_ROWS(marks); i++) {
        char text[512], menu[256];
        struct flow_sms sms;

        /* The latest line break before 160 would fall between options 2 and 3. */
        snprintf(menu, sizeof(menu),
                 "Mitä tarvitset?\n%sYöpaikka\n%sRuoka\n%sKela\n%sPuhu ihmisen kanssa", marks[i][0],
                 marks[i][1], marks[i][2], marks[i][3]);
        snprintf(text, sizeof(text), "%s\n%s", S1 S2, menu);
        assert_int_equal(flow_render_sms(text, 1, &sms), 0);
        check_split("menu", text, 1, &sms);
        assert_int_equal(sms.n, 2);
        /* The question stays with its options. */
        assert_string_equal(sms.parts[1].text, menu);
        flow_sms_release(&sms);
    }
}

static void sms_menu_too_long_for_its_question_still_stays_whole(void **state)
{
    /* Question and text on one 135-character line: only the options stay together. */
    const char *text = S1 S2 "Mitä tarvitset?\n"
                             "1 Yöpaikka\n"
                             "2 Ruoka\n"
                             "3 Kela\n"
                             "4 Puhu ihmisen kanssa";
    struct flow_sms sms;

    (void)state;
    assert_int_equal(flow_render_sms(text, 1, &sms), 0);
    check_split("menu after a long line", text, 1, &sms);
    assert_int_equal(sms.n, 2);
    assert_string_equal(sms.parts[1].text, "1 Yöpaikka\n2 Ruoka\n3 Kela\n4 Puhu ihmisen kanssa");
    flow_sms_release(&sms);
}

struct split_case {
    const char *why;
    const char *unit; /* text is unit repeated count times */
    size_t count;
    size_t max;
    size_t parts;
    enum gsm7_encoding encoding; /* of every part */
};

static const struct split_case split_cases[] = {
    {"161 characters need two parts", "a", 161, 1, 2, GSM7_ENC_GSM7},
    {"306 characters fit two segments", "a", 306, 2, 1, GSM7_ENC_GSM7},
    {"a word longer than a message is cut inside", "a", 400, 1, 3, GSM7_ENC_GSM7},
    {"UCS-2 text splits at 70 units", O_TILDE, 150, 1, 3, GSM7_ENC_UCS2},
    {"emoji are never cut in half", EMOJI, 100, 1, 3, GSM7_ENC_UCS2},
    {"emoji among letters are never cut in half", "a" EMOJI, 100, 1, 5, GSM7_ENC_UCS2},
    {"emoji in multi-segment parts", "a" EMOJI "b", 120, 2, 4, GSM7_ENC_UCS2},
    {"two-byte letters are never cut in half", "ä", 500, 2, 2, GSM7_ENC_GSM7},
    {"euro escapes are counted", "€", 200, 1, 3, GSM7_ENC_GSM7},
    {"words with õ split between words", "Võru ", 40, 1, 3, GSM7_ENC_UCS2},
};

static void sms_splits_never_break_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(split_cases); i++) {
        const struct split_case *c = &split_cases[i];
        char *text = repeat(c->unit, c->count);
        struct flow_sms sms;

        if (flow_render_sms(text, c->max, &sms) != 0)
            fail_msg("%s: failed", c->why);
        check_split(c->why, text, c->max, &sms);
        if (sms.n != c->parts)
            fail_msg("%s: %zu parts, expected %zu", c->why, sms.n, c->parts);
        for (size_t k = 0; k < sms.n; k++) {
            if (sms.parts[k].info.encoding != c->encoding)
                fail_msg("%s: part %zu has the wrong encoding", c->why, k);
        }
        flow_sms_release(&sms);
        free(text);
    }
}

static void sms_rejects_bad_input_and_keeps_empty_text_empty(void **state)
{
    struct flow_sms sms;

    (void)state;
    assert_int_equal(flow_render_sms("  \n\t ", 1, &sms), 0);
    assert_int_equal(sms.n, 0);
    flow_sms_release(&sms);
    assert_int_equal(flow_render_sms("", 1, &sms), 0);
    assert_int_equal(sms.n, 0);
    assert_int_equal(flow_render_sms(NULL, 1, &sms), -1);
    assert_int_equal(flow_render_sms("ok", 0, &sms), -1);
    assert_int_equal(flow_render_sms("bad \xff byte", 1, &sms), -1);
    assert_int_equal(sms.n, 0);
    assert_null(sms.parts);
    assert_int_equal(flow_render_sms("  Hei!\r\nTervetuloa.  ", 1, &sms), 0);
    assert_int_equal(sms.n, 1);
    assert_string_equal(sms.parts[0].text, "Hei!\nTervetuloa.");
    flow_sms_release(&sms);
    flow_sms_release(&sms); /* twice is harmless */
}

static void menu_lists_numbered_options_after_text(void **state)
{
    const char *labels[] = {"Yöpaikka tänään", "Ruoka", "Kela"};
    char *m;

    (void)state;
    m = flow_render_menu("Mitä tarvitset?\n", labels, 3);
    assert_string_equal(m, "Mitä tarvitset?\n1 Yöpaikka tänään\n2 Ruoka\n3 Kela");
    free(m);
    m = flow_render_menu(NULL, labels, 2);
    assert_string_equal(m, "1 Yöpaikka tänään\n2 Ruoka");
    free(m);
    m = flow_render_menu("Kiitos.", NULL, 0);
    assert_string_equal(m, "Kiitos.");
    free(m);
    assert_null(flow_render_menu("x", NULL, 1));
}

/* Fails unless every page is within budget and all but the last end with the more line. */
static void check_pages(const char *why, const char *text, const char *const *options, size_t n,
                        size_t budget, size_t expected_pages)
{
    size_t npages = 0;
    char *first = flow_render_ussd(text, options, n, "Lisää", budget, 0, &npages);

    if (first == NULL)
        fail_msg("%s: no first page", why);
    free(first);
    if (expected_pages != 0 && npages != expected_pages)
        fail_msg("%s: %zu pages, expected %zu", why, npages, expected_pages);
    for (size_t p = 0; p < npages; p++) {
        size_t count = 0;
        char *screen = flow_render_ussd(text, options, n, "Lisää", budget, p, &count);
        const char *more = "\n98 Lisää";
        size_t len, mlen = strlen(more);
        bool ends_more;

        assert_non_null(screen);
        assert_int_equal(count, npages);
        len = strlen(screen);
        if (!utf8_valid(screen, len) || utf8_count(screen) > budget)
            fail_msg("%s: page %zu has %zu code points, budget %zu", why, p, utf8_count(screen),
                     budget);
        ends_more = len > mlen && strcmp(screen + len - mlen, more) == 0;
        if (ends_more != (p + 1 < npages))
            fail_msg("%s: page %zu of %zu %s the more line", why, p, npages,
                     ends_more ? "ends with" : "lacks");
        free(screen);
    }
}

static void ussd_short_menu_fits_one_page(void **state)
{
    const char *options[] = {"Yöpaikka", "Ruoka", "Kela"};
    size_t npages = 0;
    char *screen;

    (void)state;
    screen = flow_render_ussd("Mitä tarvitset?", options, 3, "Lisää", 182, 0, &npages);
    assert_string_equal(screen, "Mitä tarvitset?\n1 Yöpaikka\n2 Ruoka\n3 Kela");
    assert_int_equal(npages, 1);
    free(screen);
    screen = flow_render_ussd(NULL, options, 2, "Lisää", 182, 0, &npages);
    assert_string_equal(screen, "1 Yöpaikka\n2 Ruoka");
    free(screen);
    screen = flow_render_ussd("Kiitos, soitamme pian.", NULL, 0, NULL, 182, 0, &npages);
    assert_string_equal(screen, "Kiitos, soitamme pian.");
    assert_int_equal(npages, 1);
    free(screen);
}

static const char *const long_menu[] = {
    "Yöpaikka tänään", "Ruoka ja vaatteet",  "Kela ja toimeentulotuki", "Asunnon haku",
    "Velat ja vuokra", "Terveys ja lääkäri", "Päihteet ja riippuvuus",  "Väkivalta kotona",
    "Nuoret alle 25",  "Maahanmuuttajat",    "Puhu ihmisen kanssa",     "Palaute",
};

static void ussd_long_menu_pages_keep_global_numbers(void **state)
{
    const char *text = "Valitse, missä voimme auttaa. Vastaa numerolla.";
    size_t n = N_ROWS(long_menu), npages = 0, next = 1;
    char *screen;

    (void)state;
    check_pages("long menu", text, long_menu, n, 160, 0);
    screen = flow_render_ussd(text, long_menu, n, "Lisää", 160, 0, &npages);
    assert_true(npages >= 2);
    assert_true(strncmp(screen, text, strlen(text)) == 0);
    free(screen);
    /* Every option appears once, whole, in order, under its global number. */
    for (size_t p = 0; p < npages; p++) {
        char *s = flow_render_ussd(text, long_menu, n, "Lisää", 160, p, NULL);
        char *save = NULL;

        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char want[64];

            if (!isdigit((unsigned char)line[0]) || strncmp(line, "98 ", 3) == 0)
                continue;
            assert_true(next <= n);
            snprintf(want, sizeof(want), "%zu %s", next, long_menu[next - 1]);
            if (strcmp(line, want) != 0)
                fail_msg("page %zu: line '%s', expected '%s'", p, line, want);
            next++;
        }
        free(s);
    }
    assert_int_equal(next, n + 1);
}

static void ussd_long_text_is_paged_at_sentences(void **state)
{
    const char *text = S1 S2 S3 S1 S2 S3 S1 S2;
    size_t npages = 0;
    char *screen;

    (void)state;
    check_pages("long text", text, NULL, 0, 160, 4);
    screen = flow_render_ussd(text, NULL, 0, "Lisää", 160, 0, &npages);
    /* Two sentences (119) and the more line fit; the cut is at the sentence end. */
    assert_string_equal(screen, S1 "Ota mukaan henkilöllisyystodistus, jos sinulla on sellainen."
                                   "\n98 Lisää");
    free(screen);
    check_pages("long text then menu", text, long_menu, N_ROWS(long_menu), 182, 0);
}

static void ussd_budget_182_fits_what_160_pages(void **state)
{
    /* 119 + 1 + 44 for the options: 164 code points. */
    const char *text = S1 "Ota mukaan henkilöllisyystodistus, jos sinulla on sellainen.";
    const char *options[] = {"Kyllä, tulen", "En tarvitse", "Soita minulle"};

    (void)state;
    check_pages("budget 182", text, options, 3, 182, 1);
    check_pages("budget 160", text, options, 3, 160, 2);
}

static void ussd_page_out_of_range_returns_null(void **state)
{
    size_t npages = 99;

    (void)state;
    assert_null(flow_render_ussd("Hei", NULL, 0, "Lisää", 182, 1, &npages));
    assert_int_equal(npages, 1);
    assert_null(flow_render_ussd(S1 S2 S3, NULL, 0, "Lisää", 160, 2, &npages));
    assert_int_equal(npages, 2);
}

static void ussd_rejects_bad_input(void **state)
{
    const char *too_long[] = {"a", S1 S2 S3};
    const char *null_option[] = {"a", NULL};
    size_t npages = 99;

    (void)state;
    assert_null(flow_render_ussd("x", too_long, 2, "Lisää", 160, 0, &npages));
    assert_int_equal(npages, 0);
    assert_null(flow_render_ussd("x", null_option, 2, "Lisää", 160, 0, &npages));
    assert_null(flow_render_ussd("bad \xff", NULL, 0, "Lisää", 160, 0, &npages));
    assert_null(flow_render_ussd("x", NULL, 1, "Lisää", 160, 0, &npages));
    assert_null(flow_render_ussd("x", NULL, 0, "Lisää", 0, 0, &npages));
    /* The more line itself must fit with room to spare. */
    assert_null(flow_render_ussd(S1, NULL, 0, "Lisää", 9, 0, &npages));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sms_160_gsm7_characters_are_one_part),
        cmocka_unit_test(sms_three_segments_with_max_two_split_at_sentence_end),
        cmocka_unit_test(sms_normalises_smart_quotes_to_gsm7),
        cmocka_unit_test(sms_one_o_tilde_makes_only_its_own_part_ucs2),
        cmocka_unit_test(sms_prefers_blank_line_to_later_sentence_end),
        cmocka_unit_test(sms_uses_fewest_messages_even_with_an_early_blank_line),
        cmocka_unit_test(sms_keeps_menu_options_together),
        cmocka_unit_test(sms_menu_too_long_for_its_question_still_stays_whole),
        cmocka_unit_test(sms_splits_never_break_characters),
        cmocka_unit_test(sms_rejects_bad_input_and_keeps_empty_text_empty),
        cmocka_unit_test(menu_lists_numbered_options_after_text),
        cmocka_unit_test(ussd_short_menu_fits_one_page),
        cmocka_unit_test(ussd_long_menu_pages_keep_global_numbers),
        cmocka_unit_test(ussd_long_text_is_paged_at_sentences),
        cmocka_unit_test(ussd_budget_182_fits_what_160_pages),
        cmocka_unit_test(ussd_page_out_of_range_returns_null),
        cmocka_unit_test(ussd_rejects_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
