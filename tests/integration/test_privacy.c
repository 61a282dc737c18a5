/*
 * test_privacy.c: the privacy promise, checked the way an auditor would.
 * Many test numbers hold full conversations over SMS and USSD through every
 * flow path (main menu branches, the tonight shortcut, unknown places, the
 * city list, an age question, callbacks to this number, to another number and
 * to a meeting place, from SOITA and from a branch of the helpline, STOP,
 * ERASE, the privacy notice, crisis words), each typing unique
 * canary strings wherever free text is possible, and a worker claims, reads
 * and closes every callback request. Then the whole SQLite file
 * (every table, plus the WAL) and the server's log are searched for every
 * number in every common format and for every canary: zero hits.
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
#include "testlib_worker.h"

#define ELKS_USER "u46"
#define ELKS_PASS "p46"
#define ELKS_HOOK "elks-route-token"
#define USSD_TOKEN "ussd-route-token"
#define CLIENTS 12
#define TUE_1200 1795514400LL /* 2026-11-24 12:00 in Helsinki */

struct world {
    struct testlib_emu emu;
    struct testlib_server s;
    int next_id;
};

/* The i-th test number in E.164, and the other number client i gives for a callback. */
static void number(int i, char out[32])
{
    snprintf(out, 32, "+35840555%04d", (1000 + i) % 10000);
}

static void other_number(int i, char out[32])
{
    snprintf(out, 32, "+35850666%04d", (2000 + i) % 10000);
}

static void sms(struct world *w, const char *from, const char *text)
{
    char id[32];

    snprintf(id, sizeof(id), "p-%d", w->next_id++);
    assert_int_equal(testlib_send_elks(w->s.base_url, ELKS_HOOK, id, from, text), 204);
}

static void ussd(struct world *w, const char *session, const char *from, const char *code,
                 const char *text)
{
    static const char *const ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *const pairs[] = {"sessionId",   session, "serviceCode", code, "phoneNumber", from,
                                 "networkCode", "24405", "text",        text, NULL};
    char url[512], *form = testlib_form(pairs);
    struct testlib_response r;

    snprintf(url, sizeof(url), "%s/webhooks/africastalking/ussd/%s", w->s.base_url, USSD_TOKEN);
    assert_int_equal(testlib_http("POST", url, ct, form, strlen(form), &r), 0);
    assert_int_equal(r.status, 200);
    testlib_response_release(&r);
    free(form);
}

/* Client i's conversations over SMS: a different mix of paths for each. */
static void sms_conversations(struct world *w, int i)
{
    char from[32], other[32], canary[64];

    number(i, from);
    other_number(i, other);
    sms(w, from, "APUA");
    snprintf(canary, sizeof(canary), "kanarialintu-sms-%d asun Kalliossa", i);
    sms(w, from, canary); /* not a menu choice: asked again, never stored */
    sms(w, from, "2");
    sms(w, from, "00");
    snprintf(canary, sizeof(canary), "YÖ kanarialintu-paikka-%d", i);
    sms(w, from, canary); /* an unknown place */
    snprintf(canary, sizeof(canary), "kanarialintu-toinen-%d", i);
    sms(w, from, canary); /* unknown twice: the city list */
    sms(w, from, "1");    /* Helsinki from the list */
    /* The young people's branch: its own place question, and an age that must be a number. */
    sms(w, from, "APUA");
    sms(w, from, "4");
    snprintf(canary, sizeof(canary), "kanarialintu-nuori-%d", i);
    sms(w, from, canary); /* an unknown place */
    sms(w, from, "Helsinki");
    snprintf(canary, sizeof(canary), "kanarialintu-ika-%d", i);
    sms(w, from, canary); /* not an age: asked again, never stored */
    sms(w, from, "17");
    sms(w, from, "00");
    switch (i % 4) {
    case 0: /* a callback to this number */
        sms(w, from, "SOITA");
        sms(w, from, "Helsinki");
        sms(w, from, "1");
        sms(w, from, "1");
        break;
    case 1: /* to another number: the phone is not safe */
        sms(w, from, "SOITA");
        sms(w, from, "Helsinki");
        sms(w, from, "2");
        sms(w, from, "2");
        snprintf(canary, sizeof(canary), "0%.2s %.3s %s", other + 4, other + 6, other + 9);
        sms(w, from, "506662001"); /* no 0 or +: asked again, not guessed */
        sms(w, from, canary);      /* as people write it: 050 666 2001 */
        break;
    case 2: /* a meeting place, asked from the eviction branch (the city is known) */
        sms(w, from, "2");
        sms(w, from, "4");
        sms(w, from, "3");
        sms(w, from, "ei");
        snprintf(canary, sizeof(canary), "kanarialintu-tavataan-%d Kampissa klo 14", i);
        sms(w, from, canary);
        break;
    default: /* privacy notice, a crisis word, STOP, START, ERASE */
        sms(w, from, "TIETOSUOJA");
        snprintf(canary, sizeof(canary), "haluan kuolla kanarialintu-kriisi-%d", i);
        sms(w, from, canary);
        sms(w, from, "STOP");
        sms(w, from, "APUA");
        sms(w, from, "POISTA");
        sms(w, from, "1");
        break;
    }
}

/* Client i's USSD sessions, with canaries in the accumulated text. */
static void ussd_sessions(struct world *w, int i)
{
    char from[32], session[32], text[128];

    number(i, from);
    snprintf(session, sizeof(session), "ussd-a-%d", i);
    ussd(w, session, from, "*500#", "");
    ussd(w, session, from, "*500#", "98");
    ussd(w, session, from, "*500#", "98*1");
    snprintf(text, sizeof(text), "98*1*kanarialintu-ussd-%d", i);
    ussd(w, session, from, "*500#", text);
    snprintf(text, sizeof(text), "98*1*kanarialintu-ussd-%d*00530", i);
    ussd(w, session, from, "*500#", text);
    snprintf(text, sizeof(text), "98*1*kanarialintu-ussd-%d*00530*2", i);
    ussd(w, session, from, "*500#", text);
    snprintf(session, sizeof(session), "ussd-b-%d", i);
    ussd(w, session, from, "*500*1#", "");
    ussd(w, session, from, "*500*1#", "Tampere");
    ussd(w, session, from, "*500*1#", "Tampere*1"); /* an SMS copy, with consent */
}

/* The needles: every number in its common formats, and every canary. */
static size_t needles(char list[][64], size_t max)
{
    size_t n = 0;

    for (int i = 0; i < CLIENTS && n + 9 <= max; i++) {
        char e164[32];

        for (int which = 0; which < 2; which++) {
            (which ? other_number : number)(i, e164);
            snprintf(list[n++], 64, "%s", e164);      /* +358405551000 */
            snprintf(list[n++], 64, "%s", e164 + 1);  /* 358405551000 */
            snprintf(list[n++], 64, "0%s", e164 + 4); /* 0405551000 */
        }
        other_number(i, e164);
        snprintf(list[n++], 64, "0%.2s %.3s %s", e164 + 4, e164 + 6, e164 + 9); /* as typed */
        snprintf(list[n++], 64, "kanarialintu-sms-%d ", i);
        snprintf(list[n++], 64, "kanarialintu-paikka-%d", i);
    }
    for (int i = 0; i < CLIENTS && n + 7 <= max; i++) {
        snprintf(list[n++], 64, "kanarialintu-toinen-%d", i);
        snprintf(list[n++], 64, "kanarialintu-nuori-%d", i);
        snprintf(list[n++], 64, "kanarialintu-ika-%d", i);
        snprintf(list[n++], 64, "kanarialintu-tavataan-%d", i);
        snprintf(list[n++], 64, "kanarialintu-kriisi-%d", i);
        snprintf(list[n++], 64, "kanarialintu-ussd-%d", i);
        snprintf(list[n++], 64, "Kampissa");
    }
    return n;
}

/* Fails naming the needle and the file if any needle is in the file at path. */
static void assert_clean(const char *path, char list[][64], size_t n)
{
    size_t len;
    char *data = testlib_read_file(path, &len);

    if (data == NULL)
        return; /* a WAL that was checkpointed away */
    for (size_t i = 0; i < n; i++) {
        if (memmem(data, len, list[i], strlen(list[i])) != NULL)
            fail_msg("'%s' found in %s", list[i], path);
    }
    /* A canary prefix alone must not survive anywhere either. */
    if (memmem(data, len, "kanarialintu", 12) != NULL)
        fail_msg("a canary found in %s", path);
    free(data);
}

static bool outbox_drained(void *arg)
{
    struct world *w = arg;
    struct testlib_response r;
    char url[256];
    bool empty;

    snprintf(url, sizeof(url), "%s/healthz", w->s.base_url);
    if (testlib_http("GET", url, NULL, NULL, 0, &r) != 0)
        return false;
    empty = strstr(r.body, "\"outbox_depth\":0") != NULL;
    testlib_response_release(&r);
    return empty;
}

/*
 * An outreach worker signs in, claims every open request, reveals its number
 * or meeting place (shown on the page, never logged) and closes it: the
 * numbers are then purged.
 */
static void work_the_requests(struct world *w)
{
    struct browser b;
    struct testlib_response r;
    char token[65];
    sqlite3 *db;
    sqlite3_stmt *st;
    long long ids[CLIENTS];
    size_t n = 0;

    add_worker(&w->s, "Anna Testaaja", "hel", token);
    sign_in_ok(&w->s, token, &b);
    assert_int_equal(sqlite3_open_v2(w->s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id FROM callback_requests WHERE closed_at IS "
                                        "NULL ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && n < CLIENTS)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(n, CLIENTS / 4 * 3);
    for (size_t i = 0; i < n; i++) {
        post_id(&w->s, &b, "/worker/claim", ids[i], NULL, &r);
        assert_int_equal(r.status, 303);
        testlib_response_release(&r);
        post_id(&w->s, &b, "/worker/reveal", ids[i], NULL, &r);
        assert_int_equal(r.status, 200);
        assert_true(strstr(r.body, "+3584055") != NULL || strstr(r.body, "+3585066") != NULL ||
                    strstr(r.body, "Kampissa") != NULL);
        testlib_response_release(&r);
        post_id(&w->s, &b, "/worker/close", ids[i], "outcome=reached", &r);
        assert_int_equal(r.status, 303);
        testlib_response_release(&r);
    }
}

static void no_number_or_typed_text_anywhere_in_the_database_or_log(void **state)
{
    static const char *const emu_args[] = {"--elks-user", ELKS_USER, "--elks-pass", ELKS_PASS,
                                           NULL};
    static char list[CLIENTS * 16][64];
    struct world w = {0};
    char *json, path[4200];
    size_t n;

    (void)state;
    assert_int_equal(testlib_emu_start(&w.emu, 0, emu_args), 0);
    assert_true(
        asprintf(&json,
                 "\"gateways\": {\"46elks\": {\"username\": \"%s\", \"password\": \"%s\", "
                 "\"from\": \"Katto\", \"base_url\": \"%s\", \"webhook_token\": \"%s\"}}, "
                 "\"default_gateway\": \"46elks\", \"maintenance_interval\": 1, "
                 "\"ussd\": {\"token\": \"%s\", \"service_codes\": {\"*500*1#\": \"tonight\", "
                 "\"*500#\": \"helpline\"}}, \"callbacks\": {\"teams\": [{\"id\": \"hel\", "
                 "\"name\": \"Helsingin etsivä työ\", \"city\": \"Helsinki\", \"on_call\": "
                 "[\"+358401111111\"], \"lead\": \"+358403333333\", \"calls_from\": \"09 310 "
                 "12345\", \"hours\": \"Mo-Fr 08:00-16:00\"}]}",
                 ELKS_USER, ELKS_PASS, w.emu.base_url, ELKS_HOOK, USSD_TOKEN) > 0);
    assert_int_equal(testlib_server_start(&w.s, json, NULL), 0);
    free(json);
    testlib_server_set_clock(&w.s, TUE_1200);
    for (int i = 0; i < CLIENTS; i++) {
        sms_conversations(&w, i);
        ussd_sessions(&w, i);
    }
    /* Reminders and escalations run too: the window passes, then retention ends. */
    testlib_server_set_clock(&w.s, TUE_1200 + 6 * 3600);
    assert_true(testlib_wait_for(outbox_drained, &w, 20000));
    /* The paths really ran: callbacks filed (three in four clients), referrals, erasures. */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(w.s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM callback_requests), "
                                        "(SELECT count(*) FROM contact_log WHERE event = "
                                        "'referral'), (SELECT count(*) FROM contact_log WHERE "
                                        "event = 'erase' AND pseudonym IS NULL)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), CLIENTS / 4 * 3);
    assert_true(sqlite3_column_int(st, 1) >= CLIENTS);
    assert_int_equal(sqlite3_column_int(st, 2), CLIENTS / 4); /* crisis rows went with them */
    sqlite3_finalize(st);
    sqlite3_close(db);
    work_the_requests(&w);
    /* A request from a branch of the helpline keeps its topic (and nothing else) once closed. */
    assert_int_equal(sqlite3_open_v2(w.s.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM callback_requests WHERE topic = "
                                        "'eviction' AND closed_at IS NOT NULL",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), CLIENTS / 4);
    sqlite3_finalize(st);
    sqlite3_close(db);
    n = needles(list, sizeof(list) / sizeof(list[0]));
    /* While running (the WAL holds the latest pages)... */
    snprintf(path, sizeof(path), "%s-wal", w.s.db_path);
    assert_clean(path, list, n);
    assert_clean(w.s.db_path, list, n);
    assert_int_equal(testlib_server_stop(&w.s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(&w.s));
    /* ...and after shutdown, the database file and the whole log. */
    assert_clean(w.s.db_path, list, n);
    assert_clean(path, list, n);
    assert_clean(w.s.log_path, list, n);
    testlib_emu_stop(&w.emu);
    testlib_server_release(&w.s);
    testlib_emu_release(&w.emu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_number_or_typed_text_anywhere_in_the_database_or_log),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
