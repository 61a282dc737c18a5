/* report_svg.c: the contacts chart as SVG (see report_svg.h). */
#include "report_svg.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define PAD_LEFT 56 /* room for the y axis' numbers and name */
#define PAD_RIGHT 16
#define TITLE_HEIGHT 40
#define PLOT_HEIGHT 220
#define XLABEL_HEIGHT 44
#define LEGEND_ROW 22
#define GROUP_GAP 16
#define MIN_PLOT_WIDTH 480 /* the title fits */

/*
 * Okabe & Ito's colours, then Paul Tol's muted ones: told apart by people with
 * colour-blindness too, twelve before they repeat (the seven programme cities
 * and their neighbours fit); grey is kept for "unknown".
 */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#D55E00", "#F0E442", "#000000",
                                      "#882255", "#44AA99", "#999933", "#332288"};
#define UNKNOWN_COLOUR "#999999"

int report_xml_escape(struct buf *out, const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        const char *e = *p == '&'    ? "&amp;"
                        : *p == '<'  ? "&lt;"
                        : *p == '>'  ? "&gt;"
                        : *p == '"'  ? "&quot;"
                        : *p == '\'' ? "&#39;"
                                     : NULL;

        if (e != NULL ? buf_puts(out, e) != 0 : buf_append(out, p, 1) != 0)
            return -1;
    }
    return 0;
}

struct layout {
    const struct report_table *t;
    int bar, group, plot_width, width, height, legend_rows;
    long long top, step; /* the y axis: 0 .. top, a line every step */
};

static const char *colour(const struct report_table *t, size_t city)
{
    if (strcmp(t->labels[city], "unknown") == 0)
        return UNKNOWN_COLOUR;
    return palette[city % (sizeof(palette) / sizeof(palette[0]))];
}

/* A legend item's width: swatch, gap, and the name at about 7 px a character. */
static int legend_width(const char *name)
{
    return 14 + 6 + (int)utf8_count(name) * 7 + 18;
}

/* Rows the legend needs: the cities, then the key to suppressed bars. */
static int legend_rows(const struct report_table *t, int width)
{
    int rows = 1, x = PAD_LEFT;

    for (size_t i = 0; i <= t->nrows; i++) {
        int w = legend_width(i < t->nrows ? t->labels[i] : "<5 or x: hidden, small count");

        if (x + w > width - PAD_RIGHT && x > PAD_LEFT) {
            rows++;
            x = PAD_LEFT;
        }
        x += w;
    }
    return rows;
}

/* The y axis: a round step (1, 2 or 5 times a power of ten) giving at most five lines. */
static void y_axis(struct layout *l)
{
    long long max = REPORT_THRESHOLD, step = 1;

    for (size_t i = 0; i < l->t->nrows * l->t->ncols; i++) {
        if (l->t->cells[i].mark == REPORT_SHOWN && l->t->cells[i].n > max)
            max = l->t->cells[i].n;
    }
    for (;; step *= 10) {
        if (max <= 5 * step) {
            l->step = step;
            break;
        }
        if (max <= 10 * step) {
            l->step = 2 * step;
            break;
        }
        if (max <= 25 * step) {
            l->step = 5 * step;
            break;
        }
    }
    l->top = (max + l->step - 1) / l->step * l->step;
}

static void lay_out(const struct report *r, struct layout *l)
{
    const struct report_table *t = &r->chart;

    memset(l, 0, sizeof(*l));
    l->t = t;
    l->bar = t->nrows <= 4 ? 18 : 14; /* wide enough for the "<5" above a hidden one */
    l->group = (int)t->nrows * l->bar + GROUP_GAP;
    l->plot_width = (int)t->ncols * l->group;
    if (l->plot_width < MIN_PLOT_WIDTH)
        l->plot_width = MIN_PLOT_WIDTH;
    l->width = PAD_LEFT + l->plot_width + PAD_RIGHT;
    l->legend_rows = legend_rows(t, l->width);
    l->height = TITLE_HEIGHT + PLOT_HEIGHT + XLABEL_HEIGHT + l->legend_rows * LEGEND_ROW + 8;
    y_axis(l);
}

static int bar_y(const struct layout *l, long long n)
{
    return TITLE_HEIGHT + PLOT_HEIGHT - (int)(n * PLOT_HEIGHT / l->top);
}

static int head(const struct report *r, const struct layout *l, struct buf *out, bool standalone)
{
    if (standalone && buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") != 0)
        return -1;
    if (buf_printf(out,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"katto-chart-title\" "
                   "font-family=\"sans-serif\" font-size=\"12\">\n"
                   "<title id=\"katto-chart-title\">Contacts per week by city, %s to %s</title>\n",
                   l->width, l->height, l->width, l->height, r->q.from, r->q.to) != 0)
        return -1;
    /* The hatch that marks a hidden count; a white background for viewers that show none. */
    if (buf_puts(out, "<defs><pattern id=\"katto-hatch\" width=\"6\" height=\"6\" "
                      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                      "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><line x1=\"0\" "
                      "y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#777777\" stroke-width=\"2\"/>"
                      "</pattern></defs>\n"
                      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n") != 0)
        return -1;
    return buf_printf(out,
                      "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\" "
                      "fill=\"#222222\">Contacts per week by city, %s to %s</text>\n",
                      PAD_LEFT, r->q.from, r->q.to);
}

/* Grid lines with their numbers, the axes, and the y axis' name. */
static int axes(const struct layout *l, struct buf *out)
{
    int x0 = PAD_LEFT, x1 = PAD_LEFT + l->plot_width, y0 = TITLE_HEIGHT + PLOT_HEIGHT;

    for (long long v = 0; v <= l->top; v += l->step) {
        int y = bar_y(l, v);

        if (buf_printf(out,
                       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#dddddd\"/>"
                       "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#444444\">%lld</text>\n",
                       x0, y, x1, y, x0 - 6, y + 4, v) != 0)
            return -1;
    }
    return buf_printf(out,
                      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444444\"/>"
                      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444444\"/>\n"
                      "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\" "
                      "fill=\"#444444\">contacts</text>\n",
                      x0, TITLE_HEIGHT, x0, y0, x0, y0, x1, y0, TITLE_HEIGHT + PLOT_HEIGHT / 2);
}

/* One bar: to scale when published, else the same hatched box for every hidden count. */
static int bar(const struct layout *l, struct buf *out, size_t city, size_t week, int x)
{
    const struct report_table *t = l->t;
    const struct report_cell *c = &t->cells[city * t->ncols + week];
    int base = TITLE_HEIGHT + PLOT_HEIGHT, h = REPORT_SVG_HIDDEN_HEIGHT;
    char text[24];

    if (c->mark == REPORT_SHOWN && c->n == 0)
        return 0;
    if (c->mark == REPORT_SHOWN) {
        h = base - bar_y(l, c->n);
        if (buf_printf(out,
                       "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                       "fill=\"%s\"><title>",
                       x, base - h, l->bar - 1, h, colour(t, city)) != 0)
            return -1;
    } else if (buf_printf(out,
                          "<rect class=\"suppressed\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                          "fill=\"url(#katto-hatch)\" stroke=\"%s\"><title>",
                          x, base - h, l->bar - 1, h, colour(t, city)) != 0) {
        return -1;
    }
    if (report_xml_escape(out, t->labels[city]) != 0 ||
        buf_printf(out, " %s: ", t->columns[week]) != 0 ||
        report_xml_escape(out, report_cell_text(c, text)) != 0 ||
        buf_puts(out, "</title></rect>\n") != 0)
        return -1;
    if (c->mark == REPORT_SHOWN)
        return 0;
    if (buf_printf(out,
                   "<text x=\"%d\" y=\"%d\" font-size=\"8\" text-anchor=\"middle\" "
                   "fill=\"#444444\">",
                   x + l->bar / 2, base - h - 3) != 0 ||
        report_xml_escape(out, report_cell_text(c, text)) != 0 || buf_puts(out, "</text>\n") != 0)
        return -1;
    return 0;
}

/* Bars week by week, each week labelled "W48", with its year under the first and at a new year. */
static int bars(const struct layout *l, struct buf *out)
{
    const struct report_table *t = l->t;
    int base = TITLE_HEIGHT + PLOT_HEIGHT;

    for (size_t w = 0; w < t->ncols; w++) {
        const char *name = t->columns[w], *dash = strchr(name, '-');
        int x = PAD_LEFT + (int)w * l->group + GROUP_GAP / 2,
            mid = x + l->group / 2 - GROUP_GAP / 2;
        bool new_year = w == 0 || strncmp(name, t->columns[w - 1], 4) != 0;

        for (size_t c = 0; c < t->nrows; c++) {
            if (bar(l, out, c, w, x + (int)c * l->bar) != 0)
                return -1;
        }
        if (buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#222222\">", mid,
                       base + 16) != 0 ||
            report_xml_escape(out, dash != NULL ? dash + 1 : name) != 0 ||
            buf_puts(out, "</text>\n") != 0)
            return -1;
        if (new_year && dash != NULL &&
            buf_printf(
                out,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#666666\">%.*s</text>\n",
                mid, base + 32, (int)(dash - name), name) != 0)
            return -1;
    }
    return 0;
}

static int legend(const struct layout *l, struct buf *out)
{
    const struct report_table *t = l->t;
    int x = PAD_LEFT, y = TITLE_HEIGHT + PLOT_HEIGHT + XLABEL_HEIGHT;

    for (size_t i = 0; i <= t->nrows; i++) {
        const char *name = i < t->nrows ? t->labels[i] : "<5 or x: hidden, small count";
        int w = legend_width(name);

        if (x + w > l->width - PAD_RIGHT && x > PAD_LEFT) {
            x = PAD_LEFT;
            y += LEGEND_ROW;
        }
        if ((i < t->nrows ? buf_printf(out,
                                       "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" "
                                       "fill=\"%s\"/>",
                                       x, y, colour(t, i))
                          : buf_printf(out,
                                       "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" "
                                       "fill=\"url(#katto-hatch)\" stroke=\"#777777\"/>",
                                       x, y)) != 0 ||
            buf_printf(out, "<text x=\"%d\" y=\"%d\" fill=\"#222222\">", x + 20, y + 12) != 0 ||
            report_xml_escape(out, name) != 0 || buf_puts(out, "</text>\n") != 0)
            return -1;
        x += w;
    }
    return 0;
}

int report_write_svg(const struct report *r, struct buf *out, bool standalone)
{
    struct layout l;

    lay_out(r, &l);
    if (head(r, &l, out, standalone) != 0 || axes(&l, out) != 0)
        return -1;
    if (r->chart.nrows == 0 &&
        buf_printf(out,
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#666666\">No contacts "
                   "in this range</text>\n",
                   PAD_LEFT + l.plot_width / 2, TITLE_HEIGHT + PLOT_HEIGHT / 2) != 0)
        return -1;
    if (bars(&l, out) != 0 || legend(&l, out) != 0)
        return -1;
    return buf_puts(out, "</svg>\n");
}
