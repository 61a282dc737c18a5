/*
 * fuzz_ussd: the parsing half of the Africa's Talking USSD webhook
 * (ussd_channel.c webhook()): the form body with sessionId, serviceCode,
 * phoneNumber and text, the number normalised for the contact log, and the
 * same bytes read as a query string (the route's ?token=). Property: a
 * decoded form encodes (gateway_form_encode) and decodes back to the same
 * fields.
 *
 * Also the pure half of a step (ussd_parse.c): the JSON variant's fields
 * (ussd_parse_json, on the same bytes) and the new answer in the text after
 * what a session has seen (ussd_parse_answer), for every length seen: the
 * answer lies within the text, starts it or follows a '*' at the seen length,
 * and is valid UTF-8 whenever the text is.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "gateway.h"
#include "ussd_parse.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_strndup(data, size);
    struct gateway_http in = {.body = body, .body_len = size};
    struct gateway_http again = {0};
    char err[ERR_LEN], number[GATEWAY_NUMBER_MAX];
    const char *pairs[2 * GATEWAY_MAX_PARAMS];

    /* Whatever it says, the route token lookup must not misread the bytes. */
    free(gateway_query_param(body, "token"));

    /* The same bytes as the JSON variant: the fields it reads are UTF-8, at most five. */
    struct gateway_http json = {.body = body, .body_len = size};

    if (ussd_parse_json(&json, err) == 0) {
        FUZZ_CHECK(json.nparams <= 5);
        for (size_t i = 0; i < json.nparams; i++)
            FUZZ_CHECK(utf8_valid(json.params[i].value, strlen(json.params[i].value)));
    }
    gateway_http_release(&json);

    /* The bytes as a session's accumulated text, against every length it may have seen
     * (the UTF-8 of each answer only for short texts: that check is quadratic). */
    bool text_valid = size <= 2048 && utf8_valid(body, size);

    for (size_t seen = 0; seen <= size + 1; seen++) {
        const char *answer = ussd_parse_answer(body, size, seen);

        if (answer == NULL) {
            FUZZ_CHECK(size <= seen || (seen > 0 && body[seen] != '*'));
            continue;
        }
        FUZZ_CHECK(answer >= body && answer <= body + size);
        FUZZ_CHECK(seen == 0 ? answer == body : answer == body + seen + 1 && body[seen] == '*');
        if (text_valid)
            FUZZ_CHECK(utf8_valid(answer, size - (size_t)(answer - body)));
    }

    if (gateway_parse_form(&in, err) != 0)
        goto out;
    FUZZ_CHECK(in.nparams <= GATEWAY_MAX_PARAMS);

    const char *phone = gateway_param(&in, "phoneNumber");

    if (phone != NULL && gateway_normalise_number(phone, number) == 0) {
        FUZZ_CHECK(number[0] == '+' && memchr(number, '\0', sizeof(number)) != NULL);
        /* Normalising is idempotent: a stored number normalises to itself. */
        char twice[GATEWAY_NUMBER_MAX];

        FUZZ_CHECK(gateway_normalise_number(number, twice) == 0 && strcmp(number, twice) == 0);
    }
    const char *text = gateway_param(&in, "text");

    if (text != NULL)
        FUZZ_CHECK(utf8_valid(text, strlen(text)));

    /* Round trip through the encoder the adapters use for send bodies. */
    for (size_t i = 0; i < in.nparams; i++) {
        pairs[2 * i] = in.params[i].name;
        pairs[2 * i + 1] = in.params[i].value;
    }
    char *encoded = gateway_form_encode(pairs, in.nparams);

    FUZZ_CHECK(encoded != NULL);
    again.body = encoded;
    again.body_len = strlen(encoded);
    FUZZ_CHECK(gateway_parse_form(&again, err) == 0);
    FUZZ_CHECK(again.nparams == in.nparams);
    for (size_t i = 0; i < in.nparams; i++) {
        FUZZ_CHECK(strcmp(in.params[i].name, again.params[i].name) == 0);
        FUZZ_CHECK(strcmp(in.params[i].value, again.params[i].value) == 0);
    }
    gateway_http_release(&again);
    free(encoded);
out:
    gateway_http_release(&in);
    free(body);
    return 0;
}
