/* directory.c: the service directory in memory and its ranking (see directory.h). */
#include "directory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "err.h"
#include "hours.h"

/* Services of another municipality are offered only this close (km): the capital region's
 * cities lie within it of each other, while Tampere is not "near" Pori. */
#define NEARBY_KM 40.0

struct directory {
    struct service *services;
    size_t n;
};

#define CATEGORY_NAME(n) #n,
static const char *const categories[] = {DIRECTORY_CATEGORIES(CATEGORY_NAME)};
#undef CATEGORY_NAME

bool directory_category_known(const char *name)
{
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++) {
        if (strcmp(categories[i], name) == 0)
            return true;
    }
    return false;
}

bool directory_category_hides_address(const char *name)
{
    return strcmp(name, "violence_shelter") == 0;
}

bool directory_category_local_only(const char *name)
{
    return strcmp(name, "social_emergency") == 0 || strcmp(name, "social_guidance") == 0 ||
           strcmp(name, "housing_advice") == 0;
}

void directory_category_list(char *buf, size_t size)
{
    size_t used = 0;

    if (size == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]) && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s\n", categories[i]);

        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void service_release(struct service *s)
{
    char **fields[] = {&s->id,           &s->name_fi,    &s->name_sv,    &s->name_en,
                       &s->organization, &s->city,       &s->category,   &s->street_address,
                       &s->postal_code,  &s->phone,      &s->phone_e164, &s->hours_text,
                       &s->source_url,   &s->checked_on, &s->notes};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        free(*fields[i]);
    hours_free(s->hours);
}

void directory_free(struct directory *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        service_release(&d->services[i]);
    free(d->services);
    free(d);
}

/* Column i of st as an owned string; NULL for NULL or "". Sets *oom on allocation failure. */
static char *column_text(sqlite3_stmt *st, int i, bool *oom)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    char *copy;

    if (!t || !*t)
        return NULL;
    if ((copy = strdup((const char *)t)) == NULL)
        *oom = true;
    return copy;
}

static const char select_sql[] =
    "SELECT id, name_fi, name_sv, name_en, organization, city, category, street_address,"
    " postal_code, phone, phone_e164, hours_text, source_url, checked_on, notes, hours,"
    " address_hidden, lat, lon FROM services ORDER BY id";

/* Fills s from the current row. Returns 0, or -1 with err. */
static int service_from_row(struct service *s, sqlite3_stmt *st, const struct place_table *places,
                            char *err)
{
    bool oom = false;
    char **fields[] = {&s->id,           &s->name_fi,    &s->name_sv,    &s->name_en,
                       &s->organization, &s->city,       &s->category,   &s->street_address,
                       &s->postal_code,  &s->phone,      &s->phone_e164, &s->hours_text,
                       &s->source_url,   &s->checked_on, &s->notes};
    const unsigned char *hours = sqlite3_column_text(st, 15);
    char herr[ERR_LEN];

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        *fields[i] = column_text(st, (int)i, &oom);
    if (oom || !s->id || !s->city || !s->category) {
        err_set(err, "services: %s", oom ? "out of memory" : "row without id, city or category");
        return -1;
    }
    if (hours && *hours && (s->hours = hours_parse((const char *)hours, herr)) == NULL) {
        err_set(err, "services: %s: hours: %s", s->id, herr);
        return -1;
    }
    /* The import already enforces this; a hand-edited row must not leak a shelter either. */
    s->address_hidden =
        sqlite3_column_int(st, 16) != 0 || directory_category_hides_address(s->category);
    if (s->address_hidden) {
        free(s->street_address);
        free(s->postal_code);
        s->street_address = s->postal_code = NULL;
        return 0;
    }
    if (sqlite3_column_type(st, 17) != SQLITE_NULL && sqlite3_column_type(st, 18) != SQLITE_NULL) {
        s->has_point = s->point_exact = true;
        s->lat = sqlite3_column_double(st, 17);
        s->lon = sqlite3_column_double(st, 18);
    } else if (s->postal_code && places) {
        struct place p;

        if (place_lookup(places, s->postal_code, &p) == 0 && p.has_point) {
            s->has_point = true;
            s->lat = p.lat;
            s->lon = p.lon;
        }
    }
    return 0;
}

struct directory *directory_load(sqlite3 *db, const struct place_table *places, char *err)
{
    struct directory *d = calloc(1, sizeof(*d));
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    if (!d) {
        err_set(err, "services: out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v2(db, select_sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "services: %s", sqlite3_errmsg(db));
        free(d);
        return NULL;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (d->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct service *q = realloc(d->services, ncap * sizeof(*q));

            if (!q) {
                err_set(err, "services: out of memory");
                goto fail;
            }
            d->services = q;
            cap = ncap;
        }
        memset(&d->services[d->n], 0, sizeof(d->services[0]));
        d->n++;
        if (service_from_row(&d->services[d->n - 1], st, places, err) != 0)
            goto fail;
    }
    if (rc != SQLITE_DONE) {
        err_set(err, "services: %s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_finalize(st);
    return d;
fail:
    sqlite3_finalize(st);
    directory_free(d);
    return NULL;
}

size_t directory_count(const struct directory *d)
{
    return d ? d->n : 0;
}

const struct service *directory_get(const struct directory *d, size_t i)
{
    return &d->services[i];
}

const struct service *directory_find(const struct directory *d, const char *id)
{
    for (size_t i = 0; d && i < d->n; i++) {
        if (strcmp(d->services[i].id, id) == 0)
            return &d->services[i];
    }
    return NULL;
}

const char *directory_service_name(const struct service *s, const char *lang)
{
    const char *by_lang = NULL;

    if (strcmp(lang, "fi") == 0)
        by_lang = s->name_fi;
    else if (strcmp(lang, "sv") == 0)
        by_lang = s->name_sv;
    else
        by_lang = s->name_en;
    if (by_lang)
        return by_lang;
    if (s->name_en && strcmp(lang, "fi") != 0 && strcmp(lang, "sv") != 0)
        return s->name_en;
    if (s->name_fi)
        return s->name_fi;
    if (s->name_sv)
        return s->name_sv;
    if (s->name_en)
        return s->name_en;
    return s->organization ? s->organization : s->id;
}

long directory_service_age_days(const struct service *s, long long now)
{
    int y = 0, m = 1, d = 1;
    struct tm tm = {0};
    time_t checked;

    if (!s->checked_on || sscanf(s->checked_on, "%4d-%2d-%2d", &y, &m, &d) < 1 || y < 1970)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = 12; /* midday: a day count that DST cannot shift */
    tm.tm_isdst = -1;
    if ((checked = mktime(&tm)) == (time_t)-1)
        return -1;
    return now > (long long)checked ? (long)((now - (long long)checked) / 86400) : 0;
}

double directory_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0088; /* mean Earth radius, km */
    const double rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

    return 2 * r * asin(fmin(1.0, sqrt(a)));
}

static bool wanted_category(const struct directory_query *q, const char *category)
{
    if (q->ncategories == 0)
        return true;
    for (size_t i = 0; i < q->ncategories; i++) {
        if (strcmp(q->categories[i], category) == 0)
            return true;
    }
    return false;
}

static bool skipped(const struct directory_query *q, const struct service *s)
{
    for (size_t i = 0; i < q->nskip; i++) {
        if (q->skip[i] == s)
            return true;
    }
    return false;
}

struct candidate {
    struct directory_hit hit;
    int open_rank;  /* 0 open, 1 hours unknown, 2 closed (only with PREFER) */
    int place_rank; /* 0 same city, 1 a nearby city, 2 national */
    double rank_km; /* distance used for ranking, also when not shown */
};

static int cmp_candidate(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;

    if (x->open_rank != y->open_rank)
        return x->open_rank - y->open_rank;
    if (x->place_rank != y->place_rank)
        return x->place_rank - y->place_rank;
    if (x->rank_km != y->rank_km)
        return x->rank_km < y->rank_km ? -1 : 1;
    return strcmp(x->hit.s->id, y->hit.s->id); /* stable across runs */
}

/* Where the service is for ranking: its own point, else its city's. */
static bool service_point(const struct service *s, const struct place_table *places, double *lat,
                          double *lon)
{
    if (s->has_point) {
        *lat = s->lat;
        *lon = s->lon;
        return true;
    }
    return places && place_city_point(places, s->city, lat, lon);
}

/* Fills c for s, or returns false when s is not a candidate for q. */
static bool consider(const struct service *s, const struct place_table *places,
                     const struct directory_query *q, bool have_point, double lat, double lon,
                     struct candidate *c)
{
    bool national = strcmp(s->city, DIRECTORY_NATIONAL) == 0;
    bool same_city = q->city && strcmp(s->city, q->city) == 0;
    double slat, slon;
    long age;

    if (!wanted_category(q, s->category) || skipped(q, s))
        return false;
    if (q->max_age_days > 0 &&
        ((age = directory_service_age_days(s, q->now)) < 0 || age > q->max_age_days))
        return false;
    memset(c, 0, sizeof(*c));
    c->hit.s = s;
    if (national) {
        if (!q->national)
            return false;
        c->place_rank = 2;
    } else {
        if (!service_point(s, places, &slat, &slon)) {
            if (!same_city)
                return false;
        } else if (have_point) {
            c->rank_km = directory_distance_km(lat, lon, slat, slon);
        }
        if (!same_city &&
            (!have_point || c->rank_km > NEARBY_KM || directory_category_local_only(s->category)))
            return false;
        c->place_rank = same_city ? 0 : 1;
        /* A distance is shown only from a point the service itself has, never for a hidden one. */
        c->hit.distance_known = have_point && s->has_point && !s->address_hidden;
        c->hit.km = c->rank_km;
    }
    if (s->hours) {
        c->hit.hours_known = true;
        c->hit.open = hours_open_at(s->hours, q->now, &c->hit.until);
    }
    if (q->open == DIRECTORY_OPEN_ONLY && !(c->hit.hours_known && c->hit.open))
        return false;
    if (q->open == DIRECTORY_OPEN_PREFER)
        c->open_rank = !c->hit.hours_known ? 1 : c->hit.open ? 0 : 2;
    return true;
}

size_t directory_nearest(const struct directory *d, const struct place_table *places,
                         const struct directory_query *q, struct directory_hit *hits, size_t max)
{
    struct candidate *c;
    size_t n = 0;
    bool have_point = q->has_point;
    double lat = q->lat, lon = q->lon;

    if (!d || d->n == 0 || max == 0)
        return 0;
    if (!have_point && q->city && places)
        have_point = place_city_point(places, q->city, &lat, &lon);
    if ((c = malloc(d->n * sizeof(*c))) == NULL)
        return 0;
    for (size_t i = 0; i < d->n; i++) {
        if (consider(&d->services[i], places, q, have_point, lat, lon, &c[n]))
            n++;
    }
    qsort(c, n, sizeof(*c), cmp_candidate);
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++)
        hits[i] = c[i].hit;
    free(c);
    return n;
}

const struct service *directory_social_emergency(const struct directory *d, const char *city)
{
    for (size_t i = 0; d && city && i < d->n; i++) {
        const struct service *s = &d->services[i];

        if (strcmp(s->category, "social_emergency") == 0 && strcmp(s->city, city) == 0 && s->phone)
            return s;
    }
    return NULL;
}

long long directory_generation(sqlite3 *db)
{
    sqlite3_stmt *st;
    long long g = -1;

    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM directory_imports", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        g = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return g;
}

int directory_load_all(sqlite3 *db, struct place_table **places, struct directory **services,
                       long long *generation, char *err)
{
    struct place_table *p;
    struct directory *d;
    long long g = directory_generation(db);

    if (g < 0) {
        err_set(err, "directory: %s", sqlite3_errmsg(db));
        return -1;
    }
    if ((p = place_table_load_db(db, err)) == NULL)
        return -1;
    if ((d = directory_load(db, p, err)) == NULL) {
        place_table_free(p);
        return -1;
    }
    *places = p;
    *services = d;
    *generation = g;
    return 0;
}
