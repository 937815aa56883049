use procurement_review::auth::Role;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;

both!(
    async fn a_change_is_audited_with_actor_role_before_and_after(backend) {
        let app = TestApp::spawn(backend).await;
        let analyst = app.mint(Role::SecurityAnalyst, "sam".into(), None, None);
        let created = app.post("/api/v1/vendors", &analyst, json!({"legal_name": "Audit Me", "hq_country": "US"})).await;
        let id = created.ok(201)["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/vendors/{id}");
        app.patch(&path, &analyst, json!({"hq_country": "GB"}), Some("\"1\"")).await.ok(200);

        let auditor = app.token(Role::Auditor);
        let trail = app.get(&format!("/api/v1/audit?object_type=vendor&object_id={id}"), &auditor).await;
        let items = trail.ok(200)["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["action"], "vendor.created");
        assert!(items[0]["before"].is_null());
        assert_eq!(items[1]["action"], "vendor.updated");
        assert_eq!(items[1]["actor"], "sam");
        assert_eq!(items[1]["role"], "security_analyst");
        assert_eq!(items[1]["before"]["hq_country"], "US");
        assert_eq!(items[1]["after"]["hq_country"], "GB");
        assert_eq!(items[1]["prev_hash"], items[0]["hash"]);
        assert!(items[1]["request_id"].is_string());
        app.stop().await;
    }
);

both!(
    async fn a_failed_change_leaves_no_audit_record(backend) {
        let app = TestApp::spawn(backend).await;
        app.create_vendor("Once").await;
        let before = app.count("SELECT COUNT(*) FROM audit_log").await;
        let admin = app.token(Role::Admin);
        app.post("/api/v1/vendors", &admin, json!({"legal_name": "once", "hq_country": "US"})).await.problem(409, "duplicate_vendor");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, before);
        let head = app.count("SELECT last_seq FROM audit_head").await;
        assert_eq!(head, before, "the head did not move either");
        app.stop().await;
    }
);

both!(
    async fn only_auditors_and_admins_read_the_trail(backend) {
        let app = TestApp::spawn(backend).await;
        for role in [Role::Buyer, Role::Cio, Role::Finance, Role::SecurityAnalyst] {
            app.get("/api/v1/audit", &app.token(role)).await.problem(403, "forbidden");
        }
        app.get("/api/v1/audit", &app.token(Role::Admin)).await.ok(200);
        app.get("/api/v1/audit/verify", &app.token(Role::Auditor)).await.ok(200);
        app.stop().await;
    }
);

both!(
    async fn concurrent_changes_keep_one_unbroken_chain(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let client = app.client.clone();
            let url = format!("{}/api/v1/vendors", app.base);
            let token = admin.clone();
            tasks.push(tokio::spawn(async move {
                client.post(url).bearer_auth(token).json(&json!({"legal_name": format!("Parallel {i}"), "hq_country": "US"}))
                    .send().await.unwrap().status().as_u16()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 201);
        }
        let report = app.get("/api/v1/audit/verify", &admin).await;
        let body = report.ok(200);
        assert_eq!(body["ok"], true, "{body}");
        assert_eq!(body["records"], body["head_seq"]);
        app.stop().await;
    }
);

both!(
    async fn an_edited_record_fails_verification_by_api_and_cli_and_is_named(backend) {
        let app = TestApp::spawn(backend).await;
        app.create_vendor("Target Corp").await;
        let auditor = app.token(Role::Auditor);
        assert_eq!(app.get("/api/v1/audit/verify", &auditor).await.ok(200)["ok"], true);
        let seq = app.count("SELECT MAX(seq) FROM audit_log WHERE action = 'vendor.created'").await;
        app.exec_sql(&format!("UPDATE audit_log SET actor = 'mallory' WHERE seq = {seq}")).await;

        let report = app.get("/api/v1/audit/verify", &auditor).await;
        let body = report.ok(200);
        assert_eq!(body["ok"], false);
        assert_eq!(body["faults"][0]["seq"], seq);
        assert!(body["faults"][0]["problem"].as_str().unwrap().contains("altered"), "{body}");

        let out = std::process::Command::new(env!("CARGO_BIN_EXE_procurement-review"))
            .args(["audit", "verify"])
            .env("PROCUREMENT_REVIEW_DATABASE_URL", &app.database_url)
            .env("PROCUREMENT_REVIEW_AUTH_HS256_SECRET", crate::helpers::TEST_SECRET)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(&format!("seq {seq}:")), "{stdout}");
        app.stop().await;
    }
);

both!(
    async fn a_removed_record_fails_verification_and_is_named(backend) {
        let app = TestApp::spawn(backend).await;
        app.create_vendor("One").await;
        app.create_vendor("Two").await;
        app.create_vendor("Three").await;
        let seq = app.count("SELECT MIN(seq) FROM audit_log WHERE action = 'vendor.created'").await;
        app.exec_sql(&format!("DELETE FROM audit_log WHERE seq = {seq}")).await;
        let body = app.get("/api/v1/audit/verify", &app.token(Role::Admin)).await.ok(200).clone();
        assert_eq!(body["ok"], false);
        assert_eq!(body["faults"][0]["seq"], seq);
        assert!(body["faults"][0]["problem"].as_str().unwrap().contains("missing"), "{body}");
        app.stop().await;
    }
);
