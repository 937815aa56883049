//! Strict input: unknown fields, JSON types, values that do not parse and control characters are refused
//! by name, and nothing is stored.

use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};
use crate::requests::{body, with};

/// A complete draft that the service accepts as it is.
fn request_body(vendor: &Value) -> Value {
    body(vendor, 1_000_000)
}

/// A buyer of department DOIT, and a registered vendor.
async fn buyer_and_vendor(app: &TestApp) -> (String, Value) {
    app.department("DOIT").await;
    (
        app.buyer_token("DOIT", "bea"),
        app.create_vendor("Acme").await,
    )
}

/// The one error of a validation problem, as `field: message`.
#[track_caller]
fn only_error(resp: &Resp) -> String {
    let body = resp.problem(422, "validation_failed");
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", resp.text);
    format!(
        "{}: {}",
        errors[0]["field"].as_str().unwrap(),
        errors[0]["message"].as_str().unwrap()
    )
}

async fn requests_stored(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM requests").await
}

both!(
    async fn a_misspelt_field_is_refused_naming_the_field_it_meant_and_nothing_is_stored(backend) {
        let app = TestApp::spawn(backend).await;
        let (buyer, vendor) = buyer_and_vendor(&app).await;
        let mut misspelt = request_body(&vendor);
        misspelt.as_object_mut().unwrap().remove("face_surveillance");
        misspelt["face_surveilance"] = json!(true);
        let resp = app.post("/api/v1/requests", &buyer, misspelt).await;
        let errors = resp.problem(422, "validation_failed")["errors"].as_array().unwrap();
        let expected = json!({"field": "face_surveilance", "message": "unknown field; did you mean face_surveillance?"});
        assert!(errors.contains(&expected), "{}", resp.text);
        assert_eq!(requests_stored(&app).await, 0);
        // A field like no other is refused without a guess.
        let odd = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), json!({"colour": "red"}))).await;
        assert_eq!(only_error(&odd), "colour: unknown field");
        assert_eq!(requests_stored(&app).await, 0);
        // The same body, spelt right, is a draft.
        app.post("/api/v1/requests", &buyer, request_body(&vendor)).await.ok(201);
        assert_eq!(requests_stored(&app).await, 1);
        app.stop().await;
    }
);

both!(
    async fn an_unknown_field_inside_a_list_is_named_by_its_path(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let vendor = json!({"legal_name": "Acme", "hq_country": "US",
                            "contacts": [{"name": "Sam", "email": "sam@acme.example"}, {"name": "Ida", "emial": "ida@acme.example"}]});
        let resp = app.post("/api/v1/vendors", &admin, vendor).await;
        assert_eq!(
            resp.problem(422, "validation_failed")["errors"],
            json!([
                {"field": "contacts[1].emial", "message": "unknown field; did you mean email?"},
                {"field": "contacts[1].email", "message": "is required"}
            ])
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, 0);

        let vendor_token = app.vendor_token(uuid::Uuid::new_v4());
        let answers = json!({"answers": [
            {"question_id": "q1", "value": "yes"},
            {"question_id": "q2", "value": "no", "comment": "Planned"},
            {"question_id": "q3", "value": "yes", "coment": "typo"}
        ]});
        let resp = app
            .put(&format!("/api/v1/assessments/{}/answers", uuid::Uuid::new_v4()), &vendor_token, answers, Some("\"1\""))
            .await;
        assert_eq!(only_error(&resp), "answers[2].coment: unknown field; did you mean comment?");
        app.stop().await;
    }
);

both!(
    async fn a_number_sent_for_a_text_is_refused_and_the_name_stays_as_it_was(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let listed = app.get("/api/v1/departments?limit=1", &admin).await;
        let department = listed.ok(200)["items"][0].clone();
        let path = format!("/api/v1/departments/{}", department["id"].as_str().unwrap());
        let etag = app.get(&path, &admin).await.header("etag").unwrap().to_string();

        let resp = app.patch(&path, &admin, json!({"name": 0}), Some(&etag)).await;
        assert_eq!(only_error(&resp), "name: must be a string, not a number");
        let resp = app.patch(&path, &admin, json!({"surveillance_ordinance": "true"}), Some(&etag)).await;
        assert_eq!(only_error(&resp), "surveillance_ordinance: must be true or false, not a string");

        let after = app.get(&path, &admin).await;
        assert_eq!(after.ok(200)["name"], department["name"]);
        assert_eq!(after.body["surveillance_ordinance"], department["surveillance_ordinance"]);
        assert_eq!(after.header("etag"), Some(etag.as_str()));
        app.stop().await;
    }
);

both!(
    async fn a_value_that_does_not_parse_is_named_by_its_field(backend) {
        let app = TestApp::spawn(backend).await;
        let (buyer, vendor) = buyer_and_vendor(&app).await;
        for (change, expected) in [
            (json!({"vendor_id": "acme"}), "vendor_id: not a UUID"),
            (json!({"requested_start_date": "2027-02-30"}), "requested_start_date: 2027-02-30 is not a date"),
            (json!({"requested_start_date": "1/9/2026"}), "requested_start_date: 1/9/2026 is not a date; write it as YYYY-MM-DD"),
            (json!({"capital_cost_cents": 1e19}), "capital_cost_cents: out of range"),
            (json!({"expected_users": 12.5}), "expected_users: must be a whole number, not 12.5"),
            (json!({"term_months": "12"}), "term_months: must be a whole number, not a string"),
            (json!({"capabilities": "signatures"}), "capabilities: must be a list, not a string"),
        ] {
            let resp = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), change)).await;
            assert_eq!(only_error(&resp), expected);
        }
        assert_eq!(requests_stored(&app).await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_parameter_that_does_not_parse_is_named_with_a_clear_message(backend) {
        let app = TestApp::spawn(backend).await;
        let analyst = app.token(Role::SecurityAnalyst);
        let resp = app.get("/api/v1/assessments?vendor_id=acme", &analyst).await;
        resp.problem(400, "bad_parameter");
        assert_eq!(resp.body["detail"], "vendor_id: not a UUID");
        assert_eq!(resp.body["errors"], json!([{"field": "vendor_id", "message": "not a UUID"}]));
        let resp = app.get("/api/v1/vendors/acme", &analyst).await;
        resp.problem(400, "bad_parameter");
        assert_eq!(resp.body["detail"], "id: not a UUID");
        let resp = app.get("/api/v1/assessments?status=done", &analyst).await;
        resp.problem(400, "bad_parameter");
        assert_eq!(resp.fields(), ["status"]);
        assert!(resp.body["detail"].as_str().unwrap().starts_with("status: must be one of "), "{}", resp.text);
        let resp = app.get("/api/v1/assessments?limit=1e19", &analyst).await;
        assert_eq!(resp.problem(400, "bad_parameter")["detail"], "limit: out of range");
        app.stop().await;
    }
);

both!(
    async fn a_nul_in_a_text_field_or_a_search_is_refused_alike_on_both_backends(backend) {
        let app = TestApp::spawn(backend).await;
        let (buyer, vendor) = buyer_and_vendor(&app).await;
        let resp = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), json!({"title": "Sign\u{0}It"}))).await;
        assert_eq!(only_error(&resp), "title: must be one line without control characters; character 5 is U+0000 (NUL)");
        let resp = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), json!({"description": "a\u{0}"}))).await;
        assert_eq!(
            only_error(&resp),
            "description: may hold tabs and line breaks but no other control character; character 2 is U+0000 (NUL)"
        );
        let resp = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), json!({"capabilities": ["ok", "e\u{1b}[31m"]}))).await;
        assert_eq!(only_error(&resp), "capabilities[1]: must be one line without control characters; character 2 is U+001B (escape)");
        assert_eq!(requests_stored(&app).await, 0);

        // Every role can search, a vendor too.
        for token in [buyer.clone(), app.vendor_token(uuid::Uuid::parse_str(vendor["id"].as_str().unwrap()).unwrap())] {
            let resp = app.get("/api/v1/requests?q=a%00b", &token).await;
            assert_eq!(only_error(&resp), "q: must be one line without control characters; character 2 is U+0000 (NUL)");
        }
        let resp = app.get("/api/v1/vendors?q=acme&hq_country=U%0AS", &buyer).await;
        assert_eq!(only_error(&resp), "hq_country: must be one line without control characters; character 2 is U+000A (a line break)");
        let resp = app.get(&format!("/api/v1/requests?q={}", "x".repeat(1001)), &buyer).await;
        assert_eq!(only_error(&resp), "q: must be at most 1000 characters; it has 1001");
        app.stop().await;
    }
);

both!(
    async fn tabs_and_line_breaks_are_kept_in_prose_and_refused_in_a_one_line_field(backend) {
        let app = TestApp::spawn(backend).await;
        let (buyer, vendor) = buyer_and_vendor(&app).await;
        let prose = "Replaces paper permits:\r\n\t- signatures\n\t- audit trail";
        let created = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), json!({"description": prose}))).await;
        let id = created.ok(201)["id"].as_str().unwrap().to_string();
        let read = app.get(&format!("/api/v1/requests/{id}"), &buyer).await;
        assert_eq!(read.ok(200)["fields"]["description"], prose, "{}", read.text);

        let resp = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), json!({"title": "Permit\te-signature"}))).await;
        assert_eq!(only_error(&resp), "title: must be one line without control characters; character 7 is U+0009 (a tab)");
        let resp = app.post("/api/v1/requests", &buyer, with(request_body(&vendor), json!({"product_name": "Sign\nIt"}))).await;
        assert_eq!(only_error(&resp), "product_name: must be one line without control characters; character 5 is U+000A (a line break)");
        assert_eq!(requests_stored(&app).await, 1);
        app.stop().await;
    }
);

both!(
    async fn who_may_not_call_an_operation_is_told_so_whatever_the_body_says(backend) {
        let app = TestApp::spawn(backend).await;
        let misspelt = json!({"code": "X1", "nam": "X"});
        let anonymous = app.call(Method::POST, "/api/v1/departments", None, Some(&misspelt), &[]).await;
        anonymous.problem(401, "unauthorized");
        let forged = app.call(Method::POST, "/api/v1/departments", Some("not-a-token"), Some(&misspelt), &[]).await;
        forged.problem(401, "unauthorized");
        let buyer = app.buyer_token("DOIT", "bea");
        app.post("/api/v1/departments", &buyer, misspelt.clone()).await.problem(403, "forbidden");
        let admin = app.token(Role::Admin);
        let resp = app.post("/api/v1/departments", &admin, misspelt).await;
        let body = resp.problem(422, "validation_failed");
        assert_eq!(
            body["errors"],
            json!([{"field": "nam", "message": "unknown field; did you mean name?"}, {"field": "name", "message": "is required"}])
        );
        app.stop().await;
    }
);
