/*
 * hours.h: opening hours of city services (the `hours` column of the service
 * CSV), parsed once and evaluated in Europe/Helsinki local time, so a reply
 * can say "open until 16:00" or "opens 17:00". Times are local wall-clock
 * times: spans are turned into absolute times with mktime(), so daylight-saving
 * nights give correct results. The caller sets TZ=Europe/Helsinki (app.c does).
 *
 * Format (whitespace: spaces around ';', after ',' and at both ends are
 * ignored; at least one space separates days from times):
 *
 *   hours  = "24/7" | rule *( ";" rule )
 *   rule   = days SP times
 *   days   = item *( "," item )
 *   item   = day | day "-" day | "PH"
 *   day    = "Mo" | "Tu" | "We" | "Th" | "Fr" | "Sa" | "Su"
 *   times  = "off" | range *( "," range )          at most HOURS_MAX_RANGES
 *   range  = time "-" time
 *   time   = HH ":" MM      two digits each, 00:00-23:59; "24:00" as an end
 *
 * Examples: "Mo-Fr 08:00-16:00; Sa,Su 09:00-17:00", "Mo,We,Fr 09:00-11:30,
 * 12:00-15:00", "Mo-Su 17:00-09:00; PH off". A day range may wrap ("Sa-Mo").
 * Days without a rule are closed. When a day appears in several rules, the
 * last rule wins for that day. A range whose end is earlier than or equal to
 * its start runs overnight into the next day ("Fr 22:00-06:00" is also open
 * Saturday 00:00-06:00; "10:00-10:00" is 24 hours); a span belongs to the day
 * it starts on.
 *
 * Public holidays ("PH"): if any rule names PH, that rule replaces the
 * weekday rules on Finnish public holidays (spans that started the evening
 * before still run into the holiday); without a PH rule holidays follow the
 * weekday rules. The holidays are New Year's Day, Epiphany, Good Friday,
 * Easter Sunday, Easter Monday, May Day, Ascension Day, Whit Sunday,
 * Midsummer Eve, Midsummer Day, All Saints' Day, Independence Day, Christmas
 * Eve, Christmas Day and St Stephen's Day. Midsummer Eve and Christmas Eve are
 * not official holidays but de facto ones (offices and most services close),
 * so they count as PH here.
 */
#ifndef KATTO_HOURS_H
#define KATTO_HOURS_H

#include <stdbool.h>

#define HOURS_MAX_RANGES 8 /* time ranges in one rule */

struct hours;

/*
 * Parses text (borrowed, the format above). Returns the parsed hours,
 * returned owned (free with hours_free), or NULL with err (ERR_LEN, may be
 * NULL) set to "column N: problem", N counting bytes from 1; "" (or only
 * spaces) gives "empty".
 */
struct hours *hours_parse(const char *text, char *err);

/* Frees h; NULL is a no-op. */
void hours_free(struct hours *h);

/*
 * Is h (borrowed) open at unix time t, read as Europe/Helsinki local time?
 * If open, *until receives the unix time it closes: the end of the current
 * span, followed through spans that touch or overlap it (an overnight span
 * into the next day's span); 0 for 24/7 or when it does not close within
 * 8 days. If closed, *until receives the next opening time if it is within 8
 * days of t, else 0. until may be NULL.
 */
bool hours_open_at(const struct hours *h, long long t, long long *until);

/* Is year-month-day (month 1-12) a Finnish public holiday (see above)? */
bool hours_is_public_holiday(int year, int month, int day);

/* Easter Sunday of year (Gregorian computus) into *month (1-12) and *day. */
void hours_easter(int year, int *month, int *day);

/* Formats unix time t as local "HH:MM" into out (6 bytes, NUL included). */
void hours_local_hhmm(long long t, char out[6]);

#endif
