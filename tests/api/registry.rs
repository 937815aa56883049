use procurement_review::auth::Role;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;

both!(
    async fn the_seven_ordinance_bodies_are_seeded_and_marked(backend) {
        let app = TestApp::spawn(backend).await;
        let analyst = app.token(Role::SecurityAnalyst);
        let resp = app.get("/api/v1/departments?surveillance_ordinance=true", &analyst).await;
        let body = resp.ok(200);
        let mut codes: Vec<&str> = body["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
        codes.sort();
        assert_eq!(codes, ["BHA", "BPD", "BPHC", "BPS", "MPS", "OEM", "PARKS-RANGERS"]);
        assert_eq!(body["page"]["total"], 7);
        app.stop().await;
    }
);

both!(
    async fn an_admin_creates_and_updates_a_department_with_etags(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let created = app.post("/api/v1/departments", &admin, json!({"code": "doit", "name": "Innovation and Technology"})).await;
        let body = created.ok(201).clone();
        assert_eq!(body["code"], "DOIT");
        assert_eq!(body["surveillance_ordinance"], false);
        assert_eq!(created.header("etag"), Some("\"1\""));
        let location = created.header("location").unwrap().to_string();
        assert_eq!(location, format!("/api/v1/departments/{}", body["id"].as_str().unwrap()));

        let duplicate = app.post("/api/v1/departments", &admin, json!({"code": "DOIT", "name": "Again"})).await;
        duplicate.problem(409, "duplicate_department");

        let updated = app.patch(&location, &admin, json!({"name": "Department of Innovation and Technology"}), Some("\"1\"")).await;
        assert_eq!(updated.ok(200)["version"], 2);
        assert_eq!(updated.header("etag"), Some("\"2\""));
        let stale = app.patch(&location, &admin, json!({"name": "Lost update"}), Some("\"1\"")).await;
        stale.problem(412, "stale_etag");
        let read = app.get(&location, &admin).await;
        assert_eq!(read.ok(200)["name"], "Department of Innovation and Technology");
        app.stop().await;
    }
);

both!(
    async fn only_admins_create_departments_and_bad_codes_are_named(backend) {
        let app = TestApp::spawn(backend).await;
        let buyer = app.token(Role::Buyer);
        app.post("/api/v1/departments", &buyer, json!({"code": "X1", "name": "X"})).await.problem(403, "forbidden");
        let admin = app.token(Role::Admin);
        let bad = app.post("/api/v1/departments", &admin, json!({"code": "no spaces", "name": " "})).await;
        bad.problem(422, "validation_failed");
        assert_eq!(bad.fields(), ["code", "name"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM departments").await, 7);
        app.stop().await;
    }
);

both!(
    async fn a_buyer_registers_a_vendor_and_every_bad_field_is_named(backend) {
        let app = TestApp::spawn(backend).await;
        let buyer = app.token(Role::Buyer);
        let bad = app
            .post(
                "/api/v1/vendors",
                &buyer,
                json!({"legal_name": "", "website": "acme", "hq_country": "USA",
                       "contacts": [{"name": "Pat", "email": "pat"}]}),
            )
            .await;
        bad.problem(422, "validation_failed");
        assert_eq!(bad.fields(), ["legal_name", "website", "hq_country", "contacts[0].email"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, 0);

        let created = app
            .post(
                "/api/v1/vendors",
                &buyer,
                json!({"legal_name": "Acme Signatures, Inc.", "website": "https://acme.example", "hq_country": "us",
                       "contacts": [{"name": "Pat Lee", "email": "pat@acme.example", "role": "security"}]}),
            )
            .await;
        let body = created.ok(201);
        assert_eq!(body["hq_country"], "US");
        assert_eq!(body["contacts"][0]["role"], "security");
        let twin = app.post("/api/v1/vendors", &buyer, json!({"legal_name": "ACME  Signatures, inc.", "hq_country": "US"})).await;
        twin.problem(409, "duplicate_vendor");
        app.stop().await;
    }
);

both!(
    async fn vendors_update_partially_and_clear_the_website_with_null(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Mapping Co").await;
        let path = format!("/api/v1/vendors/{}", vendor["id"].as_str().unwrap());
        let analyst = app.token(Role::SecurityAnalyst);
        let renamed = app.patch_with_etag(&path, &analyst, json!({"legal_name": "Mapping Company"})).await;
        assert_eq!(renamed.ok(200)["website"], "https://vendor.example", "a website left out is kept");
        let moved = app.patch_with_etag(&path, &analyst, json!({"website": "https://maps.example"})).await;
        assert_eq!(moved.ok(200)["website"], "https://maps.example");
        let updated = app.patch_with_etag(&path, &analyst, json!({"website": null, "hq_country": "CA"})).await;
        let body = updated.ok(200);
        assert_eq!(body["website"], serde_json::Value::Null);
        assert_eq!(body["hq_country"], "CA");
        assert_eq!(body["legal_name"], "Mapping Company");
        let finance = app.token(Role::Finance);
        app.patch(&path, &finance, json!({"hq_country": "US"}), Some("\"4\"")).await.problem(403, "forbidden");
        app.stop().await;
    }
);

both!(
    async fn a_vendor_sees_its_own_record_and_404_for_any_other(backend) {
        let app = TestApp::spawn(backend).await;
        let mine = app.create_vendor("Mine LLC").await;
        let theirs = app.create_vendor("Theirs LLC").await;
        let token = app.vendor_token(mine["id"].as_str().unwrap().parse().unwrap());
        let own = app.get(&format!("/api/v1/vendors/{}", mine["id"].as_str().unwrap()), &token).await;
        assert_eq!(own.ok(200)["legal_name"], "Mine LLC");
        let other = app.get(&format!("/api/v1/vendors/{}", theirs["id"].as_str().unwrap()), &token).await;
        other.problem(404, "not_found");
        let missing = app.get(&format!("/api/v1/vendors/{}", uuid::Uuid::new_v4()), &token).await;
        assert_eq!(other.body["detail"], missing.body["detail"], "indistinguishable from a missing vendor");
        app.get("/api/v1/vendors", &token).await.problem(403, "forbidden");
        app.stop().await;
    }
);

both!(
    async fn vendor_lists_paginate_and_filter(backend) {
        let app = TestApp::spawn(backend).await;
        for i in 0..7 {
            app.create_vendor(&format!("Vendor {i:02}")).await;
        }
        app.create_vendor("100% Cloud_Co").await;
        let auditor = app.token(Role::Auditor);
        let first = app.get("/api/v1/vendors?limit=3", &auditor).await;
        let body = first.ok(200);
        assert_eq!(body["items"].as_array().unwrap().len(), 3);
        assert_eq!(body["page"]["total"], 8);
        assert_eq!(body["page"]["next_offset"], 3);
        let last = app.get("/api/v1/vendors?limit=3&offset=6", &auditor).await;
        let body = last.ok(200);
        assert_eq!(body["items"].as_array().unwrap().len(), 2);
        assert!(body["page"]["next_offset"].is_null());
        let search = app.get("/api/v1/vendors?q=vendor%200", &auditor).await;
        assert_eq!(search.ok(200)["page"]["total"], 7);
        let wildcard = app.get("/api/v1/vendors?q=0%25%20c", &auditor).await;
        assert_eq!(wildcard.ok(200)["page"]["total"], 1, "% is matched literally");
        let too_many = app.get("/api/v1/vendors?limit=500", &auditor).await;
        too_many.problem(422, "validation_failed");
        assert_eq!(too_many.fields(), ["limit"]);
        app.stop().await;
    }
);
