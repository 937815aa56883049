-- Incidents (a vendor's or the city's), the evidence kept for them, the notices the city sent, and remediation
-- orders with their appeal. Deadlines are not stored: they are computed from the stored dates and the policy.

CREATE TABLE incidents (
    id                 BLOB PRIMARY KEY,
    -- The vendor whose service the incident concerns; NULL for a city system.
    vendor_id          BLOB REFERENCES vendors (id),
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    systems            TEXT NOT NULL,
    data_classes       TEXT NOT NULL,
    contract_ids       TEXT NOT NULL,
    request_ids        TEXT NOT NULL,
    residents_ma       INTEGER NOT NULL CHECK (residents_ma >= 0),
    residents_ct       INTEGER NOT NULL CHECK (residents_ct >= 0),
    residents_other    INTEGER NOT NULL CHECK (residents_other >= 0),
    ssn_involved       INTEGER NOT NULL CHECK (ssn_involved IN (0, 1)),
    tin_involved       INTEGER NOT NULL CHECK (tin_involved IN (0, 1)),
    discovered_at      TEXT NOT NULL,
    city_notified_at   TEXT NOT NULL,
    steps_taken        TEXT,
    responsible_person TEXT,
    status             TEXT NOT NULL CHECK (status IN ('reported', 'triaged', 'contained', 'notices_sent',
                                                       'post_incident_review', 'closed', 'closed_not_breach')),
    not_breach_reason  TEXT,
    review_findings    TEXT,
    -- Findings the review raised against the vendor (ids in the findings table).
    review_finding_ids TEXT NOT NULL DEFAULT '[]',
    reviewed_by        TEXT,
    reviewed_at        TEXT,
    closed_by          TEXT,
    closed_at          TEXT,
    hold               INTEGER NOT NULL DEFAULT 0 CHECK (hold IN (0, 1)),
    hold_reason        TEXT,
    reported_by        TEXT NOT NULL,
    reporter_role      TEXT NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX incidents_vendor ON incidents (vendor_id);
CREATE INDEX incidents_status ON incidents (status);

-- Files are kept as uploaded: never updated (the trigger refuses it), deleted only by the service once the
-- incident is closed and no hold stands.
CREATE TABLE incident_evidence (
    id            BLOB PRIMARY KEY,
    incident_id   BLOB NOT NULL REFERENCES incidents (id),
    kind          TEXT NOT NULL CHECK (kind IN ('evidence', 'law_enforcement_determination', 'notice_copy')),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    data          BLOB NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_role TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX incident_evidence_incident ON incident_evidence (incident_id);
CREATE TRIGGER incident_evidence_kept_as_uploaded BEFORE UPDATE ON incident_evidence
BEGIN
    SELECT RAISE(ABORT, 'incident evidence is kept as uploaded');
END;

CREATE TABLE incident_notices (
    id          BLOB PRIMARY KEY,
    incident_id BLOB NOT NULL REFERENCES incidents (id),
    recipient   TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    method      TEXT NOT NULL,
    reference   TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX incident_notices_incident ON incident_notices (incident_id);

CREATE TABLE remediation_orders (
    id                   BLOB PRIMARY KEY,
    vendor_id            BLOB REFERENCES vendors (id),
    department_code      TEXT REFERENCES departments (code),
    incident_id          BLOB REFERENCES incidents (id),
    finding_ids          TEXT NOT NULL,
    actions              TEXT NOT NULL,
    due_date             TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('issued', 'acknowledged', 'completion_reported',
                                                         'reopened', 'appealed', 'verified', 'withdrawn')),
    status_before_appeal TEXT,
    acknowledged_by      TEXT,
    acknowledged_at      TEXT,
    completion_note      TEXT,
    completion_evidence  TEXT,
    completed_by         TEXT,
    completed_at         TEXT,
    verified_by          TEXT,
    verified_at          TEXT,
    reopen_reason        TEXT,
    appeal_grounds       TEXT,
    appealed_by          TEXT,
    appealed_at          TEXT,
    appeal_outcome       TEXT CHECK (appeal_outcome IN ('upheld', 'granted')),
    appeal_reason        TEXT,
    appeal_decided_by    TEXT,
    appeal_decided_at    TEXT,
    issued_by            TEXT NOT NULL,
    issued_at            TEXT NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1,
    updated_at           TEXT NOT NULL,
    CHECK ((vendor_id IS NULL) <> (department_code IS NULL))
);
CREATE INDEX remediation_orders_vendor ON remediation_orders (vendor_id, status);
CREATE INDEX remediation_orders_department ON remediation_orders (department_code, status);
