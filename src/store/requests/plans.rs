// Part of the requests SQL, included by both backends right after requests/loaders.rs into the same module: it shares
// that file's imports and private helpers, so it has no `use` lines of its own (they would be imported twice).
//
// Applying a planner's plan: the row, versions, steps, decisions, duplicate candidates, audit.

/// Applies a plan to the locked request `current` and audits it as one change, with `extra` merged into the
/// record's after-image. Returns the row as it now stands.
pub(super) async fn apply_plan(
    tx: &mut Tx,
    actor: &Actor,
    current: &RequestRecord,
    plan: &Plan,
    extra: Option<serde_json::Value>,
) -> Result<RequestRecord, ApiError> {
    let at = now();
    let id = current.id;
    let mut submission = current.submission;
    if let Some(v) = &plan.version {
        submission = v.submission;
        if v.fields.vendor_id != current.vendor_id {
            super::questionnaires_impl::close_for_other_vendors(
                tx,
                actor,
                id,
                v.fields.vendor_id,
                "the request now names another vendor",
            )
            .await?;
        }
        sqlx::query(
            "INSERT INTO request_versions (request_id, submission, fields, submitted_by, submitted_at, kind, \
             policy_version, route) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(v.submission)
        .bind(Json(&v.fields))
        .bind(&actor.subject)
        .bind(at)
        .bind(v.kind.as_str())
        .bind(v.policy_version)
        .bind(Json(&v.route))
        .execute(&mut **tx)
        .await?;
        write_steps(tx, id, v.submission, &v.steps).await?;
        super::products_impl::write_reuses(tx, id, v.submission, v.route.product.as_ref()).await?;
        sqlx::query(
            "UPDATE requests SET fields = $2, title = $3, vendor_id = $4, total_contract_value_cents = $5, \
             fiscal_year = $6, submission = $7, policy_version = $8, route = $9, submitted_by = $10, \
             budget_line_id = $11, capital_cents = $12, annual_operating_cents = $13, \
             holds_personal_information = $14 WHERE id = $1",
        )
        .bind(id)
        .bind(Json(&v.fields))
        .bind(&v.fields.title)
        .bind(v.fields.vendor_id)
        .bind(v.fields.total_contract_value_cents())
        .bind(v.route.fiscal_year)
        .bind(v.submission)
        .bind(v.policy_version)
        .bind(Json(&v.route))
        .bind(&actor.subject)
        .bind(v.fields.budget_line_id)
        .bind(v.fields.capital_cost_cents)
        .bind(v.fields.annual_operating_cost_cents)
        .bind(v.fields.holds_personal_information())
        .execute(&mut **tx)
        .await?;
    }
    if let Some(fields) = &plan.fields {
        let (_, policy) = load_policy(tx, None).await?;
        sqlx::query(
            "UPDATE requests SET fields = $2, title = $3, vendor_id = $4, total_contract_value_cents = $5, \
             fiscal_year = $6, budget_line_id = $7, capital_cents = $8, annual_operating_cents = $9, \
             holds_personal_information = $10 WHERE id = $1",
        )
        .bind(id)
        .bind(Json(fields))
        .bind(&fields.title)
        .bind(fields.vendor_id)
        .bind(fields.total_contract_value_cents())
        .bind(policy.fiscal_year_of(fields.requested_start_date))
        .bind(fields.budget_line_id)
        .bind(fields.capital_cost_cents)
        .bind(fields.annual_operating_cost_cents)
        .bind(fields.holds_personal_information())
        .execute(&mut **tx)
        .await?;
    }
    if let Some((policy_version, route, steps)) = &plan.rerouted {
        write_steps(tx, id, submission, steps).await?;
        super::products_impl::write_reuses(tx, id, submission, route.product.as_ref()).await?;
        sqlx::query(
            "UPDATE requests SET policy_version = $2, route = $3, fiscal_year = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(policy_version)
        .bind(Json(route))
        .bind(route.fiscal_year)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE request_versions SET policy_version = $3, route = $4 WHERE request_id = $1 AND submission = $2")
            .bind(id)
            .bind(submission)
            .bind(policy_version)
            .bind(Json(route))
            .execute(&mut **tx)
            .await?;
    }
    for change in &plan.step_changes {
        sqlx::query(
            "UPDATE route_steps SET state = $4, note = $5, conditions = $6, settled_in = $7, updated_at = $8 \
             WHERE request_id = $1 AND submission = $2 AND kind = $3",
        )
        .bind(id)
        .bind(submission)
        .bind(change.kind.as_str())
        .bind(change.state.as_str())
        .bind(&change.note)
        .bind(Json(&change.conditions))
        .bind(change.settled_in)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    let decision = match &plan.decision {
        Some(d) => Some(insert_decision(tx, id, submission, d).await?),
        None => None,
    };
    let updated: RequestRecord = sqlx::query_as(
        "UPDATE requests SET status = $2, decided_submission = COALESCE($3, decided_submission), \
         version = version + 1, updated_at = $4 WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(plan.status.as_str())
    .bind(plan.decided_submission)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    if !plan.assessments.is_empty() {
        let (_, policy) = load_policy(tx, None).await?;
        super::questionnaires_impl::create_assessments(
            tx,
            actor,
            &updated,
            &plan.assessments,
            policy.questionnaire_due_days,
            updated.route.as_ref().and_then(|r| r.0.product.as_ref()),
        )
        .await?;
    }
    if let Some(reason) = &plan.close {
        close_work(tx, actor, id, reason).await?;
    }
    if plan.author {
        sqlx::query(
            "INSERT INTO request_authors (request_id, subject_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(crate::workflow::subject_key(&actor.subject))
        .execute(&mut **tx)
        .await?;
    }
    super::events_impl::request_changed(tx, plan.audit_action, current, &updated).await?;
    let mut after = snapshot(&updated);
    if let Some(d) = &decision {
        after["decision"] = to_json(d);
    }
    if !plan.step_changes.is_empty() {
        after["steps"] = serde_json::Value::Array(
            plan.step_changes
                .iter()
                .map(|c| serde_json::json!({"kind": c.kind.as_str(), "state": c.state.as_str(), "note": c.note}))
                .collect(),
        );
    }
    if let Some(serde_json::Value::Object(more)) = extra {
        for (k, v) in more {
            after[k] = v;
        }
    }
    audit(
        tx,
        actor,
        plan.audit_action,
        "request",
        &id.to_string(),
        Some(snapshot(current)),
        Some(after),
    )
    .await?;
    Ok(updated)
}

/// Settles the steps of a request that evidence completes, after an event that may have completed one (an
/// assessment accepted, a finding resolved, a clause recorded, a Council vote or document). Nothing happens
/// when nothing changes.
pub(super) async fn resettle(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
) -> Result<Option<RequestRecord>, ApiError> {
    let record = lock_row(tx, &Scope::All, request_id).await?;
    let state = load_state(tx, &record).await?;
    let evidence = load_evidence(tx, record.id, record.vendor_id, record.submission).await?;
    match plans::settle_plan(&state, &evidence) {
        None => Ok(None),
        Some(plan) => Ok(Some(apply_plan(tx, actor, &record, &plan, None).await?)),
    }
}

/// Opens the transaction of a change: the request locked at version `if_match`, and its state.
pub(super) async fn open_change(
    pool: &Pool,
    scope: &Scope,
    id: Uuid,
    if_match: i64,
) -> Result<(Tx, RequestRecord, RequestState), ApiError> {
    let mut tx = begin(pool).await?;
    let current = lock_version(&mut tx, scope, id, if_match).await?;
    let state = load_state(&mut tx, &current).await?;
    Ok((tx, current, state))
}

/// Applies the plan, audits it, and commits.
async fn finish(
    mut tx: Tx,
    actor: &Actor,
    current: &RequestRecord,
    plan: &Plan,
    extra: Option<serde_json::Value>,
) -> Result<RequestRecord, ApiError> {
    let updated = apply_plan(&mut tx, actor, current, plan, extra).await?;
    tx.commit().await?;
    Ok(updated)
}
async fn insert_decision(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    d: &plans::NewDecision,
) -> Result<Decision, ApiError> {
    let step = &d.step;
    let decision = &d.decision;
    let (id,): (Uuid,) = sqlx::query_as(
        "INSERT INTO decisions (id, request_id, submission, step, outcome, conditions, reason_code, rationale, \
         decided_by, role, decided_at, service_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(request_id)
    .bind(submission)
    .bind(step)
    .bind(decision.outcome)
    .bind(Json(&decision.conditions))
    .bind(decision.reason_code)
    .bind(decision.rationale.as_deref())
    .bind(&d.decided_by)
    .bind(&d.role)
    .bind(now())
    .bind(decision.service_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(unique_as(ProblemCode::AlreadyDecided, || format!("the {step} step of this version is already decided")))?;
    let row: DecisionRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{DECISION_SELECT} WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.into_decision())
}

const DECISION_SELECT: &str = "SELECT d.*, c.name AS service_name, c.owning_team AS service_team, \
    c.access AS service_access FROM decisions d LEFT JOIN catalog_services c ON c.id = d.service_id";

/// Every likely duplicate among `candidates` that the CIO has not dismissed for this request, best first,
/// described for the route's reason: each one is named, so that the CIO sees them all.
async fn undismissed_likely(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[Recorded],
) -> Result<Option<String>, ApiError> {
    let standing = standing_likely(tx, request_id, candidates).await?;
    Ok((!standing.is_empty()).then(|| standing.join("; ")))
}

/// The likely duplicates among `candidates` not dismissed for this request, best first, each described.
async fn standing_likely(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[Recorded],
) -> Result<Vec<String>, ApiError> {
    let dismissed = dismissed_pairs(tx, request_id, candidates).await?;
    let mut standing: Vec<&Recorded> = candidates
        .iter()
        .filter(|(kind, id, _, _, class, _)| {
            *class == MatchClass::LikelyDuplicate
                && !dismissed.iter().any(|(k, i)| k == kind && i == id)
        })
        .collect();
    standing.sort_by(|a, b| b.3.total_cmp(&a.3).then_with(|| a.1.cmp(&b.1)));
    Ok(standing
        .into_iter()
        .map(|(kind, _, name, score, _, _)| describe_candidate(*kind, name, *score))
        .collect())
}

/// What the duplicate check recorded for a submitted version.
async fn recorded_candidates(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
) -> Result<Vec<Recorded>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT candidate_kind, candidate_id, name, score, class, carried_from FROM request_duplicates \
         WHERE request_id = $1 AND submission = $2",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_all(&mut **tx)
    .await?)
}

/// Records what the duplicate check found for a submitted version.
async fn record_candidates(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    candidates: &[Candidate],
    carried: &[PriorDismissal],
) -> Result<Vec<Recorded>, ApiError> {
    let mut out = Vec::new();
    for c in candidates {
        let prior = carried
            .iter()
            .find(|p| p.candidate_kind == c.kind && p.candidate_id == c.id)
            .map(|p| Json(p.clone()));
        sqlx::query(
            "INSERT INTO request_duplicates (request_id, submission, candidate_kind, candidate_id, name, score, class, \
             evidence, carried_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(request_id)
        .bind(submission)
        .bind(c.kind)
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.score)
        .bind(c.class)
        .bind(Json(to_json(&c.evidence)))
        .bind(&prior)
        .execute(&mut **tx)
        .await?;
        out.push((
            c.kind,
            c.id.clone(),
            c.name.clone(),
            c.score,
            c.class,
            prior,
        ));
    }
    Ok(out)
}
