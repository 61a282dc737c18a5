/*
 * team.h: the outreach teams that take callback requests, from the
 * configuration key callbacks.teams, a JSON list:
 *
 *   [{"id": "hel-outreach", "name": "Helsingin etsivä työ", "city": "Helsinki",
 *     "on_call": ["+358401111111", "+358402222222"], "lead": "+358403333333",
 *     "calls_from": "09 310 12345", "hours": "Mo-Fr 08:00-20:00; Sa 10:00-16:00"}]
 *
 * id: [a-z0-9-]; city: the Finnish municipality name the team serves (one
 * team per city); on_call: E.164 numbers notified in turn (the first gets a
 * new request, the next a reminder); lead: alerted when a promised window
 * passes unclaimed (optional); calls_from: the number clients will see, told
 * to them so they answer; hours: working hours in the format of hours.h.
 */
#ifndef KATTO_TEAM_H
#define KATTO_TEAM_H

#include <stdbool.h>
#include <stddef.h>

struct hours;

struct team {
    char *id, *name, *city;
    char **on_call; /* at least one */
    size_t non_call;
    char *lead;       /* may be NULL */
    char *calls_from; /* as shown to clients */
    char *hours_text; /* as configured */
    struct hours *hours;
};

struct team_list {
    struct team *teams;
    size_t n;
};

/*
 * Parses json (borrowed; "" or NULL gives an empty list) into *out. Returns
 * 0, or -1 with err (ERR_LEN) naming the team and field: "teams[1].on_call[0]:
 * not an E.164 number".
 */
int team_list_parse(const char *json, struct team_list *out, char *err);

void team_list_release(struct team_list *l);

/* The team serving city (Finnish name), or NULL. */
const struct team *team_for_city(const struct team_list *l, const char *city);

/* The team with id, or NULL. */
const struct team *team_find(const struct team_list *l, const char *id);

/* When a call can be expected, for a window chosen by the client. */
struct team_window {
    bool at_work;        /* the team is at work now */
    long long starts_at; /* now if at work, else when it next starts (0: not within 8 days) */
    long long due_at;    /* the end of the promised window: the call should come by then */
};

/*
 * The promise for window ("now", "today" or "tomorrow"; anything else counts
 * as "now") at unix time now:
 * - now: within now_minutes of the team being at work (from now if it is);
 * - today: by the end of the team's current or next span today, else as now;
 * - tomorrow: by the end of the team's first span that starts tomorrow or
 *   later.
 * A team never at work within 8 days gets due_at = now + 24 h (a lead is
 * alerted then). Local time is Europe/Helsinki (the process TZ).
 */
void team_window(const struct team *t, const char *window, long long now, long now_minutes,
                 struct team_window *out);

#endif
