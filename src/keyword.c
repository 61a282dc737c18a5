/*
 * keyword.c: the global word table and crisis stems (see keyword.h). Words
 * are stored already folded (lower case, accents dropped) so that one
 * comparison covers every spelling a basic phone can produce.
 */
#include "keyword.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

struct global_word {
    const char *folded;
    enum keyword_action action;
    const char *lang;
};

static const struct global_word words[] = {
    {"apua", KEYWORD_START, "fi"},         {"hjalp", KEYWORD_START, "sv"},
    {"help", KEYWORD_START, "en"},         {"start", KEYWORD_START, ""},
    {"aloita", KEYWORD_START, "fi"},       {"lopeta", KEYWORD_STOP, "fi"},
    {"sluta", KEYWORD_STOP, "sv"},         {"stop", KEYWORD_STOP, "en"},
    {"poista", KEYWORD_ERASE, "fi"},       {"radera", KEYWORD_ERASE, "sv"},
    {"delete", KEYWORD_ERASE, "en"},       {"soita", KEYWORD_CALL, "fi"},
    {"ring", KEYWORD_CALL, "sv"},          {"call", KEYWORD_CALL, "en"},
    {"tietosuoja", KEYWORD_PRIVACY, "fi"}, {"dataskydd", KEYWORD_PRIVACY, "sv"},
    {"privacy", KEYWORD_PRIVACY, "en"},    {"suomi", KEYWORD_LANGUAGE, "fi"},
    {"suomeksi", KEYWORD_LANGUAGE, "fi"},  {"finnish", KEYWORD_LANGUAGE, "fi"},
    {"svenska", KEYWORD_LANGUAGE, "sv"},   {"pa svenska", KEYWORD_LANGUAGE, "sv"},
    {"ruotsi", KEYWORD_LANGUAGE, "sv"},    {"swedish", KEYWORD_LANGUAGE, "sv"},
    {"english", KEYWORD_LANGUAGE, "en"},   {"englanti", KEYWORD_LANGUAGE, "en"},
    {"engelska", KEYWORD_LANGUAGE, "en"},  {"0", KEYWORD_BACK, ""},
    {"00", KEYWORD_MAIN_MENU, ""},
};

/*
 * Crisis stems, folded. A stem matches at the start of a word, so "itsemurh"
 * catches itsemurha, itsemurhaa, itsemurhan; multi-word stems match across
 * single spaces. Violence words point to 112 and the violence helpline.
 */
static const char *const crisis_stems[] = {
    /* fi */
    "itsemurh",
    "haluan kuolla",
    "haluun kuolla",
    "haluisin kuolla",
    "tapan itseni",
    "tappaa itseni",
    "tappaisin itseni",
    "en halua elaa",
    "ei jaksa elaa",
    "lopettaa elamani",
    "hakkaa minua",
    "lyo minua",
    "uhkaa tappaa",
    "pahoinpidel",
    "raiskat",
    "raiskas",
    /* sv */
    "sjalvmord",
    "vill do",
    "vill inte leva",
    "ta livet av mig",
    "doda mig sjalv",
    "slar mig",
    "hotar att doda",
    "misshandl",
    "valdtag",
    /* en */
    "suicid",
    "kill myself",
    "want to die",
    "wanna die",
    "end my life",
    "dont want to live",
    "don't want to live",
    "hits me",
    "beats me",
    "threatens to kill",
    "raped",
};

const char *keyword_action_name(enum keyword_action action)
{
    static const char *const names[] = {"none",    "start",    "stop", "erase",    "call",
                                        "privacy", "language", "back", "main_menu"};

    _Static_assert(sizeof(names) / sizeof(names[0]) == KEYWORD_MAIN_MENU + 1,
                   "one name per keyword action");
    return names[action];
}

static bool lookup(const char *folded, struct keyword_match *out)
{
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcmp(words[i].folded, folded) == 0) {
            if (out != NULL) {
                out->action = words[i].action;
                snprintf(out->lang, sizeof(out->lang), "%s", words[i].lang);
            }
            return true;
        }
    }
    return false;
}

bool keyword_match_global(const char *text, struct keyword_match *out)
{
    char *folded = utf8_fold(text);
    bool found;

    if (folded == NULL)
        return false;
    /* Trailing punctuation is common on phones: "Apua!" "stop." */
    for (size_t n = strlen(folded); n > 0 && strchr("!?.,", folded[n - 1]) != NULL; n--)
        folded[n - 1] = '\0';
    found = lookup(folded, out);
    free(folded);
    return found;
}

bool keyword_is_global(const char *word)
{
    return keyword_match_global(word, NULL);
}

static bool is_word_char(char c)
{
    return (unsigned char)c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool contains_stem(const char *hay, const char *stem)
{
    size_t n = strlen(stem);

    if (n == 0)
        return false;
    for (const char *p = hay; (p = strstr(p, stem)) != NULL; p++) {
        if (p == hay || !is_word_char(p[-1]))
            return true;
    }
    return false;
}

bool keyword_is_crisis(const char *text, char *const *extra, size_t nextra)
{
    char *folded = utf8_fold(text);
    bool found = false;

    if (folded == NULL)
        return false;
    for (size_t i = 0; !found && i < sizeof(crisis_stems) / sizeof(crisis_stems[0]); i++)
        found = contains_stem(folded, crisis_stems[i]);
    for (size_t i = 0; !found && i < nextra; i++) {
        char *stem = utf8_fold(extra[i]);

        found = stem != NULL && contains_stem(folded, stem);
        free(stem);
    }
    free(folded);
    return found;
}
