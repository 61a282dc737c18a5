/*
 * log.c: key=value event lines on stderr (see log.h). Lines are formatted into
 * a bounded buffer, scrubbed of phone-number-like digit runs, then written
 * with one fwrite so concurrent processes do not interleave within a line.
 */
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#define LOG_LINE_MAX 2048
#define LOG_MIN_DIGITS 7 /* shortest run treated as a possible phone number */

static enum log_level min_level = LOG_LEVEL_INFO;
static FILE *stream;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == LOG_LEVEL_ERROR + 1,
               "one name per log level");

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

void log_set_stream(FILE *f)
{
    stream = f;
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return level_names[level];
}

/* Length of a phone-like run starting at s: digits with single separators between them. */
static size_t digit_run(const char *s, size_t *digits)
{
    size_t i = 0, last_digit_end = 0;

    *digits = 0;
    if (s[i] == '+')
        i++;
    while (s[i] != '\0') {
        if (isdigit((unsigned char)s[i])) {
            (*digits)++;
            i++;
            last_digit_end = i;
        } else if ((s[i] == ' ' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) &&
                   *digits > 0) {
            i++;
        } else {
            break;
        }
    }
    return last_digit_end;
}

/* An ISO date (2026-11-24) has eight digits but is no phone number. */
static bool starts_with_iso_date(const char *s, size_t run)
{
    static const char shape[] = "dddd-dd-dd";

    if (run < sizeof(shape) - 1 || (run > sizeof(shape) - 1 && isdigit((unsigned char)s[10])))
        return false;
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != '-')
            return false;
    }
    return true;
}

size_t log_scrub(char *s, size_t cap)
{
    static const char mark[] = "[redacted]";
    const size_t mark_len = sizeof(mark) - 1;
    size_t len = strlen(s);

    for (size_t i = 0; i < len;) {
        /* Digits glued to letters count too: "id=x0401234567" must not leak. */
        bool starts = s[i] == '+' || isdigit((unsigned char)s[i]);
        size_t digits = 0, run = starts ? digit_run(s + i, &digits) : 0;

        if (starts_with_iso_date(s + i, run)) {
            i += 10; /* the date itself; a time after it is scanned on its own */
            continue;
        }
        if (digits < LOG_MIN_DIGITS) {
            i += run > 0 ? run : 1;
            continue;
        }
        /* Replace s[i, i+run) by the mark, truncating the tail if the line is full. */
        size_t tail = len - (i + run);
        if (i + mark_len + tail + 1 > cap)
            tail = cap > i + mark_len + 1 ? cap - (i + mark_len + 1) : 0;
        if (i + mark_len + 1 > cap) {
            /* No room for the mark: cut the line here rather than keep the digits. */
            s[i] = '\0';
            return i;
        }
        memmove(s + i + mark_len, s + i + run, tail);
        memcpy(s + i, mark, mark_len);
        len = i + mark_len + tail;
        s[len] = '\0';
        i += mark_len;
    }
    return len;
}

void log_event(enum log_level level, const char *event, const char *fields, ...)
{
    char line[LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    size_t n, head;
    va_list ap;

    if (level < min_level)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, " level=%s event=%s", level_names[level],
                          event);
    if (n >= sizeof(line) - 2)
        n = sizeof(line) - 2; /* an absurdly long event name is cut, never overrun */
    head = n;
    if (fields != NULL && fields[0] != '\0' && n + 2 < sizeof(line)) {
        line[n++] = ' ';
        va_start(ap, fields);
        vsnprintf(line + n, sizeof(line) - n, fields, ap);
        va_end(ap);
    }
    /* Newlines inside a value would forge a second line. */
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    /* The time stamp is ours; everything after it may carry caller data. */
    n = head + log_scrub(line + head, sizeof(line) - 1 - head);
    line[n++] = '\n';
    fwrite(line, 1, n, stream != NULL ? stream : stderr);
    fflush(stream != NULL ? stream : stderr);
}
