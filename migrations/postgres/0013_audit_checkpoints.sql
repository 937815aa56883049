-- Audit verification checkpoints: where the chain was last verified, so that verifying again reads only the
-- records after it. Each checkpoint's hash covers the one before it, so a checkpoint cannot be edited or removed
-- from the middle without breaking that chain; `procurement-review audit verify` checks every one of them
-- against the records they name.
CREATE TABLE audit_checkpoints (
    number        BIGINT PRIMARY KEY,
    verified_seq  BIGINT NOT NULL,
    verified_hash TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('incremental', 'full')),
    at            TIMESTAMPTZ NOT NULL,
    actor         TEXT NOT NULL,
    full_at       TIMESTAMPTZ,
    full_seq      BIGINT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
