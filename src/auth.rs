//! Bearer JWTs: verification (identity provider keys or the embedded HS256 secret), dev token minting, and
//! permissions as handler parameter types — obtaining an `Auth<Admin>` IS the admin check.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use poem::Request;
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use strum::VariantArray;
use uuid::Uuid;

use crate::config::{AuthConfig, Secret};
use crate::domain::identity::{subject_fault, subject_key};
use crate::domain::invitations::InvitationGrant;
use crate::error::ApiError;

pub use crate::domain::roles::Role;

/// Who the token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub name: Option<String>,
    pub roles: Vec<Role>,
    /// Department code, for buyers.
    pub department: Option<String>,
    /// Vendor id, for vendors.
    pub vendor: Option<Uuid>,
    /// For a vendor invitation token: the invitation, checked against revocation on every request.
    pub invitation: Option<Uuid>,
    /// For a vendor invitation token: what the invitation reaches, as stored with it (read by the [`Auth`]
    /// extractor on every request; never taken from the token's claims).
    pub grant: Option<InvitationGrant>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The subject in the one form in which subjects are compared (trimmed, case-folded): separation of duties
    /// and read marks use this, never the raw subject.
    pub fn subject_key(&self) -> String {
        subject_key(&self.subject)
    }
}

/// The claims of tokens this service mints itself (dev tokens in embedded mode).
#[derive(Debug, Serialize, Deserialize)]
pub struct MintClaims {
    pub sub: String,
    pub roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

enum StaffKeys {
    /// Embedded default: tokens minted by this service with a shared secret.
    Local,
    /// One public key and the algorithms its kind of key signs with.
    Pem {
        key: DecodingKey,
        algorithms: Vec<Algorithm>,
    },
    /// Keys converted once at start, each with its `kid` and the algorithms it accepts.
    Jwks(Vec<JwksKey>),
}

struct JwksKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// The issuer of vendor invitation tokens. They are signed with the instance's own secret whatever the staff
/// identity provider, carry the invitation id as `jti`, and are refused once the invitation is revoked.
pub const INVITATION_ISSUER: &str = "procurement-review/vendor-invitation";

#[derive(Debug, Serialize, Deserialize)]
struct InvitationClaims {
    sub: String,
    roles: Vec<String>,
    vendor: String,
    iss: String,
    aud: String,
    jti: String,
    iat: i64,
    exp: i64,
}

/// What an invitation token says. The token is made from these alone (issued at the invitation's creation), so
/// the same invitation always gives the same token: a message can carry the link without the token being kept
/// anywhere.
pub struct InvitationTerms<'a> {
    pub id: Uuid,
    pub vendor: Uuid,
    pub contact: &'a str,
    pub issued_at: chrono::DateTime<Utc>,
    pub expires_at: chrono::DateTime<Utc>,
}

/// The invitation token of `terms`, signed with the instance's local secret (as [`Verifier::mint_invitation`]
/// does), for the job runner, which sends invitation e-mails without a verifier.
pub fn invitation_token(
    secret: &Secret,
    audience: &str,
    terms: &InvitationTerms<'_>,
) -> anyhow::Result<String> {
    let key = EncodingKey::from_secret(secret.expose().as_bytes());
    encode_invitation(&key, audience, terms)
}

fn encode_invitation(
    key: &EncodingKey,
    audience: &str,
    terms: &InvitationTerms<'_>,
) -> anyhow::Result<String> {
    let claims = InvitationClaims {
        sub: terms.contact.to_string(),
        roles: vec![Role::Vendor.as_str().to_string()],
        vendor: terms.vendor.to_string(),
        iss: INVITATION_ISSUER.to_string(),
        aud: audience.to_string(),
        jti: terms.id.to_string(),
        iat: terms.issued_at.timestamp(),
        exp: terms.expires_at.timestamp(),
    };
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        key,
    )?)
}

/// Verifies bearer tokens. Built once at start from configuration.
pub struct Verifier {
    staff: StaffKeys,
    local_encoding: EncodingKey,
    local_decoding: DecodingKey,
    config: AuthConfig,
}

/// Those an RSA key signs with. With ES256 (P-256 keys) and ES384 (P-384 keys) they are the algorithms
/// accepted from an identity provider, as README lists them.
const RSA_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
];

impl Verifier {
    /// `local_secret` signs the tokens this service mints (dev tokens and, later, vendor invitations).
    pub fn new(config: &AuthConfig, local_secret: &Secret) -> anyhow::Result<Verifier> {
        let staff = if let Some(path) = &config.jwt_public_key_file {
            let (key, algorithms) = load_pem(path)?;
            StaffKeys::Pem { key, algorithms }
        } else if let Some(path) = &config.jwks_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading JWKS file {}", path.display()))?;
            let set: JwkSet = serde_json::from_str(&text)
                .with_context(|| format!("parsing JWKS file {}", path.display()))?;
            if set.keys.is_empty() {
                bail!("JWKS file {} holds no keys", path.display());
            }
            let mut keys = Vec::new();
            for jwk in &set.keys {
                let key = DecodingKey::from_jwk(jwk).with_context(|| {
                    format!("a key in JWKS file {} cannot be used", path.display())
                })?;
                let algorithms = jwk_algorithms(jwk).with_context(|| {
                    format!(
                        "key {} in JWKS file {}",
                        jwk.common.key_id.as_deref().unwrap_or("(no kid)"),
                        path.display()
                    )
                })?;
                keys.push(JwksKey {
                    kid: jwk.common.key_id.clone(),
                    key,
                    algorithms,
                });
            }
            StaffKeys::Jwks(keys)
        } else {
            StaffKeys::Local
        };
        Ok(Verifier {
            staff,
            local_encoding: EncodingKey::from_secret(local_secret.expose().as_bytes()),
            local_decoding: DecodingKey::from_secret(local_secret.expose().as_bytes()),
            config: config.clone(),
        })
    }

    pub fn uses_identity_provider(&self) -> bool {
        !matches!(self.staff, StaffKeys::Local)
    }

    /// Mints a staff token signed with the local secret (only accepted in embedded mode).
    pub fn mint(&self, request: &MintRequest) -> anyhow::Result<String> {
        if self.uses_identity_provider() {
            bail!(
                "this service verifies staff tokens from an identity provider; get a token there \
                 (tokens minted here would be refused)"
            );
        }
        if request.role == Role::Buyer && request.department.is_none() {
            bail!("a buyer token needs --department");
        }
        if request.role == Role::Vendor && request.vendor.is_none() {
            bail!("a vendor token needs --vendor");
        }
        let now = Utc::now().timestamp();
        let claims = MintClaims {
            sub: request.subject.clone(),
            roles: vec![request.role.as_str().to_string()],
            department: request.department.clone(),
            vendor: request.vendor.map(|v| v.to_string()),
            name: None,
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + request.ttl_seconds,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.local_encoding,
        )?)
    }

    /// Mints the token a vendor contact uses, valid until `expires_at` unless the invitation is revoked.
    pub fn mint_invitation(&self, terms: &InvitationTerms<'_>) -> anyhow::Result<String> {
        encode_invitation(&self.local_encoding, &self.config.audience, terms)
    }

    fn verify_invitation(&self, token: &str) -> Result<Principal, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = self.config.leeway_seconds;
        validation.set_issuer(&[INVITATION_ISSUER]);
        validation.set_audience(&[self.config.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud", "jti"]);
        let data =
            jsonwebtoken::decode::<InvitationClaims>(token, &self.local_decoding, &validation)
                .map_err(|e| {
                    use jsonwebtoken::errors::ErrorKind as K;
                    match e.kind() {
                        K::ExpiredSignature => ApiError::unauthorized("the invitation has expired"),
                        _ => {
                            ApiError::unauthorized(format!("the invitation token was refused: {e}"))
                        }
                    }
                })?;
        let c = data.claims;
        let parse = |v: &str| {
            Uuid::parse_str(v)
                .map_err(|_| ApiError::unauthorized("the invitation token is malformed"))
        };
        if let Some(fault) = subject_fault(&c.sub) {
            return Err(ApiError::unauthorized(fault));
        }
        Ok(Principal {
            subject: c.sub,
            name: None,
            roles: vec![Role::Vendor],
            department: None,
            vendor: Some(parse(&c.vendor)?),
            invitation: Some(parse(&c.jti)?),
            grant: None,
        })
    }

    /// Verifies signature, algorithm, expiry, not-before, issuer and audience, then reads the principal.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            ApiError::unauthorized(format!("the bearer token is not a valid JWT: {e}"))
        })?;
        if header.alg == Algorithm::HS256 {
            // The issuer picks the verification; a forged issuer still needs our signature, and an invitation
            // token is then checked against revocation by the extractor.
            let issuer =
                jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(token)
                    .ok()
                    .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string));
            if issuer.as_deref() == Some(INVITATION_ISSUER) {
                return self.verify_invitation(token);
            }
        }
        let (key, algorithms): (&DecodingKey, &[Algorithm]) = match &self.staff {
            StaffKeys::Local => (&self.local_decoding, &[Algorithm::HS256]),
            StaffKeys::Pem { key, algorithms } => (key, algorithms),
            StaffKeys::Jwks(set) => self.jwks_key(set, &header)?,
        };
        if !algorithms.contains(&header.alg) {
            return Err(ApiError::unauthorized(format!(
                "tokens signed with {:?} are not accepted here",
                header.alg
            )));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.config.leeway_seconds;
        validation.validate_nbf = true;
        validation.set_issuer(&[self.config.issuer.as_str()]);
        validation.set_audience(&[self.config.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                let why = match e.kind() {
                    K::ExpiredSignature => "the bearer token has expired".to_string(),
                    K::ImmatureSignature => "the bearer token is not valid yet".to_string(),
                    K::InvalidSignature => {
                        "the bearer token's signature does not verify".to_string()
                    }
                    K::InvalidIssuer => "the bearer token was issued by someone else".to_string(),
                    K::InvalidAudience => {
                        "the bearer token is meant for another audience".to_string()
                    }
                    K::MissingRequiredClaim(c) => format!("the bearer token has no `{c}` claim"),
                    _ => format!("the bearer token was refused: {e}"),
                };
                ApiError::unauthorized(why)
            })?;
        self.principal(&data.claims)
    }

    /// The key the token's `kid` names, with the algorithms that key accepts.
    fn jwks_key<'k>(
        &self,
        keys: &'k [JwksKey],
        header: &Header,
    ) -> Result<(&'k DecodingKey, &'k [Algorithm]), ApiError> {
        let found = match &header.kid {
            Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid.as_str())),
            None if keys.len() == 1 => keys.first(),
            None => None,
        };
        let found = found.ok_or_else(|| {
            ApiError::unauthorized("no key in the configured JWKS matches the token's `kid`")
        })?;
        Ok((&found.key, &found.algorithms))
    }

    /// Who a verified token's claims name: the subject, the roles of `auth.role_claim`, the department of
    /// `auth.department_claim` and the vendor of `auth.vendor_claim`. The one mapping from claims to roles:
    /// API tokens and the console's OpenID Connect sign-in both read it here. 403 when no known role is named.
    pub fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, ApiError> {
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::unauthorized("the bearer token has no subject"))?
            .to_string();
        if let Some(fault) = subject_fault(&subject) {
            return Err(ApiError::unauthorized(fault));
        }
        let roles_value = claim_path(claims, &self.config.role_claim);
        let names: Vec<&str> = match roles_value {
            Some(Value::String(s)) => s.split([' ', ',']).filter(|s| !s.is_empty()).collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut roles: Vec<Role> = names
            .into_iter()
            .filter_map(|name| Role::try_from(name).ok())
            .collect();
        roles.dedup();
        if roles.is_empty() {
            return Err(ApiError::forbidden(format!(
                "the token's `{}` claim names no role of this service",
                self.config.role_claim
            )));
        }
        let department = claim_path(claims, &self.config.department_claim)
            .and_then(Value::as_str)
            .map(str::to_string);
        let vendor = match claim_path(claims, &self.config.vendor_claim) {
            Some(Value::String(s)) => Some(Uuid::parse_str(s).map_err(|_| {
                ApiError::unauthorized("the token's vendor claim is not a vendor id")
            })?),
            _ => None,
        };
        let name = claims
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(Principal {
            subject,
            name,
            roles,
            department,
            vendor,
            invitation: None,
            grant: None,
        })
    }
}

fn claim_path<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// A PEM public key and the algorithms it verifies: an RSA key those of [`RSA_ALGORITHMS`], an EC key the one
/// its curve signs with (P-256: ES256, P-384: ES384).
fn load_pem(path: &Path) -> anyhow::Result<(DecodingKey, Vec<Algorithm>)> {
    let pem =
        std::fs::read(path).with_context(|| format!("reading public key {}", path.display()))?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((key, RSA_ALGORITHMS.to_vec()));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        let algorithm = ec_pem_algorithm(&pem).with_context(|| {
            format!(
                "{}: an EC key on a curve other than P-256 or P-384",
                path.display()
            )
        })?;
        return Ok((key, vec![algorithm]));
    }
    bail!(
        "{} is neither an RSA nor an EC public key in PEM form",
        path.display()
    )
}

/// The curve of an EC public key in PEM form, read from the named-curve OID in its DER body.
fn ec_pem_algorithm(pem: &[u8]) -> Option<Algorithm> {
    use base64::Engine;
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    let text = std::str::from_utf8(pem).ok()?;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let holds = |oid: &[u8]| der.windows(oid.len()).any(|w| w == oid);
    if holds(P256) {
        Some(Algorithm::ES256)
    } else if holds(P384) {
        Some(Algorithm::ES384)
    } else {
        None
    }
}

/// The algorithms a JWKS key accepts: its `alg` alone when it names one (an RSA one of [`RSA_ALGORITHMS`], ES256
/// or ES384); otherwise
/// what its kind of key signs with (RSA: [`RSA_ALGORITHMS`]; EC: its curve's).
fn jwk_algorithms(jwk: &jsonwebtoken::jwk::Jwk) -> anyhow::Result<Vec<Algorithm>> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, KeyAlgorithm};
    if let Some(marked) = jwk.common.key_algorithm {
        let algorithm = match marked {
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::RS384 => Algorithm::RS384,
            KeyAlgorithm::RS512 => Algorithm::RS512,
            KeyAlgorithm::PS256 => Algorithm::PS256,
            KeyAlgorithm::ES256 => Algorithm::ES256,
            KeyAlgorithm::ES384 => Algorithm::ES384,
            other => bail!("its alg {other:?} is not one this service accepts"),
        };
        return Ok(vec![algorithm]);
    }
    Ok(match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => RSA_ALGORITHMS.to_vec(),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => bail!("its curve is not P-256 or P-384"),
        },
        _ => bail!("it is neither an RSA nor an EC key"),
    })
}

#[derive(Debug, Clone)]
pub struct MintRequest {
    pub role: Role,
    pub subject: String,
    pub department: Option<String>,
    pub vendor: Option<Uuid>,
    pub ttl_seconds: i64,
}

/// A set of roles allowed to call an operation.
pub trait Permission: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

/// Obtaining an `Auth<P>` is the permission check: 401 without a valid token, 403 when none of the token's
/// roles is in `P::ROLES`. `role` is the role under which the caller acts (recorded in the audit trail).
pub struct Auth<P: Permission> {
    pub principal: Principal,
    pub role: Role,
    _permission: PhantomData<P>,
}

impl<P: Permission> std::ops::Deref for Auth<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

macro_rules! permission {
    ($(#[$doc:meta])* $name:ident = [$($role:ident),+ $(,)?]) => {
        $(#[$doc])*
        pub struct $name;
        impl Permission for $name {
            const ROLES: &'static [Role] = &[$(Role::$role),+];
        }
    };
}

permission!(
    /// Any valid token, vendors included.
    AnyRole = [Buyer, Vendor, SecurityAnalyst, Cio, Finance, Admin, Auditor]
);
permission!(
    /// City staff of any role (not vendors).
    Staff = [Buyer, SecurityAnalyst, Cio, Finance, Admin, Auditor]
);
permission!(
    /// Administrators.
    Admin = [Admin]
);
permission!(
    /// Readers of the audit trail.
    AuditReader = [Auditor, Admin]
);
permission!(
    /// Those who register and maintain vendor records.
    VendorEditor = [Buyer, SecurityAnalyst, Cio, Admin]
);

pub const BEARER_SCHEME: &str = "bearerAuth";

/// The principal of a console session, put on the in-process API calls a console page makes (see
/// `crate::console`). It lives in the request's extensions, which only the server's own code writes.
#[derive(Debug, Clone)]
pub struct ConsolePrincipal(pub Principal);

pub(crate) fn bearer_token(req: &Request) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("a bearer token is required (Authorization: Bearer ...)")
        })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ));
    }
    Ok(token.trim())
}

impl<'a, P: Permission> ApiExtractor<'a> for Auth<P> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            BEARER_SCHEME,
            MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "A JWT from the city's identity provider (staff), a token minted by \
                     `procurement-review token` (embedded mode), or a vendor invitation token.",
                ),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: Some("JWT"),
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![BEARER_SCHEME]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut poem::RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let verifier = req.data::<Arc<Verifier>>().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("verifier missing from request data"))
        })?;
        // A console page calls the API in-process for its signed-in session: the principal comes with the
        // request (never from anything the client sent), and everything below is checked as for a token.
        let mut principal = match req.extensions().get::<ConsolePrincipal>() {
            Some(session) => session.0.clone(),
            None => verifier.verify(bearer_token(req)?)?,
        };
        if let Some(invitation) = principal.invitation {
            let store = req.data::<crate::store::Store>().ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("store missing from request data"))
            })?;
            // What the token reaches is what the invitation row says, read afresh on every request.
            let grant = store
                .invitation_grant(invitation)
                .await?
                .filter(|g| Some(g.vendor) == principal.vendor)
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "the invitation has been revoked or has expired (or was issued before \
                         invitations named a request: ask for a new one)",
                    )
                })?;
            principal.grant = Some(grant);
        }
        let role = P::ROLES
            .iter()
            .copied()
            .find(|r| principal.has(*r))
            .ok_or_else(|| {
                let allowed: Vec<&str> = P::ROLES.iter().map(|r| r.as_str()).collect();
                ApiError::forbidden(format!("this operation is for: {}", allowed.join(", ")))
            })?;
        if role == Role::Buyer && principal.department.is_none() {
            return Err(ApiError::forbidden("a buyer token must name a department").into());
        }
        if role == Role::Vendor && principal.vendor.is_none() {
            return Err(ApiError::forbidden("a vendor token must name a vendor").into());
        }
        Ok(Auth {
            principal,
            role,
            _permission: PhantomData,
        })
    }
}

/// Distinct roles, for `/me`.
pub fn role_names(roles: &[Role]) -> Vec<String> {
    let set: HashSet<Role> = roles.iter().copied().collect();
    Role::VARIANTS
        .iter()
        .filter(|r| set.contains(r))
        .map(|r| r.as_str().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> Verifier {
        Verifier::new(
            &AuthConfig::default(),
            &Secret::new("test-secret-test-secret"),
        )
        .unwrap()
    }

    fn mint(role: Role) -> String {
        verifier()
            .mint(&MintRequest {
                role,
                subject: "alice".into(),
                department: Some("DOIT".into()),
                vendor: None,
                ttl_seconds: 60,
            })
            .unwrap()
    }

    #[test]
    fn a_minted_token_verifies_to_its_principal() {
        let p = verifier().verify(&mint(Role::Buyer)).unwrap();
        assert_eq!(p.subject, "alice");
        assert_eq!(p.roles, vec![Role::Buyer]);
        assert_eq!(p.department.as_deref(), Some("DOIT"));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = Verifier::new(&AuthConfig::default(), &Secret::new("another-secret")).unwrap();
        let err = other.verify(&mint(Role::Admin)).unwrap_err();
        assert_eq!(err.status().as_u16(), 401);
    }

    #[test]
    fn roles_may_be_a_nested_claim_and_a_string() {
        let mut cfg = AuthConfig {
            role_claim: "realm_access.roles".into(),
            ..AuthConfig::default()
        };
        let v = Verifier::new(&cfg, &Secret::new("x")).unwrap();
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"sub":"a","realm_access":{"roles":["cio","unknown"]}}"#)
                .unwrap();
        assert_eq!(v.principal(&claims).unwrap().roles, vec![Role::Cio]);
        cfg.role_claim = "scope".into();
        let v = Verifier::new(&cfg, &Secret::new("x")).unwrap();
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"sub":"a","scope":"auditor finance"}"#).unwrap();
        assert_eq!(
            v.principal(&claims).unwrap().roles,
            vec![Role::Auditor, Role::Finance]
        );
    }

    fn key_file(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name)
    }

    #[test]
    fn an_ec_pem_key_is_read_for_its_curve() {
        let read = |name: &str| ec_pem_algorithm(&std::fs::read(key_file(name)).unwrap());
        assert_eq!(read("ec-public.pem"), Some(Algorithm::ES256));
        assert_eq!(read("ec384-public.pem"), Some(Algorithm::ES384));
        assert_eq!(read("rsa-public.pem"), None);
    }

    #[test]
    fn a_jwks_key_marked_with_an_algorithm_this_service_refuses_stops_the_start() {
        let dir = std::env::temp_dir().join(format!("jwks-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut set: Value =
            serde_json::from_slice(&std::fs::read(key_file("jwks.json")).unwrap()).unwrap();
        set["keys"][0]["alg"] = "PS512".into();
        let path = dir.join("jwks.json");
        std::fs::write(&path, set.to_string()).unwrap();
        let cfg = AuthConfig {
            jwks_file: Some(path),
            ..AuthConfig::default()
        };
        let err = Verifier::new(&cfg, &Secret::new("x")).err().unwrap();
        assert!(format!("{err:#}").contains("PS512"), "{err:#}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_subject_that_is_empty_or_padded_is_refused_and_case_does_not_make_another_person() {
        let v = verifier();
        for sub in ["", " alice", "alice ", "\talice"] {
            let claims: Map<String, Value> =
                serde_json::from_value(serde_json::json!({"sub": sub, "roles": ["cio"]})).unwrap();
            let err = v.principal(&claims).unwrap_err();
            assert_eq!(err.status().as_u16(), 401, "{sub:?}");
        }
        let claims: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"sub": "BUYER-ISD", "roles": ["cio"]}))
                .unwrap();
        let cio = v.principal(&claims).unwrap();
        assert_eq!(
            cio.subject, "BUYER-ISD",
            "the subject is shown as the token spells it"
        );
        assert_eq!(cio.subject_key(), "buyer-isd");
        assert!(crate::domain::identity::same_subject(
            &cio.subject,
            "buyer-isd"
        ));
    }

    #[test]
    fn buyer_tokens_need_a_department() {
        let err = verifier()
            .mint(&MintRequest {
                role: Role::Buyer,
                subject: "b".into(),
                department: None,
                vendor: None,
                ttl_seconds: 60,
            })
            .unwrap_err();
        assert!(err.to_string().contains("--department"));
    }
}
