/*
 * flow_engine.c: the conversation step (see flow_engine.h).
 *
 * A step is: decide what the message means (crisis, global word, answer),
 * then "walk" from the next node, collecting the texts of nodes that do not
 * wait (message, switch, language, jump) until a node that asks (menu,
 * input) or ends. Per-kind behaviour is a table indexed by enum flow_kind.
 */
#include "flow_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "flow_nearest.h"
#include "gateway.h"
#include "flow_render.h"
#include "keyword.h"
#include "utf8.h"

#define WALK_MAX_STEPS 64 /* the validator rejects loops without a question; this is a backstop */
#define REPLY_MAX (16 * 1024) /* bytes in one reply before rendering */

/* Where a step is: the state shared by the helpers below. */
struct step {
    const struct flow_env *env;
    struct flow_session *s;
    struct flow_reply *out;
    struct buf text;                /* texts collected during the walk */
    const struct flow_node *asking; /* the node the walk stopped at, if it waits */
    const struct flow *asking_flow;
    struct flow_position ended; /* the end node a walk stopped at */
    bool quiet;                 /* rebuilding a USSD screen: no effects */
    bool failed;
};

enum walk_result { WALK_WAIT, WALK_END, WALK_ERROR };

#define PLACE_LIST_AFTER 2 /* unknown places before the city list is offered */

static const char *const effect_names[FLOW_EFFECT_COUNT] = {
    [FLOW_EFFECT_SESSION_START] = "session_start",
    [FLOW_EFFECT_NODE] = "node",
    [FLOW_EFFECT_INVALID] = "invalid",
    [FLOW_EFFECT_LANGUAGE] = "language",
    [FLOW_EFFECT_OPT_OUT] = "opt_out",
    [FLOW_EFFECT_OPT_IN] = "opt_in",
    [FLOW_EFFECT_ERASE] = "erase",
    [FLOW_EFFECT_CRISIS] = "crisis",
    [FLOW_EFFECT_PRIVACY] = "privacy",
    [FLOW_EFFECT_CALLBACK_WANTED] = "callback_wanted",
    [FLOW_EFFECT_SESSION_END] = "session_end",
    [FLOW_EFFECT_SMS_COPY] = "sms_copy",
    [FLOW_EFFECT_REFERRAL] = "referral",
    [FLOW_EFFECT_CALLBACK_FILED] = "callback_filed",
};

const char *flow_effect_name(enum flow_effect_kind kind)
{
    return kind < FLOW_EFFECT_COUNT ? effect_names[kind] : "?";
}

void flow_session_init(struct flow_session *s)
{
    memset(s, 0, sizeof(*s));
    s->screen_prefix = -1;
}

const char *flow_session_var(const struct flow_session *s, const char *name)
{
    for (size_t i = 0; i < s->nvars; i++) {
        if (strcmp(s->vars[i].name, name) == 0)
            return s->vars[i].value;
    }
    return NULL;
}

int flow_session_set_var(struct flow_session *s, const char *name, const char *value)
{
    size_t i;

    for (i = 0; i < s->nvars && strcmp(s->vars[i].name, name) != 0; i++)
        ;
    if (i == s->nvars) {
        if (s->nvars == FLOW_SESSION_VARS)
            return -1;
        s->nvars++;
        snprintf(s->vars[i].name, sizeof(s->vars[i].name), "%s", name);
    }
    snprintf(s->vars[i].value, sizeof(s->vars[i].value), "%s", value);
    return 0;
}

/* Words for yes and no in the helpline's languages, folded (utf8_fold). */
static const char *const yes_words[] = {
    "1", "k",    "kylla", "joo", "juu", "jep", "ja",  "j",   "jo",  "yes",
    "y", "yeah", "ok",    "da",  "да",  "так", "jah", "haa", "نعم", NULL,
};
static const char *const no_words[] = {
    "2", "e", "ei", "en", "nej", "n", "no", "nope", "нет", "ні", "maya", "لا", NULL,
};

int flow_parse_yes_no(const char *text)
{
    char *f = utf8_fold(text != NULL ? text : "");
    int answer = -1;

    if (f == NULL)
        return -1;
    for (size_t n = strlen(f); n > 0 && strchr("!.", f[n - 1]) != NULL; n--)
        f[n - 1] = '\0';
    for (size_t i = 0; answer < 0 && yes_words[i] != NULL; i++)
        answer = strcmp(f, yes_words[i]) == 0 ? 1 : -1;
    for (size_t i = 0; answer < 0 && no_words[i] != NULL; i++)
        answer = strcmp(f, no_words[i]) == 0 ? 0 : -1;
    free(f);
    return answer;
}

static void effect(struct step *st, enum flow_effect_kind kind, const char *flow, const char *node,
                   const char *arg)
{
    struct flow_effect *e;

    if (st->quiet || st->out->neffects == FLOW_MAX_EFFECTS)
        return;
    e = &st->out->effects[st->out->neffects++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    snprintf(e->at.flow, sizeof(e->at.flow), "%s", flow != NULL ? flow : "");
    snprintf(e->at.node, sizeof(e->at.node), "%s", node != NULL ? node : "");
    snprintf(e->arg, sizeof(e->arg), "%s", arg != NULL ? arg : "");
}

static const char *default_lang(const struct step *st)
{
    const struct flow_global *g = &st->env->flows->global;

    return g->nlanguages > 0 ? g->languages[0] : "fi";
}

static const char *lang(const struct step *st)
{
    return st->s->lang[0] != '\0' ? st->s->lang : default_lang(st);
}

/* Looks up {name}: engine values first, then session variables. */
static const char *placeholder(const struct step *st, const char *name, const char *hint,
                               const struct flow_node *node)
{
    static char number[24]; /* engine is single-threaded; used before the next call */
    const char *v;

    if (strcmp(name, "channel") == 0)
        return st->env->channel == FLOW_CHANNEL_USSD ? "ussd" : "sms";
    if (strcmp(name, "privacy_url") == 0)
        return st->env->privacy_url != NULL ? st->env->privacy_url : "";
    if (strcmp(name, "hint") == 0)
        return hint != NULL ? hint : "";
    if ((strcmp(name, "min") == 0 || strcmp(name, "max") == 0) && node != NULL) {
        long n = node->kind == FLOW_KIND_MENU ? (name[1] == 'i' ? 1 : (long)node->noptions)
                                              : (name[1] == 'i' ? node->min : node->max);
        snprintf(number, sizeof(number), "%ld", n);
        return number;
    }
    if (strcmp(name, "cities") == 0) {
        static char list[512];
        const struct flow_global *g = &st->env->flows->global;
        size_t used = 0;

        list[0] = '\0';
        for (size_t i = 0; i < g->ncities && used < sizeof(list); i++) {
            int w = snprintf(list + used, sizeof(list) - used, "%s%zu %s", i ? "\n" : "", i + 1,
                             g->cities[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        return list;
    }
    v = flow_session_var(st->s, name);
    return v != NULL ? v : "";
}

/* Appends text with {placeholders} filled, on a new line after what is there.
 */
static void say(struct step *st, const char *text, const char *hint, const struct flow_node *node)
{
    const char *p = text;

    if (text == NULL || text[0] == '\0')
        return;
    if (st->text.len > 0 && buf_puts(&st->text, "\n") != 0)
        st->failed = true;
    while (*p != '\0') {
        const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL;
        char name[FLOW_VAR_NAME_MAX + 1];

        if (open == NULL || close == NULL || (size_t)(close - open - 1) >= sizeof(name)) {
            if (buf_puts(&st->text, p) != 0)
                st->failed = true;
            return;
        }
        memcpy(name, open + 1, (size_t)(close - open - 1));
        name[close - open - 1] = '\0';
        if (buf_append(&st->text, p, (size_t)(open - p)) != 0 ||
            buf_puts(&st->text, placeholder(st, name, hint, node)) != 0)
            st->failed = true;
        p = close + 1;
    }
}

static void say_global(struct step *st, enum flow_global_text which, const char *hint,
                       const struct flow_node *node)
{
    say(st, flow_text_get(&st->env->flows->global.texts[which], lang(st), default_lang(st)), hint,
        node);
}

static const char *node_text(const struct step *st, const struct flow *f, const struct flow_text *t)
{
    return flow_text_get(t, lang(st), f->nlanguages > 0 ? f->languages[0] : NULL);
}

static void set_position(struct flow_session *s, const char *flow, const char *node)
{
    snprintf(s->at.flow, sizeof(s->at.flow), "%s", flow);
    snprintf(s->at.node, sizeof(s->at.node), "%s", node);
    s->failures = 0;
    s->page = 0;
}

/* Forgets the conversation but keeps the language (a person who chose svenska
 * stays in it). */
static void end_conversation(struct flow_session *s)
{
    char keep[FLOW_LANG_MAX];

    snprintf(keep, sizeof(keep), "%s", s->lang);
    long long last = s->last_active;
    flow_session_init(s);
    snprintf(s->lang, sizeof(s->lang), "%s", keep);
    s->last_active = last;
}

static bool switch_case_matches(const struct flow_case *c, const char *value)
{
    if (value == NULL)
        return false;
    if (c->equals != NULL) {
        char *a = utf8_fold(c->equals), *b = utf8_fold(value);
        bool same = a != NULL && b != NULL && strcmp(a, b) == 0;

        free(a);
        free(b);
        return same;
    }
    char *end;
    long n = strtol(value, &end, 10);
    return end != value && *end == '\0' && n >= c->min && n <= c->max;
}

/*
 * Renders text for an SMS copy (placeholders filled) into out->sms_copy,
 * appending; a NULL text copies what this step has said so far.
 */
static int copy_to_sms(struct step *st, const char *text, const struct flow_node *n)
{
    struct buf saved = st->text;
    char *copy;

    buf_init(&st->text, REPLY_MAX);
    if (st->out->sms_copy != NULL)
        buf_puts(&st->text, st->out->sms_copy);
    say(st, text != NULL ? text : buf_str(&saved), NULL, n);
    copy = buf_detach(&st->text);
    st->text = saved;
    if (copy == NULL)
        return -1;
    free(st->out->sms_copy);
    st->out->sms_copy = copy;
    effect(st, FLOW_EFFECT_SMS_COPY, NULL, n->id, NULL);
    return 0;
}

/* Says the social emergency line of the session's city (or the 112 line). */
static void say_social(struct step *st)
{
    const char *texts[FLOW_TEXT_COUNT];
    struct buf line;

    for (int i = 0; i < FLOW_TEXT_COUNT; i++)
        texts[i] = flow_text_get(&st->env->flows->global.texts[i], lang(st), default_lang(st));
    buf_init(&line, REPLY_MAX);
    if (flow_nearest_social(&line, st->env->services, flow_session_var(st->s, "city"), lang(st),
                            st->env->now, st->env->services_max_age_days, texts) != 0 ||
        (st->text.len > 0 && buf_puts(&st->text, "\n") != 0) ||
        buf_puts(&st->text, buf_str(&line)) != 0)
        st->failed = true;
    buf_release(&line);
}

/* Says a global text with node-specific placeholders (pairs: name, value, ..., NULL). */
static void say_filled(struct step *st, enum flow_global_text which, const char *const *pairs)
{
    const char *t = flow_text_get(&st->env->flows->global.texts[which], lang(st), default_lang(st));

    if ((st->text.len > 0 && buf_puts(&st->text, "\n") != 0) ||
        buf_put_template(&st->text, t, pairs) != 0)
        st->failed = true;
}

/* True if the callback node's sub-step (session variable "_cb") is step. */
static bool callback_step_is(const struct step *st, const char *step)
{
    const struct flow_node *n =
        flow_find_node(flow_set_find(st->env->flows, st->s->at.flow), st->s->at.node);
    const char *v = flow_session_var(st->s, "_cb");

    /* Only while the conversation waits at a callback node: elsewhere the variable is stale. */
    return n != NULL && n->kind == FLOW_KIND_CALLBACK && v != NULL && strcmp(v, step) == 0;
}

/* The team that takes callbacks for the session's city, or NULL. */
static const struct team *callback_team(const struct step *st)
{
    if (st->env->teams == NULL || st->env->new_callback_ref == NULL)
        return NULL;
    return team_for_city(st->env->teams, flow_session_var(st->s, "city"));
}

/* "now", "today" or "tomorrow" from the session variable "window" (words or 1-3). */
static const char *callback_window(const struct step *st)
{
    const char *w = flow_session_var(st->s, "window");

    if (w != NULL && (strcmp(w, "2") == 0 || strcmp(w, "today") == 0))
        return "today";
    if (w != NULL && (strcmp(w, "3") == 0 || strcmp(w, "tomorrow") == 0))
        return "tomorrow";
    return "now";
}

/* "14:30" today, else "25.11. 14:30", in local time. */
static void format_due(long long due, long long now, char out[24])
{
    time_t d = (time_t)due, n = (time_t)now;
    struct tm dt, nt;

    localtime_r(&d, &dt);
    localtime_r(&n, &nt);
    if (dt.tm_year == nt.tm_year && dt.tm_yday == nt.tm_yday)
        strftime(out, 24, "%H:%M", &dt);
    else
        snprintf(out, 24, "%d.%d. %02d:%02d", dt.tm_mday, dt.tm_mon + 1, dt.tm_hour, dt.tm_min);
}

/*
 * Files the request the person consented to: to the sender's number
 * (sender_safe), another number, or a place and time to meet. Says the
 * reference, who calls from which number and by when; when the team is not
 * at work, also the social emergency line.
 */
static int file_callback(struct step *st, const struct flow_node *n, bool sender_safe,
                         const char *number, const char *meet)
{
    struct flow_callback *cb = &st->out->callback;
    const struct team *t = callback_team(st);
    const char *topic = n->topic ? n->topic : flow_session_var(st->s, "topic");
    const char *call_lang = flow_session_var(st->s, "call_lang");
    struct team_window w;
    char due[24];

    if (t == NULL || st->quiet)
        return t == NULL ? -1 : 0;
    memset(cb, 0, sizeof(*cb));
    if (st->env->new_callback_ref(st->env->callback_arg, cb->ref, sizeof(cb->ref)) != 0)
        return -1;
    cb->filed = true;
    snprintf(cb->team, sizeof(cb->team), "%s", t->id);
    snprintf(cb->city, sizeof(cb->city), "%s", t->city);
    snprintf(cb->lang, sizeof(cb->lang), "%s", call_lang ? call_lang : lang(st));
    snprintf(cb->window, sizeof(cb->window), "%s", callback_window(st));
    snprintf(cb->topic, sizeof(cb->topic), "%s", topic ? topic : "");
    cb->sender_safe = sender_safe;
    snprintf(cb->number, sizeof(cb->number), "%s", number ? number : "");
    snprintf(cb->meet, sizeof(cb->meet), "%s", meet ? meet : "");
    team_window(t, cb->window, st->env->now, st->env->callback_now_minutes, &w);
    cb->due_at = w.due_at;
    effect(st, FLOW_EFFECT_CALLBACK_FILED, st->s->at.flow, st->s->at.node, t->id);
    format_due(w.due_at, st->env->now, due);
    const char *const pairs[] = {"ref", cb->ref, "team",  t->name,       "from", t->calls_from,
                                 "due", due,     "hours", t->hours_text, NULL};
    say_filled(st, meet ? FLOW_TEXT_CALLBACK_DONE_MEET : FLOW_TEXT_CALLBACK_DONE, pairs);
    if (!w.at_work) {
        say_filled(st, FLOW_TEXT_CALLBACK_TEAM_AWAY, pairs);
        say_social(st);
    }
    return 0;
}

/* True if text looks like a phone number: digits with spaces, dashes, brackets, a leading +. */
static bool looks_like_number(const char *text)
{
    size_t digits = 0;

    for (const char *p = text; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p != ' ' && *p != '-' && *p != '+' && *p != '(' && *p != ')')
            return false;
    }
    return digits >= 6;
}

/*
 * A number as a person types it, into E.164: "+358 50 123 4567", "00358...",
 * or a Finnish national number with its 0 ("050 123 4567"). Bare digits
 * without 0 or + ("501234567") are refused rather than guessed: a wrong
 * guess would send a worker to call a stranger.
 */
static bool callback_number(const char *text, char out[FLOW_CALLBACK_NUMBER_MAX])
{
    char e164[GATEWAY_NUMBER_MAX];
    const char *first = text + strspn(text, " (");

    if (*first != '+' && *first != '0')
        return false;
    if (gateway_normalise_number(text, e164) != 0 || strlen(e164) >= FLOW_CALLBACK_NUMBER_MAX)
        return false;
    memcpy(out, e164, strlen(e164) + 1);
    return true;
}

/*
 * An answer at a callback node. First the consent question: yes files to
 * this number; no asks for another number or a place and time to meet
 * (phones are shared, borrowed or watched). That second answer files it, or
 * "0" cancels: without consent nothing is stored. Sets *next when done;
 * returns 1 when the other question was asked (stay), 0 otherwise, -1 on
 * failure. An invalid answer leaves *next NULL.
 */
static int callback_answer(struct step *st, const struct flow *f, const struct flow_node *n,
                           const char *text, const char **next)
{
    const char *step = flow_session_var(st->s, "_cb");
    char number[FLOW_CALLBACK_NUMBER_MAX];
    int yn;

    while (*text == ' ')
        text++;
    if (step != NULL && strcmp(step, "window") == 0) {
        if (strcmp(text, "1") != 0 && strcmp(text, "2") != 0 && strcmp(text, "3") != 0)
            return 0;
        flow_session_set_var(st->s, "window", text);
        flow_session_set_var(st->s, "_cb", "");
        say(st, node_text(st, f, &n->text), NULL, n);
        st->s->failures = 0;
        st->asking = n;
        st->asking_flow = f;
        return 1;
    }
    if (step == NULL || strcmp(step, "other") != 0) {
        if ((yn = flow_parse_yes_no(text)) < 0)
            return 0;
        if (yn == 0) {
            flow_session_set_var(st->s, "_cb", "other");
            say_global(st, FLOW_TEXT_CALLBACK_OTHER, NULL, n);
            st->s->failures = 0;
            st->asking = n;
            st->asking_flow = f;
            return 1;
        }
        flow_session_set_var(st->s, "_cb", "");
        *next = n->next;
        return file_callback(st, n, true, NULL, NULL);
    }
    if (strcmp(text, "0") == 0) {
        flow_session_set_var(st->s, "_cb", "");
        say_global(st, FLOW_TEXT_CALLBACK_CANCELLED, NULL, n);
        *next = n->next;
        return 0;
    }
    if (utf8_count(text) < 3 || strlen(text) >= FLOW_CALLBACK_MEET_MAX)
        return 0;
    if (looks_like_number(text) && !callback_number(text, number))
        return 0; /* asked again: the number must start with 0 or + */
    flow_session_set_var(st->s, "_cb", "");
    *next = n->next;
    if (looks_like_number(text))
        return file_callback(st, n, false, number, NULL);
    return file_callback(st, n, false, NULL, text);
}

/* Says the nearest services for the session's place and records each as a referral. */
static int say_nearest(struct step *st, const struct flow *f, const struct flow_node *n)
{
    struct flow_nearest_request rq = {
        .dir = st->env->services,
        .places = st->env->places,
        .node = n,
        .lang = lang(st),
        .place = flow_session_var(st->s, "place"),
        .city = flow_session_var(st->s, "city"),
        .now = st->env->now,
        .max_age_days = st->env->services_max_age_days,
        .ussd = st->env->channel == FLOW_CHANNEL_USSD,
        .heading = node_text(st, f, &n->text),
    };
    struct flow_nearest_result res;
    size_t segments = n->max_segments > 0 ? (size_t)n->max_segments : st->env->sms_max_segments;

    rq.budget = rq.ussd ? st->env->ussd_budget : (segments > 0 ? segments : 2);
    for (int i = 0; i < FLOW_TEXT_COUNT; i++)
        rq.texts[i] = flow_text_get(&st->env->flows->global.texts[i], lang(st), default_lang(st));
    if (flow_nearest_compose(&rq, &res) != 0)
        return -1;
    /* Service text is data, not a template: appended as it is, never scanned for {...}. */
    if ((st->text.len > 0 && buf_puts(&st->text, "\n") != 0) || buf_puts(&st->text, res.text) != 0)
        st->failed = true;
    for (size_t i = 0; i < res.nshown; i++)
        effect(st, FLOW_EFFECT_REFERRAL, f->id, n->id, res.shown[i]->id);
    free(res.text);
    return 0;
}

/* The walk stops at question n of f: the session waits there for the answer. */
static enum walk_result wait_at(struct step *st, const struct flow *f, const struct flow_node *n)
{
    if (!st->quiet)
        set_position(st->s, f->id, n->id);
    effect(st, FLOW_EFFECT_NODE, f->id, n->id, NULL);
    st->asking = n;
    st->asking_flow = f;
    return WALK_WAIT;
}

/*
 * Walks from flow/node until a question or an end, saying the texts of the
 * nodes on the way. On WALK_WAIT, s->at is the question.
 */
static enum walk_result walk(struct step *st, const char *flow_id, const char *node_id)
{
    const struct flow *f = flow_set_find(st->env->flows, flow_id);
    const struct flow_node *n = NULL;

    for (int steps = 0; steps < WALK_MAX_STEPS; steps++) {
        if (f == NULL || (n = flow_find_node(f, node_id)) == NULL)
            return WALK_ERROR;
        switch (n->kind) {
        case FLOW_KIND_MESSAGE:
            say(st, node_text(st, f, &n->text), NULL, n);
            node_id = n->next;
            continue;
        case FLOW_KIND_SMS_COPY:
            if (st->env->channel == FLOW_CHANNEL_SMS) {
                say(st, node_text(st, f, &n->text), NULL, n); /* already on SMS: just say it */
            } else if (!st->quiet &&
                       copy_to_sms(st, n->text.n > 0 ? node_text(st, f, &n->text) : NULL, n) != 0) {
                return WALK_ERROR;
            }
            node_id = n->next;
            continue;
        case FLOW_KIND_NEAREST:
            if (say_nearest(st, f, n) != 0)
                return WALK_ERROR;
            node_id = n->next;
            continue;
        case FLOW_KIND_SWITCH: {
            const char *value = strcmp(n->on, "channel") == 0 ? placeholder(st, "channel", NULL, n)
                                                              : flow_session_var(st->s, n->on);

            node_id = n->next;
            for (size_t i = 0; i < n->ncases; i++) {
                if (switch_case_matches(&n->cases[i], value)) {
                    node_id = n->cases[i].next;
                    break;
                }
            }
            continue;
        }
        case FLOW_KIND_LANGUAGE:
            snprintf(st->s->lang, sizeof(st->s->lang), "%s", n->lang);
            effect(st, FLOW_EFFECT_LANGUAGE, f->id, n->id, n->lang);
            node_id = n->next;
            continue;
        case FLOW_KIND_JUMP:
            f = flow_set_find(st->env->flows, n->target_flow);
            node_id = n->target_node != NULL ? n->target_node : (f != NULL ? f->start : NULL);
            continue;
        case FLOW_KIND_END:
            say(st, node_text(st, f, &n->text), NULL, n);
            snprintf(st->ended.flow, sizeof(st->ended.flow), "%s", f->id);
            snprintf(st->ended.node, sizeof(st->ended.node), "%s", n->id);
            effect(st, FLOW_EFFECT_NODE, f->id, n->id, NULL);
            /* The conversation forgets its answers now: the city goes with the end event
             * for the anonymous log. */
            effect(st, FLOW_EFFECT_SESSION_END, f->id, n->id, flow_session_var(st->s, "city"));
            return WALK_END;
        case FLOW_KIND_CALLBACK:
            if (callback_team(st) == NULL) {
                /* No team for this city: say so, give the number that helps, go on. */
                say_global(st, FLOW_TEXT_CALLBACK_NO_TEAM, NULL, n);
                say_social(st);
                node_id = n->next;
                continue;
            }
            if (n->ask_window) {
                /* First: when to call. The consent question comes with the answer. */
                if (!st->quiet)
                    flow_session_set_var(st->s, "_cb", "window");
                say_global(st, FLOW_TEXT_CALLBACK_WINDOW, NULL, n);
                return wait_at(st, f, n);
            }
            /* It asks its consent question and waits, like an input. */
            if (!st->quiet)
                flow_session_set_var(st->s, "_cb", "");
            /* fall through */
        case FLOW_KIND_MENU:
        case FLOW_KIND_INPUT:
            say(st, node_text(st, f, &n->text), NULL, n);
            return wait_at(st, f, n);
        case FLOW_KIND_COUNT: break;
        }
        return WALK_ERROR;
    }
    return WALK_ERROR;
}

/* Renders the collected text (and the menu options) for the channel into
 * out->text. */
static int finish(struct step *st, bool end)
{
    const struct flow_node *n = st->asking;
    const char *labels[16];
    size_t nlabels = 0;

    st->out->end = end;
    if (!end && n != NULL && n->kind == FLOW_KIND_MENU) {
        for (size_t i = 0; i < n->noptions && i < 16; i++)
            labels[nlabels++] = node_text(st, st->asking_flow, &n->options[i].label);
    }
    if (st->env->channel == FLOW_CHANNEL_USSD) {
        size_t npages;
        const char *more = flow_text_get(&st->env->flows->global.texts[FLOW_TEXT_MORE], lang(st),
                                         default_lang(st));

        st->out->text = flow_render_ussd(buf_str(&st->text), labels, nlabels, more,
                                         st->env->ussd_budget, (size_t)st->s->page, &npages);
        if (st->out->text == NULL && st->s->page > 0) {
            st->s->page = 0;
            st->out->text = flow_render_ussd(buf_str(&st->text), labels, nlabels, more,
                                             st->env->ussd_budget, 0, &npages);
        }
    } else if (nlabels > 0) {
        st->out->text = flow_render_menu(buf_str(&st->text), labels, nlabels);
    } else {
        st->out->text = strdup(buf_str(&st->text));
    }
    return st->out->text != NULL && !st->failed ? 0 : -1;
}

/*
 * Renders the last reply of a conversation. On USSD a last screen that does
 * not fit is shown page by page: CON with "98" while pages remain (the
 * session waits at the end node), END with the last page.
 */
static int finish_end(struct step *st)
{
    int page = st->s->page, rc;

    if (st->env->channel == FLOW_CHANNEL_USSD) {
        const char *more = flow_text_get(&st->env->flows->global.texts[FLOW_TEXT_MORE], lang(st),
                                         default_lang(st));
        size_t npages = 0;
        char *probe =
            flow_render_ussd(buf_str(&st->text), NULL, 0, more, st->env->ussd_budget, 0, &npages);

        free(probe);
        if ((size_t)page + 1 < npages) {
            rc = finish(st, false);
            st->s->at = st->ended;
            st->s->failures = 0;
            return rc;
        }
    }
    end_conversation(st->s);
    st->s->page = page; /* the page to render; an ended session starts at 0 again */
    rc = finish(st, true);
    st->s->page = 0;
    return rc;
}

/* Remembers where this screen's text starts, so that "98" can rebuild it
 * (USSD). */
static void mark_screen(struct step *st, int prefix, const char *flow, const char *node)
{
    st->s->screen_prefix = prefix;
    snprintf(st->s->screen_from.flow, sizeof(st->s->screen_from.flow), "%s", flow);
    snprintf(st->s->screen_from.node, sizeof(st->s->screen_from.node), "%s", node);
}

/*
 * Goes to flow/node (NULL node: the flow's start) after saying the global
 * text prefix (-1: none), and renders. Falls back to the main menu if the
 * target is missing (a reload removed it).
 */
static int go(struct step *st, int prefix, const char *flow_id, const char *node_id)
{
    const struct flow *f = flow_set_find(st->env->flows, flow_id);
    enum walk_result r;

    if (f == NULL || (node_id != NULL && flow_find_node(f, node_id) == NULL)) {
        f = flow_set_main(st->env->flows);
        node_id = NULL;
        prefix = FLOW_TEXT_START_OVER;
    }
    if (f == NULL)
        return -1;
    if (node_id == NULL)
        node_id = f->start;
    if (prefix >= 0)
        say_global(st, (enum flow_global_text)prefix, NULL, NULL);
    mark_screen(st, prefix, f->id, node_id);
    r = walk(st, f->id, node_id);
    if (r == WALK_ERROR)
        return -1;
    return r == WALK_END ? finish_end(st) : finish(st, false);
}

static int start_conversation(struct step *st, int prefix, const char *flow_id)
{
    const struct flow *f =
        flow_id != NULL ? flow_set_find(st->env->flows, flow_id) : flow_set_main(st->env->flows);

    if (f == NULL)
        return -1;
    st->s->nhistory = 0;
    st->s->erase_pending = false;
    effect(st, FLOW_EFFECT_SESSION_START, f->id, f->start, NULL);
    return go(st, prefix, f->id, NULL);
}

/* Says one global text and keeps the conversation where it is. */
static int say_only(struct step *st, enum flow_global_text which, bool end)
{
    say_global(st, which, NULL, NULL);
    st->asking = NULL;
    return finish(st, end);
}

/* Shows the current question again (after a language switch or a cancelled
 * erase). */
static int reshow(struct step *st, int prefix)
{
    if (st->s->at.flow[0] == '\0')
        return start_conversation(st, prefix >= 0 ? prefix : FLOW_TEXT_INTRO, NULL);
    st->s->page = 0;
    return go(st, prefix, st->s->at.flow, st->s->at.node);
}

static bool lang_known(const struct step *st, const char *code)
{
    const struct flow_global *g = &st->env->flows->global;

    for (size_t i = 0; i < g->nlanguages; i++) {
        if (strcmp(g->languages[i], code) == 0)
            return true;
    }
    return false;
}

static int answer(struct step *st, const char *text);
static bool is_blank(const char *s);

static int global_word(struct step *st, const struct keyword_match *m, bool fresh)
{
    struct flow_session *s = st->s;

    switch (m->action) {
    case KEYWORD_START:
        if (m->lang[0] != '\0' && lang_known(st, m->lang))
            snprintf(s->lang, sizeof(s->lang), "%s", m->lang);
        return start_conversation(st, FLOW_TEXT_INTRO, NULL);
    case KEYWORD_STOP:
        effect(st, FLOW_EFFECT_OPT_OUT, s->at.flow, s->at.node, NULL);
        end_conversation(s);
        return say_only(st, FLOW_TEXT_STOPPED, true);
    case KEYWORD_ERASE:
        s->erase_pending = true;
        return say_only(st, FLOW_TEXT_ERASE_CONFIRM, false);
    case KEYWORD_CALL:
        /* Without any team a callback flow could only end in "no team": say so at once. */
        if (flow_set_find(st->env->flows, "callback") != NULL && st->env->teams != NULL &&
            st->env->teams->n > 0 && st->env->new_callback_ref != NULL) {
            s->nhistory = 0;
            return go(st, -1, "callback", NULL);
        }
        effect(st, FLOW_EFFECT_CALLBACK_WANTED, s->at.flow, s->at.node, NULL);
        return say_only(st, FLOW_TEXT_NO_CALLBACK, fresh && st->env->channel == FLOW_CHANNEL_USSD);
    case KEYWORD_PRIVACY:
        effect(st, FLOW_EFFECT_PRIVACY, s->at.flow, s->at.node, NULL);
        return say_only(st, FLOW_TEXT_PRIVACY, fresh && st->env->channel == FLOW_CHANNEL_USSD);
    case KEYWORD_LANGUAGE:
        if (lang_known(st, m->lang)) {
            snprintf(s->lang, sizeof(s->lang), "%s", m->lang);
            effect(st, FLOW_EFFECT_LANGUAGE, s->at.flow, s->at.node, m->lang);
        }
        return reshow(st, fresh ? FLOW_TEXT_INTRO : -1);
    case KEYWORD_BACK:
        if (fresh)
            return start_conversation(st, FLOW_TEXT_INTRO, NULL);
        /* Asked for another number or a place, "0" is the answer that cancels. */
        if (callback_step_is(st, "other"))
            return answer(st, "0");
        if (s->nhistory > 0) {
            struct flow_position p = s->history[--s->nhistory];

            return go(st, -1, p.flow, p.node);
        }
        return reshow(st, -1);
    case KEYWORD_MAIN_MENU: return start_conversation(st, fresh ? FLOW_TEXT_INTRO : -1, NULL);
    case KEYWORD_NONE: break;
    }
    return -1;
}

/*
 * A flow trigger keyword, possibly carrying an answer: "YÖ 00530". A keyword
 * of one language ("NATT") switches the conversation to that language, as
 * HJÄLP does: whoever writes it reads it.
 */
static const struct flow *match_flow_keyword(const struct step *st, const char *text,
                                             const char **rest)
{
    const struct flow_set *set = st->env->flows;
    char *folded = utf8_fold(text);
    const struct flow *found = NULL;

    if (folded == NULL)
        return NULL;
    for (size_t i = 0; found == NULL && i < set->nflows; i++) {
        for (size_t k = 0; found == NULL && k < set->flows[i].nkeywords; k++) {
            char *kw = utf8_fold(set->flows[i].keywords[k]);
            size_t n = kw != NULL ? strlen(kw) : 0;

            if (n > 0 && strncmp(folded, kw, n) == 0 && (folded[n] == '\0' || folded[n] == ' ')) {
                const char *lang =
                    set->flows[i].keyword_langs != NULL ? set->flows[i].keyword_langs[k] : NULL;

                found = &set->flows[i];
                if (lang != NULL && lang_known(st, lang))
                    snprintf(st->s->lang, sizeof(st->s->lang), "%s", lang);
                /* The rest in the original text: skip as many words as the keyword has.
                 */
                const char *p = text;
                size_t words = 1;
                for (size_t c = 0; c < n; c++)
                    words += kw[c] == ' ';
                while (*p == ' ' || *p == '\t')
                    p++;
                for (size_t w = 0; w < words; w++) {
                    while (*p != '\0' && *p != ' ' && *p != '\t')
                        p++;
                    while (*p == ' ' || *p == '\t')
                        p++;
                }
                *rest = p;
            }
            free(kw);
        }
    }
    free(folded);
    return found;
}

/* After the city list was offered: its number ("3") picks that city. */
static bool city_from_list(const struct step *st, const char *text, struct place *p)
{
    const struct flow_global *g = &st->env->flows->global;
    char *end;
    long k;

    while (*text == ' ')
        text++;
    k = strtol(text, &end, 10);
    while (*end == ' ' || *end == '.' || *end == ')')
        end++;
    if (end == text || *end != '\0' || k < 1 || (size_t)k > g->ncities)
        return false;
    return place_lookup(st->env->places, g->cities[k - 1], p) == 0;
}

/* Checks an answer to an input node; on success stores it. Returns true if
 * valid. */
static bool accept_input(struct step *st, const struct flow_node *n, const char *text)
{
    struct flow_session *s = st->s;
    char code[6];
    struct place p;
    char value[FLOW_VAR_VALUE_MAX];
    int yn;

    switch (n->expect) {
    case FLOW_EXPECT_POSTAL_CODE:
        if (!place_parse_postal_code(text, code))
            return false;
        if (st->env->places != NULL) {
            if (place_lookup(st->env->places, code, &p) != 0)
                return false;
            flow_session_set_var(s, "city", p.city);
        }
        flow_session_set_var(s, "postal_code", code);
        snprintf(value, sizeof(value), "%s", code);
        break;
    case FLOW_EXPECT_PLACE:
        if (st->env->places != NULL) {
            if (place_lookup(st->env->places, text, &p) != 0 &&
                !(s->failures >= PLACE_LIST_AFTER && city_from_list(st, text, &p)))
                return false;
        } else {
            memset(&p, 0, sizeof(p));
            if (!place_parse_postal_code(text, p.postal_code))
                return false;
        }
        flow_session_set_var(s, "city", p.city);
        flow_session_set_var(s, "postal_code", p.postal_code);
        /* The canonical name (not what was typed) finds the same place again for a
         * nearest node: "Helsingissä" is kept as "Helsinki", "Berghäll" as "Kallio". */
        snprintf(value, sizeof(value), "%s",
                 p.postal_code[0] ? p.postal_code : (p.name[0] ? p.name : p.city));
        flow_session_set_var(s, "place", value);
        break;
    case FLOW_EXPECT_YES_NO:
        if ((yn = flow_parse_yes_no(text)) < 0)
            return false;
        snprintf(value, sizeof(value), "%s", yn ? "yes" : "no");
        break;
    case FLOW_EXPECT_NUMBER: {
        char *end;
        long v;

        while (*text == ' ')
            text++;
        v = strtol(text, &end, 10);
        while (*end == ' ')
            end++;
        if (end == text || *end != '\0' || v < n->min || v > n->max)
            return false;
        snprintf(value, sizeof(value), "%ld", v);
        break;
    }
    case FLOW_EXPECT_TEXT:
        /* Free text is used for this step only and never stored. */
        return text[0] != '\0';
    default: return false;
    }
    if (n->store != NULL)
        flow_session_set_var(s, n->store, value);
    return true;
}

static void push_history(struct flow_session *s)
{
    if (s->nhistory == FLOW_SESSION_HISTORY) {
        memmove(s->history, s->history + 1, sizeof(s->history[0]) * (FLOW_SESSION_HISTORY - 1));
        s->nhistory--;
    }
    s->history[s->nhistory++] = s->at;
}

static const char *hint_text(struct step *st, const struct flow *f, const struct flow_node *n)
{
    static const enum flow_global_text by_expect[FLOW_EXPECT_COUNT] = {
        [FLOW_EXPECT_POSTAL_CODE] = FLOW_TEXT_HINT_POSTAL_CODE,
        [FLOW_EXPECT_PLACE] = FLOW_TEXT_HINT_PLACE,
        [FLOW_EXPECT_YES_NO] = FLOW_TEXT_HINT_YES_NO,
        [FLOW_EXPECT_NUMBER] = FLOW_TEXT_HINT_NUMBER,
        [FLOW_EXPECT_TEXT] = FLOW_TEXT_HINT_PLACE,
    };
    const struct flow_global *g = &st->env->flows->global;

    /* Unknown twice: offer the cities as a numbered list (accept_input takes the digit). */
    if (n->kind == FLOW_KIND_INPUT && n->expect == FLOW_EXPECT_PLACE &&
        st->s->failures >= PLACE_LIST_AFTER && g->ncities > 0)
        return flow_text_get(&g->texts[FLOW_TEXT_HINT_PLACE_LIST], lang(st), default_lang(st));
    if (n->kind == FLOW_KIND_INPUT && n->hint.n > 0)
        return node_text(st, f, &n->hint);
    /* The window and other-number questions are repeated whole after the re-ask. */
    if (n->kind == FLOW_KIND_CALLBACK &&
        (callback_step_is(st, "window") || callback_step_is(st, "other")))
        return "";
    if (n->kind == FLOW_KIND_CALLBACK)
        return flow_text_get(&g->texts[FLOW_TEXT_HINT_YES_NO], lang(st), default_lang(st));
    if (n->kind == FLOW_KIND_MENU)
        return flow_text_get(&g->texts[FLOW_TEXT_HINT_MENU], lang(st), default_lang(st));
    return flow_text_get(&g->texts[by_expect[n->expect]], lang(st), default_lang(st));
}

/* The hint itself may hold {min}/{max}: fill them before it goes into {hint}.
 */
static int reask(struct step *st, const struct flow *f, const struct flow_node *n)
{
    struct buf saved = st->text;
    char *hint;

    buf_init(&st->text, REPLY_MAX);
    say(st, hint_text(st, f, n), NULL, n);
    hint = buf_detach(&st->text);
    st->text = saved;
    if (hint == NULL)
        return -1;
    effect(st, FLOW_EFFECT_INVALID, f->id, n->id, NULL);
    say_global(st, FLOW_TEXT_REASK, hint, n);
    free(hint);
    st->s->page = 0;
    mark_screen(st, -1, f->id, n->id);
    /* Re-ask without the collected messages before it: just the question. */
    if (n->kind == FLOW_KIND_CALLBACK && callback_step_is(st, "other"))
        say_global(st, FLOW_TEXT_CALLBACK_OTHER, NULL, n);
    else if (n->kind == FLOW_KIND_CALLBACK && callback_step_is(st, "window"))
        say_global(st, FLOW_TEXT_CALLBACK_WINDOW, NULL, n);
    else
        say(st, node_text(st, f, &n->text), NULL, n);
    st->asking = n;
    st->asking_flow = f;
    return finish(st, false);
}

/*
 * Starts flow f; if rest is not empty (a keyword that carries its answer,
 * "YÖ 00530"), answers the flow's first question with it at once, so a person
 * with little credit gets the result in one reply.
 */
static int start_with_answer(struct step *st, int prefix, const struct flow *f, const char *rest)
{
    struct buf saved;

    if (rest == NULL || is_blank(rest))
        return start_conversation(st, prefix, f->id);
    st->s->nhistory = 0;
    st->s->erase_pending = false;
    effect(st, FLOW_EFFECT_SESSION_START, f->id, f->start, NULL);
    if (prefix >= 0)
        say_global(st, (enum flow_global_text)prefix, NULL, NULL);
    /* Walk to the first question without saying it: the answer is already here.
     */
    saved = st->text;
    buf_init(&st->text, REPLY_MAX);
    enum walk_result r = walk(st, f->id, f->start);
    buf_release(&st->text);
    st->text = saved;
    if (r != WALK_WAIT)
        return start_conversation(st, -1, f->id);
    st->asking = NULL;
    return answer(st, rest);
}

static int answer(struct step *st, const char *text)
{
    struct flow_session *s = st->s;
    const struct flow *f = flow_set_find(st->env->flows, s->at.flow);
    const struct flow_node *n = flow_find_node(f, s->at.node);
    const char *next = NULL, *rest = NULL;
    const struct flow *kw;

    if (n != NULL && n->kind == FLOW_KIND_END && st->env->channel == FLOW_CHANNEL_USSD) {
        /* The last screen, page by page: any answer shows the next page. */
        s->page++;
        st->quiet = true;
        if (s->screen_prefix >= 0)
            say_global(st, (enum flow_global_text)s->screen_prefix, NULL, NULL);
        if (walk(st, s->screen_from.flow, s->screen_from.node) != WALK_END)
            return start_conversation(st, FLOW_TEXT_START_OVER, NULL);
        return finish_end(st);
    }
    if (n == NULL || !flow_kind_waits(n->kind)) {
        /* The flows were reloaded and this question is gone: start over politely.
         */
        return start_conversation(st, FLOW_TEXT_START_OVER, NULL);
    }
    if (n->kind == FLOW_KIND_MENU) {
        char *end;
        long choice;

        while (*text == ' ')
            text++;
        if (st->env->channel == FLOW_CHANNEL_USSD && strcmp(text, FLOW_RENDER_USSD_MORE) == 0) {
            s->page++;
            st->quiet = true;
            if (s->screen_prefix >= 0)
                say_global(st, (enum flow_global_text)s->screen_prefix, NULL, NULL);
            if (walk(st, s->screen_from.flow, s->screen_from.node) != WALK_WAIT)
                return -1;
            return finish(st, false);
        }
        if ((kw = match_flow_keyword(st, text, &rest)) != NULL)
            goto keyword;
        choice = strtol(text, &end, 10);
        while (*end == ' ' || *end == '.' || *end == ')')
            end++;
        if (end != text && *end == '\0' && choice >= 1 && (size_t)choice <= n->noptions)
            next = n->options[choice - 1].next;
    } else if (n->kind == FLOW_KIND_CALLBACK) {
        int rc = callback_answer(st, f, n, text, &next);

        if (rc < 0)
            return -1;
        if (rc == 1)
            return finish(st, false); /* asked for another number or a place: same node */
        if (next == NULL && (kw = match_flow_keyword(st, text, &rest)) != NULL)
            goto keyword;
    } else if (accept_input(st, n, text)) {
        next = n->next;
    } else if ((kw = match_flow_keyword(st, text, &rest)) != NULL) {
        goto keyword;
    }
    if (next == NULL) {
        if (++s->failures >= FLOW_MAX_FAILURES) {
            effect(st, FLOW_EFFECT_INVALID, f->id, n->id, NULL);
            return start_conversation(st, FLOW_TEXT_START_OVER, NULL);
        }
        int failures = s->failures;
        int rc = reask(st, f, n);
        s->failures = failures;
        return rc;
    }
    push_history(s);
    s->page = 0; /* the next screen starts on its first page, whatever page this one was on */
    return go(st, -1, f->id, next);

keyword:
    return start_with_answer(st, -1, kw, rest);
}

static bool is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0';
}

static int step(struct step *st, const struct flow_input *in, const char *text)
{
    struct flow_session *s = st->s;
    const struct flow_global *g = &st->env->flows->global;
    bool fresh = s->at.flow[0] == '\0', expired = false;
    struct keyword_match m;
    const struct flow *kw;
    const char *rest = NULL;

    if (!fresh && st->env->channel == FLOW_CHANNEL_SMS &&
        st->env->now - s->last_active > st->env->session_timeout) {
        end_conversation(s);
        fresh = expired = true;
    }
    s->last_active = st->env->now;

    /* Crisis words come before anything else, even after STOP or expiry. */
    if (keyword_is_crisis(text, g->crisis_words, g->ncrisis_words)) {
        effect(st, FLOW_EFFECT_CRISIS, s->at.flow, s->at.node, NULL);
        if (st->env->channel == FLOW_CHANNEL_USSD)
            end_conversation(s);
        return say_only(st, FLOW_TEXT_CRISIS, st->env->channel == FLOW_CHANNEL_USSD);
    }
    if (keyword_match_global(text, &m)) {
        if (in->opted_out) {
            /* A stopped number may still start again, erase its data or read the
             * notice. */
            if (m.action == KEYWORD_START) {
                effect(st, FLOW_EFFECT_OPT_IN, NULL, NULL, NULL);
                if (m.lang[0] != '\0' && lang_known(st, m.lang))
                    snprintf(s->lang, sizeof(s->lang), "%s", m.lang);
                return start_conversation(st, FLOW_TEXT_RESUMED, NULL);
            }
            if (m.action != KEYWORD_ERASE && m.action != KEYWORD_PRIVACY)
                return 0;
        }
        s->erase_pending = s->erase_pending && m.action == KEYWORD_ERASE;
        return global_word(st, &m, fresh);
    }
    if (s->erase_pending) {
        s->erase_pending = false;
        if (flow_parse_yes_no(text) == 1) {
            effect(st, FLOW_EFFECT_ERASE, s->at.flow, s->at.node, NULL);
            flow_session_init(s);
            return say_only(st, FLOW_TEXT_ERASED, true);
        }
        say_global(st, FLOW_TEXT_ERASE_CANCELLED, NULL, NULL);
        if (in->opted_out)
            return finish(st, true);
        return reshow(st, -1);
    }
    if (in->opted_out)
        return 0; /* STOP is honoured: no reply to anything else */
    if (fresh) {
        int prefix = expired ? FLOW_TEXT_EXPIRED : FLOW_TEXT_INTRO;

        if (!is_blank(text) && (kw = match_flow_keyword(st, text, &rest)) != NULL)
            return start_with_answer(st, prefix, kw, rest);
        return start_conversation(st, prefix, NULL);
    }
    return answer(st, text);
}

int flow_engine_step(const struct flow_env *env, struct flow_session *s,
                     const struct flow_input *in, struct flow_reply *out)
{
    struct flow_session before = *s;
    struct step st = {.env = env, .s = s, .out = out};
    const char *text = in->text != NULL ? in->text : "";
    int rc;

    memset(out, 0, sizeof(*out));
    buf_init(&st.text, REPLY_MAX);
    /* Invalid UTF-8 is treated as a message nobody can understand, never echoed.
     */
    if (!utf8_valid(text, strlen(text)))
        text = "\x01";
    rc = env->flows != NULL && flow_set_main(env->flows) != NULL ? step(&st, in, text) : -1;
    buf_release(&st.text);
    if (rc != 0) {
        flow_reply_release(out);
        *s = before;
    }
    return rc;
}

int flow_engine_start(const struct flow_env *env, struct flow_session *s, const char *flow_id,
                      struct flow_reply *out)
{
    struct flow_session before = *s;
    struct step st = {.env = env, .s = s, .out = out};
    int rc = -1;

    memset(out, 0, sizeof(*out));
    buf_init(&st.text, REPLY_MAX);
    if (env->flows != NULL && flow_set_find(env->flows, flow_id) != NULL) {
        s->last_active = env->now;
        s->at.flow[0] = '\0';
        rc = start_conversation(&st, FLOW_TEXT_INTRO, flow_id);
    }
    buf_release(&st.text);
    if (rc != 0) {
        flow_reply_release(out);
        *s = before;
    }
    return rc;
}

void flow_reply_release(struct flow_reply *r)
{
    free(r->text);
    free(r->sms_copy);
    memset(r, 0, sizeof(*r));
}
