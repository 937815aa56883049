// Assessments: the list and the reads, answers (typed or imported), submission, the analyst's review, review
// cycles, evidence and findings. Included by both backends after questionnaires.rs, in the same submodule: it uses
// that file's imports, helpers (`lock_assessment`, `visible`, `scope_binds`, ...) and `scope_conditions`.

/// Settles the request's steps that evidence completes (the security review once every questionnaire it names is
/// accepted and no critical finding stands); called after each event that could complete one.
async fn evaluate_security_step(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
) -> Result<(), ApiError> {
    super::requests_impl::resettle(tx, actor, request_id).await?;
    Ok(())
}

/// Stores or clears answers inside the caller's transaction; returns what changed, for the audit record.
async fn upsert_answers(
    tx: &mut Tx,
    actor: &Actor,
    id: Uuid,
    entries: Vec<AnswerEntry>,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let at = now();
    let mut changes = Vec::new();
    for entry in entries {
        let AnswerEntry {
            question_id,
            value,
            comment,
            evidence_ref,
            source,
        } = entry;
        match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO answers (assessment_id, question_id, value, comment, evidence_ref, source, updated_by, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (assessment_id, question_id) DO \
                     UPDATE SET value = excluded.value, comment = excluded.comment, evidence_ref = excluded.evidence_ref, \
                     source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(id)
                .bind(&question_id)
                .bind(Json(&value))
                .bind(comment.as_deref())
                .bind(evidence_ref.as_deref())
                .bind(&source)
                .bind(&actor.subject)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                changes.push(serde_json::json!({"question_id": question_id, "value": value, "comment": comment,
                                                "evidence_ref": evidence_ref, "source": source}));
            }
            None => {
                sqlx::query("DELETE FROM answers WHERE assessment_id = $1 AND question_id = $2")
                    .bind(id)
                    .bind(&question_id)
                    .execute(&mut **tx)
                    .await?;
                changes.push(serde_json::json!({"question_id": question_id, "cleared": true}));
            }
        }
    }
    Ok(changes)
}

async fn insert_evidence(
    tx: &mut Tx,
    actor: &Actor,
    assessment_id: Uuid,
    question_id: Option<&str>,
    file_name: &str,
    content_type: &str,
    data: &[u8],
) -> Result<EvidenceRecord, ApiError> {
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
    let created: EvidenceRecord = sqlx::query_as(
        "INSERT INTO evidence (id, assessment_id, question_id, file_name, content_type, size_bytes, sha256, data, \
         uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, assessment_id, \
         question_id, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at",
    )
    .bind(Uuid::new_v4())
    .bind(assessment_id)
    .bind(question_id)
    .bind(file_name)
    .bind(content_type)
    .bind(data.len() as i64)
    .bind(&sha256)
    .bind(data)
    .bind(&actor.subject)
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    audit(
        tx,
        actor,
        "evidence.uploaded",
        "evidence",
        &created.id.to_string(),
        None,
        Some(to_json(&created)),
    )
    .await?;
    Ok(created)
}

impl Repo {
    pub async fn list_assessments(
        &self,
        scope: &VendorScope,
        request_id: Option<Uuid>,
        vendor_id: Option<Uuid>,
        status: Option<AssessmentStatus>,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<AssessmentRecord>, Option<Keyset>), ApiError> {
        let mut matches =
            scope_conditions(&scope_binds(scope), "a.vendor_id", "a.request_id", "a.id");
        if let Some(request) = request_id {
            matches.push("a.request_id = {}", [Arg::Id(request)]);
        }
        if let Some(status) = status {
            matches.push("a.status = {}", [Arg::Text(status.as_str().to_string())]);
        }
        if let Some(vendor) = vendor_id {
            matches.push("a.vendor_id = {}", [Arg::Id(vendor)]);
        }
        let (total,): (i64,) = matches
            .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM assessments a{}",
                matches.where_sql()
            ))))
            .fetch_one(&self.pool)
            .await?;
        let (items, next) = keyset_page(
            &self.pool,
            "SELECT a.* FROM assessments a",
            "a",
            Age::NewestFirst,
            matches,
            page,
            after,
            |a: &AssessmentRecord| (a.created_at, a.id),
        )
        .await?;
        Ok((Paged { items, total }, next))
    }

    pub async fn get_assessment(
        &self,
        scope: &VendorScope,
        id: Uuid,
    ) -> Result<AssessmentRecord, ApiError> {
        let mut tx = self.pool.begin().await?;
        let found = lock_assessment(&mut tx, scope, id).await;
        tx.rollback().await?;
        found
    }

    pub async fn answers(&self, assessment_id: Uuid) -> Result<Vec<AnswerRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT question_id, value, comment, evidence_ref, source, updated_by, updated_at FROM answers \
             WHERE assessment_id = $1 ORDER BY question_id",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores answers (already checked against the template) in one transaction; `None` clears an answer.
    pub async fn save_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        entries: Vec<AnswerEntry>,
    ) -> Result<AssessmentRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, if_match)?;
        rules::vendor_may(current.state(), VendorWork::Answer)?;
        let at = now();
        let changes = upsert_answers(&mut tx, actor, id, entries).await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "assessment.answered",
            "assessment",
            &id.to_string(),
            None,
            Some(serde_json::json!({"answers": changes, "version": updated.version})),
        )
        .await?;
        Ok(updated)
    }

    /// Stores the answers read from an uploaded spreadsheet and keeps the file itself as evidence, in one
    /// transaction: both or neither.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        entries: Vec<AnswerEntry>,
        file_name: &str,
        content_type: &str,
        original: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, Some(expected_version))?;
        rules::vendor_may(current.state(), VendorWork::Answer)?;
        let changes = upsert_answers(&mut tx, actor, id, entries).await?;
        let evidence =
            insert_evidence(&mut tx, actor, id, None, file_name, content_type, original).await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "assessment.imported",
            "assessment",
            &id.to_string(),
            None,
            Some(serde_json::json!({"answers": changes, "file": evidence.id, "version": updated.version})),
        )
        .await?;
        Ok((updated, evidence))
    }

    /// Freezes the answers as a submitted version with their score; `expected_version` is the version the
    /// caller scored, so answers saved meanwhile cannot slip in unscored.
    pub async fn submit_assessment(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        answers: serde_json::Value,
        score: ScoreView,
    ) -> Result<AssessmentRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, Some(expected_version))?;
        rules::vendor_may(current.state(), VendorWork::Submit)?;
        let submission = current.submission + 1;
        let at = now();
        sqlx::query(
            "INSERT INTO assessment_submissions (assessment_id, submission, answers, score, submitted_by, submitted_at, \
             cycle) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(submission)
        .bind(Json(&answers))
        .bind(Json(&score))
        .bind(&actor.subject)
        .bind(at)
        .bind(current.cycle)
        .execute(&mut *tx)
        .await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET status = 'submitted', submission = $2, score = $3, version = version + 1, \
             updated_at = $4 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(submission)
        .bind(Json(&score))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let event = crate::domain::mail::Event::AssessmentSubmitted;
        super::events_impl::assessment_event(&mut tx, event, &updated).await?;
        commit_audited(
            tx,
            actor,
            "assessment.submitted",
            "assessment",
            &id.to_string(),
            Some(to_json(&current)),
            Some(serde_json::json!({"assessment": updated, "answers": answers})),
        )
        .await?;
        Ok(updated)
    }

    /// The analyst accepts (raising `findings`) or returns a submitted assessment, with comments per question.
    pub async fn review_assessment(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        accept: bool,
        comments: Vec<ReviewComment>,
        findings: Vec<NewFinding>,
    ) -> Result<(AssessmentRecord, Vec<FindingRecord>), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, &VendorScope::All, id).await?;
        check_assessment_version(&current, if_match)?;
        rules::may_review(current.state())?;
        let outcome = if accept {
            AssessmentReviewVerdict::Accepted
        } else {
            AssessmentReviewVerdict::Returned
        };
        let at = now();
        sqlx::query(
            "INSERT INTO assessment_reviews (id, assessment_id, submission, outcome, comments, reviewer, reviewed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(current.submission)
        .bind(outcome)
        .bind(Json(&comments))
        .bind(&actor.subject)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let mut raised = Vec::new();
        if accept {
            for f in &findings {
                // A question keeps one finding. Failing again in a later cycle reopens it if it was resolved; a
                // finding still open, planned or risk-accepted is left as it stands.
                let created: Option<FindingRecord> = sqlx::query_as(
                    "INSERT INTO findings (id, assessment_id, request_id, vendor_id, question_id, severity, title, \
                     reason, citation, status, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', 1, $10, $10) \
                     ON CONFLICT (assessment_id, question_id) DO UPDATE SET status = 'open', severity = excluded.severity, \
                     reason = excluded.reason, resolution_note = NULL, version = findings.version + 1, \
                     updated_at = excluded.updated_at WHERE findings.status = 'resolved' RETURNING *",
                )
                .bind(Uuid::new_v4())
                .bind(id)
                .bind(current.request_id)
                .bind(current.vendor_id)
                .bind(&f.question_id)
                .bind(f.severity)
                .bind(&f.title)
                .bind(&f.reason)
                .bind(f.citation.as_deref())
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(created) = created {
                    let fid = created.id.to_string();
                    let action = if created.version > 1 {
                        "finding.reopened"
                    } else {
                        "finding.raised"
                    };
                    audit(
                        &mut tx,
                        actor,
                        action,
                        "finding",
                        &fid,
                        None,
                        Some(to_json(&created)),
                    )
                    .await?;
                    let event = crate::domain::mail::Event::FindingRaised;
                    super::events_impl::finding_event(&mut tx, event, &created).await?;
                    raised.push(created);
                }
            }
        }
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(outcome)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let event = crate::domain::mail::review_event(accept);
        super::events_impl::assessment_event(&mut tx, event, &updated).await?;
        audit(
            &mut tx,
            actor,
            &format!("assessment.{}", outcome.as_str()),
            "assessment",
            &id.to_string(),
            Some(to_json(&current)),
            Some(serde_json::json!({"assessment": updated, "comments": comments})),
        )
        .await?;
        if accept {
            evaluate_security_step(&mut tx, actor, current.request_id).await?;
        }
        tx.commit().await?;
        Ok((updated, raised))
    }

    /// Reopens an accepted assessment as the next review cycle, against `cycle.template_version`: the carried
    /// answers stay as the vendor's starting point, marked as from the last cycle; the retired ones are removed
    /// (the last cycle's submitted version keeps them). The request's route is not touched: its decision stands.
    pub async fn start_cycle(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        cycle: NewCycle,
    ) -> Result<AssessmentRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, &VendorScope::All, id).await?;
        check_assessment_version(&current, if_match)?;
        rules::may_start_cycle(current.state())?;
        for question_id in &cycle.carry.retired {
            sqlx::query("DELETE FROM answers WHERE assessment_id = $1 AND question_id = $2")
                .bind(id)
                .bind(question_id)
                .execute(&mut *tx)
                .await?;
        }
        let at = now();
        sqlx::query("UPDATE answers SET source = $2, updated_by = $3, updated_at = $4 WHERE assessment_id = $1")
            .bind(id)
            .bind(crate::domain::assessments::prior_cycle_source(current.cycle))
            .bind(&actor.subject)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET status = 'open', cycle = cycle + 1, template_version = $2, due_date = $3, \
             version = version + 1, updated_at = $4 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&cycle.template_version)
        .bind(cycle.due_date)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "assessment.cycle_started",
            "assessment",
            &id.to_string(),
            Some(to_json(&current)),
            Some(
                serde_json::json!({"assessment": updated, "carried": cycle.carry.carried,
                                    "retired": cycle.carry.retired, "note": cycle.note}),
            ),
        )
        .await?;
        Ok(updated)
    }

    pub async fn reviews(&self, assessment_id: Uuid) -> Result<Vec<ReviewRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, submission, outcome, comments, reviewer, reviewed_at FROM assessment_reviews \
             WHERE assessment_id = $1 ORDER BY reviewed_at",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores an evidence file; the assessment's version moves on, as its evidence list changed.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_evidence(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        assessment_id: Uuid,
        expected_version: i64,
        question_id: Option<&str>,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let assessment = lock_assessment(&mut tx, scope, assessment_id).await?;
        check_assessment_version(&assessment, Some(expected_version))?;
        rules::vendor_may(assessment.state(), VendorWork::AddEvidence)?;
        let created = insert_evidence(
            &mut tx,
            actor,
            assessment_id,
            question_id,
            file_name,
            content_type,
            data,
        )
        .await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(assessment_id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((updated, created))
    }

    pub async fn list_evidence(
        &self,
        assessment_id: Uuid,
    ) -> Result<Vec<EvidenceRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, assessment_id, question_id, file_name, content_type, size_bytes, sha256, uploaded_by, \
             uploaded_at FROM evidence WHERE assessment_id = $1 ORDER BY uploaded_at",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// An evidence file and its bytes, if it belongs to `assessment_id`.
    pub async fn evidence_file(
        &self,
        assessment_id: Uuid,
        evidence_id: Uuid,
    ) -> Result<Option<(EvidenceRecord, Vec<u8>)>, ApiError> {
        let meta: Option<EvidenceRecord> = sqlx::query_as(
            "SELECT id, assessment_id, question_id, file_name, content_type, size_bytes, sha256, uploaded_by, \
             uploaded_at FROM evidence WHERE id = $1 AND assessment_id = $2",
        )
        .bind(evidence_id)
        .bind(assessment_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(meta) = meta else { return Ok(None) };
        let (data,): (Vec<u8>,) = sqlx::query_as("SELECT data FROM evidence WHERE id = $1")
            .bind(evidence_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some((meta, data)))
    }

    pub async fn list_findings(
        &self,
        scope: &VendorScope,
        filter: &FindingFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<FindingRecord>, Option<Keyset>), ApiError> {
        let matches = finding_conditions(scope, filter);
        let (total,): (i64,) = matches
            .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM findings f{}",
                matches.where_sql()
            ))))
            .fetch_one(&self.pool)
            .await?;
        let (items, next) = keyset_page(
            &self.pool,
            "SELECT f.* FROM findings f",
            "f",
            Age::OldestFirst,
            matches,
            page,
            after,
            |f: &FindingRecord| (f.created_at, f.id),
        )
        .await?;
        Ok((Paged { items, total }, next))
    }

    /// The findings register's rows: every finding `filter` asks within `scope`, oldest first (the list's order),
    /// at most `limit`, each given to `each` as one streamed statement reads it. Returns the rows read.
    pub async fn each_finding_register_row(
        &self,
        scope: &VendorScope,
        filter: &FindingFilter,
        limit: i64,
        each: &mut EachRow<'_, FindingRecord>,
    ) -> Result<u64, ApiError> {
        let matches = finding_conditions(scope, filter);
        let sql = format!(
            "SELECT f.* FROM findings f{} ORDER BY f.created_at, f.id LIMIT ${}",
            matches.where_sql(),
            matches.args.len() + 1
        );
        let query = matches
            .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(limit);
        each_row(query, &self.pool, each).await
    }

    pub async fn get_finding(
        &self,
        scope: &VendorScope,
        id: Uuid,
    ) -> Result<FindingRecord, ApiError> {
        let mut tx = self.pool.begin().await?;
        let found: Option<FindingRecord> = sqlx::query_as("SELECT * FROM findings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let found = found.ok_or_else(|| ApiError::not_found("finding"))?;
        let shown = visible(
            &mut tx,
            scope,
            found.vendor_id,
            found.request_id,
            found.assessment_id,
        )
        .await?;
        tx.rollback().await?;
        if shown {
            Ok(found)
        } else {
            Err(ApiError::not_found("finding"))
        }
    }

    pub async fn change_finding(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        change: FindingChange,
    ) -> Result<FindingRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: FindingRecord = lock(&mut tx, "SELECT * FROM findings WHERE id = $1", id)
            .await?
            .ok_or_else(|| ApiError::not_found("finding"))?;
        if !visible(
            &mut tx,
            scope,
            current.vendor_id,
            current.request_id,
            current.assessment_id,
        )
        .await?
        {
            return Err(ApiError::not_found("finding"));
        }
        if let Some(v) = if_match
            && v != current.version
        {
            return Err(ApiError::stale(&format!("\"{}\"", current.version)));
        }
        let from = current.status;
        let to = change.target();
        rules::may_change_finding(from, to)?;
        let (plan, due, note, rationale, expires) = match &change {
            FindingChange::PlanRemediation { plan, due } => {
                (Some(plan.as_str()), Some(*due), None, None, None)
            }
            FindingChange::Resolve { note } => (None, None, Some(note.as_str()), None, None),
            FindingChange::AcceptRisk {
                rationale,
                expires_on,
            } => (
                None,
                None,
                None,
                Some(rationale.as_str()),
                Some(*expires_on),
            ),
        };
        let updated: FindingRecord = sqlx::query_as(
            "UPDATE findings SET status = $2, remediation_plan = COALESCE($3, remediation_plan), \
             remediation_due = COALESCE($4, remediation_due), resolution_note = COALESCE($5, resolution_note), \
             risk_rationale = COALESCE($6, risk_rationale), risk_expires_on = COALESCE($7, risk_expires_on), \
             decided_by = $8, version = version + 1, updated_at = $9 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(plan)
        .bind(due)
        .bind(note)
        .bind(rationale)
        .bind(expires)
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(event) = crate::domain::mail::finding_event(to.as_str()) {
            super::events_impl::finding_event(&mut tx, event, &updated).await?;
        }
        let action = format!("finding.{}", to.as_str());
        audit(
            &mut tx,
            actor,
            &action,
            "finding",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        if !to.stands() {
            evaluate_security_step(&mut tx, actor, current.request_id).await?;
            super::products_impl::resettle_reusers(&mut tx, actor, current.assessment_id).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }
}

/// The conditions (on findings aliased `f`) that select what `filter` asks within `scope`.
fn finding_conditions(scope: &VendorScope, filter: &FindingFilter) -> Conditions {
    let mut matches = scope_conditions(
        &scope_binds(scope),
        "f.vendor_id",
        "f.request_id",
        "f.assessment_id",
    );
    if let Some(request) = filter.request_id {
        matches.push("f.request_id = {}", [Arg::Id(request)]);
    }
    if let Some(assessment) = filter.assessment_id {
        matches.push("f.assessment_id = {}", [Arg::Id(assessment)]);
    }
    if let Some(status) = &filter.status {
        matches.push("f.status = {}", [Arg::Text(status.clone())]);
    }
    if let Some(severity) = &filter.severity {
        matches.push("f.severity = {}", [Arg::Text(severity.clone())]);
    }
    matches
}
