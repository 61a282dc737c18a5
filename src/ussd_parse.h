/*
 * ussd_parse.h: the pure half of a USSD request, apart from the database so
 * that it can be fuzzed (tests/fuzz/fuzz_ussd.c): the JSON variant's fields,
 * and the new answer in the text a gateway accumulates over a session
 * ("" for the first screen, then "1", "1*3", "1*3*00530").
 */
#ifndef KATTO_USSD_PARSE_H
#define KATTO_USSD_PARSE_H

#include <stddef.h>

#include "gateway.h"

/*
 * Reads a JSON object's sessionId, serviceCode, phoneNumber, text and
 * networkCode (those that are strings) from in->body into in->params, as
 * if they had come as a form. 0, or -1 with err set if the body is not a
 * JSON object, a field is not UTF-8, or memory runs out.
 */
int ussd_parse_json(struct gateway_http *in, char *err);

/*
 * The answer text (len bytes) adds to the seen_len bytes the session has
 * already seen: all of it when nothing was seen, else what follows the '*'
 * after the seen part. NULL when text does not go on from there (shorter,
 * the same length, or no '*' at seen_len): out of step, or a resent step,
 * which the caller tells apart by comparing what was seen. The caller also
 * checks that the seen part is the same (ussd_channel.c keeps a keyed hash).
 */
const char *ussd_parse_answer(const char *text, size_t len, size_t seen_len);

#endif
