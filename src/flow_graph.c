/* flow_graph.c: DOT output for a flow (see flow_graph.h). */
#include "flow_graph.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"

#define LABEL_CHARS 48 /* characters of text shown in a node before "..." */

static const char *const shapes[] = {
    [FLOW_KIND_MESSAGE] = "note",        [FLOW_KIND_MENU] = "box",
    [FLOW_KIND_INPUT] = "parallelogram", [FLOW_KIND_SWITCH] = "diamond",
    [FLOW_KIND_LANGUAGE] = "hexagon",    [FLOW_KIND_JUMP] = "cds",
    [FLOW_KIND_END] = "doublecircle",    [FLOW_KIND_SMS_COPY] = "note",
    [FLOW_KIND_NEAREST] = "house",       [FLOW_KIND_CALLBACK] = "invhouse",
};
/* A new kind without a shape would print "(null)": invalid DOT. */
_Static_assert(sizeof(shapes) / sizeof(shapes[0]) == FLOW_KIND_COUNT, "one shape per node kind");

/* Appends s as the inside of a DOT double-quoted string, at most max_chars characters. */
static void quoted(struct buf *b, const char *s, size_t max_chars)
{
    size_t chars = 0;

    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if ((c & 0xC0) != 0x80 && ++chars > max_chars) {
            buf_puts(b, "...");
            return;
        }
        if (c == '"' || c == '\\')
            buf_append(b, "\\", 1);
        if (c == '\n')
            buf_puts(b, "\\n");
        else
            buf_append(b, p, 1);
    }
}

struct edge_ctx {
    struct buf *b;
    const char *from;
};

static void edge(void *arg, const char *label, const char *next_flow, const char *next_node)
{
    struct edge_ctx *e = arg;

    buf_puts(e->b, "  \"");
    quoted(e->b, e->from, SIZE_MAX);
    buf_puts(e->b, "\" -> \"");
    if (next_flow != NULL) {
        quoted(e->b, next_flow, SIZE_MAX);
        buf_puts(e->b, ":");
    }
    quoted(e->b, next_node != NULL ? next_node : "start", SIZE_MAX);
    buf_puts(e->b, "\"");
    if (label[0] != '\0') {
        buf_puts(e->b, " [label=\"");
        quoted(e->b, label, 24);
        buf_puts(e->b, "\"]");
    }
    buf_puts(e->b, ";\n");
}

char *flow_graph_dot(const struct flow *f)
{
    const char *lang = f->nlanguages > 0 ? f->languages[0] : NULL;
    struct buf b;

    buf_init(&b, 4 * 1024 * 1024);
    buf_puts(&b, "digraph \"");
    quoted(&b, f->id, SIZE_MAX);
    buf_puts(&b, "\" {\n  rankdir=LR;\n  node [fontname=\"sans-serif\" fontsize=10];\n"
                 "  edge [fontname=\"sans-serif\" fontsize=9];\n");
    for (size_t i = 0; i < f->nnodes; i++) {
        const struct flow_node *n = &f->nodes[i];
        const char *text = flow_text_get(&n->text, lang, NULL);

        buf_puts(&b, "  \"");
        quoted(&b, n->id, SIZE_MAX);
        buf_printf(&b, "\" [shape=%s%s label=\"", shapes[n->kind],
                   strcmp(n->id, f->start) == 0 ? " penwidth=2" : "");
        quoted(&b, n->id, SIZE_MAX);
        buf_printf(&b, "\\n(%s", flow_kind_name(n->kind));
        if (n->kind == FLOW_KIND_INPUT)
            buf_printf(&b, ": %s", flow_expect_name(n->expect));
        if (n->kind == FLOW_KIND_SWITCH)
            buf_printf(&b, " on %s", n->on);
        buf_puts(&b, ")");
        if (text[0] != '\0') {
            buf_puts(&b, "\\n");
            quoted(&b, text, LABEL_CHARS);
        }
        buf_puts(&b, "\"];\n");
        if (n->kind == FLOW_KIND_JUMP) {
            /* The target lives in another file: draw it as a plain box. */
            buf_puts(&b, "  \"");
            quoted(&b, n->target_flow, SIZE_MAX);
            buf_puts(&b, ":");
            quoted(&b, n->target_node != NULL ? n->target_node : "start", SIZE_MAX);
            buf_puts(&b, "\" [shape=box style=dashed];\n");
        }
    }
    for (size_t i = 0; i < f->nnodes; i++) {
        struct edge_ctx e = {&b, f->nodes[i].id};

        flow_node_edges(&f->nodes[i], edge, &e);
    }
    if (buf_puts(&b, "}\n") != 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}
