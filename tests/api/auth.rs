use jsonwebtoken::{Algorithm, EncodingKey, Header};
use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TEST_SECRET, TestApp, keys_dir};

const IDP_ISSUER: &str = "https://idp.city.example";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(iss: &str, aud: &str, exp: i64, nbf: i64) -> Value {
    json!({"sub": "pat", "roles": ["admin"], "iss": iss, "aud": aud, "iat": now(), "exp": exp, "nbf": nbf})
}

fn hs256(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn rs256(claims: &Value, kid: Option<&str>) -> String {
    let pem = std::fs::read(keys_dir().join("rsa-private.pem")).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

fn es256(claims: &Value) -> String {
    let pem = std::fs::read(keys_dir().join("ec-private.pem")).unwrap();
    jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        claims,
        &EncodingKey::from_ec_pem(&pem).unwrap(),
    )
    .unwrap()
}

async fn me(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.get("/api/v1/me", token).await
}

async fn idp_app(backend: Backend, key_file: &str, jwks: bool) -> TestApp {
    let path = keys_dir().join(key_file);
    TestApp::spawn_with(backend, move |c| {
        if jwks {
            c.auth.jwks_file = Some(path);
        } else {
            c.auth.jwt_public_key_file = Some(path);
        }
        c.auth.issuer = IDP_ISSUER.into();
        c.auth.audience = "procurement-review".into();
    })
    .await
}

both!(
    async fn a_missing_or_malformed_authorization_header_is_a_401_problem(backend) {
        let app = TestApp::spawn(backend).await;
        let none = app.call(Method::GET, "/api/v1/me", None, None, &[]).await;
        none.problem(401, "unauthorized");
        let basic = app.call(Method::GET, "/api/v1/me", None, None, &[("Authorization", "Basic YTpi")]).await;
        basic.problem(401, "unauthorized");
        let garbage = me(&app, "not.a.jwt").await;
        garbage.problem(401, "unauthorized");
        app.stop().await;
    }
);

both!(
    async fn expired_and_not_yet_valid_tokens_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let expired = hs256(&claims("procurement-review", "procurement-review", now() - 3600, now() - 7200), TEST_SECRET);
        let body = me(&app, &expired).await.problem(401, "unauthorized").clone();
        assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
        let early = hs256(&claims("procurement-review", "procurement-review", now() + 7200, now() + 3600), TEST_SECRET);
        let body = me(&app, &early).await.problem(401, "unauthorized").clone();
        assert!(body["detail"].as_str().unwrap().contains("not valid yet"), "{body}");
        app.stop().await;
    }
);

both!(
    async fn a_wrong_signature_and_alg_none_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let forged = hs256(&claims("procurement-review", "procurement-review", now() + 600, now()), "another-secret");
        me(&app, &forged).await.problem(401, "unauthorized");
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64.encode(claims("procurement-review", "procurement-review", now() + 600, now()).to_string());
        me(&app, &format!("{header}.{payload}.")).await.problem(401, "unauthorized");
        app.stop().await;
    }
);

both!(
    async fn issuer_and_audience_are_checked(backend) {
        let app = TestApp::spawn(backend).await;
        let wrong_iss = hs256(&claims("someone-else", "procurement-review", now() + 600, now()), TEST_SECRET);
        me(&app, &wrong_iss).await.problem(401, "unauthorized");
        let wrong_aud = hs256(&claims("procurement-review", "another-app", now() + 600, now()), TEST_SECRET);
        me(&app, &wrong_aud).await.problem(401, "unauthorized");
        let right = hs256(&claims("procurement-review", "procurement-review", now() + 600, now()), TEST_SECRET);
        me(&app, &right).await.ok(200);
        app.stop().await;
    }
);

both!(
    async fn rs256_tokens_verify_with_a_pem_key_and_hs256_is_then_refused(backend) {
        let app = idp_app(backend, "rsa-public.pem", false).await;
        let good = rs256(&claims(IDP_ISSUER, "procurement-review", now() + 600, now()), None);
        assert_eq!(me(&app, &good).await.ok(200)["subject"], "pat");
        // The classic confusion attack: an HS256 token, even one signed with the public key's bytes.
        let public_pem = std::fs::read_to_string(keys_dir().join("rsa-public.pem")).unwrap();
        let confused = hs256(&claims(IDP_ISSUER, "procurement-review", now() + 600, now()), &public_pem);
        me(&app, &confused).await.problem(401, "unauthorized");
        let local = hs256(&claims(IDP_ISSUER, "procurement-review", now() + 600, now()), TEST_SECRET);
        me(&app, &local).await.problem(401, "unauthorized");
        let wrong_iss = rs256(&claims("https://evil.example", "procurement-review", now() + 600, now()), None);
        me(&app, &wrong_iss).await.problem(401, "unauthorized");
        app.stop().await;
    }
);

both!(
    async fn rs256_tokens_verify_with_a_jwks_file_by_kid(backend) {
        let app = idp_app(backend, "jwks.json", true).await;
        let good = rs256(&claims(IDP_ISSUER, "procurement-review", now() + 600, now()), Some("test-rsa-1"));
        me(&app, &good).await.ok(200);
        let unknown_kid = rs256(&claims(IDP_ISSUER, "procurement-review", now() + 600, now()), Some("rotated-away"));
        me(&app, &unknown_kid).await.problem(401, "unauthorized");
        app.stop().await;
    }
);

both!(
    async fn es256_tokens_verify_with_an_ec_pem_key(backend) {
        let app = idp_app(backend, "ec-public.pem", false).await;
        let good = es256(&claims(IDP_ISSUER, "procurement-review", now() + 600, now()));
        me(&app, &good).await.ok(200);
        app.stop().await;
    }
);

both!(
    async fn the_role_claim_name_is_configurable(backend) {
        let app = TestApp::spawn_with(backend, |c| c.auth.role_claim = "realm_access.roles".into()).await;
        let token = hs256(
            &json!({"sub": "kim", "realm_access": {"roles": ["auditor"]}, "iss": "procurement-review",
                    "aud": "procurement-review", "exp": now() + 600}),
            TEST_SECRET,
        );
        assert_eq!(me(&app, &token).await.ok(200)["roles"], json!(["auditor"]));
        app.stop().await;
    }
);

both!(
    async fn a_role_that_may_not_act_gets_403_and_nothing_changes(backend) {
        let app = TestApp::spawn(backend).await;
        let auditor = app.token(Role::Auditor);
        let resp = app.post("/api/v1/vendors", &auditor, json!({"legal_name": "X", "hq_country": "US"})).await;
        resp.problem(403, "forbidden");
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, 0);
        let vendor = app.vendor_token(uuid::Uuid::new_v4());
        app.get("/api/v1/departments", &vendor).await.problem(403, "forbidden");
        let no_role = hs256(
            &json!({"sub": "x", "roles": ["janitor"], "iss": "procurement-review", "aud": "procurement-review",
                    "exp": now() + 600}),
            TEST_SECRET,
        );
        me(&app, &no_role).await.problem(403, "forbidden");
        app.stop().await;
    }
);
