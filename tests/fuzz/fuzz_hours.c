/*
 * fuzz_hours: the opening-hours text of the service CSV (hours.h), parsed
 * and then evaluated at fixed moments chosen around the awkward days:
 * daylight-saving changes, Midsummer, Christmas, Easter, a leap day and New
 * Year. Properties: a parse error names a column; the time returned as
 * "until" lies after the moment asked, and at a next opening the hours are
 * indeed open.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "hours.h"

/* Unix times, Europe/Helsinki; each a few minutes around something hard. */
static const long long moments[] = {
    1711846740, /* 2024-03-31 02:59 EET: clocks go forward at 03:00 */
    1711846800, /* 2024-03-31 04:00 EEST, a minute later */
    1729987200, /* 2024-10-27 03:00 EEST: clocks go back at 04:00 */
    1729993200, /* 2024-10-27 03:40 EET, the second time round */
    1718919000, /* 2024-06-21 00:30, Midsummer Eve */
    1735077540, /* 2024-12-24 23:59 Christmas Eve */
    1711670400, /* 2024-03-29 02:00 Good Friday */
    1709200800, /* 2024-02-29 12:00 leap day */
    1735682340, /* 2024-12-31 23:59 */
    1718013600, /* 2024-06-10 13:00, an ordinary Monday */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_helsinki_time();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char err[ERR_LEN] = "";
    struct hours *h = hours_parse(text, err);

    if (h == NULL) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
        free(text);
        return 0;
    }
    for (size_t i = 0; i < sizeof(moments) / sizeof(moments[0]); i++) {
        long long t = moments[i], until = -1;
        bool open = hours_open_at(h, t, &until);

        FUZZ_CHECK(until == 0 || until > t);
        FUZZ_CHECK(until <= t + 9 * 86400);
        if (!open && until != 0)
            FUZZ_CHECK(hours_open_at(h, until, NULL));
        if (open && until != 0)
            FUZZ_CHECK(!hours_open_at(h, until, NULL));
    }
    hours_free(h);
    free(text);
    return 0;
}
