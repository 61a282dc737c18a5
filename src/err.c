/* err.c: caller-owned error buffers (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_set(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, ERR_LEN, fmt, ap);
    va_end(ap);
}

void err_prefix(char *err, const char *fmt, ...)
{
    char rest[ERR_LEN];
    size_t n;
    va_list ap;

    if (err == NULL)
        return;
    memcpy(rest, err, ERR_LEN);
    rest[ERR_LEN - 1] = '\0';
    va_start(ap, fmt);
    n = (size_t)vsnprintf(err, ERR_LEN, fmt, ap);
    va_end(ap);
    if (n + 2 < ERR_LEN) {
        memcpy(err + n, ": ", 2);
        n += 2;
        memcpy(err + n, rest,
               ERR_LEN - n - 1 < strlen(rest) + 1 ? ERR_LEN - n - 1 : strlen(rest) + 1);
        err[ERR_LEN - 1] = '\0';
    }
}
