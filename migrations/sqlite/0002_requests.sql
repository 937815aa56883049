-- Policy versions, procurement requests, their submitted versions, route steps and decisions.

CREATE TABLE policies (
    version      INTEGER PRIMARY KEY,
    label        TEXT NOT NULL,
    document     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE requests (
    id                         BLOB PRIMARY KEY,
    department_code            TEXT NOT NULL REFERENCES departments (code),
    vendor_id                  BLOB NOT NULL REFERENCES vendors (id),
    status                     TEXT NOT NULL,
    title                      TEXT NOT NULL,
    fields                     TEXT NOT NULL,
    total_contract_value_cents INTEGER NOT NULL,
    fiscal_year                INTEGER NOT NULL,
    submission                 INTEGER NOT NULL DEFAULT 0,
    policy_version             INTEGER REFERENCES policies (version),
    route                      TEXT,
    created_by                 TEXT NOT NULL,
    submitted_by               TEXT,
    version                    INTEGER NOT NULL DEFAULT 1,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL
);
CREATE INDEX requests_vendor_fy ON requests (vendor_id, fiscal_year);
CREATE INDEX requests_department_status ON requests (department_code, status);
CREATE INDEX requests_status ON requests (status);

CREATE TABLE request_versions (
    request_id   BLOB NOT NULL REFERENCES requests (id),
    submission   INTEGER NOT NULL,
    fields       TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (request_id, submission)
);

CREATE TABLE route_steps (
    request_id BLOB NOT NULL REFERENCES requests (id),
    submission INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    state      TEXT NOT NULL,
    detail     TEXT NOT NULL,
    note       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (request_id, submission, kind)
);
CREATE INDEX route_steps_pending ON route_steps (kind, state);

CREATE TABLE decisions (
    id          BLOB PRIMARY KEY,
    request_id  BLOB NOT NULL REFERENCES requests (id),
    submission  INTEGER NOT NULL,
    step        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    conditions  TEXT NOT NULL DEFAULT '[]',
    reason_code TEXT,
    rationale   TEXT,
    decided_by  TEXT NOT NULL,
    role        TEXT NOT NULL,
    decided_at  TEXT NOT NULL,
    -- One decision per step of a submitted version: the last line of defence against two deciders at once.
    UNIQUE (request_id, submission, step)
);
