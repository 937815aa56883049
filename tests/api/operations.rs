use procurement_review::auth::Role;

use crate::both;
use crate::helpers::TestApp;

both!(
    async fn health_and_readiness_answer(backend) {
        let app = TestApp::spawn(backend).await;
        let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let ready = TestApp::read(app.client.get(format!("{}/readyz", app.base)).send().await.unwrap()).await;
        let expected = match backend {
            crate::helpers::Backend::Sqlite => "sqlite",
            crate::helpers::Backend::Postgres => "postgres",
        };
        assert_eq!(ready.ok(200)["database"], expected);
        app.stop().await;
    }
);

both!(
    async fn every_response_carries_a_request_id_and_an_incoming_one_is_kept(backend) {
        let app = TestApp::spawn(backend).await;
        let generated = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
        let id = generated.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "a uuid: {id}");
        let kept = app
            .client
            .get(format!("{}/api/v1/me", app.base))
            .header("X-Request-Id", "trace-abc.123")
            .send()
            .await
            .unwrap();
        assert_eq!(kept.headers()["x-request-id"], "trace-abc.123");
        let problem: serde_json::Value = kept.json().await.unwrap();
        assert_eq!(problem["request_id"], "trace-abc.123");
        app.stop().await;
    }
);

both!(
    async fn metrics_count_requests_by_operation_and_status(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        app.get("/api/v1/me", &admin).await.ok(200);
        app.call(reqwest::Method::GET, "/api/v1/me", None, None, &[]).await.problem(401, "unauthorized");
        let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(text.contains(r#"http_requests_total{route="getMe",method="GET",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"http_requests_total{route="getMe",method="GET",status="401"} 1"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_count{route="getMe"} 2"#), "{text}");
        app.stop().await;
    }
);

both!(
    async fn the_docs_and_the_spec_are_served(backend) {
        let app = TestApp::spawn(backend).await;
        let docs = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
        assert_eq!(docs.status(), 200);
        assert!(docs.text().await.unwrap().contains("swagger"));
        let spec: serde_json::Value =
            app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
        assert!(spec["paths"]["/api/v1/vendors"]["post"]["operationId"] == "createVendor");
        let yaml = app.client.get(format!("{}/openapi.yaml", app.base)).send().await.unwrap();
        assert_eq!(yaml.status(), 200);
        app.stop().await;
    }
);

both!(
    async fn me_reports_what_the_token_says(backend) {
        let app = TestApp::spawn(backend).await;
        let token = app.buyer_token("BPD", "dana");
        let me = app.get("/api/v1/me", &token).await;
        let body = me.ok(200);
        assert_eq!(body["subject"], "dana");
        assert_eq!(body["roles"], serde_json::json!(["buyer"]));
        assert_eq!(body["department"], "BPD");
        app.stop().await;
    }
);
