/*
 * flow_engine.h: one step of a conversation. flow_engine_step() takes the
 * session, the person's message and a read-only environment (flows, places,
 * clock, channel) and returns the reply and a list of effects. It does no
 * I/O and keeps no state of its own, so it is deterministic and unit-testable,
 * and `katto chat`, the SMS path and the USSD path all run the same code.
 * Effects (opt-out, erase, language, callback request, log events) are
 * returned, not performed: the caller applies them in one transaction.
 *
 * Order of precedence for a message: crisis words (always answered, even
 * after STOP or expiry), global words (keyword.h), a pending erase
 * confirmation, then the conversation: a flow's trigger keyword or the
 * answer to the current question. Three invalid answers in a row lead back
 * to the main menu: never a dead end.
 */
#ifndef KATTO_FLOW_ENGINE_H
#define KATTO_FLOW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "directory.h"
#include "flow.h"
#include "place.h"
#include "team.h"

#define FLOW_SESSION_VARS 12
#define FLOW_SESSION_HISTORY 8
#define FLOW_VAR_NAME_MAX 24
#define FLOW_VAR_VALUE_MAX 64
#define FLOW_MAX_FAILURES 3 /* invalid answers before the main menu is offered */
#define FLOW_SESSION_TIMEOUT_DEFAULT 1800

enum flow_channel { FLOW_CHANNEL_SMS, FLOW_CHANNEL_USSD };

struct flow_position {
    char flow[FLOW_ID_MAX];
    char node[FLOW_ID_MAX];
};

/*
 * A conversation's state, fixed-size so that it is trivially copied and
 * stored (session.c). It never holds a phone number or free text.
 */
struct flow_session {
    struct flow_position at;          /* the question being asked; flow "" when idle */
    char lang[FLOW_LANG_MAX];         /* "" until known */
    int failures;                     /* invalid answers to the current question */
    int page;                         /* USSD page of the current screen */
    struct flow_position screen_from; /* USSD: where the current screen's text began ... */
    int screen_prefix;                /* ... and the global text before it (-1: none), so that
                                         "98" can rebuild the same screen and show its next page */
    bool erase_pending;               /* POISTA asked; waiting for yes */
    long long last_active;            /* unix seconds of the last message */
    struct flow_position history[FLOW_SESSION_HISTORY]; /* questions answered, for "0" */
    size_t nhistory;
    struct {
        char name[FLOW_VAR_NAME_MAX];
        char value[FLOW_VAR_VALUE_MAX];
    } vars[FLOW_SESSION_VARS];
    size_t nvars;
};

struct flow_env {
    const struct flow_set *flows;
    const struct place_table *places; /* NULL: postal codes are checked for form only */
    const struct directory *services; /* NULL: nearest nodes give only the fallback numbers */
    long services_max_age_days;       /* > 0: services not checked within it are not offered */
    size_t sms_max_segments;          /* default budget of a nearest node (0: 2) */
    const struct team_list *teams;    /* callback teams; NULL or empty: no callbacks */
    long callback_now_minutes;        /* the "now" window (callbacks.now_minutes) */
    /* Writes a fresh callback reference ("K-4821", size bytes with NUL); 0, or -1. The
     * engine's only call out, made when a request is filed; NULL: no callbacks. */
    int (*new_callback_ref)(void *arg, char *ref, size_t size);
    void *callback_arg;
    long long now; /* unix seconds */
    enum flow_channel channel;
    size_t ussd_budget;      /* characters per USSD screen */
    long session_timeout;    /* SMS: seconds of silence before starting over */
    const char *privacy_url; /* for {privacy_url} */
};

struct flow_input {
    const char *text; /* the message; NULL or "" for a USSD dial-in */
    bool opted_out;   /* this number sent STOP earlier */
};

enum flow_effect_kind {
    FLOW_EFFECT_SESSION_START, /* a new conversation began in flow/node */
    FLOW_EFFECT_NODE,          /* a question or end was reached: flow/node */
    FLOW_EFFECT_INVALID,       /* an answer was not understood at flow/node */
    FLOW_EFFECT_LANGUAGE,      /* arg: the new language */
    FLOW_EFFECT_OPT_OUT,
    FLOW_EFFECT_OPT_IN,
    FLOW_EFFECT_ERASE, /* remove everything tied to this number */
    FLOW_EFFECT_CRISIS,
    FLOW_EFFECT_PRIVACY,
    FLOW_EFFECT_CALLBACK_WANTED, /* SOITA and no callback flow loaded */
    FLOW_EFFECT_SESSION_END,     /* arg: the city the conversation knew, if any */
    FLOW_EFFECT_SMS_COPY,        /* USSD: the reply's sms_copy is to be texted to the person */
    FLOW_EFFECT_REFERRAL,        /* a nearest node named a service; arg: its id */
    FLOW_EFFECT_CALLBACK_FILED,  /* a callback request was filed (reply.callback); arg: team id */
    FLOW_EFFECT_COUNT
};

struct flow_effect {
    enum flow_effect_kind kind;
    struct flow_position at;
    char arg[FLOW_VAR_VALUE_MAX];
};

#define FLOW_MAX_EFFECTS 16
#define FLOW_CALLBACK_REF_MAX 12
#define FLOW_CALLBACK_NUMBER_MAX 20 /* E.164 with '+' and NUL */
#define FLOW_CALLBACK_MEET_MAX 161  /* a place and time to meet, as typed (one SMS) */

/*
 * A callback request a step filed. It holds what the person typed for a
 * meeting or another number: the caller stores it sealed at once and never
 * anywhere else (not in the session, not in logs).
 */
struct flow_callback {
    bool filed;
    char ref[FLOW_CALLBACK_REF_MAX];
    char team[FLOW_ID_MAX];
    char city[PLACE_CITY_LEN];
    char lang[FLOW_LANG_MAX];              /* the language wanted on the call */
    char window[12];                       /* now, today, tomorrow */
    char topic[FLOW_VAR_VALUE_MAX];        /* "" if none */
    bool sender_safe;                      /* call (and text) the number the request came from */
    char number[FLOW_CALLBACK_NUMBER_MAX]; /* otherwise: another number, E.164, or "" */
    char meet[FLOW_CALLBACK_MEET_MAX];     /* otherwise: a place and time to meet, or "" */
    long long due_at;                      /* end of the promised window */
};

struct flow_reply {
    char *text;     /* owned; NULL when nothing is to be sent (an opted-out number) */
    char *sms_copy; /* owned; USSD: text to send to the person by SMS (sms_copy nodes), or NULL */
    bool end;       /* the conversation is over (USSD: END instead of CON) */
    struct flow_effect effects[FLOW_MAX_EFFECTS];
    size_t neffects;
    struct flow_callback callback; /* filed: see FLOW_EFFECT_CALLBACK_FILED */
};

/* An idle session (no conversation yet). */
void flow_session_init(struct flow_session *s);

/*
 * Runs one step. s is updated in place; out is filled (release with
 * flow_reply_release). Returns 0, or -1 on allocation failure (then s is
 * unchanged and out empty).
 */
int flow_engine_step(const struct flow_env *env, struct flow_session *s,
                     const struct flow_input *in, struct flow_reply *out);

/*
 * Starts a new conversation in flow_id (for a USSD service code or `katto
 * chat --flow`), saying the intro first. Same contract as flow_engine_step.
 */
int flow_engine_start(const struct flow_env *env, struct flow_session *s, const char *flow_id,
                      struct flow_reply *out);

void flow_reply_release(struct flow_reply *r);

/* Session variables: value or NULL; set returns -1 when full. */
const char *flow_session_var(const struct flow_session *s, const char *name);
int flow_session_set_var(struct flow_session *s, const char *name, const char *value);

/* "session_start", "node", ... for logs and tests. */
const char *flow_effect_name(enum flow_effect_kind kind);

/* Parses yes/no in any supported language (and 1/2): 1 yes, 0 no, -1 neither. */
int flow_parse_yes_no(const char *text);

#endif
