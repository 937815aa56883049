use std::collections::BTreeMap;

use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

/// A vendor-hosted system holding Massachusetts residents' personal information: the route asks for the
/// 201 CMR 17.00 questionnaire and the city baseline.
pub(crate) async fn routed_request(app: &TestApp, vendor: &Value) -> String {
    // A second request finds the department made (409) by the first.
    app.post(
        "/api/v1/departments",
        &app.token(Role::Admin),
        json!({"code": "DOIT", "name": "DoIT"}),
    )
    .await;
    let buyer = app.buyer_token("DOIT", "bea");
    let id = app
        .post(
            "/api/v1/requests",
            &buyer,
            json!({"title": "Case management", "vendor_id": vendor["id"], "product_name": "CaseFlow",
                   "capital_cost_cents": 0, "annual_operating_cost_cents": 1_000_000, "term_months": 12,
                   "expected_users": 30, "hosting": "vendor_cloud", "data_classes": ["pi_ma"],
                   "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let submitted = app
        .transition(&format!("/api/v1/requests/{id}/submit"), &buyer, None)
        .await;
    assert_eq!(submitted.ok(200)["status"], "in_review");
    id
}

async fn invite(app: &TestApp, vendor: &Value, request: &str) -> (String, String) {
    let body = app
        .invite(
            &app.buyer_token("DOIT", "bea"),
            vendor["id"].as_str().unwrap(),
            json!({"request_id": request, "contact_email": "security@vendor.example", "contact_name": "Sam"}),
        )
        .await
        .ok(201)
        .clone();
    assert!(
        body["link"]
            .as_str()
            .unwrap()
            .contains(body["token"].as_str().unwrap())
    );
    (
        body["token"].as_str().unwrap().to_string(),
        body["invitation"]["id"].as_str().unwrap().to_string(),
    )
}

fn question<'a>(template: &'a Value, id: &str) -> &'a Value {
    template["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["questions"].as_array().unwrap())
        .find(|q| q["id"] == id)
        .unwrap()
}

/// An answer that meets the question's expectation.
fn good_answer(q: &Value, evidence: &str) -> Value {
    let expected = &q["expected"];
    match q["kind"].as_str().unwrap() {
        "yes_no" => expected.get("yes_no").cloned().unwrap_or(json!("yes")),
        "single_choice" => expected
            .get("any_of")
            .map(|v| v[0].clone())
            .unwrap_or_else(|| q["options"][0].clone()),
        "multiple_choice" => expected
            .get("all_of")
            .cloned()
            .unwrap_or_else(|| json!([q["options"][0]])),
        "number" => {
            let range = expected.get("range");
            range
                .and_then(|r| r["max"].as_f64().or(r["min"].as_f64()))
                .or(q["min"].as_f64())
                .map(|n| json!(n))
                .unwrap_or(json!(1))
        }
        "date" => json!("2026-01-15"),
        "file" => json!({"evidence_id": evidence}),
        _ => json!("Documented in our written information security program."),
    }
}

/// Answers every question that is asked, in parts, until none is left; `overrides` replace chosen answers.
pub async fn answer_all(
    app: &TestApp,
    token: &str,
    assessment: &str,
    evidence: &str,
    overrides: &[(String, Value)],
) {
    let detail = app
        .get(&format!("/api/v1/assessments/{assessment}"), token)
        .await
        .ok(200)
        .clone();
    let template_id = detail["assessment"]["template_id"]
        .as_str()
        .unwrap()
        .to_string();
    let template = app
        .get(&format!("/api/v1/questionnaires/{template_id}"), token)
        .await
        .ok(200)
        .clone();
    for _round in 0..10 {
        let detail = app
            .get(&format!("/api/v1/assessments/{assessment}"), token)
            .await
            .ok(200)
            .clone();
        let todo: Vec<Value> = detail["questions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["applicable"] == true && q["answer"].is_null())
            .map(|q| {
                let id = q["id"].as_str().unwrap();
                let value = overrides
                    .iter()
                    .find(|(o, _)| o == id)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| good_answer(question(&template, id), evidence));
                json!({"question_id": id, "value": value, "comment": "see our SOC 2 report"})
            })
            .collect();
        if todo.is_empty() {
            return;
        }
        for part in todo.chunks(12) {
            let resp = app
                .save_answers(token, assessment, &json!({"answers": part}))
                .await;
            resp.ok(200);
        }
    }
    panic!("answers did not converge");
}

/// Uploads evidence as a vendor who has just read the assessment (its ETag as `If-Match`).
pub async fn upload(
    app: &TestApp,
    token: &str,
    assessment: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Resp {
    let etag = app
        .etag_of(&format!("/api/v1/assessments/{assessment}"), token)
        .await;
    upload_if_match(app, token, assessment, content_type, bytes, Some(&etag)).await
}

pub async fn upload_if_match(
    app: &TestApp,
    token: &str,
    assessment: &str,
    content_type: &str,
    bytes: Vec<u8>,
    if_match: Option<&str>,
) -> Resp {
    let mut request = app
        .client
        .post(format!(
            "{}/api/v1/assessments/{assessment}/evidence?filename=soc2.pdf",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", content_type);
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    TestApp::read(request.body(bytes).send().await.unwrap()).await
}

pub fn first_critical_yes(template: &Value) -> String {
    template["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["questions"].as_array().unwrap())
        .find(|q| {
            q["kind"] == "yes_no"
                && q["weight"] == "critical"
                && q["expected"]["yes_no"] == "yes"
                && q["show_if"].is_null()
        })
        .expect("a critical yes/no question")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn step<'a>(route: &'a Value, kind: &str) -> &'a Value {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap()
}

both!(
    async fn a_vendor_answers_by_invitation_and_the_security_review_completes(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("CaseFlow LLC").await;
        let request = routed_request(&app, &vendor).await;
        let (token, _) = invite(&app, &vendor, &request).await;

        let listed = app.get("/api/v1/assessments", &token).await;
        let items = listed.ok(200)["items"].as_array().unwrap().clone();
        let mut templates: Vec<&str> = items.iter().map(|a| a["template_id"].as_str().unwrap()).collect();
        templates.sort();
        assert_eq!(templates, ["city-baseline", "ma-201-cmr-17"]);
        assert!(items.iter().all(|a| a["status"] == "open"));
        let ma = items.iter().find(|a| a["template_id"] == "ma-201-cmr-17").unwrap()["id"].as_str().unwrap().to_string();
        let baseline = items.iter().find(|a| a["template_id"] == "city-baseline").unwrap()["id"].as_str().unwrap().to_string();

        // Evidence: checked by content, stored with its hash.
        let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
        let uploaded = upload(&app, &token, &ma, "application/pdf", pdf.clone()).await;
        let evidence = uploaded.ok(201).clone();
        assert_eq!(evidence["sha256"].as_str().unwrap().len(), 64);
        upload(&app, &token, &ma, "image/png", pdf.clone()).await.problem(415, "content_type_mismatch");
        upload(&app, &token, &ma, "application/octet-stream", vec![0, 1, 2, 3]).await.problem(415, "unsupported_file");
        let evidence_id = evidence["id"].as_str().unwrap().to_string();
        let baseline_evidence = upload(&app, &token, &baseline, "application/pdf", pdf).await.ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();

        // Bad answers are named and store nothing.
        let bad = app.save_answers(&token, &ma, &json!({"answers": [{"question_id": "NOPE-1", "value": "yes"}]})).await;
        bad.problem(422, "validation_failed");
        assert_eq!(bad.fields(), ["answers[0].question_id"]);

        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &token).await.ok(200).clone();
        let critical = first_critical_yes(&template);
        let maybe = app.save_answers(&token, &ma, &json!({"answers": [{"question_id": critical, "value": "maybe"}]})).await;
        maybe.problem(422, "validation_failed");
        assert_eq!(maybe.fields(), ["answers[0].value"]);
        assert!(maybe.body["errors"][0]["message"].as_str().unwrap().contains("Maybe") || maybe.text.contains("maybe"));

        let early = app.assessment_action(Method::POST, &token, &ma, "submit", None).await;
        early.problem(422, "validation_failed");
        assert!(early.fields().iter().all(|f| f.starts_with("answers.")));

        // Answer everything, leaving one critical expectation unmet.
        answer_all(&app, &token, &ma, &evidence_id, &[(critical.clone(), json!("no"))]).await;
        answer_all(&app, &token, &baseline, &baseline_evidence, &[]).await;
        let submitted = app.assessment_action(Method::POST, &token, &ma, "submit", None).await;
        let body = submitted.ok(200).clone();
        assert_eq!(body["status"], "submitted");
        assert_eq!(body["score"]["risk_tier"], "high");
        assert_eq!(body["score"]["unmet_critical"], true);
        let frozen = app.save_answers(&token, &ma, &json!({"answers": [{"question_id": critical, "value": "yes"}]})).await;
        frozen.problem(409, "assessment_not_editable");

        // The analyst returns it with a comment; the vendor revises nothing and resubmits.
        let analyst = app.token(Role::SecurityAnalyst);
        let returned = app
            .assessment_action(Method::POST, &analyst, &ma, "review",
                               Some(&json!({"outcome": "return", "comments": [{"question_id": critical, "comment": "Explain the gap"}]})))
            .await;
        assert_eq!(returned.ok(200)["assessment"]["status"], "returned");
        let detail = app.get(&format!("/api/v1/assessments/{ma}"), &token).await;
        assert_eq!(detail.ok(200)["reviews"][0]["comments"][0]["comment"], "Explain the gap");
        app.assessment_action(Method::POST, &token, &ma, "submit", None).await.ok(200);
        app.assessment_action(Method::POST, &token, &baseline, "submit", None).await.ok(200);

        // Accepting raises the finding; a critical finding keeps the step pending.
        let accepted = app.assessment_action(Method::POST, &analyst, &ma, "review", Some(&json!({"outcome": "accept"}))).await;
        let body = accepted.ok(200).clone();
        assert_eq!(body["assessment"]["status"], "accepted");
        let finding = body["findings"].as_array().unwrap().iter().find(|f| f["question_id"] == critical.as_str()).unwrap().clone();
        assert_eq!(finding["severity"], "critical");
        assert!(finding["citation"].as_str().unwrap().starts_with("201 CMR 17."));
        // The list filters by severity; a severity that does not exist is refused, not answered with an empty page.
        let critical_list = app.get(&format!("/api/v1/findings?assessment_id={ma}&severity=critical"), &analyst).await;
        assert!(critical_list.ok(200)["items"].as_array().unwrap().iter().any(|f| f["id"] == finding["id"]));
        let low_list = app.get(&format!("/api/v1/findings?assessment_id={ma}&severity=low"), &analyst).await;
        assert!(low_list.ok(200)["items"].as_array().unwrap().iter().all(|f| f["severity"] == "low" && f["id"] != finding["id"]));
        let bogus = app.get(&format!("/api/v1/findings?assessment_id={ma}&severity=severe"), &analyst).await;
        bogus.problem(400, "bad_parameter");
        assert_eq!(bogus.fields(), ["severity"]);
        app.assessment_action(Method::POST, &analyst, &baseline, "review", Some(&json!({"outcome": "accept"}))).await.ok(200);
        let route = app.get(&format!("/api/v1/requests/{request}/route"), &analyst).await.ok(200).clone();
        assert_eq!(step(&route, "security_review")["state"], "pending", "a critical finding stands");

        // The vendor plans remediation; only the CIO may accept the risk.
        let fid = finding["id"].as_str().unwrap();
        let planned = app
            .finding_action(&token, fid, "remediation", json!({"plan": "Roll out by spring", "due_date": "2027-03-01"}))
            .await;
        assert_eq!(planned.ok(200)["status"], "remediation_planned");
        app.finding_action(&analyst, fid, "risk-acceptance", json!({"rationale": "x", "expires_on": "2027-06-30"}))
            .await
            .problem(403, "forbidden");
        let accepted_risk = app
            .finding_action(&app.token(Role::Cio), fid, "risk-acceptance",
                  json!({"rationale": "Compensating monitoring until the rollout", "expires_on": "2027-06-30"}))
            .await;
        assert_eq!(accepted_risk.ok(200)["status"], "risk_accepted");
        let route = app.get(&format!("/api/v1/requests/{request}/route"), &analyst).await.ok(200).clone();
        assert_eq!(step(&route, "security_review")["state"], "satisfied");

        let verify = app.get("/api/v1/audit/verify", &app.token(Role::Auditor)).await;
        assert_eq!(verify.ok(200)["ok"], true);
        app.stop().await;
    }
);

both!(
    async fn another_vendor_gets_404_and_a_revoked_invitation_401_everywhere(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Mine Inc").await;
        let request = routed_request(&app, &vendor).await;
        let (token, invitation) = invite(&app, &vendor, &request).await;
        let other = app.create_vendor("Other Inc").await;
        let other_request = routed_request(&app, &other).await;
        let (other_token, _) = invite(&app, &other, &other_request).await;

        let mine = app.get("/api/v1/assessments", &token).await.ok(200)["items"][0].clone();
        let aid = mine["id"].as_str().unwrap().to_string();
        let evidence = upload(&app, &token, &aid, "text/plain", b"policy text".to_vec()).await.ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let others = app.get("/api/v1/assessments", &other_token).await.ok(200).clone();
        let others = others["items"].as_array().unwrap();
        assert!(!others.is_empty() && others.iter().all(|a| a["vendor_id"] == other["id"]), "{others:?}");

        let answers = json!({"answers": []});
        let checks: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/api/v1/assessments/{aid}"), None),
            (Method::PUT, format!("/api/v1/assessments/{aid}/answers"), Some(answers.clone())),
            (Method::POST, format!("/api/v1/assessments/{aid}/submit"), None),
            (Method::GET, format!("/api/v1/assessments/{aid}/evidence/{evidence}"), None),
        ];
        // With an ETag of the right form, so that the scope, not the missing precondition, answers.
        for (method, path, body) in &checks {
            let resp = app.call(method.clone(), path, Some(&other_token), body.as_ref(), &[("If-Match", "\"1\"")]).await;
            resp.problem(404, "not_found");
        }
        upload_if_match(&app, &other_token, &aid, "text/plain", b"x".to_vec(), Some("\"2\"")).await.problem(404, "not_found");
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 1);

        let revoked = app
            .call(Method::POST, &format!("/api/v1/vendors/{}/invitations/{invitation}/revoke", vendor["id"].as_str().unwrap()),
                  Some(&app.token(Role::SecurityAnalyst)), None, &[])
            .await;
        assert!(revoked.ok(200)["revoked_at"].is_string());
        for (method, path, body) in &checks {
            let resp = app.call(method.clone(), path, Some(&token), body.as_ref(), &[]).await;
            resp.problem(401, "unauthorized");
        }
        app.get("/api/v1/findings", &token).await.problem(401, "unauthorized");
        app.stop().await;
    }
);

both!(
    async fn conditional_questions_are_only_asked_when_their_condition_holds(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Cond Co").await;
        let request = routed_request(&app, &vendor).await;
        let (token, _) = invite(&app, &vendor, &request).await;
        let items = app.get("/api/v1/assessments", &token).await.ok(200)["items"].as_array().unwrap().clone();
        let mut checked = false;
        for a in items {
            let aid = a["id"].as_str().unwrap();
            let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
            let Some(hidden) = detail["questions"].as_array().unwrap().iter().find(|q| q["applicable"] == false) else {
                continue;
            };
            let resp = app.save_answers(&token, aid, &json!({"answers": [{"question_id": hidden["id"], "value": "x"}]})).await;
            resp.problem(422, "validation_failed");
            assert!(resp.text.contains("is asked only when") || resp.fields()[0].ends_with(".value"), "{}", resp.text);
            checked = true;
        }
        assert!(checked, "the shipped templates have conditional questions");
        app.stop().await;
    }
);

/// Whether each question is asked, read from the assessment view's structured conditions the way the portal's script
/// reads them: in order, a question with a condition is asked when the question it names is asked and has one of its
/// values (a list answer: one of them selected).
fn asked_by_conditions(detail: &Value) -> BTreeMap<String, bool> {
    let mut asked = BTreeMap::new();
    let questions = detail["questions"].as_array().unwrap();
    for q in questions {
        let on = match q["condition"].as_object() {
            None => true,
            Some(condition) => {
                let on = condition["question_id"].as_str().unwrap();
                let answer = &questions.iter().find(|c| c["id"] == on).unwrap()["answer"];
                let given: Vec<&Value> = match answer {
                    Value::Array(items) => items.iter().collect(),
                    Value::Null => vec![],
                    one => vec![one],
                };
                asked[on]
                    && condition["any_of"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|v| given.contains(&v))
            }
        };
        asked.insert(q["id"].as_str().unwrap().to_string(), on);
    }
    asked
}

both!(
    async fn the_structured_conditions_of_the_view_are_the_templates_and_decide_as_the_service_does(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Chain Co").await;
        let request = routed_request(&app, &vendor).await;
        let (token, _) = invite(&app, &vendor, &request).await;
        let items = app.get("/api/v1/assessments", &token).await.ok(200)["items"].as_array().unwrap().clone();
        let baseline = items.iter().find(|a| a["template_id"] == "city-baseline").unwrap()["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/assessments/{baseline}");
        let template = app.get("/api/v1/questionnaires/city-baseline", &token).await.ok(200).clone();

        // Each question's condition is its template's `show_if`, with the same canonical values; none has one
        // the template does not.
        let detail = app.get(&path, &token).await.ok(200).clone();
        let mut conditional = 0;
        for q in detail["questions"].as_array().unwrap() {
            let show_if = &question(&template, q["id"].as_str().unwrap())["show_if"];
            if show_if.is_null() {
                assert!(q["condition"].is_null(), "{q}");
            } else {
                assert_eq!(q["condition"], json!({"question_id": show_if["question"], "any_of": show_if["any_of"]}), "{q}");
                conditional += 1;
            }
        }
        assert!(conditional >= 10, "{conditional}");
        let bck05 = detail["questions"].as_array().unwrap().iter().find(|q| q["id"] == "BCK-05").unwrap();
        assert_eq!(bck05["condition"], json!({"question_id": "BCK-04", "any_of": ["yes"]}));
        assert_eq!(bck05["asked_when"], "when BCK-04 is yes");

        // The chain BCK-01 -> BCK-04 -> BCK-05: in every state the conditions decide as the service does.
        let states = [
            json!([]),
            json!([{"question_id": "BCK-01", "value": "yes"}]),
            json!([{"question_id": "BCK-04", "value": "yes"}]),
            json!([{"question_id": "BCK-01", "value": "no"}]),
            json!([{"question_id": "BCK-01", "value": "yes"}, {"question_id": "BCK-04", "value": "no"}]),
        ];
        let mut bck05_asked = vec![];
        for answers in states {
            if !answers.as_array().unwrap().is_empty() {
                app.save_answers(&token, &baseline, &json!({"answers": answers})).await.ok(200);
            }
            let detail = app.get(&path, &token).await.ok(200).clone();
            assert_eq!(applicable_of(&detail), asked_by_conditions(&detail), "after {answers}");
            bck05_asked.push(asked_by_conditions(&detail)["BCK-05"]);
        }
        // Asked once BCK-04 is yes under BCK-01 yes; not asked when BCK-01 turns no though BCK-04's stored answer
        // is still yes.
        assert_eq!(bck05_asked, [false, false, true, false, false]);
        let stored = app.get(&path, &token).await.ok(200).clone();
        let bck01 = stored["questions"].as_array().unwrap().iter().find(|q| q["id"] == "BCK-01").unwrap();
        assert_eq!(bck01["answer"], "yes");

        // BCK-05 under BCK-01 no: refused as before, naming the condition.
        app.save_answers(&token, &baseline, &json!({"answers": [{"question_id": "BCK-01", "value": "no"}]})).await.ok(200);
        let refused = app
            .save_answers(&token, &baseline, &json!({"answers": [{"question_id": "BCK-04", "value": "yes"}, {"question_id": "BCK-05", "value": "2026-01-05"}]}))
            .await;
        refused.problem(422, "validation_failed");
        assert!(refused.text.contains("BCK-04 is asked only when BCK-01 is yes"), "{}", refused.text);
        app.stop().await;
    }
);

fn applicable_of(detail: &Value) -> BTreeMap<String, bool> {
    detail["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["id"].as_str().unwrap().to_string(),
                q["applicable"].as_bool().unwrap(),
            )
        })
        .collect()
}

both!(
    async fn evidence_over_the_upload_limit_is_refused(backend) {
        let app = TestApp::spawn_with(backend, |c| c.max_upload_bytes = 1000).await;
        let vendor = app.create_vendor("Big Files").await;
        let request = routed_request(&app, &vendor).await;
        let (token, _) = invite(&app, &vendor, &request).await;
        let aid = app.get("/api/v1/assessments", &token).await.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
        let mut big = b"%PDF-1.7\n".to_vec();
        big.resize(1001, b'x');
        upload(&app, &token, &aid, "application/pdf", big).await.problem(413, "body_too_large");
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 0);
        app.stop().await;
    }
);

/// Answers, submits and accepts the routed request's `ma-201-cmr-17` assessment with `critical` answered "no":
/// returns (vendor token, assessment id, the finding on `critical`).
pub async fn accepted_with_a_finding(
    app: &TestApp,
    vendor: &Value,
    critical: &str,
) -> (String, String, Value) {
    let request = routed_request(app, vendor).await;
    let (token, _) = invite(app, vendor, &request).await;
    let listed = app
        .get("/api/v1/assessments?status=open", &token)
        .await
        .ok(200)
        .clone();
    let ma = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["template_id"] == "ma-201-cmr-17")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let evidence = upload(app, &token, &ma, "application/pdf", pdf)
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    answer_all(
        app,
        &token,
        &ma,
        &evidence,
        &[(critical.to_string(), json!("no"))],
    )
    .await;
    app.assessment_action(Method::POST, &token, &ma, "submit", None)
        .await
        .ok(200);
    let accepted = app
        .assessment_action(
            Method::POST,
            &app.token(Role::SecurityAnalyst),
            &ma,
            "review",
            Some(&json!({"outcome": "accept"})),
        )
        .await;
    let finding = accepted.ok(200)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["question_id"] == critical)
        .unwrap()
        .clone();
    (token, ma, finding)
}

/// The ids of the vendors `GET /vendors?reassessment=overdue` lists.
async fn overdue_vendors(app: &TestApp) -> Vec<String> {
    let page = app
        .get(
            "/api/v1/vendors?reassessment=overdue",
            &app.token(Role::SecurityAnalyst),
        )
        .await
        .ok(200)
        .clone();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

both!(
    async fn a_new_review_cycle_reopens_the_assessment_with_the_last_answers(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Yearly Review Inc").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &analyst).await.ok(200).clone();
        let critical = first_critical_yes(&template);
        let (token, ma, finding) = accepted_with_a_finding(&app, &vendor, &critical).await;
        let fid = finding["id"].as_str().unwrap();
        let resolved = app.finding_action(&analyst, fid, "resolve", json!({"note": "Fixed and checked"})).await;
        assert_eq!(resolved.ok(200)["status"], "resolved");

        // The last accepted review is over a year old: the vendor is overdue for its annual review.
        let vendor_id = vendor["id"].as_str().unwrap();
        assert!(overdue_vendors(&app).await.is_empty(), "accepted today: not due");
        app.exec_sql("UPDATE assessment_reviews SET reviewed_at = '2025-06-30T12:00:00+00:00'").await;
        assert_eq!(overdue_vendors(&app).await, [vendor_id]);
        // Who holds personal information is the request's column, written with its fields: a database from
        // before the column gets it from the fields by the migration's own statement.
        assert_eq!(app.count("SELECT COUNT(*) FROM requests WHERE holds_personal_information = TRUE").await, 1);
        app.exec_sql("UPDATE requests SET holds_personal_information = FALSE").await;
        assert!(overdue_vendors(&app).await.is_empty(), "no holder, no schedule");
        let migration = if app.database_url.starts_with("postgres") {
            include_str!("../../migrations/postgres/0027_personal_information_holders.sql")
        } else {
            include_str!("../../migrations/sqlite/0027_personal_information_holders.sql")
        };
        let backfill = migration.split(';').find(|s| s.contains("UPDATE requests")).unwrap();
        app.exec_sql(backfill).await;
        assert_eq!(overdue_vendors(&app).await, [vendor_id]);
        let read = app.get(&format!("/api/v1/vendors/{vendor_id}"), &analyst).await;
        assert_eq!(read.ok(200)["next_review_on"], "2026-06-30", "twelve months after the last acceptance");
        // A page of vendors is scheduled for its own vendors only: a vendor with no review has no date.
        let other = app.create_vendor("Never Reviewed LLC").await;
        let page = app.get("/api/v1/vendors?limit=100", &analyst).await.ok(200).clone();
        let date_of = |id: &Value| -> Value {
            page["items"].as_array().unwrap().iter().find(|v| v["id"] == *id).unwrap()["next_review_on"].clone()
        };
        assert_eq!(date_of(&vendor["id"]), "2026-06-30");
        assert_eq!(date_of(&other["id"]), Value::Null);

        // An answer to a question the template no longer asks (as after a template change) is retired.
        app.exec_sql(
            "INSERT INTO answers (assessment_id, question_id, value, comment, source, updated_by, updated_at) \
             SELECT id, 'OLD-99', '\"yes\"', NULL, 'vendor', 'old', updated_at FROM assessments \
             WHERE template_id = 'ma-201-cmr-17'"
        )
        .await;
        let answered = app.count("SELECT COUNT(*) FROM answers WHERE question_id <> 'OLD-99'").await;
        assert!(answered > 0);

        // Only an analyst starts a cycle, only from an accepted assessment, with a due date not in the past.
        let path = format!("/api/v1/assessments/{ma}/reassessment");
        app.post_with_etag(&path, &format!("/api/v1/assessments/{ma}"), &token, json!({})).await.problem(403, "forbidden");
        app.post(&path, &analyst, json!({})).await.problem(428, "precondition_required");
        let past = app.assessment_action(Method::POST, &analyst, &ma, "reassessment", Some(&json!({"due_date": "2020-01-01"}))).await;
        past.problem(422, "validation_failed");
        assert_eq!(past.fields(), ["due_date"]);
        let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(21)).to_string();
        let started = app
            .assessment_action(Method::POST, &analyst, &ma, "reassessment",
                               Some(&json!({"due_date": due, "note": "Annual review, 201 CMR 17.03(2)(i)"})))
            .await;
        assert_eq!(started.header("etag").map(str::to_string), started.body["assessment"]["version"].as_i64().map(|v| format!("\"{v}\"")));
        let started = started.ok(200).clone();
        assert_eq!(started["assessment"]["status"], "open");
        assert_eq!(started["assessment"]["cycle"], 2);
        assert_eq!(started["assessment"]["due_date"], due.as_str());
        assert_eq!(started["retired"], json!(["OLD-99"]));
        assert_eq!(started["carried"].as_array().unwrap().len() as i64, answered);
        app.assessment_action(Method::POST, &analyst, &ma, "reassessment", Some(&json!({}))).await.problem(409, "assessment_not_accepted");
        assert_eq!(app.count("SELECT COUNT(*) FROM answers WHERE question_id = 'OLD-99'").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM assessment_submissions WHERE cycle = 1").await, 1);

        // The vendor finds the last answers filled in, marked as carried from cycle 1, and can change them.
        let detail = app.get(&format!("/api/v1/assessments/{ma}"), &token).await.ok(200).clone();
        let asked: Vec<&Value> = detail["questions"].as_array().unwrap().iter().filter(|q| !q["answer"].is_null()).collect();
        assert_eq!(asked.len() as i64, answered);
        assert!(asked.iter().all(|q| q["source"] == "cycle-1"), "{asked:?}");
        let critical_state = asked.iter().find(|q| q["id"] == critical.as_str()).unwrap();
        assert_eq!(critical_state["answer"], "no");
        let other = asked.iter().find(|q| q["id"] != critical.as_str() && q["kind"] == "text").unwrap()["id"].clone();
        app.save_answers(&token, &ma, &json!({"answers": [{"question_id": other, "value": "Reviewed again this year."}]}))
            .await
            .ok(200);
        let detail = app.get(&format!("/api/v1/assessments/{ma}"), &token).await.ok(200).clone();
        let mine = detail["questions"].as_array().unwrap().iter().find(|q| q["id"] == other).unwrap().clone();
        assert_eq!(mine["source"], "vendor");

        // Still overdue until the new cycle is accepted; failing the same question again reopens its finding.
        assert_eq!(overdue_vendors(&app).await, [vendor_id]);
        app.assessment_action(Method::POST, &token, &ma, "submit", None).await.ok(200);
        assert_eq!(app.count("SELECT COUNT(*) FROM assessment_submissions WHERE cycle = 2").await, 1);
        let accepted = app.assessment_action(Method::POST, &analyst, &ma, "review", Some(&json!({"outcome": "accept"}))).await;
        let accepted = accepted.ok(200).clone();
        let reopened = accepted["findings"].as_array().unwrap().iter().find(|f| f["question_id"] == critical.as_str()).unwrap().clone();
        assert_eq!(reopened["id"], finding["id"], "one finding per question, reopened");
        assert_eq!(reopened["status"], "open");
        assert!(overdue_vendors(&app).await.is_empty(), "the accepted cycle moves the next review a year on");
        let next_year = chrono::Utc::now().date_naive().checked_add_months(chrono::Months::new(12)).unwrap();
        let read = app.get(&format!("/api/v1/vendors/{vendor_id}"), &analyst).await;
        assert_eq!(read.ok(200)["next_review_on"], next_year.to_string().as_str());
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'assessment.cycle_started'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'finding.reopened'").await, 1);

        // Another vendor cannot see it; the list filters by vendor.
        let stranger = app.vendor_token(uuid::Uuid::new_v4());
        app.get(&format!("/api/v1/assessments/{ma}"), &stranger).await.problem(404, "not_found");
        let by_vendor = app.get(&format!("/api/v1/assessments?vendor_id={vendor_id}&status=accepted"), &analyst).await;
        assert_eq!(by_vendor.ok(200)["page"]["total"], 1);
        app.stop().await;
    }
);

both!(
    async fn each_refused_answer_is_named_by_its_place_in_the_request(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = crate::workbooks::setup(&app).await;
        // An unknown question first: the later errors still name their own places, not shifted by the one skipped.
        let resp = app
            .save_answers(&token, &aid, &json!({"answers": [
                {"question_id": "NOPE-01", "value": "yes"},
                {"question_id": "WISP-01", "value": "yes"},
                {"question_id": "MON-03", "value": "2024-11-30"},
            ]}))
            .await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["answers[0].question_id", "answers[2].question_id"], "{}", resp.text);
        assert!(resp.text.contains("MON-03 is asked only when MON-02 is yes"), "{}", resp.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_buyer_lists_only_its_departments_assessments_and_findings_with_totals_to_match(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Scope Co").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &analyst).await.ok(200).clone();
        let critical = first_critical_yes(&template);
        let (_, ma, finding) = accepted_with_a_finding(&app, &vendor, &critical).await;
        app.department("PARKS").await;
        let doit = app.buyer_token("DOIT", "bea");
        let parks = app.buyer_token("PARKS", "pat");
        let ids = |page: &Value| -> Vec<String> {
            page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
        };
        for list in ["/api/v1/assessments", "/api/v1/findings"] {
            let all = app.get(list, &analyst).await.ok(200).clone();
            let own = app.get(list, &doit).await.ok(200).clone();
            let other = app.get(list, &parks).await.ok(200).clone();
            assert!(!ids(&all).is_empty(), "{list}: {all}");
            assert_eq!(ids(&own), ids(&all), "{list}: every one is DOIT's");
            assert_eq!(own["page"]["total"], all["page"]["total"], "{list}");
            assert!(ids(&other).is_empty(), "{list}: {other}");
            assert_eq!(other["page"]["total"], 0, "{list}");
        }
        let own = app.get("/api/v1/assessments", &doit).await.ok(200).clone();
        assert!(ids(&own).contains(&ma));
        let own = app.get("/api/v1/findings", &doit).await.ok(200).clone();
        assert!(ids(&own).contains(&finding["id"].as_str().unwrap().to_string()));
        app.stop().await;
    }
);

both!(
    async fn the_findings_register_holds_the_lists_findings_scoped_and_filtered_as_the_list_is(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Register Findings Co").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &analyst).await.ok(200).clone();
        let critical = first_critical_yes(&template);
        let (_, _, finding) = accepted_with_a_finding(&app, &vendor, &critical).await;
        app.department("PARKS").await;
        let vendor_id: uuid::Uuid = vendor["id"].as_str().unwrap().parse().unwrap();
        // Each row of the register: severity, status, question and finding, as the list gives them in its order.
        let register = |query: String, token: String| {
            let client = app.client.clone();
            let url = format!("{}/api/v1/reports/findings.xlsx{query}", app.base);
            async move {
                let resp = client.get(url).bearer_auth(token).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                let bytes = resp.bytes().await.unwrap().to_vec();
                let book = procurement_review::sheets::Workbook::read(&bytes).unwrap();
                let (_, range) = book.sheet("Findings").unwrap();
                (1..range.height() as u32)
                    .map(|r| (0..4).map(|c| range.get_value((r, c)).unwrap().to_string()).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            }
        };
        let listed = |query: &str, token: String| {
            let path = format!("/api/v1/findings?limit=200{query}");
            let app = &app;
            async move {
                let page = app.get(&path, &token).await.ok(200).clone();
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| {
                        ["severity", "status", "question_id", "title"]
                            .iter()
                            .map(|k| f[*k].as_str().unwrap().to_string())
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            }
        };
        let all = register(String::new(), analyst.clone()).await;
        assert!(!all.is_empty(), "{all:?}");
        assert_eq!(all, listed("", analyst.clone()).await);
        assert!(all.iter().any(|row| row[2] == critical && row[0] == "critical"), "{all:?}");
        // The department's buyer and the vendor see every one of them; another department and another vendor none.
        assert_eq!(register(String::new(), app.buyer_token("DOIT", "bea")).await, all);
        assert_eq!(register(String::new(), app.vendor_token(vendor_id)).await, all);
        assert!(register(String::new(), app.buyer_token("PARKS", "pat")).await.is_empty());
        assert!(register(String::new(), app.vendor_token(uuid::Uuid::new_v4())).await.is_empty());
        // Filters as the list's; a severity that does not exist is refused naming the parameter.
        let critical_rows = register("?severity=critical".into(), analyst.clone()).await;
        assert_eq!(critical_rows, listed("&severity=critical", analyst.clone()).await);
        assert!(!critical_rows.is_empty() && critical_rows.iter().all(|r| r[0] == "critical"));
        let request = finding["request_id"].as_str().unwrap();
        assert_eq!(
            register(format!("?request_id={request}&status=open"), analyst.clone()).await,
            listed(&format!("&request_id={request}&status=open"), analyst.clone()).await
        );
        let bogus = app.get("/api/v1/reports/findings.xlsx?severity=severe", &analyst).await;
        bogus.problem(400, "bad_parameter");
        assert_eq!(bogus.fields(), ["severity"]);
        app.stop().await;
    }
);
