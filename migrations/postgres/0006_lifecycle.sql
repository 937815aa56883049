-- Lifecycle: the contract safeguards checklist of each request, contracts and their decommissioning, and the
-- notifications the job runner makes with their webhook outbox.

-- One row per clause someone has dealt with; a clause of the checklist without a row is missing.
CREATE TABLE request_safeguards (
    request_id    UUID NOT NULL REFERENCES requests (id),
    clause_id     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('missing', 'present', 'waived')),
    document      TEXT,
    section       TEXT,
    attested_by   TEXT,
    attested_at   TIMESTAMPTZ,
    justification TEXT,
    waived_by     TEXT,
    waived_at     TIMESTAMPTZ,
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, clause_id)
);

CREATE TABLE contracts (
    id                     UUID PRIMARY KEY,
    vendor_id              UUID NOT NULL REFERENCES vendors (id),
    contract_number        TEXT NOT NULL UNIQUE,
    title                  TEXT NOT NULL,
    start_date             DATE NOT NULL,
    end_date               DATE NOT NULL,
    value_cents            BIGINT NOT NULL CHECK (value_cents >= 0),
    renewal_notice_days    INTEGER NOT NULL CHECK (renewal_notice_days >= 0),
    -- end_date less the notice period, kept so that "expiring" is a plain date comparison on both backends.
    notice_starts_on       DATE NOT NULL,
    -- Safeguard clauses the contract itself is known to carry (clause ids of the library).
    safeguard_clauses      JSONB NOT NULL,
    decommissioned_on      DATE,
    data_disposition       TEXT CHECK (data_disposition IN ('returned', 'destroyed')),
    certificate_reference  TEXT,
    certified_by           TEXT,
    decommission_note      TEXT,
    decommissioned_by      TEXT,
    version                BIGINT NOT NULL DEFAULT 1,
    created_by             TEXT NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX contracts_vendor ON contracts (vendor_id);
CREATE INDEX contracts_end ON contracts (end_date);

CREATE TABLE contract_requests (
    contract_id UUID NOT NULL REFERENCES contracts (id),
    request_id  UUID NOT NULL REFERENCES requests (id),
    PRIMARY KEY (contract_id, request_id)
);
CREATE INDEX contract_requests_request ON contract_requests (request_id);

-- A notification goes to a role, narrowed to one department's buyers or one vendor where it concerns them.
-- dedup_key (from domain::deadlines) makes the reminder job idempotent: a rerun inserts nothing new.
CREATE TABLE notifications (
    id                UUID PRIMARY KEY,
    recipient_role    TEXT NOT NULL,
    recipient_dept    TEXT,
    recipient_vendor  UUID,
    kind              TEXT NOT NULL,
    subject_type      TEXT NOT NULL,
    subject_id        TEXT NOT NULL,
    dedup_key         TEXT NOT NULL UNIQUE,
    message           TEXT NOT NULL,
    payload           JSONB NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient_role, created_at);

-- The outbox: one row per notification and webhook. A runner claims rows for a lease (claimed_until); a runner
-- that dies mid-delivery loses its claim when the lease runs out, and the row is delivered by the next one.
CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    notification_id UUID NOT NULL REFERENCES notifications (id),
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    claimed_by      TEXT,
    claimed_until   TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (notification_id, url)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
