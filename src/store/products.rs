// Products, their assessments across departments, and the reuse of an accepted assessment by later requests.
// Included by both backends as a submodule, like requests/loaders.rs.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::assessments::AssessmentStatus;
use crate::domain::questionnaires::Template;
use crate::domain::reuse::{Held, OpenFinding, ProductFacts, ProductReview};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, AnswerRecord, AssessmentRecord, NewProduct, Paged, ProductAssessment, ProductDetail,
    ProductFinding, ProductRecord, RequestRecord, Scope, contains_pattern, to_json, unique_as,
};
use crate::workflow::Caller;
use crate::workflow::products::{self as rules, RecordedReuse};

/// Whether `product_id` (when given) names a product of `vendor_id`.
pub(super) async fn product_known(
    tx: &mut Tx,
    product_id: Option<Uuid>,
    vendor_id: Uuid,
) -> Result<bool, ApiError> {
    let Some(id) = product_id else {
        return Ok(true);
    };
    let found: Option<(Uuid,)> =
        sqlx::query_as("SELECT id FROM products WHERE id = $1 AND vendor_id = $2")
            .bind(id)
            .bind(vendor_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

/// A product with its assessments (not cancelled, oldest first), each with its last acceptance, and the findings
/// still standing on them.
async fn detail(tx: &mut Tx, product: ProductRecord) -> Result<ProductDetail, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        assessment: AssessmentRecord,
        department_code: String,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.*, r.department_code FROM assessments a JOIN requests r ON r.id = a.request_id \
         WHERE a.product_id = $1 AND a.status <> 'cancelled' ORDER BY a.created_at, a.id",
    )
    .bind(product.id)
    .fetch_all(&mut **tx)
    .await?;
    let reviews: Vec<(Uuid, String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT v.assessment_id, v.reviewer, v.reviewed_at FROM assessment_reviews v \
         JOIN assessments a ON a.id = v.assessment_id WHERE a.product_id = $1 AND v.outcome = 'accepted' \
         ORDER BY v.reviewed_at",
    )
    .bind(product.id)
    .fetch_all(&mut **tx)
    .await?;
    let mut last: BTreeMap<Uuid, (chrono::DateTime<chrono::Utc>, String)> = BTreeMap::new();
    for (id, reviewer, at) in reviews {
        last.insert(id, (at, reviewer));
    }
    let assessments = rows
        .into_iter()
        .map(|r| ProductAssessment {
            accepted: last.get(&r.assessment.id).cloned(),
            assessment: r.assessment,
            department_code: r.department_code,
        })
        .collect();
    let open_findings: Vec<ProductFinding> = sqlx::query_as(
        "SELECT f.*, a.template_id, r.department_code FROM findings f JOIN assessments a ON a.id = f.assessment_id \
         JOIN requests r ON r.id = f.request_id WHERE a.product_id = $1 \
         AND f.status IN ('open', 'remediation_planned') ORDER BY f.created_at, f.id",
    )
    .bind(product.id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(ProductDetail {
        product,
        assessments,
        open_findings,
    })
}

async fn template_at(tx: &mut Tx, template_id: &str, version: &str) -> Result<Template, ApiError> {
    let (file_name, source): (String, String) = sqlx::query_as(
        "SELECT file_name, source FROM template_versions WHERE template_id = $1 AND version = $2",
    )
    .bind(template_id)
    .bind(version)
    .fetch_one(&mut **tx)
    .await?;
    Template::from_toml(&file_name, &source).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "stored template {template_id} {version} no longer reads: {e}"
        ))
    })
}

/// The product `product_id` names, as routing reads it, if it is `vendor_id`'s: its assessments (each judged
/// against the current version of its template) and the findings standing on them.
pub(super) async fn product_facts(
    tx: &mut Tx,
    product_id: Option<Uuid>,
    vendor_id: Uuid,
) -> Result<Option<ProductFacts>, ApiError> {
    let Some(id) = product_id else {
        return Ok(None);
    };
    let found: Option<ProductRecord> =
        sqlx::query_as("SELECT * FROM products WHERE id = $1 AND vendor_id = $2")
            .bind(id)
            .bind(vendor_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(product) = found else {
        return Ok(None);
    };
    let current: Vec<(String, String)> =
        sqlx::query_as("SELECT template_id, version FROM template_versions WHERE current = TRUE")
            .fetch_all(&mut **tx)
            .await?;
    let current: BTreeMap<String, String> = current.into_iter().collect();
    let d = detail(tx, product).await?;
    let mut held = Vec::new();
    for pa in &d.assessments {
        let a = &pa.assessment;
        let status = a.status();
        let current_version = match current.get(&a.template_id) {
            Some(v) if *v == a.template_version => true,
            Some(v) if status == AssessmentStatus::Accepted => {
                let then = template_at(tx, &a.template_id, &a.template_version).await?;
                let now = template_at(tx, &a.template_id, v).await?;
                crate::domain::reuse::new_or_changed(&then, &now).is_empty()
            }
            _ => false,
        };
        held.push(Held {
            id: a.id,
            template_id: a.template_id.clone(),
            current_version,
            status,
            scope: a.scope.as_ref().map(|s| s.0.clone()),
            cycle: a.cycle,
            due_date: a.due_date,
            accepted: pa.accepted.clone(),
        });
    }
    let open_findings = d
        .open_findings
        .iter()
        .map(|f| OpenFinding {
            id: f.finding.id,
            assessment_id: f.finding.assessment_id,
            template_id: f.template_id.clone(),
            question_id: f.finding.question_id.clone(),
            severity: f.finding.severity,
            title: f.finding.title.clone(),
            status: f.finding.status,
        })
        .collect();
    Ok(Some(ProductFacts {
        id: d.product.id,
        vendor_id: d.product.vendor_id,
        name: d.product.name.clone(),
        assessments: held,
        open_findings,
    }))
}

/// Records which accepted assessment each questionnaire of `submission` refers to (and whether the policy holds it
/// for an analyst's confirmation). A confirmation given before stays while the same assessment is referred to.
pub(super) async fn write_reuses(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    review: Option<&ProductReview>,
) -> Result<(), ApiError> {
    let referenced = review.map(|r| r.referenced()).unwrap_or_default();
    let keep: BTreeSet<&str> = referenced.iter().map(|(q, _, _)| q.as_str()).collect();
    let existing: Vec<(String,)> = sqlx::query_as(
        "SELECT template_id FROM request_reuses WHERE request_id = $1 AND submission = $2",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_all(&mut **tx)
    .await?;
    for (template_id,) in existing {
        if !keep.contains(template_id.as_str()) {
            sqlx::query(
                "DELETE FROM request_reuses WHERE request_id = $1 AND submission = $2 AND template_id = $3",
            )
            .bind(request_id)
            .bind(submission)
            .bind(&template_id)
            .execute(&mut **tx)
            .await?;
        }
    }
    for (template_id, assessment_id, needs_confirmation) in referenced {
        sqlx::query(
            "INSERT INTO request_reuses (request_id, submission, template_id, assessment_id, needs_confirmation) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, submission, template_id) DO UPDATE SET \
             confirmed_by = CASE WHEN request_reuses.assessment_id = excluded.assessment_id \
             THEN request_reuses.confirmed_by END, \
             confirmed_at = CASE WHEN request_reuses.assessment_id = excluded.assessment_id \
             THEN request_reuses.confirmed_at END, \
             assessment_id = excluded.assessment_id, needs_confirmation = excluded.needs_confirmation",
        )
        .bind(request_id)
        .bind(submission)
        .bind(&template_id)
        .bind(assessment_id)
        .bind(needs_confirmation)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What settling a submission reads of its reuses: the questionnaires an analyst confirmed, and the critical
/// findings standing on the assessments it refers to.
pub(super) async fn reuse_evidence(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
) -> Result<(BTreeSet<String>, u32), ApiError> {
    let confirmed: Vec<(String,)> = sqlx::query_as(
        "SELECT template_id FROM request_reuses WHERE request_id = $1 AND submission = $2 \
         AND confirmed_at IS NOT NULL",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_all(&mut **tx)
    .await?;
    let (critical,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM findings f JOIN request_reuses u ON u.assessment_id = f.assessment_id \
         WHERE u.request_id = $1 AND u.submission = $2 AND f.severity = 'critical' \
         AND f.status IN ('open', 'remediation_planned')",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_one(&mut **tx)
    .await?;
    Ok((
        confirmed.into_iter().map(|(t,)| t).collect(),
        critical as u32,
    ))
}

/// Settles again every request whose current submission refers to `assessment_id` (a finding on it changed).
pub(super) async fn resettle_reusers(
    tx: &mut Tx,
    actor: &Actor,
    assessment_id: Uuid,
) -> Result<(), ApiError> {
    let reusers: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT DISTINCT u.request_id FROM request_reuses u JOIN requests r ON r.id = u.request_id \
         AND r.submission = u.submission WHERE u.assessment_id = $1",
    )
    .bind(assessment_id)
    .fetch_all(&mut **tx)
    .await?;
    for (request_id,) in reusers {
        super::requests_impl::resettle(tx, actor, request_id).await?;
    }
    Ok(())
}

/// Opens `created` as the next cycle of the product's assessment `previous`: the previous answers the current
/// template still reads are carried, marked as from its cycle, each file answer with a copy of its file; the
/// rest are left for the vendor. Returns the assessment and the questions carried and not carried.
pub(super) async fn continue_cycle(
    tx: &mut Tx,
    created: &AssessmentRecord,
    previous: Uuid,
) -> Result<(AssessmentRecord, crate::domain::assessments::CarryOver), ApiError> {
    let prev: AssessmentRecord = sqlx::query_as("SELECT * FROM assessments WHERE id = $1")
        .bind(previous)
        .fetch_one(&mut **tx)
        .await?;
    let template = template_at(tx, &created.template_id, &created.template_version).await?;
    let files: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM evidence WHERE assessment_id = $1")
        .bind(previous)
        .fetch_all(&mut **tx)
        .await?;
    let mut copies: BTreeMap<String, String> = BTreeMap::new();
    for (old,) in files {
        let new = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO evidence (id, assessment_id, question_id, file_name, content_type, size_bytes, sha256, \
             data, uploaded_by, uploaded_at) SELECT $1, $2, question_id, file_name, content_type, size_bytes, \
             sha256, data, uploaded_by, uploaded_at FROM evidence WHERE id = $3",
        )
        .bind(new)
        .bind(created.id)
        .bind(old)
        .execute(&mut **tx)
        .await?;
        copies.insert(old.to_string(), new.to_string());
    }
    let answers: Vec<AnswerRecord> = sqlx::query_as(
        "SELECT question_id, value, comment, evidence_ref, source, updated_by, updated_at FROM answers \
         WHERE assessment_id = $1",
    )
    .bind(previous)
    .fetch_all(&mut **tx)
    .await?;
    let mut carry = crate::domain::assessments::carry_over(
        &template,
        answers.iter().map(|a| (a.question_id.as_str(), &a.value.0)),
    );
    // A question reworded since the answer was given is asked again, not answered by the old answer.
    if prev.template_version != created.template_version {
        let then = template_at(tx, &prev.template_id, &prev.template_version).await?;
        let changed = crate::domain::reuse::new_or_changed(&then, &template);
        let (kept, reworded): (Vec<String>, Vec<String>) = carry
            .carried
            .into_iter()
            .partition(|q| !changed.contains(q));
        carry.carried = kept;
        carry.retired.extend(reworded);
        carry.retired.sort();
    }
    let source = crate::domain::assessments::prior_cycle_source(prev.cycle);
    let at = now();
    for a in answers
        .iter()
        .filter(|a| carry.carried.contains(&a.question_id))
    {
        let mut value = a.value.0.clone();
        if let Some(copy) = value
            .get("evidence_id")
            .and_then(|v| v.as_str())
            .and_then(|id| copies.get(id))
        {
            value = serde_json::json!({ "evidence_id": copy });
        }
        sqlx::query(
            "INSERT INTO answers (assessment_id, question_id, value, comment, evidence_ref, source, updated_by, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(created.id)
        .bind(&a.question_id)
        .bind(Json(&value))
        .bind(a.comment.as_deref())
        .bind(a.evidence_ref.as_deref())
        .bind(&source)
        .bind(&a.updated_by)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    let updated: AssessmentRecord = sqlx::query_as(
        "UPDATE assessments SET cycle = $2, previous_assessment_id = $3 WHERE id = $1 RETURNING *",
    )
    .bind(created.id)
    .bind(prev.cycle + 1)
    .bind(previous)
    .fetch_one(&mut **tx)
    .await?;
    Ok((updated, carry))
}

impl Repo {
    pub async fn create_product(
        &self,
        actor: &Actor,
        caller: &Caller,
        product: NewProduct,
    ) -> Result<ProductRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let vendor: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM vendors WHERE id = $1")
            .bind(product.vendor_id)
            .fetch_optional(&mut *tx)
            .await?;
        rules::create(caller, vendor.is_some())?;
        let at = now();
        let created: ProductRecord = sqlx::query_as(
            "INSERT INTO products (id, vendor_id, name, name_key, aliases, hosting, data_classes, version, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $9) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(product.vendor_id)
        .bind(&product.name)
        .bind(crate::workflow::subject_key(&product.name))
        .bind(Json(&product.aliases))
        .bind(product.hosting)
        .bind(Json(&product.data_classes))
        .bind(&actor.subject)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::ProductExists, || {
            format!(
                "the vendor already has a product named {:?}",
                product.name
            )
        }))?;
        commit_audited(
            tx,
            actor,
            "product.created",
            "product",
            &created.id.to_string(),
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    /// A product with its assessments and standing findings; `vendor` (a vendor's own token) sees its own only.
    pub async fn get_product(
        &self,
        vendor: Option<Uuid>,
        id: Uuid,
    ) -> Result<ProductDetail, ApiError> {
        let mut tx = self.pool.begin().await?;
        let found: Option<ProductRecord> = sqlx::query_as("SELECT * FROM products WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let product = found
            .filter(|p| vendor.is_none_or(|v| v == p.vendor_id))
            .ok_or_else(|| ApiError::not_found("product"))?;
        let out = detail(&mut tx, product).await;
        tx.rollback().await?;
        out
    }

    /// Products, by name; `vendor` bounds them to one vendor's, `q` matches the name or an alias.
    pub async fn list_products(
        &self,
        vendor: Option<Uuid>,
        q: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<ProductDetail>, ApiError> {
        let pattern = q.map(contains_pattern);
        const WHERE: &str = "FROM products WHERE ($1 IS NULL OR vendor_id = $1) AND ($2 IS NULL OR \
                             LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(CAST(aliases AS TEXT)) LIKE $2 ESCAPE '\\')";
        let mut tx = self.pool.begin().await?;
        let products: Vec<ProductRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * {WHERE} ORDER BY name_key, id LIMIT $3 OFFSET $4"
        )))
        .bind(vendor)
        .bind(pattern.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *tx)
        .await?;
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
                .bind(vendor)
                .bind(pattern.as_deref())
                .fetch_one(&mut *tx)
                .await?;
        let mut items = Vec::with_capacity(products.len());
        for p in products {
            items.push(detail(&mut tx, p).await?);
        }
        tx.rollback().await?;
        Ok(Paged { items, total })
    }

    /// A security analyst confirms that the request's current submission reuses the product's accepted
    /// `questionnaire`, where the policy held the reuse for confirmation; the security review settles if that was
    /// all it waited for.
    pub async fn confirm_reuse(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        questionnaire: &str,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) =
            super::requests_impl::open_change(&self.writer, &Scope::All, id, if_match).await?;
        let recorded: Option<(bool, Option<String>)> = sqlx::query_as(
            "SELECT needs_confirmation, confirmed_by FROM request_reuses WHERE request_id = $1 AND submission = $2 \
             AND template_id = $3",
        )
        .bind(id)
        .bind(current.submission)
        .bind(questionnaire)
        .fetch_optional(&mut *tx)
        .await?;
        rules::confirm_reuse(
            &state,
            caller,
            questionnaire,
            recorded.map(|(needs, by)| RecordedReuse {
                needs_confirmation: needs,
                confirmed: by.is_some(),
            }),
        )?;
        sqlx::query(
            "UPDATE request_reuses SET confirmed_by = $4, confirmed_at = $5 WHERE request_id = $1 \
             AND submission = $2 AND template_id = $3",
        )
        .bind(id)
        .bind(current.submission)
        .bind(questionnaire)
        .bind(&actor.subject)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let evidence =
            super::requests_impl::load_evidence(&mut tx, id, current.vendor_id, current.submission)
                .await?;
        let plan = crate::workflow::requests::settle_plan(&state, &evidence).unwrap_or_else(|| {
            crate::workflow::requests::status_after(&state, Vec::new(), "request.reuse_confirmed")
        });
        let extra = serde_json::json!({"reuse_confirmed": questionnaire});
        let updated =
            super::requests_impl::apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok(updated)
    }
}
