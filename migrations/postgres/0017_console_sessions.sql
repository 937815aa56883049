-- The web console: one-time sign-in links and server-side sessions. Only SHA-256 hashes of the secrets are kept:
-- the link's code and the session cookie are shown once and never stored as such.
CREATE TABLE console_login_links (
    id          UUID PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,
    subject     TEXT NOT NULL,
    role        TEXT NOT NULL,
    department  TEXT,
    vendor_id   UUID,
    created_by  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

CREATE TABLE console_sessions (
    id            UUID PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    csrf_token    TEXT NOT NULL,
    subject       TEXT NOT NULL,
    name          TEXT,
    roles         TEXT NOT NULL,
    department    TEXT,
    vendor_id     UUID,
    invitation_id UUID REFERENCES vendor_invitations (id),
    -- `login_link`, `invitation` or `oidc`.
    method        TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX console_sessions_invitation ON console_sessions (invitation_id);
