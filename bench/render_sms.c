/*
 * render_sms.c: the cost of one call of flow_render_sms, for scripts/bench.
 *
 * Scenario 2's profile puts a third of an inbound SMS's CPU time in splitting its
 * reply into SMS parts; this times that call alone, on a reply Katto really sent,
 * with the default sms.max_segments (2). Linked against build-bench's katto_core.
 *
 *   render_sms FILE      the reply text (one message body)
 *
 * Prints: "render_sms bytes N parts P us_per_call U".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow_render.h"

int main(int argc, char **argv)
{
    static char text[65536];
    struct flow_sms sms;
    struct timespec a, b;
    const int iters = 5000;
    size_t n, parts;
    FILE *f;

    if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: render_sms FILE\n");
        return 64;
    }
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    text[n] = '\0';
    if (flow_render_sms(text, 2, &sms) != 0) {
        fprintf(stderr, "render_sms: flow_render_sms failed\n");
        return 1;
    }
    parts = sms.n;
    flow_sms_release(&sms);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < iters; i++) {
        if (flow_render_sms(text, 2, &sms) != 0)
            return 1;
        flow_sms_release(&sms);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("render_sms bytes %zu parts %zu us_per_call %.1f\n", n, parts,
           ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / iters);
    return 0;
}
