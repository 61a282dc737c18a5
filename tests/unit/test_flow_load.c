/*
 * test_flow_load.c: unit tests for flow_load.c and flow_check.c. The good
 * fixture set (tests/fixtures/flows/good) must load without a single
 * problem and give the right model; each file in tests/fixtures/flows/bad
 * triggers one check and nothing else (katto check's tests use them too);
 * and a table of small flows written inline pins every other message at its
 * JSON path. Administrators fix flows from these messages alone, so the
 * path and the wording are part of the contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow.h"
#include "testlib.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

/* Inline JSON is written with ' for " so that the tables read without escapes. */
#define FLOW_EN(extra, nodes)                                                                      \
    "{'flow': 'f', 'main': true, 'languages': ['en'], 'start': 'a'" extra ", 'nodes': {" nodes "}" \
    "}"
#define MAIN(nodes) FLOW_EN("", nodes)
#define BYE "'bye': {'type': 'end', 'text': {'en': 'Bye.'}}"
#define SAY_BYE(text) "'a': {'type': 'message', 'text': {'en': '" text "'}, 'next': 'bye'}, " BYE
#define ASK_PLACE                                                                                  \
    "'a': {'type': 'input', 'text': {'en': 'Where?'}, 'expect': 'place', 'next': 'n'}, "
#define O_TILDE "\xc3\xb5"   /* õ U+00F5, not GSM-7 */
#define RSQUO "\xe2\x80\x99" /* ’ U+2019, normalised to ' before sending */
#define TEXT_173                                                                                   \
    "The night shelter opens at six in the evening and closes at eight in the morning. Bring "     \
    "an ID if you have one. Pets are welcome in the yard. Lockers are free for guests too."

/* Changes to the otherwise complete global.json that inline cases get. */
struct global_spec {
    const char *flag;  /* value of "global"; NULL: true */
    const char *skip;  /* a text name to leave out */
    const char *texts; /* spliced into "texts", after the generated ones */
    const char *top;   /* spliced into the top-level object */
    const char *lang;  /* one more language, in the list and in every text */
};

struct problem_case {
    const char *why;
    const char *flows[3]; /* written as flow0.json, flow1.json, ... */
    struct global_spec global;
    enum diag_severity severity;
    const char *file; /* the file name the problem is reported in; NULL: a flow file */
    const char *path;
    const char *needle;
    size_t others; /* how many other problems are reported: a cascade is a bug too */
};

static char *fixture(const char *rel)
{
    char *path;

    assert_true(asprintf(&path, "%s/tests/fixtures/flows/%s", testlib_src_dir(), rel) > 0);
    return path;
}

/* Writes text to dir/name with every ' turned into ". */
static void write_json(const char *dir, const char *name, const char *text)
{
    char *path, *json = strdup(text);

    assert_non_null(json);
    for (char *p = json; *p != '\0'; p++) {
        if (*p == '\'')
            *p = '"';
    }
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    testlib_write_file(path, json);
    free(path);
    free(json);
}

/* A complete global.json in fi, sv and en (and spec->lang), changed as spec says; returned owned.
 */
static char *global_json(const struct global_spec *spec)
{
    char *out, *texts = strdup(""), *more, *langs, *extra;

    if (spec->lang != NULL) {
        assert_true(asprintf(&langs, "'fi', 'sv', 'en', '%s'", spec->lang) > 0);
        assert_true(asprintf(&extra, ", '%s': 'Text.'", spec->lang) > 0);
    } else {
        langs = strdup("'fi', 'sv', 'en'");
        extra = strdup("");
    }
    assert_non_null(texts);
    assert_non_null(langs);
    assert_non_null(extra);
    for (size_t i = 0; i < FLOW_TEXT_COUNT; i++) {
        const char *name = flow_global_text_names[i];

        if (spec->skip != NULL && strcmp(spec->skip, name) == 0)
            continue;
        assert_true(asprintf(&more, "%s%s'%s': {'fi': 'Teksti.', 'sv': 'Text.', 'en': 'Text.'%s}",
                             texts, texts[0] != '\0' ? ", " : "", name, extra) > 0);
        free(texts);
        texts = more;
    }
    assert_true(asprintf(&out, "{'global': %s, 'languages': [%s], 'texts': {%s%s%s}%s}",
                         spec->flag != NULL ? spec->flag : "true", langs, texts,
                         spec->texts != NULL ? ", " : "", spec->texts != NULL ? spec->texts : "",
                         spec->top != NULL ? spec->top : "") > 0);
    free(texts);
    free(langs);
    free(extra);
    return out;
}

/* A temporary flows directory: global.json and flow0.json, flow1.json, ... */
static char *write_dir(const struct global_spec *spec, const char *const *flows, size_t nflows)
{
    char *dir = testlib_tmpdir(), *global = global_json(spec);

    write_json(dir, "global.json", global);
    free(global);
    for (size_t i = 0; i < nflows && flows[i] != NULL; i++) {
        char name[32];

        snprintf(name, sizeof(name), "flow%zu.json", i);
        write_json(dir, name, flows[i]);
    }
    return dir;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* True if d has a problem of severity sev in a file ending in file (NULL: any), at path. */
static bool has(const struct diag *d, enum diag_severity sev, const char *file, const char *path,
                const char *needle)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct diag_entry *e = &d->entries[i];

        if (e->severity == sev && (file == NULL || ends_with(e->file, file)) &&
            strcmp(e->path, path) == 0 && strstr(e->message, needle) != NULL)
            return true;
    }
    return false;
}

/*
 * True if d holds the expected problem and exactly others more, and loading
 * failed exactly when the problem is an error. On a mismatch prints
 * everything, so that one run shows every failing row.
 */
static bool expect_problem(const struct diag *d, const struct flow_set *set, const char *why,
                           enum diag_severity sev, const char *file, const char *path,
                           const char *needle, size_t others)
{
    bool ok = has(d, sev, file, path, needle) && d->n == others + 1 &&
              (sev == DIAG_ERROR ? set == NULL : set != NULL && d->errors == 0);

    if (!ok) {
        fprintf(stderr, "case '%s': wanted %s at %s: %s (and %zu others), got:\n", why,
                sev == DIAG_WARNING ? "warning" : "error", path, needle, others);
        diag_print(d, stderr);
    }
    return ok;
}

static const struct flow_node *node_of(const struct flow *f, const char *id)
{
    const struct flow_node *node = flow_find_node(f, id);

    assert_non_null(node);
    return node;
}

static void good_set_loads_without_problems(void **state)
{
    char *dir = fixture("good");
    struct diag d = {0};
    struct flow_set *set = flow_set_load_dir(dir, NULL, &d);
    const struct flow *help, *shelter;
    const struct flow_node *n;

    (void)state;
    if (d.n > 0)
        diag_print(&d, stderr);
    assert_non_null(set);
    assert_int_equal(d.n, 0);
    assert_int_equal(set->refs, 1);
    assert_int_equal(set->nflows, 2);

    /* Files in name order, nodes in file order. */
    help = &set->flows[0];
    shelter = &set->flows[1];
    assert_string_equal(help->id, "helpline");
    assert_string_equal(shelter->id, "shelter");
    assert_ptr_equal(flow_set_main(set), help);
    assert_false(shelter->main);
    assert_true(ends_with(help->file, "good/helpline.json"));
    assert_int_equal(help->nlanguages, 3);
    assert_string_equal(help->languages[0], "fi");
    assert_string_equal(help->languages[2], "en");
    assert_string_equal(help->start, "welcome");
    assert_string_equal(help->nodes[0].id, "welcome");
    assert_string_equal(help->nodes[help->nnodes - 1].id, "bye");
    assert_int_equal(shelter->nkeywords, 3);
    assert_string_equal(shelter->keywords[0], "YÖ");
    assert_string_equal(shelter->keywords[2], "BED");
    assert_null(shelter->keyword_langs[0]); /* a plain list: words of any language */

    n = node_of(help, "welcome");
    assert_int_equal(n->kind, FLOW_KIND_MENU);
    assert_int_equal(n->noptions, 4);
    assert_string_equal(flow_text_get(&n->text, "sv", "fi"),
                        "Katto-rådgivning. Svara med en siffra:");
    assert_string_equal(flow_text_get(&n->options[0].label, "fi", "fi"), "Yöpaikka tänään");
    assert_string_equal(n->options[0].next, "to_shelter");
    assert_string_equal(n->options[3].next, "bye");

    n = node_of(help, "age");
    assert_int_equal(n->kind, FLOW_KIND_INPUT);
    assert_int_equal(n->expect, FLOW_EXPECT_NUMBER);
    assert_int_equal(n->min, 1);
    assert_int_equal(n->max, 120);
    assert_string_equal(n->store, "age");
    assert_string_equal(n->next, "by_age");
    assert_string_equal(flow_text_get(&n->hint, "en", "fi"), "Reply with your age, e.g. 19.");

    n = node_of(help, "by_age");
    assert_int_equal(n->kind, FLOW_KIND_SWITCH);
    assert_string_equal(n->on, "age");
    assert_int_equal(n->ncases, 1);
    assert_true(n->cases[0].has_range);
    assert_null(n->cases[0].equals);
    assert_int_equal(n->cases[0].min, 1);
    assert_int_equal(n->cases[0].max, 17);
    assert_string_equal(n->cases[0].next, "youth");
    assert_string_equal(n->next, "adult");
    assert_int_equal(n->text.n, 0);

    n = node_of(help, "set_sv");
    assert_int_equal(n->kind, FLOW_KIND_LANGUAGE);
    assert_string_equal(n->lang, "sv");
    assert_string_equal(n->next, "welcome");

    n = node_of(help, "to_shelter");
    assert_int_equal(n->kind, FLOW_KIND_JUMP);
    assert_string_equal(n->target_flow, "shelter");
    assert_string_equal(n->target_node, "ask_place");
    assert_null(node_of(help, "adult")->target_node);

    n = node_of(shelter, "more_switch");
    assert_string_equal(n->cases[0].equals, "yes");
    assert_false(n->cases[0].has_range);
    assert_int_equal(node_of(shelter, "ask_place")->expect, FLOW_EXPECT_PLACE);
    assert_int_equal(node_of(shelter, "more_help")->expect, FLOW_EXPECT_YES_NO);
    assert_int_equal(node_of(shelter, "bye")->kind, FLOW_KIND_END);
    assert_null(node_of(shelter, "bye")->next);

    assert_true(ends_with(set->global.file, "good/global.json"));
    assert_int_equal(set->global.nlanguages, 3);
    assert_string_equal(flow_text_get(&set->global.texts[FLOW_TEXT_MORE], "sv", "fi"), "Mer");
    for (size_t i = 0; i < FLOW_TEXT_COUNT; i++)
        assert_int_equal(set->global.texts[i].n, 3);
    assert_int_equal(set->global.ncrisis_words, 2);
    assert_string_equal(set->global.crisis_words[1], "livsfara");

    flow_set_ref(set);
    flow_set_unref(set);
    assert_int_equal(set->refs, 1);
    flow_set_unref(set);
    diag_release(&d);
    free(dir);
}

static void good_files_load_like_the_directory(void **state)
{
    char *files[3] = {fixture("good/shelter.json"), fixture("good/global.json"),
                      fixture("good/helpline.json")};
    struct diag d = {0};
    struct flow_check_options defaults = {0}; /* zero fields mean the defaults, as NULL does */
    struct flow_set *set = flow_set_load_files((const char *const *)files, 3, &defaults, &d);

    (void)state;
    assert_non_null(set);
    assert_int_equal(d.n, 0);
    /* Files are taken in the order given, global.json recognised by its "global" key. */
    assert_string_equal(set->flows[0].id, "shelter");
    assert_string_equal(flow_set_main(set)->id, "helpline");
    flow_set_unref(set);
    diag_release(&d);
    for (size_t i = 0; i < 3; i++)
        free(files[i]);
}

static void good_set_warns_with_tighter_limits(void **state)
{
    char *dir = fixture("good");
    struct diag d = {0};
    struct flow_check_options opt = {.ussd_budget = 40, .sms_max_segments = 1};
    struct flow_set *set = flow_set_load_dir(dir, &opt, &d);

    (void)state;
    /* Warnings never stop loading: that is `katto check --strict`'s decision. */
    assert_non_null(set);
    assert_int_equal(d.errors, 0);
    assert_true(has(&d, DIAG_WARNING, "helpline.json", "nodes.welcome.text.en",
                    "USSD screen over 40 characters even when paginated"));
    assert_true(has(&d, DIAG_WARNING, "helpline.json", "nodes.youth.text.fi",
                    "USSD screen over 40 characters"));
    flow_set_unref(set);
    diag_release(&d);
    free(dir);
}

/* One file (or directory) under tests/fixtures/flows/bad per check, loaded with bad/global.json. */
struct bad_fixture {
    const char *name;
    enum diag_severity severity;
    const char *file; /* NULL: name itself */
    const char *path;
    const char *needle;
    size_t others;
};

static const struct bad_fixture bad_fixtures[] = {
    {"invalid_json.json", DIAG_ERROR, NULL, "", "invalid JSON at line 5, column 3", 0},
    {"invalid_utf8.json", DIAG_ERROR, NULL, "nodes.hello.text.en", "not valid UTF-8", 0},
    {"wrong_type.json", DIAG_ERROR, NULL, "main", "must be true or false, not a string", 0},
    {"unknown_key.json", DIAG_ERROR, NULL, "nodes.hello.nxet",
     "unknown key 'nxet' (did you mean 'next'?)", 1},
    {"unknown_kind.json", DIAG_ERROR, NULL, "nodes.hello.type",
     "unknown node type 'question': use message, menu, input, switch, language, jump, end, "
     "sms_copy, nearest or callback",
     0},
    {"dangling_next.json", DIAG_ERROR, NULL, "nodes.welcome.options[1].next",
     "unknown node 'shelterx'", 0},
    {"unreachable.json", DIAG_ERROR, NULL, "nodes.orphan", "unreachable from start", 0},
    {"missing_translation.json", DIAG_ERROR, NULL, "nodes.hello.text",
     "missing translation for 'sv'", 0},
    {"duplicate_keyword", DIAG_ERROR, "shelter.json", "keywords[1]",
     "keyword 'bed' is also a keyword of flow 'helpline'", 0},
    {"keyword_global.json", DIAG_ERROR, NULL, "keywords[1]", "'Hjälp' is a global word (start)", 0},
    {"number_zero.json", DIAG_ERROR, NULL, "nodes.ask_children.min",
     "min must be at least 1: 0 means back", 0},
    {"free_text_stored.json", DIAG_ERROR, NULL, "nodes.ask.store", "free text is never stored", 0},
    {"unknown_placeholder.json", DIAG_ERROR, NULL, "nodes.hello.text.en",
     "unknown placeholder {cty}", 0},
    {"jump_unknown_flow.json", DIAG_ERROR, NULL, "nodes.go.flow", "unknown flow 'nowhere'", 0},
    {"no_main.json", DIAG_ERROR, "bad/global.json", "", "no main flow", 0},
    {"loop_no_question.json", DIAG_ERROR, NULL, "nodes.ping",
     "loop without a question: ping → pong → ping", 0},
    {"no_way_out.json", DIAG_WARNING, NULL, "nodes.welcome",
     "no way out: from here no end node is reachable", 0},
    /* 330 characters: three segments, and so over a USSD screen as well. */
    {"sms_segments.json", DIAG_WARNING, NULL, "nodes.hello.text.en", "takes 3 SMS segments (max 2)",
     1},
    {"ucs2.json", DIAG_WARNING, NULL, "nodes.hello.text.en", "forces UCS-2 because of 'õ' (U+00F5)",
     0},
    {"ussd_budget.json", DIAG_WARNING, NULL, "nodes.welcome.text.en",
     "USSD screen over 160 characters even when paginated", 0},
};

static void bad_fixtures_report_their_problem(void **state)
{
    size_t failed = 0;

    (void)state;
    for (size_t i = 0; i < N_ROWS(bad_fixtures); i++) {
        const struct bad_fixture *t = &bad_fixtures[i];
        char *rel, *path, *global = fixture("bad/global.json");
        const char *files[2];
        struct diag d = {0};
        struct flow_set *set;

        assert_true(asprintf(&rel, "bad/%s", t->name) > 0);
        path = fixture(rel);
        files[0] = global;
        files[1] = path;
        set = ends_with(t->name, ".json") ? flow_set_load_files(files, 2, NULL, &d)
                                          : flow_set_load_dir(path, NULL, &d);
        failed +=
            !expect_problem(&d, set, t->name, t->severity, t->file != NULL ? t->file : t->name,
                            t->path, t->needle, t->others);
        flow_set_unref(set);
        diag_release(&d);
        free(rel);
        free(path);
        free(global);
    }
    assert_int_equal(failed, 0);
}

static const struct problem_case problem_cases[] = {
    /* The file as JSON. */
    {"an empty file", {""}, {0}, DIAG_ERROR, NULL, "", "the file is empty", 0},
    {"text after the object",
     {"{'flow': 'f'}\n }"},
     {0},
     DIAG_ERROR,
     NULL,
     "",
     "invalid JSON at line 2, column 2: text after the end of the object",
     0},
    {"a missing comma",
     {"{'flow': 'f'\n 'main': true}"},
     {0},
     DIAG_ERROR,
     NULL,
     "",
     "invalid JSON at line 2, column 2",
     0},
    {"a list at the top",
     {"[1, 2]"},
     {0},
     DIAG_ERROR,
     NULL,
     "",
     "must be a JSON object {...}, not a list",
     0},

    /* Keys. */
    {"a misspelt optional key is named, with a suggestion",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Where?'}, 'expect': 'place', 'next': 'bye', "
           "'hnit': {'en': 'Town'}}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.hnit",
     "unknown key 'hnit' (did you mean 'hint'?)",
     0},
    {"keys are case-sensitive",
     {MAIN("'a': {'type': 'message', 'text': {'en': 'Hi.'}, 'Next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.Next",
     "unknown key 'Next' (did you mean 'next'?)",
     1},
    {"a key of another kind is not used",
     {MAIN("'a': {'type': 'switch', 'text': {'en': 'Hi.'}, 'on': 'city', 'cases': "
           "[{'equals': 'Turku', 'next': 'bye'}], 'default': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.text",
     "'text' is not used in a switch node",
     0},
    {"an unknown key far from every allowed one",
     {FLOW_EN(", 'colour': 'red'", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "colour",
     "unknown key 'colour'",
     0},
    {"a key given twice",
     {MAIN("'a': {'type': 'end', 'text': {'en': 'A.'}, 'text': {'en': 'B.'}}")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.text",
     "duplicate key 'text'",
     0},

    /* Types and required fields. */
    {"a number where a node id belongs",
     {MAIN("'a': {'type': 'message', 'text': {'en': 'Hi.'}, 'next': 3}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.next",
     "must be a string, not a number",
     0},
    {"a node that is not an object",
     {MAIN("'a': 'end'")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a",
     "must be an object {\"type\": ...}, not a string",
     0},
    {"a node without a type",
     {MAIN("'a': {'text': {'en': 'Hi.'}}")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a",
     "missing 'type'",
     0},
    {"a message without text",
     {MAIN("'a': {'type': 'message', 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a",
     "missing 'text'",
     0},
    {"a flow without nodes",
     {FLOW_EN("", "")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes",
     "a flow needs at least one node",
     0},
    {"an empty string",
     {MAIN("'a': {'type': 'end', 'text': {'en': ''}}")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.text.en",
     "must not be empty",
     0},
    {"text that is a plain string",
     {MAIN("'a': {'type': 'end', 'text': 'Bye.'}")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.text",
     "must be an object with one text per language",
     0},

    /* Ids, variable names and languages. */
    {"a flow id with capitals and a space",
     {"{'flow': 'Help line', 'main': true, 'languages': ['en'], 'start': 'a', 'nodes': {" BYE
      ", 'a': {'type': 'message', 'text': {'en': 'Hi.'}, 'next': 'bye'}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "flow",
     "'Help line' is not a flow id",
     0},
    {"a node id with a capital",
     {"{'flow': 'f', 'main': true, 'languages': ['en'], 'start': 'Hello', 'nodes': {'Hello': "
      "{'type': 'end', 'text': {'en': 'Hi.'}}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.Hello",
     "'Hello' is not a node id",
     0},
    {"a node defined twice",
     {MAIN("'a': {'type': 'end', 'text': {'en': 'A.'}}, 'a': {'type': 'end', 'text': {'en': "
           "'B.'}}")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a",
     "node 'a' is defined twice",
     0},
    {"a language that is not a code",
     {"{'flow': 'f', 'main': true, 'languages': ['en', 'english'], 'start': 'a', 'nodes': {"
      "'a': {'type': 'end', 'text': {'en': 'Hi.'}}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "languages[1]",
     "'english' is not a language code",
     0},
    {"a language listed twice",
     {"{'flow': 'f', 'main': true, 'languages': ['en', 'en'], 'start': 'a', 'nodes': {"
      "'a': {'type': 'end', 'text': {'en': 'Hi.'}}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "languages[1]",
     "'en' is listed twice",
     0},
    {"no languages",
     {"{'flow': 'f', 'main': true, 'languages': [], 'start': 'a', 'nodes': {"
      "'a': {'type': 'end', 'text': {'en': 'Hi.'}}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "languages",
     "must not be empty",
     0},
    {"a flow language without global texts",
     {"{'flow': 'f', 'main': true, 'languages': ['en', 'de'], 'start': 'a', 'nodes': {"
      "'a': {'type': 'end', 'text': {'en': 'Hi.', 'de': 'Hallo.'}}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "languages[1]",
     "'de' is not one of the global languages",
     0},
    {"a text in a language the flow does not have",
     {MAIN("'a': {'type': 'end', 'text': {'en': 'Hi.', 'sv': 'Hej.'}}")},
     {0},
     DIAG_WARNING,
     NULL,
     "nodes.a.text.sv",
     "'sv' is not one of the flow's languages",
     0},
    {"a store that is not a variable name",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Code?'}, 'expect': 'postal_code', 'store': "
           "'Post-code', 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.store",
     "'Post-code' is not a variable name",
     0},

    /* Menus. */
    {"a menu without options",
     {MAIN("'a': {'type': 'menu', 'text': {'en': 'Pick:'}, 'options': []}")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.options",
     "a menu needs 1 to 9 options, not 0",
     0},
    {"a menu with ten options",
     {MAIN(
         "'a': {'type': 'menu', 'text': {'en': 'Pick:'}, 'options': ["
         "{'label': {'en': '1'}, 'next': 'bye'}, {'label': {'en': '2'}, 'next': 'bye'}, "
         "{'label': {'en': '3'}, 'next': 'bye'}, {'label': {'en': '4'}, 'next': 'bye'}, "
         "{'label': {'en': '5'}, 'next': 'bye'}, {'label': {'en': '6'}, 'next': 'bye'}, "
         "{'label': {'en': '7'}, 'next': 'bye'}, {'label': {'en': '8'}, 'next': 'bye'}, "
         "{'label': {'en': '9'}, 'next': 'bye'}, {'label': {'en': '10'}, 'next': 'bye'}]}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.options",
     "a menu needs 1 to 9 options, not 10",
     0},
    {"an option without a label",
     {MAIN("'a': {'type': 'menu', 'text': {'en': 'Pick:'}, 'options': [{'next': 'bye'}]}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.options[0]",
     "missing 'label'",
     0},
    {"a label missing a translation",
     {"{'flow': 'f', 'main': true, 'languages': ['fi', 'en'], 'start': 'a', 'nodes': {'a': "
      "{'type': 'menu', 'text': {'fi': 'Valitse:', 'en': 'Pick:'}, 'options': [{'label': "
      "{'en': 'Quit'}, 'next': 'bye'}]}, 'bye': {'type': 'end', 'text': {'fi': 'Hei.', 'en': "
      "'Bye.'}}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.options[0].label",
     "missing translation for 'fi'",
     0},

    /* Inputs. */
    {"an unknown expect",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Mail?'}, 'expect': 'email', 'next': "
           "'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.expect",
     "unknown expect 'email': use postal_code, place, yes_no, number or text",
     0},
    {"a number input without a range",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Age?'}, 'expect': 'number', 'store': 'age', "
           "'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a",
     "missing 'max'",
     1},
    {"a range upside down",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Age?'}, 'expect': 'number', 'min': 18, "
           "'max': 5, 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.max",
     "max is smaller than min",
     0},
    {"a negative minimum",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Age?'}, 'expect': 'number', 'min': -1, "
           "'max': 5, 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.min",
     "0 means back",
     0},
    {"a fraction in a range",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Age?'}, 'expect': 'number', 'min': 1.5, "
           "'max': 5, 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.min",
     "must be a whole number",
     0},
    {"a range on a place input",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Where?'}, 'expect': 'place', 'min': 1, "
           "'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.min",
     "'min' is only for expect number",
     0},

    /* Switches. */
    {"a case with both equals and a range",
     {MAIN("'a': {'type': 'switch', 'on': 'city', 'cases': [{'equals': 'Oulu', 'min': 1, "
           "'max': 2, 'next': 'bye'}], 'default': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.cases[0]",
     "not both",
     0},
    {"a case with neither",
     {MAIN("'a': {'type': 'switch', 'on': 'city', 'cases': [{'next': 'bye'}], 'default': "
           "'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.cases[0]",
     "a case needs 'equals' or 'min' and 'max'",
     0},
    {"half a range",
     {MAIN("'a': {'type': 'switch', 'on': 'city', 'cases': [{'min': 1, 'next': 'bye'}], "
           "'default': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.cases[0]",
     "a range needs both 'min' and 'max'",
     0},
    {"a switch without a default",
     {MAIN("'a': {'type': 'switch', 'on': 'city', 'cases': [{'equals': 'Oulu', 'next': "
           "'bye'}]}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a",
     "missing 'default'",
     0},
    {"a switch on a variable nothing stores",
     {MAIN("'a': {'type': 'switch', 'on': 'agee', 'cases': [{'equals': '1', 'next': 'bye'}], "
           "'default': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.on",
     "no input node stores 'agee'",
     0},
    {"a dangling default",
     {MAIN("'a': {'type': 'switch', 'on': 'city', 'cases': [{'equals': 'Oulu', 'next': "
           "'bye'}], 'default': 'byee'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.default",
     "unknown node 'byee'",
     0},
    {"a dangling case",
     {MAIN("'a': {'type': 'switch', 'on': 'city', 'cases': [{'equals': 'Oulu', 'next': "
           "'oulu'}], 'default': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.cases[0].next",
     "unknown node 'oulu'",
     0},

    /* Language nodes, jumps, start. */
    {"a language node for a language the flow lacks",
     {MAIN("'a': {'type': 'language', 'language': 'sv', 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.language",
     "'sv' is not one of the flow's languages",
     0},
    {"a jump to a node the other flow lacks",
     {MAIN("'a': {'type': 'jump', 'flow': 'g', 'node': 'nope'}"),
      "{'flow': 'g', 'languages': ['en'], 'start': 'b', 'nodes': {'b': {'type': 'end', "
      "'text': {'en': 'Bye.'}}}}"},
     {0},
     DIAG_ERROR,
     "flow0.json",
     "nodes.a.node",
     "unknown node 'nope' in flow 'g'",
     0},
    {"an unknown start", {FLOW_EN("", BYE)}, {0}, DIAG_ERROR, NULL, "start", "unknown node 'a'", 0},

    /* Placeholders. */
    {"an unclosed placeholder",
     {MAIN("'a': {'type': 'end', 'text': {'en': 'Near {city.'}}")},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a.text.en",
     "'{' without a matching '}'",
     0},
    {"a placeholder stored only by another flow",
     {MAIN("'a': {'type': 'jump', 'flow': 'g'}, 'b': {'type': 'end', 'text': {'en': 'Age "
           "{age}.'}}"),
      "{'flow': 'g', 'languages': ['en'], 'start': 'q', 'nodes': {'q': {'type': 'input', "
      "'text': {'en': 'Age?'}, 'expect': 'number', 'min': 1, 'max': 99, 'store': 'age', "
      "'next': 'bye'}, " BYE "}}"},
     {0},
     DIAG_ERROR,
     "flow0.json",
     "nodes.b.text.en",
     "unknown placeholder {age}",
     1},

    /* Keywords. */
    {"a keyword of digits",
     {FLOW_EN(", 'keywords': ['112']", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords[0]",
     "a keyword cannot be only digits",
     0},
    {"a keyword of four words",
     {FLOW_EN(", 'keywords': ['a bed for tonight']", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords[0]",
     "a keyword is 1 to 3 words",
     0},
    {"a keyword listed twice",
     {FLOW_EN(", 'keywords': ['BED', 'Bed']", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords[1]",
     "keyword 'Bed' is listed twice",
     0},
    {"keywords of a language the flow does not speak",
     {FLOW_EN(", 'keywords': {'en': ['BED'], 'sv': ['NATT']}", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords.sv",
     "'sv' is not one of the flow's languages",
     0},
    {"keywords by language that are not a list",
     {FLOW_EN(", 'keywords': {'en': 'BED'}", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords.en",
     "a list of words",
     0},
    {"a keyword by language checked like the others",
     {FLOW_EN(", 'keywords': {'en': ['BED', 'Bed']}", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords.en",
     "keyword 'Bed' is listed twice",
     0},
    {"keywords that are neither a list nor lists by language",
     {FLOW_EN(", 'keywords': 'BED'", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords",
     "lists by language",
     0},
    {"a global word with punctuation",
     {FLOW_EN(", 'keywords': ['Stop!']", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords[0]",
     "'Stop!' is a global word (stop)",
     0},
    {"the main menu's 00",
     {FLOW_EN(", 'keywords': ['00']", SAY_BYE("Hi."))},
     {0},
     DIAG_ERROR,
     NULL,
     "keywords[0]",
     "only digits",
     0},

    /* The set. */
    {"two main flows",
     {MAIN(BYE ", 'a': {'type': 'end', 'text': {'en': 'Hi.'}}"),
      "{'flow': 'g', 'main': true, 'languages': ['en'], 'start': 'b', 'nodes': {'b': "
      "{'type': 'end', 'text': {'en': 'Bye.'}}}}"},
     {0},
     DIAG_ERROR,
     "flow1.json",
     "main",
     "flow 'f' (",
     1},
    {"one flow id in two files",
     {MAIN("'a': {'type': 'end', 'text': {'en': 'Hi.'}}"),
      "{'flow': 'f', 'languages': ['en'], 'start': 'b', 'nodes': {'b': {'type': 'end', "
      "'text': {'en': 'Bye.'}}}}"},
     {0},
     DIAG_ERROR,
     "flow1.json",
     "flow",
     "flow 'f' is already defined in",
     0},
    {"a jump into a file that cannot be read is not reported again",
     {MAIN("'a': {'type': 'jump', 'flow': 'g'}"), "{'flow': 'g',, }"},
     {0},
     DIAG_ERROR,
     "flow1.json",
     "",
     "invalid JSON at line 1, column 15",
     0},
    {"texts in a language whose code is malformed are not reported again",
     {"{'flow': 'f', 'main': true, 'languages': ['en', 'sv '], 'start': 'a', 'nodes': {"
      "'a': {'type': 'end', 'text': {'en': 'Hi.', 'sv': 'Hej.'}}}}"},
     {0},
     DIAG_ERROR,
     NULL,
     "languages[1]",
     "'sv ' is not a language code",
     0},
    {"a broken file does not stop the others",
     {"{'flow': 'f', 'main': true,,}",
      "{'flow': 'g', 'languages': ['en'], 'start': 'b', 'nodes': {'b': {'type': 'message', "
      "'text': {'en': 'Hi.'}, 'next': 'c'}}}"},
     {0},
     DIAG_ERROR,
     "flow1.json",
     "nodes.b.next",
     "unknown node 'c'",
     1},

    /* Loops. */
    {"a switch that leads to itself",
     {MAIN("'a': {'type': 'switch', 'on': 'city', 'cases': [{'equals': 'Oulu', 'next': "
           "'bye'}], 'default': 'a'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.a",
     "loop without a question: a → a",
     0},
    {"a loop through another flow",
     {MAIN("'a': {'type': 'jump', 'flow': 'g', 'node': 'x'}"),
      "{'flow': 'g', 'languages': ['en'], 'start': 'x', 'nodes': {'x': {'type': 'message', "
      "'text': {'en': 'Hi.'}, 'next': 'y'}, 'y': {'type': 'jump', 'flow': 'f'}}}"},
     {0},
     DIAG_ERROR,
     "flow0.json",
     "nodes.a",
     "loop without a question: a → g:x → g:y → a",
     0},

    /* The nearest node. */
    {"a nearest node with an unknown category",
     {MAIN(ASK_PLACE "'n': {'type': 'nearest', 'categories': ['shelter'], 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.n.categories[0]",
     "unknown category 'shelter'",
     0},
    {"a nearest node showing too many",
     {MAIN(ASK_PLACE "'n': {'type': 'nearest', 'categories': ['day_centre'], 'count': 9, "
                     "'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.n.count",
     "count must be 1 to 5",
     0},
    {"a nearest node with an unknown open rule",
     {MAIN(ASK_PLACE "'n': {'type': 'nearest', 'categories': ['day_centre'], 'open': 'maybe', "
                     "'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.n.open",
     "open must be prefer, only or any",
     0},
    {"a nearest node without categories",
     {MAIN(ASK_PLACE "'n': {'type': 'nearest', 'categories': [], 'next': 'bye'}, " BYE)},
     {0},
     DIAG_ERROR,
     NULL,
     "nodes.n.categories",
     "name at least one category",
     0},
    {"a nearest node that no place question feeds",
     {MAIN("'a': {'type': 'nearest', 'categories': ['day_centre'], 'next': 'bye'}, " BYE)},
     {0},
     DIAG_WARNING,
     NULL,
     "nodes.a",
     "no input node asks for a place",
     0},
    {"a service placeholder outside the service texts",
     {MAIN(SAY_BYE("Hi."))},
     {.skip = "more", .texts = "'more': {'fi': '{time}', 'sv': 'Mer', 'en': 'More'}"},
     DIAG_ERROR,
     "global.json",
     "texts.more.fi",
     "unknown placeholder {time}",
     0},

    /* Costs. */
    {"a label that forces UCS-2",
     {MAIN("'a': {'type': 'menu', 'text': {'en': 'Pick:'}, 'options': [{'label': {'en': "
           "'Tallinn, " O_TILDE "htu'}, 'next': 'bye'}]}, " BYE)},
     {0},
     DIAG_WARNING,
     NULL,
     "nodes.a.options[0].label.en",
     "forces UCS-2 because of 'õ'",
     0},
    {"a hint that forces UCS-2",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Where?'}, 'expect': 'place', 'hint': {'en': "
           "'Like V" O_TILDE "ru'}, 'next': 'bye'}, " BYE)},
     {0},
     DIAG_WARNING,
     NULL,
     "nodes.a.hint.en",
     "forces UCS-2",
     0},
    {"a message over a USSD screen",
     {MAIN(SAY_BYE(TEXT_173))},
     {0},
     DIAG_WARNING,
     NULL,
     "nodes.a.text.en",
     "USSD screen over 160 characters",
     0},
    {"a global text that forces UCS-2",
     {MAIN(SAY_BYE("Hi."))},
     {.skip = "crisis",
      .texts = "'crisis': {'fi': 'H" O_TILDE "t" O_TILDE "', 'sv': 'Nöd.', 'en': 'Help.'}"},
     DIAG_WARNING,
     "global.json",
     "texts.crisis.fi",
     "forces UCS-2 because of 'õ'",
     0},

    /* The global file. */
    {"a missing global text",
     {MAIN(SAY_BYE("Hi."))},
     {.skip = "crisis"},
     DIAG_ERROR,
     "global.json",
     "texts",
     "missing text 'crisis'",
     0},
    {"a misspelt global text",
     {MAIN(SAY_BYE("Hi."))},
     {.skip = "intro", .texts = "'intr': {'fi': 'a', 'sv': 'b', 'en': 'c'}"},
     DIAG_ERROR,
     "global.json",
     "texts.intr",
     "unknown key 'intr' (did you mean 'intro'?)",
     1},
    {"a global text missing a translation",
     {MAIN(SAY_BYE("Hi."))},
     {.skip = "more", .texts = "'more': {'fi': 'Lisää', 'en': 'More'}"},
     DIAG_ERROR,
     "global.json",
     "texts.more",
     "missing translation for 'sv'",
     0},
    {"global that is not true",
     {MAIN(SAY_BYE("Hi."))},
     {.flag = "false"},
     DIAG_ERROR,
     "global.json",
     "global",
     "must be true",
     0},
    {"a misspelt global key",
     {MAIN(SAY_BYE("Hi."))},
     {.top = ", 'crisis_word': ['hengenvaar']"},
     DIAG_ERROR,
     "global.json",
     "crisis_word",
     "(did you mean 'crisis_words'?)",
     0},
    {"an empty crisis word",
     {MAIN(SAY_BYE("Hi."))},
     {.top = ", 'crisis_words': ['']"},
     DIAG_ERROR,
     "global.json",
     "crisis_words[0]",
     "must not be empty",
     0},
};

static void inline_flows_report_their_problem(void **state)
{
    size_t failed = 0;

    (void)state;
    for (size_t i = 0; i < N_ROWS(problem_cases); i++) {
        const struct problem_case *t = &problem_cases[i];
        char *dir = write_dir(&t->global, t->flows, N_ROWS(t->flows));
        struct diag d = {0};
        struct flow_set *set = flow_set_load_dir(dir, NULL, &d);

        failed +=
            !expect_problem(&d, set, t->why, t->severity, t->file != NULL ? t->file : "flow0.json",
                            t->path, t->needle, t->others);
        flow_set_unref(set);
        diag_release(&d);
        testlib_rmrf(dir);
        free(dir);
    }
    assert_int_equal(failed, 0);
}

struct clean_case {
    const char *why;
    const char *flows[3];
    struct global_spec global;
};

static const struct clean_case clean_cases[] = {
    {"a node reached only by a jump from another flow",
     {MAIN("'a': {'type': 'jump', 'flow': 'g', 'node': 'side'}"),
      "{'flow': 'g', 'languages': ['en'], 'start': 'b', 'nodes': {'b': {'type': 'end', "
      "'text': {'en': 'Bye.'}}, 'side': {'type': 'end', 'text': {'en': 'Side.'}}}}"},
     {0}},
    {"a placeholder the flow stores",
     {MAIN("'a': {'type': 'input', 'text': {'en': 'Kids?'}, 'expect': 'number', 'min': 1, "
           "'max': 9, 'store': 'kids', 'next': 'b'}, 'b': {'type': 'end', 'text': {'en': "
           "'{kids} kids, {city}.'}}")},
     {0}},
    {"a curly apostrophe that is sent as a plain one",
     {MAIN("'a': {'type': 'end', 'text': {'en': 'It" RSQUO "s open.'}}")},
     {0}},
    {"a menu loop with a way out",
     {MAIN("'a': {'type': 'menu', 'text': {'en': 'Pick:'}, 'options': [{'label': {'en': "
           "'Hours'}, 'next': 'h'}, {'label': {'en': 'Quit'}, 'next': 'bye'}]}, 'h': {'type': "
           "'message', 'text': {'en': 'Open 18-08.'}, 'next': 'a'}, " BYE)},
     {0}},
    {"a menu loop whose way out is a jump",
     {MAIN("'a': {'type': 'menu', 'text': {'en': 'Pick:'}, 'options': [{'label': {'en': "
           "'Again'}, 'next': 'a'}, {'label': {'en': 'Beds'}, 'next': 'j'}]}, 'j': {'type': "
           "'jump', 'flow': 'g'}"),
      "{'flow': 'g', 'languages': ['en'], 'start': 'b', 'nodes': {'b': {'type': 'end', "
      "'text': {'en': 'Bye.'}}}}"},
     {0}},
    {"keywords by language",
     {FLOW_EN(", 'keywords': {'en': ['BED', 'SLEEP']}", SAY_BYE("Hi."))},
     {0}},
    {"white space after the object", {MAIN(SAY_BYE("Hi.")) "\n\n  \n"}, {0}},
    {"a language code with a region, after a UTF-8 byte order mark",
     {"\xef\xbb\xbf{'flow': 'f', 'main': true, 'languages': ['en-GB'], 'start': 'a', "
      "'nodes': {'a': {'type': 'end', 'text': {'en-GB': 'Cheers.'}}}}"},
     {.lang = "en-GB"}},
};

static void inline_flows_without_problems(void **state)
{
    size_t failed = 0;

    (void)state;
    for (size_t i = 0; i < N_ROWS(clean_cases); i++) {
        const struct clean_case *t = &clean_cases[i];
        char *dir = write_dir(&t->global, t->flows, N_ROWS(t->flows));
        struct diag d = {0};
        struct flow_set *set = flow_set_load_dir(dir, NULL, &d);

        if (d.n > 0 || set == NULL) {
            fprintf(stderr, "case '%s':\n", t->why);
            diag_print(&d, stderr);
            failed++;
        }
        flow_set_unref(set);
        diag_release(&d);
        testlib_rmrf(dir);
        free(dir);
    }
    assert_int_equal(failed, 0);
}

static void missing_directory_is_reported(void **state)
{
    struct diag d = {0};

    (void)state;
    assert_null(flow_set_load_dir("/nonexistent/katto-flows", NULL, &d));
    assert_true(has(&d, DIAG_ERROR, "/nonexistent/katto-flows", "", "cannot open directory"));
    assert_int_equal(d.n, 1);
    diag_release(&d);
}

static void directory_without_global_file_is_reported(void **state)
{
    const char *flows[] = {MAIN(SAY_BYE("Hi."))};
    char *dir = write_dir(&(struct global_spec){0}, flows, 1), *global;
    struct diag d = {0};

    (void)state;
    assert_true(asprintf(&global, "%s/global.json", dir) > 0);
    unlink(global);
    assert_null(flow_set_load_dir(dir, NULL, &d));
    assert_true(has(&d, DIAG_ERROR, global, "", "missing global.json: the engine's own texts"));
    assert_int_equal(d.n, 1);
    diag_release(&d);
    testlib_rmrf(dir);
    free(global);
    free(dir);
}

static void files_without_global_file_are_reported(void **state)
{
    char *file = fixture("good/helpline.json"), *shelter = fixture("good/shelter.json");
    const char *files[] = {file, shelter};
    struct diag d = {0};

    (void)state;
    assert_null(flow_set_load_files(files, 2, NULL, &d));
    assert_true(has(&d, DIAG_ERROR, "good/helpline.json", "", "no global file among the files"));
    assert_int_equal(d.n, 1);
    diag_release(&d);
    free(file);
    free(shelter);
}

static void second_global_file_is_reported(void **state)
{
    char *a = fixture("good/global.json"), *b = fixture("bad/global.json");
    char *help = fixture("good/helpline.json"), *shelter = fixture("good/shelter.json");
    const char *files[] = {a, help, shelter, b};
    struct diag d = {0};

    (void)state;
    assert_null(flow_set_load_files(files, 4, NULL, &d));
    assert_true(has(&d, DIAG_ERROR, "bad/global.json", "", "a second global file"));
    assert_int_equal(d.n, 1);
    diag_release(&d);
    free(a);
    free(b);
    free(help);
    free(shelter);
}

static void hidden_and_other_files_are_skipped(void **state)
{
    const char *flows[] = {MAIN(SAY_BYE("Hi."))};
    char *dir = write_dir(&(struct global_spec){0}, flows, 1);
    struct diag d = {0};
    struct flow_set *set;

    (void)state;
    write_json(dir, ".flow0.json", "{ half-saved by an editor");
    write_json(dir, "notes.txt", "not JSON");
    write_json(dir, "flow0.json.bak", "not JSON");
    set = flow_set_load_dir(dir, NULL, &d);
    assert_non_null(set);
    assert_int_equal(d.n, 0);
    assert_int_equal(set->nflows, 1);
    flow_set_unref(set);
    diag_release(&d);
    testlib_rmrf(dir);
    free(dir);
}

static void oversized_file_is_reported(void **state)
{
    const char *flows[] = {MAIN(SAY_BYE("Hi."))};
    char *dir = write_dir(&(struct global_spec){0}, flows, 1);
    size_t size = 1024 * 1024 + 1;
    char *big = malloc(size + 1);
    struct diag d = {0};

    (void)state;
    assert_non_null(big);
    memset(big, ' ', size);
    big[0] = '{';
    big[size - 1] = '}';
    big[size] = '\0';
    write_json(dir, "huge.json", big);
    assert_null(flow_set_load_dir(dir, NULL, &d));
    assert_true(has(&d, DIAG_ERROR, "huge.json", "", "file is larger than 1 MiB"));
    assert_int_equal(d.n, 1);
    diag_release(&d);
    testlib_rmrf(dir);
    free(big);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_set_loads_without_problems),
        cmocka_unit_test(good_files_load_like_the_directory),
        cmocka_unit_test(good_set_warns_with_tighter_limits),
        cmocka_unit_test(bad_fixtures_report_their_problem),
        cmocka_unit_test(inline_flows_report_their_problem),
        cmocka_unit_test(inline_flows_without_problems),
        cmocka_unit_test(missing_directory_is_reported),
        cmocka_unit_test(directory_without_global_file_is_reported),
        cmocka_unit_test(files_without_global_file_are_reported),
        cmocka_unit_test(second_global_file_is_reported),
        cmocka_unit_test(hidden_and_other_files_are_skipped),
        cmocka_unit_test(oversized_file_is_reported),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
