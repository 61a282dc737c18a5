-- 0005_contact_log: the anonymous contact log (one row per contact event).
-- Never a number, never message text, never what the person typed. The
-- pseudonym is an HMAC of the number with a random key of its period (a
-- calendar month); the key is deleted when the period ends (secure_delete is
-- on), after which nobody can link the rows to a number or across periods.
CREATE TABLE contact_log (
    id         INTEGER PRIMARY KEY,
    hour       TEXT NOT NULL,   -- local time (Europe/Helsinki) rounded down: 2026-11-24 17:00
    period     TEXT NOT NULL,   -- the pseudonym's period: 2026-11
    channel    TEXT NOT NULL,   -- sms | ussd
    gateway    TEXT NOT NULL,
    lang       TEXT,
    city       TEXT,            -- never the postal code
    flow       TEXT,
    node       TEXT,
    event      TEXT NOT NULL,
    service_id TEXT,
    path       TEXT,            -- ussd_session rows: the nodes the session reached
    pseudonym  TEXT             -- NULL for events logged after an erasure
) STRICT;
CREATE INDEX contact_log_hour ON contact_log (hour);
CREATE INDEX contact_log_pseudonym ON contact_log (period, pseudonym);

CREATE TABLE pseudonym_keys (
    period TEXT PRIMARY KEY,
    key    BLOB NOT NULL
) STRICT, WITHOUT ROWID;
