-- no-transaction
-- Invitations scoped to the work they invite to, assessments that a closed request cancels, and the invitation
-- behind an audited action.
--
-- SQLite cannot widen a CHECK constraint in place, so `assessments` is rebuilt (the documented procedure: foreign
-- keys off, copy into a new table, drop, rename, all in one transaction). sqlx runs this file outside its own
-- transaction for that reason: `PRAGMA foreign_keys` has no effect inside one.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

-- An invitation reaches one request's assessments (or only those named in invitation_assessments). Rows made
-- before this migration have no request: their tokens reached every assessment of the vendor, and the service now
-- refuses them (401); the contact asks for a new, scoped invitation.
ALTER TABLE vendor_invitations ADD COLUMN request_id BLOB REFERENCES requests (id);
-- Why it was revoked, when the service revoked it (the request was closed).
ALTER TABLE vendor_invitations ADD COLUMN revoke_reason TEXT;
CREATE INDEX vendor_invitations_request ON vendor_invitations (request_id);

CREATE TABLE invitation_assessments (
    invitation_id BLOB NOT NULL REFERENCES vendor_invitations (id),
    assessment_id BLOB NOT NULL REFERENCES assessments (id),
    PRIMARY KEY (invitation_id, assessment_id)
);

-- A request that is withdrawn, denied or closed cancels the assessments not yet accepted, with the reason.
CREATE TABLE assessments_new (
    id               BLOB PRIMARY KEY,
    request_id       BLOB NOT NULL REFERENCES requests (id),
    vendor_id        BLOB NOT NULL REFERENCES vendors (id),
    template_id      TEXT NOT NULL,
    template_version TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'submitted', 'returned', 'accepted', 'cancelled')),
    due_date         TEXT NOT NULL,
    submission       INTEGER NOT NULL DEFAULT 0,
    score            TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    cycle            INTEGER NOT NULL DEFAULT 1,
    cancelled_at     TEXT,
    cancel_reason    TEXT,
    FOREIGN KEY (template_id, template_version) REFERENCES template_versions (template_id, version)
);
INSERT INTO assessments_new (id, request_id, vendor_id, template_id, template_version, status, due_date, submission,
                             score, version, created_at, updated_at, cycle)
SELECT id, request_id, vendor_id, template_id, template_version, status, due_date, submission, score, version,
       created_at, updated_at, cycle
FROM assessments;
DROP TABLE assessments;
ALTER TABLE assessments_new RENAME TO assessments;
CREATE INDEX assessments_vendor ON assessments (vendor_id, status);
-- One live assessment of a template per request and vendor. A cancelled one leaves room for a new one, and a
-- request that moves to another vendor gets that vendor's own.
CREATE UNIQUE INDEX assessments_live ON assessments (request_id, vendor_id, template_id) WHERE status <> 'cancelled';

-- For an action taken with a vendor invitation: the invitation and the staff member who issued it. Hashed into
-- the chain when present, so records made before this column existed keep their hashes.
ALTER TABLE audit_log ADD COLUMN context TEXT;

COMMIT;
PRAGMA foreign_keys = ON;
