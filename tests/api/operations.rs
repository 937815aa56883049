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

both!(
    async fn the_served_document_states_what_the_server_enforces(backend) {
        let app = TestApp::spawn(backend).await;
        let spec: serde_json::Value =
            app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
        let schemas = &spec["components"]["schemas"];
        let admin = app.token(Role::Admin);

        // A problem carries `errors` and `allowed` only when it has some: the document does not require them.
        let required: Vec<&str> =
            schemas["Problem"]["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(required, ["type", "title", "status", "code"]);
        let missing = app.get(&format!("/api/v1/vendors/{}", uuid::Uuid::new_v4()), &admin).await;
        let body = missing.problem(404, "not_found");
        assert!(body.get("errors").is_none() && body.get("allowed").is_none(), "{body}");

        // What comes back as null is nullable: the last page has no next offset.
        assert_eq!(schemas["PageInfo"]["properties"]["next_offset"]["nullable"], true);
        let page = app.get("/api/v1/departments?limit=200", &admin).await;
        assert!(page.ok(200)["page"]["next_offset"].is_null());

        // Page sizes: the bounds the server holds to are in the document, and the server keeps them.
        let list = &spec["paths"]["/api/v1/departments"]["get"]["parameters"];
        let parameter = |name: &str| {
            list.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["schema"].clone()
        };
        assert_eq!((parameter("limit")["minimum"].clone(), parameter("limit")["maximum"].clone()), (1.into(), 200.into()));
        assert_eq!(parameter("offset")["minimum"], 0);
        for refused in ["limit=0", "limit=201", "offset=-1"] {
            let answer = app.get(&format!("/api/v1/departments?{refused}"), &admin).await;
            let field = refused.split('=').next().unwrap();
            assert_eq!(answer.problem(422, "validation_failed")["errors"][0]["field"], field, "{refused}");
        }

        // The domain's own rules: a name must hold more than spaces, a code has its form.
        let department = &schemas["NewDepartmentBody"]["properties"];
        assert_eq!(department["name"]["minLength"], 1);
        assert_eq!(department["name"]["maxLength"], 200);
        let non_blank = regex::Regex::new(department["name"]["pattern"].as_str().unwrap()).unwrap();
        assert!(non_blank.is_match("Parks") && !non_blank.is_match("   "));
        let blank = app.post("/api/v1/departments", &admin, serde_json::json!({"code": "PKS", "name": "   "})).await;
        assert_eq!(blank.problem(422, "validation_failed")["errors"][0]["field"], "name");
        let code = regex::Regex::new(department["code"]["pattern"].as_str().unwrap()).unwrap();
        assert!(code.is_match("PKS") && code.is_match(" pks-2 ") && !code.is_match("-PKS") && !code.is_match("P"));

        // Dates are the standard `date`, which every client knows (poem-openapi calls it `naive-date`).
        let text = serde_json::to_string(&spec).unwrap();
        assert!(!text.contains("naive-date"));
        assert_eq!(schemas["RemediationInput"]["properties"]["due_date"]["format"], "date");

        // An empty If-Match is none at all: the document asks for at least one character, the server for
        // the header (428).
        let patch = &spec["paths"]["/api/v1/departments/{id}"]["patch"]["parameters"];
        let if_match = patch.as_array().unwrap().iter().find(|p| p["name"] == "If-Match").unwrap();
        assert_eq!((if_match["required"].clone(), if_match["schema"]["minLength"].clone()), (true.into(), 1.into()));
        let created = app.post("/api/v1/departments", &admin, serde_json::json!({"code": "PKS", "name": "Parks"})).await;
        let path = format!("/api/v1/departments/{}", created.ok(201)["id"].as_str().unwrap());
        let empty = app
            .call(reqwest::Method::PATCH, &path, Some(&admin), Some(&serde_json::json!({"name": "Parks"})), &[("If-Match", "")])
            .await;
        empty.problem(428, "precondition_required");
        app.stop().await;
    }
);

/// README's run command: the binary started from the checkout with nothing configured but a database (the
/// default questionnaire folder is `questionnaires`, relative to where it runs) gets ready and serves the API.
#[tokio::test]
async fn the_binary_serves_from_the_checkout_with_the_default_settings() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_procurement-review"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "PROCUREMENT_REVIEW_DATABASE_URL",
            format!("sqlite:{}", dir.path().join("run.db").display()),
        )
        .env("PROCUREMENT_REVIEW_JOBS_INTERVAL_SECONDS", "0")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = None;
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the service exited ({status}): {err}");
        }
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            ready = Some(r.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let questionnaires = client
        .get(format!("http://127.0.0.1:{port}/api/v1/questionnaires"))
        .send()
        .await
        .map(|r| r.status());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ready, Some(reqwest::StatusCode::OK));
    assert_eq!(
        questionnaires.unwrap(),
        reqwest::StatusCode::UNAUTHORIZED,
        "the API answers (a token is needed)"
    );
}
