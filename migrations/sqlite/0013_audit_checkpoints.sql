-- Audit verification checkpoints: where the chain was last verified, so that verifying again reads only the
-- records after it. Each checkpoint's hash covers the one before it, so a checkpoint cannot be edited or removed
-- from the middle without breaking that chain; `procurement-review audit verify` checks every one of them
-- against the records they name.
CREATE TABLE audit_checkpoints (
    number        INTEGER PRIMARY KEY,
    verified_seq  INTEGER NOT NULL,
    verified_hash TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('incremental', 'full')),
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    full_at       TEXT,
    full_seq      INTEGER,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
