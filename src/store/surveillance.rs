// The register of surveillance technologies the City Council approved, and the covered departments' Annual
// Surveillance Reports [Boston 16-63]. Included by both backends as a submodule, like requests/loaders.rs.

use std::collections::HashMap;

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::council::CouncilDocumentKind;
use crate::domain::now;
use crate::domain::requests::{RequestFields, Status};
use crate::error::ApiError;
use crate::store::{
    Actor, Scope, SurveillanceReportRecord, TechnologyRecord, UsePolicyRecord, to_json, unique_as,
};
use crate::workflow::surveillance::{self as plan, ReportFields, Technology};
use crate::workflow::{Caller, Refusal};

type RegisterRow = (
    Uuid,
    String,
    String,
    String,
    Json<RequestFields>,
    Status,
    String,
    String,
    chrono::NaiveDate,
    i32,
);

/// Technologies acquired through a request the Council approved (its latest approving vote), unless the request
/// was withdrawn or denied since; `only` narrows it to one request.
async fn register(tx: &mut Tx, only: Option<Uuid>) -> Result<Vec<TechnologyRecord>, ApiError> {
    let rows: Vec<RegisterRow> = sqlx::query_as(
        "SELECT r.id, r.department_code, d.name, r.title, r.fields, r.status, v.legal_name, c.docket, c.vote_date, \
         c.submission FROM council_votes c JOIN requests r ON r.id = c.request_id \
         JOIN departments d ON d.code = r.department_code JOIN vendors v ON v.id = r.vendor_id \
         WHERE c.outcome = 'approved' AND r.status NOT IN ('withdrawn', 'denied') AND ($1 IS NULL OR r.id = $1) \
         ORDER BY c.vote_date, r.id, c.submission",
    )
    .bind(only)
    .fetch_all(&mut **tx)
    .await?;
    let policies: Vec<UsePolicyRecord> = sqlx::query_as(
        "SELECT id, request_id, file_name, sha256, uploaded_at FROM council_documents \
         WHERE kind = $2 AND ($1 IS NULL OR request_id = $1) ORDER BY uploaded_at, id",
    )
    .bind(only)
    .bind(CouncilDocumentKind::SurveillanceUsePolicy)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_request: HashMap<Uuid, Vec<UsePolicyRecord>> = HashMap::new();
    for p in policies {
        by_request.entry(p.request_id).or_default().push(p);
    }
    let mut out: Vec<TechnologyRecord> = Vec::new();
    for (id, department, name, title, fields, status, vendor, docket, vote_date, _) in rows {
        let record = TechnologyRecord {
            request_id: id,
            department_code: department,
            department_name: name,
            title,
            technology: fields.0.product_name,
            vendor_name: vendor,
            request_status: status,
            docket,
            vote_date,
            use_policies: by_request.get(&id).cloned().unwrap_or_default(),
        };
        // A later approving vote (on a later version) replaces the earlier one.
        match out.iter_mut().find(|t| t.request_id == id) {
            Some(existing) => *existing = record,
            None => out.push(record),
        }
    }
    Ok(out)
}

fn technology(record: &TechnologyRecord) -> Technology {
    Technology {
        request_id: record.request_id,
        department: record.department_code.clone(),
        technology: record.technology.clone(),
        approved_on: record.vote_date,
    }
}

impl Repo {
    pub async fn surveillance_register(&self) -> Result<Vec<TechnologyRecord>, ApiError> {
        let mut tx = self.pool.begin().await?;
        let out = register(&mut tx, None).await?;
        tx.rollback().await?;
        Ok(out)
    }

    /// Reports, of one year and/or one technology.
    pub async fn surveillance_reports(
        &self,
        year: Option<i32>,
        request_id: Option<Uuid>,
    ) -> Result<Vec<SurveillanceReportRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT * FROM surveillance_reports WHERE ($1 IS NULL OR year = $1) AND ($2 IS NULL OR request_id = $2) \
             ORDER BY year, department_code, request_id",
        )
        .bind(year)
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn get_surveillance_report(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<SurveillanceReportRecord, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM surveillance_reports WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .filter(|r: &SurveillanceReportRecord| scope.admits_department(&r.department_code))
                .ok_or(Refusal::NotFound("surveillance report"))?,
        )
    }

    /// A covered department files its report on one technology for one year (once; then it is replaced).
    pub async fn create_surveillance_report(
        &self,
        actor: &Actor,
        caller: &Caller,
        request_id: Uuid,
        year: i32,
        fields: ReportFields,
    ) -> Result<SurveillanceReportRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let found = register(&mut tx, Some(request_id)).await?;
        let entry = found
            .first()
            .ok_or(Refusal::NotFound("surveillance technology"))?;
        plan::plan_report(caller, &technology(entry), year, now().date_naive())?;
        let at = now();
        let record: SurveillanceReportRecord = sqlx::query_as(
            "INSERT INTO surveillance_reports (id, request_id, department_code, year, usage, non_suspect_capture, \
             sharing, complaints, audits, violations, version, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(request_id)
        .bind(&entry.department_code)
        .bind(year)
        .bind(&fields.usage)
        .bind(&fields.non_suspect_capture)
        .bind(Json(&fields.sharing))
        .bind(&fields.complaints)
        .bind(&fields.audits)
        .bind(&fields.violations)
        .bind(&actor.subject)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::ReportExists, || {
            format!("the report on this technology for {year} is filed: replace it instead")
        }))?;
        commit_audited(
            tx,
            actor,
            "surveillance_report.filed",
            "surveillance_report",
            &record.id.to_string(),
            None,
            Some(to_json(&record)),
        )
        .await?;
        Ok(record)
    }

    pub async fn update_surveillance_report(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        fields: ReportFields,
    ) -> Result<SurveillanceReportRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let before: SurveillanceReportRecord = lock(
            &mut tx,
            "SELECT * FROM surveillance_reports WHERE id = $1",
            id,
        )
        .await?
        .ok_or(Refusal::NotFound("surveillance report"))?;
        check_version(before.version, Some(if_match))?;
        let found = register(&mut tx, Some(before.request_id)).await?;
        let entry = found
            .first()
            .ok_or(Refusal::NotFound("surveillance technology"))?;
        plan::plan_report(caller, &technology(entry), before.year, now().date_naive())?;
        let record: SurveillanceReportRecord = sqlx::query_as(
            "UPDATE surveillance_reports SET usage = $2, non_suspect_capture = $3, sharing = $4, complaints = $5, \
             audits = $6, violations = $7, version = version + 1, updated_at = $8 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&fields.usage)
        .bind(&fields.non_suspect_capture)
        .bind(Json(&fields.sharing))
        .bind(&fields.complaints)
        .bind(&fields.audits)
        .bind(&fields.violations)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "surveillance_report.replaced",
            "surveillance_report",
            &id.to_string(),
            Some(to_json(&before)),
            Some(to_json(&record)),
        )
        .await?;
        Ok(record)
    }
}
