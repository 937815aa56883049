//! A small OpenID Connect provider on 127.0.0.1, inside the test process: discovery, JWKS, `/authorize` (which
//! signs the next person in at once and redirects back with a code) and `/token` (client authentication, single
//! use codes, the redirect URI and the PKCE verifier checked, an RS256 ID token signed with `tests/keys`).
//!
//! `/end_session` signs the person out as OpenID Connect RP-Initiated Logout 1.0 says (the `id_token_hint` verified
//! as one of its own tokens for this client, the `post_logout_redirect_uri` registered) and sends the browser back
//! with the `state`; a test may have the discovery document not publish it ([`Provider::publish_end_session`]).
//!
//! It follows OpenID Connect Core 1.0, RP-Initiated Logout 1.0 and RFC 7636 as far as the console uses them, so
//! the `openidconnect` crate talks to it as to a real provider. A test sets who signs in next ([`Provider::next`]) and
//! may bend the ID token (another audience, another nonce, already expired) to see the console refuse it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::web::{Data, Form, Json, Query};
use poem::{EndpointExt, Request, Response, Route, Server, get, handler, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "procurement-review-console";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";
const KID: &str = "test-rsa-1";

/// How the next ID token is bent, to see it refused.
#[derive(Debug, Clone, Default)]
pub struct Bend {
    pub audience: Option<String>,
    pub nonce: Option<String>,
    /// Seconds from now to `exp`; default 300.
    pub expires_in: Option<i64>,
}

#[derive(Debug, Clone)]
struct Grant {
    redirect_uri: String,
    nonce: String,
    challenge: String,
    claims: Map<String, Value>,
    bend: Bend,
    used: bool,
}

/// A sign-out the provider was asked for at `/end_session`, as it read it.
#[derive(Debug, Clone)]
pub struct EndSession {
    pub id_token_hint: String,
    pub subject: String,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: String,
    pub state: Option<String>,
}

#[derive(Default)]
struct State {
    redirect_uri: Option<String>,
    post_logout_redirect_uri: Option<String>,
    /// Whether the discovery document leaves `end_session_endpoint` out.
    hide_end_session: bool,
    next: Map<String, Value>,
    bend: Bend,
    codes: HashMap<String, Grant>,
    tokens_issued: u32,
    id_tokens: Vec<String>,
    sessions_ended: Vec<EndSession>,
}

pub struct Provider {
    pub issuer: String,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Provider {
    pub async fn start() -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let app = Route::new()
            .at("/.well-known/openid-configuration", get(discovery))
            .at("/jwks", get(jwks))
            .at("/authorize", get(authorize))
            .at("/token", post(token))
            .at("/end_session", get(end_session))
            .data(state.clone())
            .data(Issuer(issuer.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(async move {
            Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async {
                        let _ = rx.await;
                    },
                    Some(std::time::Duration::from_secs(1)),
                )
                .await
        });
        Provider {
            issuer,
            state,
            shutdown: Some(tx),
        }
    }

    /// The one redirect URI registered for the client.
    pub fn register(&self, redirect_uri: &str) {
        self.state.lock().unwrap().redirect_uri = Some(redirect_uri.to_string());
    }

    /// The one URI `/end_session` may send the browser back to.
    pub fn register_post_logout(&self, uri: &str) {
        self.state.lock().unwrap().post_logout_redirect_uri = Some(uri.to_string());
    }

    /// Whether the discovery document publishes `end_session_endpoint` (it does unless told otherwise).
    pub fn publish_end_session(&self, publish: bool) {
        self.state.lock().unwrap().hide_end_session = !publish;
    }

    /// The ID tokens issued so far, oldest first.
    pub fn id_tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().id_tokens.clone()
    }

    /// The sign-outs asked for at `/end_session` and carried out, oldest first.
    pub fn sessions_ended(&self) -> Vec<EndSession> {
        self.state.lock().unwrap().sessions_ended.clone()
    }

    /// Who signs in at `/authorize` from now on: these claims, besides `iss`, `aud`, `exp`, `iat` and `nonce`.
    pub fn next(&self, claims: Value) {
        self.state.lock().unwrap().next = claims.as_object().unwrap().clone();
    }

    /// How the ID tokens of codes issued from now on are bent.
    pub fn bend(&self, bend: Bend) {
        self.state.lock().unwrap().bend = bend;
    }

    pub fn tokens_issued(&self) -> u32 {
        self.state.lock().unwrap().tokens_issued
    }

    pub fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Clone)]
struct Issuer(String);

#[handler]
fn discovery(issuer: Data<&Issuer>, state: Data<&Arc<Mutex<State>>>) -> Json<Value> {
    let i = &issuer.0.0;
    let mut document = json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
        "claims_supported": ["sub", "email", "email_verified", "name"]
    });
    if !state.lock().unwrap().hide_end_session {
        document["end_session_endpoint"] = json!(format!("{i}/end_session"));
    }
    Json(document)
}

#[handler]
fn jwks() -> Response {
    Response::builder()
        .content_type("application/json")
        .body(include_str!("../keys/jwks.json"))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

fn bad(text: &str) -> Response {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .body(text.to_string())
}

fn random() -> String {
    let bytes: [u8; 24] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs the next person in at once (no login form) and sends the browser back with a code and the state.
#[handler]
fn authorize(state: Data<&Arc<Mutex<State>>>, q: Query<AuthorizeQuery>) -> Response {
    let mut s = state.lock().unwrap();
    if q.response_type.as_deref() != Some("code") {
        return bad("response_type must be code");
    }
    if q.client_id.as_deref() != Some(CLIENT_ID) {
        return bad("unknown client_id");
    }
    let Some(redirect_uri) = q
        .redirect_uri
        .clone()
        .filter(|r| Some(r) == s.redirect_uri.as_ref())
    else {
        return bad("redirect_uri is not registered for this client");
    };
    if !q
        .scope
        .as_deref()
        .is_some_and(|sc| sc.split(' ').any(|x| x == "openid"))
    {
        return bad("scope must include openid");
    }
    if q.code_challenge_method.as_deref() != Some("S256") || q.code_challenge.is_none() {
        return bad("PKCE with S256 is required");
    }
    let (Some(st), Some(nonce)) = (q.state.clone(), q.nonce.clone()) else {
        return bad("state and nonce are required");
    };
    let code = random();
    let grant = Grant {
        redirect_uri: redirect_uri.clone(),
        nonce,
        challenge: q.code_challenge.clone().unwrap(),
        claims: s.next.clone(),
        bend: s.bend.clone(),
        used: false,
    };
    s.codes.insert(code.clone(), grant);
    let mut url = reqwest::Url::parse(&redirect_uri).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &st);
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", url.to_string())
        .finish()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

fn token_error(status: StatusCode, error: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(json!({"error": error}).to_string())
}

/// `client_secret_basic`: the form-urlencoded id and secret, joined by `:`, in base64.
fn client_authenticated(req: &Request) -> bool {
    let Some(value) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value) else {
        return false;
    };
    let text = String::from_utf8(decoded).unwrap_or_default();
    let Some((id, secret)) = text.split_once(':') else {
        return false;
    };
    let id: String = form_urlencoded_decode(id);
    let secret: String = form_urlencoded_decode(secret);
    id == CLIENT_ID && secret == CLIENT_SECRET
}

fn form_urlencoded_decode(s: &str) -> String {
    reqwest::Url::parse(&format!("http://x/?v={s}"))
        .unwrap()
        .query_pairs()
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[handler]
fn token(
    req: &Request,
    state: Data<&Arc<Mutex<State>>>,
    issuer: Data<&Issuer>,
    form: Form<TokenForm>,
) -> Response {
    if !client_authenticated(req) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.grant_type.as_deref() != Some("authorization_code") {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let mut s = state.lock().unwrap();
    let Some(grant) = form.code.as_deref().and_then(|c| s.codes.get_mut(c)) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    // A code is good once (RFC 6749 4.1.2).
    if grant.used {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    grant.used = true;
    if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let verifier = form.code_verifier.clone().unwrap_or_default();
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if computed != grant.challenge {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = grant.claims.clone();
    claims.insert("iss".into(), json!(issuer.0.0));
    claims.insert(
        "aud".into(),
        json!(grant.bend.audience.clone().unwrap_or(CLIENT_ID.to_string())),
    );
    claims.insert(
        "exp".into(),
        json!(now + grant.bend.expires_in.unwrap_or(300)),
    );
    claims.insert("iat".into(), json!(now - 5));
    claims.insert(
        "nonce".into(),
        json!(grant.bend.nonce.clone().unwrap_or(grant.nonce.clone())),
    );
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.to_string());
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("../keys/rsa-private.pem")).unwrap();
    let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    s.tokens_issued += 1;
    s.id_tokens.push(id_token.clone());
    Response::builder()
        .content_type("application/json")
        .header("cache-control", "no-store")
        .body(
            json!({
                "access_token": random(),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token
            })
            .to_string(),
        )
}

#[derive(Deserialize)]
struct EndSessionQuery {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

/// RP-Initiated Logout: the hint must be an ID token this provider signed for the client (an expired one is
/// still a good hint), `client_id` when sent must be its audience, and the browser goes back only to the
/// registered URI, with the `state` added.
#[handler]
fn end_session(
    state: Data<&Arc<Mutex<State>>>,
    issuer: Data<&Issuer>,
    q: Query<EndSessionQuery>,
) -> Response {
    let mut s = state.lock().unwrap();
    if s.hide_end_session {
        return Response::builder().status(StatusCode::NOT_FOUND).finish();
    }
    let Some(hint) = q.id_token_hint.clone() else {
        return bad("id_token_hint is required");
    };
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(include_bytes!("../keys/rsa-public.pem")).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[&issuer.0.0]);
    let Ok(verified) = jsonwebtoken::decode::<Map<String, Value>>(&hint, &key, &validation) else {
        return bad("id_token_hint is not an ID token of this provider for this client");
    };
    if q.client_id.as_deref().is_some_and(|c| c != CLIENT_ID) {
        return bad("client_id is not the ID token's audience");
    }
    let Some(uri) = q
        .post_logout_redirect_uri
        .clone()
        .filter(|u| Some(u) == s.post_logout_redirect_uri.as_ref())
    else {
        return bad("post_logout_redirect_uri is not registered for this client");
    };
    s.sessions_ended.push(EndSession {
        id_token_hint: hint,
        subject: verified.claims["sub"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        client_id: q.client_id.clone(),
        post_logout_redirect_uri: uri.clone(),
        state: q.state.clone(),
    });
    let mut url = reqwest::Url::parse(&uri).unwrap();
    if let Some(st) = &q.state {
        url.query_pairs_mut().append_pair("state", st);
    }
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", url.to_string())
        .finish()
}
