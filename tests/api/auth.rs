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

/// A token signed with `alg` by one of the suite's private keys (`tests/keys`).
fn signed(alg: Algorithm, private: &str, claims: &Value, kid: Option<&str>) -> String {
    let pem = std::fs::read(keys_dir().join(private)).unwrap();
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn rs256(claims: &Value, kid: Option<&str>) -> String {
    signed(Algorithm::RS256, "rsa-private.pem", claims, kid)
}

fn es256(claims: &Value) -> String {
    signed(Algorithm::ES256, "ec-private.pem", claims, None)
}

async fn me(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.get("/api/v1/me", token).await
}

async fn idp_app(backend: Backend, key_file: &str, jwks: bool) -> TestApp {
    idp_app_at(backend, keys_dir().join(key_file), jwks).await
}

async fn idp_app_at(backend: Backend, path: std::path::PathBuf, jwks: bool) -> TestApp {
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
    async fn every_algorithm_readme_lists_works_with_a_pem_key_of_its_kind(backend) {
        let good = claims(IDP_ISSUER, "procurement-review", now() + 600, now());
        let rsa = idp_app(backend, "rsa-public.pem", false).await;
        for alg in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
            let resp = me(&rsa, &signed(alg, "rsa-private.pem", &good, None)).await;
            assert_eq!(resp.ok(200)["subject"], "pat", "{alg:?}");
        }
        me(&rsa, &signed(Algorithm::PS512, "rsa-private.pem", &good, None)).await.problem(401, "unauthorized");
        rsa.stop().await;
        // An EC key verifies the algorithm of its curve only.
        let p384 = idp_app(backend, "ec384-public.pem", false).await;
        me(&p384, &signed(Algorithm::ES384, "ec384-private.pem", &good, None)).await.ok(200);
        me(&p384, &es256(&good)).await.problem(401, "unauthorized");
        p384.stop().await;
        let p256 = idp_app(backend, "ec-public.pem", false).await;
        me(&p256, &signed(Algorithm::ES384, "ec384-private.pem", &good, None)).await.problem(401, "unauthorized");
        p256.stop().await;
    }
);

both!(
    async fn a_jwks_key_accepts_only_the_algorithm_it_is_marked_with(backend) {
        let good = claims(IDP_ISSUER, "procurement-review", now() + 600, now());
        // The suite's key three times: marked RS256 (as in jwks.json), marked PS256, and unmarked.
        let set: Value = serde_json::from_slice(&std::fs::read(keys_dir().join("jwks.json")).unwrap()).unwrap();
        let rs256_key = set["keys"][0].clone();
        let mut ps256_key = rs256_key.clone();
        ps256_key["alg"] = "PS256".into();
        ps256_key["kid"] = "pss".into();
        let mut unmarked = rs256_key.clone();
        unmarked.as_object_mut().unwrap().remove("alg");
        unmarked["kid"] = "unmarked".into();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, json!({"keys": [rs256_key, ps256_key, unmarked]}).to_string()).unwrap();
        let app = idp_app_at(backend, path, true).await;

        me(&app, &signed(Algorithm::RS256, "rsa-private.pem", &good, Some("test-rsa-1"))).await.ok(200);
        for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
            let resp = me(&app, &signed(alg, "rsa-private.pem", &good, Some("test-rsa-1"))).await;
            resp.problem(401, "unauthorized");
        }
        me(&app, &signed(Algorithm::PS256, "rsa-private.pem", &good, Some("pss"))).await.ok(200);
        me(&app, &signed(Algorithm::RS256, "rsa-private.pem", &good, Some("pss"))).await.problem(401, "unauthorized");
        // A key that names no algorithm accepts those of its kind that README lists.
        for alg in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
            me(&app, &signed(alg, "rsa-private.pem", &good, Some("unmarked"))).await.ok(200);
        }
        me(&app, &signed(Algorithm::PS512, "rsa-private.pem", &good, Some("unmarked"))).await.problem(401, "unauthorized");
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
