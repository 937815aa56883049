-- A contract can be cancelled before it starts: when, by whom and why. A cancelled contract is closed for good,
-- like a decommissioned one, and is neither reminded of nor changed again.
ALTER TABLE contracts ADD COLUMN cancelled_at TIMESTAMPTZ;
ALTER TABLE contracts ADD COLUMN cancelled_by TEXT;
ALTER TABLE contracts ADD COLUMN cancellation_reason TEXT;
