/*
 * flow_nearest.h: the text of a `nearest` node. Given the person's place
 * (a session's postal code or place name), it ranks the directory, and
 * writes one line per service for a basic phone: name, street address,
 * open/closed and until when, phone, distance. The flow decides how many;
 * the text is fitted to the node's budget (SMS segments, or characters of
 * a USSD screen) by showing fewer services, then dropping the distance and
 * the address, then shortening the name at a word boundary: never a cut
 * inside a word. When nothing suitable is open, it says so and gives the
 * city's social emergency number, or 112. Pure: no I/O, no clock.
 */
#ifndef KATTO_FLOW_NEAREST_H
#define KATTO_FLOW_NEAREST_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "directory.h"
#include "flow.h"
#include "place.h"

struct flow_nearest_request {
    const struct directory *dir;      /* may be NULL: then only the fallback text */
    const struct place_table *places; /* may be NULL */
    const struct flow_node *node;     /* the nearest node */
    const char *lang;                 /* the session's language */
    const char *place;                /* session variable "place" (postal code or name), or NULL */
    const char *city;                 /* session variable "city", or NULL */
    long long now;
    long max_age_days; /* > 0: rows not checked within it are not offered */
    bool ussd;
    size_t budget;                      /* SMS segments, or USSD characters */
    const char *heading;                /* the node's text in lang, may be "" */
    const char *texts[FLOW_TEXT_COUNT]; /* the global texts in lang */
};

struct flow_nearest_result {
    char *text;                                        /* owned */
    const struct service *shown[FLOW_NEAREST_MAX + 1]; /* what the text names, for the log */
    size_t nshown;
};

/*
 * Appends to b the line that always helps: the social emergency number of
 * city ("Sosiaalipäivystys (Helsinki): 020 696 006. Hätätilanteessa 112.")
 * from dir, or the 112 line when the city has none (or only a row older than
 * max_age_days > 0). texts are the global texts in lang. 0, or -1.
 */
int flow_nearest_social(struct buf *b, const struct directory *dir, const char *city,
                        const char *lang, long long now, long max_age_days,
                        const char *const texts[FLOW_TEXT_COUNT]);

/* Fills *out (release with free(out->text)). Returns 0, or -1 when out of memory. */
int flow_nearest_compose(const struct flow_nearest_request *rq, struct flow_nearest_result *out);

#endif
