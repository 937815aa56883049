//! State columns hold only values the service knows, on both backends: the database refuses anything else, and a
//! value that got in around it (a constraint dropped by hand) makes reads fail loudly instead of standing in for
//! some default — an unknown request status must never read as an editable draft.

use procurement_review::auth::Role;
use procurement_review::domain::assessments::{
    AssessmentReviewVerdict, AssessmentStatus, FindingStatus,
};
use procurement_review::domain::audit::VerifyScope;
use procurement_review::domain::budgets::{BudgetReviewVerdict, BudgetStatus, Centralization};
use procurement_review::domain::catalog::ServiceStatus;
use procurement_review::domain::contracts::DataDisposition;
use procurement_review::domain::council::{CouncilDocumentKind, CouncilOutcome};
use procurement_review::domain::duplicate_learning::AliasProposalStatus;
use procurement_review::domain::duplicates::{CandidateKind, ExceptionStatus, MatchClass};
use procurement_review::domain::incidents::{EvidenceKind, IncidentStatus, NoticeRecipient};
use procurement_review::domain::orders::{AppealOutcome, OrderStatus};
use procurement_review::domain::policy::{Hosting, StepKindTag};
use procurement_review::domain::questionnaires::Severity;
use procurement_review::domain::requests::{Status, VersionKind};
use procurement_review::domain::route::{DenialReason, Outcome, POLICY_STEP, StepState};
use procurement_review::domain::safeguards::SafeguardState;
use procurement_review::domain::webhooks::{DeliveryChannel, DeliveryStatus};
use serde_json::json;
use strum::VariantArray;

use crate::both;
use crate::catalog::esign;
use crate::helpers::{Backend, TestApp};
use crate::requests::body;

/// The statement that lets an unknown request status in, per backend.
fn drop_status_guard(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &[
            "DROP TRIGGER requests_status_known_insert",
            "DROP TRIGGER requests_status_known_update",
        ],
        Backend::Postgres => &["ALTER TABLE requests DROP CONSTRAINT requests_status_known"],
    }
}

/// Writes `value` into `table.column` of every row around the column's CHECK (declared with the column): on SQLite
/// for this one connection, on PostgreSQL by dropping the constraint.
async fn write_around_check(
    app: &TestApp,
    backend: Backend,
    table: &str,
    column: &str,
    value: &str,
) {
    let update = format!("UPDATE {table} SET {column} = '{value}'");
    match backend {
        Backend::Sqlite => {
            app.exec_sql(&format!(
                "PRAGMA ignore_check_constraints = ON; {update}; PRAGMA ignore_check_constraints = OFF"
            ))
            .await;
        }
        Backend::Postgres => {
            app.exec_sql(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check"
            ))
            .await;
            app.exec_sql(&update).await;
        }
    }
    let written = app
        .count(&format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} = '{value}'"
        ))
        .await;
    assert!(written > 0, "{table}.{column} = {value:?} was written");
}

both!(
    async fn the_database_refuses_a_state_the_service_does_not_know(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, submitted) = app.draft_and_submit(&buyer, body(&vendor, 6_000_000)).await;
        let service = app.post("/api/v1/catalog/services", &app.token(Role::Cio), esign()).await;
        let service = service.ok(201)["id"].as_str().unwrap().to_string();

        // SQLite's triggers name `table.column`; PostgreSQL names the constraint `table_column_known`.
        for (sql, sqlite, postgres) in [
            ("UPDATE requests SET status = 'archived'", "requests.status", "requests_status_known"),
            ("UPDATE route_steps SET state = 'parked'", "route_steps.state", "route_steps_state_known"),
            ("UPDATE route_steps SET kind = 'mayor_approval'", "route_steps.kind", "route_steps_kind_known"),
            (
                "UPDATE catalog_services SET status = 'archived'",
                "CHECK constraint failed",
                "catalog_services_status_check",
            ),
        ] {
            let refused = app.try_exec_sql(sql).await.expect_err(sql);
            let named = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            assert!(refused.contains(named), "{sql}: {refused}");
        }
        let read = app.get(&format!("/api/v1/requests/{id}"), &buyer).await;
        assert_eq!(read.ok(200)["status"], submitted["status"]);
        let cio = app.token(Role::Cio);
        let catalogue = app.get(&format!("/api/v1/catalog/services/{service}"), &cio).await;
        assert_eq!(catalogue.ok(200)["status"], "active");
        app.stop().await;
    }
);

both!(
    async fn an_unknown_stored_status_fails_the_read_and_the_edit_instead_of_reading_as_a_draft(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, _) = app.draft_and_submit(&buyer, body(&vendor, 6_000_000)).await;
        for sql in drop_status_guard(backend) {
            app.exec_sql(sql).await;
        }
        app.exec_sql("UPDATE requests SET status = 'archived'").await;

        let read = app.get(&format!("/api/v1/requests/{id}"), &buyer).await;
        read.problem(500, "internal_error");
        let audited = app.count("SELECT COUNT(*) FROM audit_log").await;
        app.patch(&format!("/api/v1/requests/{id}"), &buyer, json!({"title": "Renamed"}), Some("\"1\""))
            .await
            .problem(500, "internal_error");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audited, "no change was audited");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM requests WHERE status = 'archived'").await,
            1,
            "nothing was changed"
        );
        app.stop().await;
    }
);

both!(
    async fn an_unknown_stored_plan_item_centralization_fails_the_read_instead_of_being_passed_on(backend) {
        let app = TestApp::spawn(backend).await;
        let cio = app.token(Role::Cio);
        let item = app
            .post(
                "/api/v1/plan/items",
                &cio,
                json!({
                    "title": "Citywide e-signature", "description": "One signing service for every department",
                    "departments": ["DOIT"], "centralization": "shared", "priority": 1,
                    "first_fiscal_year": 2027, "last_fiscal_year": 2031,
                    "capital_cents": 20_000_000, "operating_cents": 5_000_000
                }),
            )
            .await;
        let id = item.ok(201)["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/plan/items/{id}");
        assert_eq!(app.get(&path, &cio).await.ok(200)["centralization"], "shared");

        write_around_check(&app, backend, "plan_items", "centralization", "regional").await;

        app.get(&path, &cio).await.problem(500, "internal_error");
        app.get("/api/v1/plan/items", &cio).await.problem(500, "internal_error");
        app.stop().await;
    }
);

/// Every text form of `T`, sorted.
fn forms<T: VariantArray + Copy + Into<&'static str>>() -> Vec<String> {
    forms_of(T::VARIANTS)
}

/// The text forms of `values` (some of an enum's values), sorted.
fn forms_of<T: Copy + Into<&'static str>>(values: &[T]) -> Vec<String> {
    let mut forms: Vec<String> = values.iter().map(|v| String::from((*v).into())).collect();
    forms.sort();
    forms
}

/// Every state column the store reads into a domain enum, with that enum's text forms.
fn state_columns() -> Vec<(&'static str, &'static str, Vec<String>)> {
    let mut decision_steps = forms::<StepKindTag>();
    decision_steps.push(POLICY_STEP.to_string());
    decision_steps.sort();
    vec![
        ("requests", "status", forms::<Status>()),
        ("request_versions", "kind", forms::<VersionKind>()),
        ("route_steps", "kind", forms::<StepKindTag>()),
        ("route_steps", "state", forms::<StepState>()),
        ("decisions", "step", decision_steps),
        ("decisions", "outcome", forms::<Outcome>()),
        ("decisions", "reason_code", forms::<DenialReason>()),
        ("council_votes", "outcome", forms::<CouncilOutcome>()),
        ("catalog_services", "status", forms::<ServiceStatus>()),
        ("duplicate_exceptions", "status", forms::<ExceptionStatus>()),
        ("alias_proposals", "status", forms::<AliasProposalStatus>()),
        ("request_safeguards", "status", forms::<SafeguardState>()),
        ("assessments", "status", forms::<AssessmentStatus>()),
        (
            "assessment_reviews",
            "outcome",
            forms::<AssessmentReviewVerdict>(),
        ),
        ("findings", "status", forms::<FindingStatus>()),
        ("webhook_deliveries", "status", forms::<DeliveryStatus>()),
        ("webhook_deliveries", "channel", forms::<DeliveryChannel>()),
        ("incidents", "status", forms::<IncidentStatus>()),
        ("incident_evidence", "kind", forms::<EvidenceKind>()),
        ("incident_notices", "recipient", forms::<NoticeRecipient>()),
        ("remediation_orders", "status", forms::<OrderStatus>()),
        (
            "remediation_orders",
            "status_before_appeal",
            forms::<OrderStatus>(),
        ),
        (
            "remediation_orders",
            "appeal_outcome",
            forms::<AppealOutcome>(),
        ),
        ("plan_items", "centralization", forms::<Centralization>()),
        ("budgets", "status", forms::<BudgetStatus>()),
        ("budget_reviews", "outcome", forms::<BudgetReviewVerdict>()),
        // The CIO office and Finance review budgets; no other role.
        (
            "budget_reviews",
            "role",
            forms_of(&[Role::Cio, Role::Finance]),
        ),
        (
            "request_duplicates",
            "candidate_kind",
            forms::<CandidateKind>(),
        ),
        ("request_duplicates", "class", forms::<MatchClass>()),
        (
            "duplicate_dismissals",
            "candidate_kind",
            forms::<CandidateKind>(),
        ),
        ("findings", "severity", forms::<Severity>()),
        ("products", "hosting", forms::<Hosting>()),
        ("contracts", "data_disposition", forms::<DataDisposition>()),
        ("council_documents", "kind", forms::<CouncilDocumentKind>()),
        ("incidents", "reporter_role", forms::<Role>()),
        ("incident_evidence", "uploaded_role", forms::<Role>()),
        ("audit_checkpoints", "scope", forms::<VerifyScope>()),
    ]
}

/// The quoted values of the list that starts at `start` in `sql` (up to its closing parenthesis), sorted.
fn listed(sql: &str, start: usize) -> Vec<String> {
    let end = start + sql[start..].find(')').expect("a closed list");
    let mut values: Vec<String> = sql[start..end]
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect();
    values.sort();
    values
}

/// The lists of values each constraint on `table.column` allows, as the database's catalogue holds them: on SQLite
/// the CHECKs of the table's definition and the triggers' `NOT IN` lists; on PostgreSQL the CHECK constraints.
async fn allowed(app: &TestApp, backend: Backend, table: &str, column: &str) -> Vec<Vec<String>> {
    match backend {
        Backend::Sqlite => {
            let definitions = app
                .texts(&format!("SELECT sql FROM sqlite_master WHERE tbl_name = '{table}' AND sql IS NOT NULL"))
                .await;
            let mut lists = Vec::new();
            for sql in &definitions {
                for marker in [format!("CHECK ({column} IN ("), format!("NEW.{column} NOT IN (")] {
                    lists.extend(sql.match_indices(&marker).map(|(at, _)| listed(sql, at + marker.len())));
                }
            }
            lists
        }
        Backend::Postgres => app
            .texts(&format!(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
                 WHERE c.conrelid = '{table}'::regclass AND c.contype = 'c' AND a.attname = '{column}'"
            ))
            .await
            .iter()
            .map(|definition| listed(definition, definition.find("ARRAY[").expect(definition)))
            .collect(),
    }
}

both!(
    async fn every_state_column_is_constrained_to_exactly_its_enums_values(backend) {
        let app = TestApp::spawn(backend).await;
        for (table, column, expected) in state_columns() {
            let lists = allowed(&app, backend, table, column).await;
            assert!(!lists.is_empty(), "{backend:?}: {table}.{column} has no constraint");
            for list in lists {
                assert_eq!(list, expected, "{backend:?}: {table}.{column}");
            }
        }
        app.stop().await;
    }
);

both!(
    async fn an_order_status_before_appeal_or_a_notice_recipient_the_service_does_not_know_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let (id, now) = match backend {
            Backend::Sqlite => ("randomblob(16)", "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"),
            Backend::Postgres => ("gen_random_uuid()", "now()"),
        };
        let order = |before: &str| {
            format!(
                "INSERT INTO remediation_orders (id, department_code, finding_ids, actions, due_date, status, \
                 status_before_appeal, issued_by, issued_at, updated_at) \
                 VALUES ({id}, 'DOIT', '[]', '[\"patch\"]', '2031-01-31', 'appealed', {before}, 'cio', {now}, {now})"
            )
        };
        // A known value goes in, and so does none (an order never appealed).
        app.exec_sql(&order("'acknowledged'")).await;
        app.exec_sql(&order("NULL")).await;
        let refused = app.try_exec_sql(&order("'suspended'")).await.expect_err("an unknown status is refused");
        let named = match backend {
            Backend::Sqlite => "remediation_orders.status_before_appeal must be one of issued, acknowledged",
            Backend::Postgres => "remediation_orders_status_before_appeal_known",
        };
        assert!(refused.contains(named), "{refused}");
        let refused = app
            .try_exec_sql("UPDATE remediation_orders SET status_before_appeal = 'suspended'")
            .await
            .expect_err("an unknown status is refused");
        assert!(refused.contains(named), "{refused}");
        assert_eq!(app.count("SELECT COUNT(*) FROM remediation_orders WHERE status_before_appeal = 'suspended'").await, 0);

        let notice = |recipient: &str| {
            format!(
                "INSERT INTO incident_notices (id, incident_id, recipient, sent_at, method, recorded_by, recorded_at) \
                 VALUES ({id}, {id}, '{recipient}', {now}, 'letter', 'cio', {now})"
            )
        };
        let refused = app.try_exec_sql(&notice("ny_attorney_general")).await.expect_err("an unknown recipient");
        let named = match backend {
            Backend::Sqlite => "incident_notices.recipient must be one of ma_attorney_general",
            Backend::Postgres => "incident_notices_recipient_known",
        };
        assert!(refused.contains(named), "{refused}");
        assert_eq!(app.count("SELECT COUNT(*) FROM incident_notices").await, 0);
        app.stop().await;
    }
);

both!(
    async fn an_unknown_stored_version_kind_fails_the_read_naming_it(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, _) = app.draft_and_submit(&buyer, body(&vendor, 6_000_000)).await;
        let path = format!("/api/v1/requests/{id}/versions");
        let versions = app.get(&path, &buyer).await;
        assert_eq!(versions.ok(200)["items"][0]["kind"], "submitted");

        write_around_check(&app, backend, "request_versions", "kind", "merged").await;

        app.get(&path, &buyer).await.problem(500, "internal_error");
        let error = app.store.list_versions(id.parse().unwrap()).await.unwrap_err();
        let error = format!("{error}");
        assert!(error.contains("request version kind \"merged\" is not one this service knows"), "{error}");
        app.stop().await;
    }
);

/// Lets `value` into `table.column` of every row around the constraint a later migration (0026, 0029, 0030) gave
/// it: SQLite's triggers dropped, PostgreSQL's `table_column_known` CHECK dropped.
async fn write_around_known(
    app: &TestApp,
    backend: Backend,
    table: &str,
    column: &str,
    value: &str,
) {
    match backend {
        Backend::Sqlite => {
            for event in ["insert", "update"] {
                app.exec_sql(&format!("DROP TRIGGER {table}_{column}_known_{event}"))
                    .await;
            }
        }
        Backend::Postgres => {
            app.exec_sql(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_known"
            ))
            .await;
        }
    }
    app.exec_sql(&format!("UPDATE {table} SET {column} = '{value}'"))
        .await;
    let written = app
        .count(&format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} = '{value}'"
        ))
        .await;
    assert!(written > 0, "{table}.{column} = {value:?} was written");
}

both!(
    async fn a_hosting_the_service_does_not_know_is_refused_and_if_stored_fails_the_read_naming_it(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("MeetNow Inc").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let created = app
            .post(
                "/api/v1/products",
                &analyst,
                json!({"vendor_id": vendor["id"], "name": "MeetNow", "hosting": "on_premises",
                       "data_classes": ["pi_ma"]}),
            )
            .await;
        let id = created.ok(201)["id"].as_str().unwrap().to_string();
        assert_eq!(created.body["hosting"], "on_premises");

        let refused = app
            .try_exec_sql("UPDATE products SET hosting = 'edge'")
            .await
            .expect_err("an unknown hosting is refused");
        let named = match backend {
            Backend::Sqlite => "products.hosting must be one of vendor_cloud, on_premises",
            Backend::Postgres => "products_hosting_known",
        };
        assert!(refused.contains(named), "{refused}");
        assert_eq!(app.count("SELECT COUNT(*) FROM products WHERE hosting = 'on_premises'").await, 1);

        write_around_known(&app, backend, "products", "hosting", "edge").await;

        let path = format!("/api/v1/products/{id}");
        app.get(&path, &analyst).await.problem(500, "internal_error");
        let error = app.store.get_product(None, id.parse().unwrap()).await.unwrap_err();
        let error = format!("{error}");
        assert!(error.contains("product hosting \"edge\" is not one this service knows"), "{error}");
        app.stop().await;
    }
);
