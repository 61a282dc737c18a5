/*
 * gsm7.h: what an SMS text will cost before it is sent. A text is sent in the
 * GSM 03.38 7-bit default alphabet if every character is in it (extension
 * table characters such as '€' take an escape septet and count 2), otherwise
 * the whole message goes out as UCS-2 (UTF-16) and fits less than half as much.
 * Flow validation and rendering use this to warn authors and to count segments
 * exactly as the network packs them. Input is UTF-8; nothing here keeps a
 * pointer it was given.
 */
#ifndef KATTO_GSM7_H
#define KATTO_GSM7_H

#include <stddef.h>
#include <stdint.h>

#define GSM7_SINGLE_SEPTETS 160 /* one-part GSM-7 message */
#define GSM7_MULTI_SEPTETS 153  /* per part once the user data header takes 6 octets */
#define GSM7_SINGLE_UCS2 70     /* one-part UCS-2 message, in UTF-16 code units */
#define GSM7_MULTI_UCS2 67      /* per part of a concatenated UCS-2 message */
#define GSM7_DESCRIBE_LEN 32    /* enough for gsm7_describe_char() of any code point */

enum gsm7_encoding {
    GSM7_ENC_GSM7, /* GSM 03.38 default alphabet plus extension table */
    GSM7_ENC_UCS2, /* UTF-16; needed as soon as one character is outside GSM-7 */
};

struct gsm7_info {
    enum gsm7_encoding encoding;
    size_t units;             /* septets (extension chars count 2) or UTF-16 code units */
    size_t segments;          /* SMS parts as packed by the network; 0 for empty text */
    uint32_t first_ucs2_char; /* the first code point that forces UCS-2, 0 if none */
    size_t first_ucs2_offset; /* its byte offset in the input, 0 if none */
};

/*
 * Septets that code point cp takes in GSM-7: 1 for the default alphabet, 2 for
 * the extension table (form feed ^ { } \ [ ~ ] | €), 0 if it is not GSM-7 at
 * all and forces UCS-2.
 */
int gsm7_char_septets(uint32_t cp);

/*
 * Analyses the len bytes of UTF-8 at utf8 (borrowed, need not be
 * NUL-terminated) and fills *out. Segments are counted by simulating the
 * packing: past one part, GSM-7 parts hold 153 septets but an escape and its
 * character are never split, so a part may hold 152; UCS-2 parts hold 67
 * units but a surrogate pair (a character outside the BMP, such as an emoji)
 * is never split. Returns 0, or -1 if the input is not valid UTF-8 (then *out
 * is unspecified).
 */
int gsm7_analyse(const char *utf8, size_t len, struct gsm7_info *out);

/*
 * Returns a copy of the NUL-terminated UTF-8 string utf8 (borrowed), returned
 * owned (free with free()), with word-processor look-alikes replaced by their
 * GSM-7 twins so that pasted text does not silently switch a message to UCS-2:
 * - quotes ‘ ’ ‚ ‛ ′ ‹ › ´ ` -> '  and  “ ” „ ‟ ″ « » -> "
 * - dashes ‐ ‑ ‒ – — ― − -> -  and the bullet • -> - (a list item "• Kela"
 *   reads naturally as "- Kela")
 * - ellipsis … -> ...
 * - U+00A0, U+2000..U+200A, U+202F, U+205F, U+3000 and tab -> space;
 *   U+2028 and U+2029 (line and paragraph separators) -> LF
 * - soft hyphen, zero-width space and joiners, word joiner and BOM are removed.
 * Letters are never changed: 'õ' stays and still forces UCS-2, because
 * replacing it would change the word. Returns NULL if utf8 is NULL, not valid
 * UTF-8, or on allocation failure.
 */
char *gsm7_normalise(const char *utf8);

/*
 * Formats cp for a warning into out and returns out: "'õ' (U+00F5)", or just
 * "U+000A" for control characters, combining marks and values that are not
 * characters, which would be invisible or garble the line when quoted.
 */
char *gsm7_describe_char(uint32_t cp, char out[GSM7_DESCRIBE_LEN]);

#endif
