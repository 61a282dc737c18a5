/*
 * flow_render.c: SMS splitting and USSD paging (see flow_render.h). Every
 * place a text may be cut is listed once with its kind (blank line, line
 * break, sentence end, space, inside a word). SMS splitting then runs a small
 * dynamic programme over those cuts: first the fewest messages that fit, then
 * the best kind of cut that still reaches that number, then per message the
 * nicest cut. The programme counts segments with gsm7.c's per-character costs
 * and packing rules (an escape or surrogate pair never straddles two parts),
 * and every message is measured again with gsm7_analyse before it is returned.
 */
#include "flow_render.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

#define RENDER_MAX (1u << 20) /* longest rendered menu or screen, in bytes */
#define NO_PARTS UINT32_MAX   /* "cannot be split this way" in the plan */

/* Kinds of cut, best first. */
enum cut_rank {
    CUT_BLANK_LINE,
    CUT_LINE_BREAK,
    CUT_SENTENCE,
    CUT_SPACE,
    CUT_IN_WORD,
    CUT_IN_CLUSTER, /* between a character and its combining mark, modifier or joiner */
};

struct cut {
    size_t end;  /* the text before the cut ends here, whitespace excluded */
    size_t next; /* the text after the cut starts here */
    enum cut_rank rank;
};

struct cuts {
    struct cut *v;
    size_t n, cap;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Code points in the len bytes at s, which must be valid UTF-8. */
static size_t count_code_points(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/*
 * Normalised (gsm7_normalise), CRLF turned into LF and trimmed; returned
 * owned, NULL if text is NULL or not UTF-8 or memory runs out.
 */
static char *prepare(const char *text)
{
    char *s = gsm7_normalise(text), *w;
    size_t start = 0, len;

    if (s == NULL)
        return NULL;
    w = s;
    for (const char *r = s; *r != '\0'; r++) {
        if (r[0] != '\r' || r[1] != '\n')
            *w++ = *r;
    }
    len = (size_t)(w - s);
    while (len > 0 && is_space(s[len - 1]))
        len--;
    while (start < len && is_space(s[start]))
        start++;
    memmove(s, s + start, len - start);
    s[len - start] = '\0';
    return s;
}

/*
 * True if a cut between prev and cp would break what the reader sees as one
 * character: a combining mark, variation selector, emoji modifier or tag, a
 * zero-width joiner sequence, or a regional indicator pair (a flag).
 */
static bool joins(uint32_t prev, uint32_t cp)
{
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
           (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFE20 && cp <= 0xFE2F) ||
           (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F) ||
           (cp >= 0xE0100 && cp <= 0xE01EF) || cp == 0x200D || prev == 0x200D ||
           (prev >= 0x1F1E6 && prev <= 0x1F1FF && cp >= 0x1F1E6 && cp <= 0x1F1FF);
}

/* True if the text before the whitespace at a ends a sentence: . ! or ?, maybe in quotes. */
static bool ends_sentence(const char *s, size_t a)
{
    while (a > 0 && strchr("\"')]", s[a - 1]) != NULL)
        a--;
    return a > 0 && strchr(".!?", s[a - 1]) != NULL;
}

static int add_cut(struct cuts *c, size_t end, size_t next, enum cut_rank rank)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct cut *v = realloc(c->v, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (struct cut){end, next, rank};
    return 0;
}

/*
 * Lists every place the trimmed text s (len bytes, valid UTF-8) may be cut,
 * sorted by position: one cut per run of whitespace, ranked by what the run
 * holds, and one inside-word cut per code point boundary within a word.
 * Cutting between UTF-8 bytes is never offered.
 */
static int find_cuts(const char *s, size_t len, struct cuts *out)
{
    size_t pos = 0, start, newlines;
    uint32_t prev = 0, cp;
    enum cut_rank rank;

    while (pos < len) {
        start = pos;
        if (is_space(s[pos])) {
            for (newlines = 0; pos < len && is_space(s[pos]); pos++)
                newlines += s[pos] == '\n';
            if (newlines >= 2)
                rank = CUT_BLANK_LINE;
            else if (newlines == 1)
                rank = CUT_LINE_BREAK;
            else
                rank = ends_sentence(s, start) ? CUT_SENTENCE : CUT_SPACE;
            if (start > 0 && pos < len && add_cut(out, start, pos, rank) < 0)
                return -1;
            prev = ' ';
            continue;
        }
        if (utf8_decode(s, len, &pos, &cp) < 0)
            return -1;
        rank = joins(prev, cp) ? CUT_IN_CLUSTER : CUT_IN_WORD;
        if (start > 0 && !is_space(s[start - 1]) && add_cut(out, start, start, rank) < 0)
            return -1;
        prev = cp;
    }
    return 0;
}

/*
 * One SMS split in progress. The programme asks "does text[a, b) fit?" some
 * thousands of times, so the cost of every code point is looked up once
 * (gsm7_char_septets) and kept with prefix sums; fits() then applies the
 * packing rules of gsm7.h to those numbers. Parts are still measured with
 * gsm7_analyse itself before they are returned.
 */
struct plan {
    const char *s;
    size_t len;
    size_t max_segments;
    size_t *bounds;      /* byte offset of every code point, then len */
    size_t ncp;          /* code points; bounds has ncp + 1 entries */
    uint8_t *septets;    /* per code point: GSM-7 septets, 0 if it needs UCS-2 */
    uint8_t *units;      /* per code point: UTF-16 units */
    size_t *sum_septets; /* prefix sums over code points, ncp + 1 entries */
    size_t *sum_units;
    size_t *sum_non_gsm7; /* code points that force UCS-2 */
    struct cut *cuts;     /* state 0 is the start of the text, state k + 1 follows cuts[k] */
    size_t ncuts;
    size_t *room;     /* per state: the furthest end its message can reach */
    size_t *last_cut; /* per state: one past the last cut within room */
    uint32_t *parts;  /* per state: fewest messages from there, or NO_PARTS */
    uint32_t *tree;   /* range-minimum tree over parts of states 1..ncuts */
    size_t tree_size;
};

static size_t state_pos(const struct plan *p, size_t state)
{
    return state == 0 ? 0 : p->cuts[state - 1].next;
}

/* Index of byte offset pos in p->bounds (pos is a code point boundary). */
static size_t cp_index(const struct plan *p, size_t pos)
{
    size_t lo = 0, hi = p->ncp + 1;

    while (lo + 1 < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->bounds[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* True if code points [a, b) take at most max_segments segments, counted as gsm7_analyse does. */
static bool fits_cp(const struct plan *p, size_t a, size_t b)
{
    bool gsm7 = p->sum_non_gsm7[b] == p->sum_non_gsm7[a];
    const uint8_t *weight = gsm7 ? p->septets : p->units;
    size_t total = gsm7 ? p->sum_septets[b] - p->sum_septets[a] : p->sum_units[b] - p->sum_units[a];
    size_t single = gsm7 ? GSM7_SINGLE_SEPTETS : GSM7_SINGLE_UCS2;
    size_t multi = gsm7 ? GSM7_MULTI_SEPTETS : GSM7_MULTI_UCS2;
    size_t segments = 1, used = 0;

    if (total <= single)
        return true;
    /* Each further part holds at most multi units: more than max_segments of them cannot fit. */
    if (p->max_segments == 1 || total / multi > p->max_segments ||
        (total / multi == p->max_segments && total % multi > 0))
        return false;
    /* A character is never split across parts (an escape pair, a surrogate pair). */
    for (size_t i = a; i < b; i++) {
        if (used + weight[i] > multi) {
            if (++segments > p->max_segments)
                return false;
            used = 0;
        }
        used += weight[i];
    }
    return true;
}

static bool fits(const struct plan *p, size_t start, size_t end)
{
    return fits_cp(p, cp_index(p, start), cp_index(p, end));
}

/* The furthest code point boundary that a message starting at byte start can reach. */
static size_t find_room(const struct plan *p, size_t start)
{
    size_t a = cp_index(p, start), lo = a + 1, hi = p->ncp;

    /* Every code point takes at least one unit, so the room is at most 160 per segment. */
    if (p->max_segments <= (hi - a) / GSM7_SINGLE_SEPTETS)
        hi = a + p->max_segments * GSM7_SINGLE_SEPTETS;
    while (lo < hi) { /* one code point always fits */
        size_t mid = lo + (hi - lo + 1) / 2;

        if (fits_cp(p, a, mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    return p->bounds[lo];
}

static void tree_set(struct plan *p, size_t i, uint32_t v)
{
    i += p->tree_size;
    p->tree[i] = v;
    for (i /= 2; i > 0; i /= 2)
        p->tree[i] = p->tree[2 * i] < p->tree[2 * i + 1] ? p->tree[2 * i] : p->tree[2 * i + 1];
}

/* Minimum over leaves [lo, hi). */
static uint32_t tree_min(const struct plan *p, size_t lo, size_t hi)
{
    uint32_t m = NO_PARTS;

    for (lo += p->tree_size, hi += p->tree_size; lo < hi; lo /= 2, hi /= 2) {
        if (lo & 1) {
            m = p->tree[lo] < m ? p->tree[lo] : m;
            lo++;
        }
        if (hi & 1) {
            hi--;
            m = p->tree[hi] < m ? p->tree[hi] : m;
        }
    }
    return m;
}

/*
 * Fills p->parts with the fewest messages from each state using only cuts of
 * rank <= max_rank. Cut k leads to state k + 1; the tree holds, at leaf k,
 * the messages from state k + 1 if cut k may be used.
 */
static void count_parts(struct plan *p, enum cut_rank max_rank)
{
    for (size_t i = 0; i < 2 * p->tree_size; i++)
        p->tree[i] = NO_PARTS;
    for (size_t state = p->ncuts + 1; state-- > 0;) {
        uint32_t best = NO_PARTS;

        if (p->room[state] >= p->len) {
            best = 1;
        } else if (state < p->last_cut[state]) {
            best = tree_min(p, state, p->last_cut[state]);
            if (best != NO_PARTS)
                best++;
        }
        p->parts[state] = best;
        if (state > 0 && p->cuts[state - 1].rank <= max_rank)
            tree_set(p, state - 1, best);
    }
}

/* Measures every code point of s; the first half of setting up a plan. */
static int plan_measure(struct plan *p, const char *s, size_t max_segments)
{
    size_t pos = 0, n = 0;
    uint32_t cp;

    memset(p, 0, sizeof(*p));
    p->s = s;
    p->len = strlen(s);
    p->max_segments = max_segments;
    p->bounds = malloc((p->len + 1) * sizeof(*p->bounds));
    p->septets = malloc(p->len + 1);
    p->units = malloc(p->len + 1);
    p->sum_septets = malloc((p->len + 1) * sizeof(size_t));
    p->sum_units = malloc((p->len + 1) * sizeof(size_t));
    p->sum_non_gsm7 = malloc((p->len + 1) * sizeof(size_t));
    if (!p->bounds || !p->septets || !p->units || !p->sum_septets || !p->sum_units ||
        !p->sum_non_gsm7)
        return -1;
    p->sum_septets[0] = p->sum_units[0] = p->sum_non_gsm7[0] = 0;
    while (pos < p->len) {
        p->bounds[n] = pos;
        if (utf8_decode(s, p->len, &pos, &cp) < 0)
            return -1;
        p->septets[n] = (uint8_t)gsm7_char_septets(cp);
        p->units[n] = cp >= 0x10000 ? 2 : 1;
        p->sum_septets[n + 1] = p->sum_septets[n] + p->septets[n];
        p->sum_units[n + 1] = p->sum_units[n] + p->units[n];
        p->sum_non_gsm7[n + 1] = p->sum_non_gsm7[n] + (p->septets[n] == 0);
        n++;
    }
    p->bounds[n] = p->len;
    p->ncp = n;
    return 0;
}

/* Takes the final cuts and works out each state's room; the second half of setting up. */
static int plan_cuts(struct plan *p, const struct cuts *cuts)
{
    p->cuts = cuts->v;
    p->ncuts = cuts->n;
    p->room = malloc((p->ncuts + 1) * sizeof(*p->room));
    p->last_cut = malloc((p->ncuts + 1) * sizeof(*p->last_cut));
    p->parts = malloc((p->ncuts + 1) * sizeof(*p->parts));
    for (p->tree_size = 1; p->tree_size < p->ncuts; p->tree_size *= 2)
        ;
    p->tree = malloc(2 * p->tree_size * sizeof(*p->tree));
    if (!p->room || !p->last_cut || !p->parts || !p->tree)
        return -1;
    for (size_t state = 0, k = 0; state <= p->ncuts; state++) {
        p->room[state] = find_room(p, state_pos(p, state));
        /* Rooms grow with the start almost always; step back when one does not. */
        if (k < state)
            k = state;
        while (k > state && p->cuts[k - 1].end > p->room[state])
            k--;
        while (k < p->ncuts && p->cuts[k].end <= p->room[state])
            k++;
        p->last_cut[state] = k;
    }
    return 0;
}

static void plan_release(struct plan *p)
{
    free(p->bounds);
    free(p->septets);
    free(p->units);
    free(p->sum_septets);
    free(p->sum_units);
    free(p->sum_non_gsm7);
    free(p->room);
    free(p->last_cut);
    free(p->parts);
    free(p->tree);
}

/*
 * Picks the cut that ends the message starting at state, leaving exactly
 * remaining messages after it: the best rank among cuts in the back half of
 * the message's room (the latest of that rank), or anywhere if the back half
 * has none, so that an early blank line does not leave a message half empty.
 */
static size_t pick_cut(const struct plan *p, size_t state, uint32_t remaining,
                       enum cut_rank max_rank)
{
    size_t start = state_pos(p, state);
    size_t half = start + (p->room[state] - start) / 2;
    size_t best = SIZE_MAX, best_back = SIZE_MAX;

    for (size_t k = state; k < p->last_cut[state]; k++) {
        const struct cut *c = &p->cuts[k];

        if (c->rank > max_rank || p->parts[k + 1] != remaining)
            continue;
        if (best == SIZE_MAX || c->rank <= p->cuts[best].rank)
            best = k;
        if (c->end >= half && (best_back == SIZE_MAX || c->rank <= p->cuts[best_back].rank))
            best_back = k;
    }
    return best_back != SIZE_MAX ? best_back : best;
}

/*
 * Appends s[0, len) as a part, measured by gsm7_analyse. A part over
 * max_segments would mean fits() and gsm7.c disagree; it fails rather than
 * send more than was asked for.
 */
static int add_part(struct flow_sms *out, const char *s, size_t len, size_t max_segments)
{
    struct flow_sms_part *parts = realloc(out->parts, (out->n + 1) * sizeof(*parts));
    struct flow_sms_part *part;

    if (parts == NULL)
        return -1;
    out->parts = parts;
    part = &parts[out->n];
    part->text = strndup(s, len);
    if (part->text == NULL)
        return -1;
    if (gsm7_analyse(part->text, len, &part->info) < 0 || part->info.segments > max_segments) {
        free(part->text);
        return -1;
    }
    out->n++;
    return 0;
}

/* True if the line [ls, le) of s reads as a menu option: "1 Label", "1. Label" or "1) Label". */
static bool is_option_line(const char *s, size_t ls, size_t le)
{
    size_t i = ls;

    while (i < le && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == ls)
        return false;
    if (i < le && (s[i] == '.' || s[i] == ')'))
        i++;
    return i + 1 < le && s[i] == ' ' && s[i + 1] != ' ';
}

/* Keeps cuts up to the option block [start, end) and skips those inside it. */
static void skip_cuts_inside(struct cuts *cuts, size_t *kept, size_t *k, size_t start, size_t end)
{
    for (; *k < cuts->n && cuts->v[*k].end <= start; ++*k)
        cuts->v[(*kept)++] = cuts->v[*k];
    while (*k < cuts->n && cuts->v[*k].end < end)
        ++*k;
}

/*
 * Drops the cuts inside each run of option lines (consecutive lines "1 ...")
 * that fits in one message on its own, so a menu always arrives whole. The
 * line just before the options, usually the question, is kept with them too
 * when everything still fits.
 */
static void protect_menus(const struct plan *p, struct cuts *cuts)
{
    size_t ls = 0, le, prev = SIZE_MAX, question = SIZE_MAX, block = SIZE_MAX, block_end = 0;
    size_t kept = 0, k = 0;

    for (;;) {
        bool option, last;

        for (le = ls; le < p->len && p->s[le] != '\n'; le++)
            ;
        option = is_option_line(p->s, ls, le);
        if (option && block == SIZE_MAX) {
            block = ls;
            question = prev;
        }
        if (option)
            block_end = le;
        last = le >= p->len;
        if (block != SIZE_MAX && (!option || last)) {
            if (question != SIZE_MAX && fits(p, question, block_end))
                skip_cuts_inside(cuts, &kept, &k, question, block_end);
            else if (fits(p, block, block_end))
                skip_cuts_inside(cuts, &kept, &k, block, block_end);
            block = SIZE_MAX;
        }
        if (last)
            break;
        prev = !option && le > ls ? ls : SIZE_MAX;
        ls = le + 1;
    }
    skip_cuts_inside(cuts, &kept, &k, p->len, p->len);
    cuts->n = kept;
}

/* Splits the prepared, non-empty text s into out; see flow_render_sms. */
static int split_sms(const char *s, size_t max_segments, struct flow_sms *out)
{
    struct cuts cuts = {0};
    struct plan p;
    enum cut_rank rank = CUT_IN_CLUSTER;
    uint32_t fewest, remaining;
    size_t state = 0;
    int rc = -1;

    if (plan_measure(&p, s, max_segments) < 0 || find_cuts(s, p.len, &cuts) < 0)
        goto out;
    protect_menus(&p, &cuts);
    if (plan_cuts(&p, &cuts) < 0)
        goto out;
    count_parts(&p, CUT_IN_CLUSTER);
    fewest = p.parts[0];
    if (fewest == NO_PARTS)
        goto out; /* cannot happen: every code point boundary is a cut */
    /* The least bad kind of cut that still needs no more messages than fewest. */
    for (enum cut_rank r = CUT_BLANK_LINE; r <= CUT_IN_CLUSTER; r++) {
        count_parts(&p, r);
        if (p.parts[0] == fewest) {
            rank = r;
            break;
        }
    }
    for (remaining = fewest; remaining > 1; remaining--) {
        size_t k = pick_cut(&p, state, remaining - 1, rank);

        if (k == SIZE_MAX || add_part(out, s + state_pos(&p, state),
                                      p.cuts[k].end - state_pos(&p, state), max_segments) < 0)
            goto out;
        state = k + 1;
    }
    if (add_part(out, s + state_pos(&p, state), p.len - state_pos(&p, state), max_segments) < 0)
        goto out;
    rc = 0;
out:
    plan_release(&p);
    free(cuts.v);
    return rc;
}

/*
 * The safety net under split_sms: fills messages greedily, code point by code
 * point, each within max_segments as gsm7_analyse counts it, cutting after
 * the last space when there is one. Plainer, but it cannot fail on valid
 * UTF-8, so a reply is never lost to an unusual text.
 */
static int split_greedy(const char *s, size_t max_segments, struct flow_sms *out)
{
    size_t len = strlen(s), start = 0;

    while (start < len) {
        size_t end = start, last_space = 0, pos = start;
        uint32_t cp;
        struct gsm7_info info;

        while (pos < len) {
            size_t next = pos;

            if (utf8_decode(s, len, &next, &cp) < 0)
                return -1;
            if (gsm7_analyse(s + start, next - start, &info) < 0)
                return -1;
            if (info.segments > max_segments)
                break;
            if (cp == ' ' || cp == '\n')
                last_space = pos;
            pos = end = next;
        }
        if (end == start)
            return -1; /* one character over the budget: cannot happen with max_segments >= 1 */
        if (end < len && last_space > start)
            end = last_space;
        if (add_part(out, s + start, end - start, max_segments) < 0)
            return -1;
        start = end;
        while (start < len && (s[start] == ' ' || s[start] == '\n'))
            start++;
    }
    return 0;
}

int flow_render_sms(const char *text, size_t max_segments, struct flow_sms *out)
{
    char *s;
    int rc;

    out->parts = NULL;
    out->n = 0;
    if (max_segments == 0 || (s = prepare(text)) == NULL)
        return -1;
    struct gsm7_info whole;
    if (s[0] == '\0')
        rc = 0;
    else if (gsm7_analyse(s, strlen(s), &whole) == 0 && whole.segments <= max_segments)
        rc = add_part(out, s, strlen(s), max_segments); /* most replies: no planning needed */
    else
        rc = split_sms(s, max_segments, out);
    if (rc < 0 && s[0] != '\0') {
        /* The planned split found no way (a fuzzer found such texts): fall back. */
        flow_sms_release(out);
        rc = split_greedy(s, max_segments, out);
    }
    if (rc < 0)
        flow_sms_release(out);
    free(s);
    return rc;
}

void flow_sms_release(struct flow_sms *sms)
{
    if (sms == NULL)
        return;
    for (size_t i = 0; i < sms->n; i++)
        free(sms->parts[i].text);
    free(sms->parts);
    sms->parts = NULL;
    sms->n = 0;
}

char *flow_render_menu(const char *text, const char *const *labels, size_t nlabels)
{
    struct buf b;
    size_t len = text != NULL ? strlen(text) : 0;

    if (nlabels > 0 && labels == NULL)
        return NULL;
    while (len > 0 && is_space(text[len - 1]))
        len--;
    buf_init(&b, RENDER_MAX);
    if (buf_append(&b, len > 0 ? text : "", len) < 0)
        goto fail;
    for (size_t i = 0; i < nlabels; i++) {
        if (labels[i] == NULL ||
            buf_printf(&b, "%s%zu %s", b.len > 0 ? "\n" : "", i + 1, labels[i]) < 0)
            goto fail;
    }
    return buf_detach(&b);
fail:
    buf_release(&b);
    return NULL;
}

/* A USSD reply being paged: the prepared text, its cuts and the option lines. */
struct ussd {
    char *text; /* prepared; owned */
    size_t tlen;
    struct cuts cuts;
    char **lines; /* "1 label" ...; owned */
    size_t *line_cps;
    size_t nlines;
    char *more; /* "98 label"; owned */
    size_t more_cps;
};

struct pages {
    char **v; /* owned */
    size_t n, cap;
};

static void ussd_release(struct ussd *u)
{
    free(u->text);
    free(u->cuts.v);
    for (size_t i = 0; u->lines != NULL && i < u->nlines; i++)
        free(u->lines[i]);
    free(u->lines);
    free(u->line_cps);
    free(u->more);
}

static void pages_release(struct pages *pg)
{
    for (size_t i = 0; i < pg->n; i++)
        free(pg->v[i]);
    free(pg->v);
}

/* Appends the content of b as a page; b is emptied. */
static int pages_add(struct pages *pg, struct buf *b)
{
    char *page;

    if (pg->n == pg->cap) {
        size_t cap = pg->cap ? pg->cap * 2 : 8;
        char **v = realloc(pg->v, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        pg->v = v;
        pg->cap = cap;
    }
    if ((page = buf_detach(b)) == NULL)
        return -1;
    pg->v[pg->n++] = page;
    return 0;
}

/* "prefix label" with label prepared and its line breaks made spaces; returned owned. */
static char *make_line(const char *prefix, const char *label)
{
    char *l = prepare(label);
    struct buf b;

    if (l == NULL)
        return NULL;
    for (char *c = l; *c != '\0'; c++) {
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    }
    buf_init(&b, RENDER_MAX);
    if (buf_puts(&b, prefix) < 0 || (l[0] != '\0' && buf_printf(&b, " %s", l) < 0)) {
        buf_release(&b);
        free(l);
        return NULL;
    }
    free(l);
    return buf_detach(&b);
}

static int ussd_init(struct ussd *u, const char *text, const char *const *options, size_t noptions,
                     const char *more_label)
{
    char number[24], *more;

    memset(u, 0, sizeof(*u));
    if (noptions > 0 && options == NULL)
        return -1;
    u->text = prepare(text != NULL ? text : "");
    if (u->text == NULL)
        return -1;
    u->tlen = strlen(u->text);
    if (find_cuts(u->text, u->tlen, &u->cuts) < 0)
        return -1;
    u->lines = calloc(noptions + 1, sizeof(*u->lines));
    u->line_cps = calloc(noptions + 1, sizeof(*u->line_cps));
    if (u->lines == NULL || u->line_cps == NULL)
        return -1;
    for (; u->nlines < noptions; u->nlines++) {
        size_t i = u->nlines;

        snprintf(number, sizeof(number), "%zu", i + 1);
        if (options[i] == NULL || (u->lines[i] = make_line(number, options[i])) == NULL)
            return -1;
        u->line_cps[i] = utf8_count(u->lines[i]);
    }
    more = make_line(FLOW_RENDER_USSD_MORE, more_label != NULL ? more_label : "");
    if (more == NULL)
        return -1;
    u->more_cps = utf8_count(more) + 1; /* with the line break before it */
    u->more = more;
    return 0;
}

/* Code points of everything from text offset tpos and option k on, one line each. */
static size_t rest_cps(const struct ussd *u, size_t tpos, size_t k)
{
    size_t n = count_code_points(u->text + tpos, u->tlen - tpos);
    bool any = n > 0;

    for (; k < u->nlines; k++, any = true)
        n += u->line_cps[k] + (any ? 1 : 0);
    return n;
}

/*
 * Chooses where the text page starting at tpos ends, holding at most cap code
 * points: the best kind of cut in the back half of that room (the latest of
 * its kind), else the best anywhere, else cap code points exactly.
 */
static struct cut ussd_cut(const struct ussd *u, size_t tpos, size_t cap)
{
    size_t limit = tpos, n = 0, half;
    const struct cut *best = NULL, *best_back = NULL;
    struct cut hard;

    while (limit < u->tlen && n < cap) {
        limit++;
        while (limit < u->tlen && ((unsigned char)u->text[limit] & 0xC0) == 0x80)
            limit++;
        n++;
    }
    half = tpos + (limit - tpos) / 2;
    for (size_t k = 0; k < u->cuts.n && u->cuts.v[k].end <= limit; k++) {
        const struct cut *c = &u->cuts.v[k];

        if (c->end <= tpos)
            continue;
        if (best == NULL || c->rank <= best->rank)
            best = c;
        if (c->end >= half && (best_back == NULL || c->rank <= best_back->rank))
            best_back = c;
    }
    if (best_back != NULL)
        return *best_back;
    if (best != NULL)
        return *best;
    hard = (struct cut){limit, limit, CUT_IN_CLUSTER};
    while (hard.next < u->tlen && is_space(u->text[hard.next]))
        hard.next++;
    return hard;
}

/* Appends option lines from *k on while the page stays within cap code points. */
static int add_options(const struct ussd *u, struct buf *b, size_t *used, size_t *k, size_t cap)
{
    for (; *k < u->nlines; ++*k) {
        size_t need = u->line_cps[*k] + (*used > 0 ? 1 : 0);

        if (*used + need > cap)
            break;
        if (buf_printf(b, "%s%s", *used > 0 ? "\n" : "", u->lines[*k]) < 0)
            return -1;
        *used += need;
    }
    return 0;
}

/* Appends everything from tpos and option k on: the last page. */
static int add_rest(const struct ussd *u, struct buf *b, size_t tpos, size_t k)
{
    size_t used = u->tlen - tpos;

    if (buf_append(b, u->text + tpos, u->tlen - tpos) < 0)
        return -1;
    return add_options(u, b, &used, &k, SIZE_MAX);
}

static int ussd_paginate(const struct ussd *u, size_t budget, struct pages *pg)
{
    size_t tpos = 0, k = 0, cap;
    struct buf b;

    buf_init(&b, RENDER_MAX);
    if (rest_cps(u, 0, 0) <= budget)
        return add_rest(u, &b, 0, 0) < 0 || pages_add(pg, &b) < 0 ? -1 : 0;
    if (budget <= u->more_cps)
        return -1;
    cap = budget - u->more_cps;
    while (rest_cps(u, tpos, k) > budget) {
        size_t used = 0, k0 = k;

        if (tpos < u->tlen && count_code_points(u->text + tpos, u->tlen - tpos) <= cap) {
            used = count_code_points(u->text + tpos, u->tlen - tpos);
            if (buf_append(&b, u->text + tpos, u->tlen - tpos) < 0)
                goto fail;
            tpos = u->tlen;
        } else if (tpos < u->tlen) {
            struct cut c = ussd_cut(u, tpos, cap);

            if (buf_append(&b, u->text + tpos, c.end - tpos) < 0)
                goto fail;
            tpos = c.next;
            k0 = SIZE_MAX; /* options wait for the next page */
        }
        if (k0 != SIZE_MAX && add_options(u, &b, &used, &k, cap) < 0)
            goto fail;
        if (b.len == 0 || buf_printf(&b, "\n%s", u->more) < 0 || pages_add(pg, &b) < 0)
            goto fail; /* empty page: an option line longer than the room */
    }
    if (add_rest(u, &b, tpos, k) < 0 || pages_add(pg, &b) < 0)
        goto fail;
    return 0;
fail:
    buf_release(&b);
    return -1;
}

char *flow_render_ussd(const char *text, const char *const *options, size_t noptions,
                       const char *more_label, size_t budget, size_t page, size_t *npages)
{
    struct ussd u;
    struct pages pg = {0};
    char *screen = NULL;

    memset(&u, 0, sizeof(u));
    if (npages != NULL)
        *npages = 0;
    if (budget == 0 || ussd_init(&u, text, options, noptions, more_label) < 0 ||
        ussd_paginate(&u, budget, &pg) < 0)
        goto out;
    if (npages != NULL)
        *npages = pg.n;
    if (page < pg.n) {
        screen = pg.v[page];
        pg.v[page] = NULL;
    }
out:
    ussd_release(&u);
    pages_release(&pg);
    return screen;
}
