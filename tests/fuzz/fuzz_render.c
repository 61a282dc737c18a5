/*
 * fuzz_render: a reply rendered for a basic phone (flow_render.h), from
 * arbitrary UTF-8: SMS splitting within a segment budget, the menu layout and
 * USSD screens with "98" paging. Properties: SMS parts are never empty, stay
 * within the budget and are valid UTF-8; every USSD page is valid UTF-8 of at
 * most budget code points.
 *
 * Input: byte 0 picks the SMS segment budget (1-4) and the USSD screen
 * budget (40-295 characters); the rest is the text, then options, separated
 * by 0x1e (record separator), at most 12 of them.
 */
#include <stdlib.h>
#include <string.h>

#include "flow_render.h"
#include "fuzz.h"
#include "utf8.h"

#define MAX_OPTIONS 12
#define MAX_PAGES 64 /* a long input makes many pages; rendering a few dozen is enough */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t segments = 1 + data[0] % 4, budget = 40 + data[0];
    char *copy = fuzz_strndup(data + 1, size - 1);
    const char *options[MAX_OPTIONS];
    size_t noptions = 0;
    char *text = copy, *sep;

    /* NUL bytes end the C strings early; that is what a caller would pass. */
    sep = strchr(text, '\x1e');
    while (sep != NULL && noptions < MAX_OPTIONS) {
        *sep = '\0';
        options[noptions++] = sep + 1;
        sep = strchr(sep + 1, '\x1e');
    }
    if (sep != NULL)
        *sep = '\0';

    struct flow_sms sms;

    if (flow_render_sms(text, segments, &sms) == 0) {
        for (size_t i = 0; i < sms.n; i++) {
            const char *p = sms.parts[i].text;
            struct gsm7_info info;

            FUZZ_CHECK(p[0] != '\0' && utf8_valid(p, strlen(p)));
            FUZZ_CHECK(gsm7_analyse(p, strlen(p), &info) == 0);
            FUZZ_CHECK(info.segments >= 1 && info.segments <= segments);
            FUZZ_CHECK(info.segments == sms.parts[i].info.segments);
        }
        flow_sms_release(&sms);
    } else {
        FUZZ_CHECK(!utf8_valid(text, strlen(text)));
    }

    char *menu = flow_render_menu(text, options, noptions);

    bool all_valid = utf8_valid(text, strlen(text));

    for (size_t i = 0; i < noptions; i++)
        all_valid = all_valid && utf8_valid(options[i], strlen(options[i]));
    /* The menu layout copies its input as it is: valid in, valid out. */
    if (menu != NULL && all_valid)
        FUZZ_CHECK(utf8_valid(menu, strlen(menu)));
    free(menu);

    size_t npages = 0;

    for (size_t page = 0; page < MAX_PAGES; page++) {
        char *screen = flow_render_ussd(text, options, noptions, "Lisää", budget, page, &npages);

        if (screen == NULL) {
            FUZZ_CHECK(page >= npages || npages == 0);
            break;
        }
        FUZZ_CHECK(page < npages);
        FUZZ_CHECK(utf8_valid(screen, strlen(screen)) && utf8_count(screen) <= budget);
        free(screen);
    }
    free(copy);
    return 0;
}
