-- Learning from the CIO office's duplicate decisions. A dismissal records the department and the product the
-- request named, so that it carries over to later requests of that department for the same product; a
-- candidate recorded at submission says which earlier dismissal it was set aside by. A denial as a duplicate
-- of a central service proposes the request's product name as an alias of that service.

ALTER TABLE duplicate_dismissals ADD COLUMN department_code TEXT NOT NULL DEFAULT '';
ALTER TABLE duplicate_dismissals ADD COLUMN product_name TEXT NOT NULL DEFAULT '';
UPDATE duplicate_dismissals SET
    department_code = COALESCE((SELECT r.department_code FROM requests r WHERE r.id = duplicate_dismissals.request_id), ''),
    product_name = COALESCE((SELECT json_extract(r.fields, '$.product_name') FROM requests r
                             WHERE r.id = duplicate_dismissals.request_id), '');
CREATE INDEX duplicate_dismissals_department ON duplicate_dismissals (department_code, candidate_kind);

ALTER TABLE request_duplicates ADD COLUMN carried_from TEXT;

CREATE TABLE alias_proposals (
    id              BLOB PRIMARY KEY,
    service_id      BLOB NOT NULL REFERENCES catalog_services (id),
    alias           TEXT NOT NULL,
    alias_key       TEXT NOT NULL,
    request_id      BLOB NOT NULL REFERENCES requests (id),
    submission      INTEGER NOT NULL,
    proposed_by     TEXT NOT NULL,
    proposed_at     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'rejected')),
    decided_by      TEXT,
    decided_at      TEXT,
    decision_reason TEXT,
    version         INTEGER NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX alias_proposals_status ON alias_proposals (status, proposed_at, id);
CREATE INDEX alias_proposals_service ON alias_proposals (service_id, alias_key);
