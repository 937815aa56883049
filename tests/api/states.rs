//! State columns hold only values the service knows, on both backends: the database refuses anything else, and a
//! value that got in around it (a constraint dropped by hand) makes reads fail loudly instead of standing in for
//! some default — an unknown request status must never read as an editable draft.

use procurement_review::auth::Role;
use serde_json::json;

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

        // Around the column's CHECK: on SQLite for this one connection, on PostgreSQL by dropping it.
        app.exec_sql(match backend {
            Backend::Sqlite => {
                "PRAGMA ignore_check_constraints = ON; \
                 UPDATE plan_items SET centralization = 'regional'; \
                 PRAGMA ignore_check_constraints = OFF"
            }
            Backend::Postgres => "ALTER TABLE plan_items DROP CONSTRAINT plan_items_centralization_check",
        })
        .await;
        if backend == Backend::Postgres {
            app.exec_sql("UPDATE plan_items SET centralization = 'regional'").await;
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM plan_items WHERE centralization = 'regional'").await, 1);

        app.get(&path, &cio).await.problem(500, "internal_error");
        app.get("/api/v1/plan/items", &cio).await.problem(500, "internal_error");
        app.stop().await;
    }
);
