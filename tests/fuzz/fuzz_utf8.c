/*
 * fuzz_utf8: the text primitives every layer trusts (utf8.h, gsm7.h) over
 * arbitrary bytes, checked against each other: the validator and the
 * decoder agree, decoding then encoding gives the bytes back, truncation
 * never splits a character, folding and GSM-7 normalising return valid
 * UTF-8 no longer than allowed, and the segment count is consistent.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gsm7.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    bool valid = utf8_valid(s, size);
    size_t pos = 0;
    uint32_t cp;
    char enc[4];

    /* Decoding the whole input succeeds exactly when it is valid, and re-encodes to itself. */
    while (pos < size) {
        size_t before = pos;

        if (utf8_decode(s, size, &pos, &cp) != 0)
            break;
        FUZZ_CHECK(pos > before && pos - before <= 4);
        FUZZ_CHECK(utf8_encode(cp, enc) == pos - before);
        FUZZ_CHECK(memcmp(enc, s + before, pos - before) == 0);
        FUZZ_CHECK(gsm7_char_septets(cp) >= 0 && gsm7_char_septets(cp) <= 2);
        char described[GSM7_DESCRIBE_LEN];

        FUZZ_CHECK(gsm7_describe_char(cp, described) == described);
        FUZZ_CHECK(memchr(described, '\0', sizeof(described)) != NULL);
    }
    FUZZ_CHECK(valid == (pos == size));

    struct gsm7_info info;

    FUZZ_CHECK((gsm7_analyse(s, size, &info) == 0) == valid);
    if (valid) {
        FUZZ_CHECK((info.segments == 0) == (size == 0));
        FUZZ_CHECK(info.segments <= info.units + 1);
        if (info.encoding == GSM7_ENC_GSM7)
            FUZZ_CHECK(info.first_ucs2_char == 0);
    }

    /* The string functions stop at the first NUL, as callers with C strings see it. */
    char *str = fuzz_strndup(data, size);
    size_t len = strlen(str);
    bool str_valid = utf8_valid(str, len);

    if (str_valid) {
        FUZZ_CHECK(utf8_count(str) <= len);
        for (size_t max = 0; max <= len + 1; max += 1 + max / 4) {
            size_t cut = utf8_truncate(str, max);

            FUZZ_CHECK(cut <= max && cut <= len && utf8_valid(str, cut));
            FUZZ_CHECK(max < 4 || cut + 3 >= (max < len ? max : len));
        }
    }
    char *folded = utf8_fold(str);

    FUZZ_CHECK((folded != NULL) == str_valid);
    if (folded != NULL) {
        size_t flen = strlen(folded);

        FUZZ_CHECK(flen <= len && utf8_valid(folded, flen));
        /* Folding is idempotent: a keyword folded once matches itself folded again. */
        char *twice = utf8_fold(folded);

        FUZZ_CHECK(twice != NULL && strcmp(twice, folded) == 0);
        free(twice);
    }
    free(folded);
    char *norm = gsm7_normalise(str);

    FUZZ_CHECK((norm != NULL) == str_valid);
    if (norm != NULL)
        FUZZ_CHECK(utf8_valid(norm, strlen(norm)));
    free(norm);
    free(str);
    return 0;
}
