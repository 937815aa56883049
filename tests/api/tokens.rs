//! Identity-provider tokens: the algorithms README lists work with a PEM key, and a JWKS key accepts only the
//! algorithm it is marked with.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp, keys_dir};

const IDP_ISSUER: &str = "https://idp.city.example";

fn token(alg: Algorithm, private: &str, kid: Option<&str>) -> String {
    let pem = std::fs::read(keys_dir().join(private)).unwrap();
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": "pat", "roles": ["auditor"], "iss": IDP_ISSUER, "aud": "procurement-review",
                        "iat": now, "exp": now + 600});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
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
    })
    .await
}

both!(
    async fn every_algorithm_readme_lists_works_with_a_pem_key_of_its_kind(backend) {
        let rsa = idp_app(backend, "rsa-public.pem", false).await;
        for alg in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
            let resp = rsa.get("/api/v1/me", &token(alg, "rsa-private.pem", None)).await;
            assert_eq!(resp.ok(200)["subject"], "pat", "{alg:?}");
        }
        rsa.get("/api/v1/me", &token(Algorithm::PS512, "rsa-private.pem", None)).await.problem(401, "unauthorized");
        rsa.stop().await;
        let p384 = idp_app(backend, "ec384-public.pem", false).await;
        p384.get("/api/v1/me", &token(Algorithm::ES384, "ec384-private.pem", None)).await.ok(200);
        p384.get("/api/v1/me", &token(Algorithm::ES256, "ec-private.pem", None)).await.problem(401, "unauthorized");
        p384.stop().await;
    }
);

both!(
    async fn a_jwks_key_marked_rs256_refuses_a_token_signed_otherwise(backend) {
        let app = idp_app(backend, "jwks.json", true).await;
        let kid = Some("test-rsa-1");
        app.get("/api/v1/me", &token(Algorithm::RS256, "rsa-private.pem", kid)).await.ok(200);
        for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
            let resp = app.get("/api/v1/me", &token(alg, "rsa-private.pem", kid)).await;
            resp.problem(401, "unauthorized");
        }
        app.stop().await;
    }
);
