use procurement_review::auth::Role;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;

/// `procurement-review audit verify ARGS` against the test's database: exit code, stdout, stderr.
fn cli_verify(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_procurement-review"))
        .args(["audit", "verify"])
        .args(args)
        .env("PROCUREMENT_REVIEW_DATABASE_URL", &app.database_url)
        .env(
            "PROCUREMENT_REVIEW_AUTH_HS256_SECRET",
            crate::helpers::TEST_SECRET,
        )
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Creates a vendor and returns the sequence number of the audit record of its creation.
async fn vendor_created(app: &TestApp, name: &str) -> i64 {
    let id = app.create_vendor(name).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.count(&format!(
        "SELECT seq FROM audit_log WHERE action = 'vendor.created' AND object_id = '{id}'"
    ))
    .await
}

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

        let (code, stdout, stderr) = cli_verify(&app, &[]);
        assert_eq!(code, Some(1), "{stdout} {stderr}");
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

both!(
    async fn tampering_before_the_checkpoint_is_left_to_the_full_verification_and_the_endpoint_says_so(backend) {
        let app = TestApp::spawn(backend).await;
        let auditor = app.token(Role::Auditor);
        let early = vendor_created(&app, "Early Corp").await;
        app.create_vendor("Then Corp").await;
        let first = app.get("/api/v1/audit/verify", &auditor).await.ok(200).clone();
        assert_eq!((first["ok"].clone(), first["scope"].clone()), (json!(true), json!("incremental")));
        assert!(first.get("resumed_from").is_none(), "the first verification reads from the start: {first}");
        assert_eq!(first["checkpoint"]["number"], 1);
        assert_eq!(first["checkpoint"]["verified_seq"], first["head_seq"]);
        app.create_vendor("Later Corp").await;

        assert!(early < first["head_seq"].as_i64().unwrap());
        app.exec_sql(&format!("UPDATE audit_log SET actor = 'mallory' WHERE seq = {early}")).await;

        let second = app.get("/api/v1/audit/verify", &auditor).await.ok(200).clone();
        assert_eq!(second["ok"], true, "the endpoint does not read records before its checkpoint: {second}");
        assert_eq!(second["resumed_from"]["number"], 1);
        assert_eq!(second["from_seq"], first["head_seq"]);
        assert_eq!(second["records"], second["head_seq"].as_i64().unwrap() - first["head_seq"].as_i64().unwrap() + 1);
        assert!(second.get("last_full_verification").is_none(), "{second}");
        let summary = second["summary"].as_str().unwrap();
        assert!(summary.contains("verified incrementally") && summary.contains("never verified in full"), "{summary}");

        let (code, stdout, _) = cli_verify(&app, &[]);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.contains(&format!("seq {early}:")) && stdout.contains("altered"), "{stdout}");
        app.stop().await;
    }
);

both!(
    async fn tampering_after_the_checkpoint_is_caught_by_the_endpoint_which_then_keeps_its_checkpoint(backend) {
        let app = TestApp::spawn(backend).await;
        let auditor = app.token(Role::Auditor);
        app.create_vendor("Before").await;
        let first = app.get("/api/v1/audit/verify", &auditor).await.ok(200).clone();
        let edited = vendor_created(&app, "Edited").await;
        let removed = vendor_created(&app, "Removed").await;
        app.create_vendor("Kept").await;
        app.exec_sql(&format!("UPDATE audit_log SET after = NULL WHERE seq = {edited}")).await;
        app.exec_sql(&format!("DELETE FROM audit_log WHERE seq = {removed}")).await;
        let head = app.count("SELECT last_seq FROM audit_head").await;
        app.exec_sql(&format!(
            "INSERT INTO audit_log (seq, at, actor, role, action, object_type, object_id, prev_hash, hash) \
             SELECT seq + 1, at, actor, role, action, object_type, object_id, hash, hash FROM audit_log WHERE seq = {head}"
        ))
        .await;

        let report = app.get("/api/v1/audit/verify", &auditor).await.ok(200).clone();
        assert_eq!(report["ok"], false, "{report}");
        let faults: Vec<(i64, String)> = report["faults"].as_array().unwrap().iter()
            .map(|f| (f["seq"].as_i64().unwrap(), f["problem"].as_str().unwrap().to_string())).collect();
        assert!(faults.iter().any(|(s, p)| *s == edited && p.contains("altered")), "{faults:?}");
        assert!(faults.iter().any(|(s, p)| *s == removed && p.contains("missing")), "{faults:?}");
        assert!(faults.iter().any(|(s, p)| *s == head + 1 && p.contains("added outside the chain")), "{faults:?}");
        assert!(report["summary"].as_str().unwrap().contains("BROKEN"), "{report}");
        assert_eq!(report["checkpoint"], first["checkpoint"], "a broken chain does not advance the checkpoint");

        // Editing the very record the checkpoint names is caught too.
        let named = first["checkpoint"]["verified_seq"].as_i64().unwrap();
        app.exec_sql(&format!("UPDATE audit_log SET actor = 'mallory' WHERE seq = {named}")).await;
        let report = app.get("/api/v1/audit/verify", &auditor).await.ok(200).clone();
        assert!(report["faults"].as_array().unwrap().iter().any(|f| f["seq"] == named), "{report}");
        app.stop().await;
    }
);

both!(
    async fn a_chain_rewritten_with_fresh_hashes_is_caught_by_the_checkpoints(backend) {
        use procurement_review::domain::PageRequest;
        use procurement_review::domain::audit::chain_hash;
        use procurement_review::store::AuditFilter;

        let app = TestApp::spawn(backend).await;
        let auditor = app.token(Role::Auditor);
        let target = vendor_created(&app, "Rewritten").await;
        app.create_vendor("After It").await;
        app.get("/api/v1/audit/verify", &auditor).await.ok(200);

        // An attacker with write access edits a record and recomputes every hash after it, and the head.
        let page = PageRequest { limit: 200, offset: 0 };
        let mut records = app.store.list_audit(&AuditFilter::default(), page, None).await.unwrap().0.items;
        let mut prev = String::new();
        for r in records.iter_mut().filter(|r| r.seq >= target) {
            if r.seq == target {
                r.actor = "mallory".into();
            } else {
                r.prev_hash = prev.clone();
            }
            r.hash = chain_hash(r.seq, &r.prev_hash, &r.entry());
            prev = r.hash.clone();
            app.exec_sql(&format!(
                "UPDATE audit_log SET actor = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
                r.actor, r.prev_hash, r.hash, r.seq
            ))
            .await;
        }
        app.exec_sql(&format!("UPDATE audit_head SET last_hash = '{prev}'")).await;

        let (code, stdout, _) = cli_verify(&app, &[]);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.contains("no longer has the hash checkpoint 1 verified"), "{stdout}");
        app.stop().await;
    }
);

both!(
    async fn the_full_verification_shows_progress_writes_a_full_checkpoint_and_checks_anchors(backend) {
        let app = TestApp::spawn(backend).await;
        let auditor = app.token(Role::Auditor);
        app.create_vendor("Anchored").await;
        let (code, stdout, stderr) = cli_verify(&app, &[]);
        assert_eq!(code, Some(0), "{stdout} {stderr}");
        assert!(stderr.contains("(100.0%)") && stderr.contains("records/s"), "{stderr}");
        assert!(stdout.contains("records/s") && stdout.contains("audit chain intact"), "{stdout}");
        let anchor = stdout
            .split('`')
            .nth(1)
            .unwrap_or_else(|| panic!("no anchor printed: {stdout}"))
            .to_string();
        assert!(anchor.starts_with("1:"), "{anchor}");

        let report = app.get("/api/v1/audit/verify", &auditor).await.ok(200).clone();
        assert_eq!(report["ok"], true);
        assert_eq!(report["last_full_verification"]["verified_seq"], report["head_seq"], "{report}");
        assert_eq!(report["checkpoint"]["scope"], "full");
        assert_eq!(report["records"], 1, "only the record the checkpoint names: {report}");
        assert!(report["summary"].as_str().unwrap().contains("last verified in full"), "{report}");

        app.create_vendor("Later").await;
        let (code, stdout, _) = cli_verify(&app, &["--anchor", &anchor]);
        assert_eq!(code, Some(0), "{stdout}");
        let wrong = format!("1:{}", "0".repeat(64));
        let (code, stdout, _) = cli_verify(&app, &["--anchor", &wrong]);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.contains("anchor: checkpoint 1 has hash"), "{stdout}");
        app.stop().await;
    }
);
