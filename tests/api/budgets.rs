//! The City Technology Plan, department technology budgets with joint CIO and Finance approval, and requests
//! drawing on budget lines [EO 2025 Art. 1-2].

use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp, purchase, with};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn plan_item() -> Value {
    json!({
        "title": "Citywide e-signature", "description": "One signing service for every department",
        "departments": ["DOIT", "BPD"], "centralization": "centralize", "priority": 1,
        "first_fiscal_year": 2027, "last_fiscal_year": 2031,
        "capital_cents": 20_000_000, "operating_cents": 5_000_000
    })
}

async fn budget_action(
    app: &TestApp,
    token: &str,
    budget: &str,
    action: &str,
    body: Option<&Value>,
) -> Resp {
    let object = format!("/api/v1/budgets/{budget}");
    app.with_etag(
        Method::POST,
        &format!("{object}/{action}"),
        &object,
        token,
        body,
    )
    .await
}

async fn review(app: &TestApp, token: &str, budget: &str, body: Value) -> Resp {
    budget_action(app, token, budget, "review", Some(&body)).await
}

async fn read_budget(app: &TestApp, budget: &str) -> Value {
    app.get(
        &format!("/api/v1/budgets/{budget}"),
        &app.token(Role::Auditor),
    )
    .await
    .ok(200)
    .clone()
}

fn line<'a>(budget: &'a Value, label: &str) -> &'a Value {
    budget["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["label"] == label)
        .unwrap()
}

async fn route(app: &TestApp, request: &str) -> Value {
    app.get(
        &format!("/api/v1/requests/{request}/route"),
        &app.token(Role::Auditor),
    )
    .await
    .ok(200)
    .clone()
}

fn grounds(route: &Value, kind: &str) -> Vec<(String, String)> {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .map(|s| {
            s["grounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    (
                        g["rule_id"].as_str().unwrap().to_string(),
                        g["reason"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn submit(app: &TestApp, buyer: &str, body: Value) -> (String, Value) {
    app.draft_and_submit(buyer, body).await
}

/// An approved FY2027 budget of DOIT with an "E-signature" line tied to a plan item: $50,000 capital, $60,000 a
/// year operating ($20,000 staff, $40,000 other). Returned once by Finance before both approve. Returns the
/// budget's id and the line's id.
async fn approved_budget(app: &TestApp, buyer: &str) -> (String, String) {
    let cio = app.token(Role::Cio);
    let finance = app.token(Role::Finance);
    let item = app.post("/api/v1/plan/items", &cio, plan_item()).await;
    let item = id(item.ok(201));
    let created = app
        .post(
            "/api/v1/budgets",
            buyer,
            json!({"fiscal_year": 2027, "lines": [
                {"label": "E-signature", "plan_item_id": item, "capital_cents": 5_000_000,
                 "operating_staff_cents": 2_000_000, "operating_other_cents": 3_000_000},
            ]}),
        )
        .await;
    let budget = id(created.ok(201));
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.header("etag"), Some("\"1\""));
    budget_action(app, buyer, &budget, "submit", None)
        .await
        .ok(200);
    let first = review(app, &cio, &budget, json!({"outcome": "approve"})).await;
    assert_eq!(first.ok(200)["status"], "submitted");
    assert_eq!(first.body["approvals"], json!(["cio"]));
    let returned = review(app, &finance, &budget, json!({"outcome": "return", "comment": "Operating other is $10,000 short of the licence quote"})).await;
    assert_eq!(returned.ok(200)["status"], "returned");
    assert_eq!(
        returned.body["reviews"][1]["comment"],
        "Operating other is $10,000 short of the licence quote"
    );
    let line_id = id(&returned.body["lines"][0]);
    let edited = app
        .with_etag(
            Method::PUT,
            &format!("/api/v1/budgets/{budget}/lines"),
            &format!("/api/v1/budgets/{budget}"),
            buyer,
            Some(&json!({"lines": [
                {"id": line_id, "label": "E-signature", "plan_item_id": item, "capital_cents": 5_000_000,
                 "operating_staff_cents": 2_000_000, "operating_other_cents": 4_000_000},
            ]})),
        )
        .await;
    assert_eq!(edited.ok(200)["status"], "draft");
    let resubmitted = budget_action(app, buyer, &budget, "submit", None).await;
    assert_eq!(resubmitted.ok(200)["submission"], 2);
    // The CIO's approval of the returned submission does not count for the new one.
    assert_eq!(resubmitted.body["approvals"], json!([]));
    review(app, &finance, &budget, json!({"outcome": "approve"}))
        .await
        .ok(200);
    let approved = review(app, &cio, &budget, json!({"outcome": "approve"})).await;
    assert_eq!(approved.ok(200)["status"], "approved");
    (budget, line_id)
}

both!(
    async fn a_budget_is_approved_only_by_the_cio_and_finance_together_after_one_return(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let buyer = app.buyer_token("DOIT", "buyer-doit");
        let cio = app.token(Role::Cio);
        // The plan is the CIO office's; a buyer may read it, not add to it.
        app.post("/api/v1/plan/items", &buyer, plan_item()).await.problem(403, "forbidden");
        let bad = app.post("/api/v1/plan/items", &cio, with(plan_item(), json!({"last_fiscal_year": 2033, "priority": 0}))).await;
        bad.problem(422, "validation_failed");
        assert_eq!(bad.fields(), vec!["priority", "last_fiscal_year"]);
        let (budget, line_id) = approved_budget(&app, &buyer).await;
        let read = read_budget(&app, &budget).await;
        let esig = line(&read, "E-signature");
        assert_eq!(esig["approved_capital_cents"], 5_000_000);
        assert_eq!(esig["approved_operating_cents"], 6_000_000);
        assert_eq!(esig["remaining_capital_cents"], 5_000_000);
        assert_eq!(esig["plan_item_title"], "Citywide e-signature");
        assert_eq!(read["reviews"].as_array().unwrap().len(), 4);
        // Once approved, no more reviews; a change of lines without If-Match is refused with 428.
        review(&app, &cio, &budget, json!({"outcome": "approve"})).await.problem(409, "budget_not_submitted");
        let lines_path = format!("/api/v1/budgets/{budget}/lines");
        app.put(&lines_path, &buyer, json!({"lines": []}), None).await.problem(428, "precondition_required");
        // Another department's buyer sees nothing of it; Finance cannot draft.
        app.get(&format!("/api/v1/budgets/{budget}"), &app.buyer_token("BPD", "officer")).await.problem(404, "not_found");
        app.post("/api/v1/budgets", &app.token(Role::Finance), json!({"fiscal_year": 2027, "lines": []})).await.problem(403, "forbidden");
        // One budget per department and year.
        app.post("/api/v1/budgets", &buyer, json!({"fiscal_year": 2027, "lines": [
            {"label": "x", "capital_cents": 0, "operating_staff_cents": 0, "operating_other_cents": 0}]})).await.problem(409, "budget_exists");
        // An amendment goes through the same joint approval, with the approved amounts in force meanwhile.
        let amended = app
            .with_etag(Method::PUT, &lines_path, &format!("/api/v1/budgets/{budget}"), &buyer, Some(&json!({"lines": [
                {"id": line_id, "label": "E-signature", "capital_cents": 8_000_000,
                 "operating_staff_cents": 2_000_000, "operating_other_cents": 4_000_000},
            ]})))
            .await;
        assert_eq!(amended.ok(200)["status"], "draft");
        assert_eq!(amended.body["amendment"], 1);
        assert_eq!(amended.body["lines"][0]["approved_capital_cents"], 5_000_000);
        budget_action(&app, &buyer, &budget, "submit", None).await.ok(200);
        review(&app, &cio, &budget, json!({"outcome": "approve"})).await.ok(200);
        let done = review(&app, &app.token(Role::Finance), &budget, json!({"outcome": "approve"})).await;
        assert_eq!(done.ok(200)["lines"][0]["approved_capital_cents"], 8_000_000);
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE object_type = 'budget' AND object_id = '{budget}'")).await,
            12
        );
        let listed = app.get("/api/v1/budgets?fiscal_year=2027&status=approved", &app.token(Role::Auditor)).await;
        assert_eq!(listed.ok(200)["page"]["total"], 1);
        let register = download(&app, &app.token(Role::Auditor), "/api/v1/reports/budgets.xlsx?fiscal_year=2027").await;
        assert_eq!(&register[..2], b"PK");
        app.stop().await;
    }
);

both!(
    async fn requests_draw_on_their_budget_line_and_withdrawals_and_denials_release_it(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "buyer-doit");
        let (budget, line_id) = approved_budget(&app, &buyer).await;

        // An unknown line is never read as "no line".
        let unknown = app
            .post("/api/v1/requests", &buyer, with(purchase(&vendor), json!({"budget_line_id": "00000000-0000-4000-8000-000000000001"})))
            .await;
        unknown.problem(422, "validation_failed");
        assert_eq!(unknown.fields(), vec!["budget_line_id"]);
        let other_year = app
            .post("/api/v1/requests", &buyer, with(purchase(&vendor), json!({"budget_line_id": line_id, "requested_start_date": "2027-09-01"})))
            .await;
        other_year.problem(422, "validation_failed");
        assert!(other_year.body["errors"][0]["message"].as_str().unwrap().contains("FY2027"));

        // 1. Within the line: $10,000 capital and $30,000 a year, nothing else to review.
        let within = with(purchase(&vendor), json!({"budget_line_id": line_id, "capital_cost_cents": 1_000_000, "annual_operating_cost_cents": 3_000_000}));
        let (first, submitted) = submit(&app, &buyer, within).await;
        assert_eq!(submitted["status"], "approved");
        let r = route(&app, &first).await;
        assert_eq!(r["budget"]["label"], "E-signature");
        assert_eq!(r["budget"]["plan_item"], "Citywide e-signature");
        assert_eq!(r["budget"]["capital"], json!({"line_cents": 5_000_000, "committed_cents": 0, "this_cents": 1_000_000, "remaining_after_cents": 4_000_000}));
        assert_eq!(r["budget"]["operating"]["remaining_after_cents"], 3_000_000);
        assert!(r["steps"].as_array().unwrap().is_empty());

        // 2. Overrunning it: $45,000 capital where $40,000 is left.
        let over = with(purchase(&vendor), json!({"budget_line_id": line_id, "capital_cost_cents": 4_500_000, "annual_operating_cost_cents": 1_000_000, "title": "Bulk signing"}));
        let (second, submitted) = submit(&app, &buyer, over).await;
        assert_eq!(submitted["status"], "awaiting_decision");
        let r = route(&app, &second).await;
        let figures = "capital $45,000.00 against $40,000.00 left of $50,000.00 ($10,000.00 committed to other requests), $5,000.00 over";
        let finance = grounds(&r, "finance_approval");
        assert_eq!(finance[0].0, "finance-budget-overrun");
        assert_eq!(finance[0].1, format!("the purchase would overrun budget line \"E-signature\": {figures}"));
        assert!(grounds(&r, "cio_approval").iter().any(|(rule, reason)| rule == "cio-budget-overrun" && reason.ends_with(figures)));
        assert_eq!(r["budget"]["capital"]["remaining_after_cents"], -500_000);

        // 3. No line at all: Finance looks at it, because the department's FY2027 budget is approved.
        // (Another vendor, so that the fiscal-year spend with SignIt does not add its own Finance ground.)
        let pads = app.create_vendor("Pads Co").await;
        let none = with(purchase(&pads), json!({"capital_cost_cents": 0, "annual_operating_cost_cents": 1_000_000, "title": "Signing pads"}));
        let (third, submitted) = submit(&app, &buyer, none).await;
        assert_eq!(submitted["status"], "awaiting_decision");
        let r = route(&app, &third).await;
        assert_eq!(
            grounds(&r, "finance_approval"),
            vec![("finance-no-budget-line".to_string(), "the purchase is funded from no approved line of DOIT's FY2027 technology budget (line named: none)".to_string())]
        );
        assert!(r["budget"].is_null());

        // Committed: the approved request and the one in review; the line overruns by $5,000.
        let esig = line(&read_budget(&app, &budget).await, "E-signature").clone();
        assert_eq!((esig["committed_capital_cents"].clone(), esig["committed_operating_cents"].clone()), (json!(5_500_000), json!(4_000_000)));
        assert_eq!((esig["remaining_capital_cents"].clone(), esig["remaining_operating_cents"].clone()), (json!(-500_000), json!(2_000_000)));
        assert_eq!(esig["committed_requests"], 2);

        // The CIO approves the overrun; it still draws while Finance decides. Finance denies it: released.
        let cio = app.token(Role::Cio);
        app.transition(&format!("/api/v1/requests/{second}/decisions"), &cio, Some(&json!({"step": "cio_approval", "outcome": "approve"}))).await.ok(201);
        let esig = line(&read_budget(&app, &budget).await, "E-signature").clone();
        assert_eq!(esig["remaining_capital_cents"], -500_000);
        let denied = app
            .transition(&format!("/api/v1/requests/{second}/decisions"), &app.token(Role::Finance),
                Some(&json!({"step": "finance_approval", "outcome": "deny", "reason_code": "cost", "rationale": "over the line"})))
            .await;
        denied.ok(201);
        let esig = line(&read_budget(&app, &budget).await, "E-signature").clone();
        assert_eq!((esig["remaining_capital_cents"].clone(), esig["remaining_operating_cents"].clone()), (json!(4_000_000), json!(3_000_000)));
        assert_eq!(esig["committed_requests"], 1);

        // A fourth purchase in review on the line (600 users need the CIO), then withdrawn: released too.
        let fourth_body = with(purchase(&vendor), json!({"budget_line_id": line_id, "capital_cost_cents": 2_000_000, "annual_operating_cost_cents": 0, "expected_users": 600, "title": "Field signing"}));
        let (fourth, submitted) = submit(&app, &buyer, fourth_body).await;
        assert_eq!(submitted["status"], "awaiting_decision");
        let r = route(&app, &fourth).await;
        assert_eq!(r["budget"]["capital"]["committed_cents"], 1_000_000);
        assert_eq!(line(&read_budget(&app, &budget).await, "E-signature")["remaining_capital_cents"], 2_000_000);
        app.transition(&format!("/api/v1/requests/{fourth}/withdraw"), &buyer, None).await.ok(200);
        assert_eq!(line(&read_budget(&app, &budget).await, "E-signature")["remaining_capital_cents"], 4_000_000);

        // Approving the request without a line leaves the line as it was; the stored state agrees.
        app.transition(&format!("/api/v1/requests/{third}/decisions"), &app.token(Role::Finance), Some(&json!({"step": "finance_approval", "outcome": "approve"}))).await.ok(201);
        assert_eq!(line(&read_budget(&app, &budget).await, "E-signature")["remaining_capital_cents"], 4_000_000);
        assert_eq!(app.count("SELECT COUNT(*) FROM requests WHERE budget_line_id IS NOT NULL AND status = 'approved'").await, 1);
        app.stop().await;
    }
);

both!(
    async fn a_department_without_an_approved_budget_keeps_todays_route(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "buyer-doit");
        let small = with(purchase(&vendor), json!({"annual_operating_cost_cents": 1_000_000}));
        let (_, submitted) = submit(&app, &buyer, small).await;
        assert_eq!(submitted["status"], "approved");
        // A line of a budget not yet approved funds nothing: Finance looks at the purchase.
        let created = app
            .post("/api/v1/budgets", &buyer, json!({"fiscal_year": 2027, "lines": [
                {"label": "Tools", "capital_cents": 0, "operating_staff_cents": 0, "operating_other_cents": 5_000_000}]}))
            .await;
        let line_id = id(&created.ok(201)["lines"][0]);
        let body = with(purchase(&vendor), json!({"annual_operating_cost_cents": 1_000_000, "budget_line_id": line_id}));
        let (request, _) = submit(&app, &buyer, body).await;
        let r = route(&app, &request).await;
        assert_eq!(r["budget"]["approved"], false);
        assert_eq!(
            grounds(&r, "finance_approval")[0].1,
            "the purchase is funded from no approved line of DOIT's FY2027 technology budget (line named: \"Tools\" (its budget is not approved))"
        );
        app.stop().await;
    }
);

async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    bytes: Vec<u8>,
    if_match: Option<&str>,
) -> Resp {
    let mut req = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type);
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    TestApp::read(req.body(bytes).send().await.unwrap()).await
}

async fn download(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.bytes().await.unwrap().to_vec()
}

both!(
    async fn the_plan_and_a_budgets_lines_go_out_and_back_as_workbooks_with_every_bad_cell_named(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let cio = app.token(Role::Cio);
        let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        let item = id(app.post("/api/v1/plan/items", &cio, plan_item()).await.ok(201));

        // The export reads back: an unchanged row is a new version of its item, a row without an ID a new item.
        let exported = download(&app, &cio, "/api/v1/plan/items/export.xlsx").await;
        let back = upload(&app, &cio, "/api/v1/plan/items/import", xlsx, exported, None).await;
        assert_eq!(back.ok(200)["updated"], 1);
        let csv = format!(
            "ID,Title,Description,Departments,Centralization,Priority,First fiscal year,Last fiscal year,Capital ($),Operating ($ a year)\n\
             {item},Citywide e-signature,One service,DOIT; BPD,centralize,1,2027,2031,\"250,000.00\",50000\n\
             ,Body cameras,For officers,BPD,sometimes,2,2027,2029,ten,1\n"
        );
        let bad = upload(&app, &cio, "/api/v1/plan/items/import", "text/csv", csv.clone().into_bytes(), None).await;
        bad.problem(422, "validation_failed");
        assert_eq!(bad.fields(), vec!["csv!E3", "csv!I3"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM plan_items").await, 1, "nothing stored on refusal");
        let good = csv.replace("sometimes", "department").replace(",ten,", ",\"1,000\",");
        let loaded = upload(&app, &app.token(Role::Buyer), "/api/v1/plan/items/import", "text/csv", good.clone().into_bytes(), None).await;
        loaded.problem(403, "forbidden");
        let loaded = upload(&app, &cio, "/api/v1/plan/items/import", "text/csv", good.into_bytes(), None).await;
        assert_eq!((loaded.ok(200)["created"].clone(), loaded.body["updated"].clone()), (json!(1), json!(1)));
        let read = app.get(&format!("/api/v1/plan/items/{item}"), &cio).await;
        assert_eq!((read.ok(200)["capital_cents"].clone(), read.body["version"].clone()), (json!(25_000_000), json!(3)));

        // A budget's lines: exported, changed in the sheet, read back with If-Match.
        let buyer = app.buyer_token("DOIT", "buyer-doit");
        let created = app
            .post("/api/v1/budgets", &buyer, json!({"fiscal_year": 2027, "lines": [
                {"label": "E-signature", "plan_item_id": item, "capital_cents": 5_000_000, "operating_staff_cents": 0, "operating_other_cents": 100}]}))
            .await;
        let budget = id(created.ok(201));
        let path = format!("/api/v1/budgets/{budget}/lines/import");
        let exported = download(&app, &buyer, &format!("/api/v1/budgets/{budget}/lines/export.xlsx")).await;
        upload(&app, &buyer, &path, xlsx, exported.clone(), None).await.problem(428, "precondition_required");
        let same = upload(&app, &buyer, &path, xlsx, exported, Some("\"1\"")).await;
        assert_eq!(same.ok(200)["lines"][0]["capital_cents"], 5_000_000);
        let line_id = id(&same.body["lines"][0]);
        let lines = format!(
            "ID,Label,Plan item ID,Capital ($),Operating staff ($ a year),Operating other ($ a year)\n\
             {line_id},E-signature,{item},60000,\"20,000\",40000.50\n,Radios,,-1,0,0\n"
        );
        let bad = upload(&app, &buyer, &path, "text/csv", lines.clone().into_bytes(), Some("\"2\"")).await;
        bad.problem(422, "validation_failed");
        assert_eq!(bad.fields(), vec!["csv!D3"]);
        let done = upload(&app, &buyer, &path, "text/csv", lines.replace(",-1,", ",0,").into_bytes(), Some("\"2\"")).await;
        done.ok(200);
        assert_eq!(done.body["lines"][0]["operating_other_cents"], 4_000_050);
        assert_eq!(done.body["lines"][1]["label"], "Radios");
        app.stop().await;
    }
);
