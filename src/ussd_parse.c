/* ussd_parse.c: the pure half of a USSD request (see ussd_parse.h). */
#include "ussd_parse.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "utf8.h"

int ussd_parse_json(struct gateway_http *in, char *err)
{
    static const char *const names[] = {"sessionId", "serviceCode", "phoneNumber", "text",
                                        "networkCode"};
    cJSON *root = cJSON_ParseWithLength(in->body, in->body_len);

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        err_set(err, "the body is not a JSON object");
        return -1;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && in->nparams < GATEWAY_MAX_PARAMS;
         i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, names[i]);

        if (!cJSON_IsString(v))
            continue;
        if (!utf8_valid(v->valuestring, strlen(v->valuestring))) {
            cJSON_Delete(root);
            err_set(err, "'%s' is not valid UTF-8", names[i]);
            return -1;
        }
        in->params[in->nparams].name = strdup(names[i]);
        in->params[in->nparams].value = strdup(v->valuestring);
        if (in->params[in->nparams].name == NULL || in->params[in->nparams].value == NULL) {
            free(in->params[in->nparams].name);
            free(in->params[in->nparams].value);
            cJSON_Delete(root);
            err_set(err, "out of memory");
            return -1;
        }
        in->nparams++;
    }
    cJSON_Delete(root);
    return 0;
}

const char *ussd_parse_answer(const char *text, size_t len, size_t seen_len)
{
    if (len <= seen_len)
        return NULL;
    if (seen_len == 0)
        return text;
    return text[seen_len] == '*' ? text + seen_len + 1 : NULL;
}
