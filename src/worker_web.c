/*
 * worker_web.c: the workers' page (see worker_web.h).
 *
 * A request is checked for TLS, rate limit and form here, on the loop; the
 * rest (session, action, audit, the page itself) is one group-commit job,
 * so that every write (a session's last_seen, a claim, an audit row) is on
 * disk before the answer that reports it. The page is built inside the job
 * from what it just read and sent after COMMIT.
 */
#include "worker_web.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "callback_desk.h"
#include "clock.h"
#include "err.h"
#include "gateway.h"
#include "log.h"
#include "worker.h"

#define COOKIE_NAME "katto_worker"
#define PAGE_MAX (1024 * 1024) /* a page over this is a bug: 500 */
#define HOME "/worker"

/* Applied to every answer on the worker routes (no-store and nosniff come from http_server). */
#define CSP                                                                                        \
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

enum action { ACT_PAGE, ACT_LOGIN, ACT_LOGOUT, ACT_CLAIM, ACT_REVEAL, ACT_CLOSE, ACT_MERGE };

static const struct {
    const char *name, *path;
    unsigned methods;
    enum action act;
} routes[] = {
    {"worker", HOME, HTTP_GET, ACT_PAGE},
    {"worker_login", HOME "/login", HTTP_POST, ACT_LOGIN},
    {"worker_logout", HOME "/logout", HTTP_POST, ACT_LOGOUT},
    {"worker_claim", HOME "/claim", HTTP_POST, ACT_CLAIM},
    {"worker_reveal", HOME "/reveal", HTTP_POST, ACT_REVEAL},
    {"worker_close", HOME "/close", HTTP_POST, ACT_CLOSE},
    {"worker_merge", HOME "/merge", HTTP_POST, ACT_MERGE},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

struct worker_web;

struct route_arg {
    struct worker_web *w;
    enum action act;
};

struct worker_web {
    struct worker_web_deps d;
    struct worker_store *ws;
    struct callback_desk *desk;
    struct worker_limiter *limiter;
    struct route_arg args[NROUTES];
};

/* ---- HTML ------------------------------------------------------------------------------- */

/* A page being written; a failed append marks it failed (answered 500) instead of cut short. */
struct html {
    struct buf b;
    bool failed;
};

static void h_raw(struct html *h, const char *s)
{
    if (!h->failed && buf_puts(&h->b, s) != 0)
        h->failed = true;
}

static void h_fmt(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void h_fmt(struct html *h, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(text))
        h->failed = true;
    else
        h_raw(h, text);
}

/* Text from the database or a person, escaped for element content and attribute values. */
static void h_text(struct html *h, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        char one[2] = {*s, '\0'};

        switch (*s) {
        case '&': h_raw(h, "&amp;"); break;
        case '<': h_raw(h, "&lt;"); break;
        case '>': h_raw(h, "&gt;"); break;
        case '"': h_raw(h, "&quot;"); break;
        case '\'': h_raw(h, "&#39;"); break;
        default: h_raw(h, one); break;
        }
    }
}

/* Finnish first, English below it in smaller grey type. */
static void h_both(struct html *h, const char *fi, const char *en)
{
    h_raw(h, fi);
    h_raw(h, " <span class=\"en\" lang=\"en\">");
    h_raw(h, en);
    h_raw(h, "</span>");
}

static const char style[] =
    "*{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%}"
    "body{margin:0;font:18px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#111;background:#eef1f4;overflow-wrap:anywhere}"
    "header,main,footer{max-width:40rem;margin:0 auto;padding:12px}"
    "header{background:#123;color:#fff;max-width:none}"
    "header .in{max-width:40rem;margin:0 auto}"
    "h1{font-size:1.3rem;margin:0}"
    "h2{font-size:1.25rem;margin:0 0 6px}"
    ".en{display:block;font-size:.82em;font-weight:400;color:#555}"
    "header .en{color:#cdd}"
    "article{background:#fff;border:1px solid #c8ced6;border-radius:10px;padding:12px;"
    "margin:0 0 14px}"
    "article.overdue{border:3px solid #b00020;background:#fff5f6}"
    ".badge{display:inline-block;background:#b00020;color:#fff;border-radius:6px;"
    "padding:2px 8px;font-size:.8rem;vertical-align:middle}"
    ".mine{background:#0b6e4f}"
    "p{margin:6px 0}"
    ".k{display:block;font-size:.8rem;color:#555;text-transform:uppercase;letter-spacing:.02em}"
    "form{margin:8px 0 0}"
    "label{display:block;font-weight:600;margin:10px 0 4px}"
    "input,select,button{font:inherit;width:100%;min-height:52px;border-radius:8px}"
    "input,select{border:2px solid #667;padding:8px 10px;background:#fff}"
    "button{border:0;background:#0b5394;color:#fff;font-weight:700;padding:10px;margin:6px 0;"
    "cursor:pointer}"
    "button .en{color:inherit;opacity:.9}"
    "button.quiet{background:#fff;color:#0b5394;border:2px solid #0b5394}"
    "button.end{background:#444}"
    ".call{display:block;text-align:center;font-size:1.7rem;font-weight:700;background:#0b6e4f;"
    "color:#fff;border-radius:10px;padding:14px;text-decoration:none;margin:10px 0}"
    ".msg{background:#fff3cd;border:2px solid #b08800;border-radius:8px;padding:10px}"
    "a{color:#0b5394}"
    "footer a{display:block;text-align:center;padding:14px;font-weight:700}";

static void page_start(struct html *h, const char *title)
{
    h_raw(h, "<!doctype html>\n<html lang=\"fi\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
             "<meta name=\"referrer\" content=\"no-referrer\"><title>");
    h_text(h, title);
    h_raw(h, " · Katto</title><style>");
    h_raw(h, style);
    h_raw(h, "</style></head><body>\n");
}

static void page_end(struct html *h)
{
    h_raw(h, "</body></html>\n");
}

static void header(struct html *h, const char *fi, const char *en, const char *who)
{
    h_raw(h, "<header><div class=\"in\"><h1>");
    h_both(h, fi, en);
    h_raw(h, "</h1>");
    if (who != NULL) {
        h_raw(h, "<p>");
        h_text(h, who);
        h_raw(h, "</p>");
    }
    h_raw(h, "</div></header>\n<main>\n");
}

/* A hidden CSRF field and the request id, the start of every action form. */
static void form_open(struct html *h, const char *action, const char *csrf, long long id)
{
    h_fmt(h, "<form method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"csrf\" value=\"",
          action);
    h_text(h, csrf);
    h_raw(h, "\">");
    if (id > 0)
        h_fmt(h, "<input type=\"hidden\" name=\"id\" value=\"%lld\">", id);
}

static void sign_in_page(struct html *h, const char *fi, const char *en)
{
    page_start(h, "Kirjaudu");
    header(h, "Takaisinsoitot", "Callbacks: outreach workers", NULL);
    if (fi != NULL) {
        h_raw(h, "<p class=\"msg\" role=\"alert\">");
        h_both(h, fi, en);
        h_raw(h, "</p>\n");
    }
    h_raw(h, "<form method=\"post\" action=\"" HOME "/login\">"
             "<label for=\"token\">");
    h_both(h, "Kirjautumistunnus", "Sign-in token");
    h_raw(h, "</label><input id=\"token\" name=\"token\" type=\"password\" required "
             "autocomplete=\"off\" autocapitalize=\"off\" spellcheck=\"false\">"
             "<button type=\"submit\">");
    h_both(h, "Kirjaudu sisään", "Sign in");
    h_raw(h, "</button></form>\n<p>");
    h_both(h,
           "Tunnuksen saat tiimisi vetäjältä. Istunto päättyy, kun sivua ei ole käytetty vähään "
           "aikaan.",
           "Your team lead gives you the token. You are signed out after a while without use.");
    h_raw(h, "</p>\n</main>");
    page_end(h);
}

/* A short page for refusals and errors, with a way back. */
static void message_page(struct html *h, const char *title_fi, const char *title_en, const char *fi,
                         const char *en)
{
    page_start(h, title_fi);
    header(h, title_fi, title_en, NULL);
    h_raw(h, "<p>");
    h_both(h, fi, en);
    h_raw(h, "</p>\n</main><footer><a href=\"" HOME "\">");
    h_both(h, "Takaisin", "Back");
    h_raw(h, "</a></footer>");
    page_end(h);
}

static void fmt_time(long long t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL)
        snprintf(out, 32, "?");
    else
        snprintf(out, 32, "%d.%d. klo %02d.%02d", tm.tm_mday, tm.tm_mon + 1, tm.tm_hour, tm.tm_min);
}

static void window_label(struct html *h, const char *window)
{
    if (strcmp(window, "now") == 0)
        h_both(h, "Heti kun voi", "As soon as possible");
    else if (strcmp(window, "today") == 0)
        h_both(h, "Tänään", "Today");
    else if (strcmp(window, "tomorrow") == 0)
        h_both(h, "Huomenna", "Tomorrow");
    else
        h_text(h, window);
}

/* One labelled line: the label small above, the value (escaped) below. */
static void field(struct html *h, const char *fi, const char *en, const char *value)
{
    h_fmt(h, "<p><span class=\"k\">%s · <span lang=\"en\">%s</span></span>", fi, en);
    h_text(h, value);
    h_raw(h, "</p>");
}

static const struct {
    const char *value, *fi, *en;
} outcomes[] = {
    {"reached", "Tavoitettu", "Reached"},
    {"no_answer", "Ei vastannut", "No answer"},
    {"wrong_number", "Väärä numero", "Wrong number"},
    {"referred", "Ohjattu eteenpäin", "Referred elsewhere"},
};

static void close_form(struct html *h, const char *csrf, long long id)
{
    form_open(h, HOME "/close", csrf, id);
    h_fmt(h, "<label for=\"o%lld\">", id);
    h_both(h, "Sulje: miten kävi?", "Close: how did it go?");
    /* No outcome is chosen beforehand: closing deletes the number, so it takes two steps. */
    h_fmt(h,
          "</label><select id=\"o%lld\" name=\"outcome\" required>"
          "<option value=\"\">Valitse · Choose</option>",
          id);
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
        h_fmt(h, "<option value=\"%s\">%s / %s</option>", outcomes[i].value, outcomes[i].fi,
              outcomes[i].en);
    h_raw(h, "</select><button type=\"submit\" class=\"end\">");
    h_both(h, "Sulje ja poista numero", "Close and delete the number");
    h_raw(h, "</button></form>");
}

/* The forms a request offers to this worker: claim it, or act on it when it is theirs. */
static void item_forms(struct html *h, const struct worker_session *s,
                       const struct callback_desk_list *l, const struct callback_desk_item *it)
{
    if (it->claimed_by == 0) {
        form_open(h, HOME "/claim", s->csrf, it->id);
        h_raw(h, "<button type=\"submit\">");
        h_both(h, "Otan tämän", "Claim");
        h_raw(h, "</button></form>");
        return;
    }
    if (it->claimed_by != s->who.id)
        return;
    form_open(h, HOME "/reveal", s->csrf, it->id);
    h_raw(h, "<button type=\"submit\">");
    if (it->meet)
        h_both(h, "Näytä tapaamispaikka", "Show where to meet");
    else
        h_both(h, "Näytä numero", "Show the number");
    h_raw(h, "</button></form>");
    close_form(h, s->csrf, it->id);
    for (size_t k = 0; k < it->nshares; k++) {
        const struct callback_desk_item *other = &l->items[it->shares[k]];

        form_open(h, HOME "/merge", s->csrf, it->id);
        h_fmt(h,
              "<input type=\"hidden\" name=\"into\" value=\"%lld\">"
              "<button type=\"submit\" class=\"quiet\">",
              other->id);
        h_raw(h, "Yhdistä pyyntöön ");
        h_text(h, other->ref);
        h_raw(h, " <span class=\"en\" lang=\"en\">Merge into ");
        h_text(h, other->ref);
        h_raw(h, "</span></button></form>");
    }
}

static void item(struct html *h, const struct worker_session *s, const struct callback_desk_list *l,
                 const struct callback_desk_item *it)
{
    char created[32], due[32];

    fmt_time(it->created_at, created);
    fmt_time(it->due_at, due);
    h_fmt(h, "<article id=\"r%lld\" class=\"%s\"><h2>", it->id, it->overdue ? "overdue" : "");
    h_text(h, it->ref);
    if (it->overdue)
        h_raw(h, " <span class=\"badge\">Myöhässä · Overdue</span>");
    if (it->claimed_by != 0 && it->claimed_by == s->who.id)
        h_raw(h, " <span class=\"badge mine\">Sinun · Yours</span>");
    h_raw(h, "</h2>");
    field(h, "Kaupunki", "City", it->city);
    h_raw(h, "<p><span class=\"k\">Milloin · <span lang=\"en\">When</span></span>");
    window_label(h, it->window);
    h_raw(h, "</p>");
    field(h, "Määräaika", "Due by", due);
    field(h, "Kieli", "Language", it->lang);
    field(h, "Aihe", "Topic", it->topic != NULL ? it->topic : "–");
    field(h, "Jätetty", "Filed", created);
    if (it->meet)
        field(h, "Yhteys", "Contact", "tapaaminen · meeting in person");
    if (it->claimed_by != 0)
        field(h, "Ottanut", "Claimed by", it->claimer);
    if (it->nshares > 0) {
        h_raw(h, "<p><span class=\"k\">Sama numero kuin · <span lang=\"en\">Same number "
                 "as</span></span>");
        for (size_t k = 0; k < it->nshares; k++) {
            h_raw(h, k > 0 ? ", " : "");
            h_text(h, l->items[it->shares[k]].ref);
        }
        h_raw(h, "</p>");
    }
    item_forms(h, s, l, it);
    h_raw(h, "</article>\n");
}

static const char *team_name(const struct worker_web *w, const char *id)
{
    const struct team *t = team_find(w->d.teams, id);

    return t != NULL ? t->name : id;
}

static void who_line(const struct worker_web *w, const struct worker_session *s, char *out,
                     size_t cap)
{
    snprintf(out, cap, "%s · %s", s->who.name, team_name(w, s->who.team));
}

static void sign_out_form(struct html *h, const struct worker_session *s)
{
    form_open(h, HOME "/logout", s->csrf, 0);
    h_raw(h, "<button type=\"submit\" class=\"quiet\">");
    h_both(h, "Kirjaudu ulos", "Sign out");
    h_raw(h, "</button></form>\n");
}

static void list_page(struct html *h, const struct worker_web *w, const struct worker_session *s,
                      const struct callback_desk_list *l)
{
    char who[WORKER_NAME_MAX + 160];

    who_line(w, s, who, sizeof(who));
    page_start(h, "Takaisinsoitot");
    header(h, "Takaisinsoitot", "Callback requests", who);
    h_fmt(h, "<p>%zu ", l->n);
    h_both(h, l->n == 1 ? "avoin pyyntö, uusin ensin" : "avointa pyyntöä, uusin ensin",
           l->n == 1 ? "open request, newest first" : "open requests, newest first");
    h_raw(h, "</p>\n");
    for (size_t i = 0; i < l->n; i++)
        item(h, s, l, &l->items[i]);
    sign_out_form(h, s);
    h_raw(h, "</main><footer><a href=\"" HOME "\">");
    h_both(h, "Päivitä", "Refresh");
    h_raw(h, "</a></footer>");
    page_end(h);
}

static void reveal_page(struct html *h, const struct worker_web *w, const struct worker_session *s,
                        const struct callback_desk_contact *c)
{
    char who[WORKER_NAME_MAX + 160];

    who_line(w, s, who, sizeof(who));
    page_start(h, c->ref);
    header(h, c->ref, "Callback request", who);
    h_raw(h, "<article>");
    if (c->number != NULL) {
        h_raw(h, "<p><span class=\"k\">Soita numeroon · <span lang=\"en\">Call</span></span>"
                 "<a class=\"call\" href=\"tel:");
        h_text(h, c->number);
        h_raw(h, "\">");
        h_text(h, c->number);
        h_raw(h, "</a></p>");
    }
    if (c->meet != NULL)
        field(h, "Tapaaminen", "Meet at", c->meet);
    if (c->number == NULL && c->meet == NULL)
        field(h, "Yhteystieto", "Contact", "ei tallessa · not stored");
    field(h, "Kieli", "Language", c->lang);
    field(h, "Aihe", "Topic", c->topic != NULL ? c->topic : "–");
    h_raw(h, "<p>");
    h_both(h, "Numero poistetaan, kun suljet pyynnön.",
           "The number is deleted when you close the request.");
    h_raw(h, "</p>");
    close_form(h, s->csrf, c->id);
    h_raw(h, "</article>\n</main><footer><a href=\"" HOME "\">");
    h_both(h, "Takaisin listaan", "Back to the list");
    h_raw(h, "</a></footer>");
    page_end(h);
}

/* ---- Answers ---------------------------------------------------------------------------- */

static void security_headers(struct http_exchange *ex)
{
    http_exchange_add_header(ex, "Content-Security-Policy", CSP);
    http_exchange_add_header(ex, "Referrer-Policy", "no-referrer");
    http_exchange_add_header(ex, "X-Frame-Options", "DENY");
}

/* Sends a built page (or 500 if building it failed) and frees its buffer. */
static void send_html(struct http_exchange *ex, int status, struct html *h)
{
    security_headers(ex);
    if (h->failed) {
        log_error("worker_web.page", "problem=\"page too large or out of memory\"");
        http_exchange_reply(ex, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    } else {
        http_exchange_reply(ex, status, "text/html; charset=utf-8", buf_str(&h->b), h->b.len);
    }
    buf_release(&h->b);
}

static void send_message(struct http_exchange *ex, int status, const char *title_fi,
                         const char *title_en, const char *fi, const char *en)
{
    struct html h = {.failed = false};

    buf_init(&h.b, PAGE_MAX);
    message_page(&h, title_fi, title_en, fi, en);
    send_html(ex, status, &h);
}

/* ---- Requests --------------------------------------------------------------------------- */

struct job {
    struct worker_web *w;
    struct http_exchange *ex;
    enum action act;
    long long now;
    char client[WORKER_LIMIT_CLIENT_MAX];
    char cookie[WORKER_COOKIE_HEX]; /* as the browser sent it, "" if none or malformed */
    char *token, *csrf, *outcome;   /* form fields, NULL if absent */
    long long id, into;
    /* The answer, made inside the transaction and sent after COMMIT. */
    int status;
    struct html page;
    bool redirect;
    char set_cookie[256];
    bool sign_in_failed;
};

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void job_free(struct job *j)
{
    wipe_free(j->token);
    wipe_free(j->csrf);
    free(j->outcome);
    buf_release(&j->page.b);
    explicit_bzero(j, sizeof(*j));
    free(j);
}

static bool over_tls(const struct worker_web *w, struct http_exchange *ex)
{
    return http_exchange_over_tls(ex, w->d.cfg->worker.trusted_proxy != 0);
}

/*
 * Who the rate limit counts: the peer address, or behind a trusted proxy the
 * address it appended last to X-Forwarded-For (earlier entries are the
 * client's own word).
 */
static void client_of(const struct worker_web *w, struct http_exchange *ex, char *out, size_t cap)
{
    const struct sockaddr *peer = http_exchange_peer(ex);
    const char *xff = http_exchange_header(ex, "X-Forwarded-For");
    char addr[INET6_ADDRSTRLEN] = "?";

    if (w->d.cfg->worker.trusted_proxy && xff != NULL) {
        const char *last = strrchr(xff, ',');

        last = last != NULL ? last + 1 : xff;
        while (*last == ' ')
            last++;
        snprintf(out, cap, "%s", last);
        return;
    }
    if (peer != NULL && peer->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, addr, sizeof(addr));
    else if (peer != NULL && peer->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, addr, sizeof(addr));
    snprintf(out, cap, "%s", addr);
}

/* The session cookie's value if well formed (64 hex digits); "" otherwise. */
static void cookie_of(struct http_exchange *ex, char out[WORKER_COOKIE_HEX])
{
    /* Exactly a session cookie's length, or nothing. */
    if (http_exchange_cookie(ex, COOKIE_NAME, "0123456789abcdef", out, WORKER_COOKIE_HEX) !=
        WORKER_COOKIE_HEX - 1)
        out[0] = '\0';
}

static char *dup_param(const struct gateway_http *in, const char *name)
{
    const char *v = gateway_param(in, name);

    return v != NULL ? strdup(v) : NULL;
}

/* A positive row id, or 0. */
static long long id_of(const char *s)
{
    char *end;
    long long v;

    if (s == NULL || *s < '1' || *s > '9')
        return 0;
    v = strtoll(s, &end, 10);
    return *end == '\0' && v > 0 ? v : 0;
}

/*
 * Reads the form fields of a POST into j. A body that is not a form reads as
 * no fields at all (and fails the CSRF check). -1 only when out of memory.
 */
static int read_form(struct job *j)
{
    struct gateway_http in = {0};
    const char *ct = http_exchange_header(j->ex, "Content-Type");
    char err[ERR_LEN];
    int rc = 0;

    if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return 0;
    if ((in.body = http_exchange_body(j->ex, &in.body_len)) == NULL)
        return -1;
    if (gateway_parse_form(&in, err) == 0) {
        const char *id = gateway_param(&in, "id"), *into = gateway_param(&in, "into");

        j->token = dup_param(&in, "token");
        j->csrf = dup_param(&in, "csrf");
        j->outcome = dup_param(&in, "outcome");
        j->id = id_of(id);
        j->into = id_of(into);
        if ((gateway_param(&in, "token") != NULL && j->token == NULL) ||
            (gateway_param(&in, "csrf") != NULL && j->csrf == NULL) ||
            (gateway_param(&in, "outcome") != NULL && j->outcome == NULL))
            rc = -1;
    }
    gateway_http_release(&in);
    return rc;
}

/* ---- Inside the transaction ------------------------------------------------------------- */

static void set_cookie(struct job *j, const char *value, long long max_age)
{
    snprintf(j->set_cookie, sizeof(j->set_cookie),
             COOKIE_NAME "=%s; HttpOnly; Secure; SameSite=Strict; Path=" HOME "; Max-Age=%lld",
             value, max_age > 0 ? max_age : 0);
}

static void answer_redirect(struct job *j)
{
    j->status = 303;
    j->redirect = true;
    message_page(&j->page, "Jatka", "Continue", "Siirry takaisin listaan.", "Go back to the list.");
}

static void answer_message(struct job *j, int status, const char *title_fi, const char *title_en,
                           const char *fi, const char *en)
{
    j->status = status;
    message_page(&j->page, title_fi, title_en, fi, en);
}

static int do_login(struct job *j, char *err)
{
    struct worker_web *w = j->w;
    struct worker_session s;
    char cookie[WORKER_COOKIE_HEX];
    int rc =
        worker_sign_in(w->ws, j->token, j->now, w->d.cfg->worker.session_idle, cookie, &s, err);

    if (rc < 0)
        return -1;
    if (rc == 0) {
        j->sign_in_failed = true;
        j->status = 401;
        sign_in_page(&j->page, "Tunnus ei kelpaa tai se on vanhentunut.",
                     "The token is not valid or has expired.");
        return 0;
    }
    log_info("worker.sign_in", "worker=%lld", s.who.id);
    set_cookie(j, cookie, s.expires_at - j->now);
    explicit_bzero(cookie, sizeof(cookie));
    answer_redirect(j);
    return 0;
}

static int do_page(struct job *j, const struct worker_session *s, char *err)
{
    struct worker_web *w = j->w;
    struct callback_desk_list l;

    if (callback_desk_list(w->desk, s->who.team, j->now, &l, err) != 0)
        return -1;
    if (worker_audit(w->ws, j->now, s->who.id, "view", 0, NULL, err) != 0) {
        callback_desk_list_release(&l);
        return -1;
    }
    j->status = 200;
    list_page(&j->page, w, s, &l);
    callback_desk_list_release(&l);
    return 0;
}

/* Turns a refusal from callback_desk into its page; DONE goes back to the list. */
static void answer_result(struct job *j, int result)
{
    switch (result) {
    case CALLBACK_DESK_DONE: answer_redirect(j); break;
    case CALLBACK_DESK_TAKEN:
        answer_message(j, 409, "Jo otettu", "Already claimed",
                       "Toinen työntekijä ehti ottaa tämän pyynnön.",
                       "Another worker has claimed this request.");
        break;
    case CALLBACK_DESK_NOT_YOURS:
        answer_message(j, 403, "Ei sinun", "Not yours",
                       "Vain pyynnön ottanut työntekijä voi nähdä numeron tai sulkea sen.",
                       "Only the worker who claimed the request can see the number or close it.");
        break;
    case CALLBACK_DESK_INVALID:
        answer_message(j, 400, "Ei onnistu", "Not possible",
                       "Valitse lopputulos, tai yhdistä vain saman numeron pyyntöjä.",
                       "Choose an outcome, or merge only requests with the same number.");
        break;
    default:
        answer_message(j, 404, "Ei löydy", "Not found", "Pyyntöä ei ole, tai se on jo suljettu.",
                       "There is no such request, or it has been closed.");
        break;
    }
}

static int do_reveal(struct job *j, const struct worker_session *s,
                     const struct callback_desk_actor *who, char *err)
{
    struct callback_desk_contact c;
    int rc = callback_desk_reveal(j->w->desk, who, j->id, j->now, &c, err);

    if (rc < 0)
        return -1;
    if (rc != CALLBACK_DESK_DONE) {
        answer_result(j, rc);
        return 0;
    }
    j->status = 200;
    reveal_page(&j->page, j->w, s, &c);
    callback_desk_contact_release(&c);
    return 0;
}

static int do_action(struct job *j, const struct worker_session *s, char *err)
{
    struct callback_desk *desk = j->w->desk;
    struct callback_desk_actor who = {s->who.id, s->who.team};
    int rc;

    switch (j->act) {
    case ACT_CLAIM: rc = callback_desk_claim(desk, &who, j->id, j->now, err); break;
    case ACT_CLOSE: rc = callback_desk_close(desk, &who, j->id, j->outcome, j->now, err); break;
    case ACT_MERGE: rc = callback_desk_merge(desk, &who, j->id, j->into, j->now, err); break;
    case ACT_REVEAL: return do_reveal(j, s, &who, err);
    case ACT_LOGOUT:
        if (worker_sign_out(j->w->ws, j->cookie, s->who.id, j->now, err) != 0)
            return -1;
        set_cookie(j, "", 0);
        answer_redirect(j);
        return 0;
    default: return do_page(j, s, err);
    }
    if (rc < 0)
        return -1;
    answer_result(j, rc);
    return 0;
}

static int job_work(sqlite3 *db, void *arg, char *err)
{
    struct job *j = arg;
    struct worker_web *w = j->w;
    struct worker_session s;
    int found;

    (void)db;
    if (j->act == ACT_LOGIN)
        return do_login(j, err);
    found = worker_session_find(w->ws, j->cookie, j->now, w->d.cfg->worker.session_idle, &s, err);
    if (found < 0)
        return -1;
    if (found == 0) {
        /* Nothing but the sign-in form; a stale cookie is dropped. */
        if (j->cookie[0] != '\0')
            set_cookie(j, "", 0);
        if (j->act != ACT_PAGE) {
            answer_redirect(j);
        } else {
            j->status = 200;
            sign_in_page(&j->page, NULL, NULL);
        }
        return 0;
    }
    /* The browser's cookie ends when the session would. */
    set_cookie(j, j->cookie, s.expires_at - j->now);
    if (j->act != ACT_PAGE && !gateway_secure_equal(j->csrf, s.csrf)) {
        log_warn("worker.csrf", "worker=%lld problem=\"form without the session's token\"",
                 s.who.id);
        answer_message(j, 403, "Kielletty", "Forbidden",
                       "Lomake ei tullut tältä sivulta. Avaa lista uudelleen.",
                       "The form did not come from this page. Open the list again.");
        return 0;
    }
    return do_action(j, &s, err);
}

static void job_done(int status, void *arg)
{
    struct job *j = arg;
    struct http_exchange *ex = j->ex;

    if (status != 0) {
        send_message(ex, 503, "Hetki", "One moment", "Palvelu ei vastannut. Yritä uudelleen.",
                     "The service did not answer. Please try again.");
        job_free(j);
        return;
    }
    if (j->sign_in_failed) {
        worker_limiter_failed(j->w->limiter, j->client, j->now);
        log_warn("worker.sign_in_failed", "problem=\"unknown, expired or revoked token\"");
    }
    if (j->set_cookie[0] != '\0')
        http_exchange_add_header(ex, "Set-Cookie", j->set_cookie);
    if (j->redirect)
        http_exchange_add_header(ex, "Location", HOME);
    send_html(ex, j->status, &j->page);
    job_free(j);
}

/* ---- Handlers --------------------------------------------------------------------------- */

static void refuse_plain_http(struct http_exchange *ex)
{
    send_message(ex, 403, "Vain HTTPS", "HTTPS only",
                 "Tämä sivu toimii vain suojatun yhteyden (https://) kautta. Avaa se "
                 "osoitteella, joka alkaa https://.",
                 "This page works only over a secure connection. Open it with an address that "
                 "starts with https://.");
}

static void too_many(struct http_exchange *ex, long wait)
{
    char value[32];

    snprintf(value, sizeof(value), "%ld", wait);
    http_exchange_add_header(ex, "Retry-After", value);
    log_warn("worker.rate_limited", "retry_after=%ld", wait);
    send_message(ex, 429, "Liian monta yritystä", "Too many attempts",
                 "Liian monta väärää tunnusta. Odota hetki ja yritä uudelleen.",
                 "Too many wrong tokens. Wait a while and try again.");
}

static void handle(struct http_exchange *ex, void *arg)
{
    const struct route_arg *ra = arg;
    struct worker_web *w = ra->w;
    struct job *j;
    long wait;

    if (!over_tls(w, ex)) {
        refuse_plain_http(ex);
        return;
    }
    if ((j = calloc(1, sizeof(*j))) == NULL) {
        http_exchange_error(ex, 503, "out of memory");
        return;
    }
    j->w = w;
    j->ex = ex;
    j->act = ra->act;
    j->now = clock_now();
    buf_init(&j->page.b, PAGE_MAX);
    client_of(w, ex, j->client, sizeof(j->client));
    cookie_of(ex, j->cookie);
    if (j->act == ACT_LOGIN && (wait = worker_limiter_wait(w->limiter, j->client, j->now)) > 0) {
        too_many(ex, wait);
        job_free(j);
        return;
    }
    if ((j->act != ACT_PAGE && read_form(j) != 0) ||
        batch_submit(w->d.batch, job_work, job_done, j) != 0) {
        send_message(ex, 503, "Hetki", "One moment", "Palvelu on kiireinen. Yritä uudelleen.",
                     "The service is busy. Please try again.");
        job_free(j);
    }
}

struct worker_web *worker_web_new(const struct worker_web_deps *deps, struct http_server *http,
                                  char *err)
{
    struct worker_web *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    w->d = *deps;
    if ((w->ws = worker_store_new(deps->db, err)) == NULL ||
        (w->desk = callback_desk_new(deps->db, w->ws, deps->number_key, err)) == NULL)
        goto fail;
    if ((w->limiter = worker_limiter_new()) == NULL) {
        err_set(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < NROUTES; i++) {
        w->args[i] = (struct route_arg){w, routes[i].act};
        if (http_server_route(http, routes[i].name, routes[i].path, routes[i].methods, handle,
                              &w->args[i]) != 0) {
            err_set(err, "worker pages: cannot add route %s", routes[i].path);
            goto fail;
        }
    }
    return w;
fail:
    worker_web_free(w);
    return NULL;
}

int worker_web_purge(struct worker_web *w, long long now, int limit, char *err)
{
    return worker_purge(w->ws, now, w->d.cfg->worker.audit_days, limit, err);
}

void worker_web_free(struct worker_web *w)
{
    if (w == NULL)
        return;
    callback_desk_free(w->desk);
    worker_store_free(w->ws);
    worker_limiter_free(w->limiter);
    free(w);
}
