-- Staff sign-in to the console through an OpenID Connect provider.
--
-- One row per sign-in started: the `state` sent to the provider (kept as its SHA-256), the browser it was started
-- in (the SHA-256 of a short-lived cookie), and the nonce and PKCE verifier the callback checks the answer with.
-- A row is used once: the callback marks it, so a replayed callback opens nothing.
CREATE TABLE console_oidc_attempts (
    id            BLOB PRIMARY KEY,
    state_hash    TEXT NOT NULL UNIQUE,
    browser_hash  TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);

-- The e-mail address the identity provider gave for the person a session signed in.
ALTER TABLE console_sessions ADD COLUMN email TEXT;

-- People who signed in through the identity provider and gave an address: who they are, the roles and
-- department of their last sign-in, and the address (notifications for their role may reach it).
CREATE TABLE identity_people (
    subject_key     TEXT PRIMARY KEY,
    subject         TEXT NOT NULL,
    name            TEXT,
    email           TEXT NOT NULL,
    roles           TEXT NOT NULL,
    department      TEXT,
    last_signed_in  TEXT NOT NULL
);
