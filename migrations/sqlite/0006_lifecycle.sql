-- Lifecycle: the contract safeguards checklist of each request, contracts and their decommissioning, and the
-- notifications the job runner makes with their webhook outbox.

-- One row per clause someone has dealt with; a clause of the checklist without a row is missing.
CREATE TABLE request_safeguards (
    request_id    BLOB NOT NULL REFERENCES requests (id),
    clause_id     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('missing', 'present', 'waived')),
    document      TEXT,
    section       TEXT,
    attested_by   TEXT,
    attested_at   TEXT,
    justification TEXT,
    waived_by     TEXT,
    waived_at     TEXT,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (request_id, clause_id)
);

CREATE TABLE contracts (
    id                     BLOB PRIMARY KEY,
    vendor_id              BLOB NOT NULL REFERENCES vendors (id),
    contract_number        TEXT NOT NULL UNIQUE,
    title                  TEXT NOT NULL,
    start_date             TEXT NOT NULL,
    end_date               TEXT NOT NULL,
    value_cents            INTEGER NOT NULL CHECK (value_cents >= 0),
    renewal_notice_days    INTEGER NOT NULL CHECK (renewal_notice_days >= 0),
    -- end_date less the notice period, kept so that "expiring" is a plain date comparison on both backends.
    notice_starts_on       TEXT NOT NULL,
    -- Safeguard clauses the contract itself is known to carry (clause ids of the library).
    safeguard_clauses      TEXT NOT NULL,
    decommissioned_on      TEXT,
    data_disposition       TEXT CHECK (data_disposition IN ('returned', 'destroyed')),
    certificate_reference  TEXT,
    certified_by           TEXT,
    decommission_note      TEXT,
    decommissioned_by      TEXT,
    version                INTEGER NOT NULL DEFAULT 1,
    created_by             TEXT NOT NULL,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX contracts_vendor ON contracts (vendor_id);
CREATE INDEX contracts_end ON contracts (end_date);

CREATE TABLE contract_requests (
    contract_id BLOB NOT NULL REFERENCES contracts (id),
    request_id  BLOB NOT NULL REFERENCES requests (id),
    PRIMARY KEY (contract_id, request_id)
);
CREATE INDEX contract_requests_request ON contract_requests (request_id);

-- A notification goes to a role, narrowed to one department's buyers or one vendor where it concerns them.
-- dedup_key (from domain::deadlines) makes the reminder job idempotent: a rerun inserts nothing new.
CREATE TABLE notifications (
    id                BLOB PRIMARY KEY,
    recipient_role    TEXT NOT NULL,
    recipient_dept    TEXT,
    recipient_vendor  BLOB,
    kind              TEXT NOT NULL,
    subject_type      TEXT NOT NULL,
    subject_id        TEXT NOT NULL,
    dedup_key         TEXT NOT NULL UNIQUE,
    message           TEXT NOT NULL,
    payload           TEXT NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient_role, created_at);

-- The outbox: one row per notification and webhook. A runner claims rows for a lease (claimed_until); a runner
-- that dies mid-delivery loses its claim when the lease runs out, and the row is delivered by the next one.
CREATE TABLE webhook_deliveries (
    id              BLOB PRIMARY KEY,
    notification_id BLOB NOT NULL REFERENCES notifications (id),
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    claimed_by      TEXT,
    claimed_until   TEXT,
    delivered_at    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (notification_id, url)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
