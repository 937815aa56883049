-- Questionnaires: the template versions answered against, vendor invitations, assessments, answers, evidence,
-- reviews and findings.

-- Every template version the service has loaded, kept so that an assessment is always scored against the version
-- it was answered against, even after the file changes.
CREATE TABLE template_versions (
    template_id TEXT NOT NULL,
    version     TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    source      TEXT NOT NULL,
    loaded_at   TEXT NOT NULL,
    current     INTEGER NOT NULL,
    PRIMARY KEY (template_id, version)
);

CREATE TABLE vendor_invitations (
    id            BLOB PRIMARY KEY,
    vendor_id     BLOB NOT NULL REFERENCES vendors (id),
    contact_email TEXT NOT NULL,
    contact_name  TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    TEXT
);
CREATE INDEX vendor_invitations_vendor ON vendor_invitations (vendor_id);

CREATE TABLE assessments (
    id               BLOB PRIMARY KEY,
    request_id       BLOB NOT NULL REFERENCES requests (id),
    vendor_id        BLOB NOT NULL REFERENCES vendors (id),
    template_id      TEXT NOT NULL,
    template_version TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'submitted', 'returned', 'accepted')),
    due_date         TEXT NOT NULL,
    submission       INTEGER NOT NULL DEFAULT 0,
    score            TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    FOREIGN KEY (template_id, template_version) REFERENCES template_versions (template_id, version),
    UNIQUE (request_id, template_id)
);
CREATE INDEX assessments_vendor ON assessments (vendor_id, status);

CREATE TABLE answers (
    assessment_id BLOB NOT NULL REFERENCES assessments (id),
    question_id   TEXT NOT NULL,
    value         TEXT NOT NULL,
    comment       TEXT,
    source        TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (assessment_id, question_id)
);

CREATE TABLE assessment_submissions (
    assessment_id BLOB NOT NULL REFERENCES assessments (id),
    submission    INTEGER NOT NULL,
    answers       TEXT NOT NULL,
    score         TEXT NOT NULL,
    submitted_by  TEXT NOT NULL,
    submitted_at  TEXT NOT NULL,
    PRIMARY KEY (assessment_id, submission)
);

CREATE TABLE assessment_reviews (
    id            BLOB PRIMARY KEY,
    assessment_id BLOB NOT NULL REFERENCES assessments (id),
    submission    INTEGER NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('accepted', 'returned')),
    comments      TEXT NOT NULL,
    reviewer      TEXT NOT NULL,
    reviewed_at   TEXT NOT NULL
);

CREATE TABLE evidence (
    id            BLOB PRIMARY KEY,
    assessment_id BLOB NOT NULL REFERENCES assessments (id),
    question_id   TEXT,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    data          BLOB NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX evidence_assessment ON evidence (assessment_id);

CREATE TABLE findings (
    id               BLOB PRIMARY KEY,
    assessment_id    BLOB NOT NULL REFERENCES assessments (id),
    request_id       BLOB NOT NULL REFERENCES requests (id),
    vendor_id        BLOB NOT NULL REFERENCES vendors (id),
    question_id      TEXT NOT NULL,
    severity         TEXT NOT NULL,
    title            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    citation         TEXT,
    status           TEXT NOT NULL CHECK (status IN ('open', 'remediation_planned', 'resolved', 'risk_accepted')),
    remediation_plan TEXT,
    remediation_due  TEXT,
    resolution_note  TEXT,
    risk_rationale   TEXT,
    risk_expires_on  TEXT,
    decided_by       TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (assessment_id, question_id)
);
CREATE INDEX findings_request ON findings (request_id, status);
CREATE INDEX findings_vendor ON findings (vendor_id, status);
