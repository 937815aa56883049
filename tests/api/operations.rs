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
/// The binary, run with `args` in `dir` with no settings but the listener's and the job runner's.
fn binary(dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_procurement-review"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("PROCUREMENT_REVIEW_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("PROCUREMENT_REVIEW_CONFIG")
        .env("PROCUREMENT_REVIEW_JOBS_INTERVAL_SECONDS", "0");
    command
}

/// What the service writes to standard output (its log), read as it goes so that the pipe never fills; the text
/// comes back once the process has ended.
type Log = std::thread::JoinHandle<String>;

/// Starts `serve` in `dir` with `env` set, on a free port, and waits until it is ready.
async fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, u16, Log) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = binary(dir, &["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        out
    });
    let client = reqwest::Client::new();
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
            assert_eq!(r.status(), reqwest::StatusCode::OK);
            return (child, port, log);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    panic!("the service did not answer /readyz within 20 s");
}

/// With JSON logs at `procurement_review=debug,sqlx::query=debug`, each statement's line names the spans it ran in: the request, with
/// its id, and the store method that issued it.
#[tokio::test]
async fn a_statement_is_logged_inside_its_request_and_store_method() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port, log) = serve(
        dir.path(),
        &[
            ("PROCUREMENT_REVIEW_LOG_FORMAT", "json"),
            (
                "PROCUREMENT_REVIEW_LOG_LEVEL",
                "warn,procurement_review=debug,sqlx::query=debug",
            ),
        ],
    )
    .await;
    let token = binary(dir.path(), &["token", "--role", "admin", "--sub", "ops"])
        .output()
        .unwrap();
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    let listed = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/vendors"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), reqwest::StatusCode::OK);
    let _ = child.kill();
    let _ = child.wait();
    let out = log.join().unwrap();
    let traced = out
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| {
            let spans = line["spans"].as_array().cloned().unwrap_or_default();
            spans
                .iter()
                .any(|s| s["name"] == "request" && s["request_id"] == "trace-me-1")
                && spans.iter().any(|s| s["name"] == "list_vendors")
        });
    assert!(
        traced.is_some_and(|line| line["target"] == "sqlx::query"),
        "no statement logged inside request trace-me-1 and list_vendors:\n{out}"
    );
}

/// A log level that is not a filter stops the service at start, naming it.
#[test]
fn a_log_level_that_is_not_a_filter_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary(dir.path(), &["serve", "--listen", "127.0.0.1:0"])
        .env("PROCUREMENT_REVIEW_LOG_LEVEL", "loud=[")
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        message.contains("log_level \"loud=[\" is not a log filter"),
        "{message}"
    );
}

/// The release binary alone, copied anywhere, runs: the questionnaire templates are inside it, the embedded
/// database is made where it runs, and `token` there mints what the service accepts. Elsewhere, `token` says there
/// is no database instead of making one with a signing key the service does not know.
#[tokio::test]
async fn the_binary_runs_from_any_directory_with_the_default_settings() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let refused = binary(
        elsewhere.path(),
        &["token", "--role", "admin", "--sub", "ops"],
    )
    .output()
    .unwrap();
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "token with no database: {message}"
    );
    assert!(
        message.contains("there is no database at procurement-review.db"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing was created"
    );

    let (mut child, port, _log) = serve(dir.path(), &[]).await;
    let client = reqwest::Client::new();
    let minted = binary(dir.path(), &["token", "--role", "admin", "--sub", "ops"])
        .output()
        .unwrap();
    let token = String::from_utf8_lossy(&minted.stdout).trim().to_string();
    let questionnaires = client
        .get(format!("http://127.0.0.1:{port}/api/v1/questionnaires"))
        .bearer_auth(&token)
        .send()
        .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let questionnaires = questionnaires.unwrap();
    assert_eq!(questionnaires.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = questionnaires.json().await.unwrap();
    let mut ids: Vec<&str> = body
        .as_array()
        .unwrap_or_else(|| panic!("a list of templates: {body}"))
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "city-baseline",
            "cjis-addendum",
            "hipaa-addendum",
            "ma-201-cmr-17",
            "pci-addendum",
            "surveillance"
        ]
    );
    assert!(dir.path().join("procurement-review.db").exists());
}
