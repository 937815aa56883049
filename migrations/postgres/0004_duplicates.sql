-- Duplicate detection: what the check found for each submitted version, the CIO's dismissals, buyers'
-- exception requests, and the catalogue service a duplicate denial names.

CREATE TABLE request_duplicates (
    request_id     UUID NOT NULL REFERENCES requests (id),
    submission     INTEGER NOT NULL,
    candidate_kind TEXT NOT NULL,
    candidate_id   TEXT NOT NULL,
    name           TEXT NOT NULL,
    score          DOUBLE PRECISION NOT NULL,
    class          TEXT NOT NULL,
    evidence       JSONB NOT NULL,
    PRIMARY KEY (request_id, submission, candidate_kind, candidate_id)
);

CREATE TABLE duplicate_dismissals (
    request_id     UUID NOT NULL REFERENCES requests (id),
    candidate_kind TEXT NOT NULL,
    candidate_id   TEXT NOT NULL,
    reason         TEXT NOT NULL,
    dismissed_by   TEXT NOT NULL,
    dismissed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, candidate_kind, candidate_id)
);

CREATE TABLE duplicate_exceptions (
    id              UUID PRIMARY KEY,
    request_id      UUID NOT NULL REFERENCES requests (id),
    submission      INTEGER NOT NULL,
    justification   TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('requested', 'granted', 'refused')),
    decided_by      TEXT,
    decided_at      TIMESTAMPTZ,
    decision_reason TEXT,
    UNIQUE (request_id, submission)
);

ALTER TABLE decisions ADD COLUMN service_id UUID REFERENCES catalog_services (id);

-- The live duplicate index catches up on changes since its last look.
CREATE INDEX requests_updated_at ON requests (updated_at);
CREATE INDEX catalog_services_updated_at ON catalog_services (updated_at);
