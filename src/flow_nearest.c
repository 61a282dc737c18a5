/* flow_nearest.c: the text of a `nearest` node (see flow_nearest.h). */
#include "flow_nearest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gsm7.h"
#include "hours.h"
#include "utf8.h"

#define NEAREST_TEXT_MAX 4096
#define NAME_MIN_BYTES 12 /* a name is not shortened below this */

/* How much of a service line to write; lowered step by step until the text fits. */
struct detail {
    bool distance;
    bool address;
    size_t name_max; /* bytes; 0: whole name */
};

/* Appends template with {name} replaced by value (other text kept as it is). */
static int put_filled(struct buf *b, const char *template, const char *name, const char *value)
{
    const char *const pairs[] = {name, value, NULL};

    return buf_put_template(b, template, pairs);
}

/* Appends at most max bytes of name, cut at a word boundary ("Hietaniemenkadun palvelu..."). */
static int put_name(struct buf *b, const char *name, size_t max)
{
    size_t n = strlen(name), cut;

    if (max == 0 || n <= max)
        return buf_puts(b, name);
    cut = utf8_truncate(name, max);
    while (cut > 0 && name[cut] != ' ')
        cut--;
    while (cut > 0 && (name[cut - 1] == ' ' || name[cut - 1] == ',' || name[cut - 1] == '-'))
        cut--;
    if (cut == 0)
        return buf_puts(b, name); /* one long word: never cut inside it */
    return buf_append(b, name, cut) == 0 && buf_puts(b, "...") == 0 ? 0 : -1;
}

static int put_distance(struct buf *b, double km, const char *lang)
{
    char num[32];

    /* Points are postal-area centres: below a kilometre a decimal would claim too much. */
    if (km < 1)
        return buf_puts(b, " <1 km");
    if (km < 10)
        snprintf(num, sizeof(num), "%.1f", km);
    else
        snprintf(num, sizeof(num), "%.0f", km);
    /* Finnish and Swedish write a decimal comma. */
    if (strcmp(lang, "en") != 0) {
        char *dot = strchr(num, '.');

        if (dot)
            *dot = ',';
    }
    return buf_printf(b, " %s km", num);
}

static int put_status(struct buf *b, const struct flow_nearest_request *rq,
                      const struct directory_hit *h)
{
    char hhmm[6];

    if (!h->hours_known)
        return 0;
    if (buf_puts(b, " ") != 0)
        return -1;
    if (h->open && h->until == 0)
        return buf_puts(b, rq->texts[FLOW_TEXT_SERVICE_OPEN_ALWAYS]);
    if (h->open) {
        hours_local_hhmm(h->until, hhmm);
        return put_filled(b, rq->texts[FLOW_TEXT_SERVICE_OPEN_UNTIL], "time", hhmm);
    }
    if (h->until != 0 && h->until - rq->now < 24 * 3600) {
        hours_local_hhmm(h->until, hhmm);
        return put_filled(b, rq->texts[FLOW_TEXT_SERVICE_OPENS], "time", hhmm);
    }
    return buf_puts(b, rq->texts[FLOW_TEXT_SERVICE_CLOSED]);
}

/* One line: "Name, Street 1. Open until 16:00. tel. 09 123 456. 1,2 km" */
static int put_hit(struct buf *b, const struct flow_nearest_request *rq,
                   const struct directory_hit *h, const struct detail *d)
{
    const struct service *s = h->s;
    int rc = put_name(b, directory_service_name(s, rq->lang), d->name_max);

    if (rc == 0 && d->address && s->street_address && !s->address_hidden)
        rc = buf_printf(b, ", %s", s->street_address);
    /* A full stop, unless the line already ends in one ("Katto ry.", a shortened "..."). */
    if (rc == 0 && (b->len == 0 || b->data[b->len - 1] != '.'))
        rc = buf_puts(b, ".");
    if (rc == 0)
        rc = put_status(b, rq, h);
    if (rc == 0 && s->phone) {
        rc = buf_puts(b, " ");
        if (rc == 0)
            rc = put_filled(b, rq->texts[FLOW_TEXT_SERVICE_PHONE], "phone", s->phone);
    }
    if (rc == 0 && d->distance && h->distance_known)
        rc = put_distance(b, h->km, rq->lang);
    return rc;
}

int flow_nearest_social(struct buf *b, const struct directory *dir, const char *city,
                        const char *lang, long long now, long max_age_days,
                        const char *const texts[FLOW_TEXT_COUNT])
{
    const struct service *s = directory_social_emergency(dir, city);

    if (s && max_age_days > 0) {
        long age = directory_service_age_days(s, now);

        if (age < 0 || age > max_age_days)
            s = NULL; /* a stale number is worse than 112, which always connects */
    }
    if (!s)
        return buf_puts(b, texts[FLOW_TEXT_NEAREST_CALL_112]);
    const char *const pairs[] = {"city", place_city_name(city, lang), "phone", s->phone, NULL};
    return buf_put_template(b, texts[FLOW_TEXT_NEAREST_SOCIAL], pairs);
}

static int put_social(struct buf *b, const struct flow_nearest_request *rq)
{
    return flow_nearest_social(b, rq->dir, rq->city, rq->lang, rq->now, rq->max_age_days,
                               rq->texts);
}

static bool any_open(const struct directory_hit *hits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (hits[i].hours_known && hits[i].open)
            return true;
    }
    return false;
}

static bool all_known_closed(const struct directory_hit *hits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!hits[i].hours_known || hits[i].open)
            return false;
    }
    return true;
}

/* Writes the whole text for the first n hits at detail d into b (emptied first). */
static int compose(struct buf *b, const struct flow_nearest_request *rq,
                   const struct directory_hit *hits, size_t n, const struct detail *d)
{
    const struct service *social = directory_social_emergency(rq->dir, rq->city);
    bool social_shown = false;
    int rc = 0;

    buf_release(b);
    buf_init(b, NEAREST_TEXT_MAX);
    if (rq->heading[0] != '\0')
        rc = buf_puts(b, rq->heading);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (b->len > 0)
            rc = buf_puts(b, "\n");
        if (rc == 0)
            rc = put_hit(b, rq, &hits[i], d);
        social_shown |= hits[i].s == social;
    }
    if (rc == 0 && n == 0)
        rc = (b->len > 0 ? buf_puts(b, "\n") : 0) || buf_puts(b, rq->texts[FLOW_TEXT_NEAREST_NONE]);
    else if (rc == 0 && all_known_closed(hits, n))
        rc = buf_puts(b, "\n") || buf_puts(b, rq->texts[FLOW_TEXT_NEAREST_NONE_OPEN]);
    /* Nothing open, or the flow asked for it: the number that always answers. */
    if (rc == 0 && !social_shown && (n == 0 || !any_open(hits, n) || rq->node->social))
        rc = buf_puts(b, "\n") || put_social(b, rq);
    return rc;
}

static bool fits(const struct flow_nearest_request *rq, const char *text)
{
    struct gsm7_info info;
    char *norm;
    bool ok;

    if (rq->ussd)
        return utf8_count(text) <= rq->budget;
    /* Count what will be sent: the renderer normalises look-alikes first. */
    if ((norm = gsm7_normalise(text)) == NULL)
        return false;
    ok = gsm7_analyse(norm, strlen(norm), &info) == 0 && info.segments <= rq->budget;
    free(norm);
    return ok;
}

/* The person's point and city, from the session's place answer. */
static void where(const struct flow_nearest_request *rq, struct directory_query *q)
{
    struct place p;

    q->city = rq->city;
    if (rq->places && rq->place && rq->place[0] && place_lookup(rq->places, rq->place, &p) == 0) {
        q->has_point = p.has_point;
        q->lat = p.lat;
        q->lon = p.lon;
    }
    if (q->city && !q->city[0])
        q->city = NULL;
}

int flow_nearest_compose(const struct flow_nearest_request *rq, struct flow_nearest_result *out)
{
    const struct flow_node *node = rq->node;
    struct directory_hit hits[FLOW_NEAREST_MAX];
    struct directory_query q = {
        .categories = (const char *const *)node->categories,
        .ncategories = node->ncategories,
        .now = rq->now,
        .open = (enum directory_open)node->open,
        .max_age_days = rq->max_age_days,
        .national = node->national,
    };
    size_t n, count = (size_t)node->count;
    struct detail d = {true, true, 0};
    struct buf b;

    memset(out, 0, sizeof(*out));
    where(rq, &q);
    if (count < 1 || count > FLOW_NEAREST_MAX)
        count = FLOW_NEAREST_MAX;
    n = directory_nearest(rq->dir, rq->places, &q, hits, count);
    buf_init(&b, NEAREST_TEXT_MAX);
    /* Fewer services first, then less detail on the one that is left. */
    for (;;) {
        if (compose(&b, rq, hits, n, &d) != 0) {
            buf_release(&b);
            return -1;
        }
        if (fits(rq, buf_str(&b)))
            break;
        if (n > 1)
            n--;
        else if (d.distance)
            d.distance = false;
        else if (d.address)
            d.address = false;
        else if (n == 1 && (d.name_max == 0 || d.name_max > NAME_MIN_BYTES))
            d.name_max = d.name_max == 0 ? strlen(directory_service_name(hits[0].s, rq->lang)) - 1
                                         : d.name_max - 4;
        else
            break; /* the fixed texts alone are over budget: `katto check` warns about those */
    }
    if ((out->text = buf_detach(&b)) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        out->shown[out->nshown++] = hits[i].s;
    return 0;
}
