/*
 * ussd_channel.h: the same flows over USSD, in Africa's Talking's format
 * (which most USSD aggregators copy): POST /webhooks/africastalking/ussd/<token>
 * with sessionId, serviceCode, phoneNumber, networkCode and text, where text
 * holds every answer of the session so far joined by '*'. The answer is
 * text/plain "CON <screen>" (the session goes on) or "END <screen>".
 *
 * Reconciling text with the session: Katto remembers the length and a keyed
 * hash of the text it has already seen (never the answers). A request whose
 * text equals what was seen is a resend and gets the same screen again; one
 * that extends it by '*' carries one new answer, which is everything after
 * that '*' (so an answer may itself contain '*'); anything else means the
 * gateway and Katto disagree, and the session ends with a short message.
 *
 * The gateway ends a session silently on any HTTP error, so every problem is
 * answered 200 "END <short message>". The path answers from memory and SQLite
 * only: no network call.
 */
#ifndef KATTO_USSD_CHANNEL_H
#define KATTO_USSD_CHANNEL_H

#include "sms_channel.h"

struct ussd_channel;

/*
 * Registers the route when ussd.token is set (otherwise USSD is off and this
 * logs why). deps as for the SMS channel; everything is kept but the key.
 */
struct ussd_channel *ussd_channel_new(const struct sms_channel_deps *deps, struct http_server *http,
                                      char *err);
void ussd_channel_free(struct ussd_channel *ch);

/* Deletes expired USSD state rows, at most limit. Returns how many or -1. */
int ussd_channel_purge(struct ussd_channel *ch, long long now, int limit);

#endif
