/*
 * directory_hsds.c: the Open Referral HSDS import (directory_import_hsds,
 * declared in directory_import.h). It reads an HSDS CSV package, 3.0 or 2.0
 * file and column names, turns it into rows of the services table and hands
 * them to svc_set_import() (directory_import_rows.h), which validates and
 * writes them as it does Katto's own service CSV.
 *
 * HSDS mapping (one Katto row per service and location):
 * - id: "hsds-" + a slug of the service id ([a-z0-9-], accents folded), plus
 *   "-" + a slug of the location id when the service has several locations;
 *   ids over 63 bytes are cut and end in a hash of the whole, and a clash gets
 *   "-2", "-3"... The HSDS ids are kept in notes so a row can be traced.
 * - name_fi: services.name. HSDS has one name per service; a non-standard
 *   `language` column of services.csv ("sv", "en") puts it in name_sv or
 *   name_en instead. organization: organizations.name.
 * - category: a taxonomy term linked to the service (3.0: attributes.csv with
 *   link_id = service and taxonomy_term_id; 2.0: service_taxonomy.csv) whose
 *   code or name is one of Katto's categories (case, spaces and hyphens
 *   ignored); a 2.0 taxonomy_id or taxonomy_detail that is a category name
 *   also counts. None is an error for that service.
 * - city, street_address, postal_code: the location's physical address
 *   (addresses.csv or physical_addresses.csv; address_1 and address_2; city,
 *   or locality), else its postal address for the city only. The city must be
 *   a municipality of postal_codes; case and accents are forgiven and the
 *   table's spelling is stored. lat/lon: locations.latitude/longitude.
 * - phone: phones.number of the service at that location, else of the
 *   service, else of the location, else of the organization (not faxes);
 *   phone_e164 is derived from it as the shipped data was: "(0)" and
 *   separators dropped, a leading 0 becomes +358, 00 becomes +.
 * - hours: the schedules of the service at that location, else of the
 *   service, else of the location, turned into hours.h's format. Schedules not
 *   valid today (valid_from/valid_to) are ignored. A schedule that cannot be
 *   expressed (monthly, every other week, a UTC time...) leaves hours empty
 *   with a warning. hours_text: the schedules' descriptions.
 * - source_url: services.url, else organizations.website (2.0: url).
 *   checked_on: services.assured_date, else the date of last_modified.
 * - Services whose status is inactive, defunct or temporarily closed are
 *   skipped with a warning.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "directory.h"
#include "directory_import.h"
#include "directory_import_rows.h"
#include "hours.h"
#include "utf8.h"

#define CATEGORY_LEN 64 /* bytes of a category name read from a taxonomy term */

/* ---- the files ---------------------------------------------------------- */

enum hsds_file {
    H_SERVICES,
    H_ORGANIZATIONS,
    H_LOCATIONS,
    H_SAL,
    H_ADDRESSES,
    H_PHONES,
    H_SCHEDULES,
    H_TERMS,
    H_LINKS,
    H_COUNT
};

/* File names by version: the 3.0 name first, then older ones tried in turn. */
static const char *const hsds_names[H_COUNT][3] = {
    [H_SERVICES] = {"services.csv"},
    [H_ORGANIZATIONS] = {"organizations.csv"},
    [H_LOCATIONS] = {"locations.csv"},
    [H_SAL] = {"service_at_locations.csv", "services_at_location.csv", "service_at_location.csv"},
    [H_ADDRESSES] = {"addresses.csv", "physical_addresses.csv"},
    [H_PHONES] = {"phones.csv"},
    [H_SCHEDULES] = {"schedules.csv", "regular_schedules.csv"},
    [H_TERMS] = {"taxonomy_terms.csv", "taxonomy.csv"},
    [H_LINKS] = {"attributes.csv", "service_taxonomy.csv"},
};

/*
 * Indexes: which rows of which file, by which column. Phones and schedules
 * are indexed by what they are attached to, in the order of enum hsds_level.
 */
enum hsds_index {
    I_ORG_ID,
    I_LOC_ID,
    I_SAL_SERVICE,
    I_ADDR_LOCATION,
    I_PHONE_SAL,
    I_PHONE_SERVICE,
    I_PHONE_LOCATION,
    I_PHONE_ORG,
    I_SCHED_SAL,
    I_SCHED_SERVICE,
    I_SCHED_LOCATION,
    I_TERM_ID,
    I_LINK_OWNER,
    I_COUNT
};

static const struct {
    enum hsds_file file;
    const char *column, *alt; /* alt: the 2.0 name, or NULL */
} hsds_indexes[I_COUNT] = {
    [I_ORG_ID] = {H_ORGANIZATIONS, "id", NULL},
    [I_LOC_ID] = {H_LOCATIONS, "id", NULL},
    [I_SAL_SERVICE] = {H_SAL, "service_id", NULL},
    [I_ADDR_LOCATION] = {H_ADDRESSES, "location_id", NULL},
    [I_PHONE_SAL] = {H_PHONES, "service_at_location_id", NULL},
    [I_PHONE_SERVICE] = {H_PHONES, "service_id", NULL},
    [I_PHONE_LOCATION] = {H_PHONES, "location_id", NULL},
    [I_PHONE_ORG] = {H_PHONES, "organization_id", NULL},
    [I_SCHED_SAL] = {H_SCHEDULES, "service_at_location_id", NULL},
    [I_SCHED_SERVICE] = {H_SCHEDULES, "service_id", NULL},
    [I_SCHED_LOCATION] = {H_SCHEDULES, "location_id", NULL},
    [I_TERM_ID] = {H_TERMS, "id", NULL},
    [I_LINK_OWNER] = {H_LINKS, "link_id", "service_id"},
};

struct hsds {
    struct import_table t[H_COUNT];
    struct import_index ix[I_COUNT];
    char today[11]; /* YYYY-MM-DD, UTC, for schedules' validity */
};

/* What a Katto row is built from: one service at one location. */
struct hsds_site {
    const struct csv_row *service, *org, *sal, *loc; /* org, sal and loc may be NULL */
    const char *sid, *lid, *salid, *orgid;           /* "" when unknown */
    char category[CATEGORY_LEN];                     /* "" when the service has none */
    bool several;                                    /* the service has several locations */
};

/*
 * Reads the files of dir that exist. Returns the number of rows left out (see
 * import_table_read), or -1 if a file cannot be read; the problems are reported.
 */
static int hsds_read(struct hsds *h, const char *dir, struct diag *d)
{
    char path[4096];
    int problems = 0, fatal = 0;

    for (int f = 0; f < H_COUNT; f++) {
        for (int v = 0; v < 3 && hsds_names[f][v] != NULL && !h->t[f].present; v++) {
            int rc;

            import_table_release(&h->t[f]);
            snprintf(path, sizeof(path), "%s/%s", dir, hsds_names[f][v]);
            if ((rc = import_table_read(&h->t[f], path, f != H_SERVICES || v > 0, d)) < 0)
                fatal = 1;
            else
                problems += rc;
        }
    }
    return fatal ? -1 : problems;
}

/* The column of t named name, else the one named alt (the 2.0 name; may be NULL), or -1. */
static int column2(const struct import_table *t, const char *name, const char *alt)
{
    int c = import_table_column(t, name);

    return c >= 0 || alt == NULL ? c : import_table_column(t, alt);
}

static int hsds_index(struct hsds *h)
{
    for (int i = 0; i < I_COUNT; i++) {
        const struct import_table *t = &h->t[hsds_indexes[i].file];

        if (import_index_table(&h->ix[i], t,
                               column2(t, hsds_indexes[i].column, hsds_indexes[i].alt)) != 0)
            return -1;
    }
    return 0;
}

static void hsds_release(struct hsds *h)
{
    for (int i = 0; i < I_COUNT; i++)
        import_index_release(&h->ix[i]);
    for (int f = 0; f < H_COUNT; f++)
        import_table_release(&h->t[f]);
}

/*
 * The rows of index i's file under key, in file order:
 *   for (p = hsds_find(h, i, key); (row = hsds_at(h, i, key, p)) != NULL; p++)
 */
static size_t hsds_find(const struct hsds *h, enum hsds_index i, const char *key)
{
    return import_index_find(&h->ix[i], key);
}

static const struct csv_row *hsds_at(const struct hsds *h, enum hsds_index i, const char *key,
                                     size_t pos)
{
    const struct import_index *ix = &h->ix[i];

    if (key[0] == '\0' || !import_index_at(ix, pos, key))
        return NULL;
    return &h->t[hsds_indexes[i].file].rows[ix->keys[pos].i];
}

/* The first row under key in index i, or NULL. */
static const struct csv_row *hsds_lookup(const struct hsds *h, enum hsds_index i, const char *key)
{
    return hsds_at(h, i, key, hsds_find(h, i, key));
}

/* Field name of row, a row of file f; "" when row is NULL or f lacks the column. */
static const char *hfield(const struct hsds *h, enum hsds_file f, const struct csv_row *row,
                          const char *name)
{
    return row != NULL ? import_field(&h->t[f], row, name) : "";
}

/* ---- categories --------------------------------------------------------- */

/*
 * Writes the Katto category a taxonomy term names (case ignored, spaces and
 * hyphens taken as '_') to out. False if the term is none.
 */
static bool category_match(const char *term, char out[CATEGORY_LEN])
{
    size_t n = strlen(term);

    if (n == 0 || n >= CATEGORY_LEN)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = term[i];

        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (c == ' ' || c == '-') ? '_' : c;
    }
    return directory_category_known(out);
}

/*
 * The category a taxonomy link points to, into out: the term's code or name,
 * or the 2.0 id/detail itself. False if none is a Katto category.
 */
static bool link_category(const struct hsds *h, const struct csv_row *link, char out[CATEGORY_LEN])
{
    const struct import_table *links = &h->t[H_LINKS];
    const char *term_id = import_cell(link, column2(links, "taxonomy_term_id", "taxonomy_id"));
    const struct csv_row *term = hsds_lookup(h, I_TERM_ID, term_id);

    return (term != NULL && category_match(hfield(h, H_TERMS, term, "code"), out)) ||
           (term != NULL && category_match(hfield(h, H_TERMS, term, "name"), out)) ||
           category_match(term_id, out) ||
           category_match(import_field(links, link, "taxonomy_detail"), out);
}

/*
 * The Katto category of service sid into out ("" if it has none); a second,
 * different one is a warning.
 */
static void hsds_category(const struct hsds *h, const struct csv_row *srow, const char *sid,
                          char out[CATEGORY_LEN], struct diag *d)
{
    const struct import_table *links = &h->t[H_LINKS];
    const struct csv_row *link;
    char c[CATEGORY_LEN];

    out[0] = '\0';
    for (size_t p = hsds_find(h, I_LINK_OWNER, sid);
         (link = hsds_at(h, I_LINK_OWNER, sid, p)) != NULL; p++) {
        const char *entity = import_field(links, link, "link_entity");

        if ((entity[0] != '\0' && strcmp(entity, "service") != 0) || !link_category(h, link, c))
            continue;
        if (out[0] == '\0')
            snprintf(out, CATEGORY_LEN, "%s", c);
        else if (strcmp(c, out) != 0)
            import_report(d, DIAG_WARNING, h->t[H_SERVICES].path, srow->line,
                          "service '%.40s' has several Katto categories: %s is used, not %s", sid,
                          out, c);
    }
}

/* ---- ids ---------------------------------------------------------------- */

/* "hsds-" + slug of s into out: folded to ASCII, runs of anything else become one '-'. */
static void slug_append(char *out, size_t size, const char *s)
{
    char *folded = utf8_fold(s);
    size_t n = strlen(out);
    bool dash = n > 0 && out[n - 1] == '-';

    for (const char *p = folded ? folded : ""; *p && n + 1 < size; p++) {
        char c = *p;

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[n++] = c;
            dash = false;
        } else if (!dash) {
            out[n++] = '-';
            dash = true;
        }
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    free(folded);
}

static uint32_t fnv1a(const char *s, uint32_t h)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static bool id_taken(const struct svc_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->rows[i].f[SVC_ID] != NULL && strcmp(s->rows[i].f[SVC_ID], id) == 0)
            return true;
    }
    return false;
}

/*
 * A stable Katto id for a service (and location): the contact log refers to
 * it, so it is derived from the HSDS ids, not from the order of rows.
 */
static void hsds_id(const struct svc_set *s, const char *sid, const char *lid,
                    char out[IMPORT_ID_MAX + 1])
{
    char buf[512] = "hsds-";
    uint32_t hash = fnv1a(lid ? lid : "", fnv1a(sid, 2166136261u));
    size_t n;

    slug_append(buf, sizeof(buf), sid);
    if (lid != NULL) {
        strcat(buf, "-");
        slug_append(buf, sizeof(buf), lid);
    }
    n = strlen(buf);
    if (n > IMPORT_ID_MAX || strcmp(buf, "hsds") == 0) {
        n = n > IMPORT_ID_MAX - 9 ? IMPORT_ID_MAX - 9 : n;
        while (n > 0 && buf[n - 1] == '-')
            n--;
        snprintf(buf + n, sizeof(buf) - n, "-%08x", hash);
    }
    snprintf(out, IMPORT_ID_MAX + 1, "%.*s", IMPORT_ID_MAX, buf);
    for (int k = 2; id_taken(s, out) && k < 1000; k++) {
        char suffix[8];
        int len = snprintf(suffix, sizeof(suffix), "-%d", k);

        n = strlen(buf) > (size_t)(IMPORT_ID_MAX - len) ? (size_t)(IMPORT_ID_MAX - len)
                                                        : strlen(buf);
        snprintf(out, IMPORT_ID_MAX + 1, "%.*s%s", (int)n, buf, suffix);
    }
}

/* ---- phones and schedules: what they are attached to -------------------- */

/*
 * What a phone or schedule row is attached to, most specific first. The
 * indexes of both files follow this order (I_PHONE_SAL + level,
 * I_SCHED_SAL + level).
 */
enum hsds_level { L_SAL, L_SERVICE, L_LOCATION, L_ORG, L_COUNT };

/* The index of file f (phones or schedules) at level, or I_COUNT: schedules have no L_ORG. */
static enum hsds_index level_index(enum hsds_file f, enum hsds_level level)
{
    if (f == H_PHONES)
        return (enum hsds_index)(I_PHONE_SAL + level);
    return level == L_ORG ? I_COUNT : (enum hsds_index)(I_SCHED_SAL + level);
}

/* The key of site s at level. */
static const char *level_key(const struct hsds_site *s, enum hsds_level level)
{
    const char *keys[L_COUNT] = {s->salid, s->sid, s->lid, s->orgid};

    return keys[level];
}

/*
 * Does row of file f, found under level, belong to site s? A service's must
 * not name another location, a location's must belong to no service, and an
 * organization's to neither a service nor a location.
 */
static bool attached_here(const struct hsds *h, enum hsds_file f, const struct csv_row *row,
                          enum hsds_level level, const struct hsds_site *s)
{
    const char *sid = hfield(h, f, row, "service_id");
    const char *lid = hfield(h, f, row, "location_id");

    switch (level) {
    case L_SERVICE: return lid[0] == '\0' || strcmp(lid, s->lid) == 0;
    case L_LOCATION: return sid[0] == '\0';
    case L_ORG: return sid[0] == '\0' && lid[0] == '\0';
    default: return true;
    }
}

/*
 * The rows of file f that site s takes come from the most specific level that
 * has one: the service at the location, else the service, else the location,
 * else the organization. Returns that level (L_COUNT if none) and its first
 * row in *first, counting only rows that usable() accepts (NULL: all).
 */
static enum hsds_level attached_level(const struct hsds *h, enum hsds_file f,
                                      const struct hsds_site *s,
                                      bool (*usable)(const struct hsds *, const struct csv_row *),
                                      const struct csv_row **first)
{
    for (enum hsds_level l = L_SAL; l < L_COUNT; l++) {
        enum hsds_index i = level_index(f, l);
        const char *key = level_key(s, l);
        const struct csv_row *row;

        if (i == I_COUNT)
            continue;
        for (size_t p = hsds_find(h, i, key); (row = hsds_at(h, i, key, p)) != NULL; p++) {
            if (attached_here(h, f, row, l, s) && (usable == NULL || usable(h, row))) {
                *first = row;
                return l;
            }
        }
    }
    return L_COUNT;
}

/* ---- phones ------------------------------------------------------------- */

/*
 * Derives an E.164 number from a number as printed, the way the shipped data
 * was made: "(0)" and separators dropped, 00 -> +, a leading 0 -> +358.
 * Short numbers (112, 116 117) stay as they are. 0, or -1 if it is not a number.
 */
static int e164_from(const char *printed, char out[24])
{
    char digits[17]; /* E.164 has at most 15 */
    size_t n = 0;
    const char *p = printed;
    bool plus = false;

    while (*p == ' ')
        p++;
    if (*p == '+') {
        plus = true;
        p++;
    }
    for (; *p; p++) {
        if (strncmp(p, "(0)", 3) == 0) {
            p += 2;
        } else if (*p >= '0' && *p <= '9') {
            if (n + 1 >= sizeof(digits))
                return -1;
            digits[n++] = *p;
        } else if (strchr(" -./()", *p) == NULL) {
            return -1;
        }
    }
    digits[n] = '\0';
    if (plus)
        snprintf(out, 24, "+%s", digits);
    else if (digits[0] == '0' && digits[1] == '0')
        snprintf(out, 24, "+%s", digits + 2);
    else if (digits[0] == '0')
        snprintf(out, 24, "+358%s", digits + 1);
    else
        snprintf(out, 24, "%s", digits);
    return import_e164_form(out) ? 0 : -1;
}

/* Is phone row p a number to call: not a fax, and not empty? */
static bool phone_usable(const struct hsds *h, const struct csv_row *p)
{
    return strcmp(hfield(h, H_PHONES, p, "type"), "fax") != 0 &&
           hfield(h, H_PHONES, p, "number")[0] != '\0';
}

/* Fills phone and phone_e164. Returns the number of errors, or -1 when memory runs out. */
static int hsds_phone(const struct hsds *h, const struct hsds_site *s, struct svc_row *r,
                      struct diag *d)
{
    const struct csv_row *p;
    const char *number, *ext;
    char e164[24], printed[160];

    if (attached_level(h, H_PHONES, s, phone_usable, &p) == L_COUNT)
        return 0;
    number = hfield(h, H_PHONES, p, "number");
    ext = hfield(h, H_PHONES, p, "extension");
    if (e164_from(number, e164) != 0) {
        import_report(d, DIAG_ERROR, h->t[H_PHONES].path, p->line,
                      "number '%.32s' cannot be read as a Finnish or international phone number",
                      number);
        return 1;
    }
    snprintf(printed, sizeof(printed), "%s%s%s", number, ext[0] ? " ext. " : "", ext);
    if (svc_row_set(r, SVC_PHONE, printed) != 0 || svc_row_set(r, SVC_PHONE_E164, e164) != 0)
        return -1;
    return 0;
}

/* ---- schedules -> hours.h's format -------------------------------------- */

struct week {
    int n[7];                      /* ranges on each day, Monday first */
    int open[7][HOURS_MAX_RANGES]; /* minutes from midnight */
    int close[7][HOURS_MAX_RANGES];
};

static const char *const day_names[7] = {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"};

/*
 * Parses an HSDS time: HH:MM, optionally :SS, optionally a UTC offset. Katto's
 * hours are Helsinki wall-clock times, so only no offset or a Finnish one
 * (+02:00 / +03:00, which publishers use for local time) can be kept; "Z" and
 * other offsets cannot. Returns minutes, or -1 with why set.
 */
static int hsds_time(const char *s, const char **why)
{
    size_t n = strlen(s);
    int hh, mm;

    if (n < 5 || strspn(s, "0123456789") != 2 || s[2] != ':' || strspn(s + 3, "0123456789") != 2) {
        *why = "a time is not HH:MM";
        return -1;
    }
    hh = (s[0] - '0') * 10 + (s[1] - '0');
    mm = (s[3] - '0') * 10 + (s[4] - '0');
    s += 5;
    if (s[0] == ':' && strspn(s + 1, "0123456789") == 2)
        s += 3;
    if (s[0] != '\0' && strcmp(s, "+02:00") != 0 && strcmp(s, "+03:00") != 0 &&
        strcmp(s, "+0200") != 0 && strcmp(s, "+0300") != 0) {
        *why = "a time has a UTC offset other than Finland's";
        return -1;
    }
    if (hh > 24 || mm > 59 || (hh == 24 && mm != 0)) {
        *why = "a time is out of range";
        return -1;
    }
    return hh * 60 + mm;
}

/* Day index (Monday 0) of an RRULE day code, a 2.0 weekday number (1 = Monday) or name. */
static int hsds_day(const char *s)
{
    static const char *const names[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                         "friday", "saturday", "sunday"};
    char low[16];
    size_t n = strlen(s);

    if (n == 1 && s[0] >= '1' && s[0] <= '7')
        return s[0] - '1';
    if (n < 2 || n >= sizeof(low))
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    for (int d = 0; d < 7; d++) {
        if ((n == 2 && strncmp(low, names[d], 2) == 0) ||
            (n == 3 && strncmp(low, names[d], 3) == 0) || strcmp(low, names[d]) == 0)
            return d;
    }
    return -1;
}

/* Sets bit d of *days for each day in byday ("MO,TU,WE"). 0, or -1 with why. */
static int hsds_days(const char *byday, unsigned *days, const char **why)
{
    char buf[128], *save = NULL;

    if (strlen(byday) >= sizeof(buf)) {
        *why = "byday is too long";
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", byday);
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int day = hsds_day(tok);

        if (day < 0) {
            *why = "byday names a day of the month (such as 2MO) or an unknown day";
            return -1;
        }
        *days |= 1u << day;
    }
    return 0;
}

/* Is schedule row s in force today (valid_from <= today <= valid_to, ISO dates compared as text)?
 */
static bool hsds_schedule_current(const struct hsds *h, const struct csv_row *s)
{
    const char *from = hfield(h, H_SCHEDULES, s, "valid_from");
    const char *to = hfield(h, H_SCHEDULES, s, "valid_to");

    return (from[0] == '\0' || strncmp(from, h->today, 10) <= 0) &&
           (to[0] == '\0' || strncmp(to, h->today, 10) >= 0);
}

/* The days a schedule row covers: byday (3.0), else weekday (2.0). 0, or -1 with why. */
static int hsds_schedule_days(const struct hsds *h, const struct csv_row *s, unsigned *days,
                              const char **why)
{
    const char *freq = hfield(h, H_SCHEDULES, s, "freq");
    const char *interval = hfield(h, H_SCHEDULES, s, "interval");
    const char *byday = hfield(h, H_SCHEDULES, s, "byday");
    const char *weekday = hfield(h, H_SCHEDULES, s, "weekday");

    *days = 0;
    if (freq[0] != '\0' && strcmp(freq, "WEEKLY") != 0 && strcmp(freq, "weekly") != 0) {
        *why = "freq is not WEEKLY";
        return -1;
    }
    if (interval[0] != '\0' && strcmp(interval, "1") != 0) {
        *why = "interval is not 1 (every week)";
        return -1;
    }
    if (hfield(h, H_SCHEDULES, s, "bymonthday")[0] || hfield(h, H_SCHEDULES, s, "byweekno")[0] ||
        hfield(h, H_SCHEDULES, s, "byyearday")[0]) {
        *why = "it repeats on days of the month or year";
        return -1;
    }
    if (byday[0] != '\0')
        return hsds_days(byday, days, why);
    if (weekday[0] != '\0' && hsds_day(weekday) >= 0) {
        *days = 1u << hsds_day(weekday);
        return 0;
    }
    *why = "it names no days (byday or weekday)";
    return -1;
}

/*
 * Adds schedule row s to w. Returns 1 if added, 0 if it has no times (only a
 * description) or is not in force, -1 with why if it cannot be expressed.
 */
static int hsds_schedule_add(const struct hsds *h, const struct csv_row *s, struct week *w,
                             const char **why)
{
    const char *opens = hfield(h, H_SCHEDULES, s, "opens_at");
    const char *closes = hfield(h, H_SCHEDULES, s, "closes_at");
    unsigned days;
    int open, close;

    if (!hsds_schedule_current(h, s) || (opens[0] == '\0' && closes[0] == '\0'))
        return 0;
    if (opens[0] == '\0' || closes[0] == '\0') {
        *why = "opens_at or closes_at is missing";
        return -1;
    }
    if (hsds_schedule_days(h, s, &days, why) != 0 || (open = hsds_time(opens, why)) < 0 ||
        (close = hsds_time(closes, why)) < 0)
        return -1;
    if (open == 24 * 60) {
        *why = "opens_at is 24:00";
        return -1;
    }
    if (close == 23 * 60 + 59)
        close = 24 * 60; /* HSDS's advice for "open all day" is 00:00-23:59 */
    for (int d = 0; d < 7; d++) {
        if (!(days & (1u << d)))
            continue;
        if (w->n[d] == HOURS_MAX_RANGES) {
            *why = "more time ranges on one day than Katto keeps";
            return -1;
        }
        w->open[d][w->n[d]] = open;
        w->close[d][w->n[d]] = close;
        w->n[d]++;
    }
    return 1;
}

/* Sorts each day's ranges by opening time (insertion sort: at most 8) and drops repeats. */
static void week_sort(struct week *w)
{
    for (int d = 0; d < 7; d++) {
        int kept = 0;

        for (int i = 1; i < w->n[d]; i++) {
            for (int j = i; j > 0 && w->open[d][j - 1] > w->open[d][j]; j--) {
                int o = w->open[d][j], c = w->close[d][j];

                w->open[d][j] = w->open[d][j - 1];
                w->close[d][j] = w->close[d][j - 1];
                w->open[d][j - 1] = o;
                w->close[d][j - 1] = c;
            }
        }
        for (int i = 0; i < w->n[d]; i++) {
            if (kept > 0 && w->open[d][kept - 1] == w->open[d][i] &&
                w->close[d][kept - 1] == w->close[d][i])
                continue;
            w->open[d][kept] = w->open[d][i];
            w->close[d][kept] = w->close[d][i];
            kept++;
        }
        w->n[d] = kept;
    }
}

static bool same_day(const struct week *w, int a, int b)
{
    if (w->n[a] != w->n[b])
        return false;
    for (int i = 0; i < w->n[a]; i++) {
        if (w->open[a][i] != w->open[b][i] || w->close[a][i] != w->close[b][i])
            return false;
    }
    return true;
}

static void append(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;

    if (n + 1 >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

/* Appends the days of mask, runs of three or more as "Mo-We". */
static void format_days(unsigned mask, char *out, size_t size)
{
    bool first = true;

    for (int d = 0; d < 7; d++) {
        int e = d;

        if (!(mask & (1u << d)))
            continue;
        while (e + 1 < 7 && (mask & (1u << (e + 1))))
            e++;
        if (e - d >= 2) {
            append(out, size, "%s%s-%s", first ? "" : ",", day_names[d], day_names[e]);
        } else {
            for (int k = d; k <= e; k++)
                append(out, size, "%s%s", first && k == d ? "" : ",", day_names[k]);
        }
        first = false;
        d = e;
    }
}

/* Writes w in hours.h's format: "24/7", or days with the same times grouped into one rule. */
static void week_format(struct week *w, char *out, size_t size)
{
    unsigned done = 0;
    bool always = true;

    out[0] = '\0';
    week_sort(w);
    for (int d = 0; d < 7; d++)
        always = always && w->n[d] == 1 && w->open[d][0] == 0 && w->close[d][0] == 24 * 60;
    if (always) {
        snprintf(out, size, "24/7");
        return;
    }
    for (int d = 0; d < 7; d++) {
        unsigned mask = 0;

        if (w->n[d] == 0 || (done & (1u << d)))
            continue;
        for (int e = d; e < 7; e++) {
            if (same_day(w, d, e))
                mask |= 1u << e;
        }
        done |= mask;
        append(out, size, "%s", out[0] ? "; " : "");
        format_days(mask, out, size);
        for (int i = 0; i < w->n[d]; i++)
            append(out, size, "%s%02d:%02d-%02d:%02d", i ? "," : " ", w->open[d][i] / 60,
                   w->open[d][i] % 60, w->close[d][i] / 60, w->close[d][i] % 60);
    }
}

/* Fills hours and hours_text from the schedules. Returns -1 only when memory runs out. */
static int hsds_hours(const struct hsds *h, const struct hsds_site *s, struct svc_row *r,
                      struct diag *d)
{
    const struct csv_row *row;
    enum hsds_level level = attached_level(h, H_SCHEDULES, s, NULL, &row);
    enum hsds_index i;
    const char *key, *why = NULL;
    struct week w;
    char hours[512] = "", text[1024] = "";
    bool ok = true;

    if (level == L_COUNT)
        return 0;
    i = level_index(H_SCHEDULES, level);
    key = level_key(s, level);
    memset(&w, 0, sizeof(w));
    for (size_t p = hsds_find(h, i, key); (row = hsds_at(h, i, key, p)) != NULL; p++) {
        const char *desc = hfield(h, H_SCHEDULES, row, "description");

        if (!attached_here(h, H_SCHEDULES, row, level, s))
            continue;
        if (desc[0] != '\0')
            append(text, sizeof(text), "%s%s", text[0] ? "; " : "", desc);
        if (ok && hsds_schedule_add(h, row, &w, &why) < 0) {
            import_report(d, DIAG_WARNING, h->t[H_SCHEDULES].path, row->line,
                          "cannot be expressed in Katto's hours (%s): hours of '%s' left empty",
                          why, svc_value(r, SVC_ID));
            ok = false;
        }
    }
    if (ok)
        week_format(&w, hours, sizeof(hours));
    if (svc_row_set(r, SVC_HOURS, ok ? hours : NULL) != 0 ||
        svc_row_set(r, SVC_HOURS_TEXT, text) != 0)
        return -1;
    return 0;
}

/* ---- addresses ---------------------------------------------------------- */

/* The location's physical address (type physical or none given), else a postal one, or NULL. */
static const struct csv_row *hsds_address_row(const struct hsds *h, const char *lid, bool *physical)
{
    const struct csv_row *row, *postal = NULL;

    for (size_t p = hsds_find(h, I_ADDR_LOCATION, lid);
         (row = hsds_at(h, I_ADDR_LOCATION, lid, p)) != NULL; p++) {
        const char *type = hfield(h, H_ADDRESSES, row, "address_type");

        if (type[0] == '\0' || strcmp(type, "physical") == 0) {
            *physical = true;
            return row;
        }
        if (strcmp(type, "postal") == 0 && postal == NULL)
            postal = row;
    }
    *physical = false;
    return postal;
}

/*
 * City, street address and postal code from the location's address; the city
 * is marked to be given the postal code table's spelling when validated.
 * Returns the number of errors, or -1 when memory runs out.
 */
static int hsds_address(const struct hsds *h, const struct hsds_site *s, struct svc_row *r,
                        struct diag *d)
{
    bool physical;
    const struct csv_row *a = hsds_address_row(h, s->lid, &physical);
    const struct import_table *t = &h->t[H_ADDRESSES];
    const char *a1, *a2;
    char street[512];

    if (a == NULL) {
        import_report(d, DIAG_ERROR, h->t[H_SERVICES].path, s->service->line,
                      "service '%.40s' at location '%.40s': no address, so its city is unknown",
                      s->sid, s->lid);
        return 1;
    }
    r->city_folded = true;
    if (svc_row_set(r, SVC_CITY, import_cell(a, column2(t, "city", "locality"))) != 0)
        return -1;
    if (!physical)
        return 0;
    a1 = import_field(t, a, "address_1");
    a2 = import_field(t, a, "address_2");
    snprintf(street, sizeof(street), "%s%s%s", a1, a1[0] && a2[0] ? ", " : "", a2);
    if (svc_row_set(r, SVC_STREET_ADDRESS, street) != 0 ||
        svc_row_set(r, SVC_POSTAL_CODE, import_field(t, a, "postal_code")) != 0)
        return -1;
    return 0;
}

/* ---- services -> rows --------------------------------------------------- */

/* Name (by the optional language hint), organization, source URL, checked date and notes. */
static int hsds_texts(const struct hsds *h, const struct hsds_site *s, struct svc_row *r)
{
    const struct import_table *svc = &h->t[H_SERVICES];
    const char *lang = import_field(svc, s->service, "language");
    enum svc_field name_field = strcmp(lang, "sv") == 0   ? SVC_NAME_SV
                                : strcmp(lang, "en") == 0 ? SVC_NAME_EN
                                                          : SVC_NAME_FI;
    const char *url = import_field(svc, s->service, "url");
    const char *assured = import_field(svc, s->service, "assured_date");
    const char *checked = assured[0] ? assured : import_field(svc, s->service, "last_modified");
    char date[32], notes[256];

    if (url[0] == '\0')
        url = hfield(h, H_ORGANIZATIONS, s->org, "website");
    if (url[0] == '\0')
        url = hfield(h, H_ORGANIZATIONS, s->org, "url");
    /* last_modified is a date-time: keep its date. */
    snprintf(date, sizeof(date), "%.*s",
             strlen(checked) > 10 && (checked[10] == 'T' || checked[10] == ' ') ? 10 : 31, checked);
    r->checked_from = assured[0] ? "assured_date" : "last_modified";
    snprintf(notes, sizeof(notes), "HSDS service %.100s%s%.100s", s->sid,
             s->several ? " at location " : "", s->several ? s->lid : "");
    int bad = svc_row_set(r, name_field, import_field(svc, s->service, "name"));

    bad |= svc_row_set(r, SVC_ORGANIZATION, hfield(h, H_ORGANIZATIONS, s->org, "name"));
    bad |= svc_row_set(r, SVC_CATEGORY, s->category);
    bad |= svc_row_set(r, SVC_SOURCE_URL, url);
    bad |= svc_row_set(r, SVC_CHECKED_ON, date);
    bad |= svc_row_set(r, SVC_NOTES, notes);
    return bad != 0 ? -1 : 0;
}

/* Builds the row for one service at one location into out. Returns errors, or -1 for memory. */
static int hsds_row(const struct hsds *h, const struct hsds_site *s, struct svc_set *out,
                    struct diag *d)
{
    struct svc_row r = {.file = h->t[H_SERVICES].path, .line = s->service->line};
    char id[IMPORT_ID_MAX + 1];
    int errors = 0, rc;

    hsds_id(out, s->sid, s->several ? s->lid : NULL, id);
    if (svc_row_set(&r, SVC_ID, id) != 0 || hsds_texts(h, s, &r) != 0 ||
        svc_row_set(&r, SVC_LAT, hfield(h, H_LOCATIONS, s->loc, "latitude")) != 0 ||
        svc_row_set(&r, SVC_LON, hfield(h, H_LOCATIONS, s->loc, "longitude")) != 0)
        goto oom;
    if ((rc = hsds_address(h, s, &r, d)) < 0)
        goto oom;
    errors += rc;
    if ((rc = hsds_phone(h, s, &r, d)) < 0)
        goto oom;
    errors += rc;
    if (hsds_hours(h, s, &r, d) != 0)
        goto oom;
    /* Rows with problems are not kept: validation would only repeat them. */
    if (errors > 0 || s->category[0] == '\0') {
        svc_row_release(&r);
        return errors;
    }
    return svc_set_push(out, &r) == 0 ? 0 : -1;
oom:
    svc_row_release(&r);
    return -1;
}

/* Is the service in operation? Others are skipped (with a warning), not refused. */
static bool hsds_active(const struct hsds *h, const struct csv_row *srow, const char *sid,
                        struct diag *d)
{
    const char *status = import_field(&h->t[H_SERVICES], srow, "status");

    if (status[0] == '\0' || strcmp(status, "active") == 0)
        return true;
    import_report(d, DIAG_WARNING, h->t[H_SERVICES].path, srow->line,
                  "service '%.40s' skipped: status is %.24s", sid, status);
    return false;
}

/* Adds the rows of one service, one per location. Returns errors, or -1 for memory. */
static int hsds_service(const struct hsds *h, const struct csv_row *srow, struct svc_set *out,
                        struct diag *d)
{
    const struct import_table *svc = &h->t[H_SERVICES], *sal = &h->t[H_SAL];
    struct hsds_site s = {.service = srow, .sid = import_field(svc, srow, "id")};
    size_t first = hsds_find(h, I_SAL_SERVICE, s.sid), nloc = 0;
    int errors = 0;

    if (!hsds_active(h, srow, s.sid, d))
        return 0;
    s.orgid = import_field(svc, srow, "organization_id");
    s.org = hsds_lookup(h, I_ORG_ID, s.orgid);
    hsds_category(h, srow, s.sid, s.category, d);
    if (s.category[0] == '\0') {
        import_report(
            d, DIAG_ERROR, svc->path, srow->line,
            "service '%.40s' has no Katto category (a taxonomy term whose code or name is "
            "one, such as night_shelter)",
            s.sid);
        errors++;
    }
    while (hsds_at(h, I_SAL_SERVICE, s.sid, first + nloc) != NULL)
        nloc++;
    if (nloc == 0) {
        import_report(d, DIAG_ERROR, svc->path, srow->line,
                      "service '%.40s' has no location in service_at_locations.csv, so its city is "
                      "unknown",
                      s.sid);
        return errors + 1;
    }
    s.several = nloc > 1;
    for (size_t p = first; p < first + nloc; p++) {
        int rc;

        s.sal = hsds_at(h, I_SAL_SERVICE, s.sid, p);
        s.salid = import_field(sal, s.sal, "id");
        s.lid = import_field(sal, s.sal, "location_id");
        if ((s.loc = hsds_lookup(h, I_LOC_ID, s.lid)) == NULL) {
            import_report(d, DIAG_ERROR, sal->path, s.sal->line, "location '%.40s' is not in %s",
                          s.lid, hsds_names[H_LOCATIONS][0]);
            errors++;
            continue;
        }
        if ((rc = hsds_row(h, &s, out, d)) < 0)
            return -1;
        errors += rc;
    }
    return errors;
}

/* Turns the HSDS tables into service rows. Returns the number of errors. */
static int services_from_hsds(struct hsds *h, struct svc_set *out, struct diag *d)
{
    const struct import_table *svc = &h->t[H_SERVICES];
    static const char *const required[] = {"id", "name"};
    int errors = 0;

    if (import_table_require(svc, required, sizeof(required) / sizeof(required[0]), d) != 0)
        return 1;
    for (size_t i = 0; i < svc->n; i++) {
        int rc = hsds_service(h, &svc->rows[i], out, d);

        if (rc < 0) {
            import_report(d, DIAG_ERROR, svc->path, svc->rows[i].line, "out of memory");
            return errors + 1;
        }
        errors += rc;
    }
    return errors;
}

static void utc_date(long long now, char out[11])
{
    time_t t = (time_t)now;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 11, "1970-01-01");
}

int directory_import_hsds(sqlite3 *db, const char *dir, long long now, struct diag *d)
{
    struct hsds h;
    struct svc_set s = {0};
    int rc = DIRECTORY_IMPORT_INVALID, errors;

    memset(&h, 0, sizeof(h));
    utc_date(now, h.today);
    if ((errors = hsds_read(&h, dir, d)) >= 0) {
        if (hsds_index(&h) != 0) {
            import_report(d, DIAG_ERROR, dir, 0, "out of memory");
        } else {
            errors += services_from_hsds(&h, &s, d);
            rc = svc_set_import(db, &s, dir, now, d, errors);
        }
    }
    svc_set_release(&s);
    hsds_release(&h);
    return rc;
}
