-- 0009_sessions_without_rowid: sessions keyed by their key alone.
-- As a rowid table with a TEXT PRIMARY KEY, every step wrote three B-trees
-- (the table, its key index, the expiry index); WITHOUT ROWID stores the rows
-- in key order, so a step writes two. scripts/bench found the page writes to
-- be the largest cost of a step (docs/performance.md).
CREATE TABLE sessions_by_key (
    key        TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO sessions_by_key (key, state, updated_at, expires_at)
    SELECT key, state, updated_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_by_key RENAME TO sessions;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
