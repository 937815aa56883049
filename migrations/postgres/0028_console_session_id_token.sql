-- The ID token the identity provider issued for an OpenID Connect session, kept while the session lives so that
-- signing out can send it to the provider's end-session endpoint as `id_token_hint` (RP-Initiated Logout 1.0).
-- Cleared when the session is revoked, in the same transaction; never in the audit trail.
ALTER TABLE console_sessions ADD COLUMN id_token TEXT;
