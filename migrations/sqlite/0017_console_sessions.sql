-- The web console: one-time sign-in links and server-side sessions. Only SHA-256 hashes of the secrets are kept:
-- the link's code and the session cookie are shown once and never stored as such.
CREATE TABLE console_login_links (
    id          BLOB PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,
    subject     TEXT NOT NULL,
    role        TEXT NOT NULL,
    department  TEXT,
    vendor_id   BLOB,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

CREATE TABLE console_sessions (
    id            BLOB PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    csrf_token    TEXT NOT NULL,
    subject       TEXT NOT NULL,
    name          TEXT,
    roles         TEXT NOT NULL,
    department    TEXT,
    vendor_id     BLOB,
    invitation_id BLOB REFERENCES vendor_invitations (id),
    -- `login_link`, `invitation` or `oidc`.
    method        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX console_sessions_invitation ON console_sessions (invitation_id);
