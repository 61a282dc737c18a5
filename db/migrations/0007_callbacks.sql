-- 0007_callbacks: callback requests and the outreach workers who handle them.
-- A request holds the number to call (or a place and time to meet) and its
-- topic only encrypted (AES-256-GCM with the number-encryption key; the
-- associated data is the column name), and only until it is closed or
-- retention ends: then they are set NULL and what remains is anonymous
-- (team, city, topic category, times, outcome).
CREATE TABLE callback_requests (
    id            INTEGER PRIMARY KEY,
    ref           TEXT NOT NULL,            -- K-4821: what the client and the worker say
    team          TEXT NOT NULL,            -- team id from callbacks.teams
    city          TEXT NOT NULL,
    lang          TEXT NOT NULL,            -- the language the person wants (interpreter)
    time_window   TEXT NOT NULL CHECK (time_window IN ('now', 'today', 'tomorrow')),
    contact_key   TEXT,                     -- keyed hash of the sender's number: ERASE, "same number"
    number_enc    BLOB,                     -- the number to call, sealed; NULL when meeting or purged
    meet_enc      BLOB,                     -- place and time to meet, sealed; NULL otherwise
    topic_enc     BLOB,                     -- the topic chosen in the menus, sealed; NULL if none
    topic         TEXT,                     -- the same topic in clear, set only when closed (anonymous)
    notify_sender INTEGER NOT NULL CHECK (notify_sender IN (0, 1)), -- 0: never text the sender
    sender_enc    BLOB,                     -- the sender's number, sealed, when notify_sender = 1
    created_at    INTEGER NOT NULL,
    due_at        INTEGER NOT NULL,         -- end of the promised window
    notified      INTEGER NOT NULL DEFAULT 0, -- on-call notifications sent (first + reminders)
    next_remind_at INTEGER,                 -- NULL: no reminder pending
    escalated_at  INTEGER,                  -- lead alerted and client told, window passed
    claimed_by    INTEGER REFERENCES workers (id),
    claimed_at    INTEGER,
    closed_at     INTEGER,
    outcome       TEXT CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'referred',
                                          'merged', 'purged', 'erased')),
    merged_into   INTEGER REFERENCES callback_requests (id),
    purge_at      INTEGER NOT NULL          -- numbers are wiped by then even if never closed
) STRICT;
CREATE UNIQUE INDEX callback_requests_open_ref ON callback_requests (ref) WHERE closed_at IS NULL;
CREATE INDEX callback_requests_team_open ON callback_requests (team, closed_at);
CREATE INDEX callback_requests_contact ON callback_requests (contact_key) WHERE contact_key IS NOT NULL;
CREATE INDEX callback_requests_remind ON callback_requests (next_remind_at) WHERE next_remind_at IS NOT NULL;
CREATE INDEX callback_requests_due ON callback_requests (due_at) WHERE closed_at IS NULL;

CREATE TABLE workers (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    team       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the sign-in token; the token itself is never stored
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE TABLE worker_sessions (
    id_hash    TEXT PRIMARY KEY,      -- hex SHA-256 of the cookie value
    worker_id  INTEGER NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,         -- the token every form of this session must carry
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Who did what, when: never a phone number.
CREATE TABLE worker_audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    worker_id  INTEGER,              -- NULL for failed sign-ins
    action     TEXT NOT NULL,        -- sign_in, sign_in_failed, sign_out, view, claim, reveal, close, merge, worker_added, worker_removed
    request_id INTEGER,
    detail     TEXT                  -- outcome, merged ref...
) STRICT;
CREATE INDEX worker_audit_at ON worker_audit (at);
