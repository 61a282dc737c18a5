-- 0002_sessions: conversation state. The key is a keyed hash of the number
-- (SMS) or "ussd:" + the gateway's session id: never a phone number. The state
-- is the engine's struct flow_session as JSON: position, language, variables
-- such as the city; never free text.
CREATE TABLE sessions (
    key        TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_expires_at ON sessions (expires_at);
