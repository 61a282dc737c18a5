/*
 * gateway_console.h: the console gateway, the default when no SMS account is
 * configured. Its build_send makes a request with the URL "console:" and the
 * message text as the body; the outbox recognises that URL and prints the
 * message with gateway_console_format() instead of sending it, so that
 * scripts/run works without an account anywhere.
 */
#ifndef KATTO_GATEWAY_CONSOLE_H
#define KATTO_GATEWAY_CONSOLE_H

#include <stddef.h>

#include "gateway.h"

#define GATEWAY_CONSOLE_URL "console:" /* the url of every console request */

/*
 * Formats msg (borrowed) as one line without a newline, for example
 *   to=+358*****567 parts=1 text=Hei! Mitä kuuluu?\nVastaa 1 tai 2
 * into out (cap bytes, always NUL-terminated when cap > 0). The number is
 * masked (country code and last three digits) so that a terminal or a log
 * never shows it whole; control characters and backslashes in the text are
 * escaped (\n, \r, \t, \\, \xNN) so the message stays on one line; parts
 * counts SMS segments as the network would pack them. Returns the length of
 * the line, or -1 if it did not fit (out then holds the line cut on a code
 * point boundary) or the text is not valid UTF-8.
 */
int gateway_console_format(const struct gateway_message *msg, char *out, size_t cap);

#endif
