// Part of the requests SQL, included by both backends right after requests/loaders.rs into the same module: it shares
// that file's imports and private helpers, so it has no `use` lines of its own (they would be imported twice).
//
// The request commands and reads: policies, create, read, list, edit, submit, preview, withdraw, reroute, decide.

impl Repo {
    pub async fn current_policy(&self) -> Result<PolicyRecord, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM policies ORDER BY version DESC LIMIT 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn get_policy(&self, version: i32) -> Result<Option<PolicyRecord>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM policies WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_policies(&self, page: PageRequest) -> Result<Paged<PolicyRecord>, ApiError> {
        let items =
            sqlx::query_as("SELECT * FROM policies ORDER BY version DESC LIMIT $1 OFFSET $2")
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.pool)
                .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM policies")
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    pub async fn create_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        fields: RequestFields,
    ) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let department = caller.department.clone().unwrap_or_default();
        let known: Option<(String,)> =
            sqlx::query_as("SELECT code FROM departments WHERE code = $1")
                .bind(&department)
                .fetch_optional(&mut *tx)
                .await?;
        let vendor_known = vendor_exists(&mut tx, fields.vendor_id).await?;
        let renewal_known = match fields.renews {
            Some(link) => load_prior(&mut tx, &department, link).await?.is_some(),
            None => true,
        };
        let product_known =
            super::products_impl::product_known(&mut tx, fields.product_id, fields.vendor_id)
                .await?;
        plans::create(
            caller,
            known.is_some(),
            &fields,
            vendor_known,
            renewal_known,
            product_known,
        )?;
        let (_, policy) = load_policy(&mut tx, None).await?;
        let line = super::budgets_impl::line_ref(&mut tx, fields.budget_line_id).await?;
        crate::workflow::budgets::check_line(
            fields.budget_line_id,
            line.as_ref(),
            &department,
            policy.fiscal_year_of(fields.requested_start_date),
        )?;
        let at = now();
        let created: RequestRecord = sqlx::query_as(
            "INSERT INTO requests (id, department_code, vendor_id, status, title, fields, total_contract_value_cents, \
             fiscal_year, submission, created_by, version, created_at, updated_at, budget_line_id, capital_cents, \
             annual_operating_cents, holds_personal_information) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, 0, $8, 1, $9, $9, $10, $11, $12, $13) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&department)
        .bind(fields.vendor_id)
        .bind(&fields.title)
        .bind(Json(&fields))
        .bind(fields.total_contract_value_cents())
        .bind(policy.fiscal_year_of(fields.requested_start_date))
        .bind(&actor.subject)
        .bind(at)
        .bind(fields.budget_line_id)
        .bind(fields.capital_cost_cents)
        .bind(fields.annual_operating_cost_cents)
        .bind(fields.holds_personal_information())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO request_authors (request_id, subject_key) VALUES ($1, $2)")
            .bind(created.id)
            .bind(&caller.key)
            .execute(&mut *tx)
            .await?;
        commit_audited(
            tx,
            actor,
            "request.created",
            "request",
            &created.id.to_string(),
            None,
            Some(snapshot(&created)),
        )
        .await?;
        Ok(created)
    }

    pub async fn get_request(&self, scope: &Scope, id: Uuid) -> Result<RequestRecord, ApiError> {
        let found: Option<RequestRecord> = sqlx::query_as("SELECT * FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        found
            .filter(|r| scope.admits_department(&r.department_code))
            .ok_or_else(|| ApiError::not_found("request"))
    }

    /// A request with what the planners read of it (for what a caller may do now).
    pub async fn request_state(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestRecord, RequestState), ApiError> {
        let mut tx = self.pool.begin().await?;
        let record: RequestRecord = sqlx::query_as("SELECT * FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .filter(|r: &RequestRecord| scope.admits_department(&r.department_code))
            .ok_or_else(|| ApiError::not_found("request"))?;
        let state = load_state(&mut tx, &record).await?;
        tx.rollback().await?;
        Ok((record, state))
    }

    /// A request's row without its route, with what deciding the caller's actions reads of it: one statement,
    /// so one consistent read without a transaction, and no JSON parsed but the fields.
    pub async fn request_standing(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestSummary, Standing), ApiError> {
        let row: StandingRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REQUEST_SUMMARY_COLUMNS}, {STANDING_COLUMNS} FROM requests r WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .filter(|r: &StandingRow| scope.admits_department(&r.summary.department_code))
        .ok_or_else(|| ApiError::not_found("request"))?;
        row.split()
    }

    /// A page of requests as [`Self::list_requests`] gives it, each with what deciding the caller's actions
    /// reads of it, in the page's own statement.
    pub async fn list_request_standings(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<crate::store::StandingPage, ApiError> {
        let columns = format!("{REQUEST_SUMMARY_COLUMNS}, {STANDING_COLUMNS}");
        let (found, next) = self
            .page_of_requests::<StandingRow>(&columns, scope, filter, page, after, |r| {
                (r.summary.created_at, r.summary.id)
            })
            .await?;
        let items = found
            .items
            .into_iter()
            .map(StandingRow::split)
            .collect::<Result<_, _>>()?;
        Ok((
            Paged {
                items,
                total: found.total,
            },
            next,
        ))
    }

    /// The requests register's rows: every request `filter` asks within `scope`, newest first (the list's
    /// order), at most `limit`, each given to `each` as it is read. One statement, streamed: a consistent
    /// snapshot, and only one row held at a time however many there are. Returns the rows read.
    pub async fn each_request_register_row(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        limit: i64,
        each: &mut EachRow<'_, RequestRegisterRow>,
    ) -> Result<u64, ApiError> {
        let Some((matches, _)) = request_conditions(scope, filter) else {
            return Ok(0);
        };
        let n = matches.args.len();
        let sql = format!(
            "SELECT r.title, r.department_code, v.legal_name AS vendor_name, r.fields, r.status, r.submission, \
             r.total_contract_value_cents, r.fiscal_year, r.submitted_by, r.updated_at \
             FROM requests r LEFT JOIN vendors v ON v.id = r.vendor_id{} \
             ORDER BY r.created_at DESC, r.id LIMIT ${}",
            matches.where_sql(),
            n + 1
        );
        let query = matches
            .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(limit);
        each_row(query, &self.pool, each).await
    }

    /// A page of requests, newest first: after `after` when given (keyset), else at `page.offset`. Only the
    /// filters given reach the SQL, so each can use its index; the second value is the keyset of the next page.
    pub async fn list_requests(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<RequestSummary>, Option<Keyset>), ApiError> {
        self.page_of_requests(
            REQUEST_SUMMARY_COLUMNS,
            scope,
            filter,
            page,
            after,
            |r: &RequestSummary| (r.created_at, r.id),
        )
        .await
    }

    /// A page of `columns` of requests (aliased `r`) read as `R`, with the total and the next page's keyset.
    async fn page_of_requests<R>(
        &self,
        columns: &str,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
        after: Option<&Keyset>,
        key: impl Fn(&R) -> (chrono::DateTime<chrono::Utc>, Uuid),
    ) -> Result<(Paged<R>, Option<Keyset>), ApiError>
    where
        R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    {
        let Some((matches, department)) = request_conditions(scope, filter) else {
            return Ok((
                Paged {
                    items: Vec::new(),
                    total: 0,
                },
                None,
            ));
        };
        // Filtered by status and department only (or not at all), the total is a sum over the counts the
        // triggers keep (migration 0025): a few rows, however many requests there are. Other filters count.
        let counted =
            filter.vendor_id.is_none() && filter.q.is_none() && filter.awaiting_kinds.is_none();
        let (total,): (i64,) = if counted {
            let mut kept = Conditions::default();
            if let Some(status) = filter.status {
                kept.push("r.status = {}", [Arg::Text(status.as_str().to_string())]);
            }
            if let Some(department) = &department {
                kept.push("r.department_code = {}", [Arg::Text(department.clone())]);
            }
            kept.bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(COALESCE(SUM(r.n), 0) AS BIGINT) FROM request_counts r{}",
                kept.where_sql()
            ))))
            .fetch_one(&self.pool)
            .await?
        } else {
            matches
                .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM requests r{}",
                    matches.where_sql()
                ))))
                .fetch_one(&self.pool)
                .await?
        };
        let (items, next) = keyset_page(
            &self.pool,
            &format!("SELECT {columns} FROM requests r"),
            "r",
            Age::NewestFirst,
            matches,
            page,
            after,
            key,
        )
        .await?;
        Ok((Paged { items, total }, next))
    }

    pub async fn update_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        next: RequestFields,
        detection: Option<Detection>,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let vendor_known = vendor_exists(&mut tx, next.vendor_id).await?;
        if next.budget_line_id != state.fields.budget_line_id
            || next.requested_start_date != state.fields.requested_start_date
        {
            let (_, policy) = load_policy(&mut tx, None).await?;
            let line = super::budgets_impl::line_ref(&mut tx, next.budget_line_id).await?;
            crate::workflow::budgets::check_line(
                next.budget_line_id,
                line.as_ref(),
                &current.department_code,
                policy.fiscal_year_of(next.requested_start_date),
            )?;
        }
        let reevaluation = match (&state.decided, &detection, state.status.is_approved()) {
            (Some(decided), Some(detection), true) => {
                let (_, decided_policy) =
                    load_policy(&mut tx, Some(decided.policy_version)).await?;
                let likely =
                    duplicate_finding(&mut tx, id, state.submission + 1, detection).await?;
                let routing =
                    load_routing(&mut tx, id, &current.department_code, &next, likely).await?;
                let evidence =
                    load_evidence(&mut tx, id, next.vendor_id, state.submission + 1).await?;
                Some(plans::Reevaluation {
                    decided_policy,
                    routing,
                    evidence,
                    checked_at: detection.for_version,
                })
            }
            _ => None,
        };
        let product_known =
            super::products_impl::product_known(&mut tx, next.product_id, next.vendor_id).await?;
        let plan = plans::edit(
            &state,
            caller,
            next,
            vendor_known,
            product_known,
            reevaluation.as_ref(),
        )?;
        finish(tx, actor, &current, &plan, None).await
    }

    pub async fn submit_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        detection: Detection,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let likely = duplicate_finding(&mut tx, id, state.submission + 1, &detection).await?;
        let routing =
            load_routing(&mut tx, id, &current.department_code, &state.fields, likely).await?;
        let evidence =
            load_evidence(&mut tx, id, state.fields.vendor_id, state.submission + 1).await?;
        let plan = plans::submit(&state, caller, &routing, &evidence, detection.for_version)?;
        finish(tx, actor, &current, &plan, None).await
    }

    /// The plan a submission would carry out now, computed in a transaction that is rolled back: the same
    /// loading and planner as [`Repo::submit_request`], nothing kept.
    pub async fn preview_submission(
        &self,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        detection: Detection,
    ) -> Result<plans::Plan, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_row(&mut tx, scope, id).await?;
        let state = load_state(&mut tx, &current).await?;
        let likely = duplicate_finding(&mut tx, id, state.submission + 1, &detection).await?;
        let routing =
            load_routing(&mut tx, id, &current.department_code, &state.fields, likely).await?;
        let evidence =
            load_evidence(&mut tx, id, state.fields.vendor_id, state.submission + 1).await?;
        let plan = plans::submit(&state, caller, &routing, &evidence, detection.for_version);
        tx.rollback().await?;
        Ok(plan?)
    }

    pub async fn withdraw_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        let (tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let plan = plans::withdraw(&state, caller)?;
        finish(tx, actor, &current, &plan, None).await
    }

    /// Re-evaluates the current submission under the current policy; steps already settled keep their state.
    pub async fn reroute_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let recorded = recorded_candidates(&mut tx, id, current.submission).await?;
        let likely = finding_of(&mut tx, id, &recorded).await?;
        let routing =
            load_routing(&mut tx, id, &current.department_code, &state.fields, likely).await?;
        let evidence = load_evidence(&mut tx, id, current.vendor_id, current.submission).await?;
        let plan = plans::reroute(&state, caller, &routing, &evidence)?;
        finish(tx, actor, &current, &plan, None).await
    }

    pub async fn route_steps(&self, request: &RequestRecord) -> Result<Vec<StepRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position",
        )
        .bind(request.id)
        .bind(request.submission)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn decide(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        decision: CheckedDecision,
        lex: &crate::domain::duplicates::Lexicon,
    ) -> Result<(Decision, RequestRecord), ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let known = service_exists(&mut tx, decision.service_id).await?;
        let candidate = match decision.service_id {
            None => true,
            Some(service) => {
                let service = service.to_string();
                recorded_candidates(&mut tx, id, current.submission)
                    .await?
                    .iter()
                    .any(|(kind, cid, ..)| *kind == CandidateKind::Service && *cid == service)
            }
        };
        let service = crate::domain::route::NamedService { known, candidate };
        let plan = plans::decide(&state, caller, decision, service)?;
        let decider_actor = Actor {
            role: plan
                .decision
                .as_ref()
                .map(|d| d.role.clone())
                .unwrap_or_else(|| actor.role.clone()),
            ..actor.clone()
        };
        let updated = apply_plan(&mut tx, &decider_actor, &current, &plan, None).await?;
        // A denial as a duplicate of a central service proposes the request's product name as an alias of it.
        if let Some(d) = &plan.decision
            && d.decision.outcome == Outcome::Deny
            && d.decision.reason_code == Some(DenialReason::DuplicateOfCentralService)
            && let Some(service) = d.decision.service_id
        {
            super::catalog_impl::propose_alias(
                &mut tx,
                &decider_actor,
                lex,
                service,
                &state.fields.product_name,
                id,
                current.submission,
            )
            .await?;
        }
        let row: DecisionRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{DECISION_SELECT} WHERE d.request_id = $1 AND d.submission = $2 AND d.step = $3"
        )))
        .bind(id)
        .bind(current.submission)
        .bind(
            plan.decision
                .as_ref()
                .map(|d| d.step.clone())
                .unwrap_or_default(),
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((row.into_decision(), updated))
    }
}

/// The conditions (on requests aliased `r`) that select what `filter` asks within `scope`, and the department
/// they are limited to; None when the scope admits none of it (another department's requests asked by a buyer).
fn request_conditions(
    scope: &Scope,
    filter: &RequestFilter,
) -> Option<(Conditions, Option<String>)> {
    let department = match scope {
        Scope::All => filter.department.clone(),
        Scope::Department(own) => {
            if filter.department.as_ref().is_some_and(|d| d != own) {
                return None;
            }
            Some(own.clone())
        }
    };
    let mut matches = Conditions::default();
    if let Some(status) = filter.status {
        matches.push("r.status = {}", [Arg::Text(status.as_str().to_string())]);
    }
    if let Some(department) = &department {
        matches.push("r.department_code = {}", [Arg::Text(department.clone())]);
    }
    if let Some(vendor) = filter.vendor_id {
        matches.push("r.vendor_id = {}", [Arg::Id(vendor)]);
    }
    if let Some(q) = filter.q.as_deref() {
        matches.push(
            "lower(r.title) LIKE {} ESCAPE '\\'",
            [Arg::Text(contains_pattern(q))],
        );
    }
    if let Some(kinds) = &filter.awaiting_kinds {
        // A decision is waiting for "me" unless I wrote a version of the request: nobody decides their own.
        let list = vec!["{}"; kinds.len().max(1)].join(", ");
        let mut args: Vec<Arg> = kinds.iter().cloned().map(Arg::Text).collect();
        if args.is_empty() {
            args.push(Arg::Text(String::new()));
        }
        args.push(Arg::Text(
            filter.awaiting_subject_key.clone().unwrap_or_default(),
        ));
        matches.push(
            &format!(
                "r.status IN ('in_review', 'awaiting_decision') AND EXISTS (SELECT 1 FROM route_steps s \
                 WHERE s.request_id = r.id AND s.submission = r.submission AND s.state = 'pending' \
                 AND s.kind IN ({list})) AND NOT EXISTS (SELECT 1 FROM request_authors a \
                 WHERE a.request_id = r.id AND a.subject_key = {{}})"
            ),
            args,
        );
    }
    Some((matches, department))
}
