/*
 * test_flow_engine.c: the conversation step, driven through the shipped
 * flows (flows/) and the real postal-code table, one behaviour per test.
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

#include "directory.h"
#include "flow.h"
#include "flow_engine.h"
#include "gsm7.h"
#include "place.h"
#include "team.h"
#include "testlib.h"
#include "utf8.h"

#define T0 1795000000LL /* a fixed clock: tests are deterministic */

struct fixture {
    struct flow_set *flows;
    struct place_table *places;
    struct directory *services;
    struct flow_env env;
    struct flow_session s;
    bool opted_out;
    struct flow_reply r;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct diag d = {0};
    char path[4096];

    /* Opening hours are read in Helsinki time, as the server does. */
    setenv("TZ", "Europe/Helsinki", 1);
    tzset();

    snprintf(path, sizeof(path), "%s/flows", testlib_src_dir());
    f->flows = flow_set_load_dir(path, NULL, &d);
    if (f->flows == NULL)
        diag_print(&d, stderr);
    diag_release(&d);
    assert_non_null(f->flows);
    assert_int_equal(testlib_load_directory(&f->places, &f->services), 0);
    f->env = (struct flow_env){
        .flows = f->flows,
        .places = f->places,
        .services = f->services,
        .now = T0,
        .channel = FLOW_CHANNEL_SMS,
        .ussd_budget = 160,
        .session_timeout = FLOW_SESSION_TIMEOUT_DEFAULT,
        .privacy_url = "https://katto.example/tietosuoja",
    };
    flow_session_init(&f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    flow_reply_release(&f->r);
    place_table_free(f->places);
    directory_free(f->services);
    flow_set_unref(f->flows);
    free(f);
    return 0;
}

/* Sends text and returns the reply text ("" when none); applies opt-out
 * effects. */
static const char *send(struct fixture *f, const char *text)
{
    struct flow_input in = {.text = text, .opted_out = f->opted_out};

    flow_reply_release(&f->r);
    assert_int_equal(flow_engine_step(&f->env, &f->s, &in, &f->r), 0);
    for (size_t i = 0; i < f->r.neffects; i++) {
        if (f->r.effects[i].kind == FLOW_EFFECT_OPT_OUT)
            f->opted_out = true;
        if (f->r.effects[i].kind == FLOW_EFFECT_OPT_IN || f->r.effects[i].kind == FLOW_EFFECT_ERASE)
            f->opted_out = false;
    }
    return f->r.text != NULL ? f->r.text : "";
}

static bool has_effect(const struct fixture *f, enum flow_effect_kind kind)
{
    for (size_t i = 0; i < f->r.neffects; i++) {
        if (f->r.effects[i].kind == kind)
            return true;
    }
    return false;
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        if (strstr(h_, (needle)) == NULL)                                                          \
            fail_msg("expected \"%s\" in:\n%s", (needle), h_);                                     \
    } while (0)

#define assert_not_contains(hay, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        if (strstr(h_, (needle)) != NULL)                                                          \
            fail_msg("did not expect \"%s\" in:\n%s", (needle), h_);                               \
    } while (0)

static void first_message_says_it_is_automatic_and_shows_the_main_menu(void **state)
{
    struct fixture *f = *state;
    const char *t = send(f, "hei");

    assert_contains(t, "automaattinen");
    assert_contains(t, "SOITA");
    assert_contains(t, "112");
    assert_contains(t, "YÖ 00530"); /* the one-message shortcut for a bed tonight */
    assert_contains(t, "\n1 Ei yöpaikkaa\n2 Vuokrarästi tai häätö\n");
    assert_true(has_effect(f, FLOW_EFFECT_SESSION_START));
    assert_string_equal(f->s.at.flow, "helpline");
    assert_string_equal(f->s.at.node, "welcome");
}

static void menu_choice_walks_messages_until_the_next_question(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    t = send(f, "2");
    assert_contains(t, "Missä asut?"); /* the branch needs a place first */
    assert_string_equal(f->s.at.node, "ev_place");
    send(f, "00530");
    send(f, "00");
    /* The place is known now: the switch, the advice and the menu come in one reply. */
    t = send(f, "2");
    assert_contains(t, "maksusuunnitelma");
    assert_contains(t, "Maksa vuokra ennen muita laskuja.");
    assert_contains(t, "1 Kela ja muut tuet");
    assert_contains(t, "5 Alkuun");
    assert_string_equal(f->s.at.node, "ev_menu");
    assert_not_contains(t, "automaattinen"); /* the notice is for the first message */
}

static void zero_goes_back_and_double_zero_to_the_main_menu(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    send(f, "2");
    t = send(f, "0");
    assert_string_equal(f->s.at.node, "welcome");
    assert_contains(t, "1 Ei yöpaikkaa");
    send(f, "2");
    t = send(f, "00");
    assert_string_equal(f->s.at.node, "welcome");
    assert_contains(t, "1 Ei yöpaikkaa");
}

static void invalid_answer_reasks_with_a_hint_and_three_lead_to_the_main_menu(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    send(f, "2");
    send(f, "00530");
    t = send(f, "9");
    assert_contains(t, "En ymmärtänyt. Vastaa numerolla 1-5.");
    assert_contains(t, "SOITA"); /* every re-ask says how to reach a person */
    assert_contains(t, "1 Kela ja muut tuet");
    assert_not_contains(t, "maksusuunnitelma"); /* just the question, not the advice before it */
    assert_true(has_effect(f, FLOW_EFFECT_INVALID));
    send(f, "kolme");
    assert_string_equal(f->s.at.node, "ev_menu");
    t = send(f, "???");
    assert_contains(t, "Aloitetaan alusta.");
    assert_string_equal(f->s.at.node, "welcome");
    assert_int_equal(f->s.failures, 0);
}

static void language_word_switches_and_repeats_the_question(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    t = send(f, "svenska");
    assert_contains(t, "Nattplats: NATT och postnummer");
    assert_contains(t, "1 Ingen nattplats");
    assert_string_equal(f->s.lang, "sv");
    assert_true(has_effect(f, FLOW_EFFECT_LANGUAGE));
    t = send(f, "HJALP"); /* accents dropped by the phone */
    assert_contains(t, "automatisk");
}

static void start_word_sets_its_language(void **state)
{
    struct fixture *f = *state;

    assert_contains(send(f, "Help!"), "1 No bed tonight");
    assert_string_equal(f->s.lang, "en");
    assert_contains(send(f, "hjälp"), "1 Ingen nattplats");
}

static void stop_is_honoured_until_start(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    t = send(f, "lopeta");
    assert_true(has_effect(f, FLOW_EFFECT_OPT_OUT));
    assert_contains(t, "Et saa enää viestejä");
    assert_true(f->opted_out);
    send(f, "hei");
    assert_null(f->r.text);
    send(f, "1");
    assert_null(f->r.text);
    t = send(f, "APUA");
    assert_true(has_effect(f, FLOW_EFFECT_OPT_IN));
    assert_contains(t, "Tervetuloa takaisin");
    assert_contains(t, "1 Ei yöpaikkaa");
}

static void crisis_words_are_answered_first_even_after_stop_and_expiry(void **state)
{
    struct fixture *f = *state;
    static const char *const messages[] = {
        "Haluan kuolla", "mietin itsemurhaa",  "jag vill dö",       "SJALVMORD",
        "I want to die", "i will kill myself", "mieheni lyö minua",
    };

    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
        flow_session_init(&f->s);
        f->opted_out = (i % 2) == 1;
        const char *t = send(f, messages[i]);
        if (strstr(t, "112") == NULL || !has_effect(f, FLOW_EFFECT_CRISIS))
            fail_msg("'%s' was not treated as a crisis: %s", messages[i], t);
    }
    /* Expired session: still first. */
    f->opted_out = false;
    flow_session_init(&f->s);
    send(f, "APUA");
    f->env.now += 2 * FLOW_SESSION_TIMEOUT_DEFAULT;
    assert_contains(send(f, "haluan kuolla"), "09 2525 0111");
    /* Ordinary words that merely contain a stem in the middle are not crises. */
    flow_session_init(&f->s);
    send(f, "hei");
    assert_false(has_effect(f, FLOW_EFFECT_CRISIS));
}

static void silence_past_the_timeout_starts_over_politely(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    send(f, "2");
    f->env.now += FLOW_SESSION_TIMEOUT_DEFAULT + 1;
    t = send(f, "1");
    assert_contains(t, "Keskustelu päättyi.");
    assert_contains(t, "\n1 Ei yöpaikkaa"); /* the main menu in the same reply... */
    struct gsm7_info sms;
    assert_int_equal(gsm7_analyse(t, strlen(t), &sms), 0);
    assert_true(sms.segments <= 2); /* ...which stays one message of at most two segments */
    assert_string_equal(f->s.at.node, "welcome");
    /* Within the timeout the conversation continues. */
    f->env.now += FLOW_SESSION_TIMEOUT_DEFAULT - 1;
    t = send(f, "2");
    assert_string_equal(f->s.at.node, "ev_place");
}

static void keyword_with_its_answer_gets_the_result_in_one_reply(void **state)
{
    struct fixture *f = *state;
    const char *t = send(f, "YÖ 00530");

    assert_contains(t, "automaattinen"); /* still the first message of a conversation */
    assert_contains(t, "09 3104 6628");
    assert_contains(t, "Hätä: 112");
    assert_true(f->r.end);
    assert_null(flow_session_var(&f->s, "city")); /* an ended conversation forgets its answers */
}

/* NATT is a Swedish word and BED an English one: whoever writes it reads that language. */
static void a_keyword_of_one_language_answers_in_it(void **state)
{
    struct fixture *f = *state;
    const char *t = send(f, "NATT 00530");

    assert_string_equal(f->s.lang, "sv");
    assert_contains(t, "Nöd: 112");
    assert_not_contains(t, "Hätä");
    flow_session_init(&f->s);
    t = send(f, "bed 00530");
    assert_string_equal(f->s.lang, "en");
    assert_contains(t, "Emergency: 112");
    /* Mid-conversation too, as HJÄLP switches it. */
    flow_session_init(&f->s);
    send(f, "APUA");
    assert_string_equal(f->s.lang, "fi");
    send(f, "YÖ");
    assert_string_equal(f->s.lang, "fi");
    send(f, "NATT");
    assert_string_equal(f->s.lang, "sv");
    assert_string_equal(f->s.at.flow, "tonight");
}

static void place_answers_accept_city_names_in_finnish_and_swedish(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "YÖ");
    assert_string_equal(f->s.at.flow, "tonight");
    assert_contains(send(f, "Tammerfors"), "050 062 5990");
    send(f, "BED");
    assert_contains(send(f, "jyvaskyla"), "014 266 0149");
    send(f, "NATT");        /* a Swedish word: the answer is in Swedish from here */
    t = send(f, "Oulussa"); /* as people write it */
    assert_contains(t, "Kenttätien palvelukeskus");
    assert_contains(t, "Socialjouren (Uleåborg): 044 703 6235");
    send(f, "YÖ");
    assert_contains(send(f, "12345"), "Kirjoita postinumero tai kaupunki"); /* not a postal code */
}

static void erase_needs_confirmation(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    send(f, "2");
    t = send(f, "POISTA");
    assert_contains(t, "Poistetaanko");
    t = send(f, "2");
    assert_contains(t, "Mitään ei poistettu.");
    assert_false(has_effect(f, FLOW_EFFECT_ERASE));
    assert_string_equal(f->s.at.node, "ev_place");
    send(f, "radera");
    t = send(f, "kyllä");
    assert_true(has_effect(f, FLOW_EFFECT_ERASE));
    assert_contains(t, "Tiedot on poistettu");
    assert_string_equal(f->s.at.flow, "");
}

static void privacy_word_gives_the_notice_with_its_link(void **state)
{
    struct fixture *f = *state;

    send(f, "APUA");
    assert_contains(send(f, "tietosuoja"), "https://katto.example/tietosuoja");
    assert_true(has_effect(f, FLOW_EFFECT_PRIVACY));
    assert_string_equal(f->s.at.node, "welcome"); /* the conversation is where it was */
}

static void call_word_without_a_callback_flow_says_so_honestly(void **state)
{
    struct fixture *f = *state;

    assert_contains(send(f, "SOITA"), "112");
    assert_true(has_effect(f, FLOW_EFFECT_CALLBACK_WANTED));
}

static void ussd_screens_fit_the_budget_and_end_with_end(void **state)
{
    struct fixture *f = *state;
    const char *t;

    f->env.channel = FLOW_CHANNEL_USSD;
    t = send(f, "");
    assert_true(utf8_count(t) <= 160);
    assert_false(f->r.end);
    /* Follow "98" until the menu shows, then choose. */
    for (int i = 0; i < 5 && strstr(t, "1 Ei yöpaikkaa") == NULL; i++)
        t = send(f, "98");
    assert_contains(t, "1 Ei yöpaikkaa");
    t = send(f, "1");
    assert_true(utf8_count(t) <= 160);
    t = send(f, "Pori");
    assert_contains(t, "tekstiviestinä"); /* USSD offers an SMS copy, with consent */
    assert_false(f->r.end);
    t = send(f, "2");
    assert_contains(t, "02 623 4380");
    assert_null(f->r.sms_copy);
    assert_true(utf8_count(t) <= 160);
    assert_false(f->r.end); /* from the main menu a call back is offered next */
    for (int i = 0; i < 3 && strstr(t, "1 Soittakaa minulle") == NULL; i++) {
        t = send(f, "98");
        assert_true(utf8_count(t) <= 160);
    }
    t = send(f, "1"); /* no team serves Pori: said honestly, and the conversation ends */
    assert_contains(t, "ei ole vielä tiimiä");
    assert_true(utf8_count(t) <= 160);
    assert_true(f->r.end);
}

static void vanished_node_after_a_reload_starts_over(void **state)
{
    struct fixture *f = *state;

    send(f, "APUA");
    snprintf(f->s.at.node, sizeof(f->s.at.node), "%s", "removed_node");
    assert_contains(send(f, "1"), "Aloitetaan alusta.");
    assert_string_equal(f->s.at.node, "welcome");
}

static void invalid_utf8_is_not_understood_and_not_echoed(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "APUA");
    t = send(f, "\xff\xfe");
    assert_contains(t, "En ymmärtänyt");
    assert_not_contains(t, "\xff");
}

static void the_same_input_gives_the_same_output(void **state)
{
    struct fixture *f = *state;
    char *first;

    send(f, "APUA");
    first = strdup(send(f, "2"));
    flow_session_init(&f->s);
    send(f, "APUA");
    assert_string_equal(send(f, "2"), first);
    free(first);
}

static void yes_no_answers_in_many_languages(void **state)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"kyllä", 1}, {"KYLLA", 1}, {"joo", 1}, {"Ja", 1}, {"yes", 1}, {"1", 1},     {"да", 1},
        {"ei", 0},    {"nej", 0},   {"No.", 0}, {"2", 0},  {"нет", 0}, {"ehkä", -1}, {"", -1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (flow_parse_yes_no(cases[i].text) != cases[i].want)
            fail_msg("'%s': got %d, want %d", cases[i].text, flow_parse_yes_no(cases[i].text),
                     cases[i].want);
    }
}

static void ussd_sms_copy_needs_consent_and_long_end_screens_are_paged(void **state)
{
    struct fixture *f = *state;
    const char *t;

    f->env.channel = FLOW_CHANNEL_USSD;
    send(f, "YÖ");
    send(f, "00530");
    t = send(f, "1"); /* yes: text me the details */
    assert_non_null(f->r.sms_copy);
    assert_non_null(strstr(f->r.sms_copy, "09 3104 6628"));
    assert_true(has_effect(f, FLOW_EFFECT_SMS_COPY));
    /* The last screen does not fit: CON with 98, then END with the rest. */
    assert_false(f->r.end);
    assert_contains(t, "98 Lisää");
    assert_true(utf8_count(t) <= 160);
    t = send(f, "98");
    assert_true(f->r.end);
    assert_contains(t, "Hätä: 112");
    assert_null(f->r.sms_copy); /* rebuilding a page never sends the copy twice */
    assert_string_equal(f->s.at.flow, "");
}

/* ---- callbacks ---------------------------------------------------------- */

#define TEAMS                                                                                      \
    "[{\"id\": \"hel\", \"name\": \"Helsingin etsivä työ\", \"city\": \"Helsinki\", "            \
    "\"on_call\": [\"+358401111111\"], \"calls_from\": \"09 310 12345\", "                         \
    "\"hours\": \"Mo-Fr 08:00-16:00\"}]"

static int refs_given;

/* A predictable reference: the test checks it is told to the person. */
static int test_ref(void *arg, char *ref, size_t size)
{
    (void)arg;
    snprintf(ref, size, "K-%04d", ++refs_given);
    return 0;
}

static struct team_list test_teams;

static int setup_teams(void **state)
{
    char err[256];
    struct fixture *f;

    if (setup(state) != 0 || team_list_parse(TEAMS, &test_teams, err) != 0)
        return -1;
    f = *state;
    f->env.teams = &test_teams;
    f->env.callback_now_minutes = 120;
    f->env.new_callback_ref = test_ref;
    refs_given = 0;
    return 0;
}

static int teardown_teams(void **state)
{
    team_list_release(&test_teams);
    return teardown(state);
}

static void callback_with_consent_files_to_this_number(void **state)
{
    struct fixture *f = *state;
    const char *t;

    t = send(f, "SOITA");
    assert_contains(t, "Missä kaupungissa olet?"); /* no city yet */
    assert_contains(send(f, "Helsingissä"), "Milloin voimme soittaa?");
    assert_contains(send(f, "2"), "onko soittaminen turvallista");
    assert_false(f->r.callback.filed);
    t = send(f, "1");
    /* The reference, who calls, from which number and by when (T0 is a Wednesday 13:06). */
    assert_contains(t, "Soittopyyntö K-0001. Helsingin etsivä työ soittaa numerosta 09 310 12345 "
                       "viimeistään 16:00.");
    assert_true(f->r.callback.filed);
    assert_true(has_effect(f, FLOW_EFFECT_CALLBACK_FILED));
    assert_true(f->r.callback.sender_safe);
    assert_string_equal(f->r.callback.team, "hel");
    assert_string_equal(f->r.callback.window, "today");
    assert_string_equal(f->r.callback.number, "");
    assert_string_equal(f->r.callback.meet, "");
    assert_null(strstr(t, "Sosiaalipäivystys")); /* the team is at work */
}

static void callback_without_consent_takes_another_number_or_a_place(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "YÖ 00530"); /* the city is known from an earlier answer... */
    send(f, "SOITA");    /* ...but an ended conversation forgot it: asked again */
    send(f, "Helsinki");
    send(f, "1");
    t = send(f, "2"); /* not this number */
    assert_contains(t, "tai paikka ja aika tavata");
    assert_false(f->r.callback.filed);
    assert_contains(send(f, "401234567"), "tai paikka ja aika"); /* no 0 or +: not guessed */
    assert_false(f->r.callback.filed);
    t = send(f, "040 123 4567");
    assert_true(f->r.callback.filed);
    assert_false(f->r.callback.sender_safe);
    assert_string_equal(f->r.callback.number, "+358401234567");
    assert_contains(t, "K-0001");

    send(f, "SOITA");
    send(f, "Helsinki");
    send(f, "3");
    send(f, "ei");
    t = send(f, "Kamppi klo 14");
    assert_true(f->r.callback.filed);
    assert_string_equal(f->r.callback.meet, "Kamppi klo 14");
    assert_string_equal(f->r.callback.window, "tomorrow");
    assert_contains(t, "yrittää tavata sinut");
    /* The meeting place is never kept in the session. */
    for (size_t i = 0; i < f->s.nvars; i++)
        assert_null(strstr(f->s.vars[i].value, "Kamppi"));
}

static void callback_cancelled_stores_nothing(void **state)
{
    struct fixture *f = *state;

    send(f, "SOITA");
    send(f, "Helsinki");
    send(f, "1");
    send(f, "2");
    assert_contains(send(f, "0"), "Mitään ei tallennettu");
    assert_false(f->r.callback.filed);
    assert_int_equal(refs_given, 0);
}

static void callback_outside_hours_says_when_and_gives_the_social_number(void **state)
{
    struct fixture *f = *state;
    const char *t;

    f->env.now = 1795550400LL; /* Tuesday 2026-11-24 22:00 */
    send(f, "SOITA");
    send(f, "Helsinki");
    send(f, "1");
    t = send(f, "1");
    assert_true(f->r.callback.filed);
    assert_contains(t, "viimeistään 25.11. 10:00"); /* opens 08:00 + 120 min */
    assert_contains(t, "Tiimi ei ole nyt töissä (Mo-Fr 08:00-16:00)");
    assert_contains(t, "Sosiaalipäivystys (Helsinki)");
}

static void callback_where_no_team_works_says_so_and_stores_nothing(void **state)
{
    struct fixture *f = *state;
    const char *t;

    send(f, "SOITA");
    t = send(f, "Pori");
    assert_contains(t, "ei ole vielä tiimiä");
    assert_contains(t, "02 623 4380");
    assert_false(f->r.callback.filed);
    assert_true(f->r.end);
}

static void callback_invalid_answers_are_asked_again(void **state)
{
    struct fixture *f = *state;

    send(f, "SOITA");
    send(f, "Helsinki");
    assert_contains(send(f, "5"), "Milloin voimme soittaa?");
    assert_true(has_effect(f, FLOW_EFFECT_INVALID));
    send(f, "1");
    assert_contains(send(f, "ehkä"), "turvallista");
    assert_true(has_effect(f, FLOW_EFFECT_INVALID));
    assert_false(f->r.callback.filed);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TT(name) cmocka_unit_test_setup_teardown(name, setup_teams, teardown_teams)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(first_message_says_it_is_automatic_and_shows_the_main_menu),
        T(menu_choice_walks_messages_until_the_next_question),
        T(zero_goes_back_and_double_zero_to_the_main_menu),
        T(invalid_answer_reasks_with_a_hint_and_three_lead_to_the_main_menu),
        T(language_word_switches_and_repeats_the_question),
        T(start_word_sets_its_language),
        T(stop_is_honoured_until_start),
        T(crisis_words_are_answered_first_even_after_stop_and_expiry),
        T(silence_past_the_timeout_starts_over_politely),
        T(keyword_with_its_answer_gets_the_result_in_one_reply),
        T(a_keyword_of_one_language_answers_in_it),
        T(place_answers_accept_city_names_in_finnish_and_swedish),
        T(erase_needs_confirmation),
        T(privacy_word_gives_the_notice_with_its_link),
        T(call_word_without_a_callback_flow_says_so_honestly),
        T(ussd_screens_fit_the_budget_and_end_with_end),
        T(ussd_sms_copy_needs_consent_and_long_end_screens_are_paged),
        T(vanished_node_after_a_reload_starts_over),
        T(invalid_utf8_is_not_understood_and_not_echoed),
        T(the_same_input_gives_the_same_output),
        cmocka_unit_test(yes_no_answers_in_many_languages),
        TT(callback_with_consent_files_to_this_number),
        TT(callback_without_consent_takes_another_number_or_a_place),
        TT(callback_cancelled_stores_nothing),
        TT(callback_outside_hours_says_when_and_gives_the_social_number),
        TT(callback_where_no_team_works_says_so_and_stores_nothing),
        TT(callback_invalid_answers_are_asked_again),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
