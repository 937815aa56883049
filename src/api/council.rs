//! City Council approval of surveillance technology [Boston 16-63]: the Surveillance Use Policy and Impact
//! Report attached to a request, and the Council's vote, which an admin records.

use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::assessments::checked_document;
use super::me::ApiTags;
use super::requests::{RequestView, scope_of, shaped};
use super::{IfMatch, etag};
use crate::auth::{Admin, Auth, Permission, Role, Staff};
use crate::domain::council::{CouncilDocument, CouncilOutcome, CouncilVote};
use crate::domain::policy::StepKindTag;
use crate::error::ApiError;
use crate::store::Store;
use crate::workflow::council::VoteInput;

/// Who attaches the Council's documents: a buyer of the department (the department drafts them) or an admin.
pub struct CouncilClerk;
impl Permission for CouncilClerk {
    const ROLES: &'static [Role] = &[Role::Buyer, Role::Admin];
}

/// The Council step of a request, its documents and the votes recorded.
#[derive(Debug, Object)]
pub struct CouncilView {
    pub request_id: Uuid,
    /// The state of the current submission's `council_approval` step, if its route has one.
    pub step_state: Option<crate::domain::route::StepState>,
    /// The documents the step needs (`surveillance_use_policy`, `surveillance_impact_report`).
    pub documents_needed: Vec<String>,
    /// Needed documents not attached yet.
    pub documents_missing: Vec<String>,
    pub documents: Vec<CouncilDocument>,
    /// The votes recorded, one per submitted version at most.
    pub votes: Vec<CouncilVote>,
}

/// The Council's vote as an admin records it.
#[derive(Debug, Object)]
pub struct VoteBody {
    /// The Council's docket or order number, as the Clerk's record gives it.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub docket: String,
    /// The day of the vote; not in the future.
    pub vote_date: NaiveDate,
    pub outcome: CouncilOutcome,
    /// Anything the record should say about the vote.
    #[oai(validator(max_length = 2000))]
    pub note: Option<String>,
}

#[derive(Debug, Object)]
pub struct VoteResult {
    pub vote: CouncilVote,
    pub request: RequestView,
}

#[derive(ApiResponse)]
pub enum CouncilResponse {
    /// With the request's `ETag`, which recording the vote takes as `If-Match`.
    #[oai(status = 200)]
    Ok(Json<CouncilView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum DocumentCreated {
    /// The document was attached.
    #[oai(status = 201)]
    Created(Json<CouncilDocument>),
}

#[derive(ApiResponse)]
pub enum VoteCreated {
    /// The vote was recorded; the request as it now stands.
    #[oai(status = 201)]
    Created(Json<VoteResult>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum DocumentDownload {
    #[oai(status = 200, content_type = "application/octet-stream")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "X-Content-Type")] String,
    ),
}

pub struct CouncilApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Requests")]
impl CouncilApi {
    /// The City Council step of a request
    ///
    /// As for reading the request: the step's state, the documents it needs and those attached, and the votes.
    #[oai(
        path = "/requests/:id/council",
        method = "get",
        operation_id = "getCouncil"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<CouncilResponse, ApiError> {
        let (record, state) = store.request_state(&scope_of(&auth), id.0).await?;
        let step = state
            .steps
            .iter()
            .find(|s| s.kind == StepKindTag::CouncilApproval);
        let documents = store.council_documents(record.id).await?;
        let needed: Vec<String> = step
            .map(|s| s.detail.attachments.clone())
            .unwrap_or_default();
        let missing = needed
            .iter()
            .filter(|kind| !documents.iter().any(|d| d.kind.as_str() == kind.as_str()))
            .cloned()
            .collect();
        let tag = etag(record.version);
        Ok(CouncilResponse::Ok(
            Json(CouncilView {
                request_id: record.id,
                step_state: step.map(|s| s.state),
                documents_needed: needed,
                documents_missing: missing,
                documents,
                votes: store.council_votes(record.id).await?,
            }),
            tag,
        ))
    }

    /// Attach a document for the City Council
    ///
    /// A buyer of the request's department or an admin, while the `council_approval` step waits: the
    /// Surveillance Use Policy or the Surveillance Impact Report [Boston 16-63.3], as a PDF, office document or
    /// text file, judged by its bytes and kept with its SHA-256. A later upload of the same kind is kept beside
    /// the earlier one.
    #[oai(
        path = "/requests/:id/council/documents",
        method = "post",
        operation_id = "attachCouncilDocument"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn attach(
        &self,
        store: Data<&Store>,
        auth: Auth<CouncilClerk>,
        id: Path<Uuid>,
        /// `surveillance_use_policy` or `surveillance_impact_report`.
        kind: Query<String>,
        /// The file's name.
        filename: Query<String>,
        #[oai(name = "Content-Type")] content_type: Header<String>,
        body: Binary<Vec<u8>>,
    ) -> Result<DocumentCreated, ApiError> {
        let (file_name, sniffed) =
            checked_document(&filename.0, &content_type.0, &body.0, "a Council document")?;
        let document = store
            .attach_council_document(
                &auth.actor(),
                &auth.caller(),
                &scope_of(&auth),
                id.0,
                kind.0.trim(),
                &file_name,
                sniffed,
                &body.0,
            )
            .await?;
        Ok(DocumentCreated::Created(Json(document)))
    }

    /// Download a Council document
    #[oai(
        path = "/requests/:id/council/documents/:document_id",
        method = "get",
        operation_id = "downloadCouncilDocument"
    )]
    async fn download(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
        document_id: Path<Uuid>,
    ) -> Result<DocumentDownload, ApiError> {
        store.get_request(&scope_of(&auth), id.0).await?;
        let (meta, data) = store
            .council_document_file(id.0, document_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("council document"))?;
        Ok(DocumentDownload::Ok(
            Binary(data),
            super::attachment(&meta.file_name),
            meta.content_type,
        ))
    }

    /// Record the City Council's vote
    ///
    /// Admins, with the request's `If-Match`, once per submitted version: the docket or order number, the date
    /// of the vote (not in the future) and the outcome. An approving vote needs both documents attached and
    /// satisfies the `council_approval` step; a rejecting vote denies the request [Boston 16-63], closing every
    /// other waiting step and the vendor's open questionnaires.
    #[oai(
        path = "/requests/:id/council/vote",
        method = "post",
        operation_id = "recordCouncilVote"
    )]
    async fn vote(
        &self,
        store: Data<&Store>,
        auth: Auth<Admin>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<VoteBody>,
    ) -> Result<VoteCreated, ApiError> {
        let expected = if_match.0.version()?;
        let caller = auth.caller();
        let vote = VoteInput {
            docket: body.0.docket,
            vote_date: body.0.vote_date,
            outcome: body.0.outcome,
            note: body
                .0
                .note
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
        };
        let today = crate::domain::now().date_naive();
        let (recorded, request) = store
            .record_council_vote(&auth.actor(), &caller, id.0, expected, vote, today)
            .await?;
        let view = shaped(&store, &caller, request.id).await?;
        let tag = etag(view.version);
        Ok(VoteCreated::Created(
            Json(VoteResult {
                vote: recorded,
                request: view,
            }),
            tag,
        ))
    }
}
