//! The City Technology Plan's items and the departments' technology budgets [EO 2025 Art. 1-2], as the store
//! returns them, and the filter of the budget list.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

/// An item of the City Technology Plan [EO 2025 Art. 1].
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct PlanItemRecord {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub departments: Json<Vec<String>>,
    pub centralization: crate::domain::budgets::Centralization,
    pub priority: i32,
    pub first_fiscal_year: i32,
    pub last_fiscal_year: i32,
    pub capital_cents: i64,
    pub operating_cents: i64,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One row of a plan upload, as the store loads it: the item it updates (none for a new item), where that id was
/// read (named when it is refused, e.g. the cell `A7`), and the item's fields.
#[derive(Debug, Clone)]
pub struct PlanItemLoad {
    pub id: Option<Uuid>,
    pub cell: String,
    pub fields: crate::domain::budgets::PlanItemFields,
}

/// A department's technology budget for one fiscal year [EO 2025 Art. 2].
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct BudgetRecord {
    pub id: Uuid,
    pub department_code: String,
    pub fiscal_year: i32,
    pub status: crate::domain::budgets::BudgetStatus,
    pub amendment: i32,
    pub submission: i32,
    pub approved_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct BudgetLineRecord {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub position: i32,
    pub label: String,
    pub plan_item_id: Option<Uuid>,
    pub capital_cents: i64,
    pub operating_staff_cents: i64,
    pub operating_other_cents: i64,
    pub approved_capital_cents: Option<i64>,
    pub approved_operating_cents: Option<i64>,
}

/// A line with its plan item and what the requests on it draw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BudgetLineDetail {
    pub line: BudgetLineRecord,
    pub plan_item_title: Option<String>,
    /// Requests in review or approved on the line: their capital and yearly operating costs, and how many.
    pub committed_capital_cents: i64,
    pub committed_operating_cents: i64,
    pub committed_requests: i64,
    /// Requests of any status that name the line.
    pub named_by: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct BudgetReviewRecord {
    pub submission: i32,
    /// `cio` or `finance`.
    pub role: crate::domain::roles::Role,
    pub outcome: crate::domain::budgets::BudgetReviewVerdict,
    pub comments: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BudgetDetail {
    pub budget: BudgetRecord,
    pub lines: Vec<BudgetLineDetail>,
    pub reviews: Vec<BudgetReviewRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct BudgetFilter {
    pub department: Option<String>,
    pub fiscal_year: Option<i32>,
    pub status: Option<String>,
}
