/*
 * fuzz_flow_load: the flow loader and the whole-set checks (flow.h,
 * flow_check.h) on files an administrator wrote. flow_set_load_files reads
 * files only (there is no load-from-memory entry point), so each run writes
 * its input to the tmpfs scratch directory.
 *
 * Input: one or more files separated by a line "@@@@" ("\n@@@@\n"), at most
 * 8; each is written as f<N>.json. The file with "global": true holds the
 * engine's texts, as in flows/. Seeds are the shipped flow set joined this
 * way, so mutations explore cross-file checks (jumps, keywords, languages).
 *
 * Properties: a set is returned exactly when no error was reported; every
 * diagnostic is valid UTF-8 (they are printed to the administrator); each
 * loaded flow renders as a DOT graph.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "flow.h"
#include "flow_graph.h"
#include "fuzz.h"
#include "utf8.h"

#define MAX_FILES 8
#define SEPARATOR "\n@@@@\n"

static void count_edge(void *arg, const char *label, const char *next_flow, const char *next_node)
{
    /* A jump to another flow's start names no node; every other edge names one. */
    FUZZ_CHECK(label != NULL && (next_node != NULL || next_flow != NULL));
    (*(size_t *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *paths[MAX_FILES];
    size_t nfiles = 0, start = 0;
    const size_t seplen = strlen(SEPARATOR);

    while (nfiles < MAX_FILES) {
        const uint8_t *sep = NULL;

        for (size_t i = start; i + seplen <= size && sep == NULL; i++)
            if (data[i] == '\n' && memcmp(data + i, SEPARATOR, seplen) == 0)
                sep = data + i;
        size_t end = sep != NULL && nfiles + 1 < MAX_FILES ? (size_t)(sep - data) : size;
        char name[16];

        snprintf(name, sizeof(name), "f%zu.json", nfiles);
        paths[nfiles] = strdup(fuzz_write_file(name, data + start, end - start));
        FUZZ_CHECK(paths[nfiles] != NULL);
        nfiles++;
        if (end == size)
            break;
        start = end + seplen;
    }

    struct flow_check_options opt = {FLOW_USSD_BUDGET_DEFAULT, FLOW_SMS_SEGMENTS_DEFAULT};
    struct diag d = {0};
    struct flow_set *set = flow_set_load_files((const char *const *)paths, nfiles, &opt, &d);

    FUZZ_CHECK((set != NULL) == (d.errors == 0));
    for (size_t i = 0; i < d.n; i++) {
        const struct diag_entry *e = &d.entries[i];

        FUZZ_CHECK(utf8_valid(e->message, strlen(e->message)));
        FUZZ_CHECK(utf8_valid(e->path, strlen(e->path)));
    }
    if (set != NULL) {
        FUZZ_CHECK(flow_set_main(set) != NULL);
        for (size_t i = 0; i < set->nflows; i++) {
            const struct flow *f = &set->flows[i];
            size_t edges = 0;

            FUZZ_CHECK(flow_find_node(f, f->start) != NULL);
            for (size_t j = 0; j < f->nnodes; j++)
                flow_node_edges(&f->nodes[j], count_edge, &edges);
            char *dot = flow_graph_dot(f);

            FUZZ_CHECK(dot != NULL);
            free(dot);
        }
        flow_set_unref(set);
    }
    diag_release(&d);
    for (size_t i = 0; i < nfiles; i++)
        free(paths[i]);
    return 0;
}
