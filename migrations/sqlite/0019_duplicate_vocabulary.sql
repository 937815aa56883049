-- Vocabulary the CIO office adds to the duplicate check's shipped lexicon: phrases for a concept (an existing
-- one or a new one) or an abbreviation. Every instance rebuilds its index when this table changes.

CREATE TABLE duplicate_vocabulary (
    id           BLOB PRIMARY KEY,
    concept      TEXT NOT NULL,
    label        TEXT NOT NULL,
    phrases      TEXT NOT NULL,
    abbreviation TEXT NOT NULL,
    expansion    TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
