// Part of the requests SQL, included by both backends right after requests/loaders.rs into the same module: it shares
// that file's imports and private helpers, so it has no `use` lines of its own (they would be imported twice).
//
// Around the decisions: duplicate candidates, dismissals and exceptions, the Council's documents and votes,
// purchases for the duplicate index, the decision and version histories.

impl Repo {
    pub async fn request_duplicates(
        &self,
        id: Uuid,
        submission: i32,
    ) -> Result<Vec<DuplicateRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT submission, candidate_kind, candidate_id, name, score, class, evidence, carried_from \
             FROM request_duplicates \
             WHERE request_id = $1 AND submission = $2 ORDER BY score DESC, candidate_id",
        )
        .bind(id)
        .bind(submission)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn dismissals(&self, id: Uuid) -> Result<Vec<DismissalRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT request_id, department_code, product_name, candidate_kind, candidate_id, reason, dismissed_by, \
             dismissed_at FROM duplicate_dismissals WHERE request_id = $1 ORDER BY dismissed_at",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The CIO office's dismissals of catalogue services for the department's other requests, for the
    /// carry-over (see [`crate::domain::duplicate_learning::carried_over`]).
    pub async fn prior_dismissals(
        &self,
        department: &str,
        request_id: Uuid,
    ) -> Result<Vec<PriorDismissal>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT request_id, department_code, product_name, candidate_kind, candidate_id, reason, dismissed_by, \
             dismissed_at FROM duplicate_dismissals WHERE department_code = $1 AND candidate_kind = 'service' \
             AND request_id <> $2 ORDER BY dismissed_at",
        )
        .bind(department)
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn exceptions(&self, id: Uuid) -> Result<Vec<ExceptionRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, submission, justification, requested_by, requested_at, status, decided_by, decided_at, \
             decision_reason FROM duplicate_exceptions WHERE request_id = $1 ORDER BY requested_at",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The CIO sets a match aside with a reason; when no likely duplicate is left standing, the duplicate
    /// review step is satisfied.
    #[allow(clippy::too_many_arguments)]
    pub async fn dismiss_duplicate(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        candidate_kind: CandidateKind,
        candidate_id: &str,
        reason: &str,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let recorded = recorded_candidates(&mut tx, id, current.submission).await?;
        let is_recorded = recorded
            .iter()
            .any(|(k, c, ..)| *k == candidate_kind && c == candidate_id);
        if is_recorded {
            sqlx::query(
                "INSERT INTO duplicate_dismissals (request_id, candidate_kind, candidate_id, reason, dismissed_by, \
                 dismissed_at, department_code, product_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(candidate_kind)
            .bind(candidate_id)
            .bind(reason)
            .bind(&actor.subject)
            .bind(now())
            .bind(&current.department_code)
            .bind(&state.fields.product_name)
            .execute(&mut *tx)
            .await
            .map_err(unique_as(ProblemCode::AlreadyDismissed, || "this match is already dismissed".to_string()))?;
        }
        let standing = standing_likely(&mut tx, id, &recorded).await?;
        let dismissed_name = recorded
            .iter()
            .find(|(k, c, ..)| *k == candidate_kind && c == candidate_id)
            .map(|(_, _, name, ..)| name.as_str())
            .unwrap_or_default();
        let plan = crate::workflow::duplicates::dismiss(
            &state,
            caller,
            is_recorded.then_some(dismissed_name),
            &standing,
            reason,
        )?;
        let extra = serde_json::json!({"dismissed": {"candidate_kind": candidate_kind,
                                                     "candidate_id": candidate_id, "reason": reason}});
        finish(tx, actor, &current, &plan, Some(extra)).await
    }

    /// A buyer asks the CIO to let the purchase go ahead although it looks like a duplicate.
    pub async fn request_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        justification: &str,
    ) -> Result<ExceptionRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let plan = crate::workflow::duplicates::ask_exception(&state, caller)?;
        let record: ExceptionRecord = sqlx::query_as(
            "INSERT INTO duplicate_exceptions (id, request_id, submission, justification, requested_by, requested_at, \
             status) VALUES ($1, $2, $3, $4, $5, $6, 'requested') RETURNING id, submission, justification, \
             requested_by, requested_at, status, decided_by, decided_at, decision_reason",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(current.submission)
        .bind(justification)
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::ExceptionExists, || "an exception was already asked for this version".to_string()))?;
        let extra = serde_json::json!({"exception": {"justification": justification, "status": "requested"}});
        apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The CIO grants (the duplicate review step is waived) or refuses a buyer's exception.
    pub async fn decide_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        grant: bool,
        reason: &str,
    ) -> Result<(ExceptionRecord, RequestRecord), ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let plan = crate::workflow::duplicates::decide_exception(&state, caller, grant, reason)?;
        let status = if grant {
            ExceptionStatus::Granted
        } else {
            ExceptionStatus::Refused
        };
        let record: ExceptionRecord = sqlx::query_as(
            "UPDATE duplicate_exceptions SET status = $3, decided_by = $4, decided_at = $5, decision_reason = $6 \
             WHERE request_id = $1 AND submission = $2 AND status = 'requested' RETURNING id, submission, \
             justification, requested_by, requested_at, status, decided_by, decided_at, decision_reason",
        )
        .bind(id)
        .bind(current.submission)
        .bind(status)
        .bind(&actor.subject)
        .bind(now())
        .bind(reason)
        .fetch_one(&mut *tx)
        .await?;
        let extra = serde_json::json!({"exception": {"status": status, "reason": reason}});
        let updated = apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok((record, updated))
    }

    /// Attaches a document for the City Council (the Surveillance Use Policy or Impact Report), judged by its
    /// bytes and kept with its SHA-256; the Council step may then settle.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach_council_document(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        kind: &str,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<crate::domain::council::CouncilDocument, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_row(&mut tx, scope, id).await?;
        let state = load_state(&mut tx, &current).await?;
        let kind = crate::workflow::council::attach_document(&state, caller, kind)?;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
        let document: crate::domain::council::CouncilDocument = sqlx::query_as(
            "INSERT INTO council_documents (id, request_id, kind, file_name, content_type, size_bytes, sha256, data, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, request_id, kind, \
             file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(kind)
        .bind(file_name)
        .bind(content_type)
        .bind(data.len() as i64)
        .bind(&sha256)
        .bind(data)
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "request.council_document_attached",
            "request",
            &id.to_string(),
            None,
            Some(to_json(&document)),
        )
        .await?;
        Ok(document)
    }

    pub async fn council_documents(
        &self,
        id: Uuid,
    ) -> Result<Vec<crate::domain::council::CouncilDocument>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, request_id, kind, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at \
             FROM council_documents WHERE request_id = $1 ORDER BY uploaded_at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A Council document's bytes.
    pub async fn council_document_file(
        &self,
        id: Uuid,
        document_id: Uuid,
    ) -> Result<Option<(crate::domain::council::CouncilDocument, Vec<u8>)>, ApiError> {
        let meta: Option<crate::domain::council::CouncilDocument> = sqlx::query_as(
            "SELECT id, request_id, kind, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at \
             FROM council_documents WHERE request_id = $1 AND id = $2",
        )
        .bind(id)
        .bind(document_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(meta) = meta else { return Ok(None) };
        let (data,): (Vec<u8>,) =
            sqlx::query_as("SELECT data FROM council_documents WHERE id = $1")
                .bind(document_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some((meta, data)))
    }

    pub async fn council_votes(
        &self,
        id: Uuid,
    ) -> Result<Vec<crate::domain::council::CouncilVote>, ApiError> {
        let rows: Vec<CouncilVoteRow> = sqlx::query_as(
            "SELECT id, request_id, submission, docket, vote_date, outcome, note, recorded_by, recorded_at \
             FROM council_votes WHERE request_id = $1 ORDER BY submission",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(CouncilVoteRow::into_vote).collect())
    }

    /// Records the City Council's vote on the current submission; it settles the Council step (or denies the
    /// request).
    pub async fn record_council_vote(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        vote: crate::workflow::council::VoteInput,
        today: chrono::NaiveDate,
    ) -> Result<(crate::domain::council::CouncilVote, RequestRecord), ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let evidence = load_evidence(&mut tx, id, current.vendor_id, current.submission).await?;
        let plan = crate::workflow::council::record_vote(&state, caller, &vote, &evidence, today)?;
        let row: CouncilVoteRow = sqlx::query_as(
            "INSERT INTO council_votes (id, request_id, submission, docket, vote_date, outcome, note, recorded_by, \
             recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, request_id, submission, docket, \
             vote_date, outcome, note, recorded_by, recorded_at",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(current.submission)
        .bind(vote.docket.trim())
        .bind(vote.vote_date)
        .bind(vote.outcome.as_str())
        .bind(vote.note.as_deref())
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::CouncilStepSettled, || "the Council's vote on this version is already recorded".into()))?;
        let recorded = row.into_vote();
        let extra = serde_json::json!({"council_vote": to_json(&recorded)});
        let updated = apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok((recorded, updated))
    }

    /// A page of the approved purchases (what the duplicate index holds) after the id `after`, in id order: the
    /// index is built a page at a time, so that its build never holds every request at once.
    pub async fn approved_purchases_after(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<crate::store::PurchaseRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT r.id, r.department_code, r.status, r.fields, v.legal_name AS vendor_name, r.updated_at \
             FROM requests r JOIN vendors v ON v.id = r.vendor_id \
             WHERE r.status IN ($1, $2) AND ($3 IS NULL OR r.id > $3) ORDER BY r.id LIMIT $4",
        )
        .bind(crate::domain::requests::Status::Approved)
        .bind(crate::domain::requests::Status::ApprovedWithConditions)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The id and last change of each request changed after `since`: what the duplicate index compares with
    /// what it has applied before reading any row whole.
    pub async fn purchase_stamps_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(Uuid, chrono::DateTime<chrono::Utc>)>, ApiError> {
        Ok(
            sqlx::query_as("SELECT id, updated_at FROM requests WHERE updated_at > $1")
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The requests `ids` as the duplicate index reads them.
    pub async fn purchases_by_id(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<crate::store::PurchaseRecord>, ApiError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT r.id, r.department_code, r.status, r.fields, v.legal_name AS vendor_name, r.updated_at \
                 FROM requests r JOIN vendors v ON v.id = r.vendor_id WHERE r.id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            found.extend(query.build_query_as().fetch_all(&self.pool).await?);
        }
        Ok(found)
    }

    pub async fn list_decisions(&self, request_id: Uuid) -> Result<Vec<Decision>, ApiError> {
        let rows: Vec<DecisionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{DECISION_SELECT} WHERE d.request_id = $1 ORDER BY d.decided_at, d.id"
        )))
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(DecisionRow::into_decision).collect())
    }

    pub async fn list_versions(&self, request_id: Uuid) -> Result<Vec<VersionRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT submission, fields, submitted_by, submitted_at, kind FROM request_versions WHERE request_id = $1 \
             ORDER BY submission",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[derive(sqlx::FromRow)]
struct CouncilVoteRow {
    id: Uuid,
    request_id: Uuid,
    submission: i32,
    docket: String,
    vote_date: chrono::NaiveDate,
    outcome: CouncilOutcome,
    note: Option<String>,
    recorded_by: String,
    recorded_at: chrono::DateTime<chrono::Utc>,
}

impl CouncilVoteRow {
    fn into_vote(self) -> crate::domain::council::CouncilVote {
        crate::domain::council::CouncilVote {
            id: self.id,
            request_id: self.request_id,
            submission: self.submission,
            docket: self.docket,
            vote_date: self.vote_date,
            outcome: self.outcome,
            note: self.note,
            recorded_by: self.recorded_by,
            recorded_at: self.recorded_at,
        }
    }
}

/// Inserts `policy` as the next version (the first, at bootstrap, when there is none).
pub(super) async fn insert_policy(
    tx: &mut Tx,
    actor: &Actor,
    policy: Policy,
) -> Result<PolicyRecord, ApiError> {
    let document = to_json(&policy);
    let content_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        canonical_json(&document).as_bytes(),
    ));
    let (latest,): (Option<i32>,) = sqlx::query_as("SELECT MAX(version) FROM policies")
        .fetch_one(&mut **tx)
        .await?;
    let version = latest.unwrap_or(0) + 1;
    let record: PolicyRecord = sqlx::query_as(
        "INSERT INTO policies (version, label, document, content_hash, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(version)
    .bind(&policy.label)
    .bind(Json(&policy))
    .bind(&content_hash)
    .bind(&actor.subject)
    .bind(now())
    .fetch_one(&mut **tx)
    .await
    .map_err(unique_as(ProblemCode::ConcurrentPublish, || {
        "another policy version was published at the same moment; retry".to_string()
    }))?;
    audit(
        tx,
        actor,
        "policy.published",
        "policy",
        &version.to_string(),
        None,
        Some(serde_json::json!({"version": version, "label": policy.label, "content_hash": content_hash, "document": document})),
    )
    .await?;
    Ok(record)
}
