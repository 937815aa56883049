-- Questionnaires: the template versions answered against, vendor invitations, assessments, answers, evidence,
-- reviews and findings.

-- Every template version the service has loaded, kept so that an assessment is always scored against the version
-- it was answered against, even after the file changes.
CREATE TABLE template_versions (
    template_id TEXT NOT NULL,
    version     TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    source      TEXT NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL,
    current     BOOLEAN NOT NULL,
    PRIMARY KEY (template_id, version)
);

CREATE TABLE vendor_invitations (
    id            UUID PRIMARY KEY,
    vendor_id     UUID NOT NULL REFERENCES vendors (id),
    contact_email TEXT NOT NULL,
    contact_name  TEXT,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    revoked_by    TEXT
);
CREATE INDEX vendor_invitations_vendor ON vendor_invitations (vendor_id);

CREATE TABLE assessments (
    id               UUID PRIMARY KEY,
    request_id       UUID NOT NULL REFERENCES requests (id),
    vendor_id        UUID NOT NULL REFERENCES vendors (id),
    template_id      TEXT NOT NULL,
    template_version TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'submitted', 'returned', 'accepted')),
    due_date         DATE NOT NULL,
    submission       INTEGER NOT NULL DEFAULT 0,
    score            JSONB,
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (template_id, template_version) REFERENCES template_versions (template_id, version),
    UNIQUE (request_id, template_id)
);
CREATE INDEX assessments_vendor ON assessments (vendor_id, status);

CREATE TABLE answers (
    assessment_id UUID NOT NULL REFERENCES assessments (id),
    question_id   TEXT NOT NULL,
    value         JSONB NOT NULL,
    comment       TEXT,
    source        TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (assessment_id, question_id)
);

CREATE TABLE assessment_submissions (
    assessment_id UUID NOT NULL REFERENCES assessments (id),
    submission    INTEGER NOT NULL,
    answers       JSONB NOT NULL,
    score         JSONB NOT NULL,
    submitted_by  TEXT NOT NULL,
    submitted_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (assessment_id, submission)
);

CREATE TABLE assessment_reviews (
    id            UUID PRIMARY KEY,
    assessment_id UUID NOT NULL REFERENCES assessments (id),
    submission    INTEGER NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('accepted', 'returned')),
    comments      JSONB NOT NULL,
    reviewer      TEXT NOT NULL,
    reviewed_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE evidence (
    id            UUID PRIMARY KEY,
    assessment_id UUID NOT NULL REFERENCES assessments (id),
    question_id   TEXT,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    data          BYTEA NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX evidence_assessment ON evidence (assessment_id);

CREATE TABLE findings (
    id               UUID PRIMARY KEY,
    assessment_id    UUID NOT NULL REFERENCES assessments (id),
    request_id       UUID NOT NULL REFERENCES requests (id),
    vendor_id        UUID NOT NULL REFERENCES vendors (id),
    question_id      TEXT NOT NULL,
    severity         TEXT NOT NULL,
    title            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    citation         TEXT,
    status           TEXT NOT NULL CHECK (status IN ('open', 'remediation_planned', 'resolved', 'risk_accepted')),
    remediation_plan TEXT,
    remediation_due  DATE,
    resolution_note  TEXT,
    risk_rationale   TEXT,
    risk_expires_on  DATE,
    decided_by       TEXT,
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (assessment_id, question_id)
);
CREATE INDEX findings_request ON findings (request_id, status);
CREATE INDEX findings_vendor ON findings (vendor_id, status);
