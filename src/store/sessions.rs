// Console sign-in links and sessions. Included by both backends as a submodule, like catalog.rs.

use uuid::Uuid;

use crate::config::Secret;
use crate::domain::now;
use crate::error::ApiError;
use crate::store::{
    Actor, IdentityPerson, LoginLinkRecord, NewLoginLink, NewOidcAttempt, NewSession,
    OidcAttemptRecord, SessionRecord, to_json,
};

async fn insert_session(
    tx: &mut Tx,
    actor: &Actor,
    new: &NewSession,
) -> Result<SessionRecord, ApiError> {
    let created: SessionRecord = sqlx::query_as(
        "INSERT INTO console_sessions (id, token_hash, csrf_token, subject, name, roles, department, vendor_id, \
         invitation_id, method, created_at, expires_at, email, id_token) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14) RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(&new.token_hash)
    .bind(&new.csrf_token)
    .bind(&new.subject)
    .bind(&new.name)
    .bind(&new.roles)
    .bind(&new.department)
    .bind(new.vendor_id)
    .bind(new.invitation_id)
    .bind(&new.method)
    .bind(now())
    .bind(new.expires_at)
    .bind(&new.email)
    .bind(new.id_token.as_ref().map(Secret::expose))
    .fetch_one(&mut **tx)
    .await?;
    audit(
        tx,
        actor,
        "console.signed_in",
        "console_session",
        &created.id.to_string(),
        None,
        Some(to_json(&created)),
    )
    .await?;
    Ok(created)
}

impl Repo {
    pub async fn create_login_link(
        &self,
        actor: &Actor,
        new: NewLoginLink,
    ) -> Result<LoginLinkRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let created: LoginLinkRecord = sqlx::query_as(
            "INSERT INTO console_login_links (id, code_hash, subject, role, department, vendor_id, created_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&new.code_hash)
        .bind(&new.subject)
        .bind(&new.role)
        .bind(&new.department)
        .bind(new.vendor_id)
        .bind(&actor.subject)
        .bind(now())
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "console.login_link_issued",
            "console_login_link",
            &created.id.to_string(),
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    /// Uses the link whose code hashes to `code_hash` once: marks it used and opens the session `session`
    /// describes (its subject, role, department and vendor are the link's). A link that is unknown, used or
    /// expired opens nothing.
    pub async fn redeem_login_link(
        &self,
        code_hash: &str,
        mut session: NewSession,
    ) -> Result<SessionRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let link: LoginLinkRecord = lock(
            &mut tx,
            "SELECT * FROM console_login_links WHERE code_hash = $1",
            code_hash,
        )
        .await?
        .ok_or_else(|| ApiError::unauthorized("this sign-in link is not known"))?;
        if link.used_at.is_some() {
            return Err(ApiError::unauthorized(
                "this sign-in link has been used already; ask for a new one",
            ));
        }
        let at = now();
        if link.expires_at <= at {
            return Err(ApiError::unauthorized(
                "this sign-in link has expired; ask for a new one",
            ));
        }
        let used: LoginLinkRecord =
            sqlx::query_as("UPDATE console_login_links SET used_at = $2 WHERE id = $1 RETURNING *")
                .bind(link.id)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
        let actor = Actor {
            subject: link.subject.clone(),
            role: link.role.clone(),
            request_id: None,
            invitation: None,
        };
        audit(
            &mut tx,
            &actor,
            "console.login_link_used",
            "console_login_link",
            &link.id.to_string(),
            Some(to_json(&link)),
            Some(to_json(&used)),
        )
        .await?;
        session.subject = link.subject;
        session.roles = link.role;
        session.department = link.department;
        session.vendor_id = link.vendor_id;
        session.invitation_id = None;
        let created = insert_session(&mut tx, &actor, &session).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Opens a session for someone already authenticated (a vendor's invitation, an identity provider).
    pub async fn open_session(
        &self,
        actor: &Actor,
        session: NewSession,
    ) -> Result<SessionRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let created = insert_session(&mut tx, actor, &session).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Starts an OpenID Connect sign-in: keeps what the callback will check the provider's answer with.
    pub async fn start_oidc_attempt(
        &self,
        actor: &Actor,
        new: NewOidcAttempt,
    ) -> Result<OidcAttemptRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        // An attempt past its expiry can never be taken (the callback refuses it as unknown): each new attempt
        // clears those away, so the table holds only the sign-ins of the last few minutes.
        sqlx::query("DELETE FROM console_oidc_attempts WHERE expires_at <= $1")
            .bind(now())
            .execute(&mut *tx)
            .await?;
        let created: OidcAttemptRecord = sqlx::query_as(
            "INSERT INTO console_oidc_attempts (id, state_hash, browser_hash, nonce, pkce_verifier, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&new.state_hash)
        .bind(&new.browser_hash)
        .bind(&new.nonce)
        .bind(&new.pkce_verifier)
        .bind(now())
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "console.oidc_started",
            "console_oidc_attempt",
            &created.id.to_string(),
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    /// Takes the sign-in whose `state` hashes to `state_hash`, once, for the browser whose cookie hashes to
    /// `browser_hash`: an unknown state, another browser's, a used or an expired one is refused (400) and changes
    /// nothing; otherwise the attempt is marked used before the provider is asked anything, so that a replayed
    /// callback finds it used.
    pub async fn take_oidc_attempt(
        &self,
        state_hash: &str,
        browser_hash: Option<&str>,
    ) -> Result<OidcAttemptRecord, ApiError> {
        let refused = |detail: &str| ApiError::bad_request(ProblemCode::OidcState, detail);
        let mut tx = begin(&self.writer).await?;
        let attempt: OidcAttemptRecord = lock(
            &mut tx,
            "SELECT * FROM console_oidc_attempts WHERE state_hash = $1",
            state_hash,
        )
        .await?
        .ok_or_else(|| refused("this sign-in answer does not belong to a sign-in started here"))?;
        if browser_hash != Some(attempt.browser_hash.as_str()) {
            return Err(refused(
                "this sign-in answer belongs to a sign-in started in another browser",
            ));
        }
        if attempt.used_at.is_some() {
            return Err(refused("this sign-in answer has been used already"));
        }
        let at = now();
        if attempt.expires_at <= at {
            return Err(refused("this sign-in took too long; start again"));
        }
        let used: OidcAttemptRecord = sqlx::query_as(
            "UPDATE console_oidc_attempts SET used_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(attempt.id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            &Actor {
                subject: "identity provider callback".into(),
                role: "system".into(),
                request_id: None,
                invitation: None,
            },
            "console.oidc_answered",
            "console_oidc_attempt",
            &attempt.id.to_string(),
            Some(to_json(&attempt)),
            Some(to_json(&used)),
        )
        .await?;
        Ok(used)
    }

    /// Opens the session of someone the identity provider signed in and, when the provider gave an address,
    /// records them (with the roles and department of this sign-in) among the people notifications may reach.
    /// Clears the ID tokens kept with sessions past their expiry.
    pub async fn open_identified_session(
        &self,
        actor: &Actor,
        session: NewSession,
        person: Option<IdentityPerson>,
    ) -> Result<SessionRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        // A session's ID token is kept only to sign it out at the provider, which an expired session is never
        // again: each new sign-in through the provider clears those, as a new attempt clears expired attempts.
        sqlx::query(
            "UPDATE console_sessions SET id_token = NULL WHERE id_token IS NOT NULL AND expires_at <= $1",
        )
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let created = insert_session(&mut tx, actor, &session).await?;
        if let Some(person) = person {
            let before: Option<IdentityPerson> = lock(
                &mut tx,
                "SELECT * FROM identity_people WHERE subject_key = $1",
                &person.subject_key,
            )
            .await?;
            let after: IdentityPerson = sqlx::query_as(
                "INSERT INTO identity_people (subject_key, subject, name, email, roles, department, \
                 last_signed_in) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subject_key) DO UPDATE SET \
                 subject = excluded.subject, name = excluded.name, email = excluded.email, roles = excluded.roles, \
                 department = excluded.department, last_signed_in = excluded.last_signed_in RETURNING *",
            )
            .bind(&person.subject_key)
            .bind(&person.subject)
            .bind(&person.name)
            .bind(&person.email)
            .bind(&person.roles)
            .bind(&person.department)
            .bind(person.last_signed_in)
            .fetch_one(&mut *tx)
            .await?;
            audit(
                &mut tx,
                actor,
                "identity_person.recorded",
                "identity_person",
                &after.subject_key,
                before.map(|b| to_json(&b)),
                Some(to_json(&after)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// People who signed in through the identity provider and gave an address.
    pub async fn identity_people(&self) -> Result<Vec<IdentityPerson>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM identity_people ORDER BY subject_key")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The session whose cookie hashes to `token_hash`, whatever its state (the caller checks expiry and
    /// revocation).
    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM console_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Ends a session (sign-out) and clears the ID token kept with it, returning that token (for the identity
    /// provider's end-session endpoint). Ending one already ended changes nothing, returns no token and is not
    /// audited again.
    pub async fn revoke_session(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Option<Secret>, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Option<SessionRecord> =
            lock(&mut tx, "SELECT * FROM console_sessions WHERE id = $1", id).await?;
        let Some(current) = current.filter(|s| s.revoked_at.is_none()) else {
            return Ok(None);
        };
        let id_token: Option<String> =
            sqlx::query_scalar("SELECT id_token FROM console_sessions WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let updated: SessionRecord = sqlx::query_as(
            "UPDATE console_sessions SET revoked_at = $2, id_token = NULL WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "console.signed_out",
            "console_session",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        Ok(id_token.map(Secret::new))
    }
}
