-- The catalogue of centrally managed services.
CREATE TABLE catalog_services (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL UNIQUE,
    category     TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    capabilities JSONB NOT NULL DEFAULT '[]',
    aliases      JSONB NOT NULL DEFAULT '[]',
    owning_team  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('active', 'retiring', 'retired')),
    access       TEXT NOT NULL DEFAULT '',
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX catalog_services_status ON catalog_services (status);
