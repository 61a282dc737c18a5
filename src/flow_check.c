/*
 * flow_check.c: checks of a flow set as a whole, after flow_load.c has read
 * every file: references, reachability, loops the engine would spin in or
 * that a person cannot leave, keywords, placeholders, and what each text
 * costs as SMS and on a USSD screen. Everything works on the model alone
 * and skips what a broken file left NULL, which is already reported.
 */
#include "flow_check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_render.h"
#include "gsm7.h"
#include "keyword.h"
#include "utf8.h"

#define PATH_LEN 256
#define SHOWN_LEN 64  /* how much of an administrator's string a message quotes */
#define CYCLE_LEN 400 /* "a → b → a" in a message; longer cycles are cut */
#define NO_NODE SIZE_MAX
#define USSD_MORE_PREFIX "\n98 " /* the engine's "more" line on a paginated USSD screen */

struct checker {
    const struct flow_set *set;
    struct flow_check_files files;
    struct flow_check_options opt;
    struct diag *d;
    const struct flow *flow; /* the flow being checked */
    bool ucs2_intended;      /* the node being checked says "ucs2": true */
    size_t more_chars;       /* longest global "more" label, in characters */
};

static const char *shown(const char *s, char out[SHOWN_LEN]);
static const char *node_path(char out[PATH_LEN], const struct flow_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "nodes.<id>" followed by fmt, such as ".options[1].next". */
static const char *node_path(char out[PATH_LEN], const struct flow_node *node, const char *fmt, ...)
{
    va_list ap;
    char id[SHOWN_LEN];
    int n = snprintf(out, PATH_LEN, "nodes.%s", shown(node->id, id));

    if (n >= 0 && n < PATH_LEN) {
        va_start(ap, fmt);
        vsnprintf(out + n, PATH_LEN - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return out;
}

/*
 * s for quoting in a one-line message: cut on a character boundary, control
 * characters and bytes that are not UTF-8 as '?'. Ids that failed their check
 * in the loader are kept (references to them still resolve) and may hold any
 * bytes: the fuzzer found one in a path.
 */
static const char *shown(const char *s, char out[SHOWN_LEN])
{
    size_t len = strlen(s), pos = 0, n = 0;

    while (pos < len) {
        size_t next = pos;
        uint32_t cp;
        bool ok = utf8_decode(s, len, &next, &cp) == 0 && cp >= 0x20;

        if (!ok && next == pos)
            next = pos + 1; /* not UTF-8: one byte becomes one '?' */
        size_t k = ok ? next - pos : 1;

        if (n + k > SHOWN_LEN - 4) {
            memcpy(out + n, "...", 4);
            return out;
        }
        if (ok)
            memcpy(out + n, s + pos, k);
        else
            out[n] = '?';
        n += k;
        pos = next;
    }
    out[n] = '\0';
    return out;
}

static bool str_listed(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] != NULL && strcmp(list[i], s) == 0)
            return true;
    }
    return false;
}

static bool is_engine_placeholder(const char *name, size_t len)
{
    for (size_t i = 0; flow_placeholders[i] != NULL; i++) {
        if (strlen(flow_placeholders[i]) == len && memcmp(flow_placeholders[i], name, len) == 0)
            return true;
    }
    return false;
}

/* True if an input node of flow stores the variable name[0..len). */
static bool flow_stores(const struct flow *flow, const char *name, size_t len)
{
    for (size_t i = 0; i < flow->nnodes; i++) {
        const char *store = flow->nodes[i].store;

        if (flow->nodes[i].kind == FLOW_KIND_INPUT && store != NULL && strlen(store) == len &&
            memcmp(store, name, len) == 0)
            return true;
    }
    return false;
}

/* What normalised text costs: SMS encoding and segments, and characters on a USSD screen. */
struct cost {
    bool ok;
    struct gsm7_info sms;
    size_t chars;
};

static struct cost text_cost(const char *text)
{
    struct cost c = {0};
    char *norm = gsm7_normalise(text);

    if (norm != NULL && gsm7_analyse(norm, strlen(norm), &c.sms) == 0) {
        c.ok = true;
        c.chars = utf8_count(norm);
    }
    free(norm);
    return c;
}

static void warn_ucs2(struct checker *c, const char *file, const char *path, const struct cost *k)
{
    char ch[GSM7_DESCRIBE_LEN];

    if (c->ucs2_intended)
        return; /* Russian or Arabic cannot be GSM-7; the segment limits still apply */
    diag_add(c->d, DIAG_WARNING, file, path, "forces UCS-2 because of %s",
             gsm7_describe_char(k->sms.first_ucs2_char, ch));
}

/* Warns if text, sent on its own by SMS (message, prompt, end, global text), costs too much. */
static struct cost check_sms(struct checker *c, const char *file, const char *path,
                             const char *text)
{
    struct cost k = text_cost(text);

    if (k.ok && k.sms.encoding == GSM7_ENC_UCS2)
        warn_ucs2(c, file, path, &k);
    if (k.ok && k.sms.segments > c->opt.sms_max_segments)
        diag_add(c->d, DIAG_WARNING, file, path, "takes %zu SMS segments (max %zu)", k.sms.segments,
                 c->opt.sms_max_segments);
    return k;
}

/* Placeholders {name} in every language of t; flow is NULL for global texts. */
/*
 * Placeholders that only the nearest and callback nodes fill, per global
 * text, separated by spaces (NULL: none). Elsewhere they would stay empty,
 * so they are accepted only here.
 */
static const char *node_placeholders(enum flow_global_text t)
{
    switch (t) {
    case FLOW_TEXT_SERVICE_OPEN_UNTIL:
    case FLOW_TEXT_SERVICE_OPENS: return "time";
    case FLOW_TEXT_SERVICE_PHONE:
    case FLOW_TEXT_NEAREST_SOCIAL: return "phone";
    case FLOW_TEXT_HINT_PLACE_LIST: return "cities";
    case FLOW_TEXT_CALLBACK_DONE: return "ref team from due";
    case FLOW_TEXT_CALLBACK_DONE_MEET: return "ref team from";
    case FLOW_TEXT_CALLBACK_TEAM_AWAY: return "hours";
    case FLOW_TEXT_CALLBACK_OVERDUE: return "ref";
    default: return NULL;
    }
}

/* True if name (len bytes) is one of the space-separated words of extra. */
static bool is_extra(const char *extra, const char *name, size_t len)
{
    for (const char *p = extra; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, " ");

        if (n == len && memcmp(p, name, len) == 0)
            return true;
        p += n;
        p += *p == ' ';
    }
    return false;
}

static void check_placeholders_extra(struct checker *c, const char *file, const char *prefix,
                                     const struct flow_text *t, const struct flow *flow,
                                     const char *extra)
{
    char path[PATH_LEN];

    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->items[i].text;

        if (snprintf(path, sizeof(path), "%s.%s", prefix, t->items[i].lang) < 0)
            path[0] = '\0'; /* a path cut short still names the node */
        for (const char *open = strchr(s, '{'); open != NULL; open = strchr(open, '{')) {
            const char *close = strchr(open + 1, '}');
            size_t len;

            if (close == NULL) {
                diag_add(c->d, DIAG_ERROR, file, path, "'{' without a matching '}'");
                break;
            }
            len = (size_t)(close - open - 1);
            if (!is_engine_placeholder(open + 1, len) && !is_extra(extra, open + 1, len) &&
                (flow == NULL || !flow_stores(flow, open + 1, len)))
                diag_add(c->d, DIAG_ERROR, file, path, "unknown placeholder {%.*s}",
                         (int)(len < 40 ? len : 40), open + 1);
            open = close + 1;
        }
    }
}

static void check_placeholders(struct checker *c, const char *file, const char *prefix,
                               const struct flow_text *t, const struct flow *flow)
{
    check_placeholders_extra(c, file, prefix, t, flow, NULL);
}

static void check_ref(struct checker *c, const struct flow_node *node, const char *where,
                      const char *target)
{
    char path[PATH_LEN], id[SHOWN_LEN];

    if (target != NULL && flow_find_node(c->flow, target) == NULL)
        diag_add(c->d, DIAG_ERROR, c->flow->file, node_path(path, node, ".%s", where),
                 "unknown node '%s'", shown(target, id));
}

/* SMS and USSD cost of a text said on its own, in each language. */
static void check_said_text(struct checker *c, const struct flow_node *node)
{
    char path[PATH_LEN];

    for (size_t i = 0; i < node->text.n; i++) {
        struct cost k;

        node_path(path, node, ".text.%s", node->text.items[i].lang);
        k = check_sms(c, c->flow->file, path, node->text.items[i].text);
        if (k.ok && k.chars > c->opt.ussd_budget)
            diag_add(c->d, DIAG_WARNING, c->flow->file, path, "USSD screen over %zu characters",
                     c->opt.ussd_budget);
    }
}

/* The menu as the engine sends it by SMS ("text\n1 label1\n2 label2..."); returned owned. */
static char *render_menu(const struct flow_node *node, const char *lang)
{
    const char **labels = calloc(node->noptions + 1, sizeof(*labels));
    char *out = NULL;

    if (labels != NULL) {
        for (size_t i = 0; i < node->noptions; i++)
            labels[i] = flow_text_get(&node->options[i].label, lang, NULL);
        out = flow_render_menu(flow_text_get(&node->text, lang, NULL), labels, node->noptions);
    }
    free(labels);
    return out;
}

/*
 * A menu's cost in one language. The UCS-2 warning names the text or the
 * label that holds the character; the segment count is of the whole
 * rendering. On USSD, a long menu is paginated, but a page must still hold
 * the text, one option and the "more" line, so that is the smallest screen.
 */
static void check_menu_cost(struct checker *c, const struct flow_node *node, const char *lang)
{
    char path[PATH_LEN];
    char *rendered = render_menu(node, lang);
    struct cost all = text_cost(rendered != NULL ? rendered : "");
    struct cost text = text_cost(flow_text_get(&node->text, lang, NULL));
    size_t longest = 0;
    bool ucs2_found = false;

    node_path(path, node, ".text.%s", lang);
    if (text.ok && text.sms.encoding == GSM7_ENC_UCS2) {
        warn_ucs2(c, c->flow->file, path, &text);
        ucs2_found = true;
    }
    for (size_t i = 0; i < node->noptions; i++) {
        struct cost label = text_cost(flow_text_get(&node->options[i].label, lang, NULL));
        char label_path[PATH_LEN];
        size_t line_chars;

        if (!ucs2_found && label.ok && label.sms.encoding == GSM7_ENC_UCS2) {
            warn_ucs2(c, c->flow->file,
                      node_path(label_path, node, ".options[%zu].label.%s", i, lang), &label);
            ucs2_found = true;
        }
        /* "N label": the number, a space, the label. */
        line_chars = (size_t)snprintf(NULL, 0, "%zu ", i + 1) + label.chars;
        if (label.ok && line_chars > longest)
            longest = line_chars;
    }
    if (all.ok && all.sms.segments > c->opt.sms_max_segments)
        diag_add(c->d, DIAG_WARNING, c->flow->file, path, "takes %zu SMS segments (max %zu)",
                 all.sms.segments, c->opt.sms_max_segments);
    if (text.ok && text.chars + 1 + longest + utf8_count(USSD_MORE_PREFIX) + c->more_chars >
                       c->opt.ussd_budget)
        diag_add(c->d, DIAG_WARNING, c->flow->file, path,
                 "USSD screen over %zu characters even when paginated", c->opt.ussd_budget);
    free(rendered);
}

static void check_message(struct checker *c, const struct flow_node *node)
{
    check_ref(c, node, "next", node->next);
    check_said_text(c, node);
}

static void check_menu(struct checker *c, const struct flow_node *node)
{
    char where[64];

    for (size_t i = 0; i < node->noptions; i++) {
        snprintf(where, sizeof(where), "options[%zu].next", i);
        check_ref(c, node, where, node->options[i].next);
    }
    for (size_t i = 0; i < node->text.n; i++)
        check_menu_cost(c, node, node->text.items[i].lang);
}

static void check_input(struct checker *c, const struct flow_node *node)
{
    char path[PATH_LEN];

    check_ref(c, node, "next", node->next);
    check_said_text(c, node);
    /* The hint is said inside the re-ask, so it must not switch that to UCS-2 either. */
    for (size_t i = 0; i < node->hint.n; i++)
        check_sms(c, c->flow->file, node_path(path, node, ".hint.%s", node->hint.items[i].lang),
                  node->hint.items[i].text);
}

/* True if some input node of the set stores name, or the engine fills it. */
static bool variable_known(const struct flow_set *set, const char *name)
{
    if (is_engine_placeholder(name, strlen(name)))
        return true;
    for (size_t i = 0; i < set->nflows; i++) {
        if (flow_stores(&set->flows[i], name, strlen(name)))
            return true;
    }
    return false;
}

static void check_switch(struct checker *c, const struct flow_node *node)
{
    char where[64], path[PATH_LEN], name[SHOWN_LEN];

    for (size_t i = 0; i < node->ncases; i++) {
        snprintf(where, sizeof(where), "cases[%zu].next", i);
        check_ref(c, node, where, node->cases[i].next);
    }
    check_ref(c, node, "default", node->next);
    /* A misspelt variable would silently send everyone to the default. */
    if (node->on != NULL && !variable_known(c->set, node->on))
        diag_add(c->d, DIAG_ERROR, c->flow->file, node_path(path, node, ".on"),
                 "no input node stores '%s'", shown(node->on, name));
}

static void check_language(struct checker *c, const struct flow_node *node)
{
    char path[PATH_LEN];

    check_ref(c, node, "next", node->next);
    if (node->lang[0] != '\0' && c->flow->languages != NULL &&
        !str_listed(c->flow->languages, c->flow->nlanguages, node->lang))
        diag_add(c->d, DIAG_ERROR, c->flow->file, node_path(path, node, ".language"),
                 "'%s' is not one of the flow's languages", node->lang);
}

static void check_jump(struct checker *c, const struct flow_node *node)
{
    char path[PATH_LEN], flow_id[SHOWN_LEN], node_id[SHOWN_LEN];
    const struct flow *target = flow_set_find(c->set, node->target_flow);

    if (node->target_flow == NULL || (target == NULL && c->files.unreadable))
        return;
    if (target == NULL)
        diag_add(c->d, DIAG_ERROR, c->flow->file, node_path(path, node, ".flow"),
                 "unknown flow '%s'", shown(node->target_flow, flow_id));
    else if (node->target_node != NULL && flow_find_node(target, node->target_node) == NULL)
        diag_add(c->d, DIAG_ERROR, c->flow->file, node_path(path, node, ".node"),
                 "unknown node '%s' in flow '%s'", shown(node->target_node, node_id), target->id);
}

/* True if some input node of the set asks for a place or a postal code. */
static bool asks_for_place(const struct flow_set *set)
{
    for (size_t i = 0; i < set->nflows; i++) {
        for (size_t k = 0; k < set->flows[i].nnodes; k++) {
            const struct flow_node *n = &set->flows[i].nodes[k];

            if (n->kind == FLOW_KIND_INPUT &&
                (n->expect == FLOW_EXPECT_PLACE || n->expect == FLOW_EXPECT_POSTAL_CODE))
                return true;
        }
    }
    return false;
}

/* Nearest and callback nodes work from the person's place: warns (why) if nothing asks it. */
static void check_needs_place(struct checker *c, const struct flow_node *node, const char *why)
{
    char path[PATH_LEN];

    check_message(c, node);
    if (!asks_for_place(c->set))
        diag_add(c->d, DIAG_WARNING, c->flow->file, node_path(path, node, "%s", ""),
                 "no input node asks for a place (expect place or postal_code), so %s", why);
}

static void check_nearest(struct checker *c, const struct flow_node *node)
{
    check_needs_place(c, node, "this node can only give national services");
}

static void check_callback(struct checker *c, const struct flow_node *node)
{
    check_needs_place(c, node, "no team can be chosen and every request ends in the no-team reply");
}

typedef void kind_check_fn(struct checker *c, const struct flow_node *node);

/* One row per node kind, like the loader's table in flow_load.c. */
static kind_check_fn *const kind_checks[] = {
    [FLOW_KIND_MESSAGE] = check_message,   [FLOW_KIND_MENU] = check_menu,
    [FLOW_KIND_INPUT] = check_input,       [FLOW_KIND_SWITCH] = check_switch,
    [FLOW_KIND_LANGUAGE] = check_language, [FLOW_KIND_JUMP] = check_jump,
    [FLOW_KIND_END] = check_said_text,     [FLOW_KIND_SMS_COPY] = check_message,
    [FLOW_KIND_NEAREST] = check_nearest,   [FLOW_KIND_CALLBACK] = check_callback,
};
_Static_assert(sizeof(kind_checks) / sizeof(kind_checks[0]) == FLOW_KIND_COUNT,
               "one check per node kind");

static void check_node_texts(struct checker *c, const struct flow_node *node)
{
    char prefix[PATH_LEN];

    check_placeholders(c, c->flow->file, node_path(prefix, node, ".text"), &node->text, c->flow);
    check_placeholders(c, c->flow->file, node_path(prefix, node, ".hint"), &node->hint, c->flow);
    for (size_t i = 0; i < node->noptions; i++)
        check_placeholders(c, c->flow->file, node_path(prefix, node, ".options[%zu].label", i),
                           &node->options[i].label, c->flow);
}

static size_t count_words(const char *folded)
{
    size_t n = folded[0] != '\0';

    for (const char *p = folded; *p != '\0'; p++)
        n += *p == ' ';
    return n;
}

/* The flow of an earlier keyword (in flows before fi, or before k in fi) that folds to folded. */
static const struct flow *keyword_taken(const struct flow_set *set, size_t fi, size_t k,
                                        const char *folded)
{
    for (size_t f = 0; f <= fi; f++) {
        const struct flow *flow = &set->flows[f];

        for (size_t j = 0; j < (f == fi ? k : flow->nkeywords); j++) {
            char *other = flow->keywords[j] != NULL ? utf8_fold(flow->keywords[j]) : NULL;
            bool same = other != NULL && strcmp(other, folded) == 0;

            free(other);
            if (same)
                return flow;
        }
    }
    return NULL;
}

/*
 * Trigger keywords: short, not a menu answer, not a global word (people must
 * always be able to get help or stop), and each leading to one flow only.
 */
static void check_keywords(struct checker *c, size_t fi)
{
    const struct flow *flow = &c->set->flows[fi];

    for (size_t k = 0; k < flow->nkeywords; k++) {
        const char *word = flow->keywords[k];
        char *folded = word != NULL ? utf8_fold(word) : NULL;
        char path[PATH_LEN], quoted[SHOWN_LEN];
        struct keyword_match match;
        const struct flow *other;

        if (folded == NULL)
            continue;
        if (flow->keyword_langs != NULL && flow->keyword_langs[k] != NULL)
            snprintf(path, sizeof(path), "keywords.%s", flow->keyword_langs[k]);
        else
            snprintf(path, sizeof(path), "keywords[%zu]", k);
        shown(word, quoted);
        if (count_words(folded) == 0 || count_words(folded) > 3)
            diag_add(c->d, DIAG_ERROR, flow->file, path, "a keyword is 1 to 3 words");
        else if (strspn(folded, "0123456789 ") == strlen(folded))
            diag_add(c->d, DIAG_ERROR, flow->file, path,
                     "a keyword cannot be only digits: digits answer menus");
        else if (keyword_match_global(word, &match))
            diag_add(c->d, DIAG_ERROR, flow->file, path,
                     "'%s' is a global word (%s) that no flow can take over", quoted,
                     keyword_action_name(match.action));
        else if ((other = keyword_taken(c->set, fi, k, folded)) == flow)
            diag_add(c->d, DIAG_ERROR, flow->file, path, "keyword '%s' is listed twice", quoted);
        else if (other != NULL)
            diag_add(c->d, DIAG_ERROR, flow->file, path,
                     "keyword '%s' is also a keyword of flow '%s' (%s)", quoted, other->id,
                     other->file);
        free(folded);
    }
}

/* Unique flow ids, and global texts in every language a flow speaks. */
static void check_flows(struct checker *c)
{
    const struct flow_set *set = c->set;

    for (size_t i = 0; i < set->nflows; i++) {
        const struct flow *f = &set->flows[i];

        for (size_t j = 0; j < i && f->id[0] != '\0'; j++) {
            if (strcmp(set->flows[j].id, f->id) == 0) {
                diag_add(c->d, DIAG_ERROR, f->file, "flow", "flow '%s' is already defined in %s",
                         f->id, set->flows[j].file);
                break;
            }
        }
        for (size_t l = 0; set->global.nlanguages > 0 && l < f->nlanguages; l++) {
            char path[PATH_LEN];

            if (f->languages[l] == NULL ||
                str_listed(set->global.languages, set->global.nlanguages, f->languages[l]))
                continue;
            snprintf(path, sizeof(path), "languages[%zu]", l);
            diag_add(c->d, DIAG_ERROR, f->file, path,
                     "'%s' is not one of the global languages, so the engine's own texts "
                     "(help, stop, re-ask) have no translation in it",
                     f->languages[l]);
        }
    }
}

static void check_global(struct checker *c)
{
    const struct flow_global *g = &c->set->global;
    char path[PATH_LEN];

    for (size_t t = 0; t < FLOW_TEXT_COUNT; t++) {
        snprintf(path, sizeof(path), "texts.%s", flow_global_text_names[t]);
        check_placeholders_extra(c, g->file, path, &g->texts[t], NULL, node_placeholders(t));
        for (size_t i = 0; i < g->texts[t].n; i++) {
            snprintf(path, sizeof(path), "texts.%s.%s", flow_global_text_names[t],
                     g->texts[t].items[i].lang);
            check_sms(c, g->file, path, g->texts[t].items[i].text);
        }
    }
}

/*
 * Every node of every flow, numbered flow after flow, with its ways out as
 * edges (jumps lead into other flows). Unknown targets are left out: they
 * are reported by the kind checks.
 */
struct graph {
    const struct flow_set *set;
    size_t n;
    size_t *first;      /* first[f]: number of flow f's node 0; first[nflows] == n */
    size_t *flow_of;    /* flow of each node */
    size_t *edge_first; /* edges of node v: to[edge_first[v] .. edge_first[v + 1]) */
    size_t *to;
    size_t nedges;
};

static const struct flow_node *graph_node(const struct graph *g, size_t v)
{
    const struct flow *f = &g->set->flows[g->flow_of[v]];

    return &f->nodes[v - g->first[g->flow_of[v]]];
}

static size_t graph_find(const struct graph *g, size_t flow, const char *node_id)
{
    const struct flow *f = &g->set->flows[flow];
    const struct flow_node *node = flow_find_node(f, node_id != NULL ? node_id : f->start);

    return node != NULL ? g->first[flow] + (size_t)(node - f->nodes) : NO_NODE;
}

/* The node an edge of flow leads to, or NO_NODE. */
static size_t graph_resolve(const struct graph *g, size_t flow, const char *next_flow,
                            const char *next_node)
{
    const struct flow *target = next_flow != NULL ? flow_set_find(g->set, next_flow) : NULL;

    if (next_flow == NULL)
        return next_node != NULL ? graph_find(g, flow, next_node) : NO_NODE;
    return target != NULL ? graph_find(g, (size_t)(target - g->set->flows), next_node) : NO_NODE;
}

struct edge_walk {
    struct graph *g;
    size_t flow;
    bool fill; /* first pass counts, second pass fills */
};

static void add_edge(void *arg, const char *label, const char *next_flow, const char *next_node)
{
    struct edge_walk *w = arg;
    size_t to = graph_resolve(w->g, w->flow, next_flow, next_node);

    (void)label;
    if (to == NO_NODE)
        return;
    if (w->fill)
        w->g->to[w->g->nedges] = to;
    w->g->nedges++;
}

static void graph_release(struct graph *g)
{
    free(g->first);
    free(g->flow_of);
    free(g->edge_first);
    free(g->to);
}

static int graph_build(struct graph *g, const struct flow_set *set)
{
    memset(g, 0, sizeof(*g));
    g->set = set;
    if ((g->first = calloc(set->nflows + 1, sizeof(*g->first))) == NULL)
        return -1;
    for (size_t f = 0; f < set->nflows; f++)
        g->first[f + 1] = g->first[f] + set->flows[f].nnodes;
    g->n = g->first[set->nflows];
    g->flow_of = calloc(g->n + 1, sizeof(*g->flow_of));
    g->edge_first = calloc(g->n + 1, sizeof(*g->edge_first));
    if (g->flow_of == NULL || g->edge_first == NULL)
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        g->nedges = 0;
        for (size_t f = 0; f < set->nflows; f++) {
            struct edge_walk w = {.g = g, .flow = f, .fill = pass == 1};

            for (size_t i = 0; i < set->flows[f].nnodes; i++) {
                g->flow_of[g->first[f] + i] = f;
                g->edge_first[g->first[f] + i] = g->nedges;
                flow_node_edges(&set->flows[f].nodes[i], add_edge, &w);
            }
        }
        g->edge_first[g->n] = g->nedges;
        if (pass == 0 && (g->to = calloc(g->nedges + 1, sizeof(*g->to))) == NULL)
            return -1;
    }
    return 0;
}

/* Which edges a graph search follows. */
typedef bool edge_keep_fn(const struct graph *g, size_t from, size_t to);

static bool keep_all(const struct graph *g, size_t from, size_t to)
{
    (void)g, (void)from, (void)to;
    return true;
}

/* Edges between nodes that do not wait for an answer: a cycle of them never stops. */
static bool keep_spinning(const struct graph *g, size_t from, size_t to)
{
    return !flow_kind_waits(graph_node(g, from)->kind) && !flow_kind_waits(graph_node(g, to)->kind);
}

/* Edges inside one flow; a jump leaves the flow, so it is a way out, not an edge. */
static bool keep_inside(const struct graph *g, size_t from, size_t to)
{
    return g->flow_of[from] == g->flow_of[to] && graph_node(g, from)->kind != FLOW_KIND_JUMP;
}

/*
 * Marks in seen[] every node reachable from the roots already marked, over
 * the edges keep() accepts. queue has room for g->n entries.
 */
static void graph_reach(const struct graph *g, edge_keep_fn *keep, bool *seen, size_t *queue)
{
    size_t head = 0, tail = 0;

    for (size_t v = 0; v < g->n; v++) {
        if (seen[v])
            queue[tail++] = v;
    }
    while (head < tail) {
        size_t v = queue[head++];

        for (size_t e = g->edge_first[v]; e < g->edge_first[v + 1]; e++) {
            if (!seen[g->to[e]] && keep(g, v, g->to[e])) {
                seen[g->to[e]] = true;
                queue[tail++] = g->to[e];
            }
        }
    }
}

/*
 * Strongly connected components over the edges keep() accepts (Tarjan's
 * algorithm, iterative so that a long chain of nodes cannot exhaust the
 * stack). Fills comp[v] and returns the number of components, or NO_NODE
 * on allocation failure.
 */
static size_t graph_components(const struct graph *g, edge_keep_fn *keep, size_t *comp)
{
    size_t *index = malloc((g->n + 1) * sizeof(*index)), *low = malloc((g->n + 1) * sizeof(*low));
    size_t *stack = malloc((g->n + 1) * sizeof(*stack)), *call = malloc((g->n + 1) * sizeof(*call));
    size_t *edge = malloc((g->n + 1) * sizeof(*edge));
    bool *on_stack = calloc(g->n + 1, sizeof(*on_stack));
    size_t counter = 0, ncomp = NO_NODE, sp = 0;

    if (index == NULL || low == NULL || stack == NULL || call == NULL || edge == NULL ||
        on_stack == NULL)
        goto out;
    ncomp = 0;
    for (size_t v = 0; v < g->n; v++)
        index[v] = NO_NODE;
    for (size_t root = 0; root < g->n; root++) {
        size_t depth = 0;

        if (index[root] != NO_NODE)
            continue;
        call[depth] = root;
        edge[depth++] = g->edge_first[root];
        index[root] = low[root] = counter++;
        stack[sp++] = root;
        on_stack[root] = true;
        while (depth > 0) {
            size_t v = call[depth - 1], e = edge[depth - 1];

            if (e < g->edge_first[v + 1]) {
                size_t w = g->to[e];

                edge[depth - 1]++;
                if (!keep(g, v, w))
                    continue;
                if (index[w] == NO_NODE) {
                    index[w] = low[w] = counter++;
                    stack[sp++] = w;
                    on_stack[w] = true;
                    call[depth] = w;
                    edge[depth++] = g->edge_first[w];
                } else if (on_stack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            if (low[v] == index[v]) {
                size_t w;

                do {
                    w = stack[--sp];
                    on_stack[w] = false;
                    comp[w] = ncomp;
                } while (w != v);
                ncomp++;
            }
            if (--depth > 0 && low[v] < low[call[depth - 1]])
                low[call[depth - 1]] = low[v];
        }
    }
out:
    free(index);
    free(low);
    free(stack);
    free(call);
    free(edge);
    free(on_stack);
    return ncomp;
}

/* Work arrays for the graph checks, each with room for every node. */
struct scratch {
    size_t *comp;   /* component of each node */
    size_t *size;   /* nodes in each component */
    size_t *queue;  /* breadth-first searches */
    bool *seen;     /* reached by a search */
    bool *reported; /* per component: already reported */
};

/* Components over keep() edges into s->comp and s->size; false on allocation failure. */
static bool find_components(const struct graph *g, edge_keep_fn *keep, struct scratch *s)
{
    size_t ncomp = graph_components(g, keep, s->comp);

    if (ncomp == NO_NODE)
        return false;
    memset(s->size, 0, (g->n + 1) * sizeof(*s->size));
    memset(s->reported, 0, (g->n + 1) * sizeof(*s->reported));
    for (size_t v = 0; v < g->n; v++)
        s->size[s->comp[v]]++;
    return true;
}

/* True if v's component is a cycle: more than one node, or v leads to itself. */
static bool in_cycle(const struct graph *g, edge_keep_fn *keep, const struct scratch *s, size_t v)
{
    if (s->size[s->comp[v]] > 1)
        return true;
    for (size_t e = g->edge_first[v]; e < g->edge_first[v + 1]; e++) {
        if (g->to[e] == v && keep(g, v, v))
            return true;
    }
    return false;
}

/* "id", or "flow:id" for a node of another flow than home. */
static void append_node_name(const struct graph *g, size_t v, size_t home, char *out, size_t len)
{
    size_t used = strlen(out);
    const struct flow *f = &g->set->flows[g->flow_of[v]];

    if (used + 1 >= len)
        return;
    if (g->flow_of[v] == home)
        snprintf(out + used, len - used, "%s", graph_node(g, v)->id);
    else
        snprintf(out + used, len - used, "%s:%s", f->id, graph_node(g, v)->id);
}

/*
 * Writes one cycle through v inside its component as "a → b → a": a
 * breadth-first search from v for the shortest way back to it.
 */
static void describe_cycle(const struct graph *g, edge_keep_fn *keep, const size_t *comp, size_t v,
                           char *out, size_t len)
{
    size_t *parent = malloc((g->n + 1) * sizeof(*parent)),
           *queue = malloc((g->n + 1) * sizeof(*queue));
    size_t *path = malloc((g->n + 2) * sizeof(*path));
    size_t head = 0, tail = 0, last = NO_NODE, npath = 0;

    out[0] = '\0';
    if (parent == NULL || queue == NULL || path == NULL)
        goto out;
    for (size_t w = 0; w < g->n; w++)
        parent[w] = NO_NODE;
    queue[tail++] = v;
    while (head < tail && last == NO_NODE) {
        size_t u = queue[head++];

        for (size_t e = g->edge_first[u]; e < g->edge_first[u + 1] && last == NO_NODE; e++) {
            size_t w = g->to[e];

            if (comp[w] != comp[v] || !keep(g, u, w))
                continue;
            if (w == v)
                last = u;
            else if (parent[w] == NO_NODE) {
                parent[w] = u;
                queue[tail++] = w;
            }
        }
    }
    /* Walk back from the last node before v, then print forwards. */
    path[npath++] = v;
    for (size_t u = last; u != NO_NODE && u != v; u = parent[u])
        path[npath++] = u;
    path[npath++] = v;
    for (size_t i = npath; i-- > 0;) {
        append_node_name(g, path[i], g->flow_of[v], out, len);
        if (i > 0 && strlen(out) + 8 < len)
            strncat(out, " → ", len - strlen(out) - 1);
    }
out:
    free(parent);
    free(queue);
    free(path);
}

/* Reports a graph finding at node v, unless v's flow is broken (see flow_check.h). */
static void report_node(struct checker *c, const struct graph *g, size_t v, enum diag_severity sev,
                        const char *msg)
{
    char path[PATH_LEN], id[SHOWN_LEN];

    if (c->files.broken != NULL && c->files.broken[g->flow_of[v]])
        return;
    snprintf(path, sizeof(path), "nodes.%s", shown(graph_node(g, v)->id, id));
    diag_add(c->d, sev, c->set->flows[g->flow_of[v]].file, path, "%s", msg);
}

/*
 * Every node must be reachable from its flow's start, or be where a jump
 * lands (a flow may be a library of entry points for others).
 */
static void check_reachable(struct checker *c, const struct graph *g, struct scratch *s)
{
    for (size_t f = 0; f < c->set->nflows; f++) {
        size_t start = graph_find(g, f, NULL);

        /* Without a known start, everything would be unreachable: say nothing more. */
        for (size_t v = g->first[f]; v < g->first[f + 1]; v++)
            s->seen[v] = start == NO_NODE || v == start;
    }
    for (size_t v = 0; v < g->n; v++) {
        const struct flow_node *node = graph_node(g, v);

        if (node->kind == FLOW_KIND_JUMP && g->edge_first[v] < g->edge_first[v + 1])
            s->seen[g->to[g->edge_first[v]]] = true;
    }
    graph_reach(g, keep_all, s->seen, s->queue);
    for (size_t v = 0; v < g->n; v++) {
        if (!s->seen[v])
            report_node(c, g, v, DIAG_ERROR, "unreachable from start");
    }
}

/*
 * (a) A cycle of nodes that never wait for an answer (message, switch,
 * language, jump) would make the engine send messages forever: an error.
 * Found as components of the graph restricted to such nodes.
 */
static bool check_spinning(struct checker *c, const struct graph *g, struct scratch *s)
{
    char cycle[CYCLE_LEN], msg[CYCLE_LEN + 32];

    if (!find_components(g, keep_spinning, s))
        return false;
    for (size_t v = 0; v < g->n; v++) {
        if (s->reported[s->comp[v]] || flow_kind_waits(graph_node(g, v)->kind) ||
            !in_cycle(g, keep_spinning, s, v))
            continue;
        s->reported[s->comp[v]] = true;
        describe_cycle(g, keep_spinning, s->comp, v, cycle, sizeof(cycle));
        snprintf(msg, sizeof(msg), "loop without a question: %s", cycle);
        report_node(c, g, v, DIAG_ERROR, msg);
    }
    return true;
}

/*
 * (b) A cycle inside a flow from which no end node and no jump can be
 * reached: people can still leave with 00, so only a warning, once per
 * cycle. Cycles without a waiting node are already errors under (a).
 */
static bool check_way_out(struct checker *c, const struct graph *g, struct scratch *s)
{
    if (!find_components(g, keep_inside, s))
        return false;
    for (size_t v = 0; v < g->n; v++) {
        size_t comp = s->comp[v];
        bool waits = false, way_out = false;

        if (s->reported[comp] || !in_cycle(g, keep_inside, s, v))
            continue;
        s->reported[comp] = true;
        for (size_t w = 0; w < g->n; w++) {
            s->seen[w] = s->comp[w] == comp;
            waits |= s->seen[w] && flow_kind_waits(graph_node(g, w)->kind);
        }
        graph_reach(g, keep_inside, s->seen, s->queue);
        for (size_t w = 0; w < g->n && !way_out; w++) {
            enum flow_kind kind = graph_node(g, w)->kind;

            way_out = s->seen[w] && (kind == FLOW_KIND_END || kind == FLOW_KIND_JUMP);
        }
        if (waits && !way_out)
            report_node(c, g, v, DIAG_WARNING, "no way out: from here no end node is reachable");
    }
    return true;
}

static void check_graph(struct checker *c)
{
    struct graph g;
    struct scratch s = {0};
    bool ok = graph_build(&g, c->set) == 0;

    ok = ok && (s.comp = calloc(g.n + 1, sizeof(*s.comp))) != NULL &&
         (s.size = calloc(g.n + 1, sizeof(*s.size))) != NULL &&
         (s.queue = calloc(g.n + 1, sizeof(*s.queue))) != NULL &&
         (s.seen = calloc(g.n + 1, sizeof(*s.seen))) != NULL &&
         (s.reported = calloc(g.n + 1, sizeof(*s.reported))) != NULL;
    if (ok) {
        check_reachable(c, &g, &s);
        ok = check_spinning(c, &g, &s) && check_way_out(c, &g, &s);
    }
    if (!ok)
        diag_add(c->d, DIAG_ERROR, "", "", "out of memory");
    free(s.comp);
    free(s.size);
    free(s.queue);
    free(s.seen);
    free(s.reported);
    graph_release(&g);
}

void flow_check_set(const struct flow_set *set, const struct flow_check_options *opt,
                    const struct flow_check_files *files, struct diag *d)
{
    struct checker c = {.set = set, .d = d};
    const struct flow_text *more = &set->global.texts[FLOW_TEXT_MORE];
    char id[SHOWN_LEN];

    if (files != NULL)
        c.files = *files;
    c.opt.ussd_budget =
        opt != NULL && opt->ussd_budget > 0 ? opt->ussd_budget : FLOW_USSD_BUDGET_DEFAULT;
    c.opt.sms_max_segments = opt != NULL && opt->sms_max_segments > 0 ? opt->sms_max_segments
                                                                      : FLOW_SMS_SEGMENTS_DEFAULT;
    for (size_t i = 0; i < more->n; i++) {
        struct cost k = text_cost(more->items[i].text);

        if (k.ok && k.chars > c.more_chars)
            c.more_chars = k.chars;
    }
    check_flows(&c);
    check_global(&c);
    for (size_t f = 0; f < set->nflows; f++) {
        c.flow = &set->flows[f];
        check_keywords(&c, f);
        if (c.flow->start != NULL && c.flow->nnodes > 0 &&
            flow_find_node(c.flow, c.flow->start) == NULL)
            diag_add(d, DIAG_ERROR, c.flow->file, "start", "unknown node '%s'",
                     shown(c.flow->start, id));
        for (size_t i = 0; i < c.flow->nnodes; i++) {
            c.ucs2_intended = c.flow->nodes[i].ucs2;
            kind_checks[c.flow->nodes[i].kind](&c, &c.flow->nodes[i]);
            check_node_texts(&c, &c.flow->nodes[i]);
        }
        c.ucs2_intended = false;
    }
    check_graph(&c);
}
