/*
 * flow_graph.h: a flow as a Graphviz DOT picture, so that an administrator
 * can see the menus: `katto graph helpline | dot -Tsvg > helpline.svg`.
 * Nodes are labelled with their id and the text in the flow's first
 * language; edges with the option number or switch case.
 */
#ifndef KATTO_FLOW_GRAPH_H
#define KATTO_FLOW_GRAPH_H

#include "flow.h"

/* Returns the DOT text (owned, free with free()), or NULL if out of memory. */
char *flow_graph_dot(const struct flow *flow);

#endif
