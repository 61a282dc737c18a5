/* test_session.c: conversation state survives a round trip through SQLite, and expires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "session.h"
#include "testlib.h"

struct fixture {
    char *dir;
    sqlite3 *db;
    struct session_store *store;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[4096], err[256];

    f->dir = testlib_tmpdir();
    snprintf(path, sizeof(path), "%s/katto.db", f->dir);
    f->db = db_open(path, err);
    assert_non_null(f->db);
    assert_int_equal(db_migrate(f->db, db_migrations, db_migrations_count, err), 0);
    f->store = session_store_new(f->db, err);
    assert_non_null(f->store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    session_store_free(f->store);
    assert_int_equal(sqlite3_close(f->db), SQLITE_OK); /* no statement left open */
    testlib_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void sample(struct flow_session *s)
{
    flow_session_init(s);
    snprintf(s->at.flow, sizeof(s->at.flow), "tonight");
    snprintf(s->at.node, sizeof(s->at.node), "ask_place");
    snprintf(s->lang, sizeof(s->lang), "sv");
    s->failures = 2;
    s->page = 1;
    s->screen_prefix = FLOW_TEXT_INTRO;
    snprintf(s->screen_from.flow, sizeof(s->screen_from.flow), "helpline");
    snprintf(s->screen_from.node, sizeof(s->screen_from.node), "welcome");
    s->last_active = 1795000000;
    s->history[0] = s->screen_from;
    s->nhistory = 1;
    flow_session_set_var(s, "city", "Helsinki");
    flow_session_set_var(s, "postal_code", "00530");
}

static void session_round_trips_through_json(void **state)
{
    struct flow_session a, b;
    char *json;

    (void)state;
    sample(&a);
    json = session_to_json(&a);
    assert_non_null(json);
    assert_int_equal(session_from_json(json, &b), 0);
    assert_memory_equal(&a.at, &b.at, sizeof(a.at));
    assert_string_equal(b.lang, "sv");
    assert_int_equal(b.failures, 2);
    assert_int_equal(b.page, 1);
    assert_int_equal(b.screen_prefix, FLOW_TEXT_INTRO);
    assert_int_equal(b.nhistory, 1);
    assert_string_equal(b.history[0].node, "welcome");
    assert_true(b.last_active == a.last_active);
    assert_string_equal(flow_session_var(&b, "city"), "Helsinki");
    assert_string_equal(flow_session_var(&b, "postal_code"), "00530");
    free(json);
}

static void damaged_json_gives_an_idle_session(void **state)
{
    static const char *const bad[] = {"", "[]", "{\"failures\": 1e300, \"page\": -5}", "nul"};
    struct flow_session s;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        session_from_json(bad[i], &s);
        assert_string_equal(s.at.flow, "");
        assert_true(s.failures >= 0 && s.failures <= FLOW_MAX_FAILURES);
        assert_true(s.page >= 0);
    }
}

static void saved_session_loads_until_it_expires_and_keeps_its_language(void **state)
{
    struct fixture *f = *state;
    struct flow_session a, b;
    char err[256];

    sample(&a);
    assert_int_equal(session_save(f->store, "k1", &a, 100, 200, err), 0);
    assert_int_equal(session_load(f->store, "k1", 150, &b, err), 0);
    assert_string_equal(b.at.node, "ask_place");
    /* Saving again replaces the row. */
    a.failures = 0;
    assert_int_equal(session_save(f->store, "k1", &a, 160, 300, err), 0);
    assert_int_equal(session_load(f->store, "k1", 250, &b, err), 0);
    assert_int_equal(b.failures, 0);
    /* Expired: idle, but the person keeps their language. */
    assert_int_equal(session_load(f->store, "k1", 300, &b, err), 0);
    assert_string_equal(b.at.flow, "");
    assert_string_equal(b.lang, "sv");
    assert_null(flow_session_var(&b, "city"));
    /* Unknown key: idle. */
    assert_int_equal(session_load(f->store, "nobody", 0, &b, err), 0);
    assert_string_equal(b.lang, "");
}

static void delete_and_purge_remove_rows(void **state)
{
    struct fixture *f = *state;
    struct flow_session a, b;
    char err[256];

    sample(&a);
    for (int i = 0; i < 5; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(session_save(f->store, key, &a, 0, 10 * (i + 1), err), 0);
    }
    assert_int_equal(session_delete(f->store, "k4", err), 0);
    assert_int_equal(session_load(f->store, "k4", 0, &b, err), 0);
    assert_string_equal(b.lang, ""); /* gone entirely, not just expired */
    assert_int_equal(session_purge_expired(f->store, 30, 2, err), 2); /* bounded per call */
    assert_int_equal(session_purge_expired(f->store, 30, 100, err), 1);
    assert_int_equal(session_purge_expired(f->store, 30, 100, err), 0);
    assert_int_equal(session_load(f->store, "k3", 0, &b, err), 0);
    assert_string_equal(b.at.flow, "tonight");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(session_round_trips_through_json),
        cmocka_unit_test(damaged_json_gives_an_idle_session),
        cmocka_unit_test_setup_teardown(saved_session_loads_until_it_expires_and_keeps_its_language,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(delete_and_purge_remove_rows, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
