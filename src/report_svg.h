/*
 * report_svg.h: the report's chart, contacts per week by city, as a
 * self-contained SVG (no script, no external font or image) that any browser
 * opens: grouped bars per ISO week, one colour per city, axes with labels, a
 * legend and a title with the date range. A suppressed count is drawn as a
 * hatched box of one fixed height labelled "<5" or "x", whatever its true
 * value, so the picture gives away no more than the tables.
 */
#ifndef KATTO_REPORT_SVG_H
#define KATTO_REPORT_SVG_H

#include <stdbool.h>

#include "buf.h"
#include "report.h"

#define REPORT_SVG_HIDDEN_HEIGHT 14 /* px of every suppressed bar */

/*
 * Appends the chart of r->chart to out; standalone adds the XML declaration
 * (a file of its own), without it the SVG can be put inline in HTML.
 * 0, or -1 if out of memory.
 */
int report_write_svg(const struct report *r, struct buf *out, bool standalone);

/* Appends s with & < > " ' escaped, for XML and HTML text and attributes. 0 or -1. */
int report_xml_escape(struct buf *out, const char *s);

#endif
