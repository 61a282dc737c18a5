/*
 * utf8.h: strict UTF-8 handling for text that arrives from gateways and flow
 * files. Everything Katto stores or sends is validated here first, so later
 * layers may assume well-formed UTF-8. utf8_fold() produces the form used for
 * keyword matching, where "  HJÄLP " and "hjalp" must be the same word.
 * No function here keeps a pointer it was given.
 */
#ifndef KATTO_UTF8_H
#define KATTO_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_MAX_CODE_POINT 0x10FFFFu

/*
 * True if the len bytes at s (borrowed, need not be NUL-terminated) are
 * well-formed UTF-8: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF and no truncated sequence. U+0000 is a valid code point;
 * callers that need C strings check for it themselves. len 0 is valid.
 */
bool utf8_valid(const char *s, size_t len);

/*
 * Decodes the code point starting at byte *pos of s (len bytes, borrowed) into
 * *cp and advances *pos past it. Returns 0 on success, -1 if *pos >= len or the
 * bytes there are not a valid sequence (same rules as utf8_valid); on -1 neither
 * *pos nor *cp is changed.
 */
int utf8_decode(const char *s, size_t len, size_t *pos, uint32_t *cp);

/*
 * Writes the UTF-8 form of cp into out (not NUL-terminated) and returns its
 * length, 1 to 4. Returns 0 and writes nothing for surrogates and values above
 * U+10FFFF.
 */
size_t utf8_encode(uint32_t cp, char out[4]);

/*
 * Number of code points in the NUL-terminated string s (borrowed). Counts the
 * bytes that do not continue a sequence, so the result is exact only for valid
 * UTF-8.
 */
size_t utf8_count(const char *s);

/*
 * The largest length n <= max_bytes such that the first n bytes of the
 * NUL-terminated string s (borrowed) end on a code point boundary: strlen(s) if
 * that already fits. Never splits a sequence of valid UTF-8. Does not allocate.
 */
size_t utf8_truncate(const char *s, size_t max_bytes);

/*
 * Returns the keyword-matching form of the NUL-terminated string s (borrowed),
 * returned owned (free with free()):
 * - whitespace (ASCII space, \t \n \v \f \r, U+00A0 and the other Unicode
 *   spaces and separators U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
 *   U+3000) is trimmed at both ends and each inner run becomes one ASCII space;
 * - invisible format characters are dropped: soft hyphen U+00AD, zero-width
 *   space and joiners U+200B..U+200D, word joiner U+2060, BOM U+FEFF and the
 *   bidirectional marks U+200E, U+200F, U+202A..U+202E, U+2066..U+2069 that
 *   phones insert around right-to-left text;
 * - ASCII letters are lower-cased; Latin-1 Supplement and Latin Extended-A
 *   letters become their unaccented lower-case ASCII letter ("Ä" -> "a",
 *   "õ" -> "o", "Š" -> "s", "Ł" -> "l"), ligatures and sharp s are spelled out
 *   ("Æ" -> "ae", "Œ" -> "oe", "ß" -> "ss", "Þ" -> "th"), and combining marks
 *   U+0300..U+036F after a Latin letter are dropped, as a basic phone would;
 * - Greek and Cyrillic capitals become their small letters ("Ё" -> "ё");
 *   letters of other scripts are kept unchanged.
 * Returns NULL if s is NULL, not valid UTF-8, or on allocation failure. The
 * result is never longer than s.
 */
char *utf8_fold(const char *s);

#endif
