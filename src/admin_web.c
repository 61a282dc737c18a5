/* admin_web.c: the administrators' report page (see admin_web.h). */
#include "admin_web.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "err.h"
#include "gateway.h"
#include "log.h"
#include "report.h"
#include "report_svg.h"

#define COOKIE_NAME "katto_admin"
#define COOKIE_MAX 96       /* "<expiry>.<64 hex digits>" with room to spare */
#define PAGE_MAX (32 << 20) /* bytes of one answer at most */
#define QUERY_VALUE_MAX 128 /* bytes of one query value kept */
#define HOME "/admin/report"
/* No-store and nosniff come from http_server for every answer. */
#define CSP                                                                                        \
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "           \
    "frame-ancestors 'none'"

struct admin_web {
    const struct config *cfg;
    sqlite3 *db;
    struct flow_set *const *flows;
    uint8_t cookie_key[CRYPTO_KEY_LEN]; /* HMAC key of the cookie: secret and token */
    uint8_t token_hash[32];             /* SHA-256 of admin.token: compared in constant time */
    long long window_start;             /* failed attempts: the current window ... */
    int failures;                       /* ... and how many it has seen */
};

/* ---- who may ask ----------------------------------------------------------------------- */

/* The workers' rule (http_exchange_over_tls): statistics need HTTPS too. */
static bool over_tls(const struct admin_web *w, struct http_exchange *ex)
{
    return http_exchange_over_tls(ex, w->cfg->worker.trusted_proxy != 0);
}

/* Constant time whatever the lengths: the hashes of the two tokens are compared. */
static bool token_ok(const struct admin_web *w, const char *given)
{
    uint8_t h[32];
    bool ok;

    crypto_sha256(given, strlen(given), h);
    ok = crypto_equal(h, w->token_hash, sizeof(h));
    explicit_bzero(h, sizeof(h));
    return ok;
}

/* Seconds to wait before another attempt may be made, 0 if one may be made now. */
static long long must_wait(struct admin_web *w, long long now)
{
    if (now - w->window_start >= ADMIN_FAILURE_WINDOW) {
        w->window_start = now;
        w->failures = 0;
    }
    return w->failures >= ADMIN_FAILURES_MAX ? w->window_start + ADMIN_FAILURE_WINDOW - now : 0;
}

static void failed(struct admin_web *w, const char *how)
{
    w->failures++;
    log_warn("admin.sign_in_failed", "method=%s failures=%d", how, w->failures);
}

/* "<expiry>.<hex HMAC of 'katto-admin|<expiry>'>" into out (COOKIE_MAX bytes). */
static void cookie_value(const struct admin_web *w, long long expiry, char *out)
{
    char text[64];
    uint8_t mac[32];
    char hex[65];

    snprintf(text, sizeof(text), "katto-admin|%lld", expiry);
    crypto_hmac_sha256(w->cookie_key, sizeof(w->cookie_key), text, strlen(text), mac);
    crypto_hex(mac, sizeof(mac), hex);
    snprintf(out, COOKIE_MAX, "%lld.%s", expiry, hex);
}

/* The cookie katto_admin from the Cookie header into out, or "" (malformed or absent). */
static void cookie_of(struct http_exchange *ex, char *out)
{
    http_exchange_cookie(ex, COOKIE_NAME, "0123456789abcdef.", out, COOKIE_MAX);
}

static bool cookie_ok(const struct admin_web *w, struct http_exchange *ex, long long now)
{
    char given[COOKIE_MAX], want[COOKIE_MAX];
    long long expiry;
    char *end;

    cookie_of(ex, given);
    expiry = strtoll(given, &end, 10);
    if (given[0] == '\0' || end == given || *end != '.' || expiry <= now ||
        expiry > now + ADMIN_COOKIE_MAX_AGE)
        return false;
    cookie_value(w, expiry, want);
    return strlen(given) == strlen(want) && crypto_equal(given, want, strlen(want));
}

/* ---- answers ----------------------------------------------------------------------------- */

static void security_headers(struct http_exchange *ex)
{
    http_exchange_add_header(ex, "Content-Security-Policy", CSP);
    http_exchange_add_header(ex, "Referrer-Policy", "no-referrer");
    http_exchange_add_header(ex, "X-Frame-Options", "DENY");
}

static void answer(struct http_exchange *ex, int status, const char *type, struct buf *b, bool ok)
{
    security_headers(ex);
    if (!ok) {
        log_error("admin.page", "problem=\"page too large or out of memory\"");
        http_exchange_error(ex, 500, "internal error");
    } else {
        http_exchange_reply(ex, status, type, buf_str(b), b->len);
    }
    buf_release(b);
}

static void send_error(struct http_exchange *ex, int status, const char *text)
{
    security_headers(ex);
    http_exchange_error(ex, status, text);
}

static int esc(struct buf *b, const char *s)
{
    return report_xml_escape(b, s);
}

/* Inline CSS only (the CSP allows no file): made for a phone first, 360 px and up. */
#define STYLE                                                                                      \
    "body{font:16px/1.45 system-ui,sans-serif;color:#222;margin:0 auto;max-width:64rem;"           \
    "padding:.75rem}"                                                                              \
    "h1{font-size:1.35rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}"               \
    "form{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end}"                        \
    "label{display:flex;flex-direction:column;font-size:.9rem}"                                    \
    "fieldset{border:1px solid #ccc;border-radius:.3rem;display:flex;flex-wrap:wrap;"              \
    "gap:.2rem .9rem}"                                                                             \
    "fieldset label{flex-direction:row;align-items:center;gap:.3rem;min-height:2.2rem}"            \
    "input,button{font:inherit;padding:.45rem;min-height:2.6rem}"                                  \
    "input[type=checkbox]{min-height:auto;width:1.2rem;height:1.2rem}"                             \
    "button{background:#0b57d0;color:#fff;border:0;border-radius:.3rem;padding:.45rem 1.2rem}"     \
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}"                                    \
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}"                            \
    "th,td{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}" \
    "th.l,td.l{text-align:left}tr.total td{font-weight:bold;border-top:2px solid #999}"            \
    ".chart svg{min-width:560px;max-width:100%;height:auto}"                                       \
    ".notes{font-size:.9rem;color:#444}.error{color:#a50e0e;font-weight:bold}"                     \
    ".dl a{margin-right:1rem}"

static int page_start(struct buf *b, const char *title)
{
    if (buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<meta name=\"robots\" content=\"noindex\"><title>") != 0 ||
        esc(b, title) != 0)
        return -1;
    return buf_puts(b, "</title><style>" STYLE "</style></head><body>\n");
}

static void sign_in_page(struct http_exchange *ex, int status, const char *problem)
{
    struct buf b;
    bool ok;

    buf_init(&b, PAGE_MAX);
    ok = page_start(&b, "Katto: sign in") == 0 &&
         buf_puts(&b, "<h1>Katto report</h1>\n<p>Sign in with the administrators' token "
                      "(<code>admin.token</code>).</p>\n") == 0 &&
         (problem == NULL || (buf_puts(&b, "<p class=\"error\">") == 0 && esc(&b, problem) == 0 &&
                              buf_puts(&b, "</p>\n") == 0)) &&
         buf_puts(&b, "<form method=\"post\" action=\"/admin/login\"><label>Token "
                      "<input type=\"password\" name=\"token\" autocomplete=\"current-password\" "
                      "required></label><button type=\"submit\">Sign in</button></form>\n"
                      "</body></html>\n") == 0;
    if (status == 401)
        http_exchange_add_header(ex, "WWW-Authenticate", "Bearer realm=\"katto-admin\"");
    answer(ex, status, "text/html; charset=utf-8", &b, ok);
}

static void too_many(struct http_exchange *ex, long long wait)
{
    char value[24];

    snprintf(value, sizeof(value), "%lld", wait);
    http_exchange_add_header(ex, "Retry-After", value);
    send_error(ex, 429, "too many failed sign-ins: try again later");
}

/* ---- the report page --------------------------------------------------------------------- */

/* The value of query parameter name, decoded and cut to cap bytes; false if absent. */
static bool param(const char *query, const char *name, char *out, size_t cap)
{
    char *v = gateway_query_param(query, name);

    if (v == NULL)
        return false;
    snprintf(out, cap, "%s", v);
    free(v);
    return true;
}

/* Every by= parameter joined with commas (checkboxes send one each): "city,week". */
static void by_params(const char *query, char *out, size_t cap)
{
    size_t used = 0;

    out[0] = '\0';
    while (query != NULL && *query != '\0') {
        size_t n = strcspn(query, "&");
        char part[QUERY_VALUE_MAX + 8], value[QUERY_VALUE_MAX];

        if (n < sizeof(part)) {
            memcpy(part, query, n);
            part[n] = '\0';
            if (param(part, "by", value, sizeof(value)) && value[0] != '\0' && used + 2 < cap)
                used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", value);
        }
        query += n + (query[n] == '&');
    }
    if (used >= cap)
        out[cap - 1] = '\0';
}

/* The query string of this report in another format: from, to, by and format. */
static int format_link(struct buf *b, const struct report_query *q, const char *format)
{
    if (buf_printf(b, "%s?from=%s&amp;to=%s&amp;by=", HOME, q->from, q->to) != 0)
        return -1;
    for (size_t i = 0; i < q->nby; i++) {
        if (buf_printf(b, "%s%s", i ? "%2C" : "", report_dim_name(q->by[i])) != 0)
            return -1;
    }
    return format != NULL ? buf_printf(b, "&amp;format=%s", format) : 0;
}

static int cell(struct buf *b, const struct report_cell *c, bool label)
{
    char text[24];

    return buf_puts(b, label ? "<td class=\"l\">" : "<td>") == 0 &&
                   esc(b, report_cell_text(c, text)) == 0 && buf_puts(b, "</td>") == 0
               ? 0
               : -1;
}

static int table_head(struct buf *b, const struct report_table *t)
{
    if (buf_puts(b, "<h2>") != 0 || esc(b, t->title) != 0 ||
        buf_puts(b, "</h2>\n<div class=\"scroll\"><table><thead><tr>") != 0)
        return -1;
    for (size_t k = 0; k < t->nkeys; k++) {
        if (buf_printf(b, "<th class=\"l\" scope=\"col\">%s</th>", report_dim_name(t->keys[k])) !=
            0)
            return -1;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        if (buf_puts(b, "<th scope=\"col\">") != 0 ||
            esc(b, report_column_label(t->columns[c])) != 0 || buf_puts(b, "</th>") != 0)
            return -1;
    }
    return buf_puts(b, t->additive ? "<th scope=\"col\">total</th></tr></thead><tbody>\n"
                                   : "</tr></thead><tbody>\n");
}

static int table_html(struct buf *b, const struct report_table *t)
{
    if (table_head(b, t) != 0)
        return -1;
    for (size_t r = 0; r <= t->nrows; r++) {
        bool total = r == t->nrows;

        if (buf_puts(b, total ? "<tr class=\"total\">" : "<tr>") != 0)
            return -1;
        for (size_t k = 0; k < t->nkeys; k++) {
            if (buf_puts(b, "<td class=\"l\">") != 0 ||
                esc(b, total ? (k == 0 ? "total" : "") : t->labels[r * t->nkeys + k]) != 0 ||
                buf_puts(b, "</td>") != 0)
                return -1;
        }
        for (size_t c = 0; c < t->ncols; c++) {
            if (cell(b, total ? &t->col_totals[c] : &t->cells[r * t->ncols + c], false) != 0)
                return -1;
        }
        if (t->additive && cell(b, total ? &t->grand : &t->row_totals[r], false) != 0)
            return -1;
        if (buf_puts(b, "</tr>\n") != 0)
            return -1;
    }
    return buf_puts(b, "</tbody></table></div>\n");
}

static int query_form(struct buf *b, const struct report_query *q)
{
    if (buf_printf(b,
                   "<form method=\"get\" action=\"%s\"><label>From <input type=\"date\" "
                   "name=\"from\" value=\"%s\" required></label><label>To <input type=\"date\" "
                   "name=\"to\" value=\"%s\" required></label><fieldset><legend>By</legend>",
                   HOME, q->from, q->to) != 0)
        return -1;
    for (size_t d = 0; d < REPORT_NDIMS; d++) {
        bool on = false;

        for (size_t i = 0; i < q->nby; i++)
            on |= q->by[i] == (enum report_dim)d;
        if (buf_printf(b, "<label><input type=\"checkbox\" name=\"by\" value=\"%s\"%s> %s</label>",
                       report_dim_name((enum report_dim)d), on ? " checked" : "",
                       report_dim_name((enum report_dim)d)) != 0)
            return -1;
    }
    return buf_puts(b, "</fieldset><button type=\"submit\">Show</button></form>\n");
}

static int report_page(struct buf *b, const struct report *r)
{
    static const char *const formats[] = {"csv", "json", "svg"};

    if (page_start(b, "Katto report") != 0 ||
        buf_printf(b,
                   "<h1>Katto report</h1>\n<p>%s to %s, Helsinki time. Counts from 1 to 4 "
                   "show as &lt;5; x hides a count so that totals do not give one away.</p>\n",
                   r->q.from, r->q.to) != 0 ||
        query_form(b, &r->q) != 0 || buf_puts(b, "<p class=\"dl\">Download:") != 0)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        if (buf_puts(b, " <a href=\"") != 0 || format_link(b, &r->q, formats[i]) != 0 ||
            buf_printf(b, "\">%s</a>", formats[i]) != 0)
            return -1;
    }
    if (buf_puts(b, "</p>\n<h2>Contacts per week by city</h2>\n<div class=\"scroll chart\">") !=
            0 ||
        report_write_svg(r, b, false) != 0 || buf_puts(b, "</div>\n") != 0)
        return -1;
    for (size_t i = 0; i < r->ntables; i++) {
        if (table_html(b, &r->tables[i]) != 0)
            return -1;
    }
    if (buf_puts(b, "<h2>Notes</h2>\n<ul class=\"notes\">") != 0)
        return -1;
    for (size_t i = 0; report_notes[i] != NULL; i++) {
        if (buf_puts(b, "<li>") != 0 || esc(b, report_notes[i]) != 0 || buf_puts(b, "</li>") != 0)
            return -1;
    }
    return buf_puts(b, "</ul>\n</body></html>\n");
}

/* Sends the report in format (NULL: the page). */
static void send_report(struct http_exchange *ex, const struct report *r, const char *format)
{
    char disposition[96];
    const char *type = "text/html; charset=utf-8";
    struct buf b;
    int rc;

    buf_init(&b, PAGE_MAX);
    if (format == NULL) {
        rc = report_page(&b, r);
    } else if (strcmp(format, "csv") == 0) {
        type = "text/csv; charset=utf-8";
        rc = report_write_csv(r, &b);
    } else if (strcmp(format, "json") == 0) {
        type = "application/json";
        rc = report_write_json(r, &b);
    } else {
        type = "image/svg+xml";
        rc = report_write_svg(r, &b, true);
    }
    /* Only csv and json reach here as downloads: the name never carries the query's text. */
    if (format != NULL && strcmp(format, "svg") != 0) {
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"katto-report-%s-%s.%s\"",
                 r->q.from, r->q.to, strcmp(format, "csv") == 0 ? "csv" : "json");
        http_exchange_add_header(ex, "Content-Disposition", disposition);
    }
    answer(ex, 200, type, &b, rc == 0);
}

/* Signed in by Bearer token or cookie? Otherwise answers (401 or 429) and returns false. */
static bool signed_in(struct admin_web *w, struct http_exchange *ex, long long now)
{
    const char *auth = http_exchange_header(ex, "Authorization");
    long long wait;

    if (auth == NULL) {
        if (cookie_ok(w, ex, now))
            return true;
        sign_in_page(ex, 401, NULL);
        return false;
    }
    if ((wait = must_wait(w, now)) > 0) {
        too_many(ex, wait);
        return false;
    }
    if (strncasecmp(auth, "Bearer ", 7) == 0 && token_ok(w, auth + 7))
        return true;
    failed(w, "bearer");
    http_exchange_add_header(ex, "WWW-Authenticate",
                             "Bearer realm=\"katto-admin\", "
                             "error=\"invalid_token\"");
    send_error(ex, 401, "wrong token");
    return false;
}

static void report_route(struct http_exchange *ex, void *arg)
{
    struct admin_web *w = arg;
    const char *query = http_exchange_query(ex);
    char from[QUERY_VALUE_MAX], to[QUERY_VALUE_MAX], by[4 * QUERY_VALUE_MAX],
        format[QUERY_VALUE_MAX], err[ERR_LEN];
    bool has_from, has_to, has_format;
    long long now = clock_now();
    struct report_query q;
    struct report r;
    int rc;

    if (!over_tls(w, ex)) {
        send_error(ex, 403, "use https");
        return;
    }
    if (!signed_in(w, ex, now))
        return;
    has_from = param(query, "from", from, sizeof(from));
    has_to = param(query, "to", to, sizeof(to));
    has_format = param(query, "format", format, sizeof(format));
    by_params(query, by, sizeof(by));
    report_query_init(&q, now);
    if (has_format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0 &&
        strcmp(format, "svg") != 0) {
        send_error(ex, 400, "format must be csv, json or svg");
        return;
    }
    if (report_query_set(&q, has_from ? from : NULL, has_to ? to : NULL, by[0] ? by : NULL, err) !=
        0) {
        send_error(ex, 400, err);
        return;
    }
    rc = report_build(w->db, *w->flows, &q, &r, err);
    if (rc != 0) {
        log_error("admin.report", "problem=\"%s\"", err);
        send_error(ex, rc == REPORT_TOO_LARGE ? 400 : 500,
                   rc == REPORT_TOO_LARGE ? "too many rows: use fewer dimensions or a shorter range"
                                          : "the report could not be made");
        report_release(&r);
        return;
    }
    log_info("admin.report", "from=%s to=%s format=%s", q.from, q.to, has_format ? format : "html");
    send_report(ex, &r, has_format ? format : NULL);
    report_release(&r);
}

/* Checks the form's origin: a browser names the page's own host (no cross-site sign-in). */
static bool same_origin(struct http_exchange *ex)
{
    const char *origin = http_exchange_header(ex, "Origin"),
               *host = http_exchange_header(ex, "Host");

    if (origin == NULL)
        return true;
    if (host == NULL)
        return false;
    if (strncmp(origin, "https://", 8) == 0)
        origin += 8;
    else if (strncmp(origin, "http://", 7) == 0)
        origin += 7;
    else
        return false;
    return strcmp(origin, host) == 0;
}

static void login_post(struct admin_web *w, struct http_exchange *ex, long long now)
{
    const char *type = http_exchange_header(ex, "Content-Type");
    char cookie[COOKIE_MAX], header[COOKIE_MAX + 128], *token;
    long long wait;
    size_t len;
    const char *body;
    bool ok;

    if (!same_origin(ex)) {
        send_error(ex, 403, "cross-site sign-in refused");
        return;
    }
    if (type == NULL || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0) {
        send_error(ex, 415, "expected a form");
        return;
    }
    if ((wait = must_wait(w, now)) > 0) {
        too_many(ex, wait);
        return;
    }
    if ((body = http_exchange_body(ex, &len)) == NULL) {
        send_error(ex, 500, "out of memory");
        return;
    }
    token = gateway_query_param(body, "token");
    ok = token != NULL && token_ok(w, token);
    if (token != NULL) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    if (!ok) {
        failed(w, "form");
        sign_in_page(ex, 401, "Wrong token.");
        return;
    }
    cookie_value(w, now + ADMIN_COOKIE_MAX_AGE, cookie);
    snprintf(header, sizeof(header),
             "%s=%s; Max-Age=%d; Path=/admin; HttpOnly; Secure; "
             "SameSite=Strict",
             COOKIE_NAME, cookie, ADMIN_COOKIE_MAX_AGE);
    log_info("admin.signed_in", "until=%lld", now + ADMIN_COOKIE_MAX_AGE);
    http_exchange_add_header(ex, "Set-Cookie", header);
    http_exchange_add_header(ex, "Location", HOME);
    security_headers(ex);
    http_exchange_reply(ex, 303, "text/plain; charset=utf-8", "signed in\n", 10);
}

static void login_route(struct http_exchange *ex, void *arg)
{
    struct admin_web *w = arg;

    if (!over_tls(w, ex)) {
        send_error(ex, 403, "use https");
        return;
    }
    if (http_exchange_method(ex) == HTTP_POST)
        login_post(w, ex, clock_now());
    else
        sign_in_page(ex, 200, NULL);
}

static void home_route(struct http_exchange *ex, void *arg)
{
    (void)arg;
    http_exchange_add_header(ex, "Location", HOME);
    security_headers(ex);
    http_exchange_reply(ex, 303, "text/plain; charset=utf-8", "see /admin/report\n", 18);
}

struct admin_web *admin_web_new(const struct admin_web_deps *deps, struct http_server *http,
                                char *err)
{
    struct admin_web *w = calloc(1, sizeof(*w));
    const char *token = deps->cfg->admin.token;
    uint8_t base[CRYPTO_KEY_LEN];

    if (w == NULL) {
        err_set(err, "admin page: out of memory");
        return NULL;
    }
    w->cfg = deps->cfg;
    w->db = deps->db;
    w->flows = deps->flows;
    if (token == NULL || token[0] == '\0')
        return w; /* off: no route, so /admin is 404 like any unknown path */
    /* The token is in the cookie's key, so that a new token ends every old sign-in. */
    if (crypto_derive_key(deps->secret, "admin-cookie", base) != 0) {
        err_set(err, "admin page: cannot derive the cookie key");
        admin_web_free(w);
        return NULL;
    }
    crypto_hmac_sha256(base, sizeof(base), token, strlen(token), w->cookie_key);
    explicit_bzero(base, sizeof(base));
    crypto_sha256(token, strlen(token), w->token_hash);
    if (http_server_route(http, "admin", "/admin", HTTP_GET, home_route, w) != 0 ||
        http_server_route(http, "admin_report", HOME, HTTP_GET, report_route, w) != 0 ||
        http_server_route(http, "admin_login", "/admin/login", HTTP_GET | HTTP_POST, login_route,
                          w) != 0) {
        err_set(err, "admin page: cannot add the routes");
        admin_web_free(w);
        return NULL;
    }
    return w;
}

void admin_web_free(struct admin_web *w)
{
    if (w == NULL)
        return;
    explicit_bzero(w, sizeof(*w));
    free(w);
}
