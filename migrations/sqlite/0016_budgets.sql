-- The City Technology Plan and the departments' technology budgets [EO 2025 Art. 1-2], the budget line a
-- request is funded from, and the departments' annual surveillance reports [Boston 16-63.5].

CREATE TABLE plan_items (
    id                 BLOB PRIMARY KEY,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    -- Department codes, a JSON array.
    departments        TEXT NOT NULL,
    centralization     TEXT NOT NULL CHECK (centralization IN ('centralize', 'shared', 'department')),
    priority           INTEGER NOT NULL CHECK (priority >= 1),
    first_fiscal_year  INTEGER NOT NULL,
    last_fiscal_year   INTEGER NOT NULL,
    capital_cents      INTEGER NOT NULL CHECK (capital_cents >= 0),
    operating_cents    INTEGER NOT NULL CHECK (operating_cents >= 0),
    version            INTEGER NOT NULL DEFAULT 1,
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE budgets (
    id                 BLOB PRIMARY KEY,
    department_code    TEXT NOT NULL REFERENCES departments (code),
    fiscal_year        INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved')),
    -- 0 for the budget as first approved, then one more for each amendment.
    amendment          INTEGER NOT NULL DEFAULT 0,
    -- Submissions to the CIO and Finance; approvals count for the current one only.
    submission         INTEGER NOT NULL DEFAULT 0,
    approved_at        TEXT,
    version            INTEGER NOT NULL DEFAULT 1,
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (department_code, fiscal_year)
);

CREATE TABLE budget_lines (
    id                            BLOB PRIMARY KEY,
    budget_id                     BLOB NOT NULL REFERENCES budgets (id),
    position                      INTEGER NOT NULL,
    label                         TEXT NOT NULL,
    plan_item_id                  BLOB REFERENCES plan_items (id),
    capital_cents                 INTEGER NOT NULL CHECK (capital_cents >= 0),
    operating_staff_cents         INTEGER NOT NULL CHECK (operating_staff_cents >= 0),
    operating_other_cents         INTEGER NOT NULL CHECK (operating_other_cents >= 0),
    -- The amounts the CIO and Finance last approved jointly; NULL until then. Requests draw on these.
    approved_capital_cents        INTEGER,
    approved_operating_cents      INTEGER
);
CREATE INDEX budget_lines_budget ON budget_lines (budget_id);

-- Each approval or return by the CIO office or Finance, per submission.
CREATE TABLE budget_reviews (
    id           BLOB PRIMARY KEY,
    budget_id    BLOB NOT NULL REFERENCES budgets (id),
    submission   INTEGER NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('cio', 'finance')),
    outcome      TEXT NOT NULL CHECK (outcome IN ('approved', 'returned')),
    comments     TEXT,
    reviewed_by  TEXT NOT NULL,
    reviewed_at  TEXT NOT NULL,
    UNIQUE (budget_id, submission, role)
);

-- What routing reads of a request's funding, kept beside its fields so that the committed sums are plain SQL.
ALTER TABLE requests ADD COLUMN budget_line_id BLOB REFERENCES budget_lines (id);
ALTER TABLE requests ADD COLUMN capital_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN annual_operating_cents INTEGER NOT NULL DEFAULT 0;
CREATE INDEX requests_budget_line ON requests (budget_line_id);

-- A covered department's account of how one Council-approved technology was used in a calendar year.
CREATE TABLE surveillance_reports (
    id                   BLOB PRIMARY KEY,
    request_id           BLOB NOT NULL REFERENCES requests (id),
    department_code      TEXT NOT NULL REFERENCES departments (code),
    year                 INTEGER NOT NULL,
    usage                TEXT NOT NULL,
    non_suspect_capture  TEXT NOT NULL,
    -- JSON array of {recipient, data, legal_standard}.
    sharing              TEXT NOT NULL,
    complaints           TEXT NOT NULL,
    audits               TEXT NOT NULL,
    violations           TEXT NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1,
    created_by           TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (request_id, year)
);
