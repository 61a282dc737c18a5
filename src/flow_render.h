/*
 * flow_render.h: turns a reply into what a basic phone shows. SMS replies are
 * split into as few messages as possible, each within a segment budget and
 * cut where a reader expects a break; USSD replies become screens of a fixed
 * number of characters with "98" leading to the next one. Everything here is
 * pure (no I/O), keeps no pointer it was given, and takes and returns UTF-8.
 */
#ifndef KATTO_FLOW_RENDER_H
#define KATTO_FLOW_RENDER_H

#include <stddef.h>

#include "gsm7.h"

#define FLOW_RENDER_USSD_MORE "98" /* the reply that shows the next USSD screen */

struct flow_sms_part {
    char *text;            /* owned; never empty */
    struct gsm7_info info; /* encoding and exact segment count of text */
};

struct flow_sms {
    struct flow_sms_part *parts; /* owned; n of them */
    size_t n;
};

/*
 * Renders text (borrowed, UTF-8) as SMS messages into *out (overwritten;
 * release with flow_sms_release). Look-alike characters are normalised
 * (gsm7_normalise), CRLF becomes LF and the text is trimmed; empty text gives
 * n == 0. The text is split into as few messages as possible, each taking at
 * most max_segments (>= 1) SMS segments as gsm7_analyse counts them, so one õ
 * makes only the message that holds it UCS-2. Among splits with that many
 * messages, cuts go at a blank line, else a line break, else a sentence end
 * (". " "! " "? "), else a space, and only as a last resort inside a word
 * (never inside a UTF-8 character; before a combining mark or emoji modifier
 * only if nothing else gives that many messages); each cut is
 * the latest of its kind in the back half of the message's room, so messages
 * are well filled. Whitespace at cuts is dropped. A block of menu option lines
 * ("1 Label", "1. Label" or "1) Label" on consecutive lines) that fits in one
 * message is never split, and the line just before it (the question) stays
 * with it when that fits too.
 * Returns 0, or -1 if text is NULL, not valid UTF-8, max_segments is 0 or
 * memory runs out (*out is empty then).
 */
int flow_render_sms(const char *text, size_t max_segments, struct flow_sms *out);

/* Frees the parts of sms and leaves it empty; safe on an empty or released one. */
void flow_sms_release(struct flow_sms *sms);

/*
 * Formats a menu for any channel: text (borrowed; NULL or "" for none) with
 * trailing whitespace removed, then one line per option "1 label", numbered
 * from 1, for the nlabels labels (borrowed). Returned owned (free with free()),
 * or NULL if a label is NULL or memory runs out.
 */
char *flow_render_menu(const char *text, const char *const *labels, size_t nlabels);

/*
 * The USSD screen for page (0-based) of a reply made of text (borrowed; NULL
 * or "" for none) followed by option lines "1 label".."N label" for the
 * noptions options (borrowed). Text and labels are normalised like SMS text;
 * line breaks inside a label become spaces. Every screen has at most budget
 * code points. If the whole reply fits it is one page. Otherwise the text is
 * split over as many pages as needed (at line, sentence or word boundaries),
 * and the options fill pages in order after it: an option line is never split
 * and numbering stays global, so "5" is valid on any page. Every page but the
 * last ends with the line "98 <more_label>" (more_label borrowed; NULL or ""
 * gives a bare "98"). *npages (may be NULL) receives the number of pages, 0 on
 * invalid input. Returns the screen, returned owned (free with free()), or
 * NULL if page >= *npages, budget is too small for an option line or the
 * "98" line, input is not valid UTF-8, an option is NULL, or memory runs out.
 */
char *flow_render_ussd(const char *text, const char *const *options, size_t noptions,
                       const char *more_label, size_t budget, size_t page, size_t *npages);

#endif
