/*
 * gsm7.c: GSM 03.38 alphabet membership, SMS segment counting and look-alike
 * normalisation (see gsm7.h). The alphabet is written out below in septet
 * order, exactly as in 3GPP TS 23.038 section 6.2.1, so that it can be checked
 * against the standard line by line rather than trusted as a derived rule.
 */
#include "gsm7.h"

#include "utf8.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#define GSM7_ESC_SEPTET 0x1B

/*
 * Default alphabet, indexed by septet. Slot 0x1B is the escape to the
 * extension table, not a character; it holds 0 and is skipped in lookups.
 */
/* clang-format off */
static const uint16_t basic_alphabet[128] = {
    '@',    0x00A3, '$',    0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, /* @ £ $ ¥ è é ù ì */
    0x00F2, 0x00C7, '\n',   0x00D8, 0x00F8, '\r',   0x00C5, 0x00E5, /* ò Ç LF Ø ø CR Å å */
    0x0394, '_',    0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, /* Δ _ Φ Γ Λ Ω Π Ψ */
    0x03A3, 0x0398, 0x039E, 0,      0x00C6, 0x00E6, 0x00DF, 0x00C9, /* Σ Θ Ξ ESC Æ æ ß É */
    ' ',    '!',    '"',    '#',    0x00A4, '%',    '&',    '\'',   /* ¤ */
    '(',    ')',    '*',    '+',    ',',    '-',    '.',    '/',
    '0',    '1',    '2',    '3',    '4',    '5',    '6',    '7',
    '8',    '9',    ':',    ';',    '<',    '=',    '>',    '?',
    0x00A1, 'A',    'B',    'C',    'D',    'E',    'F',    'G',    /* ¡ */
    'H',    'I',    'J',    'K',    'L',    'M',    'N',    'O',
    'P',    'Q',    'R',    'S',    'T',    'U',    'V',    'W',
    'X',    'Y',    'Z',    0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, /* Ä Ö Ñ Ü § */
    0x00BF, 'a',    'b',    'c',    'd',    'e',    'f',    'g',    /* ¿ */
    'h',    'i',    'j',    'k',    'l',    'm',    'n',    'o',
    'p',    'q',    'r',    's',    't',    'u',    'v',    'w',
    'x',    'y',    'z',    0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, /* ä ö ñ ü à */
};
/* clang-format on */

/*
 * Characters of the extension table, each sent as ESC followed by one septet
 * (0x0A 0x14 0x28 0x29 0x2F 0x3C 0x3D 0x3E 0x40 0x65 in this order).
 */
static const uint16_t extension_chars[] = {
    '\f', '^', '{', '}', '\\', '[', '~', ']', '|', 0x20AC, /* € */
};

/* The alphabets above as a lookup for the code points most text is made of. */
#define FAST_LOOKUP 0x400
static uint8_t fast_septets[FAST_LOOKUP];
static once_flag fast_once = ONCE_FLAG_INIT;

static int scan_septets(uint32_t cp)
{
    for (size_t i = 0; i < sizeof(basic_alphabet) / sizeof(basic_alphabet[0]); i++) {
        if (i != GSM7_ESC_SEPTET && basic_alphabet[i] == cp)
            return 1;
    }
    for (size_t i = 0; i < sizeof(extension_chars) / sizeof(extension_chars[0]); i++) {
        if (extension_chars[i] == cp)
            return 2;
    }
    return 0;
}

static void fill_fast_septets(void)
{
    for (uint32_t cp = 0; cp < FAST_LOOKUP; cp++)
        fast_septets[cp] = (uint8_t)scan_septets(cp);
}

int gsm7_char_septets(uint32_t cp)
{
    if (cp >= FAST_LOOKUP)
        return scan_septets(cp);
    call_once(&fast_once, fill_fast_septets);
    return fast_septets[cp];
}

/*
 * Counts parts for a message whose characters weigh `weight` units each, where
 * a character is never split across parts. A message that fits in `single`
 * units is one part; otherwise parts of `multi` units are filled greedily.
 */
static size_t count_segments(const char *s, size_t len, size_t total, size_t single, size_t multi,
                             int (*weight)(uint32_t cp))
{
    size_t pos = 0, segments = 1, used = 0, w;
    uint32_t cp;

    if (total == 0)
        return 0;
    if (total <= single)
        return 1;
    while (utf8_decode(s, len, &pos, &cp) == 0) {
        w = (size_t)weight(cp);
        if (used + w > multi) {
            segments++;
            used = 0;
        }
        used += w;
    }
    return segments;
}

static int ucs2_units(uint32_t cp)
{
    return cp >= 0x10000 ? 2 : 1;
}

int gsm7_analyse(const char *utf8, size_t len, struct gsm7_info *out)
{
    size_t pos = 0, start, septets = 0, ucs2 = 0;
    uint32_t cp;
    int w;

    memset(out, 0, sizeof(*out));
    out->encoding = GSM7_ENC_GSM7;
    while (pos < len) {
        start = pos;
        if (utf8_decode(utf8, len, &pos, &cp) < 0)
            return -1;
        w = gsm7_char_septets(cp);
        if (w == 0 && out->encoding == GSM7_ENC_GSM7) {
            out->encoding = GSM7_ENC_UCS2;
            out->first_ucs2_char = cp;
            out->first_ucs2_offset = start;
        }
        septets += (size_t)w;
        ucs2 += (size_t)ucs2_units(cp);
    }
    if (out->encoding == GSM7_ENC_GSM7) {
        out->units = septets;
        out->segments = count_segments(utf8, len, septets, GSM7_SINGLE_SEPTETS, GSM7_MULTI_SEPTETS,
                                       gsm7_char_septets);
    } else {
        out->units = ucs2;
        out->segments =
            count_segments(utf8, len, ucs2, GSM7_SINGLE_UCS2, GSM7_MULTI_UCS2, ucs2_units);
    }
    return 0;
}

struct lookalike {
    uint32_t cp;
    const char *gsm7; /* replacement; "" drops the character */
};

/* Characters that word processors and phones substitute for plain GSM-7 ones. */
static const struct lookalike lookalikes[] = {
    {'\t', " "},     /* tab: not in GSM-7 */
    {0x00A0, " "},   /* no-break space */
    {0x2000, " "},   /* en quad */
    {0x2001, " "},   /* em quad */
    {0x2002, " "},   /* en space */
    {0x2003, " "},   /* em space */
    {0x2004, " "},   /* three-per-em space */
    {0x2005, " "},   /* four-per-em space */
    {0x2006, " "},   /* six-per-em space */
    {0x2007, " "},   /* figure space */
    {0x2008, " "},   /* punctuation space */
    {0x2009, " "},   /* thin space */
    {0x200A, " "},   /* hair space */
    {0x202F, " "},   /* narrow no-break space, used before units in Finnish typography */
    {0x205F, " "},   /* medium mathematical space */
    {0x3000, " "},   /* ideographic space */
    {0x2028, "\n"},  /* line separator */
    {0x2029, "\n"},  /* paragraph separator */
    {'`', "'"},      /* grave accent: the one printable ASCII character missing from GSM-7 */
    {0x00B4, "'"},   /* acute accent */
    {0x2018, "'"},   /* ‘ */
    {0x2019, "'"},   /* ’ */
    {0x201A, "'"},   /* ‚ */
    {0x201B, "'"},   /* ‛ */
    {0x2032, "'"},   /* ′ prime */
    {0x2039, "'"},   /* ‹ */
    {0x203A, "'"},   /* › */
    {0x00AB, "\""},  /* « */
    {0x00BB, "\""},  /* » */
    {0x201C, "\""},  /* “ */
    {0x201D, "\""},  /* ” */
    {0x201E, "\""},  /* „ */
    {0x201F, "\""},  /* ‟ */
    {0x2033, "\""},  /* ″ double prime */
    {0x2010, "-"},   /* hyphen */
    {0x2011, "-"},   /* non-breaking hyphen */
    {0x2012, "-"},   /* figure dash */
    {0x2013, "-"},   /* – en dash */
    {0x2014, "-"},   /* — em dash */
    {0x2015, "-"},   /* horizontal bar */
    {0x2212, "-"},   /* − minus sign */
    {0x2022, "-"},   /* • bullet: "• Kela" reads as the list item "- Kela" */
    {0x2026, "..."}, /* … */
    {0x00AD, ""},    /* soft hyphen */
    {0x200B, ""},    /* zero-width space */
    {0x200C, ""},    /* zero-width non-joiner */
    {0x200D, ""},    /* zero-width joiner */
    {0x2060, ""},    /* word joiner */
    {0xFEFF, ""},    /* byte order mark, zero-width no-break space */
};

/* The GSM-7 replacement for cp, or NULL to keep cp as it is. */
static const char *lookalike_for(uint32_t cp)
{
    /* Replies are mostly printable ASCII, whose only entry is the grave accent. */
    if (cp >= 0x20 && cp < 0x7F && cp != '`')
        return NULL;
    for (size_t i = 0; i < sizeof(lookalikes) / sizeof(lookalikes[0]); i++) {
        if (lookalikes[i].cp == cp)
            return lookalikes[i].gsm7;
    }
    return NULL;
}

char *gsm7_normalise(const char *utf8)
{
    size_t len, pos = 0, start, n = 0, k;
    const char *rep;
    uint32_t cp;
    char *out;

    if (utf8 == NULL)
        return NULL;
    len = strlen(utf8);
    if (!utf8_valid(utf8, len))
        return NULL;
    out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    /*
     * No replacement is longer than the UTF-8 it replaces ("…" is 3 bytes and
     * so is "..."), so the output fits in len bytes.
     */
    for (start = 0; utf8_decode(utf8, len, &pos, &cp) == 0; start = pos) {
        rep = lookalike_for(cp);
        if (rep == NULL) {
            rep = utf8 + start;
            k = pos - start;
        } else {
            k = strlen(rep);
        }
        memcpy(out + n, rep, k);
        n += k;
    }
    out[n] = '\0';
    return out;
}

/* Characters that would be invisible, or would garble the warning, if quoted. */
static bool unquotable(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x00AD ||
           (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF ||
           (cp >= 0xD800 && cp <= 0xDFFF) || cp > UTF8_MAX_CODE_POINT;
}

char *gsm7_describe_char(uint32_t cp, char out[GSM7_DESCRIBE_LEN])
{
    char enc[4];
    size_t k;

    if (unquotable(cp)) {
        snprintf(out, GSM7_DESCRIBE_LEN, "U+%04" PRIX32, cp);
        return out;
    }
    k = utf8_encode(cp, enc);
    snprintf(out, GSM7_DESCRIBE_LEN, "'%.*s' (U+%04" PRIX32 ")", (int)k, enc, cp);
    return out;
}
