-- The workflow core: every version of a decided request with its route, steps carried between versions,
-- who wrote a request (separation of duties), and the City Council's votes and documents [Boston 16-63].

ALTER TABLE requests ADD COLUMN decided_submission INTEGER;
UPDATE requests SET decided_submission = submission WHERE status IN ('approved', 'approved_with_conditions');

ALTER TABLE request_versions ADD COLUMN kind TEXT NOT NULL DEFAULT 'submitted'
    CHECK (kind IN ('submitted', 'edited', 'reopened'));
ALTER TABLE request_versions ADD COLUMN policy_version INTEGER REFERENCES policies (version);
ALTER TABLE request_versions ADD COLUMN route TEXT;
UPDATE request_versions SET
    route = (SELECT r.route FROM requests r WHERE r.id = request_versions.request_id),
    policy_version = (SELECT r.policy_version FROM requests r WHERE r.id = request_versions.request_id)
WHERE submission = (SELECT r.submission FROM requests r WHERE r.id = request_versions.request_id);

ALTER TABLE route_steps ADD COLUMN conditions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE route_steps ADD COLUMN settled_in INTEGER;
UPDATE route_steps SET conditions = (
    SELECT d.conditions FROM decisions d WHERE d.request_id = route_steps.request_id
       AND d.submission = route_steps.submission AND d.step = route_steps.kind
       AND d.outcome = 'approve_with_conditions')
WHERE EXISTS (
    SELECT 1 FROM decisions d WHERE d.request_id = route_steps.request_id
       AND d.submission = route_steps.submission AND d.step = route_steps.kind
       AND d.outcome = 'approve_with_conditions');
UPDATE route_steps SET settled_in = submission WHERE state <> 'pending';

-- Subjects as compared (trimmed, case-folded) of everyone who created, edited or submitted a version.
CREATE TABLE request_authors (
    request_id  BLOB NOT NULL REFERENCES requests (id),
    subject_key TEXT NOT NULL,
    PRIMARY KEY (request_id, subject_key)
);
INSERT INTO request_authors (request_id, subject_key)
    SELECT id, lower(trim(created_by)) FROM requests
    UNION SELECT request_id, lower(trim(submitted_by)) FROM request_versions;

CREATE TABLE council_votes (
    id          BLOB PRIMARY KEY,
    request_id  BLOB NOT NULL REFERENCES requests (id),
    submission  INTEGER NOT NULL,
    docket      TEXT NOT NULL,
    vote_date   TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('approved', 'rejected')),
    note        TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (request_id, submission)
);

CREATE TABLE council_documents (
    id           BLOB PRIMARY KEY,
    request_id   BLOB NOT NULL REFERENCES requests (id),
    kind         TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX council_documents_request ON council_documents (request_id, kind);
