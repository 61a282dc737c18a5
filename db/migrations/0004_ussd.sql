-- 0004_ussd: what a USSD session has seen, to reconcile the gateway's `text`
-- (every answer of the session joined by '*') with the conversation. The
-- answers themselves are not kept: only the length and a keyed hash of the
-- text seen so far, and the last screen (flow text) to repeat it when the
-- gateway resends a step. The key is a keyed hash of the gateway's session id.
CREATE TABLE ussd_state (
    key        TEXT PRIMARY KEY,
    seen_len   INTEGER NOT NULL,
    seen_hash  TEXT NOT NULL,
    last_reply TEXT NOT NULL,  -- "CON ..." or "END ..." as last sent
    path       TEXT NOT NULL DEFAULT '', -- flow/node ids reached, for the contact log
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX ussd_state_expires_at ON ussd_state (expires_at);
