-- Policy versions, procurement requests, their submitted versions, route steps and decisions.

CREATE TABLE policies (
    version      INTEGER PRIMARY KEY,
    label        TEXT NOT NULL,
    document     JSONB NOT NULL,
    content_hash TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE requests (
    id                         UUID PRIMARY KEY,
    department_code            TEXT NOT NULL REFERENCES departments (code),
    vendor_id                  UUID NOT NULL REFERENCES vendors (id),
    status                     TEXT NOT NULL,
    title                      TEXT NOT NULL,
    fields                     JSONB NOT NULL,
    total_contract_value_cents BIGINT NOT NULL,
    fiscal_year                INTEGER NOT NULL,
    submission                 INTEGER NOT NULL DEFAULT 0,
    policy_version             INTEGER REFERENCES policies (version),
    route                      JSONB,
    created_by                 TEXT NOT NULL,
    submitted_by               TEXT,
    version                    BIGINT NOT NULL DEFAULT 1,
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL
);
CREATE INDEX requests_vendor_fy ON requests (vendor_id, fiscal_year);
CREATE INDEX requests_department_status ON requests (department_code, status);
CREATE INDEX requests_status ON requests (status);

CREATE TABLE request_versions (
    request_id   UUID NOT NULL REFERENCES requests (id),
    submission   INTEGER NOT NULL,
    fields       JSONB NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, submission)
);

CREATE TABLE route_steps (
    request_id UUID NOT NULL REFERENCES requests (id),
    submission INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    state      TEXT NOT NULL,
    detail     JSONB NOT NULL,
    note       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, submission, kind)
);
CREATE INDEX route_steps_pending ON route_steps (kind, state);

CREATE TABLE decisions (
    id          UUID PRIMARY KEY,
    request_id  UUID NOT NULL REFERENCES requests (id),
    submission  INTEGER NOT NULL,
    step        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    conditions  JSONB NOT NULL DEFAULT '[]',
    reason_code TEXT,
    rationale   TEXT,
    decided_by  TEXT NOT NULL,
    role        TEXT NOT NULL,
    decided_at  TIMESTAMPTZ NOT NULL,
    -- One decision per step of a submitted version: the last line of defence against two deciders at once.
    UNIQUE (request_id, submission, step)
);
