/*
 * test_worker.c: the outreach workers' page through the real katto: accounts
 * made with `katto worker`, sign-in by token, sessions that end when idle,
 * the rate limit, the TLS rule behind a proxy, CSRF, team boundaries, and a
 * callback request claimed, revealed, closed (its number purged) or merged.
 * Requests are put into the database the way callback.c files them, sealed
 * with the key the server derives from its secret. Time moves by the
 * server's test clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "crypto.h"
#include "secret.h"
#include "testlib.h"
#include "testlib_worker.h"

#define TUE_1200 1795514400LL /* 2026-11-24 12:00 in Helsinki */
#define NUMBER "+358401234567"
#define NUMBER_DIGITS "401234567"
#define OTHER "+358407654321"
#define OTHER_DIGITS "407654321"

#define TEAMS                                                                                      \
    "\"callbacks\": {\"teams\": ["                                                                 \
    "{\"id\": \"hel-outreach\", \"name\": \"Helsingin etsivä työ\", \"city\": \"Helsinki\", "    \
    "\"on_call\": [\"+358401111111\"], \"calls_from\": \"09 310 12345\", "                         \
    "\"hours\": \"Mo-Su 00:00-24:00\"},"                                                           \
    "{\"id\": \"tre-outreach\", \"name\": \"Tampereen etsivä työ\", \"city\": \"Tampere\", "     \
    "\"on_call\": [\"+358402222222\"], \"calls_from\": \"03 565 12345\", "                         \
    "\"hours\": \"Mo-Su 00:00-24:00\"}]}"

/* ---- Server, command line and database -------------------------------------------------- */

static void start(struct testlib_server *s, const char *extra)
{
    char *json;

    assert_true(asprintf(&json, "%s%s%s", TEAMS, extra != NULL ? ", " : "",
                         extra != NULL ? extra : "") > 0);
    assert_int_equal(testlib_server_start(s, json, NULL), 0);
    free(json);
    testlib_server_set_clock(s, TUE_1200);
}

static void stop(struct testlib_server *s)
{
    assert_int_equal(testlib_server_stop(s, 10000), 0);
    assert_false(testlib_server_log_has_sanitizer_report(s));
    testlib_server_release(s);
}

static sqlite3 *open_db(const struct testlib_server *s)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(s->db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The key the server seals numbers with, from its secret file. */
static void number_key(const struct testlib_server *s, uint8_t key[CRYPTO_KEY_LEN])
{
    uint8_t secret[SECRET_LEN];
    char *path, err[256];

    assert_true(asprintf(&path, "%s/secret", s->dir) > 0);
    assert_int_equal(secret_load("", path, secret, err), 0);
    assert_int_equal(crypto_derive_key(secret, "number-encryption", key), 0);
    free(path);
}

static void bind_sealed(sqlite3_stmt *st, int idx, const uint8_t *key, const char *plain,
                        const char *aad)
{
    uint8_t *sealed;
    size_t len;

    if (plain == NULL)
        return;
    assert_int_equal(crypto_seal(key, plain, strlen(plain), aad, &sealed, &len), 0);
    assert_int_equal(sqlite3_bind_blob(st, idx, sealed, (int)len, free), SQLITE_OK);
}

struct request {
    const char *ref, *team, *city, *number, *meet, *topic, *contact;
    long long created, due;
};

/* Files a request the way callback.c stores it; returns its row id. */
static long long insert_request(const struct testlib_server *s, const struct request *r)
{
    uint8_t key[CRYPTO_KEY_LEN];
    sqlite3 *db = open_db(s);
    sqlite3_stmt *st;
    long long id;

    number_key(s, key);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "INSERT INTO callback_requests (ref, team, city, lang, time_window, "
                           "contact_key, number_enc, meet_enc, topic_enc, notify_sender, "
                           "sender_enc, created_at, due_at, notified, purge_at) VALUES (?1, ?2, "
                           "?3, 'fi', 'now', ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, 1, ?9 + 1209600)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, r->ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->team, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->city, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->contact, -1, SQLITE_STATIC);
    bind_sealed(st, 5, key, r->number, "callback_requests.number_enc");
    bind_sealed(st, 6, key, r->meet, "callback_requests.meet_enc");
    bind_sealed(st, 7, key, r->topic, "callback_requests.topic_enc");
    bind_sealed(st, 8, key, r->number, "callback_requests.sender_enc");
    sqlite3_bind_int64(st, 9, r->created ? r->created : TUE_1200 - 600);
    sqlite3_bind_int64(st, 10, r->due ? r->due : TUE_1200 + 7200);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return id;
}

/* One integer from a query with an optional text parameter. */
static long long query_int(const struct testlib_server *s, const char *sql, const char *param)
{
    sqlite3 *db = open_db(s);
    sqlite3_stmt *st;
    long long v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (param != NULL)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static long long audits(const struct testlib_server *s, const char *action)
{
    return query_int(s, "SELECT count(*) FROM worker_audit WHERE action = ?1", action);
}

/* ---- HTTP ------------------------------------------------------------------------------- */

static bool has_header(const struct testlib_response *r, const char *line)
{
    return strstr(r->headers, line) != NULL;
}

/* True if the browser's GET /worker shows ref (a signed-in list). */
static bool list_shows(const struct testlib_server *s, const struct browser *b, const char *ref)
{
    struct testlib_response r;
    bool shown;

    get_page(s, b, &r);
    assert_int_equal(r.status, 200);
    shown = strstr(r.body, ref) != NULL;
    testlib_response_release(&r);
    return shown;
}

static bool is_sign_in_page(const struct testlib_response *r)
{
    return strstr(r->body, "action=\"/worker/login\"") != NULL &&
           strstr(r->body, "/worker/claim") == NULL;
}

static void assert_security_headers(const struct testlib_response *r)
{
    assert_true(has_header(r, "Cache-Control: no-store"));
    assert_true(has_header(r, "Content-Security-Policy: default-src 'none'; style-src "
                              "'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"));
    assert_true(has_header(r, "X-Content-Type-Options: nosniff"));
    assert_true(has_header(r, "Referrer-Policy: no-referrer"));
}

static const struct request helsinki = {
    .ref = "K-1111",
    .team = "hel-outreach",
    .city = "Helsinki",
    .number = NUMBER,
    .topic = "eviction",
    .contact = "c0ffee01",
};

/* ---- Tests ------------------------------------------------------------------------------ */

static void without_a_session_only_the_sign_in_page(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    struct browser stale = {"katto_worker=" /* a cookie the server never made */
                            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                            "0123456789abcdef0123456789abcdef"};
    struct browser none = {"", "0123456789abcdef0123456789abcdef"};
    long long id;

    (void)state;
    start(&s, NULL);
    id = insert_request(&s, &helsinki);

    get_page(&s, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(is_sign_in_page(&r));
    assert_null(strstr(r.body, "K-1111"));
    assert_null(strstr(r.body, "<script"));
    assert_non_null(strstr(r.body, "name=\"viewport\""));
    assert_security_headers(&r);
    testlib_response_release(&r);

    /* An unknown cookie is dropped and gets the same page. */
    get_page(&s, &stale, &r);
    assert_true(is_sign_in_page(&r));
    assert_true(has_header(&r, "Set-Cookie: katto_worker=; "));
    testlib_response_release(&r);

    /* Actions without a session go back to the sign-in page and change nothing. */
    post_id(&s, &stale, "/worker/claim", id, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_true(has_header(&r, "Location: /worker"));
    assert_null(strstr(r.body, "K-1111"));
    testlib_response_release(&r);
    post_id(&s, &none, "/worker/reveal", id, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_null(strstr(r.body, NUMBER_DIGITS));
    testlib_response_release(&r);
    assert_int_equal(
        query_int(&s, "SELECT count(*) FROM callback_requests WHERE claimed_by IS NOT NULL", NULL),
        0);

    /* Other methods are not routes of their own. */
    http(&s, "POST", "/worker", NULL, NULL, "x=1", &r);
    assert_int_equal(r.status, 405);
    testlib_response_release(&r);
    stop(&s);
}

static void wrong_expired_and_revoked_tokens_are_refused(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    struct browser b, old;
    char token[65], other[65], *cookie;

    (void)state;
    start(&s, "\"worker\": {\"token_days\": 1}");
    add_worker(&s, "Anna", "hel-outreach", token);
    add_worker(&s, "Ben", "hel-outreach", other);
    insert_request(&s, &helsinki);

    /* A wrong token: no session, a 401 sign-in page, an audit row without a worker. */
    assert_int_equal(
        sign_in(&s, "0000000000000000000000000000000000000000000000000000000000000000", &b), 401);
    assert_int_equal(sign_in(&s, "not even hex", &b), 401);
    assert_int_equal(audits(&s, "sign_in_failed"), 2);
    assert_int_equal(query_int(&s,
                               "SELECT count(*) FROM worker_audit WHERE action = "
                               "'sign_in_failed' AND worker_id IS NULL",
                               NULL),
                     2);
    assert_int_equal(query_int(&s, "SELECT count(*) FROM worker_sessions", NULL), 0);

    /* The right one: a cookie the page's scripts cannot read, sent only over HTTPS and only
     * by this site, for the worker pages alone; the session lasts session_idle. */
    http(&s, "POST", "/worker/login", NULL, NULL, "token=", &r);
    assert_int_equal(r.status, 401);
    testlib_response_release(&r);
    assert_true(asprintf(&cookie, "token=%s", token) > 0);
    http(&s, "POST", "/worker/login", NULL, NULL, cookie, &r);
    free(cookie);
    assert_int_equal(r.status, 303);
    assert_true(has_header(&r, "Location: /worker"));
    assert_non_null(cookie = strstr(r.headers, "Set-Cookie: katto_worker="));
    assert_non_null(strstr(cookie, "; HttpOnly; Secure; SameSite=Strict; Path=/worker; "
                                   "Max-Age=1800\r\n"));
    assert_security_headers(&r);
    testlib_response_release(&r);
    assert_int_equal(audits(&s, "sign_in"), 1);
    /* Only the hash of the cookie is stored, never the token. */
    assert_int_equal(query_int(&s, "SELECT count(*) FROM workers WHERE token_hash = ?1", token), 0);

    sign_in_ok(&s, token, &b);
    assert_true(list_shows(&s, &b, "K-1111"));
    assert_true(list_shows(&s, &b, "Anna"));

    /* Removed: the token and the open session stop working at once. */
    assert_int_equal(katto_worker(&s, "remove Anna", NULL), 0);
    assert_int_equal(sign_in(&s, token, &old), 401);
    get_page(&s, &b, &r);
    assert_true(is_sign_in_page(&r));
    assert_null(strstr(r.body, "K-1111"));
    testlib_response_release(&r);
    assert_int_equal(query_int(&s,
                               "SELECT count(*) FROM worker_audit WHERE action = "
                               "'sign_in_failed' AND detail = 'revoked'",
                               NULL),
                     1);

    /* Expired: token_days is 1. */
    testlib_server_set_clock(&s, TUE_1200 + 86400 + 1);
    assert_int_equal(sign_in(&s, other, &b), 401);
    assert_int_equal(query_int(&s,
                               "SELECT count(*) FROM worker_audit WHERE action = "
                               "'sign_in_failed' AND detail = 'expired'",
                               NULL),
                     1);
    /* A renewed token works again, and the old one does not. */
    assert_int_equal(katto_worker(&s, "renew Ben", &cookie), 0);
    assert_non_null(strstr(cookie, "token: "));
    assert_int_equal(sscanf(strstr(cookie, "token: "), "token: %64s", token), 1);
    free(cookie);
    sign_in_ok(&s, token, &b);
    assert_int_equal(sign_in(&s, other, &old), 401);
    stop(&s);
}

static void a_team_never_sees_or_touches_another_teams_request(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    struct browser tre;
    char token[65];
    const char *paths[] = {"/worker/claim", "/worker/reveal", "/worker/close", "/worker/merge"};
    long long id;

    (void)state;
    start(&s, NULL);
    add_worker(&s, "Tuula", "tre-outreach", token);
    id = insert_request(&s, &helsinki);
    sign_in_ok(&s, token, &tre);
    assert_false(list_shows(&s, &tre, "K-1111"));
    assert_true(list_shows(&s, &tre, "Tampereen etsivä työ"));
    /* Answered as if there were no such request: 404, not 403. */
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        post_id(&s, &tre, paths[i], id, "outcome=reached&into=1", &r);
        assert_int_equal(r.status, 404);
        assert_null(strstr(r.body, "K-1111"));
        assert_null(strstr(r.body, NUMBER_DIGITS));
        testlib_response_release(&r);
    }
    assert_int_equal(
        query_int(&s, "SELECT count(*) FROM callback_requests WHERE claimed_by IS NULL", NULL), 1);
    stop(&s);
}

static void forms_without_the_sessions_csrf_token_are_forbidden(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    struct browser b, forged;
    char token[65], body[64];
    long long id;

    (void)state;
    start(&s, NULL);
    add_worker(&s, "Anna", "hel-outreach", token);
    id = insert_request(&s, &helsinki);
    sign_in_ok(&s, token, &b);
    forged = b;

    /* No token at all. */
    snprintf(body, sizeof(body), "id=%lld", id);
    http(&s, "POST", "/worker/claim", &b, NULL, body, &r);
    assert_int_equal(r.status, 403);
    assert_security_headers(&r);
    testlib_response_release(&r);
    /* A wrong one, of the right length. */
    memcpy(forged.csrf, "0123456789abcdef0123456789abcdef", 33);
    post_id(&s, &forged, "/worker/claim", id, NULL, &r);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    /* Not a form. */
    http(&s, "POST", "/worker/logout", &b, "Content-Type: text/plain", NULL, &r);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    assert_int_equal(
        query_int(&s, "SELECT count(*) FROM callback_requests WHERE claimed_by IS NULL", NULL), 1);
    assert_int_equal(audits(&s, "claim"), 0);

    /* The real token works, and signing out ends the session. */
    post_id(&s, &b, "/worker/claim", id, NULL, &r);
    assert_int_equal(r.status, 303);
    testlib_response_release(&r);
    post(&s, &b, "/worker/logout", NULL, &r);
    assert_int_equal(r.status, 303);
    assert_true(has_header(&r, "Set-Cookie: katto_worker=; "));
    testlib_response_release(&r);
    get_page(&s, &b, &r);
    assert_true(is_sign_in_page(&r));
    testlib_response_release(&r);
    assert_int_equal(audits(&s, "sign_out"), 1);
    stop(&s);
}

/* Every text column of the audit trail, for a search. */
static long long audit_rows_with(const struct testlib_server *s, const char *digits)
{
    return query_int(s,
                     "SELECT count(*) FROM worker_audit WHERE instr(coalesce(action, '') || '|' "
                     "|| coalesce(detail, '') || '|' || coalesce(worker_id, '') || '|' || "
                     "coalesce(request_id, ''), ?1) > 0",
                     digits);
}

static void claim_reveal_and_close_purge_the_number(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    struct browser anna, ben;
    char token_a[65], token_b[65], *log;
    long long id, anna_id;

    (void)state;
    start(&s, NULL);
    add_worker(&s, "Anna", "hel-outreach", token_a);
    add_worker(&s, "Ben", "hel-outreach", token_b);
    anna_id = query_int(&s, "SELECT id FROM workers WHERE name = ?1", "Anna");
    id = insert_request(&s, &helsinki);
    sign_in_ok(&s, token_a, &anna);
    sign_in_ok(&s, token_b, &ben);

    /* The list shows the topic but never the number. */
    get_page(&s, &anna, &r);
    assert_non_null(strstr(r.body, "K-1111"));
    assert_non_null(strstr(r.body, "eviction"));
    assert_null(strstr(r.body, NUMBER_DIGITS));
    testlib_response_release(&r);

    post_id(&s, &anna, "/worker/claim", id, NULL, &r);
    assert_int_equal(r.status, 303);
    testlib_response_release(&r);
    assert_int_equal(query_int(&s, "SELECT claimed_by FROM callback_requests", NULL), anna_id);
    assert_true(list_shows(&s, &ben, "Anna"));

    /* Ben cannot take it over, see the number, or close it. */
    post_id(&s, &ben, "/worker/claim", id, NULL, &r);
    assert_int_equal(r.status, 409);
    testlib_response_release(&r);
    post_id(&s, &ben, "/worker/reveal", id, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_null(strstr(r.body, NUMBER_DIGITS));
    testlib_response_release(&r);
    post_id(&s, &ben, "/worker/close", id, "outcome=reached", &r);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);

    /* Anna sees it, as a link that calls it. */
    post_id(&s, &anna, "/worker/reveal", id, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "href=\"tel:" NUMBER "\""));
    assert_non_null(strstr(r.body, "eviction"));
    assert_security_headers(&r);
    testlib_response_release(&r);

    post_id(&s, &anna, "/worker/close", id, "outcome=made_up", &r);
    assert_int_equal(r.status, 400);
    testlib_response_release(&r);
    post_id(&s, &anna, "/worker/close", id, "outcome=reached", &r);
    assert_int_equal(r.status, 303);
    testlib_response_release(&r);
    assert_false(list_shows(&s, &anna, "K-1111"));

    /* Closed: only the anonymous part is left, the topic in clear. */
    assert_int_equal(query_int(&s,
                               "SELECT count(*) FROM callback_requests WHERE number_enc IS NULL "
                               "AND meet_enc IS NULL AND sender_enc IS NULL AND contact_key IS "
                               "NULL AND topic_enc IS NULL AND next_remind_at IS NULL AND "
                               "topic = 'eviction' AND outcome = 'reached' AND closed_at = ?1",
                               "1795514400"),
                     1);
    post_id(&s, &anna, "/worker/reveal", id, NULL, &r);
    assert_int_equal(r.status, 404);
    testlib_response_release(&r);

    /* Who did what is on record, without the number anywhere. */
    assert_int_equal(audits(&s, "claim"), 1);
    assert_int_equal(audits(&s, "reveal"), 1);
    assert_int_equal(query_int(&s,
                               "SELECT count(*) FROM worker_audit WHERE action = 'close' AND "
                               "detail = 'reached' AND request_id IS NOT NULL",
                               NULL),
                     1);
    assert_true(audits(&s, "view") >= 3);
    assert_int_equal(audit_rows_with(&s, NUMBER_DIGITS), 0);
    assert_int_equal(audit_rows_with(&s, "eviction"), 0);
    log = testlib_read_file(s.log_path, NULL);
    assert_non_null(log);
    assert_null(strstr(log, NUMBER_DIGITS));
    free(log);
    stop(&s);
}

static void requests_with_the_same_number_can_be_merged(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    struct browser anna;
    char token[65];
    struct request a = helsinki, b = helsinki, c = helsinki;
    long long ida, idb, idc;

    (void)state;
    start(&s, NULL);
    add_worker(&s, "Anna", "hel-outreach", token);
    /* b: the same number to call, though sent from another phone; c: someone else. */
    a.created = TUE_1200 - 3600;
    b.ref = "K-2222";
    b.contact = "c0ffee02";
    b.topic = "debt";
    c.ref = "K-3333";
    c.contact = "c0ffee03";
    c.number = OTHER;
    assert_int_equal(ida = insert_request(&s, &a), 1); /* merged_into = 1 below */
    idb = insert_request(&s, &b);
    idc = insert_request(&s, &c);
    sign_in_ok(&s, token, &anna);
    get_page(&s, &anna, &r);
    assert_non_null(strstr(r.body, "Same number as</span></span>K-1111"));
    assert_non_null(strstr(r.body, "Same number as</span></span>K-2222"));
    /* Newest first. */
    assert_true(strstr(r.body, "K-2222") < strstr(r.body, "K-1111"));
    testlib_response_release(&r);

    /* Only the worker who claimed b may merge it, and only into a request with its number. */
    post_id(&s, &anna, "/worker/merge", idb, "into=1", &r);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    post_id(&s, &anna, "/worker/claim", idb, NULL, &r);
    assert_int_equal(r.status, 303);
    testlib_response_release(&r);
    {
        char more[32];

        snprintf(more, sizeof(more), "into=%lld", idc);
        post_id(&s, &anna, "/worker/merge", idb, more, &r);
        assert_int_equal(r.status, 400);
        testlib_response_release(&r);
        snprintf(more, sizeof(more), "into=%lld", ida);
        post_id(&s, &anna, "/worker/merge", idb, more, &r);
        assert_int_equal(r.status, 303);
        testlib_response_release(&r);
    }
    assert_false(list_shows(&s, &anna, "K-2222"));
    assert_true(list_shows(&s, &anna, "K-1111"));
    assert_int_equal(query_int(&s,
                               "SELECT count(*) FROM callback_requests WHERE ref = 'K-2222' AND "
                               "outcome = 'merged' AND merged_into = 1 AND closed_at IS NOT NULL "
                               "AND number_enc IS NULL AND sender_enc IS NULL AND contact_key IS "
                               "NULL AND topic_enc IS NULL AND topic = 'debt'",
                               NULL),
                     1);
    assert_int_equal(query_int(&s,
                               "SELECT count(*) FROM worker_audit WHERE action = 'merge' AND "
                               "detail = 'K-1111'",
                               NULL),
                     1);
    assert_int_equal(audit_rows_with(&s, NUMBER_DIGITS), 0);
    assert_int_equal(audit_rows_with(&s, OTHER_DIGITS), 0);
    stop(&s);
}

static void a_session_ends_when_idle_and_after_twelve_hours(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    struct browser b;
    char token[65];

    (void)state;
    start(&s, "\"worker\": {\"session_idle\": 600}");
    add_worker(&s, "Anna", "hel-outreach", token);
    insert_request(&s, &helsinki);
    sign_in_ok(&s, token, &b);
    /* Each request moves the idle deadline on. */
    testlib_server_set_clock(&s, TUE_1200 + 500);
    assert_true(list_shows(&s, &b, "K-1111"));
    testlib_server_set_clock(&s, TUE_1200 + 1000);
    assert_true(list_shows(&s, &b, "K-1111"));
    get_page(&s, &b, &r);
    assert_true(has_header(&r, "Max-Age=600\r\n"));
    testlib_response_release(&r);
    testlib_server_set_clock(&s, TUE_1200 + 1601);
    get_page(&s, &b, &r);
    assert_true(is_sign_in_page(&r));
    assert_null(strstr(r.body, "K-1111"));
    testlib_response_release(&r);
    stop(&s);

    /* However busy, a session ends 12 hours after sign-in. */
    start(&s, "\"worker\": {\"session_idle\": 86400}");
    add_worker(&s, "Anna", "hel-outreach", token);
    insert_request(&s, &helsinki);
    sign_in_ok(&s, token, &b);
    testlib_server_set_clock(&s, TUE_1200 + 6 * 3600);
    get_page(&s, &b, &r);
    assert_non_null(strstr(r.body, "K-1111"));
    assert_true(has_header(&r, "Max-Age=21600\r\n"));
    testlib_response_release(&r);
    testlib_server_set_clock(&s, TUE_1200 + 12 * 3600 - 1);
    assert_true(list_shows(&s, &b, "K-1111"));
    testlib_server_set_clock(&s, TUE_1200 + 12 * 3600);
    get_page(&s, &b, &r);
    assert_true(is_sign_in_page(&r));
    testlib_response_release(&r);
    stop(&s);
}

static void repeated_wrong_tokens_are_rate_limited(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    char token[65];
    const char *wrong = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    (void)state;
    start(&s, "\"worker\": {\"trusted_proxy\": 1}");
    add_worker(&s, "Anna", "hel-outreach", token);
    /* Behind the proxy the client is the address it appended to X-Forwarded-For. */
    for (int i = 0; i < 5; i++) {
        const char *h[] = {"X-Forwarded-Proto: https", "X-Forwarded-For: 198.51.100.7",
                           "Content-Type: application/x-www-form-urlencoded", NULL};
        char *u, body[80];

        snprintf(body, sizeof(body), "token=%s", wrong);
        assert_true(asprintf(&u, "%s/worker/login", s.base_url) > 0);
        assert_int_equal(testlib_http("POST", u, h, body, strlen(body), &r), 0);
        assert_int_equal(r.status, 401);
        testlib_response_release(&r);
        free(u);
    }
    {
        const char *h[] = {"X-Forwarded-Proto: https", "X-Forwarded-For: 10.0.0.1, 198.51.100.7",
                           "Content-Type: application/x-www-form-urlencoded", NULL};
        char *u, *body;

        assert_true(asprintf(&body, "token=%s", token) > 0);
        assert_true(asprintf(&u, "%s/worker/login", s.base_url) > 0);
        /* Blocked, even with the right token; the page says how long to wait. */
        assert_int_equal(testlib_http("POST", u, h, body, strlen(body), &r), 0);
        assert_int_equal(r.status, 429);
        assert_true(has_header(&r, "Retry-After: 900\r\n"));
        assert_security_headers(&r);
        testlib_response_release(&r);
        /* Another client is not. */
        h[1] = "X-Forwarded-For: 198.51.100.8";
        assert_int_equal(testlib_http("POST", u, h, body, strlen(body), &r), 0);
        assert_int_equal(r.status, 303);
        testlib_response_release(&r);
        /* After the window, the first may try again. */
        h[1] = "X-Forwarded-For: 198.51.100.7";
        testlib_server_set_clock(&s, TUE_1200 + 901);
        assert_int_equal(testlib_http("POST", u, h, body, strlen(body), &r), 0);
        assert_int_equal(r.status, 303);
        testlib_response_release(&r);
        free(body);
        free(u);
    }
    assert_int_equal(audits(&s, "sign_in_failed"), 5);

    /* Many addresses at once (a botnet guessing): the global cap blocks everyone a while. */
    for (int i = 1; i <= 101; i++) {
        char xff[64], *u, body[80];
        const char *h[] = {"X-Forwarded-Proto: https", xff,
                           "Content-Type: application/x-www-form-urlencoded", NULL};

        snprintf(xff, sizeof(xff), "X-Forwarded-For: 203.0.113.%d", i);
        snprintf(body, sizeof(body), "token=%s", wrong);
        assert_true(asprintf(&u, "%s/worker/login", s.base_url) > 0);
        assert_int_equal(testlib_http("POST", u, h, body, strlen(body), &r), 0);
        assert_int_equal(r.status, i <= 100 ? 401 : 429);
        testlib_response_release(&r);
        free(u);
    }
    stop(&s);
}

static void plain_http_is_refused_behind_a_trusted_proxy(void **state)
{
    struct testlib_server s;
    struct testlib_response r;
    char token[65], *body;

    (void)state;
    start(&s, "\"worker\": {\"trusted_proxy\": 1}");
    add_worker(&s, "Anna", "hel-outreach", token);
    insert_request(&s, &helsinki);
    assert_true(asprintf(&body, "token=%s", token) > 0);

    /* The proxy says the worker came over plain HTTP, or says nothing. */
    http(&s, "GET", "/worker", NULL, "X-Forwarded-Proto: http", NULL, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "HTTPS"));
    assert_null(strstr(r.body, "/worker/login"));
    assert_security_headers(&r);
    testlib_response_release(&r);
    http(&s, "GET", "/worker", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    testlib_response_release(&r);
    http(&s, "POST", "/worker/login", NULL, "X-Forwarded-Proto: http", body, &r);
    assert_int_equal(r.status, 403);
    assert_null(strstr(r.headers, "Set-Cookie"));
    testlib_response_release(&r);
    assert_int_equal(query_int(&s, "SELECT count(*) FROM worker_sessions", NULL), 0);

    /* Over HTTPS, the page and the sign-in work. */
    http(&s, "GET", "/worker", NULL, "X-Forwarded-Proto: https", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(is_sign_in_page(&r));
    testlib_response_release(&r);
    http(&s, "POST", "/worker/login", NULL, "X-Forwarded-Proto: https", body, &r);
    assert_int_equal(r.status, 303);
    testlib_response_release(&r);
    free(body);
    stop(&s);
}

static void the_command_line_manages_accounts_without_showing_tokens(void **state)
{
    struct testlib_server s;
    char token[65], *out;

    (void)state;
    start(&s, NULL);
    add_worker(&s, "Anna", "hel-outreach", token);
    assert_int_equal(katto_worker(&s, "add Anna --team tre-outreach", NULL), 1);
    assert_int_equal(katto_worker(&s, "add Ben --team no-such-team", NULL), 64);
    assert_int_equal(katto_worker(&s, "add 'Call +358401234567' --team hel-outreach", NULL), 64);
    assert_int_equal(katto_worker(&s, "add Ben", NULL), 64);
    assert_int_equal(katto_worker(&s, "frobnicate", NULL), 64);
    assert_int_equal(katto_worker(&s, "remove Nobody", NULL), 1);

    assert_int_equal(katto_worker(&s, "list", &out), 0);
    assert_non_null(strstr(out, "Anna"));
    assert_non_null(strstr(out, "hel-outreach"));
    assert_non_null(strstr(out, "2026-11-24"));
    assert_non_null(strstr(out, "2027-02-22")); /* 90 days */
    assert_non_null(strstr(out, "active"));
    assert_null(strstr(out, token));
    free(out);
    assert_int_equal(katto_worker(&s, "remove Anna", NULL), 0);
    assert_int_equal(katto_worker(&s, "remove Anna", NULL), 0);
    assert_int_equal(katto_worker(&s, "list", &out), 0);
    assert_non_null(strstr(out, "removed"));
    free(out);
    assert_int_equal(audits(&s, "worker_added"), 1);
    assert_int_equal(audits(&s, "worker_removed"), 1);
    assert_int_equal(
        query_int(&s, "SELECT count(*) FROM workers WHERE revoked_at = ?1", "1795514400"), 1);
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_a_session_only_the_sign_in_page),
        cmocka_unit_test(wrong_expired_and_revoked_tokens_are_refused),
        cmocka_unit_test(a_team_never_sees_or_touches_another_teams_request),
        cmocka_unit_test(forms_without_the_sessions_csrf_token_are_forbidden),
        cmocka_unit_test(claim_reveal_and_close_purge_the_number),
        cmocka_unit_test(requests_with_the_same_number_can_be_merged),
        cmocka_unit_test(a_session_ends_when_idle_and_after_twelve_hours),
        cmocka_unit_test(repeated_wrong_tokens_are_rate_limited),
        cmocka_unit_test(plain_http_is_refused_behind_a_trusted_proxy),
        cmocka_unit_test(the_command_line_manages_accounts_without_showing_tokens),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
