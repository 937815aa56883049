//! The City Technology Plan and the departments' technology budgets [EO 2025 Art. 1-2]: the CIO office keeps
//! the plan; departments draft their budgets; the CIO office and Finance approve each jointly. The rules are the
//! planner's (`crate::workflow::budgets`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::catalog::XlsxFile;
use super::me::ApiTags;
use super::requests::{Buyer, Decider, scope_of};
use super::workbooks::{
    IMPORT_TIME_LIMIT, ImportError, ImportSlots, parse_off_thread, upload_limits,
};
use super::{IfMatch, PageInfo, SpreadsheetUpload, blocking, etag};
use crate::auth::{Auth, Permission, Role, Staff};
use crate::config::Config;
use crate::domain::PageRequest;
use crate::domain::budgets::{
    BudgetReviewVerdict, BudgetStatus, Centralization, FISCAL_YEARS, LineFields, PlanItemFields,
    check_lines,
};
use crate::error::{ApiError, FieldError};
use crate::sheets::budgets::LineRow;
use crate::store::{BudgetDetail, BudgetFilter, PlanItemLoad, PlanItemRecord, Store};
use crate::workflow::budgets::Review;

/// Those who keep the City Technology Plan: the CIO office and admins.
pub struct PlanEditor;
impl Permission for PlanEditor {
    const ROLES: &'static [Role] = &[Role::Cio, Role::Admin];
}

fn faults(faults: Vec<crate::workflow::Fault>) -> ApiError {
    ApiError::validation(
        faults
            .into_iter()
            .map(|f| FieldError::new(f.field, f.message))
            .collect(),
    )
}

/// An item of the City Technology Plan.
#[derive(Debug, Object)]
pub struct PlanItemBody {
    pub title: String,
    #[oai(default)]
    pub description: String,
    /// Codes of the departments it serves.
    pub departments: Vec<String>,
    /// `centralize` (I&T runs it for everyone), `shared` or `department`.
    pub centralization: Centralization,
    /// 1 is the highest priority.
    pub priority: i32,
    /// First fiscal year of the investment (named by the year it ends: FY2027 = July 2026 to June 2027).
    pub first_fiscal_year: i32,
    /// Last fiscal year; the plan looks at most five years ahead.
    pub last_fiscal_year: i32,
    /// Estimated one-off cost, in cents.
    pub capital_cents: i64,
    /// Estimated yearly running cost (staff included), in cents.
    pub operating_cents: i64,
}

impl PlanItemBody {
    fn parse(self) -> Result<PlanItemFields, ApiError> {
        PlanItemFields {
            title: self.title,
            description: self.description,
            departments: self.departments,
            centralization: self.centralization,
            priority: self.priority,
            first_fiscal_year: self.first_fiscal_year,
            last_fiscal_year: self.last_fiscal_year,
            capital_cents: self.capital_cents,
            operating_cents: self.operating_cents,
        }
        .check()
        .map_err(faults)
    }
}

#[derive(Debug, Object)]
pub struct PlanItemView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub departments: Vec<String>,
    pub centralization: String,
    pub priority: i32,
    pub first_fiscal_year: i32,
    pub last_fiscal_year: i32,
    pub capital_cents: i64,
    pub operating_cents: i64,
    /// Incremented on every update (the audit trail keeps each earlier version); the ETag is `"<version>"`.
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PlanItemRecord> for PlanItemView {
    fn from(r: PlanItemRecord) -> Self {
        PlanItemView {
            id: r.id,
            title: r.title,
            description: r.description,
            departments: r.departments.0,
            centralization: r.centralization.as_str().to_string(),
            priority: r.priority,
            first_fiscal_year: r.first_fiscal_year,
            last_fiscal_year: r.last_fiscal_year,
            capital_cents: r.capital_cents,
            operating_cents: r.operating_cents,
            version: r.version,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A plan item as the workbook export writes it.
fn plan_row(r: PlanItemRecord) -> (Uuid, PlanItemFields) {
    let fields = PlanItemFields {
        title: r.title,
        description: r.description,
        departments: r.departments.0,
        centralization: r.centralization,
        priority: r.priority,
        first_fiscal_year: r.first_fiscal_year,
        last_fiscal_year: r.last_fiscal_year,
        capital_cents: r.capital_cents,
        operating_cents: r.operating_cents,
    };
    (r.id, fields)
}

/// A budget's lines as the workbook export writes them.
fn line_rows(budget: &BudgetDetail) -> Vec<LineRow> {
    budget
        .lines
        .iter()
        .map(|l| LineRow {
            fields: LineFields {
                id: Some(l.line.id),
                label: l.line.label.clone(),
                plan_item_id: l.line.plan_item_id,
                capital_cents: l.line.capital_cents,
                operating_staff_cents: l.line.operating_staff_cents,
                operating_other_cents: l.line.operating_other_cents,
            },
            approved_capital_cents: l.line.approved_capital_cents,
            approved_operating_cents: l.line.approved_operating_cents,
            committed_capital_cents: l.committed_capital_cents,
            committed_operating_cents: l.committed_operating_cents,
        })
        .collect()
}

/// What a plan upload did.
#[derive(Debug, Object)]
pub struct PlanImportSummary {
    /// Items added (rows without an ID).
    pub created: usize,
    /// Items updated to a new version (rows with the ID of an item).
    pub updated: usize,
}

#[derive(Debug, Object)]
pub struct PlanItemPage {
    pub items: Vec<PlanItemView>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum PlanItemCreated {
    /// The item was added to the plan.
    #[oai(status = 201)]
    Created(
        Json<PlanItemView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum PlanItemResponse {
    #[oai(status = 200)]
    Ok(Json<PlanItemView>, #[oai(header = "ETag")] String),
}

/// One line of a department's technology budget: capital and operating apart, operating split into staff and
/// other (EO 2025 Art. 2).
#[derive(Debug, Object)]
pub struct LineBody {
    /// A line of this budget, to change it; leave it out for a new line.
    pub id: Option<Uuid>,
    pub label: String,
    /// The City Technology Plan item the line funds, if any.
    pub plan_item_id: Option<Uuid>,
    pub capital_cents: i64,
    /// Yearly operating cost of staff, in cents.
    pub operating_staff_cents: i64,
    /// Other yearly operating cost (licences, hosting, support), in cents.
    pub operating_other_cents: i64,
}

fn parse_lines(lines: Vec<LineBody>) -> Result<Vec<LineFields>, ApiError> {
    check_lines(
        lines
            .into_iter()
            .map(|l| LineFields {
                id: l.id,
                label: l.label,
                plan_item_id: l.plan_item_id,
                capital_cents: l.capital_cents,
                operating_staff_cents: l.operating_staff_cents,
                operating_other_cents: l.operating_other_cents,
            })
            .collect(),
    )
    .map_err(faults)
}

#[derive(Debug, Object)]
pub struct BudgetBody {
    /// The fiscal year, named by the year it ends.
    pub fiscal_year: i32,
    pub lines: Vec<LineBody>,
}

#[derive(Debug, Object)]
pub struct LinesBody {
    /// The whole list of lines: lines of the budget left out are removed (an approved line, or one a request
    /// names, stays).
    pub lines: Vec<LineBody>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum BudgetReviewOutcome {
    Approve,
    /// Back to the department, with a comment saying what to change.
    Return,
}

#[derive(Debug, Object)]
pub struct BudgetReviewBody {
    pub outcome: BudgetReviewOutcome,
    /// Required to return a budget.
    pub comment: Option<String>,
}

#[derive(Debug, Object)]
pub struct LineView {
    pub id: Uuid,
    pub label: String,
    pub plan_item_id: Option<Uuid>,
    pub plan_item_title: Option<String>,
    /// The amounts as the department states them now (an amendment in progress shows here first).
    pub capital_cents: i64,
    pub operating_staff_cents: i64,
    pub operating_other_cents: i64,
    /// The amounts the CIO office and Finance last approved jointly, which requests draw on; absent until then.
    pub approved_capital_cents: Option<i64>,
    pub approved_operating_cents: Option<i64>,
    /// What the requests in review or approved on the line draw (withdrawn and denied ones release theirs).
    pub committed_capital_cents: i64,
    pub committed_operating_cents: i64,
    pub committed_requests: i64,
    /// Approved less committed; absent for a line never approved.
    pub remaining_capital_cents: Option<i64>,
    pub remaining_operating_cents: Option<i64>,
}

#[derive(Debug, Object)]
pub struct BudgetReviewView {
    pub submission: i32,
    /// `cio` or `finance`.
    pub role: Role,
    pub outcome: BudgetReviewVerdict,
    pub comment: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct BudgetView {
    pub id: Uuid,
    pub department_code: String,
    pub fiscal_year: i32,
    /// `draft`, `submitted`, `returned` or `approved`.
    pub status: BudgetStatus,
    /// 0 as first approved; one more for each amendment.
    pub amendment: i32,
    pub submission: i32,
    /// Who has approved the current submission: `cio`, `finance`.
    pub approvals: Vec<Role>,
    /// When it was first jointly approved; the approved amounts stay in force while an amendment is reviewed.
    pub approved_at: Option<DateTime<Utc>>,
    pub lines: Vec<LineView>,
    pub reviews: Vec<BudgetReviewView>,
    /// The ETag is `"<version>"`.
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<BudgetDetail> for BudgetView {
    fn from(d: BudgetDetail) -> Self {
        let b = d.budget;
        let approvals = d
            .reviews
            .iter()
            .filter(|r| r.submission == b.submission && r.outcome == BudgetReviewVerdict::Approved)
            .map(|r| r.role)
            .collect();
        BudgetView {
            id: b.id,
            department_code: b.department_code,
            fiscal_year: b.fiscal_year,
            status: b.status,
            amendment: b.amendment,
            submission: b.submission,
            approvals,
            approved_at: b.approved_at,
            lines: d
                .lines
                .into_iter()
                .map(|l| LineView {
                    id: l.line.id,
                    label: l.line.label,
                    plan_item_id: l.line.plan_item_id,
                    plan_item_title: l.plan_item_title,
                    capital_cents: l.line.capital_cents,
                    operating_staff_cents: l.line.operating_staff_cents,
                    operating_other_cents: l.line.operating_other_cents,
                    approved_capital_cents: l.line.approved_capital_cents,
                    approved_operating_cents: l.line.approved_operating_cents,
                    remaining_capital_cents: l
                        .line
                        .approved_capital_cents
                        .map(|a| a - l.committed_capital_cents),
                    remaining_operating_cents: l
                        .line
                        .approved_operating_cents
                        .map(|a| a - l.committed_operating_cents),
                    committed_capital_cents: l.committed_capital_cents,
                    committed_operating_cents: l.committed_operating_cents,
                    committed_requests: l.committed_requests,
                })
                .collect(),
            reviews: d
                .reviews
                .into_iter()
                .map(|r| BudgetReviewView {
                    submission: r.submission,
                    role: r.role,
                    outcome: r.outcome,
                    comment: r.comments,
                    reviewed_by: r.reviewed_by,
                    reviewed_at: r.reviewed_at,
                })
                .collect(),
            version: b.version,
            created_by: b.created_by,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct BudgetPage {
    pub items: Vec<BudgetView>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum BudgetCreated {
    /// The draft budget was recorded.
    #[oai(status = 201)]
    Created(
        Json<BudgetView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum BudgetResponse {
    #[oai(status = 200)]
    Ok(Json<BudgetView>, #[oai(header = "ETag")] String),
}

fn respond(detail: BudgetDetail) -> Result<BudgetResponse, ApiError> {
    let view = BudgetView::from(detail);
    let tag = etag(view.version);
    Ok(BudgetResponse::Ok(Json(view), tag))
}

fn fiscal_year(field: &str, year: i32) -> Result<i32, ApiError> {
    if FISCAL_YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(ApiError::field(field, "a fiscal year from 2000 to 2100"))
    }
}

pub struct BudgetsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Budgets")]
impl BudgetsApi {
    /// List the City Technology Plan
    ///
    /// Staff roles; by priority, then first fiscal year (EO 2025 Art. 1).
    #[oai(path = "/plan/items", method = "get", operation_id = "listPlanItems")]
    async fn list_plan(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<PlanItemPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let found = store.list_plan_items(page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(PlanItemPage {
            items: found.items.into_iter().map(PlanItemView::from).collect(),
            page: info,
        }))
    }

    /// Add an item to the City Technology Plan
    ///
    /// The CIO office and admins: a prioritized investment with the departments it serves, whether it is to be
    /// centralized, its fiscal years (at most five) and estimated capital and operating costs.
    #[oai(path = "/plan/items", method = "post", operation_id = "createPlanItem")]
    async fn create_plan_item(
        &self,
        store: Data<&Store>,
        auth: Auth<PlanEditor>,
        body: Json<PlanItemBody>,
    ) -> Result<PlanItemCreated, ApiError> {
        let created = store
            .create_plan_item(&auth.actor(), &auth.caller(), body.0.parse()?)
            .await?;
        let location = format!("{}/plan/items/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(PlanItemCreated::Created(
            Json(created.into()),
            location,
            tag,
        ))
    }

    /// Export the City Technology Plan as a workbook
    ///
    /// Staff roles: one row per item (ID, Title, Description, Departments separated by `;`, Centralization,
    /// Priority, First and Last fiscal year, Capital and Operating in dollars), the layout `import` reads back.
    #[oai(
        path = "/plan/items/export.xlsx",
        method = "get",
        operation_id = "exportPlan"
    )]
    async fn export_plan(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
    ) -> Result<XlsxFile, ApiError> {
        let items = store
            .all_plan_items()
            .await?
            .into_iter()
            .map(plan_row)
            .collect::<Vec<_>>();
        let bytes = blocking(move || crate::sheets::budgets::export_plan(&items)).await?;
        Ok(XlsxFile::Ok(
            Binary(bytes.into()),
            "attachment; filename=\"technology-plan.xlsx\"".into(),
        ))
    }

    /// Load the City Technology Plan from a workbook or CSV
    ///
    /// The CIO office and admins. Rows with an ID update that item (a new version); rows without one are added.
    /// The whole file is checked first: any problem answers 422 naming every cell at fault
    /// (`Plan!E3: "sometimes" is not one of centralize, shared, department`), and nothing is stored.
    #[oai(
        path = "/plan/items/import",
        method = "post",
        operation_id = "importPlan"
    )]
    async fn import_plan(
        &self,
        store: Data<&Store>,
        config: Data<&Arc<Config>>,
        slots: Data<&ImportSlots>,
        auth: Auth<PlanEditor>,
        body: SpreadsheetUpload,
    ) -> Result<Json<PlanImportSummary>, ImportError> {
        let bytes = body.into_bytes();
        let limits = upload_limits(&config);
        let rows = parse_off_thread(&slots, IMPORT_TIME_LIMIT, move || {
            crate::sheets::budgets::import_plan(&bytes, &limits)
        })
        .await?;
        let rows = rows
            .into_iter()
            .map(|(id, cell, fields)| PlanItemLoad { id, cell, fields })
            .collect();
        let (created, updated) = store
            .load_plan_items(&auth.actor(), &auth.caller(), rows)
            .await?;
        Ok(Json(PlanImportSummary { created, updated }))
    }

    /// Read a plan item
    #[oai(path = "/plan/items/:id", method = "get", operation_id = "getPlanItem")]
    async fn get_plan_item(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<PlanItemResponse, ApiError> {
        let item = store.get_plan_item(id.0).await?;
        let tag = etag(item.version);
        Ok(PlanItemResponse::Ok(Json(item.into()), tag))
    }

    /// Update a plan item
    ///
    /// The CIO office and admins; a new version (the audit trail keeps the earlier ones). `If-Match` (required)
    /// names the version read.
    #[oai(
        path = "/plan/items/:id",
        method = "put",
        operation_id = "replacePlanItem"
    )]
    async fn replace_plan_item(
        &self,
        store: Data<&Store>,
        auth: Auth<PlanEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<PlanItemBody>,
    ) -> Result<PlanItemResponse, ApiError> {
        let expected = if_match.version()?;
        let item = store
            .update_plan_item(
                &auth.actor(),
                &auth.caller(),
                id.0,
                expected,
                body.0.parse()?,
            )
            .await?;
        let tag = etag(item.version);
        Ok(PlanItemResponse::Ok(Json(item.into()), tag))
    }

    /// List department technology budgets
    ///
    /// Buyers see their own department's; the CIO office, Finance, analysts, admins and auditors see all.
    #[oai(path = "/budgets", method = "get", operation_id = "listBudgets")]
    #[allow(clippy::too_many_arguments)]
    async fn list_budgets(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        department: Query<Option<String>>,
        fiscal_year: Query<Option<i32>>,
        status: Query<Option<BudgetStatus>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<BudgetPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let filter = BudgetFilter {
            department: department.0.map(|d| d.trim().to_uppercase()),
            fiscal_year: fiscal_year.0,
            status: status.0.map(|s| s.as_str().to_string()),
        };
        let found = store.list_budgets(&scope_of(&auth), &filter, page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(BudgetPage {
            items: found.items.into_iter().map(BudgetView::from).collect(),
            page: info,
        }))
    }

    /// Draft a department technology budget
    ///
    /// Buyers, for their own department (from the token) and a fiscal year: one budget per department and year
    /// (409 `budget_exists`; amend it instead).
    #[oai(path = "/budgets", method = "post", operation_id = "createBudget")]
    async fn create_budget(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        body: Json<BudgetBody>,
    ) -> Result<BudgetCreated, ApiError> {
        let year = fiscal_year("fiscal_year", body.0.fiscal_year)?;
        let lines = parse_lines(body.0.lines)?;
        let created = store
            .create_budget(&auth.actor(), &auth.caller(), year, lines)
            .await?;
        let location = format!("{}/budgets/{}", super::PREFIX, created.budget.id);
        let view = BudgetView::from(created);
        let tag = etag(view.version);
        Ok(BudgetCreated::Created(Json(view), location, tag))
    }

    /// Read a department technology budget
    ///
    /// With each line's approved amounts, what the requests in review or approved on it draw, and what remains.
    #[oai(path = "/budgets/:id", method = "get", operation_id = "getBudget")]
    async fn get_budget(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<BudgetResponse, ApiError> {
        respond(store.get_budget(&scope_of(&auth), id.0).await?)
    }

    /// Replace a budget's lines (or amend an approved budget)
    ///
    /// Buyers of the department. A draft or returned budget stays a draft; an approved one starts an amendment,
    /// which goes through the same joint approval while the approved amounts stay in force. `If-Match`
    /// (required) names the version read.
    #[oai(
        path = "/budgets/:id/lines",
        method = "put",
        operation_id = "replaceBudgetLines"
    )]
    async fn replace_lines(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<LinesBody>,
    ) -> Result<BudgetResponse, ApiError> {
        let expected = if_match.version()?;
        let lines = parse_lines(body.0.lines)?;
        respond(
            store
                .replace_budget_lines(
                    &auth.actor(),
                    &auth.caller(),
                    &scope_of(&auth),
                    id.0,
                    expected,
                    lines,
                )
                .await?,
        )
    }

    /// Export a budget's lines as a workbook
    ///
    /// As for reading the budget: one row per line (ID, Label, Plan item ID, Capital, Operating staff, Operating
    /// other, in dollars), then the approved and remaining amounts for reading (ignored by `import`).
    #[oai(
        path = "/budgets/:id/lines/export.xlsx",
        method = "get",
        operation_id = "exportBudgetLines"
    )]
    async fn export_lines(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<XlsxFile, ApiError> {
        let budget = store.get_budget(&scope_of(&auth), id.0).await?;
        let name = format!(
            "budget-{}-FY{}.xlsx",
            budget.budget.department_code, budget.budget.fiscal_year
        );
        let lines = line_rows(&budget);
        let bytes = blocking(move || crate::sheets::budgets::export_lines(&lines)).await?;
        Ok(XlsxFile::Ok(
            Binary(bytes.into()),
            format!("attachment; filename=\"{name}\""),
        ))
    }

    /// Replace a budget's lines from a workbook or CSV
    ///
    /// Buyers of the department: the same change as `PUT /budgets/{id}/lines`, with the rows of the export's
    /// layout (an ID keeps a line; an empty one adds a line). The whole file is checked first: any problem answers
    /// 422 naming every cell at fault, and nothing is stored. `If-Match` (required) names the version read.
    #[oai(
        path = "/budgets/:id/lines/import",
        method = "post",
        operation_id = "importBudgetLines"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn import_lines(
        &self,
        store: Data<&Store>,
        config: Data<&Arc<Config>>,
        slots: Data<&ImportSlots>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: SpreadsheetUpload,
    ) -> Result<BudgetResponse, ImportError> {
        let expected = if_match.version()?;
        let bytes = body.into_bytes();
        let limits = upload_limits(&config);
        let lines = parse_off_thread(&slots, IMPORT_TIME_LIMIT, move || {
            crate::sheets::budgets::import_lines(&bytes, &limits)
        })
        .await?;
        Ok(respond(
            store
                .replace_budget_lines(
                    &auth.actor(),
                    &auth.caller(),
                    &scope_of(&auth),
                    id.0,
                    expected,
                    lines,
                )
                .await?,
        )?)
    }

    /// Submit a budget to the CIO office and Finance
    ///
    /// Buyers of the department, for a draft or returned budget. `If-Match` (required) names the version read.
    #[oai(
        path = "/budgets/:id/submit",
        method = "post",
        operation_id = "submitBudget"
    )]
    async fn submit_budget(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<BudgetResponse, ApiError> {
        let expected = if_match.version()?;
        respond(
            store
                .submit_budget(
                    &auth.actor(),
                    &auth.caller(),
                    &scope_of(&auth),
                    id.0,
                    expected,
                )
                .await?,
        )
    }

    /// Approve or return a budget
    ///
    /// The CIO office and Finance each approve a submitted budget, or return it with a comment; it is approved
    /// only when both have approved the same submission (EO 2025 Art. 2). `If-Match` (required) names the
    /// version read.
    #[oai(
        path = "/budgets/:id/review",
        method = "post",
        operation_id = "reviewBudget"
    )]
    async fn review_budget(
        &self,
        store: Data<&Store>,
        auth: Auth<Decider>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<BudgetReviewBody>,
    ) -> Result<BudgetResponse, ApiError> {
        let expected = if_match.version()?;
        let review = match body.0.outcome {
            BudgetReviewOutcome::Approve => Review::Approve,
            BudgetReviewOutcome::Return => Review::Return {
                comment: body.0.comment.unwrap_or_default(),
            },
        };
        respond(
            store
                .review_budget(
                    &auth.actor(),
                    &auth.caller(),
                    auth.role,
                    id.0,
                    expected,
                    review,
                )
                .await?,
        )
    }
}
