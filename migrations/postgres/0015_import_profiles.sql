-- Saved import profiles: a hand mapping of a spreadsheet layout (format=mapped) saved by an analyst under a name,
-- which vendors then upload with profile=NAME.
CREATE TABLE import_profiles (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,
    mapping    JSONB NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
