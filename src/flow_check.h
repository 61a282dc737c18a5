/*
 * flow_check.h: validation of a loaded flow set as a whole: references
 * between nodes and flows, reachability, loops, keywords, placeholders, and
 * what each text costs as SMS and on a USSD screen. flow_load.c runs it on
 * every load after reading each file; it needs only the model, so it also
 * tolerates the holes that a broken file leaves (NULL fields are skipped).
 */
#ifndef KATTO_FLOW_CHECK_H
#define KATTO_FLOW_CHECK_H

#include <stdbool.h>

#include "diag.h"
#include "flow.h"

/*
 * What the loader knows about the files that the set alone does not show,
 * so that one mistake is reported once rather than again as its consequences.
 */
struct flow_check_files {
    const bool *broken; /* per flow: its file had errors, so graph findings in it (unreachable
                           nodes, loops) are left out: a misspelt "next" would also leave the
                           next node unreachable. NULL: no file had errors */
    bool unreadable;    /* a flow file could not be read or parsed: a jump to an unknown flow
                           may be a jump into it, so it is not reported */
};

/*
 * Adds every problem of set (borrowed) to d as file: path: problem. opt may
 * be NULL or have zero fields for the defaults (FLOW_USSD_BUDGET_DEFAULT,
 * FLOW_SMS_SEGMENTS_DEFAULT); files (borrowed) may be NULL for a set built
 * in memory. The rule that exactly one flow is main is the loader's, which
 * knows whether an unreadable file may have been the main one. Out of
 * memory is reported as an error.
 */
void flow_check_set(const struct flow_set *set, const struct flow_check_options *opt,
                    const struct flow_check_files *files, struct diag *d);

#endif
