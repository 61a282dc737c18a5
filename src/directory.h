/*
 * directory.h: the service directory in memory. The `services` table
 * (migration 0006, filled by `katto import services`) is read once into a
 * read-only array; coordinates come from the row itself or, failing that,
 * from its postal code. directory_nearest() ranks services for a person's
 * place by great-circle distance, filters by category and prefers what is
 * open now. The server swaps in a freshly loaded directory after an import;
 * a directory is only used between event-loop callbacks, so no locking.
 *
 * Services of a category that must stay hidden (violence shelters) never
 * carry an address or a point, whatever their row says, so no reply can give
 * a distance from which the place could be worked out.
 */
#ifndef KATTO_DIRECTORY_H
#define KATTO_DIRECTORY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "place.h"

/*
 * The categories flows may ask for. X(name) for each; a row of another
 * category is refused at import.
 */
#define DIRECTORY_CATEGORIES(X)                                                                    \
    X(housing_advice)          /* asumisneuvonta */                                                \
    X(social_emergency)        /* sosiaali- ja kriisipäivystys */                                 \
    X(emergency_accommodation) /* hätämajoitus, asumispalvelukeskus */                           \
    X(night_shelter)           /* yömaja, yökahvila */                                           \
    X(day_centre)              /* päiväkeskus, matalan kynnyksen olohuone */                     \
    X(low_threshold)           /* päihde- ja mielenterveystyön matalan kynnyksen palvelu */      \
    X(outreach)                /* etsivä työ, liikkuva tiimi */                                  \
    X(youth_housing)           /* nuorten asuminen */                                              \
    X(youth_service)           /* Ohjaamo, nuorten palvelut */                                     \
    X(youth_shelter)           /* nuorten turvatalo */                                             \
    X(peer_support)            /* kokemusasiantuntijat, vertaistuki */                             \
    X(post_prison_support)     /* tuki vapautumisen jälkeen */                                    \
    X(immigrant_advice)        /* maahanmuuttajien neuvonta */                                     \
    X(violence_shelter)        /* turvakoti: address always hidden */                              \
    X(violence_helpline)                                                                           \
    X(crisis_helpline)                                                                             \
    X(crisis_service)                                                                              \
    X(emergency_number)                                                                            \
    X(health_advice)                                                                               \
    X(social_guidance)   /* sosiaaliohjaus, aikuissosiaalityö */                                  \
    X(supported_housing) /* tuettu asuminen (not walk-in) */                                       \
    X(ngo_office)

#define DIRECTORY_NATIONAL "national" /* city of services for the whole country */

/* True if name (borrowed) is one of DIRECTORY_CATEGORIES. */
bool directory_category_known(const char *name);

/* True for categories whose address and point are never kept (violence_shelter). */
bool directory_category_hides_address(const char *name);

/*
 * True for categories whose services serve only their own municipality
 * (social emergency, social guidance, housing advice): a neighbouring city's
 * is never offered, however near.
 */
bool directory_category_local_only(const char *name);

/* Writes the category names, one per line, to buf (size bytes); for usage messages. */
void directory_category_list(char *buf, size_t size);

struct hours;

struct service {
    char *id;
    char *name_fi, *name_sv, *name_en; /* NULL where the source gave none */
    char *organization;
    char *city; /* Finnish municipality name or DIRECTORY_NATIONAL */
    char *category;
    char *street_address, *postal_code; /* NULL when unknown or hidden */
    char *phone, *phone_e164;           /* NULL when no verified number */
    char *hours_text, *source_url, *checked_on, *notes;
    struct hours *hours; /* NULL: opening hours not known */
    bool address_hidden;
    bool has_point;   /* lat/lon known (from the row or its postal code) */
    bool point_exact; /* from the row itself, not a postal code area */
    double lat, lon;
};

struct directory;

/*
 * Reads every row of the services table of db (borrowed). places (borrowed,
 * may be NULL) supplies points for rows that have only a postal code.
 * Returns the directory, owned (free with directory_free), or NULL with err.
 */
struct directory *directory_load(sqlite3 *db, const struct place_table *places, char *err);

void directory_free(struct directory *d); /* NULL is a no-op */

size_t directory_count(const struct directory *d);
const struct service *directory_get(const struct directory *d, size_t i); /* i < count */
const struct service *directory_find(const struct directory *d, const char *id);

/* Name in lang ("fi", "sv", "en"; others fall back to en, then fi), else any name, else
 * organization. */
const char *directory_service_name(const struct service *s, const char *lang);

/*
 * Days since the row was last checked at unix time now (a partial date such
 * as "2021-06" counts from its first day), or -1 if it never was.
 */
long directory_service_age_days(const struct service *s, long long now);

enum directory_open { DIRECTORY_OPEN_PREFER, DIRECTORY_OPEN_ONLY, DIRECTORY_OPEN_ANY };

struct directory_query {
    bool has_point; /* the person's place */
    double lat, lon;
    const char *city;                  /* the person's municipality, may be NULL */
    const char *const *categories;     /* wanted categories (borrowed) */
    size_t ncategories;                /* 0: any category */
    long long now;                     /* unix seconds */
    enum directory_open open;          /* PREFER: open ones first, then closed */
    long max_age_days;                 /* > 0: skip rows not checked within this many days */
    bool national;                     /* also offer services for the whole country */
    const struct service *const *skip; /* already shown (borrowed), may be NULL */
    size_t nskip;
};

struct directory_hit {
    const struct service *s;
    bool distance_known; /* never for hidden addresses or national services */
    double km;
    bool hours_known;
    bool open;
    long long
        until; /* open: closes at (0: not within 8 days, or 24/7); closed: opens at (0: not soon) */
};

/*
 * Ranks services for q: services in the person's city and those with a point
 * within reach, nearest first (a service without a point of its own is ranked
 * by its city's point); with PREFER, open services come before closed ones
 * and those with unknown hours between the two. Fills at most max hits and
 * returns how many.
 */
size_t directory_nearest(const struct directory *d, const struct place_table *places,
                         const struct directory_query *q, struct directory_hit *hits, size_t max);

/* The social emergency service of city (first with a phone), or NULL. */
const struct service *directory_social_emergency(const struct directory *d, const char *city);

/*
 * The number of the last import (directory_imports), 0 if none, -1 on error:
 * the server reloads when it changes.
 */
long long directory_generation(sqlite3 *db);

/*
 * Loads the postal codes and the services of db (borrowed) into *places and
 * *services (owned by the caller) and their generation. Returns 0, or -1
 * with err; on error nothing is returned.
 */
int directory_load_all(sqlite3 *db, struct place_table **places, struct directory **services,
                       long long *generation, char *err);

/* Great-circle distance in km between two WGS84 points (haversine). */
double directory_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
