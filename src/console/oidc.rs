//! Staff sign-in through an OpenID Connect provider: the authorization code flow with PKCE (`openidconnect`).
//!
//! `/login/oidc` keeps a one-time attempt (the SHA-256 of the `state`, the SHA-256 of a short-lived cookie that
//! binds it to this browser, the nonce and the PKCE verifier) and sends the browser to the provider;
//! `/login/oidc/callback` takes the attempt once, exchanges the code with the verifier, verifies the ID token
//! (signature with the provider's published keys, issuer, audience = our client id, expiry, nonce), reads roles
//! and department with the API's own claim mapping ([`Verifier::principal`]) and opens the same server-side
//! session a login link opens.
//!
//! Signing out of an OpenID Connect session also signs out at the provider when its metadata publishes an
//! `end_session_endpoint` (RP-Initiated Logout 1.0): the session keeps the ID token it was opened with, and
//! [`OidcSignIn::end_session`] gives the address to send the browser to, with that token as `id_token_hint`.
//!
//! The provider's metadata and keys are read on the first sign-in (not at start, so that the service starts while
//! the provider is down) and read again after [`METADATA_MINUTES`], so that rotated keys are picked up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope,
    TokenResponse,
};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::auth::{Principal, Role, Verifier};
use crate::config::{OidcConfig, Secret};
use crate::tls::{ExtraRoots, error_chain};

/// How long a sign-in may take at the provider.
pub const ATTEMPT_MINUTES: i64 = 10;
/// How long the provider's metadata and keys are used before they are read again.
pub const METADATA_MINUTES: u64 = 15;
/// The path of the callback: the redirect URI to register with the provider is the public URL and this path.
pub const CALLBACK_PATH: &str = "/login/oidc/callback";
/// Where the provider sends the browser back after signing out there (after the public URL): the home page,
/// which then says the person has signed out.
pub const SIGNED_OUT_PATH: &str = "/?signed_out=1";

/// What the provider signs ID tokens with that this service accepts (those the API accepts from an identity
/// provider); never a symmetric algorithm keyed with the client secret.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// The cookie that binds a sign-in under way to the browser that started it: `__Host-` prefixed behind https.
pub fn browser_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-pr_oidc" } else { "pr_oidc" }
}

/// `Set-Cookie` for the binding cookie (`value` Some, for [`ATTEMPT_MINUTES`]) or for clearing it (None).
/// `SameSite=Lax`: the provider sends the browser back with a top-level GET, which a Lax cookie goes with.
pub fn browser_cookie(secure: bool, value: Option<&str>) -> String {
    let (value, age) = match value {
        Some(v) => (v, ATTEMPT_MINUTES * 60),
        None => ("", 0),
    };
    let mut cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={age}",
        browser_cookie_name(secure)
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// Why a sign-in was refused: the page's status and what it says (never a token, a code or the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub text: String,
}

impl Refusal {
    fn new(status: u16, text: impl Into<String>) -> Refusal {
        Refusal {
            status,
            text: text.into(),
        }
    }
}

/// The provider and this service's registration with it.
pub struct OidcSignIn {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    provider_name: String,
    http: reqwest::Client,
    metadata: Mutex<Option<(Instant, Arc<ProviderMetadataWithLogout>)>>,
}

impl std::fmt::Debug for OidcSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSignIn")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("client_secret", &"***")
            .field("redirect", &self.redirect.as_str())
            .finish()
    }
}

/// A sign-in about to be sent to the provider: where to send the browser, and what to keep for the callback.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who the provider signed in, as the API would see them, the address it gave, and the ID token it issued (kept
/// with the session for signing out at the provider).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub principal: Principal,
    pub email: Option<String>,
    pub id_token: Secret,
}

impl OidcSignIn {
    /// `None` when `oidc.issuer_url` is unset. The provider's certificate is checked as [`crate::tls`] says, with
    /// `roots` (`tls_ca_file`).
    pub fn from_config(
        config: &OidcConfig,
        public_url: &str,
        roots: &ExtraRoots,
    ) -> anyhow::Result<Option<OidcSignIn>> {
        let (Some(issuer), Some(client_id), Some(secret)) =
            (&config.issuer_url, &config.client_id, &config.client_secret)
        else {
            return Ok(None);
        };
        let issuer = IssuerUrl::new(issuer.clone())
            .map_err(|e| anyhow::anyhow!("oidc.issuer_url {issuer:?}: {e}"))?;
        let redirect = format!("{}{CALLBACK_PATH}", public_url.trim_end_matches('/'));
        let redirect = RedirectUrl::new(redirect.clone())
            .map_err(|e| anyhow::anyhow!("the redirect URI {redirect:?} (from public_url): {e}"))?;
        let post_logout = format!("{}{SIGNED_OUT_PATH}", public_url.trim_end_matches('/'));
        let post_logout = PostLogoutRedirectUrl::new(post_logout.clone()).map_err(|e| {
            anyhow::anyhow!("the post-logout redirect URI {post_logout:?} (from public_url): {e}")
        })?;
        // No redirects: an answer from elsewhere than the configured provider is not followed.
        let http = roots
            .http(reqwest::Client::builder())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Some(OidcSignIn {
            issuer,
            client_id: ClientId::new(client_id.clone()),
            client_secret: ClientSecret::new(secret.expose().to_string()),
            redirect,
            post_logout,
            provider_name: config.provider_name.clone(),
            http,
            metadata: Mutex::new(None),
        }))
    }

    pub fn provider_name(&self) -> &str {
        &self.provider_name
    }

    pub fn redirect_uri(&self) -> &str {
        self.redirect.as_str()
    }

    /// Where the provider sends the browser back after signing out there: `{public_url}/?signed_out=1`.
    pub fn post_logout_redirect_uri(&self) -> &str {
        self.post_logout.as_str()
    }

    /// The provider's origin (`https://id.city.example`): console pages let their forms lead there, because
    /// signing out (a form) is answered with a redirect to the provider's end-session endpoint, and browsers hold
    /// such a redirect to the page's `form-action`.
    pub fn origin(&self) -> String {
        self.issuer.url().origin().ascii_serialization()
    }

    /// The provider's metadata and keys, read now when they were never read or are older than
    /// [`METADATA_MINUTES`] (or `fresh`).
    async fn metadata(&self, fresh: bool) -> Result<Arc<ProviderMetadataWithLogout>, Refusal> {
        let mut cached = self.metadata.lock().await;
        if !fresh
            && let Some((at, meta)) = cached.as_ref()
            && at.elapsed() < Duration::from_secs(METADATA_MINUTES * 60)
        {
            return Ok(meta.clone());
        }
        let meta = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(
                    issuer = self.issuer.as_str(),
                    error = %error_chain(&e),
                    "the identity provider's configuration could not be read"
                );
                Refusal::new(
                    503,
                    format!(
                        "Sign-in with {} is not available: the identity provider cannot be reached. \
                         Try again later.",
                        self.provider_name
                    ),
                )
            })?;
        let meta = Arc::new(meta);
        *cached = Some((Instant::now(), meta.clone()));
        Ok(meta)
    }

    fn client(
        &self,
        meta: &ProviderMetadataWithLogout,
    ) -> CoreClient<
        EndpointSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointMaybeSet,
        EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            meta.clone(),
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Where to send the browser, with a fresh state, nonce and PKCE challenge (S256).
    pub async fn start(&self) -> Result<Started, Refusal> {
        let meta = self.metadata(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client(&meta)
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` with the PKCE verifier, verifies the ID token against `nonce`, and reads who it signs in
    /// with the API's claim mapping.
    pub async fn finish(
        &self,
        verifier: &Verifier,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<SignedIn, Refusal> {
        let meta = self.metadata(false).await?;
        let client = self.client(&meta);
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|_| Refusal::new(503, "The identity provider names no token endpoint."))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()));
        let response = request.request_async(&self.http).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(answer) => Refusal::new(
                401,
                format!(
                    "The identity provider refused to complete the sign-in ({}). Start again.",
                    answer.error()
                ),
            ),
            RequestTokenError::Request(e) => {
                tracing::warn!(error = %error_chain(&e), "the identity provider's token endpoint cannot be reached");
                Refusal::new(
                    503,
                    "The identity provider cannot be reached to complete the sign-in. Try again later.",
                )
            }
            other => Refusal::new(
                502,
                format!("The identity provider's answer could not be read: {other}"),
            ),
        })?;
        let id_token = response.id_token().ok_or_else(|| {
            Refusal::new(401, "The identity provider's answer holds no ID token.")
        })?;
        let token_verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
        let nonce = Nonce::new(nonce.to_string());
        let claims = match id_token.claims(&token_verifier, &nonce) {
            Ok(claims) => claims,
            // Keys the provider rotated since they were read: read them again once.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let meta = self.metadata(true).await?;
                let client = self.client(&meta);
                let token_verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
                id_token
                    .claims(&token_verifier, &nonce)
                    .map_err(claims_refusal)?
            }
            Err(e) => return Err(claims_refusal(e)),
        };
        // The claims the signature covers, read as the API reads a token's: the same mapping, the same rule.
        let raw: Map<String, Value> =
            jsonwebtoken::dangerous::insecure_decode_claims(id_token.to_string())
                .map_err(|_| Refusal::new(401, "The ID token's claims could not be read."))?;
        let principal = verifier
            .principal(&raw)
            .map_err(|e| Refusal::new(e.status().as_u16(), e.to_string()))?;
        if let Some(fault) = staff_fault(&principal) {
            return Err(Refusal::new(403, fault));
        }
        let email = claims
            .email()
            .filter(|_| claims.email_verified() != Some(false))
            .map(|e| e.as_str().trim().to_string())
            .filter(|e| e.parse::<lettre::Address>().is_ok());
        Ok(SignedIn {
            principal,
            email,
            id_token: Secret::new(id_token.to_string()),
        })
    }

    /// Where to send a browser whose session was opened with `id_token` to sign out at the provider too:
    /// the provider's `end_session_endpoint` with `id_token_hint`, `client_id`, `post_logout_redirect_uri` and a
    /// random `state`. `None` (sign out here only) when the provider publishes no end-session endpoint, publishes
    /// one on another origin than the issuer's (the page's `form-action` would stop the browser there), or cannot
    /// be reached.
    pub async fn end_session(&self, id_token: &Secret) -> Option<String> {
        let meta = self.metadata(false).await.ok()?;
        let endpoint = meta.additional_metadata().end_session_endpoint.clone()?;
        if endpoint.url().origin().ascii_serialization() != self.origin() {
            tracing::warn!(
                issuer = self.issuer.as_str(),
                end_session_endpoint = endpoint.as_str(),
                "the identity provider's end-session endpoint is on another origin than the issuer: \
                 signing out ends the console's session only"
            );
            return None;
        }
        let id_token: CoreIdToken = id_token
            .expose()
            .parse()
            .map_err(|_| tracing::warn!("a kept ID token could not be read; signing out here only"))
            .ok()?;
        let url = LogoutRequest::from(endpoint)
            .set_id_token_hint(&id_token)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.post_logout.clone())
            .set_state(CsrfToken::new_random())
            .http_get_url();
        Some(url.to_string())
    }
}

/// What stops a principal from using the console as its first role, as the API's extractor would refuse it.
pub fn staff_fault(principal: &Principal) -> Option<&'static str> {
    match principal.roles.first() {
        Some(Role::Buyer) if principal.department.is_none() => {
            Some("The identity provider names you a buyer but gives no department.")
        }
        Some(Role::Vendor) => Some(
            "Vendors sign in with the invitation link the city sent them, not through the city's identity provider.",
        ),
        _ => None,
    }
}

fn claims_refusal(e: openidconnect::ClaimsVerificationError) -> Refusal {
    use openidconnect::ClaimsVerificationError as E;
    let text = match &e {
        E::Expired(_) => "The identity provider's ID token has expired. Start again.".to_string(),
        E::InvalidAudience(_) => {
            "The identity provider's ID token is meant for another application.".to_string()
        }
        E::InvalidNonce(_) => {
            "The identity provider's ID token does not belong to this sign-in.".to_string()
        }
        E::InvalidIssuer(_) => {
            "The ID token was issued by someone other than the configured identity provider."
                .to_string()
        }
        E::SignatureVerification(_) => "The ID token's signature does not verify.".to_string(),
        other => format!("The identity provider's ID token was refused: {other}"),
    };
    tracing::debug!(error = %e, "ID token refused");
    Refusal::new(401, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config() -> OidcConfig {
        OidcConfig {
            issuer_url: Some("https://id.city.example/realms/city".into()),
            client_id: Some("procurement".into()),
            client_secret: Some(Secret::new("oidc-s3cret")),
            provider_name: "CityID".into(),
        }
    }

    #[test]
    fn the_redirect_uri_is_the_public_urls_callback_and_the_secret_never_prints() {
        let o = OidcSignIn::from_config(
            &config(),
            "https://review.city.example/",
            &ExtraRoots::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            o.redirect_uri(),
            "https://review.city.example/login/oidc/callback"
        );
        assert_eq!(o.provider_name(), "CityID");
        assert_eq!(
            o.post_logout_redirect_uri(),
            "https://review.city.example/?signed_out=1"
        );
        assert_eq!(o.origin(), "https://id.city.example");
        let printed = format!("{o:?}");
        assert!(!printed.contains("oidc-s3cret"), "{printed}");
        assert!(printed.contains("procurement"), "{printed}");
        assert!(
            OidcSignIn::from_config(&OidcConfig::default(), "http://x", &ExtraRoots::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_binding_cookie_is_short_lived_http_only_lax_and_secure_behind_https() {
        assert_eq!(
            browser_cookie(false, Some("abc")),
            "pr_oidc=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"
        );
        let secure = browser_cookie(true, Some("abc"));
        assert!(secure.starts_with("__Host-pr_oidc=abc;"), "{secure}");
        assert!(secure.ends_with("; Secure"), "{secure}");
        assert!(browser_cookie(false, None).contains("Max-Age=0"));
    }

    #[test]
    fn a_vendor_or_a_buyer_without_a_department_is_not_signed_in_as_staff() {
        let who = |roles: Vec<Role>, department: Option<&str>| Principal {
            subject: "p".into(),
            name: None,
            roles,
            department: department.map(str::to_string),
            vendor: None,
            invitation: None,
            grant: None,
        };
        assert!(staff_fault(&who(vec![Role::Buyer], None)).is_some());
        assert!(staff_fault(&who(vec![Role::Buyer], Some("DOIT"))).is_none());
        assert!(staff_fault(&who(vec![Role::Vendor], None)).is_some());
        assert!(staff_fault(&who(vec![Role::Cio], None)).is_none());
    }
}
