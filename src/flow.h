/*
 * flow.h: the flow model. Administrators write menus as JSON files in
 * flows/ (format: flows/README.md); flow_set_load() turns a directory of them
 * into these structs, reporting every problem, and the engine (flow_engine.h)
 * runs them. Nothing here holds cJSON pointers: JSON stays at the edge.
 *
 * A flow set is immutable once loaded and shared by reference count, so a
 * reload can swap in a new set atomically while sessions finish a step on the
 * old one.
 */
#ifndef KATTO_FLOW_H
#define KATTO_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define FLOW_ID_MAX 48   /* flow and node ids: [a-z0-9_-], at most 47 bytes */
#define FLOW_LANG_MAX 12 /* language codes such as fi, sv, en, ru, so, et, uk, ar */
#define FLOW_GLOBAL_FILE "global.json"

/* Text in several languages: {"fi": "...", "sv": "...", "en": "..."}. */
struct flow_text_item {
    char lang[FLOW_LANG_MAX];
    char *text;
};

struct flow_text {
    struct flow_text_item *items;
    size_t n;
};

/*
 * Node kinds. Each kind's loading and checks (flow_load.c) and behaviour
 * (flow_engine.c) are rows of tables indexed by kind, tied to FLOW_KIND_COUNT
 * with _Static_assert, so a later kind (nearest service, callback) is added
 * by appending here and adding one row to each table.
 */
enum flow_kind {
    FLOW_KIND_MESSAGE,  /* say text, go on to next */
    FLOW_KIND_MENU,     /* say text and numbered options; wait for a number */
    FLOW_KIND_INPUT,    /* ask text; validate the answer; store it; go on to next */
    FLOW_KIND_SWITCH,   /* branch on a session variable */
    FLOW_KIND_LANGUAGE, /* set the session language, go on to next */
    FLOW_KIND_JUMP,     /* continue in another flow (its start, or a named node) */
    FLOW_KIND_END,      /* say text and end the conversation */
    FLOW_KIND_SMS_COPY, /* USSD: text it to the person as an SMS; SMS: say it; go on to next */
    FLOW_KIND_NEAREST,  /* say the nearest services for the session's place; go on to next */
    FLOW_KIND_CALLBACK, /* ask consent (or another number / a place to meet); file a callback */
    FLOW_KIND_COUNT
};

/* What an input node accepts. */
enum flow_expect {
    FLOW_EXPECT_POSTAL_CODE, /* five digits */
    FLOW_EXPECT_PLACE,       /* postal code, or a city name in Finnish or Swedish */
    FLOW_EXPECT_YES_NO,      /* yes/no in every language, or 1/2 */
    FLOW_EXPECT_NUMBER,      /* a whole number in [min, max] */
    FLOW_EXPECT_TEXT,        /* anything; used for this step only and never stored */
    FLOW_EXPECT_COUNT
};

struct flow_option {
    struct flow_text label;
    char *next; /* node id in the same flow */
};

/* One case of a switch: matches when the variable equals `equals`, or lies in [min, max]. */
struct flow_case {
    char *equals; /* compared after folding case and accents; NULL when a range is used */
    bool has_range;
    long min, max;
    char *next;
};

struct flow_node {
    char *id;
    enum flow_kind kind;
    struct flow_text text; /* message, menu, input prompt, end; may be empty for others */
    bool ucs2;             /* written in a script outside GSM-7 on purpose: no UCS-2 warning */
    char *next;            /* message, input, language; switch: the default branch */

    struct flow_option *options; /* menu */
    size_t noptions;

    enum flow_expect expect; /* input */
    char *store;             /* input: variable to store the answer in (NULL: not stored) */
    long min, max;           /* input with expect number */
    struct flow_text hint;   /* input: optional custom hint for a re-ask */

    char *on; /* switch: variable name */
    struct flow_case *cases;
    size_t ncases;

    char lang[FLOW_LANG_MAX]; /* language: the code to switch to */

    char *target_flow; /* jump */
    char *target_node; /* jump: NULL means the target flow's start */

    char **categories; /* nearest: directory categories wanted */
    size_t ncategories;
    int count;        /* nearest: at most this many services (1..FLOW_NEAREST_MAX) */
    int open;         /* nearest: enum directory_open (prefer, only, any) */
    bool national;    /* nearest: also offer services for the whole country */
    bool social;      /* nearest: always end with the city's social emergency number */
    int max_segments; /* nearest: SMS segments the node's text may take (0: sms.max_segments) */

    char *topic;     /* callback: the topic to file (NULL: the session variable "topic") */
    bool ask_window; /* callback: first ask when to call (now / today / tomorrow) */
};

#define FLOW_NEAREST_MAX 5

struct flow {
    char *id;
    char *file;       /* path it was loaded from, for messages */
    char **languages; /* languages[0] is the fallback for missing text at run time */
    size_t nlanguages;
    char *start;          /* node id */
    bool main;            /* the flow that APUA/HJÄLP/HELP and "00" lead to; exactly one */
    char **keywords;      /* trigger words as written; matched folded */
    char **keyword_langs; /* per keyword: the language it is a word of, or NULL for any */
    size_t nkeywords;
    struct flow_node *nodes;
    size_t nnodes;
};

/* Texts the engine itself says, from flows/global.json, each required in every language. */
enum flow_global_text {
    FLOW_TEXT_INTRO,           /* first reply of a conversation: automatic service, SOITA, 112 */
    FLOW_TEXT_REASK,           /* invalid answer; {hint} is the node's hint */
    FLOW_TEXT_START_OVER,      /* after three invalid answers, or when a node vanished */
    FLOW_TEXT_EXPIRED,         /* first reply after the session expired */
    FLOW_TEXT_STOPPED,         /* after STOP */
    FLOW_TEXT_RESUMED,         /* after START from a stopped number */
    FLOW_TEXT_ERASE_CONFIRM,   /* question before erasing */
    FLOW_TEXT_ERASED,          /* erasure done */
    FLOW_TEXT_ERASE_CANCELLED, /* the answer was not yes */
    FLOW_TEXT_PRIVACY,         /* one SMS, with {privacy_url} */
    FLOW_TEXT_CRISIS,          /* 112 and the crisis lines */
    FLOW_TEXT_NO_CALLBACK,     /* SOITA when no callback flow is loaded */
    FLOW_TEXT_MORE,            /* USSD: label of the "more" option */
    FLOW_TEXT_HINT_MENU,       /* {max}: the number of options */
    FLOW_TEXT_HINT_POSTAL_CODE,
    FLOW_TEXT_HINT_PLACE,
    FLOW_TEXT_HINT_YES_NO,
    FLOW_TEXT_HINT_NUMBER,         /* {min} and {max} */
    FLOW_TEXT_HINT_PLACE_LIST,     /* second wrong place: {cities}, numbered, one per line */
    FLOW_TEXT_SERVICE_OPEN_ALWAYS, /* nearest: "Open 24/7." */
    FLOW_TEXT_SERVICE_OPEN_UNTIL,  /* {time} it closes */
    FLOW_TEXT_SERVICE_OPENS,       /* closed now; {time} it opens (within a day) */
    FLOW_TEXT_SERVICE_CLOSED,      /* closed now, not opening within a day */
    FLOW_TEXT_SERVICE_PHONE,       /* {phone} */
    FLOW_TEXT_NEAREST_NONE,        /* no such service near the place */
    FLOW_TEXT_NEAREST_NONE_OPEN,   /* none of them open now */
    FLOW_TEXT_NEAREST_SOCIAL,      /* {city} social emergency {phone}, and 112 */
    FLOW_TEXT_NEAREST_CALL_112,    /* no social emergency number known: 112 connects */
    FLOW_TEXT_CALLBACK_WINDOW,     /* callback: when to call? 1 now, 2 today, 3 tomorrow */
    FLOW_TEXT_CALLBACK_OTHER,      /* callback, no consent: another number, or a place and time */
    FLOW_TEXT_CALLBACK_DONE,       /* {ref} {team} {from} {due} */
    FLOW_TEXT_CALLBACK_DONE_MEET,  /* {ref} {team} {from} */
    FLOW_TEXT_CALLBACK_TEAM_AWAY,  /* the team is not at work now: {hours}; the social line follows
                                    */
    FLOW_TEXT_CALLBACK_CANCELLED,  /* nothing was stored */
    FLOW_TEXT_CALLBACK_NO_TEAM,    /* no team for the city; the social line follows */
    FLOW_TEXT_CALLBACK_OVERDUE,    /* by SMS when the window passed unclaimed: {ref} */
    FLOW_TEXT_COUNT
};

/* JSON key of each global text ("intro", "reask", ...), indexed by enum flow_global_text. */
extern const char *const flow_global_text_names[FLOW_TEXT_COUNT];

struct flow_global {
    char *file;
    char **languages; /* every language the helpline speaks; [0] is the default */
    size_t nlanguages;
    struct flow_text texts[FLOW_TEXT_COUNT];
    char **crisis_words; /* extra crisis stems added by administrators (folded on use) */
    size_t ncrisis_words;
    char **cities; /* offered as a numbered list after a second unknown place (may be empty) */
    size_t ncities;
};

struct flow_set {
    struct flow *flows;
    size_t nflows;
    struct flow_global global;
    int refs;
};

/* Options for loading: limits that validation checks against. */
struct flow_check_options {
    size_t ussd_budget;      /* characters per USSD screen (default 160) */
    size_t sms_max_segments; /* a message longer than this warns (default 2) */
};

#define FLOW_USSD_BUDGET_DEFAULT 160
#define FLOW_SMS_SEGMENTS_DEFAULT 2

/*
 * Loads every *.json file in dir (global.json holds the engine's own texts)
 * and validates the whole set. Problems go to d as file: path: problem;
 * warnings do not stop loading. Returns a set with one reference (release
 * with flow_set_unref), or NULL if there were errors.
 */
struct flow_set *flow_set_load_dir(const char *dir, const struct flow_check_options *opt,
                                   struct diag *d);

/*
 * Loads the given files (a mix of flow files and at most one global file);
 * same contract as flow_set_load_dir. Used by `katto check FILES`.
 */
struct flow_set *flow_set_load_files(const char *const *files, size_t nfiles,
                                     const struct flow_check_options *opt, struct diag *d);

void flow_set_ref(struct flow_set *set);
void flow_set_unref(struct flow_set *set); /* frees at zero; NULL is a no-op */

/* Lookups; NULL if absent. */
const struct flow *flow_set_find(const struct flow_set *set, const char *flow_id);
const struct flow *flow_set_main(const struct flow_set *set);
const struct flow_node *flow_find_node(const struct flow *flow, const char *node_id);

/*
 * Text in lang, falling back to fallback_lang, then to the first item.
 * Returns "" for an empty text. Borrowed from the set.
 */
const char *flow_text_get(const struct flow_text *t, const char *lang, const char *fallback_lang);

/* Kind and expect names as written in files ("menu", "postal_code", ...). */
const char *flow_kind_name(enum flow_kind kind);
const char *flow_expect_name(enum flow_expect expect);

/*
 * Calls edge(arg, label, next_flow, next_node) for each way out of node:
 * label is "1", "2"... for menu options, "yes"/"default"/... for switches,
 * "" otherwise; next_flow is NULL within the same flow. For graphs and
 * reachability checks.
 */
typedef void flow_edge_cb(void *arg, const char *label, const char *next_flow,
                          const char *next_node);
void flow_node_edges(const struct flow_node *node, flow_edge_cb *edge, void *arg);

/* True for kinds that wait for the person's answer (menu, input). */
bool flow_kind_waits(enum flow_kind kind);

/*
 * Placeholders the engine fills in any text, written {name}: city, place,
 * postal_code, privacy_url, hint, min, max, channel ("sms" or "ussd", also
 * usable by a switch); plus any variable that an input node of the same flow
 * stores. NULL-terminated.
 */
extern const char *const flow_placeholders[];

/* Frees everything a flow owns (used by the loader; sets are freed by flow_set_unref). */
void flow_release(struct flow *flow);
void flow_global_release(struct flow_global *global);

#endif
