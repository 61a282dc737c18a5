/*
 * test_callbacks.c: a callback request end to end, through the real katto and
 * the gateway emulator: a client asks by SMS, the on-call worker is texted
 * (reference, city and window only), reminders go round the on-call list,
 * and a passed window alerts the lead and tells the client honestly, unless
 * the client said their phone is not safe. Time moves by the server's test
 * clock, never by waiting for it.
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

#define ELKS_USER "u46"
#define ELKS_PASS "p46"
#define ELKS_HOOK "elks-route-token"
#define CLIENT "+358409999991"
#define CLIENT_DIGITS "409999991"
#define UNSAFE "+358409999992"
#define UNSAFE_DIGITS "409999992"
#define OTHER_DIGITS "407654321" /* the other number the unsafe client gives */
#define ON_CALL_1 "+358401111111"
#define ON_CALL_2 "+358402222222"
#define LEAD "+358403333333"
#define TUE_1200 1795514400LL /* 2026-11-24 12:00 in Helsinki */

#define TEAMS                                                                                      \
    "\"callbacks\": {\"remind_after\": 600, \"teams\": [{\"id\": \"hel-outreach\", \"name\": "     \
    "\"Helsingin etsivä työ\", \"city\": \"Helsinki\", \"on_call\": [\"" ON_CALL_1                 \
    "\", \"" ON_CALL_2 "\"], \"lead\": \"" LEAD                                                    \
    "\", \"calls_from\": \"09 310 12345\", \"hours\": "                                            \
    "\"Mo-Fr 08:00-16:00\"}]}"

struct world {
    struct testlib_emu emu;
    struct testlib_server s;
    int next_id;
};

static void start_world(struct world *w)
{
    static const char *const emu_args[] = {"--elks-user", ELKS_USER, "--elks-pass", ELKS_PASS,
                                           NULL};
    char *json;

    memset(w, 0, sizeof(*w));
    assert_int_equal(testlib_emu_start(&w->emu, 0, emu_args), 0);
    assert_true(asprintf(&json,
                         "\"gateways\": {\"46elks\": {\"username\": \"%s\", \"password\": \"%s\", "
                         "\"from\": \"Katto\", \"base_url\": \"%s\", \"webhook_token\": \"%s\"}}, "
                         "\"default_gateway\": \"46elks\", \"public_url\": "
                         "\"https://katto.example\", \"maintenance_interval\": 1, " TEAMS,
                         ELKS_USER, ELKS_PASS, w->emu.base_url, ELKS_HOOK) > 0);
    assert_int_equal(testlib_server_start(&w->s, json, NULL), 0);
    free(json);
    testlib_server_set_clock(&w->s, TUE_1200);
}

static void stop_world(struct world *w)
{
    assert_int_equal(testlib_server_stop(&w->s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&w->s));
    testlib_emu_stop(&w->emu);
    testlib_server_release(&w->s);
    testlib_emu_release(&w->emu);
}

static void send_sms(struct world *w, const char *from, const char *text)
{
    char id[32];

    snprintf(id, sizeof(id), "cb-%d", w->next_id++);
    assert_int_equal(testlib_send_elks(w->s.base_url, ELKS_HOOK, id, from, text), 204);
}

static char *texts_to(const struct world *w, const char *to)
{
    return testlib_emu_texts_to(&w->emu, to);
}

struct wait_text {
    const struct world *w;
    const char *to, *needle;
};

static bool has_text(void *arg)
{
    const struct wait_text *x = arg;
    char *t = texts_to(x->w, x->to);
    bool found = strstr(t, x->needle) != NULL;

    free(t);
    return found;
}

static void wait_text(const struct world *w, const char *to, const char *needle)
{
    struct wait_text x = {w, to, needle};

    if (!testlib_wait_for(has_text, &x, 10000)) {
        char *t = texts_to(w, to);

        fail_msg("no text with \"%s\" to %s; got:\n%s", needle, to, t);
    }
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL)                                                       \
            fail_msg("expected \"%s\" in:\n%s", (needle), (hay));                                  \
    } while (0)

/* The reference ("K-1234") told to from, copied into ref. */
static void reference_told(const struct world *w, const char *from, char ref[8])
{
    char *t = texts_to(w, from), *k = strstr(t, "Soittopyyntö K-");

    if (k == NULL)
        k = strstr(t, "Pyyntö K-");
    assert_non_null(k);
    k = strstr(k, "K-");
    snprintf(ref, 8, "%.6s", k);
    free(t);
}

static long db_count(const struct world *w, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long n = -1;

    assert_int_equal(sqlite3_open_v2(w->s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void request_reaches_on_call_then_reminder_then_lead_and_client(void **state)
{
    struct world w;
    char ref[8], *t;

    (void)state;
    start_world(&w);
    send_sms(&w, CLIENT, "SOITA");
    wait_text(&w, CLIENT, "Missä kaupungissa olet?");
    send_sms(&w, CLIENT, "Helsingissä");
    wait_text(&w, CLIENT, "Milloin voimme soittaa?");
    send_sms(&w, CLIENT, "1");
    wait_text(&w, CLIENT, "onko soittaminen turvallista");
    send_sms(&w, CLIENT, "1");
    wait_text(&w, CLIENT, "soittaa numerosta 09 310 12345 viimeistään 14:00");
    reference_told(&w, CLIENT, ref);

    /* The on-call worker: reference, city, window, link; never the number. */
    wait_text(&w, ON_CALL_1, ref);
    t = texts_to(&w, ON_CALL_1);
    assert_contains(t, "Helsinki");
    assert_contains(t, "nyt");
    assert_contains(t, "https://katto.example/worker");
    assert_null(strstr(t, CLIENT_DIGITS));
    free(t);

    /* Ten minutes unclaimed: the next on-call number is reminded. */
    testlib_server_set_clock(&w.s, TUE_1200 + 601);
    wait_text(&w, ON_CALL_2, "muistutus");
    t = texts_to(&w, ON_CALL_2);
    assert_contains(t, ref);
    assert_null(strstr(t, CLIENT_DIGITS));
    free(t);

    /* The promised window (two hours) passes unclaimed: the lead, and the client honestly. */
    testlib_server_set_clock(&w.s, TUE_1200 + 2 * 3600 + 60);
    wait_text(&w, LEAD, ref);
    wait_text(&w, CLIENT, "Pahoittelut");
    t = texts_to(&w, CLIENT);
    assert_contains(t, "Sosiaalipäivystys (Helsinki)");
    free(t);
    /* Monitoring sees it: one callback past its window, nothing stuck in the outbox. */
    struct testlib_response hr;
    char url[256];
    snprintf(url, sizeof(url), "%s/healthz", w.s.base_url);
    assert_int_equal(testlib_http("GET", url, NULL, NULL, 0, &hr), 0);
    assert_contains(hr.body, "\"callbacks_overdue\":1");
    assert_contains(hr.body, "\"outbox_depth\":");
    testlib_response_release(&hr);
    /* Logged anonymously as a callback request. */
    assert_int_equal(db_count(&w, "SELECT count(*) FROM contact_log WHERE event = "
                                  "'callback_requested' AND city = 'Helsinki'"),
                     1);
    stop_world(&w);
}

static void unsafe_phone_is_never_texted_and_nothing_is_stored_in_clear(void **state)
{
    struct world w;
    char *t;

    (void)state;
    start_world(&w);
    send_sms(&w, UNSAFE, "SOITA");
    send_sms(&w, UNSAFE, "Helsinki");
    send_sms(&w, UNSAFE, "2");
    send_sms(&w, UNSAFE, "2"); /* not this number */
    wait_text(&w, UNSAFE, "paikka ja aika tavata");
    send_sms(&w, UNSAFE, "040 765 4321");
    wait_text(&w, ON_CALL_1, "uusi soittopyyntö");
    /* The window passes: the lead is alerted, the unsafe phone hears nothing more. */
    testlib_server_set_clock(&w.s, TUE_1200 + 5 * 3600);
    wait_text(&w, LEAD, "ylitti");
    t = texts_to(&w, UNSAFE);
    assert_null(strstr(t, "Pahoittelut"));
    free(t);
    t = texts_to(&w, "+358407654321");
    assert_string_equal(t, ""); /* nor does the other number: it is for the worker to call */
    free(t);
    /* Nothing identifying in clear: not the numbers, not in any table. */
    assert_int_equal(db_count(&w,
                              "SELECT count(*) FROM callback_requests WHERE "
                              "instr(coalesce(ref,'') || team || city || lang || time_window || "
                              "coalesce(topic,'') || coalesce(contact_key,''), '" OTHER_DIGITS
                              "') > 0 OR instr(coalesce(contact_key,''), '" UNSAFE_DIGITS "') > 0"),
                     0);
    assert_int_equal(db_count(&w, "SELECT count(*) FROM callback_requests WHERE number_enc IS "
                                  "NOT NULL AND sender_enc IS NULL AND notify_sender = 0"),
                     1);
    assert_int_equal(
        db_count(&w, "SELECT count(*) FROM outbox WHERE instr(body, '" OTHER_DIGITS "') > 0"), 0);
    stop_world(&w);
}

static void meeting_place_and_erase(void **state)
{
    struct world w;

    (void)state;
    start_world(&w);
    send_sms(&w, CLIENT, "SOITA");
    send_sms(&w, CLIENT, "Helsinki");
    send_sms(&w, CLIENT, "3");
    send_sms(&w, CLIENT, "ei");
    send_sms(&w, CLIENT, "Kampin kauppakeskus klo 14");
    wait_text(&w, CLIENT, "yrittää tavata sinut");
    wait_text(&w, ON_CALL_1, "huomenna");
    assert_int_equal(db_count(&w, "SELECT count(*) FROM callback_requests WHERE meet_enc IS NOT "
                                  "NULL AND time_window = 'tomorrow'"),
                     1);
    assert_int_equal(db_count(&w, "SELECT count(*) FROM outbox WHERE instr(body, 'Kampin') > 0"),
                     0);
    /* ERASE takes the request too. */
    send_sms(&w, CLIENT, "POISTA");
    wait_text(&w, CLIENT, "Poistetaanko");
    send_sms(&w, CLIENT, "1");
    wait_text(&w, CLIENT, "Tiedot on poistettu");
    assert_int_equal(db_count(&w, "SELECT count(*) FROM callback_requests"), 0);
    stop_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_reaches_on_call_then_reminder_then_lead_and_client),
        cmocka_unit_test(unsafe_phone_is_never_texted_and_nothing_is_stored_in_clear),
        cmocka_unit_test(meeting_place_and_erase),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
