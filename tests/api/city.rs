//! The city-scale data generator (`city_data.rs`, which `benches/city.rs` runs at a hundred thousand requests),
//! run at a thousandth of that scale: what it makes is what the service shows, every list pages through all of
//! it by cursor without a row twice or missed, the register holds every row, and the audit chain it extends
//! verifies.

use std::collections::HashSet;

use poem_openapi::types::ToJSON;
use procurement_review::api::PageInfo;
use procurement_review::api::requests;
use procurement_review::auth::Role;
use procurement_review::domain::PageRequest;
use procurement_review::store::{RequestFilter, Scope};
use procurement_review::workflow::Caller;
use serde_json::Value;

use crate::both;
use crate::city_data::{Scale, generate};
use crate::helpers::TestApp;

/// Follows `next_cursor` (or `next_offset` on a list that pages by offset only) from the first page of `path`
/// (which has no query string yet) to the end; returns the ids in order and the `total` of the first page.
async fn walk(app: &TestApp, path: &str, token: &str) -> (Vec<String>, i64) {
    let first = app.get(&format!("{path}?limit=7"), token).await;
    let body = first.ok(200).clone();
    let total = body["page"]["total"].as_i64().expect("a total");
    let mut ids: Vec<String> = Vec::new();
    let mut page: Value = body;
    loop {
        for item in page["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_string());
        }
        let next = if let Some(cursor) = page["page"]["next_cursor"].as_str() {
            format!("{path}?limit=7&cursor={cursor}")
        } else if let Some(offset) = page["page"]["next_offset"].as_i64() {
            format!("{path}?limit=7&offset={offset}")
        } else {
            break;
        };
        page = app.get(&next, token).await.ok(200).clone();
    }
    (ids, total)
}

both!(
    async fn generated_city_is_what_the_service_lists(backend) {
        let app = TestApp::spawn(backend).await;
        let scale = Scale::divided(1_000);
        let made = generate(&app.base, app.verifier(), &app.store, &scale, false).await;
        assert_eq!(made.vendors.len(), scale.vendors);
        assert!(
            made.assessments >= scale.assessments / 2 && made.assessments <= scale.assessments * 2,
            "about {} assessments wanted, {} made",
            scale.assessments,
            made.assessments
        );
        assert_eq!(made.answered, made.assessments);
        assert!(made.submitted_assessments > 0);
        assert!(made.decisions > 0, "some CIO or Finance steps were decided");

        let cio = app.token(Role::Cio);
        let (requests, total) = walk(&app, "/api/v1/requests", &cio).await;
        assert_eq!(total as usize, scale.requests);
        assert_eq!(requests.len(), scale.requests, "the cursor reaches every request");
        assert_eq!(requests.iter().collect::<HashSet<_>>().len(), requests.len());
        let made_ids: HashSet<&String> = made.requests.iter().collect();
        assert!(requests.iter().filter(|id| made_ids.contains(id)).count() >= scale.requests - 1);

        // A page of requests is written by serde (`api::serialized`), not by poem-openapi's `ToJSON`: the two
        // must give the same JSON for every request of every state the city holds, for the CIO (who may decide)
        // and for the department's buyer (who may edit, submit, withdraw), on a page with a cursor to follow.
        for (caller, scope) in [
            (Caller::new("cio-carla", vec![Role::Cio, Role::Finance], None), Scope::All),
            (
                Caller::new("buyer-doit", vec![Role::Buyer], Some("DOIT".to_string())),
                Scope::Department("DOIT".to_string()),
            ),
        ] {
            let limit = PageRequest { limit: 60, offset: 0 };
            let (found, next) = app
                .store
                .list_request_standings(&scope, &RequestFilter::default(), limit, None)
                .await
                .unwrap();
            assert!(!found.items.is_empty());
            let returned = found.items.len();
            let page = requests::RequestPage {
                items: found
                    .items
                    .into_iter()
                    .map(|(record, standing)| requests::RequestView::new(record, &standing, &caller).unwrap())
                    .collect(),
                page: PageInfo::keyset(found.total, limit, returned, false, next.map(|k| k.encode())),
            };
            let statuses: HashSet<_> = page.items.iter().map(|r| r.status).collect();
            let actions: HashSet<_> = page.items.iter().flat_map(|r| r.allowed_actions.clone()).collect();
            assert!(statuses.len() >= 3, "varied states: {statuses:?}");
            assert!(!actions.is_empty(), "some request allows {} something", caller.subject);
            let by_serde = serde_json::to_value(&page).unwrap();
            let by_poem = page.to_json().unwrap();
            assert_eq!(by_serde, by_poem, "serde and poem-openapi write the page alike");
            // And the service answers that JSON.
            if caller.department.is_none() {
                let cio = app.token(Role::Cio);
                let answered = app.get("/api/v1/requests?limit=60", &cio).await;
                assert_eq!(answered.ok(200)["items"].as_array().unwrap().len(), returned);
            }
        }

        // Ten fiscal years, each about a tenth of the requests.
        let mut years = HashSet::new();
        for id in requests.iter().take(30) {
            let r = app.get(&format!("/api/v1/requests/{id}"), &cio).await;
            years.insert(r.ok(200)["fiscal_year"].as_i64().unwrap());
        }
        assert!(years.len() >= 8, "fiscal years seen: {years:?}");

        let analyst = app.token(Role::SecurityAnalyst);
        let (assessments, total) = walk(&app, "/api/v1/assessments", &analyst).await;
        assert_eq!(total as usize, made.assessments);
        assert_eq!(assessments.len(), made.assessments);

        assert!(made.accepted_assessments > 0);
        let (findings, total) = walk(&app, "/api/v1/findings", &analyst).await;
        assert!(total > 0, "accepted assessments with unmet expectations raise findings");
        assert_eq!(findings.len() as i64, total);
        assert_eq!(findings.iter().collect::<HashSet<_>>().len(), findings.len());

        let (vendors, total) = walk(&app, "/api/v1/vendors", &cio).await;
        assert!(total as usize >= scale.vendors);
        assert_eq!(vendors.len(), total as usize);

        let auditor = app.token(Role::Auditor);
        let audit = app.get("/api/v1/audit?limit=1", &auditor).await;
        assert_eq!(
            audit.ok(200)["page"]["total"].as_i64().unwrap(),
            scale.audit_records,
            "the trail holds the records wanted"
        );
        assert!(made.audit_appended > 0);
        // The trail pages by cursor, oldest first, every record once and in order.
        let mut seqs: Vec<i64> = Vec::new();
        let mut next = "/api/v1/audit?limit=200".to_string();
        loop {
            let page = app.get(&next, &auditor).await.ok(200).clone();
            assert_eq!(page["page"]["total"].as_i64(), Some(scale.audit_records));
            seqs.extend(page["items"].as_array().unwrap().iter().map(|r| r["seq"].as_i64().unwrap()));
            match page["page"]["next_cursor"].as_str() {
                Some(c) => next = format!("/api/v1/audit?limit=200&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seqs.len() as i64, scale.audit_records);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "in order, without a gap");
        app.get(&format!("{next}&offset=5"), &auditor).await.problem(422, "validation_failed");
        app.get("/api/v1/audit?cursor=bm90LWEtY3Vyc29y", &auditor).await.problem(422, "validation_failed");
        let verified = app.get("/api/v1/audit/verify", &auditor).await;
        assert_eq!(verified.ok(200)["ok"], true, "{}", verified.text);

        // The register holds every request, one row each below the header.
        let register = app
            .client
            .get(format!("{}/api/v1/reports/requests.xlsx", app.base))
            .bearer_auth(&cio)
            .send()
            .await
            .unwrap();
        assert_eq!(register.status(), 200);
        let bytes = register.bytes().await.unwrap().to_vec();
        let book = procurement_review::sheets::Workbook::read(&bytes).unwrap();
        let (_, range) = book.sheet("Requests").unwrap();
        assert_eq!(range.height(), scale.requests + 1);
    }
);
