-- 0008_outbox_expiry: every dispatch pass expires queued messages older than
-- outbox.max_age (WHERE status = 'queued' AND created_at <= ?). Without an
-- index on created_at that statement read every queued row on every pass, so
-- a backlog slowed the drain and the webhooks (found by scripts/bench).
CREATE INDEX outbox_queued_created ON outbox (created_at) WHERE status = 'queued';
