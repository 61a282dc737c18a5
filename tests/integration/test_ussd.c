/*
 * test_ussd.c: the shipped flows over USSD through the real server, in
 * Africa's Talking's format: every screen's text, length and CON/END, each
 * of the helpline's branches, pagination, back and main menu, a resent step, an
 * out-of-step request, bad input, a dial code mapped to a flow, and the same
 * result as over SMS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "utf8.h"

#define TOKEN "ussd-route-token"
#define CODE "*500#"

#define TUESDAY_NOON 1795514400LL /* 2026-11-24 12:00 EET */

struct ussd {
    struct testlib_server s;
    char url[256];
    char reply[1024];
};

static void start(struct ussd *u, const char *extra)
{
    char *json;

    assert_true(asprintf(&json,
                         "\"ussd\": {\"token\": \"%s\", \"service_codes\": {\"*500*1#\": "
                         "\"tonight\", \"*500#\": \"helpline\"}}, \"maintenance_interval\": 1%s%s",
                         TOKEN, extra ? ", " : "", extra ? extra : "") > 0);
    assert_int_equal(testlib_server_start(&u->s, json, NULL), 0);
    free(json);
    /* A Tuesday noon in Helsinki: the night shelters are shut, the 24/7 centre is open. */
    testlib_server_set_clock(&u->s, TUESDAY_NOON);
    snprintf(u->url, sizeof(u->url), "%s/webhooks/africastalking/ussd/%s", u->s.base_url, TOKEN);
}

static void stop(struct ussd *u)
{
    assert_int_equal(testlib_server_stop(&u->s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&u->s));
    testlib_server_release(&u->s);
}

/* Posts one USSD request; returns the reply and checks the rules every screen must follow. */
static const char *post(struct ussd *u, const char *session, const char *code, const char *text)
{
    const char *const pairs[] = {
        "sessionId",   session, "serviceCode", code, "phoneNumber", "+358401234567",
        "networkCode", "24405", "text",        text, NULL};
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct testlib_response r;
    char *form = testlib_form(pairs);

    assert_int_equal(testlib_http("POST", u->url, headers, form, strlen(form), &r), 0);
    free(form);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "text/plain"));
    if (strncmp(r.body, "CON ", 4) != 0 && strncmp(r.body, "END ", 4) != 0)
        fail_msg("reply does not start with CON or END: %s", r.body);
    if (utf8_count(r.body + 4) > 160)
        fail_msg("screen over 160 characters (%zu): %s", utf8_count(r.body + 4), r.body);
    snprintf(u->reply, sizeof(u->reply), "%s", r.body);
    testlib_response_release(&r);
    return u->reply;
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL)                                                       \
            fail_msg("expected \"%s\" in:\n%s", (needle), (hay));                                  \
    } while (0)

static void tonight_branch_gives_the_shelter_in_one_session(void **state)
{
    struct ussd u;
    const char *t;

    (void)state;
    start(&u, "\"callbacks\": {\"teams\": [{\"id\": \"hel\", \"name\": \"Helsingin etsivä työ\", "
              "\"city\": \"Helsinki\", \"on_call\": [\"+358401111111\"], \"calls_from\": \"09 310 "
              "12345\", \"hours\": \"Mo-Fr 08:00-16:00\"}]}");
    t = post(&u, "s1", CODE, "");
    assert_contains(t, "CON Katto: automaattinen");
    assert_contains(t, "\n1 Ei yöpaikkaa\n98 Lisää"); /* the first choice is on the first screen */
    t = post(&u, "s1", CODE, "98");
    assert_contains(t, "CON ");
    assert_contains(t, "2 Vuokrarästi tai häätö");
    t = post(&u, "s1", CODE, "98*1");
    assert_contains(t, "CON Missä olet?");
    t = post(&u, "s1", CODE, "98*1*00530");
    assert_contains(t, "CON Haluatko tiedot myös tekstiviestinä"); /* consent first */
    t = post(&u, "s1", CODE, "98*1*00530*2");
    /* The nearest bed open now, and the social emergency number; the rest on the next page. */
    assert_contains(t, "CON Lähin yöpaikka:\nHietaniemenkadun palvelukeskus");
    assert_contains(t, "Auki aina. Puh. 09 3104 6628.");
    assert_contains(t, "Sosiaalipäivystys (Helsinki)");
    t = post(&u, "s1", CODE, "98*1*00530*2*98");
    assert_contains(t, "CON Haluatko, että sinulle soitetaan?\n1 Soittakaa minulle\n2 Alkuun");
    /* A call back, asked in the same session: when, consent, and the reference. */
    t = post(&u, "s1", CODE, "98*1*00530*2*98*1");
    assert_contains(t, "CON Milloin voimme soittaa?");
    t = post(&u, "s1", CODE, "98*1*00530*2*98*1*1");
    assert_contains(t, "CON Saako työntekijä soittaa tähän numeroon");
    t = post(&u, "s1", CODE, "98*1*00530*2*98*1*1*1");
    assert_contains(t, "END Soittopyyntö K-");
    assert_contains(t, "Helsingin etsivä työ soittaa numerosta 09 310 12345");
    assert_contains(t, "Hätä: 112.");
    assert_int_equal(testlib_server_stop(&u.s, 10000), 0);
    /* One session in the anonymous log: from start to end, in Helsinki. */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(u.s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(event, ',') FROM (SELECT event FROM "
                                        "contact_log WHERE channel = 'ussd' AND event IN "
                                        "('session_start', 'session_end') ORDER BY id)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "session_start,session_end");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT city FROM contact_log WHERE event = "
                                        "'session_end'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "Helsinki");
    sqlite3_finalize(st);
    /* The service named is logged by its id, and nothing records the postal code typed. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(service_id, ',') FROM contact_log "
                                        "WHERE event = 'referral'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "hel-hietaniemenkatu");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM contact_log WHERE "
                                        "instr(coalesce(city, '') || coalesce(node, '') || "
                                        "coalesce(path, '') || coalesce(service_id, ''), "
                                        "'00530') > 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    /* ...and one summary row with the path the session took. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT path FROM contact_log WHERE event = "
                                        "'ussd_session'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "helpline/welcome,helpline/tn_ask_place,helpline/tn_ask_copy,"
                        "helpline/tn_next,helpline/tn_call,helpline/bye");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_false(testlib_server_log_has_sanitizer_report(&u.s));
    testlib_server_release(&u.s);
}

static void eviction_branch_paginates_and_ends_with_thanks(void **state)
{
    static const char *const more[] = {"2*00530*98*98", "2*00530*98*98*98", "2*00530*98*98*98*98"};
    struct ussd u;
    const char *t;

    (void)state;
    start(&u, NULL);
    post(&u, "s2", CODE, "");
    t = post(&u, "s2", CODE, "2"); /* options keep their numbers on every page */
    assert_contains(t, "CON Vuokrarästi tai häätö. Missä asut?");
    t = post(&u, "s2", CODE, "2*00530");
    assert_contains(t, "CON Toimi heti");
    assert_contains(t, "98 Lisää");
    t = post(&u, "s2", CODE, "2*00530*98");
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]) && strstr(t, "5 Alkuun") == NULL; i++)
        t = post(&u, "s2", CODE, more[i]);
    assert_contains(t, "4 Soittakaa minulle");
    assert_contains(t, "5 Alkuun");
    /* The court: advice, then a menu whose last choice leads to a call back; none is set up here,
     * so the conversation ends with the thanks. */
    t = post(&u, "s2", CODE, "2*00530*98*2");
    assert_contains(t, "CON Häätöön tarvitaan aina käräjäoikeuden päätös.");
    t = post(&u, "s2", CODE, "2*00530*98*2*2");
    assert_contains(t, "ei ole vielä tiimiä");
    assert_contains(t, "Sosiaalipäivystys (Helsinki)");
    t = post(&u, "s2", CODE, "2*00530*98*2*2*98");
    assert_contains(t, "END Kiitos.");
    stop(&u);
}

static void language_back_and_main_menu_work(void **state)
{
    struct ussd u;
    const char *t;

    (void)state;
    start(&u, NULL);
    post(&u, "s3", CODE, "");
    t = post(&u, "s3", CODE, "9"); /* on the third page, but its number works from the first */
    assert_contains(t, "CON Kieli / Language:");
    assert_contains(t, "4 Русский"); /* the other languages in their own script */
    t = post(&u, "s3", CODE, "9*2");
    assert_contains(t, "Nattplats: NATT och postnummer");
    t = post(&u, "s3", CODE, "9*2*2");
    assert_contains(t, "Var bor du?");
    t = post(&u, "s3", CODE, "9*2*2*Esbo");
    assert_contains(t, "Agera genast");
    t = post(&u, "s3", CODE, "9*2*2*Esbo*0");
    assert_contains(t, "Var bor du?");
    t = post(&u, "s3", CODE, "9*2*2*Esbo*0*00");
    assert_contains(t, "Nattplats: NATT och postnummer");
    assert_contains(t, "1 Ingen nattplats");
    stop(&u);
}

static void resent_step_repeats_the_screen_and_out_of_step_ends(void **state)
{
    struct ussd u;
    char first[1024];

    (void)state;
    start(&u, NULL);
    post(&u, "s4", CODE, "");
    snprintf(first, sizeof(first), "%s", post(&u, "s4", CODE, "9"));
    /* The gateway resent the step. */
    assert_string_equal(post(&u, "s4", CODE, "9"), first);
    assert_contains(post(&u, "s4", CODE, "9*1"), "Yöpaikka heti"); /* and it goes on */
    /* A text that does not extend what the session has seen. */
    assert_contains(post(&u, "s4", CODE, "9*9*9"), "END ");
    /* The session is over: the next request starts again. */
    assert_contains(post(&u, "s4", CODE, ""), "CON Katto: automaattinen");
    stop(&u);
}

static void bad_requests_get_a_short_end_and_the_server_keeps_serving(void **state)
{
    struct ussd u;
    struct testlib_response r;
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    static const char *const json_ct[] = {"Content-Type: application/json", NULL};
    static const struct {
        const char *body;
        const char *const *headers;
    } cases[] = {
        {"serviceCode=%2A500%23&phoneNumber=%2B358401234567&text=", form_ct},  /* no sessionId */
        {"sessionId=x&serviceCode=%2A500%23&text=", form_ct},                  /* no phoneNumber */
        {"sessionId=x&serviceCode=%2A500%23&phoneNumber=1&text=%ZZ", form_ct}, /* bad encoding */
        {"{\"sessionId\": \"x\"}", json_ct},                                   /* wrong type */
    };
    char long_text[2048];

    (void)state;
    start(&u, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            testlib_http("POST", u.url, cases[i].headers, cases[i].body, strlen(cases[i].body), &r),
            0);
        assert_int_equal(r.status, 200);
        if (strncmp(r.body, "END ", 4) != 0)
            fail_msg("case %zu: %s", i, r.body);
        testlib_response_release(&r);
    }
    memset(long_text, '1', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_contains(post(&u, "s5", CODE, long_text), "END ");
    /* Invalid UTF-8 ends the session with the short message, and is not echoed. */
    post(&u, "s6", CODE, "");
    assert_contains(post(&u, "s6", CODE, "\xff\xfe"), "END ");
    assert_null(strstr(u.reply, "\xff"));
    assert_contains(post(&u, "s7", CODE, ""), "CON ");
    stop(&u);
}

static void dial_code_mapped_to_a_flow_starts_it(void **state)
{
    struct ussd u;
    const char *t;

    (void)state;
    start(&u, NULL);
    t = post(&u, "s8", "*500*1#", "");
    assert_contains(t, "Missä olet?");
    t = post(&u, "s8", "*500*1#", "Tampere");
    assert_contains(t, "CON Haluatko tiedot");
    t = post(&u, "s8", "*500*1#", "Tampere*ei");
    assert_contains(t,
                    "CON Lähin yöpaikka:\nTampereen asumispäivystys ja asumisyksiköt (TASTU). Auki "
                    "aina.\nSosiaalipäivystys (Tampere): 050 062 5990.");
    stop(&u);
}

static void crisis_words_end_the_session_with_help(void **state)
{
    struct ussd u;

    (void)state;
    start(&u, NULL);
    post(&u, "s9", CODE, "");
    assert_contains(post(&u, "s9", CODE, "haluan kuolla"), "END Hätätilanteessa soita 112");
    stop(&u);
}

static bool emu_has_one(void *arg)
{
    return testlib_emu_count(arg, "46elks", 1) >= 1;
}

static bool emu_has_two(void *arg)
{
    return testlib_emu_count(arg, "46elks", 1) >= 2;
}

static void the_same_conversation_over_sms_and_ussd_reaches_the_same_result(void **state)
{
    struct ussd u;
    struct testlib_emu emu;
    struct testlib_response r;
    char extra[1024], url[256], sms[1024] = "";
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *const pairs[] = {
        "id", "same-1", "from", "+358401234567", "to", "+46766861004", "message", "YÖ 00530", NULL};
    cJSON *all, *x;

    (void)state;
    assert_int_equal(testlib_emu_start(&emu, 0, NULL), 0);
    snprintf(extra, sizeof(extra),
             "\"gateways\": {\"46elks\": {\"username\": \"%s\", \"password\": \"%s\", "
             "\"from\": \"Katto\", \"base_url\": \"%s\", \"webhook_token\": \"t\"}}, "
             "\"default_gateway\": \"46elks\"",
             TESTLIB_EMU_ELKS_USER, TESTLIB_EMU_ELKS_PASS, emu.base_url);
    start(&u, extra);
    char *form = testlib_form(pairs);
    snprintf(url, sizeof(url), "%s/webhooks/46elks/sms?token=t", u.s.base_url);
    assert_int_equal(testlib_http("POST", url, form_ct, form, strlen(form), &r), 0);
    assert_int_equal(r.status, 204);
    testlib_response_release(&r);
    free(form);
    assert_true(testlib_wait_for(emu_has_one, &emu, 10000));
    all = testlib_emu_requests(&emu);
    cJSON_ArrayForEach(x, all)
    {
        if (cJSON_IsString(cJSON_GetObjectItem(x, "text")))
            snprintf(sms, sizeof(sms), "%s", cJSON_GetObjectItem(x, "text")->valuestring);
    }
    cJSON_Delete(all);
    post(&u, "s10", "*500*1#", "");
    post(&u, "s10", "*500*1#", "00530");
    post(&u, "s10", "*500*1#", "00530*2");
    /* The same answer: the shelter's text, whichever channel carried the question. */
    assert_contains(sms, "Lähin yöpaikka:\nHietaniemenkadun palvelukeskus");
    assert_contains(u.reply, "Lähin yöpaikka:\nHietaniemenkadun palvelukeskus");
    assert_contains(sms, "Auki aina.");
    assert_contains(u.reply, "Auki aina.");
    assert_contains(sms, "09 3104 6628");
    assert_contains(u.reply, "09 3104 6628");
    /* With consent, USSD hands the details over to SMS through the default gateway. */
    post(&u, "s11", "*500*1#", "");
    post(&u, "s11", "*500*1#", "00530");
    assert_contains(post(&u, "s11", "*500*1#", "00530*1"), "Hietaniemenkadun palvelukeskus");
    /* The confirmation is on the screen after the services. */
    assert_contains(post(&u, "s11", "*500*1#", "00530*1*98"), "Tiedot tulevat myös tekstiviestinä");
    assert_true(testlib_wait_for(emu_has_two, &emu, 10000));
    all = testlib_emu_requests(&emu);
    int copies = 0;
    cJSON_ArrayForEach(x, all)
    {
        const cJSON *text = cJSON_GetObjectItem(x, "text"), *to = cJSON_GetObjectItem(x, "to");

        copies += cJSON_IsString(text) && cJSON_IsString(to) &&
                  strcmp(to->valuestring, "+358401234567") == 0 &&
                  strstr(text->valuestring, "09 3104 6628") != NULL;
    }
    cJSON_Delete(all);
    assert_int_equal(copies, 2); /* the SMS conversation's reply and the USSD copy */
    stop(&u);
    assert_int_equal(testlib_emu_stop(&emu), 0);
    testlib_emu_release(&emu);
}

static void the_generic_json_variant_means_the_same(void **state)
{
    struct ussd u;
    struct testlib_response r;
    char url[256];
    static const char *const json_ct[] = {"Content-Type: application/json", NULL};
    const char *first = "{\"sessionId\": \"j1\", \"serviceCode\": \"*500*1#\", "
                        "\"phoneNumber\": \"+358401234567\", \"text\": \"\"}";

    (void)state;
    start(&u, NULL);
    snprintf(url, sizeof(url), "%s/webhooks/ussd/%s", u.s.base_url, TOKEN);
    assert_int_equal(testlib_http("POST", url, json_ct, first, strlen(first), &r), 0);
    assert_int_equal(r.status, 200);
    assert_contains(r.body, "CON Katto: automaattinen");
    assert_contains(r.body, "Missä olet?");
    testlib_response_release(&r);
    /* Not a JSON object: a short END, as for every bad request. */
    assert_int_equal(testlib_http("POST", url, json_ct, "[1]", 3, &r), 0);
    assert_contains(r.body, "END ");
    testlib_response_release(&r);
    stop(&u);
}

static void unknown_service_code_gets_a_short_end(void **state)
{
    struct ussd u;

    (void)state;
    start(&u, NULL);
    assert_contains(post(&u, "s12", "*999#", ""), "END ");
    stop(&u);
}

/* Runs one SQL statement on the server's database from the test (WAL allows it). */
static void db_run(struct ussd *u, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(u->s.db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static bool timeout_logged(void *arg)
{
    struct ussd *u = arg;
    sqlite3 *db;
    sqlite3_stmt *st;
    bool found = false;

    if (sqlite3_open_v2(u->s.db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return false;
    if (sqlite3_prepare_v2(db,
                           "SELECT path FROM contact_log WHERE event = 'ussd_timeout' AND "
                           "pseudonym IS NULL",
                           -1, &st, NULL) == SQLITE_OK) {
        found = sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0),
                                                         "helpline/welcome,helpline/language") == 0;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return found;
}

static void abandoned_and_expired_sessions_are_handled(void **state)
{
    struct ussd u;
    const char *t;

    (void)state;
    start(&u, NULL);
    /* The person walks away; the gateway gives up. After expiry the session leaves one row. */
    post(&u, "s13", CODE, "");
    post(&u, "s13", CODE, "9");
    db_run(&u, "UPDATE sessions SET expires_at = 0");
    assert_true(testlib_wait_for(timeout_logged, &u, 10000));
    /* A late request for the expired session starts again politely, never hangs. */
    t = post(&u, "s13", CODE, "9*2");
    assert_contains(t, "CON ");
    assert_contains(t, "Katto: automaattinen");
    stop(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tonight_branch_gives_the_shelter_in_one_session),
        cmocka_unit_test(eviction_branch_paginates_and_ends_with_thanks),
        cmocka_unit_test(language_back_and_main_menu_work),
        cmocka_unit_test(resent_step_repeats_the_screen_and_out_of_step_ends),
        cmocka_unit_test(bad_requests_get_a_short_end_and_the_server_keeps_serving),
        cmocka_unit_test(dial_code_mapped_to_a_flow_starts_it),
        cmocka_unit_test(crisis_words_end_the_session_with_help),
        cmocka_unit_test(the_same_conversation_over_sms_and_ussd_reaches_the_same_result),
        cmocka_unit_test(the_generic_json_variant_means_the_same),
        cmocka_unit_test(unknown_service_code_gets_a_short_end),
        cmocka_unit_test(abandoned_and_expired_sessions_are_handled),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
