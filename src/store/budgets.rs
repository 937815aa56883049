// The City Technology Plan, departments' technology budgets and their joint approval, and what routing reads
// of a request's budget line. Included by both backends as a submodule, like requests/loaders.rs: each command locks,
// loads, lets `crate::workflow::budgets` plan, applies and audits in one transaction.

use std::collections::{BTreeSet, HashMap};

use sqlx::types::Json;
use uuid::Uuid;

use crate::auth::Role;
use crate::domain::budgets::{BudgetReviewVerdict, LineFields, PlanItemFields};
use crate::domain::policy::{BudgetFacts, BudgetLineFacts};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, BudgetDetail, BudgetFilter, BudgetLineDetail, BudgetLineRecord, BudgetRecord,
    BudgetReviewRecord, Paged, PlanItemLoad, PlanItemRecord, Scope, to_json, unique_as,
};
use crate::workflow::budgets::{self as plan, BudgetState, LineRef, LineState, Review};
use crate::workflow::{Caller, Refusal};

/// The statuses in which a request draws on its budget line: in review or approved. A draft, a withdrawn or a
/// denied request, and one sent back for changes, draw nothing.
const DRAWING_STATUSES: &str =
    "('submitted', 'in_review', 'awaiting_decision', 'approved', 'approved_with_conditions')";

async fn budget_detail(tx: &mut Tx, budget: BudgetRecord) -> Result<BudgetDetail, ApiError> {
    let lines: Vec<BudgetLineRecord> =
        sqlx::query_as("SELECT * FROM budget_lines WHERE budget_id = $1 ORDER BY position, id")
            .bind(budget.id)
            .fetch_all(&mut **tx)
            .await?;
    let titles: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT l.id, p.title FROM budget_lines l JOIN plan_items p ON p.id = l.plan_item_id WHERE l.budget_id = $1",
    )
    .bind(budget.id)
    .fetch_all(&mut **tx)
    .await?;
    let titles: HashMap<Uuid, String> = titles.into_iter().collect();
    let drawn: Vec<(Uuid, i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r.budget_line_id, CAST(COALESCE(SUM(r.capital_cents), 0) AS BIGINT), \
         CAST(COALESCE(SUM(r.annual_operating_cents), 0) AS BIGINT), COUNT(*) \
         FROM requests r JOIN budget_lines l ON l.id = r.budget_line_id \
         WHERE l.budget_id = $1 AND r.status IN {DRAWING_STATUSES} GROUP BY r.budget_line_id"
    )))
    .bind(budget.id)
    .fetch_all(&mut **tx)
    .await?;
    let drawn: HashMap<Uuid, (i64, i64, i64)> = drawn
        .into_iter()
        .map(|(id, c, o, n)| (id, (c, o, n)))
        .collect();
    let named: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT r.budget_line_id, COUNT(*) FROM requests r JOIN budget_lines l ON l.id = r.budget_line_id \
         WHERE l.budget_id = $1 GROUP BY r.budget_line_id",
    )
    .bind(budget.id)
    .fetch_all(&mut **tx)
    .await?;
    let named: HashMap<Uuid, i64> = named.into_iter().collect();
    let lines = lines
        .into_iter()
        .map(|line| {
            let (committed_capital_cents, committed_operating_cents, committed_requests) =
                drawn.get(&line.id).copied().unwrap_or_default();
            BudgetLineDetail {
                plan_item_title: titles.get(&line.id).cloned(),
                committed_capital_cents,
                committed_operating_cents,
                committed_requests,
                named_by: named.get(&line.id).copied().unwrap_or_default(),
                line,
            }
        })
        .collect();
    let reviews: Vec<BudgetReviewRecord> = sqlx::query_as(
        "SELECT submission, role, outcome, comments, reviewed_by, reviewed_at FROM budget_reviews \
         WHERE budget_id = $1 ORDER BY reviewed_at, role",
    )
    .bind(budget.id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(BudgetDetail {
        budget,
        lines,
        reviews,
    })
}

fn state_of(detail: &BudgetDetail) -> BudgetState {
    let b = &detail.budget;
    BudgetState {
        department: b.department_code.clone(),
        fiscal_year: b.fiscal_year,
        status: b.status,
        submission: b.submission,
        amendment: b.amendment,
        ever_approved: b.approved_at.is_some(),
        lines: detail
            .lines
            .iter()
            .map(|l| LineState {
                id: l.line.id,
                approved: l.line.approved_capital_cents.is_some(),
                requests: l.named_by,
            })
            .collect(),
        approvals: detail
            .reviews
            .iter()
            .filter(|r| r.submission == b.submission && r.outcome == BudgetReviewVerdict::Approved)
            .map(|r| r.role)
            .collect(),
    }
}

/// Locks a budget for a change, checks the version the caller read and loads it with its lines.
async fn lock_budget(
    tx: &mut Tx,
    scope: &Scope,
    id: Uuid,
    if_match: i64,
) -> Result<BudgetDetail, ApiError> {
    let current: BudgetRecord = lock(tx, "SELECT * FROM budgets WHERE id = $1", id)
        .await?
        .filter(|b: &BudgetRecord| scope.admits_department(&b.department_code))
        .ok_or(Refusal::NotFound("budget"))?;
    check_version(current.version, Some(if_match))?;
    budget_detail(tx, current).await
}

async fn known_plan_items(tx: &mut Tx, lines: &[LineFields]) -> Result<BTreeSet<Uuid>, ApiError> {
    let mut known = BTreeSet::new();
    for id in lines.iter().filter_map(|l| l.plan_item_id) {
        let found: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM plan_items WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        known.extend(found.map(|(id,)| id));
    }
    Ok(known)
}

async fn write_lines(
    tx: &mut Tx,
    budget_id: Uuid,
    lines: &[LineFields],
    removed: &[Uuid],
) -> Result<(), ApiError> {
    for id in removed {
        sqlx::query("DELETE FROM budget_lines WHERE id = $1 AND budget_id = $2")
            .bind(id)
            .bind(budget_id)
            .execute(&mut **tx)
            .await?;
    }
    for (position, line) in lines.iter().enumerate() {
        match line.id {
            Some(id) => {
                sqlx::query(
                    "UPDATE budget_lines SET position = $3, label = $4, plan_item_id = $5, capital_cents = $6, \
                     operating_staff_cents = $7, operating_other_cents = $8 WHERE id = $1 AND budget_id = $2",
                )
                .bind(id)
                .bind(budget_id)
                .bind(position as i32)
                .bind(&line.label)
                .bind(line.plan_item_id)
                .bind(line.capital_cents)
                .bind(line.operating_staff_cents)
                .bind(line.operating_other_cents)
                .execute(&mut **tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO budget_lines (id, budget_id, position, label, plan_item_id, capital_cents, \
                     operating_staff_cents, operating_other_cents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(Uuid::new_v4())
                .bind(budget_id)
                .bind(position as i32)
                .bind(&line.label)
                .bind(line.plan_item_id)
                .bind(line.capital_cents)
                .bind(line.operating_staff_cents)
                .bind(line.operating_other_cents)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}

/// Reads the budget back, audits the change against `before` and commits.
async fn finish_budget(
    mut tx: Tx,
    actor: &Actor,
    action: &str,
    before: Option<&BudgetDetail>,
    id: Uuid,
) -> Result<BudgetDetail, ApiError> {
    let record: BudgetRecord = sqlx::query_as("SELECT * FROM budgets WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let detail = budget_detail(&mut tx, record).await?;
    commit_audited(
        tx,
        actor,
        action,
        "budget",
        &id.to_string(),
        before.map(to_json),
        Some(to_json(&detail)),
    )
    .await?;
    Ok(detail)
}

/// The department and fiscal year of the budget line `id`, if there is one.
pub(super) async fn line_ref(tx: &mut Tx, id: Option<Uuid>) -> Result<Option<LineRef>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    let found: Option<(String, i32)> = sqlx::query_as(
        "SELECT b.department_code, b.fiscal_year FROM budget_lines l JOIN budgets b ON b.id = l.budget_id WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(found.map(|(department, fiscal_year)| LineRef {
        department,
        fiscal_year,
    }))
}

/// What routing reads of a request's funding: whether the department's budget for the fiscal year is approved,
/// and the line the request names with what the other requests on it draw. The line is locked first, so two
/// purchases on one line submitted at once each see the other's draw. A line that does not exist, or belongs to
/// another department or fiscal year, is refused naming `budget_line_id`.
pub(super) async fn budget_facts(
    tx: &mut Tx,
    request_id: Uuid,
    department: &str,
    fiscal_year: i32,
    line_id: Option<Uuid>,
) -> Result<BudgetFacts, ApiError> {
    let (approved,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM budgets WHERE department_code = $1 AND fiscal_year = $2 AND approved_at IS NOT NULL",
    )
    .bind(department)
    .bind(fiscal_year)
    .fetch_one(&mut **tx)
    .await?;
    let mut facts = BudgetFacts {
        department_budget_approved: approved > 0,
        line: None,
    };
    let Some(id) = line_id else { return Ok(facts) };
    let _locked: Option<(Uuid,)> =
        lock(tx, "SELECT id FROM budget_lines WHERE id = $1", id).await?;
    let found = line_ref(tx, Some(id)).await?;
    plan::check_line(Some(id), found.as_ref(), department, fiscal_year)?;
    let line: BudgetLineRecord = sqlx::query_as("SELECT * FROM budget_lines WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let plan_item: Option<(String,)> = sqlx::query_as("SELECT title FROM plan_items WHERE id = $1")
        .bind(line.plan_item_id)
        .fetch_optional(&mut **tx)
        .await?;
    let (committed_capital_cents, committed_operating_cents): (i64, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(SUM(capital_cents), 0) AS BIGINT), CAST(COALESCE(SUM(annual_operating_cents), 0) AS BIGINT) \
             FROM requests WHERE budget_line_id = $1 AND id <> $2 AND status IN {DRAWING_STATUSES}"
        )))
        .bind(id)
        .bind(request_id)
        .fetch_one(&mut **tx)
        .await?;
    facts.line = Some(BudgetLineFacts {
        line_id: id,
        label: line.label,
        approved: line
            .approved_capital_cents
            .zip(line.approved_operating_cents),
        plan_item_id: line.plan_item_id,
        plan_item: plan_item.map(|(t,)| t),
        committed_capital_cents,
        committed_operating_cents,
    });
    Ok(facts)
}

impl Repo {
    pub async fn list_plan_items(
        &self,
        page: PageRequest,
    ) -> Result<Paged<PlanItemRecord>, ApiError> {
        let items: Vec<PlanItemRecord> =
            sqlx::query_as("SELECT * FROM plan_items ORDER BY priority, first_fiscal_year, title, id LIMIT $1 OFFSET $2")
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.pool)
                .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM plan_items")
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_plan_item(&self, id: Uuid) -> Result<PlanItemRecord, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM plan_items WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Refusal::NotFound("plan item"))?)
    }

    pub async fn create_plan_item(
        &self,
        actor: &Actor,
        caller: &Caller,
        fields: PlanItemFields,
    ) -> Result<PlanItemRecord, ApiError> {
        plan::plan_editor(caller)?;
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let record: PlanItemRecord = sqlx::query_as(
            "INSERT INTO plan_items (id, title, description, departments, centralization, priority, first_fiscal_year, \
             last_fiscal_year, capital_cents, operating_cents, version, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(Json(&fields.departments))
        .bind(fields.centralization.as_str())
        .bind(fields.priority)
        .bind(fields.first_fiscal_year)
        .bind(fields.last_fiscal_year)
        .bind(fields.capital_cents)
        .bind(fields.operating_cents)
        .bind(&actor.subject)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "plan_item.created",
            "plan_item",
            &record.id.to_string(),
            None,
            Some(to_json(&record)),
        )
        .await?;
        Ok(record)
    }

    /// A new version of a plan item; the audit trail keeps every earlier one.
    pub async fn update_plan_item(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        fields: PlanItemFields,
    ) -> Result<PlanItemRecord, ApiError> {
        plan::plan_editor(caller)?;
        let mut tx = begin(&self.writer).await?;
        let before: PlanItemRecord = lock(&mut tx, "SELECT * FROM plan_items WHERE id = $1", id)
            .await?
            .ok_or(Refusal::NotFound("plan item"))?;
        check_version(before.version, Some(if_match))?;
        let record: PlanItemRecord = sqlx::query_as(
            "UPDATE plan_items SET title = $2, description = $3, departments = $4, centralization = $5, priority = $6, \
             first_fiscal_year = $7, last_fiscal_year = $8, capital_cents = $9, operating_cents = $10, \
             version = version + 1, updated_at = $11 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(Json(&fields.departments))
        .bind(fields.centralization.as_str())
        .bind(fields.priority)
        .bind(fields.first_fiscal_year)
        .bind(fields.last_fiscal_year)
        .bind(fields.capital_cents)
        .bind(fields.operating_cents)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "plan_item.updated",
            "plan_item",
            &id.to_string(),
            Some(to_json(&before)),
            Some(to_json(&record)),
        )
        .await?;
        Ok(record)
    }

    /// Loads plan rows from a workbook in one transaction: rows with an id update that item (a new version),
    /// the others are added. An id that names no item is refused with its cell, and nothing is stored.
    pub async fn load_plan_items(
        &self,
        actor: &Actor,
        caller: &Caller,
        rows: Vec<PlanItemLoad>,
    ) -> Result<(usize, usize), ApiError> {
        plan::plan_editor(caller)?;
        let mut tx = begin(&self.writer).await?;
        let mut unknown = Vec::new();
        for PlanItemLoad { id, cell, .. } in &rows {
            if let Some(id) = id {
                let found: Option<(Uuid,)> =
                    sqlx::query_as("SELECT id FROM plan_items WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if found.is_none() {
                    unknown.push(crate::workflow::Fault::new(
                        cell.clone(),
                        "no plan item has this id (leave it empty for a new item)",
                    ));
                }
            }
        }
        if !unknown.is_empty() {
            return Err(Refusal::Invalid(unknown).into());
        }
        let (mut created, mut updated) = (0, 0);
        let at = now();
        for PlanItemLoad { id, fields, .. } in rows {
            let (action, before, record): (&str, Option<PlanItemRecord>, PlanItemRecord) = match id
            {
                Some(id) => {
                    let before: PlanItemRecord =
                        lock(&mut tx, "SELECT * FROM plan_items WHERE id = $1", id)
                            .await?
                            .ok_or(sqlx::Error::RowNotFound)?;
                    let record = sqlx::query_as(
                        "UPDATE plan_items SET title = $2, description = $3, departments = $4, centralization = $5, \
                         priority = $6, first_fiscal_year = $7, last_fiscal_year = $8, capital_cents = $9, \
                         operating_cents = $10, version = version + 1, updated_at = $11 WHERE id = $1 RETURNING *",
                    )
                    .bind(id)
                    .bind(&fields.title)
                    .bind(&fields.description)
                    .bind(Json(&fields.departments))
                    .bind(fields.centralization.as_str())
                    .bind(fields.priority)
                    .bind(fields.first_fiscal_year)
                    .bind(fields.last_fiscal_year)
                    .bind(fields.capital_cents)
                    .bind(fields.operating_cents)
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                    updated += 1;
                    ("plan_item.imported", Some(before), record)
                }
                None => {
                    let record = sqlx::query_as(
                        "INSERT INTO plan_items (id, title, description, departments, centralization, priority, \
                         first_fiscal_year, last_fiscal_year, capital_cents, operating_cents, version, created_by, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12) \
                         RETURNING *",
                    )
                    .bind(Uuid::new_v4())
                    .bind(&fields.title)
                    .bind(&fields.description)
                    .bind(Json(&fields.departments))
                    .bind(fields.centralization.as_str())
                    .bind(fields.priority)
                    .bind(fields.first_fiscal_year)
                    .bind(fields.last_fiscal_year)
                    .bind(fields.capital_cents)
                    .bind(fields.operating_cents)
                    .bind(&actor.subject)
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                    created += 1;
                    ("plan_item.imported", None, record)
                }
            };
            audit(
                &mut tx,
                actor,
                action,
                "plan_item",
                &record.id.to_string(),
                before.as_ref().map(to_json),
                Some(to_json(&record)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok((created, updated))
    }

    pub async fn all_plan_items(&self) -> Result<Vec<PlanItemRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT * FROM plan_items ORDER BY priority, first_fiscal_year, title, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_budgets(
        &self,
        scope: &Scope,
        filter: &BudgetFilter,
        page: PageRequest,
    ) -> Result<Paged<BudgetDetail>, ApiError> {
        let department = match scope {
            Scope::All => filter.department.clone(),
            Scope::Department(own) => Some(own.clone()),
        };
        const WHERE: &str = "FROM budgets WHERE ($1 IS NULL OR department_code = $1) \
            AND ($2 IS NULL OR fiscal_year = $2) AND ($3 IS NULL OR status = $3)";
        let mut tx = self.pool.begin().await?;
        let records: Vec<BudgetRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * {WHERE} ORDER BY fiscal_year DESC, department_code, id LIMIT $4 OFFSET $5"
        )))
        .bind(&department)
        .bind(filter.fiscal_year)
        .bind(&filter.status)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *tx)
        .await?;
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
                .bind(&department)
                .bind(filter.fiscal_year)
                .bind(&filter.status)
                .fetch_one(&mut *tx)
                .await?;
        let mut items = Vec::with_capacity(records.len());
        for record in records {
            items.push(budget_detail(&mut tx, record).await?);
        }
        tx.rollback().await?;
        Ok(Paged { items, total })
    }

    pub async fn get_budget(&self, scope: &Scope, id: Uuid) -> Result<BudgetDetail, ApiError> {
        let mut tx = self.pool.begin().await?;
        let record: BudgetRecord = sqlx::query_as("SELECT * FROM budgets WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .filter(|b: &BudgetRecord| scope.admits_department(&b.department_code))
            .ok_or(Refusal::NotFound("budget"))?;
        let detail = budget_detail(&mut tx, record).await?;
        tx.rollback().await?;
        Ok(detail)
    }

    /// A buyer drafts the technology budget of their department for a fiscal year (one per department and year).
    pub async fn create_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        fiscal_year: i32,
        lines: Vec<LineFields>,
    ) -> Result<BudgetDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let known: Option<(String,)> =
            sqlx::query_as("SELECT code FROM departments WHERE code = $1")
                .bind(caller.department.as_deref().unwrap_or_default())
                .fetch_optional(&mut *tx)
                .await?;
        let department = plan::plan_create(caller, known.is_some())?;
        if let Some(i) = lines.iter().position(|l| l.id.is_some()) {
            return Err(Refusal::field(
                format!("lines[{i}].id"),
                "a new budget has no lines yet: leave id out",
            )
            .into());
        }
        plan::plan_items_known(&lines, &known_plan_items(&mut tx, &lines).await?)?;
        let at = now();
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO budgets (id, department_code, fiscal_year, status, amendment, submission, version, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, 'draft', 0, 0, 1, $4, $5, $5)",
        )
        .bind(id)
        .bind(&department)
        .bind(fiscal_year)
        .bind(&actor.subject)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::BudgetExists, || {
            format!("{department} already has a technology budget for FY{fiscal_year}: amend that one")
        }))?;
        write_lines(&mut tx, id, &lines, &[]).await?;
        finish_budget(tx, actor, "budget.created", None, id).await
    }

    /// The department replaces its budget's lines (of a draft or returned budget, or as an amendment of an
    /// approved one).
    pub async fn replace_budget_lines(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        lines: Vec<LineFields>,
    ) -> Result<BudgetDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let before = lock_budget(&mut tx, scope, id, if_match).await?;
        let change = plan::plan_lines(&state_of(&before), caller, &lines)?;
        plan::plan_items_known(&lines, &known_plan_items(&mut tx, &lines).await?)?;
        write_lines(&mut tx, id, &lines, &change.removed).await?;
        sqlx::query(
            "UPDATE budgets SET status = $2, amendment = $3, version = version + 1, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(change.status.as_str())
        .bind(change.amendment)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        finish_budget(tx, actor, change.audit_action, Some(&before), id).await
    }

    /// The department sends its budget to the CIO office and Finance: a new submission, which both approve.
    pub async fn submit_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
    ) -> Result<BudgetDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let before = lock_budget(&mut tx, scope, id, if_match).await?;
        plan::plan_submit(&state_of(&before), caller)?;
        sqlx::query(
            "UPDATE budgets SET status = 'submitted', submission = submission + 1, version = version + 1, \
             updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        finish_budget(tx, actor, "budget.submitted", Some(&before), id).await
    }

    /// The CIO office or Finance approves the submitted budget or returns it with comments; the second approval
    /// approves it, and its lines' amounts become the ones requests draw on.
    pub async fn review_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        acting: Role,
        id: Uuid,
        if_match: i64,
        review: Review,
    ) -> Result<BudgetDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let before = lock_budget(&mut tx, &Scope::All, id, if_match).await?;
        let decided = plan::plan_review(&state_of(&before), caller, acting, &review)?;
        let at = now();
        sqlx::query(
            "INSERT INTO budget_reviews (id, budget_id, submission, role, outcome, comments, reviewed_by, reviewed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(before.budget.submission)
        .bind(decided.role)
        .bind(decided.outcome)
        .bind(decided.comment.as_deref())
        .bind(&actor.subject)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::AlreadyReviewed, || "this submission is already reviewed by your office".into()))?;
        if decided.approves_budget {
            sqlx::query(
                "UPDATE budget_lines SET approved_capital_cents = capital_cents, \
                 approved_operating_cents = operating_staff_cents + operating_other_cents WHERE budget_id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE budgets SET approved_at = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE budgets SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(decided.status.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        finish_budget(tx, actor, decided.audit_action, Some(&before), id).await
    }
}
