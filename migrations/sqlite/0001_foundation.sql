-- Foundation: instance settings, registry (departments, vendors) and the hash-chained audit trail.
-- SQLite has no native uuid, timestamp or json types: ids are 16-byte BLOBs, times RFC 3339 TEXT (UTC),
-- booleans INTEGER 0/1 and JSON TEXT. PostgreSQL's migrations use the native types.

CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE departments (
    id                     BLOB PRIMARY KEY,
    code                   TEXT NOT NULL UNIQUE,
    name                   TEXT NOT NULL,
    surveillance_ordinance INTEGER NOT NULL DEFAULT 0 CHECK (surveillance_ordinance IN (0, 1)),
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);

CREATE TABLE vendors (
    id             BLOB PRIMARY KEY,
    legal_name     TEXT NOT NULL,
    legal_name_key TEXT NOT NULL UNIQUE,
    website        TEXT,
    hq_country     TEXT NOT NULL,
    contacts       TEXT NOT NULL DEFAULT '[]',
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    request_id  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor);
