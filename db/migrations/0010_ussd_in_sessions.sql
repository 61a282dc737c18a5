-- 0010_ussd_in_sessions: what a USSD session has seen moves into its session row.
-- A USSD step wrote both ussd_state and sessions (each with an expiry index):
-- 37 + 17 of the 138 WAL frames of a group commit of 25 steps went to
-- ussd_state alone (scripts/bench, docs/performance.md). In the session row the
-- same facts cost no page the step does not already write. The ussd_ columns
-- belong to ussd_channel.c; they are NULL for SMS sessions.
ALTER TABLE sessions ADD COLUMN ussd_seen_len INTEGER;
ALTER TABLE sessions ADD COLUMN ussd_seen_hash TEXT;   -- keyed hash of what was seen
ALTER TABLE sessions ADD COLUMN ussd_last_reply TEXT;  -- "CON ..." or "END ..." as last sent
ALTER TABLE sessions ADD COLUMN ussd_path TEXT;        -- flow/node ids reached, for the contact log

-- Sessions live during the upgrade carry on.
UPDATE sessions SET
    ussd_seen_len = u.seen_len, ussd_seen_hash = u.seen_hash,
    ussd_last_reply = u.last_reply, ussd_path = u.path
FROM ussd_state AS u WHERE u.key = sessions.key;
-- Progress whose session row was purged first (the two purges ran apart) gets a
-- row of its own, so that ussd_channel_purge still logs its timeout.
INSERT INTO sessions (key, state, updated_at, expires_at,
                      ussd_seen_len, ussd_seen_hash, ussd_last_reply, ussd_path)
    SELECT key, '{}', expires_at, expires_at, seen_len, seen_hash, last_reply, path
    FROM ussd_state WHERE key NOT IN (SELECT key FROM sessions);
DROP TABLE ussd_state;
