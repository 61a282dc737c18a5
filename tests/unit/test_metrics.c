/*
 * test_metrics.c: unit tests for metrics.c. The exposition is compared byte
 * for byte with the Prometheus text format (HELP, TYPE, series sorted by
 * labels, families in declaration order), gauges are read at scrape time,
 * and counters of undeclared families are dropped rather than invented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

static int setup(void **state)
{
    struct metrics *m = metrics_new();

    *state = m;
    return m != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    metrics_free(*state);
    return 0;
}

/* Renders m and checks the result against want, byte for byte. */
static void expect_render(const struct metrics *m, const char *want)
{
    size_t len = 12345;
    char *text = metrics_render(m, &len);

    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    if (strcmp(text, want) != 0)
        fail_msg("rendered:\n%s\nexpected:\n%s", text, want);
    free(text);
}

static void counter_renders_help_type_and_sorted_series(void **state)
{
    struct metrics *m = *state;

    assert_int_equal(
        metrics_declare(m, "katto_http_requests_total", "counter", "HTTP requests, by route."), 0);
    metrics_add(m, "katto_http_requests_total", "route=\"webhook\",status=\"200\"", 2);
    metrics_add(m, "katto_http_requests_total", "route=\"healthz\",status=\"200\"", 5);
    metrics_add(m, "katto_http_requests_total", "route=\"webhook\",status=\"403\"", 1);
    metrics_add(m, "katto_http_requests_total", "route=\"healthz\",status=\"200\"", 1);
    expect_render(m, "# HELP katto_http_requests_total HTTP requests, by route.\n"
                     "# TYPE katto_http_requests_total counter\n"
                     "katto_http_requests_total{route=\"healthz\",status=\"200\"} 6\n"
                     "katto_http_requests_total{route=\"webhook\",status=\"200\"} 2\n"
                     "katto_http_requests_total{route=\"webhook\",status=\"403\"} 1\n");
}

static void series_without_labels_has_no_braces(void **state)
{
    struct metrics *m = *state;

    metrics_declare(m, "katto_restarts_total", "counter", "Restarts.");
    metrics_add(m, "katto_restarts_total", "", 3);
    expect_render(m, "# HELP katto_restarts_total Restarts.\n"
                     "# TYPE katto_restarts_total counter\n"
                     "katto_restarts_total 3\n");
}

static void families_render_in_declaration_order(void **state)
{
    struct metrics *m = *state;

    metrics_declare(m, "z_total", "counter", "Last letter, declared first.");
    metrics_declare(m, "a_total", "counter", "First letter, declared second.");
    metrics_add(m, "a_total", "", 1);
    metrics_add(m, "z_total", "", 2);
    expect_render(m, "# HELP z_total Last letter, declared first.\n"
                     "# TYPE z_total counter\n"
                     "z_total 2\n"
                     "# HELP a_total First letter, declared second.\n"
                     "# TYPE a_total counter\n"
                     "a_total 1\n");
}

static void declared_family_without_series_renders_header_only(void **state)
{
    struct metrics *m = *state;

    metrics_declare(m, "katto_db_commits_total", "counter", "Commits.");
    expect_render(m, "# HELP katto_db_commits_total Commits.\n"
                     "# TYPE katto_db_commits_total counter\n");
}

static void empty_registry_renders_empty_text(void **state)
{
    expect_render(*state, "");
}

static void declaring_twice_keeps_one_family_and_its_counts(void **state)
{
    struct metrics *m = *state;

    assert_int_equal(metrics_declare(m, "x_total", "counter", "First help."), 0);
    metrics_add(m, "x_total", "", 4);
    assert_int_equal(metrics_declare(m, "x_total", "counter", "Second help."), 0);
    assert_int_equal(metrics_get(m, "x_total", ""), 4);
    expect_render(m, "# HELP x_total First help.\n# TYPE x_total counter\nx_total 4\n");
}

static void adding_to_an_undeclared_family_is_ignored(void **state)
{
    struct metrics *m = *state;

    metrics_declare(m, "known_total", "counter", "Known.");
    metrics_add(m, "unknown_total", "", 1);
    metrics_add(m, "unknown_total", "a=\"b\"", 7);
    assert_int_equal(metrics_get(m, "unknown_total", ""), 0);
    assert_int_equal(metrics_get(m, "unknown_total", "a=\"b\""), 0);
    expect_render(m, "# HELP known_total Known.\n# TYPE known_total counter\n");
}

static void get_returns_the_sum_of_adds_per_series(void **state)
{
    struct metrics *m = *state;
    static const struct {
        const char *labels;
        uint64_t n;
    } adds[] = {
        {"result=\"ok\"", 1},
        {"result=\"failed\"", 1},
        {"result=\"ok\"", 1},
        {"result=\"ok\"", 0},
        {"result=\"ok\"", 1000000000000ULL},
    };

    metrics_declare(m, "jobs_total", "counter", "Jobs.");
    for (size_t i = 0; i < N_ROWS(adds); i++)
        metrics_add(m, "jobs_total", adds[i].labels, adds[i].n);
    assert_int_equal(metrics_get(m, "jobs_total", "result=\"ok\""), 1000000000002ULL);
    assert_int_equal(metrics_get(m, "jobs_total", "result=\"failed\""), 1);
    assert_int_equal(metrics_get(m, "jobs_total", "result=\"other\""), 0);
    assert_int_equal(metrics_get(m, "jobs_total", ""), 0);
    assert_int_equal(metrics_get(m, "nothing_total", "result=\"ok\""), 0);
    expect_render(m, "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\n"
                     "jobs_total{result=\"failed\"} 1\n"
                     "jobs_total{result=\"ok\"} 1000000000002\n");
}

static void labels_are_copied_not_borrowed(void **state)
{
    struct metrics *m = *state;
    char labels[32];

    metrics_declare(m, "c_total", "counter", "C.");
    snprintf(labels, sizeof(labels), "k=\"%s\"", "one");
    metrics_add(m, "c_total", labels, 1);
    snprintf(labels, sizeof(labels), "k=\"%s\"", "two");
    metrics_add(m, "c_total", labels, 2);
    memset(labels, 'x', sizeof(labels) - 1);
    expect_render(m, "# HELP c_total C.\n# TYPE c_total counter\n"
                     "c_total{k=\"one\"} 1\nc_total{k=\"two\"} 2\n");
}

struct gauge_arg {
    double value;
    int calls;
};

static double read_gauge(void *arg)
{
    struct gauge_arg *g = arg;

    g->calls++;
    return g->value;
}

static void gauge_is_read_from_its_callback_at_each_render(void **state)
{
    struct metrics *m = *state;
    struct gauge_arg queue = {42, 0}, ratio = {2.5, 0};

    metrics_declare(m, "katto_outbox_pending", "gauge", "Messages waiting to be sent.");
    assert_int_equal(
        metrics_gauge(m, "katto_outbox_pending", "gateway=\"twilio\"", read_gauge, &queue), 0);
    assert_int_equal(
        metrics_gauge(m, "katto_outbox_pending", "gateway=\"46elks\"", read_gauge, &ratio), 0);
    assert_int_equal(queue.calls, 0); /* not read until scraped */
    expect_render(m, "# HELP katto_outbox_pending Messages waiting to be sent.\n"
                     "# TYPE katto_outbox_pending gauge\n"
                     "katto_outbox_pending{gateway=\"46elks\"} 2.5\n"
                     "katto_outbox_pending{gateway=\"twilio\"} 42\n");
    queue.value = 0;
    expect_render(m, "# HELP katto_outbox_pending Messages waiting to be sent.\n"
                     "# TYPE katto_outbox_pending gauge\n"
                     "katto_outbox_pending{gateway=\"46elks\"} 2.5\n"
                     "katto_outbox_pending{gateway=\"twilio\"} 0\n");
    assert_int_equal(queue.calls, 2);
    assert_int_equal(ratio.calls, 2);
}

static void gauge_for_an_undeclared_family_is_refused(void **state)
{
    struct gauge_arg g = {1, 0};

    metrics_declare(*state, "other", "gauge", "Other.");
    assert_int_equal(metrics_gauge(*state, "nope", "", read_gauge, &g), -1);
    expect_render(*state, "# HELP other Other.\n# TYPE other gauge\n");
    assert_int_equal(g.calls, 0);
}

/* Every line is a comment or `name{labels} value`, the 0.0.4 grammar Prometheus reads. */
static void every_rendered_line_follows_the_text_format(void **state)
{
    struct metrics *m = *state;
    struct gauge_arg g = {0.125, 0};
    regex_t sample, comment;
    size_t len;
    char *text, *line, *end;

    metrics_declare(m, "a_total", "counter", "A.");
    metrics_declare(m, "b_now", "gauge", "B.");
    metrics_add(m, "a_total", "x=\"1\"", 1);
    metrics_add(m, "a_total", "", 1);
    metrics_gauge(m, "b_now", "y=\"2\",z=\"3\"", read_gauge, &g);
    assert_int_equal(
        regcomp(&sample,
                "^[a-zA-Z_:][a-zA-Z0-9_:]*"
                "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\\})?"
                " [-+0-9.eE]+$",
                REG_EXTENDED | REG_NOSUB),
        0);
    assert_int_equal(
        regcomp(
            &comment,
            "^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge))$",
            REG_EXTENDED | REG_NOSUB),
        0);
    text = metrics_render(m, &len);
    assert_non_null(text);
    assert_int_equal(text[len - 1], '\n');
    for (line = text; *line != '\0'; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        *end = '\0';
        if (regexec(&sample, line, 0, NULL, 0) != 0 && regexec(&comment, line, 0, NULL, 0) != 0)
            fail_msg("not Prometheus text: '%s'", line);
    }
    regfree(&sample);
    regfree(&comment);
    free(text);
}

static void free_accepts_null(void **state)
{
    (void)state;
    metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(counter_renders_help_type_and_sorted_series),
        T(series_without_labels_has_no_braces),
        T(families_render_in_declaration_order),
        T(declared_family_without_series_renders_header_only),
        T(empty_registry_renders_empty_text),
        T(declaring_twice_keeps_one_family_and_its_counts),
        T(adding_to_an_undeclared_family_is_ignored),
        T(get_returns_the_sum_of_adds_per_series),
        T(labels_are_copied_not_borrowed),
        T(gauge_is_read_from_its_callback_at_each_render),
        T(gauge_for_an_undeclared_family_is_refused),
        T(every_rendered_line_follows_the_text_format),
        cmocka_unit_test(free_accepts_null),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
