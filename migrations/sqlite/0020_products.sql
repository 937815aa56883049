-- A vendor answers once: products as records, assessments that belong to a product, and the reuse of an accepted
-- assessment by later requests for the same product.

-- A product or service of a vendor: what requests name, and what assessments are kept for.
CREATE TABLE products (
    id           BLOB PRIMARY KEY,
    vendor_id    BLOB NOT NULL REFERENCES vendors (id),
    name         TEXT NOT NULL,
    -- The name folded (trimmed, case-folded): one product per name and vendor.
    name_key     TEXT NOT NULL,
    aliases      TEXT NOT NULL,
    hosting      TEXT NOT NULL,
    data_classes TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (vendor_id, name_key)
);

-- An assessment made for a request that names a product belongs to that product; `scope` is what it was asked for
-- (data classes, hosting, users), so what its acceptance covers; a cycle opened by a later request that widened the
-- scope or found the acceptance expired names the assessment it continues.
ALTER TABLE assessments ADD COLUMN product_id BLOB REFERENCES products (id);
ALTER TABLE assessments ADD COLUMN scope TEXT;
ALTER TABLE assessments ADD COLUMN previous_assessment_id BLOB REFERENCES assessments (id);
CREATE INDEX assessments_product ON assessments (product_id, template_id);

-- Each questionnaire of a routed version that an accepted assessment of the product satisfies by reference, and the
-- analyst's confirmation where the policy asks for one.
CREATE TABLE request_reuses (
    request_id    BLOB NOT NULL REFERENCES requests (id),
    submission    INTEGER NOT NULL,
    template_id   TEXT NOT NULL,
    assessment_id BLOB NOT NULL REFERENCES assessments (id),
    needs_confirmation INTEGER NOT NULL,
    confirmed_by  TEXT,
    confirmed_at  TEXT,
    PRIMARY KEY (request_id, submission, template_id)
);
CREATE INDEX request_reuses_assessment ON request_reuses (assessment_id);
