/*
 * config.h: Katto's configuration. Values come from, in increasing order of
 * precedence: embedded defaults, an optional JSON file, and environment
 * variables. Every scalar key has an environment twin named KATTO_ + its
 * dotted path in upper case with '.' as '_' (limits.max_body_bytes ->
 * KATTO_LIMITS_MAX_BODY_BYTES). Twins are looked up from the table of known
 * keys, never parsed back from the variable name, so keys containing '_' stay
 * unambiguous. Unknown keys and bad values are errors naming the key.
 */
#ifndef KATTO_CONFIG_H
#define KATTO_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "log.h"

struct config_limits {
    long max_body_bytes;   /* request bodies over this get 413 */
    long max_header_bytes; /* request line + headers over this get 400 */
    long max_connections;  /* at this many, a new one evicts the longest-waiting one */
    long idle_timeout;     /* seconds of read/write inactivity before a connection closes */
    long header_timeout;   /* seconds a client has to send a complete request */
    long shutdown_timeout; /* seconds to finish in-flight work after SIGTERM */
};

struct config_sms {
    long max_segments;    /* a reply is split into messages of at most this many segments */
    long session_timeout; /* seconds of silence after which a conversation starts over */
};

/* A map of strings from the file only (no environment twins): service codes -> flows. */
struct config_map {
    char **keys, **values;
    size_t n;
};

struct config_ussd {
    long screen_budget; /* characters per USSD screen */
    char *token;        /* secret path token: the route is /webhooks/africastalking/ussd/<token> */
    long session_timeout;            /* seconds a USSD session is remembered without a request */
    struct config_map service_codes; /* "*500#" -> flow id; others start the main flow */
};

/* One block per gateway; a gateway is configured when its credentials are set. */
struct config_twilio {
    char *account_sid, *auth_token, *from, *base_url;
};

struct config_46elks {
    char *username, *password, *from, *base_url;
    char *webhook_token; /* secret query parameter ?token= on its webhook routes */
    long inline_reply;   /* 1: the first reply goes in the webhook's response body */
};

struct config_gatewayapi {
    char *token;          /* API token for sending */
    char *webhook_secret; /* HS256 secret of X-Gwapi-Signature on MO and status webhooks */
    char *status_secret;  /* HMAC-SHA256 secret of "Signature: v1=" (newer API's events) */
    char *from, *base_url;
};

struct config_africastalking {
    char *username, *api_key, *from, *base_url;
    char *webhook_token; /* secret query parameter ?token= on its webhook routes */
};

struct config_gateways {
    struct config_twilio twilio;
    struct config_46elks elks;
    struct config_gatewayapi gatewayapi;
    struct config_africastalking africastalking;
};

struct config_outbox {
    long max_parallel; /* sends in flight at once, all gateways */
    long rate;         /* sends per second per gateway */
    long max_age;      /* seconds after which an unsent message is marked failed */
    long timeout;      /* seconds for one send request */
    long retry_base;   /* seconds before the first retry; doubles each time, up to 15 min */
    long keep_days;    /* finished messages (numbers already wiped) are deleted after this */
};

struct config_callbacks {
    char *teams;         /* JSON list of teams (team.h), from the file only */
    long remind_after;   /* seconds unclaimed before the next on-call number is reminded */
    long now_minutes;    /* "now" means within this many minutes of the team being at work */
    long retention_days; /* an unclosed request's number is purged after this */
};

struct config_worker {
    long token_days;    /* a worker's sign-in token expires after this */
    long session_idle;  /* seconds without a request before a worker session ends */
    long trusted_proxy; /* 1: X-Forwarded-Proto from a loopback peer tells whether TLS was used */
    long audit_days;    /* worker audit rows are kept this long */
};

/* The administrators' report page (admin_web.c). */
struct config_admin {
    char *token; /* secret: Bearer token and sign-in token of /admin; empty: /admin is off (404) */
};

struct config_abuse {
    long per_number_hour; /* outgoing messages to one number per hour */
    long per_number_day;
    long global_day; /* outgoing messages in all per day */
};

struct config {
    char *listen;       /* "host:port"; port 0 picks a free port */
    char *port_file;    /* if set, the bound port is written here once listening */
    char *database;     /* SQLite file */
    char *secret_file;  /* 32-byte key for pseudonyms, created 0600 on first run */
    char *secret;       /* the same key as 64 hex digits, instead of the file */
    char *flows;        /* directory of flow files */
    char *postal_codes; /* CSV of Finnish postal codes, seeds the postal_codes table when empty */
    char *services;     /* CSV of city services, seeds the services table when empty */
    long services_max_age_days; /* > 0: a service not checked for this long is not offered */
    char *privacy_url;          /* link in the privacy notice (TIETOSUOJA) */
    enum log_level log_level;
    struct config_limits limits;
    struct config_sms sms;
    struct config_ussd ussd;
    char *public_url;          /* base URL the gateways call, for signature checks behind a proxy */
    char *default_gateway;     /* sends messages that answer no inbound message */
    long dedupe_hours;         /* how long an inbound message id is remembered */
    long log_retention_months; /* contact log rows older than this are deleted */
    long maintenance_interval; /* seconds between purges */
    char *test_clock_file;     /* tests only: the wall clock is read from this file (clock.h) */
    char *test_disk_full_file; /* tests only: "full" in it fails database writes (db_fault.h) */
    struct config_gateways gateways;
    struct config_outbox outbox;
    struct config_abuse abuse;
    struct config_callbacks callbacks;
    struct config_worker worker;
    struct config_admin admin;
};

/* Fills cfg with the embedded defaults. Release with config_release(). */
void config_init(struct config *cfg);

/* Frees the strings cfg owns; cfg may then be re-initialised. */
void config_release(struct config *cfg);

/*
 * Applies the JSON file at path (NULL: none) and then the environment envp
 * (NULL-terminated "NAME=value" strings, as environ) on top of cfg.
 * Returns 0, or -1 with err naming the key and the problem.
 */
int config_load(struct config *cfg, const char *path, char *const *envp, char *err);

/* Writes the effective configuration as JSON, secrets masked. */
void config_print(const struct config *cfg, FILE *out);

/* The value for key in m, or NULL. Borrowed. */
const char *config_map_get(const struct config_map *m, const char *key);

/* Splits cfg->listen into host (caller's buffer of hostcap bytes) and port. */
int config_listen_split(const char *listen, char *host, size_t hostcap, int *port, char *err);

#endif
