/*
 * flow.c: the flow model's small shared helpers: names, lookups, text in a
 * language, edges, reference counting and freeing. Loading and validation
 * are in flow_load.c, behaviour in flow_engine.c.
 */
#include "flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const flow_global_text_names[FLOW_TEXT_COUNT] = {
    [FLOW_TEXT_INTRO] = "intro",
    [FLOW_TEXT_REASK] = "reask",
    [FLOW_TEXT_START_OVER] = "start_over",
    [FLOW_TEXT_EXPIRED] = "expired",
    [FLOW_TEXT_STOPPED] = "stopped",
    [FLOW_TEXT_RESUMED] = "resumed",
    [FLOW_TEXT_ERASE_CONFIRM] = "erase_confirm",
    [FLOW_TEXT_ERASED] = "erased",
    [FLOW_TEXT_ERASE_CANCELLED] = "erase_cancelled",
    [FLOW_TEXT_PRIVACY] = "privacy",
    [FLOW_TEXT_CRISIS] = "crisis",
    [FLOW_TEXT_NO_CALLBACK] = "no_callback",
    [FLOW_TEXT_MORE] = "more",
    [FLOW_TEXT_HINT_MENU] = "hint_menu",
    [FLOW_TEXT_HINT_POSTAL_CODE] = "hint_postal_code",
    [FLOW_TEXT_HINT_PLACE] = "hint_place",
    [FLOW_TEXT_HINT_YES_NO] = "hint_yes_no",
    [FLOW_TEXT_HINT_NUMBER] = "hint_number",
    [FLOW_TEXT_HINT_PLACE_LIST] = "hint_place_list",
    [FLOW_TEXT_SERVICE_OPEN_ALWAYS] = "service_open_always",
    [FLOW_TEXT_SERVICE_OPEN_UNTIL] = "service_open_until",
    [FLOW_TEXT_SERVICE_OPENS] = "service_opens",
    [FLOW_TEXT_SERVICE_CLOSED] = "service_closed",
    [FLOW_TEXT_SERVICE_PHONE] = "service_phone",
    [FLOW_TEXT_NEAREST_NONE] = "nearest_none",
    [FLOW_TEXT_NEAREST_NONE_OPEN] = "nearest_none_open",
    [FLOW_TEXT_NEAREST_SOCIAL] = "nearest_social",
    [FLOW_TEXT_NEAREST_CALL_112] = "nearest_call_112",
    [FLOW_TEXT_CALLBACK_WINDOW] = "callback_window",
    [FLOW_TEXT_CALLBACK_OTHER] = "callback_other",
    [FLOW_TEXT_CALLBACK_DONE] = "callback_done",
    [FLOW_TEXT_CALLBACK_DONE_MEET] = "callback_done_meet",
    [FLOW_TEXT_CALLBACK_TEAM_AWAY] = "callback_team_away",
    [FLOW_TEXT_CALLBACK_CANCELLED] = "callback_cancelled",
    [FLOW_TEXT_CALLBACK_NO_TEAM] = "callback_no_team",
    [FLOW_TEXT_CALLBACK_OVERDUE] = "callback_overdue",
};

const char *const flow_placeholders[] = {
    "city", "place", "postal_code", "privacy_url", "hint", "min", "max", "channel", NULL,
};

static const char *const kind_names[FLOW_KIND_COUNT] = {
    [FLOW_KIND_MESSAGE] = "message",   [FLOW_KIND_MENU] = "menu",
    [FLOW_KIND_INPUT] = "input",       [FLOW_KIND_SWITCH] = "switch",
    [FLOW_KIND_LANGUAGE] = "language", [FLOW_KIND_JUMP] = "jump",
    [FLOW_KIND_END] = "end",           [FLOW_KIND_SMS_COPY] = "sms_copy",
    [FLOW_KIND_NEAREST] = "nearest",   [FLOW_KIND_CALLBACK] = "callback",
};

static const char *const expect_names[FLOW_EXPECT_COUNT] = {
    [FLOW_EXPECT_POSTAL_CODE] = "postal_code",
    [FLOW_EXPECT_PLACE] = "place",
    [FLOW_EXPECT_YES_NO] = "yes_no",
    [FLOW_EXPECT_NUMBER] = "number",
    [FLOW_EXPECT_TEXT] = "text",
};

const char *flow_kind_name(enum flow_kind kind)
{
    return kind < FLOW_KIND_COUNT ? kind_names[kind] : "?";
}

const char *flow_expect_name(enum flow_expect expect)
{
    return expect < FLOW_EXPECT_COUNT ? expect_names[expect] : "?";
}

bool flow_kind_waits(enum flow_kind kind)
{
    return kind == FLOW_KIND_MENU || kind == FLOW_KIND_INPUT || kind == FLOW_KIND_CALLBACK;
}

const struct flow *flow_set_find(const struct flow_set *set, const char *flow_id)
{
    for (size_t i = 0; set != NULL && flow_id != NULL && i < set->nflows; i++) {
        if (strcmp(set->flows[i].id, flow_id) == 0)
            return &set->flows[i];
    }
    return NULL;
}

const struct flow *flow_set_main(const struct flow_set *set)
{
    for (size_t i = 0; set != NULL && i < set->nflows; i++) {
        if (set->flows[i].main)
            return &set->flows[i];
    }
    return NULL;
}

const struct flow_node *flow_find_node(const struct flow *flow, const char *node_id)
{
    for (size_t i = 0; flow != NULL && node_id != NULL && i < flow->nnodes; i++) {
        if (strcmp(flow->nodes[i].id, node_id) == 0)
            return &flow->nodes[i];
    }
    return NULL;
}

const char *flow_text_get(const struct flow_text *t, const char *lang, const char *fallback_lang)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *want = pass == 0 ? lang : fallback_lang;

        for (size_t i = 0; want != NULL && i < t->n; i++) {
            if (strcmp(t->items[i].lang, want) == 0)
                return t->items[i].text;
        }
    }
    return t->n > 0 ? t->items[0].text : "";
}

void flow_node_edges(const struct flow_node *node, flow_edge_cb *edge, void *arg)
{
    char label[48];

    switch (node->kind) {
    case FLOW_KIND_MENU:
        for (size_t i = 0; i < node->noptions; i++) {
            snprintf(label, sizeof(label), "%zu", i + 1);
            edge(arg, label, NULL, node->options[i].next);
        }
        break;
    case FLOW_KIND_SWITCH:
        for (size_t i = 0; i < node->ncases; i++) {
            if (node->cases[i].equals != NULL)
                edge(arg, node->cases[i].equals, NULL, node->cases[i].next);
            else {
                snprintf(label, sizeof(label), "%ld..%ld", node->cases[i].min, node->cases[i].max);
                edge(arg, label, NULL, node->cases[i].next);
            }
        }
        if (node->next != NULL)
            edge(arg, "default", NULL, node->next);
        break;
    case FLOW_KIND_JUMP: edge(arg, "", node->target_flow, node->target_node); break;
    case FLOW_KIND_END: break;
    default:
        if (node->next != NULL)
            edge(arg, "", NULL, node->next);
        break;
    }
}

static void text_release(struct flow_text *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].text);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void node_release(struct flow_node *n)
{
    free(n->id);
    text_release(&n->text);
    free(n->next);
    for (size_t i = 0; i < n->noptions; i++) {
        text_release(&n->options[i].label);
        free(n->options[i].next);
    }
    free(n->options);
    free(n->store);
    text_release(&n->hint);
    free(n->on);
    for (size_t i = 0; i < n->ncases; i++) {
        free(n->cases[i].equals);
        free(n->cases[i].next);
    }
    free(n->cases);
    free(n->target_flow);
    free(n->target_node);
    for (size_t i = 0; i < n->ncategories; i++)
        free(n->categories[i]);
    free(n->categories);
    free(n->topic);
}

void flow_release(struct flow *flow)
{
    free(flow->id);
    free(flow->file);
    strv_free(flow->languages, flow->nlanguages);
    free(flow->start);
    strv_free(flow->keywords, flow->nkeywords);
    strv_free(flow->keyword_langs, flow->nkeywords);
    for (size_t i = 0; i < flow->nnodes; i++)
        node_release(&flow->nodes[i]);
    free(flow->nodes);
    memset(flow, 0, sizeof(*flow));
}

void flow_global_release(struct flow_global *g)
{
    free(g->file);
    strv_free(g->languages, g->nlanguages);
    for (size_t i = 0; i < FLOW_TEXT_COUNT; i++)
        text_release(&g->texts[i]);
    strv_free(g->crisis_words, g->ncrisis_words);
    strv_free(g->cities, g->ncities);
    memset(g, 0, sizeof(*g));
}

void flow_set_ref(struct flow_set *set)
{
    set->refs++;
}

void flow_set_unref(struct flow_set *set)
{
    if (set == NULL || --set->refs > 0)
        return;
    for (size_t i = 0; i < set->nflows; i++)
        flow_release(&set->flows[i]);
    free(set->flows);
    flow_global_release(&set->global);
    free(set);
}
