/*
 * utf8.c: strict UTF-8 decoding, validation and keyword folding (see utf8.h).
 * The decoder follows RFC 3629 table 3 exactly, so every other function that
 * is built on it rejects the same inputs. Folding only maps code points to
 * shorter or equal UTF-8, which lets it allocate once with the input's size.
 */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

int utf8_decode(const char *s, size_t len, size_t *pos, uint32_t *cp)
{
    const unsigned char *p;
    size_t n, avail;
    uint32_t c, min;

    if (*pos >= len)
        return -1;
    p = (const unsigned char *)s + *pos;
    avail = len - *pos;
    if (p[0] < 0x80) {
        *cp = p[0];
        *pos += 1;
        return 0;
    }
    /*
     * Lead bytes C0, C1 and F5..FF can only start overlong or out-of-range
     * sequences, so they are rejected here; the remaining overlongs and the
     * surrogates are caught by the range check after assembly.
     */
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
        c = p[0] & 0x1Fu;
        min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        c = p[0] & 0x0Fu;
        min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        c = p[0] & 0x07u;
        min = 0x10000;
    } else {
        return -1;
    }
    if (avail < n)
        return -1;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0u) != 0x80u)
            return -1;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if (c < min || c > UTF8_MAX_CODE_POINT || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *cp = c;
    *pos += n;
    return 0;
}

bool utf8_valid(const char *s, size_t len)
{
    size_t pos = 0;
    uint32_t cp;

    while (pos < len) {
        if (utf8_decode(s, len, &pos, &cp) < 0)
            return false;
    }
    return true;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > UTF8_MAX_CODE_POINT)
        return 0;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool is_continuation(char c)
{
    return ((unsigned char)c & 0xC0u) == 0x80u;
}

size_t utf8_count(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++) {
        if (!is_continuation(*s))
            n++;
    }
    return n;
}

size_t utf8_truncate(const char *s, size_t max_bytes)
{
    size_t len;

    /* strnlen's limit is max_bytes + 1 so that "fits exactly" and "too long" differ. */
    if (max_bytes == SIZE_MAX)
        return strlen(s);
    len = strnlen(s, max_bytes + 1);
    if (len <= max_bytes)
        return len;
    /*
     * s[max_bytes] exists and is not the terminator. If it continues a
     * sequence, the cut would split that sequence, so back up to its lead byte
     * and cut before it.
     */
    len = max_bytes;
    while (len > 0 && is_continuation(s[len]))
        len--;
    return len;
}

/* Whitespace that keyword matching treats as one separator. */
static bool is_fold_space(uint32_t cp)
{
    switch (cp) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case 0x00A0:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200A;
    }
}

/* Invisible characters that a copy-paste or a phone's keyboard can slip into a word. */
static bool is_fold_ignorable(uint32_t cp)
{
    return cp == 0x00AD || (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Base letters for U+00C0..U+00FF and U+0100..U+017F, lower case, one byte per
 * code point. '*' marks a letter that folds to two letters (see digraph());
 * '-' marks the two Latin-1 signs in the block (U+00D7, U+00F7), kept as they
 * are.
 */
static const char latin1_base[] = "aaaaaa*ceeeeiiii"
                                  "dnooooo-ouuuuy**"
                                  "aaaaaa*ceeeeiiii"
                                  "dnooooo-ouuuuy*y";
_Static_assert(sizeof(latin1_base) == 0x40 + 1, "one entry per U+00C0..U+00FF");

static const char latin_ext_a_base[] = "aaaaaa"
                                       "cccccccc"
                                       "dddd"
                                       "eeeeeeeeee"
                                       "gggggggg"
                                       "hhhh"
                                       "iiiiiiiiii"
                                       "**" /* U+0132, U+0133 ij */
                                       "jj"
                                       "kkk"
                                       "llllllllll"
                                       "nnnnnnnnn"
                                       "oooooo"
                                       "**" /* U+0152, U+0153 oe */
                                       "rrrrrr"
                                       "ssssssss"
                                       "tttttt"
                                       "uuuuuuuuuuuu"
                                       "ww"
                                       "yyy"
                                       "zzzzzz"
                                       "s"; /* U+017F long s */
_Static_assert(sizeof(latin_ext_a_base) == 0x80 + 1, "one entry per U+0100..U+017F");

static const char *digraph(uint32_t cp)
{
    switch (cp) {
    case 0x00C6: /* Æ */
    case 0x00E6: /* æ */ return "ae";
    case 0x00DE: /* Þ */
    case 0x00FE: /* þ */ return "th";
    case 0x00DF: /* ß */ return "ss";
    case 0x0132: /* Ĳ */
    case 0x0133: /* ĳ */ return "ij";
    case 0x0152: /* Œ */
    case 0x0153: /* œ */ return "oe";
    default: return NULL;
    }
}

/* Small letter for Greek and Cyrillic capitals with a one-to-one lower case; cp otherwise. */
static uint32_t lower_greek_cyrillic(uint32_t cp)
{
    if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2)
        return cp + 0x20;
    if (cp >= 0x0400 && cp <= 0x040F) /* Ѐ..Џ, including Ё, Є, І, Ї, Ў */
        return cp + 0x50;
    if (cp >= 0x0410 && cp <= 0x042F) /* А..Я */
        return cp + 0x20;
    /* In these ranges capitals sit on even code points with the small letter next (Ґ ґ). */
    if (((cp >= 0x0460 && cp <= 0x0481) || (cp >= 0x048A && cp <= 0x04BF) ||
         (cp >= 0x04D0 && cp <= 0x052F)) &&
        cp % 2 == 0)
        return cp + 1;
    if (cp >= 0x04C1 && cp <= 0x04CE && cp % 2 == 1)
        return cp + 1;
    if (cp == 0x04C0)
        return 0x04CF;
    return cp;
}

/*
 * Writes the folded form of one code point into out and returns its length.
 * *latin tells whether the result is a Latin letter, after which combining
 * accents are dropped.
 */
static size_t fold_char(uint32_t cp, char out[4], bool *latin)
{
    const char *two;
    char base = '-';

    *latin = false;
    if (cp < 0x80) {
        out[0] = (char)cp;
        if (cp >= 'A' && cp <= 'Z')
            out[0] = (char)(cp - 'A' + 'a');
        *latin = out[0] >= 'a' && out[0] <= 'z';
        return 1;
    }
    if (cp >= 0xC0 && cp <= 0xFF)
        base = latin1_base[cp - 0xC0];
    else if (cp >= 0x100 && cp <= 0x17F)
        base = latin_ext_a_base[cp - 0x100];
    if (base == '*') {
        two = digraph(cp);
        out[0] = two[0];
        out[1] = two[1];
        *latin = true;
        return 2;
    }
    if (base != '-') {
        out[0] = base;
        *latin = true;
        return 1;
    }
    return utf8_encode(lower_greek_cyrillic(cp), out);
}

char *utf8_fold(const char *s)
{
    size_t len, pos = 0, n = 0, k;
    bool pending_space = false, after_latin = false, latin;
    uint32_t cp;
    char *out, buf[4];

    if (s == NULL)
        return NULL;
    len = strlen(s);
    if (!utf8_valid(s, len))
        return NULL;
    out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    /*
     * Every branch below writes at most as many bytes as it consumed (a pending
     * space stands for at least one consumed whitespace byte), so n never
     * overtakes pos and the buffer cannot overflow.
     */
    while (utf8_decode(s, len, &pos, &cp) == 0) {
        if (is_fold_space(cp)) {
            pending_space = n > 0;
            after_latin = false;
            continue;
        }
        if (is_fold_ignorable(cp))
            continue;
        if (cp >= 0x0300 && cp <= 0x036F && after_latin)
            continue;
        k = fold_char(cp, buf, &latin);
        if (pending_space) {
            out[n++] = ' ';
            pending_space = false;
        }
        memcpy(out + n, buf, k);
        n += k;
        after_latin = latin;
    }
    out[n] = '\0';
    return out;
}
