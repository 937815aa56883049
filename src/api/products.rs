//! A vendor's products: what requests name, and the one place where the product's assessments, their validity
//! and the findings standing on them are seen across departments.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::{PageInfo, etag};
use crate::auth::{AnyRole, Auth, Principal, Role, VendorEditor};
use crate::domain::PageRequest;
use crate::domain::assessments::{AssessmentStatus, FindingStatus};
use crate::domain::policy::{DataClass, Hosting, Policy};
use crate::domain::questionnaires::Severity;
use crate::domain::reuse::{ProductReview, valid_until};
use crate::error::{ApiError, FieldError};
use crate::store::{NewProduct, ProductDetail, Store};

/// A product or service of a vendor.
#[derive(Debug, Object)]
pub struct ProductInput {
    /// A registered vendor's id.
    pub vendor_id: Uuid,
    /// The name it is sold under; one product per name and vendor.
    pub name: String,
    /// Other names people use for it (editions, former names, abbreviations).
    #[oai(default)]
    pub aliases: Vec<String>,
    /// Where it runs: `vendor_cloud` or `on_premises`.
    pub hosting: String,
    /// The data classes it can handle: any of `pi_ma`, `pi_ct`, `cjis`, `health`, `cardholder`,
    /// `confidential`, or `public` alone.
    pub data_classes: Vec<String>,
}

impl ProductInput {
    fn parse(self) -> Result<NewProduct, ApiError> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "must be 1 to 200 characters"));
        }
        let mut aliases: Vec<String> = Vec::new();
        if self.aliases.len() > 100 {
            errors.push(FieldError::new("aliases", "at most 100 entries"));
        }
        for (i, alias) in self.aliases.iter().enumerate() {
            let alias = alias.trim();
            if alias.is_empty() || alias.chars().count() > 200 {
                errors.push(FieldError::new(
                    format!("aliases[{i}]"),
                    "must be 1 to 200 characters",
                ));
            } else if !aliases.iter().any(|a| a.eq_ignore_ascii_case(alias)) {
                aliases.push(alias.to_string());
            }
        }
        let hosting = Hosting::try_from(self.hosting.as_str());
        if hosting.is_err() {
            errors.push(FieldError::new(
                "hosting",
                "must be vendor_cloud or on_premises",
            ));
        }
        let mut classes: Vec<DataClass> = Vec::new();
        for (i, c) in self.data_classes.iter().enumerate() {
            match DataClass::try_from(c.as_str()) {
                Ok(class) if !classes.contains(&class) => classes.push(class),
                Ok(_) => {}
                Err(_) => errors.push(FieldError::new(
                    format!("data_classes[{i}]"),
                    format!("{c:?} is not a data class"),
                )),
            }
        }
        if self.data_classes.is_empty() {
            errors.push(FieldError::new("data_classes", "name at least one"));
        } else if classes.contains(&DataClass::Public) && classes.len() > 1 {
            errors.push(FieldError::new(
                "data_classes",
                "public stands alone: a product handling other classes is not public",
            ));
        }
        let Ok(hosting) = hosting else {
            return Err(ApiError::validation(errors));
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        classes.sort();
        Ok(NewProduct {
            vendor_id: self.vendor_id,
            name,
            aliases,
            hosting,
            data_classes: classes.iter().map(|c| c.as_str().to_string()).collect(),
        })
    }
}

/// What an assessment covers: the scope it was asked for.
#[derive(Debug, Object)]
pub struct CoverageView {
    pub data_classes: Vec<String>,
    pub hosting: Hosting,
    pub users: i64,
}

/// One assessment of the product, from whichever department's request asked for it.
#[derive(Debug, Object)]
pub struct ProductAssessmentView {
    pub id: Uuid,
    pub template_id: String,
    pub status: AssessmentStatus,
    pub cycle: i32,
    /// The last day for the vendor to submit (for an assessment still being answered).
    pub due_date: NaiveDate,
    /// The department whose request asked for it.
    pub department_code: String,
    /// The request it was made for; only for a caller who may read that request (a buyer sees their own
    /// department's).
    pub request_id: Option<Uuid>,
    /// Its last acceptance: when, by whom, and until when it stands (the current policy's validity for the data
    /// classes it covered).
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    pub valid_until: Option<NaiveDate>,
    /// Whether that acceptance still stands today.
    pub valid: bool,
    pub covers: Option<CoverageView>,
    /// The assessment of the product this cycle continues.
    pub continues_assessment_id: Option<Uuid>,
}

/// A finding still standing (open or with remediation planned) on one of the product's assessments.
#[derive(Debug, Object)]
pub struct ProductFindingView {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub template_id: String,
    pub question_id: String,
    pub severity: Severity,
    pub title: String,
    pub status: FindingStatus,
    pub remediation_due: Option<NaiveDate>,
    /// The request the finding was raised for; only for a caller who may read that request.
    pub request_id: Option<Uuid>,
}

#[derive(Debug, Object)]
pub struct ProductView {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub name: String,
    pub aliases: Vec<String>,
    pub hosting: Hosting,
    pub data_classes: Vec<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Every assessment of the product across departments, oldest first (cancelled ones left out).
    pub assessments: Vec<ProductAssessmentView>,
    /// Findings still standing on the product, across departments.
    pub open_findings: Vec<ProductFindingView>,
    /// The next date the vendor owes something: the earliest due date of an assessment being answered, or the
    /// earliest end of validity of a current acceptance.
    pub next_due: Option<NaiveDate>,
}

#[derive(Debug, Object)]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum ProductCreated {
    /// The product was registered.
    #[oai(status = 201)]
    Created(
        Json<ProductView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ProductResponse {
    #[oai(status = 200)]
    Ok(Json<ProductView>, #[oai(header = "ETag")] String),
}

/// A question of the route: which questionnaire of the security review, and where it stands with the product.
#[derive(Debug, Object)]
pub struct ReuseView {
    pub questionnaire: String,
    /// `reused` (satisfied by reference), `awaiting_confirmation` (reused once a security analyst confirms),
    /// `scope_widened` or `expired` (a new cycle, pre-filled with the last answers), `needs_review` (nothing to
    /// reuse).
    pub standing: String,
    /// The accepted assessment referred to, or the one the new cycle continues.
    pub assessment_id: Option<Uuid>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    pub valid_until: Option<NaiveDate>,
    /// In words: `already reviewed: accepted 2026-11-30 by ana, valid until 2027-11-30`.
    pub note: String,
    /// Why a new cycle is needed: the data class, hosting or users not covered, or the end of validity.
    pub reasons: Vec<String>,
}

/// A finding standing on the product when the request was routed.
#[derive(Debug, Object)]
pub struct RouteFindingView {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub template_id: String,
    pub question_id: String,
    pub severity: Severity,
    pub title: String,
    pub status: FindingStatus,
}

/// For a request that names a product: each questionnaire of its security review against the product's accepted
/// assessments, and the findings standing on the product, as routed.
#[derive(Debug, Object)]
pub struct ProductReviewView {
    pub product_id: Uuid,
    pub product_name: String,
    pub questionnaires: Vec<ReuseView>,
    pub open_findings: Vec<RouteFindingView>,
}

impl From<&ProductReview> for ProductReviewView {
    fn from(p: &ProductReview) -> Self {
        ProductReviewView {
            product_id: p.product_id,
            product_name: p.product_name.clone(),
            questionnaires: p
                .questionnaires
                .iter()
                .map(|r| ReuseView {
                    questionnaire: r.questionnaire.clone(),
                    standing: r.standing.as_str().to_string(),
                    assessment_id: r.assessment_id,
                    accepted_at: r.accepted_at,
                    accepted_by: r.accepted_by.clone(),
                    valid_until: r.valid_until,
                    note: r.note.clone(),
                    reasons: r.reasons.clone(),
                })
                .collect(),
            open_findings: p
                .open_findings
                .iter()
                .map(|f| RouteFindingView {
                    id: f.id,
                    assessment_id: f.assessment_id,
                    template_id: f.template_id.clone(),
                    question_id: f.question_id.clone(),
                    severity: f.severity,
                    title: f.title.clone(),
                    status: f.status,
                })
                .collect(),
        }
    }
}

/// Whose products a caller reads: a vendor its own, staff every vendor's. An invitation reaches one request's
/// questionnaires and nothing more, so not the product list.
fn vendor_bound(p: &Principal) -> Result<Option<Uuid>, ApiError> {
    if p.has(Role::Vendor) {
        if p.invitation.is_some() {
            return Err(ApiError::forbidden(
                "an invitation reaches its request's questionnaires only; the vendor's product list is for the \
                 vendor's own account",
            ));
        }
        return Ok(Some(p.vendor.unwrap_or_default()));
    }
    Ok(None)
}

/// The department whose requests the caller may read, when it is bounded to one (a buyer).
fn department_bound(p: &Principal) -> Option<String> {
    match super::requests::scope_of(p) {
        crate::store::Scope::Department(d) => Some(d),
        _ => None,
    }
}

fn view(d: ProductDetail, policy: &Policy, caller: &Principal) -> ProductView {
    let today = crate::domain::now().date_naive();
    let own = department_bound(caller);
    let may_read = |department: &str| {
        (caller.has(Role::Vendor) || own.as_deref().is_none_or(|o| o == department)).then_some(())
    };
    let mut next_due: Option<NaiveDate> = None;
    let mut due = |d: NaiveDate| next_due = Some(next_due.map_or(d, |n| n.min(d)));
    let assessments = d
        .assessments
        .into_iter()
        .map(|pa| {
            let a = pa.assessment;
            let status = a.status();
            let scope = a.scope.map(|s| s.0);
            let until = match (&pa.accepted, &scope) {
                (Some((at, _)), Some(s)) => {
                    Some(valid_until(policy, &s.data_classes, at.date_naive()))
                }
                (Some((at, _)), None) => {
                    Some(valid_until(policy, &Default::default(), at.date_naive()))
                }
                _ => None,
            };
            let valid = status == AssessmentStatus::Accepted && until.is_some_and(|u| today <= u);
            if status.editable() || status == AssessmentStatus::Submitted {
                due(a.due_date);
            } else if valid && let Some(u) = until {
                due(u);
            }
            ProductAssessmentView {
                id: a.id,
                template_id: a.template_id,
                status,
                cycle: a.cycle,
                due_date: a.due_date,
                request_id: may_read(&pa.department_code).map(|_| a.request_id),
                department_code: pa.department_code,
                accepted_at: pa.accepted.as_ref().map(|(at, _)| *at),
                accepted_by: pa.accepted.map(|(_, by)| by),
                valid_until: until,
                valid,
                covers: scope.map(|s| CoverageView {
                    data_classes: s
                        .data_classes
                        .iter()
                        .map(|c| c.as_str().to_string())
                        .collect(),
                    hosting: s.hosting,
                    users: s.users,
                }),
                continues_assessment_id: a.previous_assessment_id,
            }
        })
        .collect();
    let open_findings = d
        .open_findings
        .into_iter()
        .map(|f| ProductFindingView {
            request_id: may_read(&f.department_code).map(|_| f.finding.request_id),
            id: f.finding.id,
            assessment_id: f.finding.assessment_id,
            template_id: f.template_id,
            question_id: f.finding.question_id,
            severity: f.finding.severity,
            title: f.finding.title,
            status: f.finding.status,
            remediation_due: f.finding.remediation_due,
        })
        .collect();
    let p = d.product;
    ProductView {
        id: p.id,
        vendor_id: p.vendor_id,
        name: p.name,
        aliases: p.aliases.0,
        hosting: p.hosting,
        data_classes: p.data_classes.0,
        version: p.version,
        created_by: p.created_by,
        created_at: p.created_at,
        assessments,
        open_findings,
        next_due,
    }
}

pub struct ProductsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Registry")]
impl ProductsApi {
    /// Register a vendor's product
    ///
    /// Buyers, security analysts, the CIO office and admins. Requests name the product (`product_id`), and its
    /// accepted questionnaires then stand for every later request for it while valid and covering its scope.
    /// One product per name and vendor (409 `product_exists`).
    #[oai(path = "/products", method = "post", operation_id = "createProduct")]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<VendorEditor>,
        body: Json<ProductInput>,
    ) -> Result<ProductCreated, ApiError> {
        let new = body.0.parse()?;
        let created = store
            .create_product(&auth.actor(), &auth.caller(), new)
            .await?;
        let policy = store.current_policy().await?.document.0;
        let detail = store.get_product(None, created.id).await?;
        let location = format!("{}/products/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(ProductCreated::Created(
            Json(view(detail, &policy, &auth)),
            location,
            tag,
        ))
    }

    /// List products
    ///
    /// Ordered by name, each with its assessments across departments (status, due date, acceptance and
    /// validity), the findings standing on it and the next date the vendor owes something. A vendor lists its
    /// own products (an invitation token gets 403: it reaches one request's questionnaires); staff list every
    /// vendor's. A buyer sees who reviewed a product and when, but the request ids of other departments' requests
    /// are left out.
    #[oai(path = "/products", method = "get", operation_id = "listProducts")]
    async fn list(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        /// Only this vendor's products.
        vendor_id: Query<Option<Uuid>>,
        /// Text to find in the name or an alias.
        q: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<ProductPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let bound = vendor_bound(&auth)?;
        let vendor = match (bound, vendor_id.0) {
            (Some(own), Some(asked)) if own != asked => {
                return Ok(Json(ProductPage {
                    items: Vec::new(),
                    page: PageInfo::new(0, page, 0),
                }));
            }
            (Some(own), _) => Some(own),
            (None, asked) => asked,
        };
        let q = q.0.filter(|s| !s.trim().is_empty());
        let found = store.list_products(vendor, q.as_deref(), page).await?;
        let policy = store.current_policy().await?.document.0;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(ProductPage {
            items: found
                .items
                .into_iter()
                .map(|d| view(d, &policy, &auth))
                .collect(),
            page: info,
        }))
    }

    /// Read a product
    ///
    /// As in the list: its assessments across departments, their validity, and the findings standing on it. A
    /// vendor reads its own products only (another's answers 404).
    #[oai(path = "/products/:id", method = "get", operation_id = "getProduct")]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<ProductResponse, ApiError> {
        let bound = vendor_bound(&auth)?;
        let detail = store.get_product(bound, id.0).await?;
        let policy = store.current_policy().await?.document.0;
        let tag = etag(detail.product.version);
        Ok(ProductResponse::Ok(Json(view(detail, &policy, &auth)), tag))
    }
}
