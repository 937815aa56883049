use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both;
use crate::helpers::TestApp;

both!(
    async fn malformed_json_is_a_400_problem(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let resp = app
            .client
            .post(format!("{}/api/v1/vendors", app.base))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(r#"{"legal_name": "#)
            .send()
            .await
            .unwrap();
        TestApp::read(resp).await.problem(400, "bad_body");
        app.stop().await;
    }
);

both!(
    async fn a_missing_or_mistyped_field_is_named(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let missing = app.post("/api/v1/vendors", &admin, json!({"hq_country": "US"})).await;
        missing.problem(422, "validation_failed");
        assert_eq!(missing.fields(), ["legal_name"]);
        let mistyped = app
            .post(
                "/api/v1/vendors",
                &admin,
                json!({"legal_name": "A", "hq_country": "US", "contacts": [{"name": "B", "email": {"at": 7}}]}),
            )
            .await;
        mistyped.problem(422, "validation_failed");
        assert_eq!(mistyped.fields(), ["contacts[0].email"]);
        assert_eq!(mistyped.body["detail"], "contacts[0].email: must be a string, not an object");
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_bad_path_parameter_is_named_by_its_real_name(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let resp = app.get("/api/v1/vendors/not-a-uuid", &admin).await;
        resp.problem(400, "bad_parameter");
        assert_eq!(resp.fields(), ["id"]);
        assert_eq!(resp.body["detail"], "id: not a UUID");
        let bad_query = app.get("/api/v1/vendors?limit=many", &admin).await;
        bad_query.problem(400, "bad_parameter");
        assert_eq!(bad_query.fields(), ["limit"]);
        assert_eq!(bad_query.body["detail"], "limit: must be a whole number");
        app.stop().await;
    }
);

both!(
    async fn unknown_routes_and_wrong_methods_are_problems_too(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        app.get("/api/v1/nothing-here", &admin).await.problem(404, "no_route");
        app.call(Method::DELETE, "/api/v1/me", Some(&admin), None, &[]).await.problem(405, "method_not_allowed");
        let text = app
            .client
            .post(format!("{}/api/v1/vendors", app.base))
            .bearer_auth(&admin)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        TestApp::read(text).await.problem(415, "unsupported_media_type");
        app.stop().await;
    }
);

both!(
    async fn a_body_over_the_limit_is_refused_by_its_declared_length(backend) {
        let app = TestApp::spawn_with(backend, |c| c.max_body_bytes = 1024).await;
        let admin = app.token(Role::Admin);
        let big = json!({"legal_name": "x".repeat(2000), "hq_country": "US"});
        let resp = app.post("/api/v1/vendors", &admin, big).await;
        resp.problem(413, "body_too_large");
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_chunked_body_without_a_length_is_cut_at_the_limit(backend) {
        let app = TestApp::spawn_with(backend, |c| c.max_body_bytes = 1024).await;
        let admin = app.token(Role::Admin);
        let payload = json!({"legal_name": "y".repeat(4000), "hq_country": "US"}).to_string();
        let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
        let mut request = format!(
            "POST /api/v1/vendors HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {admin}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        for chunk in payload.as_bytes().chunks(500) {
            request.push_str(&format!("{:x}\r\n{}\r\n", chunk.len(), String::from_utf8_lossy(chunk)));
        }
        request.push_str("0\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_database_failure_is_a_bland_500_with_a_request_id(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        app.exec_sql("ALTER TABLE vendors RENAME TO vendors_gone").await;
        let resp = app.get("/api/v1/vendors", &admin).await;
        let body = resp.problem(500, "internal_error");
        assert!(!resp.text.contains("vendors_gone"), "no internals leak: {}", resp.text);
        assert!(body["request_id"].is_string());
        app.stop().await;
    }
);
