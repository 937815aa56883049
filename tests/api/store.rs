//! The store on its own, the same story on both backends (as atuin tests its database layer): what is written
//! reads back alike, a unique violation and a stale version are refused with the same problem, a refused change
//! writes no audit record, and the audit chain verifies.

use procurement_review::domain::PageRequest;
use procurement_review::domain::registry::{DepartmentPatchBody, NewDepartment};
use procurement_review::store::{Actor, AuditFilter, DepartmentFilter};

use crate::both;
use crate::helpers::TestApp;

fn ops() -> Actor {
    Actor {
        subject: "ops".into(),
        role: "admin".into(),
        request_id: Some("store-test".into()),
        invitation: None,
    }
}

fn innovation() -> NewDepartment {
    NewDepartment {
        code: "DOIT".into(),
        name: "Innovation and Technology".into(),
        surveillance_ordinance: false,
    }
}

both!(
    async fn a_department_is_written_read_refused_and_audited_alike(backend) {
        let app = TestApp::spawn(backend).await;
        let store = &app.store;
        let created = store.create_department(&ops(), innovation()).await.unwrap();
        assert_eq!((created.code.as_str(), created.version), ("DOIT", 1));
        assert_eq!(store.get_department(created.id).await.unwrap(), Some(created.clone()));

        let twice = store.create_department(&ops(), innovation()).await.unwrap_err();
        assert_eq!((twice.status().as_u16(), twice.code().as_str()), (409, "duplicate_department"));

        let rename = |name: &str| DepartmentPatchBody { name: Some(name.into()), surveillance_ordinance: None };
        let stale = store.update_department(&ops(), created.id, 7, rename("Stale")).await.unwrap_err();
        assert_eq!((stale.status().as_u16(), stale.code().as_str()), (412, "stale_etag"));
        let renamed = store.update_department(&ops(), created.id, 1, rename("DoIT")).await.unwrap();
        assert_eq!((renamed.name.as_str(), renamed.version), ("DoIT", 2));
        assert!(renamed.updated_at >= created.updated_at);

        let page = PageRequest { limit: 10, offset: 0 };
        let filter = DepartmentFilter { q: Some("doi".into()), ..DepartmentFilter::default() };
        let found = store.list_departments(&filter, page).await.unwrap();
        assert_eq!(found.items, std::slice::from_ref(&renamed));
        let none = DepartmentFilter { surveillance_ordinance: Some(true), q: Some("doi".into()) };
        assert!(store.list_departments(&none, page).await.unwrap().items.is_empty());

        let audit = AuditFilter {
            object_type: Some("department".into()),
            actor: Some("ops".into()),
            ..AuditFilter::default()
        };
        let (records, _) = store.list_audit(&audit, page, None).await.unwrap();
        let mut actions: Vec<(&str, &str)> =
            records.items.iter().map(|r| (r.action.as_str(), r.actor.as_str())).collect();
        actions.sort();
        assert_eq!(actions, [("department.created", "ops"), ("department.updated", "ops")], "the refusals wrote nothing");
        let report = store.verify_audit("ops").await.unwrap();
        assert!(report.ok, "{report:?}");
        app.stop().await;
    }
);
