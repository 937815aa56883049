-- Invitations scoped to the work they invite to, assessments that a closed request cancels, and the invitation
-- behind an audited action.

-- An invitation reaches one request's assessments (or only those named in invitation_assessments). Rows made
-- before this migration have no request: their tokens reached every assessment of the vendor, and the service now
-- refuses them (401); the contact asks for a new, scoped invitation.
ALTER TABLE vendor_invitations ADD COLUMN request_id UUID REFERENCES requests (id);
-- Why it was revoked, when the service revoked it (the request was closed).
ALTER TABLE vendor_invitations ADD COLUMN revoke_reason TEXT;
CREATE INDEX vendor_invitations_request ON vendor_invitations (request_id);

CREATE TABLE invitation_assessments (
    invitation_id UUID NOT NULL REFERENCES vendor_invitations (id),
    assessment_id UUID NOT NULL REFERENCES assessments (id),
    PRIMARY KEY (invitation_id, assessment_id)
);

-- A request that is withdrawn, denied or closed cancels the assessments not yet accepted, with the reason.
ALTER TABLE assessments DROP CONSTRAINT assessments_status_check;
ALTER TABLE assessments ADD CONSTRAINT assessments_status_check
    CHECK (status IN ('open', 'submitted', 'returned', 'accepted', 'cancelled'));
ALTER TABLE assessments ADD COLUMN cancelled_at TIMESTAMPTZ;
ALTER TABLE assessments ADD COLUMN cancel_reason TEXT;
-- One live assessment of a template per request and vendor. A cancelled one leaves room for a new one, and a
-- request that moves to another vendor gets that vendor's own.
ALTER TABLE assessments DROP CONSTRAINT assessments_request_id_template_id_key;
CREATE UNIQUE INDEX assessments_live ON assessments (request_id, vendor_id, template_id) WHERE status <> 'cancelled';

-- For an action taken with a vendor invitation: the invitation and the staff member who issued it. Hashed into
-- the chain when present, so records made before this column existed keep their hashes.
ALTER TABLE audit_log ADD COLUMN context JSONB;
