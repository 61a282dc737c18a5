/*
 * keyword.h: the engine-level words that work everywhere, in every language,
 * and that no flow can override or disable (people get stuck in flows on
 * every platform that allows it): start/help, stop, erase, call me, privacy,
 * language switch, back (0) and main menu (00); and the crisis words, matched
 * by stem anywhere in a message. Matching ignores case, surrounding space and
 * accents a basic phone may drop (utf8_fold), so HJALP = HJÄLP = hjälp.
 */
#ifndef KATTO_KEYWORD_H
#define KATTO_KEYWORD_H

#include <stdbool.h>
#include <stddef.h>

enum keyword_action {
    KEYWORD_NONE,
    KEYWORD_START,     /* APUA, HJÄLP, HELP, START: main menu; opts back in after STOP */
    KEYWORD_STOP,      /* LOPETA, SLUTA, STOP: opt out */
    KEYWORD_ERASE,     /* POISTA, RADERA, DELETE: erase after a confirmation */
    KEYWORD_CALL,      /* SOITA, RING, CALL: request a callback */
    KEYWORD_PRIVACY,   /* TIETOSUOJA, DATASKYDD, PRIVACY */
    KEYWORD_LANGUAGE,  /* SUOMI, SVENSKA, ENGLISH: switch language */
    KEYWORD_BACK,      /* 0 */
    KEYWORD_MAIN_MENU, /* 00 */
};

struct keyword_match {
    enum keyword_action action;
    char lang[12]; /* the word's language; for KEYWORD_LANGUAGE the language to switch to */
};

/*
 * Looks text up in the global table: the whole message, folded, must be the
 * word. Returns true and fills *out on a match.
 */
bool keyword_match_global(const char *text, struct keyword_match *out);

/* True if word (as an administrator wrote it) would be taken by the global table. */
bool keyword_is_global(const char *word);

/*
 * True if text contains a crisis word: a built-in stem (itsemurh-, haluan
 * kuolla, självmord, vill dö, suicide, kill myself, want to die, violence
 * words ...) or one of extra (administrators' additions, written as stems),
 * at the start of a word.
 */
bool keyword_is_crisis(const char *text, char *const *extra, size_t nextra);

/* The action's name for logs and diagnostics ("start", "stop", ...). */
const char *keyword_action_name(enum keyword_action action);

#endif
