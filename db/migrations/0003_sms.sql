-- 0003_sms: the SMS channel. Nothing here holds a phone number in the clear:
-- contact_key is a keyed hash of the number, and the number needed to send a
-- message is encrypted (AES-256-GCM) in outbox.to_enc and wiped (set NULL) as
-- soon as the gateway has accepted the message or it has finally failed.

-- Dedupe of gateway retries: a message id seen once is answered, never stepped again.
CREATE TABLE inbound_seen (
    gateway  TEXT NOT NULL,
    msg_id   TEXT NOT NULL,
    seen_at  INTEGER NOT NULL,
    reply_id INTEGER,          -- outbox row sent inline in the webhook answer (46elks), if any
    PRIMARY KEY (gateway, msg_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX inbound_seen_at ON inbound_seen (seen_at);

-- STOP: nothing more is sent to this contact (but the confirmation and crisis answers).
CREATE TABLE opt_outs (
    contact_key TEXT PRIMARY KEY,
    at          INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    gateway         TEXT NOT NULL,
    contact_key     TEXT NOT NULL,  -- keeps one client's replies in order; lets ERASE find rows
    to_enc          BLOB,           -- encrypted number; NULL once no longer needed
    body            TEXT NOT NULL,  -- flow text: never a client's number or what they typed
    segments        INTEGER NOT NULL,
    encoding        TEXT NOT NULL CHECK (encoding IN ('gsm7', 'ucs2')),
    status          TEXT NOT NULL CHECK (status IN
                        ('queued', 'sent', 'delivered', 'failed', 'undelivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    inline          INTEGER NOT NULL DEFAULT 0, -- 1: sent in the webhook's own answer
    gateway_msg_id  TEXT,
    error           TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_contact ON outbox (contact_key, id);
CREATE INDEX outbox_gateway_msg ON outbox (gateway, gateway_msg_id);

-- Outgoing messages per contact and hour, for the abuse caps (SMS pumping). The
-- row with contact_key '*' counts every message.
CREATE TABLE send_counts (
    contact_key TEXT NOT NULL,
    hour        INTEGER NOT NULL,   -- unix time / 3600
    n           INTEGER NOT NULL,
    PRIMARY KEY (contact_key, hour)
) STRICT, WITHOUT ROWID;
