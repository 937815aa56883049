//! Surveillance oversight after the purchase [Boston 16-63]: the register of technologies the City Council
//! approved (with their Surveillance Use Policies, version by version), public at `/public/surveillance` with no
//! token; the covered departments' Annual Surveillance Reports; and the city's report for a year, with the
//! missing department entries listed. The rules are the planner's (`crate::workflow::surveillance`).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Html, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::catalog::XlsxFile;
use super::me::ApiTags;
use super::requests::{Buyer, scope_of};
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Auth, Staff};
use crate::domain::text::escape_html as escape;
use crate::domain::{PageRequest, now};
use crate::error::{ApiError, FieldError};
use crate::sheets::reports::{Cell, col, write};
use crate::store::{Store, SurveillanceReportRecord, TechnologyRecord};
use crate::workflow::surveillance::{ReportFields, Sharing, Technology, missing};

#[derive(Debug, Clone, Object)]
pub struct UsePolicyView {
    /// 1 for the policy filed with the Council request, then one more for each later filing.
    pub version: i32,
    pub document_id: Uuid,
    pub file_name: String,
    pub sha256: String,
    pub filed_at: DateTime<Utc>,
}

/// A surveillance technology the City Council approved for a covered department.
#[derive(Debug, Clone, Object)]
pub struct TechnologyView {
    /// The request it was acquired through.
    pub request_id: Uuid,
    pub department_code: String,
    pub department_name: String,
    /// The product, as the request names it.
    pub technology: String,
    pub title: String,
    pub vendor: String,
    /// The Council's docket or order number, and the day of the approving vote.
    pub council_docket: String,
    pub council_vote_date: NaiveDate,
    /// The request's status now (`approved` once every other review is done).
    pub request_status: crate::domain::requests::Status,
    /// The Surveillance Use Policy, every version filed, oldest first.
    pub use_policies: Vec<UsePolicyView>,
}

impl From<TechnologyRecord> for TechnologyView {
    fn from(t: TechnologyRecord) -> Self {
        TechnologyView {
            request_id: t.request_id,
            department_code: t.department_code,
            department_name: t.department_name,
            technology: t.technology,
            title: t.title,
            vendor: t.vendor_name,
            council_docket: t.docket,
            council_vote_date: t.vote_date,
            request_status: t.request_status,
            use_policies: t
                .use_policies
                .into_iter()
                .enumerate()
                .map(|(i, p)| UsePolicyView {
                    version: i as i32 + 1,
                    document_id: p.id,
                    file_name: p.file_name,
                    sha256: p.sha256,
                    filed_at: p.uploaded_at,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct TechnologyPage {
    pub items: Vec<TechnologyView>,
    pub page: PageInfo,
}

/// The public register.
#[derive(Debug, Object)]
pub struct PublicRegister {
    pub ordinance: String,
    pub generated_at: DateTime<Utc>,
    pub technologies: Vec<TechnologyView>,
}

#[derive(Debug, Clone, Object)]
pub struct SharingBody {
    /// With whom the data was shared.
    pub recipient: String,
    /// What data.
    pub data: String,
    /// Under which legal standard (warrant, subpoena, agreement, ...).
    pub legal_standard: String,
}

/// What a department reports on one technology for one year (Boston 16-63.5). Every part is required: write
/// "none" when there is nothing to report.
#[derive(Debug, Object)]
pub struct ReportBody {
    /// How the technology was used.
    pub usage: String,
    /// Whether and how it captured people not suspected of wrongdoing.
    pub non_suspect_capture: String,
    /// Data shared: with whom, what, under which legal standard.
    #[oai(default)]
    pub sharing: Vec<SharingBody>,
    /// Community complaints received.
    pub complaints: String,
    /// Internal audits made.
    pub audits: String,
    /// Violations of the Surveillance Use Policy found, and what was done.
    pub violations: String,
}

impl ReportBody {
    fn parse(self) -> Result<ReportFields, ApiError> {
        ReportFields {
            usage: self.usage,
            non_suspect_capture: self.non_suspect_capture,
            sharing: self
                .sharing
                .into_iter()
                .map(|s| Sharing {
                    recipient: s.recipient,
                    data: s.data,
                    legal_standard: s.legal_standard,
                })
                .collect(),
            complaints: self.complaints,
            audits: self.audits,
            violations: self.violations,
        }
        .check()
        .map_err(|faults| {
            ApiError::validation(
                faults
                    .into_iter()
                    .map(|f| FieldError::new(f.field, f.message))
                    .collect(),
            )
        })
    }
}

/// A report with the year it covers.
#[derive(Debug, Object)]
pub struct NewReportBody {
    /// The calendar year reported on (one that has ended).
    pub year: i32,
    pub usage: String,
    pub non_suspect_capture: String,
    #[oai(default)]
    pub sharing: Vec<SharingBody>,
    pub complaints: String,
    pub audits: String,
    pub violations: String,
}

impl NewReportBody {
    fn split(self) -> (i32, ReportBody) {
        (
            self.year,
            ReportBody {
                usage: self.usage,
                non_suspect_capture: self.non_suspect_capture,
                sharing: self.sharing,
                complaints: self.complaints,
                audits: self.audits,
                violations: self.violations,
            },
        )
    }
}

#[derive(Debug, Object)]
pub struct ReportView {
    pub id: Uuid,
    pub request_id: Uuid,
    pub department_code: String,
    pub year: i32,
    pub usage: String,
    pub non_suspect_capture: String,
    pub sharing: Vec<SharingBody>,
    pub complaints: String,
    pub audits: String,
    pub violations: String,
    /// The ETag is `"<version>"`.
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SurveillanceReportRecord> for ReportView {
    fn from(r: SurveillanceReportRecord) -> Self {
        ReportView {
            id: r.id,
            request_id: r.request_id,
            department_code: r.department_code,
            year: r.year,
            usage: r.usage,
            non_suspect_capture: r.non_suspect_capture,
            sharing: r
                .sharing
                .0
                .into_iter()
                .map(|s| SharingBody {
                    recipient: s.recipient,
                    data: s.data,
                    legal_standard: s.legal_standard,
                })
                .collect(),
            complaints: r.complaints,
            audits: r.audits,
            violations: r.violations,
            version: r.version,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum ReportCreated {
    /// The report was filed.
    #[oai(status = 201)]
    Created(
        Json<ReportView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ReportResponse {
    #[oai(status = 200)]
    Ok(Json<ReportView>, #[oai(header = "ETag")] String),
}

/// A technology owed a report that has none.
#[derive(Debug, Object)]
pub struct MissingView {
    pub request_id: Uuid,
    pub department_code: String,
    pub technology: String,
}

/// The city's Annual Surveillance Report for a year: every department's entries, and those still missing.
#[derive(Debug, Object)]
pub struct AnnualReport {
    pub year: i32,
    /// When the departments' reports were due (policy).
    pub due_on: NaiveDate,
    pub reports: Vec<ReportView>,
    pub missing: Vec<MissingView>,
}

fn technology(t: &TechnologyRecord) -> Technology {
    Technology {
        request_id: t.request_id,
        department: t.department_code.clone(),
        technology: t.technology.clone(),
        approved_on: t.vote_date,
    }
}

/// The years an Annual Surveillance Report can be asked for: the ordinance took effect in 2022.
pub const REPORT_YEARS: std::ops::RangeInclusive<i32> = 2022..=2100;

async fn annual_report(store: &Store, year: Option<i32>) -> Result<AnnualReport, ApiError> {
    let year = year.unwrap_or(now().year() - 1);
    if !REPORT_YEARS.contains(&year) {
        return Err(ApiError::field(
            "year",
            "a year from 2022 (the ordinance took effect in 2022) to 2100",
        ));
    }
    let policy = store.current_policy().await?.document.0;
    let register = store.surveillance_register().await?;
    let reports = store.surveillance_reports(Some(year), None).await?;
    let reported: Vec<Uuid> = reports.iter().map(|r| r.request_id).collect();
    let technologies: Vec<Technology> = register.iter().map(technology).collect();
    Ok(AnnualReport {
        year,
        due_on: policy.surveillance_report_due(year),
        missing: missing(year, &technologies, &reported)
            .into_iter()
            .map(|m| MissingView {
                request_id: m.request_id,
                department_code: m.department,
                technology: m.technology,
            })
            .collect(),
        reports: reports.into_iter().map(ReportView::from).collect(),
    })
}

pub struct SurveillanceApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Surveillance")]
impl SurveillanceApi {
    /// List the surveillance technologies register
    ///
    /// Staff roles: every technology acquired through a request the City Council approved (Boston 16-63), with
    /// its vote and each version of its Surveillance Use Policy. The same register is public at
    /// `/public/surveillance`.
    #[oai(
        path = "/surveillance/technologies",
        method = "get",
        operation_id = "listSurveillanceTechnologies"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<TechnologyPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let all = store.surveillance_register().await?;
        let total = all.len() as i64;
        let items: Vec<TechnologyView> = all
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .map(TechnologyView::from)
            .collect();
        let info = PageInfo::new(total, page, items.len());
        Ok(Json(TechnologyPage { items, page: info }))
    }

    /// File an Annual Surveillance Report on a technology
    ///
    /// Buyers of the covered department, for a year that has ended (Boston 16-63.5): how it was used, capture of
    /// people not suspected of wrongdoing, data sharing (with whom, what, under which legal standard),
    /// community complaints, audits and violations. One per technology and year (409 `report_exists`).
    #[oai(
        path = "/surveillance/technologies/:id/reports",
        method = "post",
        operation_id = "fileSurveillanceReport"
    )]
    async fn file(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        /// The request the technology was acquired through.
        id: Path<Uuid>,
        body: Json<NewReportBody>,
    ) -> Result<ReportCreated, ApiError> {
        let (year, report) = body.0.split();
        let fields = report.parse()?;
        let created = store
            .create_surveillance_report(&auth.actor(), &auth.caller(), id.0, year, fields)
            .await?;
        let location = format!("{}/surveillance/reports/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(ReportCreated::Created(Json(created.into()), location, tag))
    }

    /// Read an Annual Surveillance Report entry
    #[oai(
        path = "/surveillance/reports/:id",
        method = "get",
        operation_id = "getSurveillanceReport"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<ReportResponse, ApiError> {
        let report = store
            .get_surveillance_report(&scope_of(&auth), id.0)
            .await?;
        let tag = etag(report.version);
        Ok(ReportResponse::Ok(Json(report.into()), tag))
    }

    /// Replace an Annual Surveillance Report entry
    ///
    /// Buyers of the department. `If-Match` (required) names the version read.
    #[oai(
        path = "/surveillance/reports/:id",
        method = "put",
        operation_id = "replaceSurveillanceReport"
    )]
    async fn replace(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ReportBody>,
    ) -> Result<ReportResponse, ApiError> {
        let expected = if_match.version()?;
        let report = store
            .update_surveillance_report(
                &auth.actor(),
                &auth.caller(),
                id.0,
                expected,
                body.0.parse()?,
            )
            .await?;
        let tag = etag(report.version);
        Ok(ReportResponse::Ok(Json(report.into()), tag))
    }

    /// The city's Annual Surveillance Report
    ///
    /// Staff roles: every department's entries for the year (default: last year), and the technologies whose
    /// entry is missing, for the Mayor's review and the City Council (Boston 16-63.5).
    #[oai(
        path = "/surveillance/annual-report",
        method = "get",
        operation_id = "getAnnualSurveillanceReport"
    )]
    async fn annual(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        /// The calendar year reported on.
        year: Query<Option<i32>>,
    ) -> Result<Json<AnnualReport>, ApiError> {
        Ok(Json(annual_report(&store, year.0).await?))
    }

    /// The city's Annual Surveillance Report as a workbook
    ///
    /// One row per technology owed a report: the department's entry, or `MISSING`.
    #[oai(
        path = "/surveillance/annual-report.xlsx",
        method = "get",
        operation_id = "exportAnnualSurveillanceReport"
    )]
    async fn annual_xlsx(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        /// The calendar year reported on.
        year: Query<Option<i32>>,
    ) -> Result<XlsxFile, ApiError> {
        let report = annual_report(&store, year.0).await?;
        let register = store.surveillance_register().await?;
        let name_of = |id: Uuid| {
            register
                .iter()
                .find(|t| t.request_id == id)
                .map(|t| t.technology.clone())
                .unwrap_or_default()
        };
        let columns = [
            col("Department", 12.0),
            col("Technology", 28.0),
            col("Status", 10.0),
            col("Usage", 40.0),
            col("Capture of people not suspected", 40.0),
            col("Data sharing", 40.0),
            col("Complaints", 30.0),
            col("Audits", 30.0),
            col("Violations", 30.0),
            col("Filed", 18.0),
        ];
        let mut rows: Vec<Vec<Cell>> = report
            .reports
            .iter()
            .map(|r| {
                let sharing = r
                    .sharing
                    .iter()
                    .map(|s| format!("{}: {} ({})", s.recipient, s.data, s.legal_standard))
                    .collect::<Vec<_>>()
                    .join("; ");
                vec![
                    Cell::Text(r.department_code.clone()),
                    Cell::Text(name_of(r.request_id)),
                    Cell::Text("filed".into()),
                    Cell::Text(r.usage.clone()),
                    Cell::Text(r.non_suspect_capture.clone()),
                    Cell::Text(if sharing.is_empty() {
                        "none".into()
                    } else {
                        sharing
                    }),
                    Cell::Text(r.complaints.clone()),
                    Cell::Text(r.audits.clone()),
                    Cell::Text(r.violations.clone()),
                    Cell::Time(r.updated_at),
                ]
            })
            .collect();
        rows.extend(report.missing.iter().map(|m| {
            let mut row = vec![
                Cell::Text(m.department_code.clone()),
                Cell::Text(m.technology.clone()),
                Cell::Text("MISSING".into()),
            ];
            row.extend(std::iter::repeat_n(Cell::Empty, 7));
            row
        }));
        let name = format!("surveillance-report-{}.xlsx", report.year);
        let bytes = super::blocking(move || write("Annual report", &columns, &rows)).await?;
        Ok(XlsxFile::Ok(
            Binary(bytes.into()),
            format!("attachment; filename=\"{name}\""),
        ))
    }
}

/// A page a screen reader reads in order: a heading, a sentence on what it is, one table with a caption and
/// header cells scoped to their columns, and no script.
fn page(register: &PublicRegister) -> String {
    let mut rows = String::new();
    for t in &register.technologies {
        let policies = if t.use_policies.is_empty() {
            "none filed".to_string()
        } else {
            t.use_policies
                .iter()
                .map(|p| {
                    format!(
                        "<a href=\"/public/surveillance/policies/{}\">version {}</a> ({}, filed {}, SHA-256 {})",
                        p.document_id,
                        p.version,
                        escape(&p.file_name),
                        p.filed_at.date_naive(),
                        p.sha256
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{} ({})</td><td>{}</td><td>{} on {}</td><td>{}</td></tr>\n",
            escape(&t.technology),
            escape(&t.department_name),
            escape(&t.department_code),
            escape(&t.vendor),
            escape(&t.council_docket),
            t.council_vote_date,
            policies
        ));
    }
    if register.technologies.is_empty() {
        rows.push_str(
            "<tr><td colspan=\"5\">No surveillance technology has been approved yet.</td></tr>\n",
        );
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Surveillance technologies approved by the City Council</title>\n\
         <style>body{{font-family:sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;line-height:1.5}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #555;padding:.4rem;text-align:left;vertical-align:top}}</style>\n\
         </head>\n<body>\n<main>\n<h1>Surveillance technologies approved by the City Council</h1>\n\
         <p>Under the Surveillance Oversight Ordinance ({}), the City Council approves each surveillance technology a \
         covered department acquires, with its Surveillance Use Policy. This register lists them. Updated {}.</p>\n\
         <table>\n<caption>Approved surveillance technologies</caption>\n<thead><tr><th scope=\"col\">Technology</th>\
         <th scope=\"col\">Department</th><th scope=\"col\">Vendor</th><th scope=\"col\">City Council vote</th>\
         <th scope=\"col\">Surveillance Use Policy</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <p>The same register as data: <a href=\"/public/surveillance\">/public/surveillance</a> (JSON).</p>\n</main>\n</body>\n</html>\n",
        escape(&register.ordinance),
        register.generated_at.format("%Y-%m-%d %H:%M UTC"),
    )
}

pub struct PublicApi;

async fn public_register(store: &Store) -> Result<PublicRegister, ApiError> {
    Ok(PublicRegister {
        ordinance: "Boston City Code 16-63".into(),
        generated_at: now(),
        technologies: store
            .surveillance_register()
            .await?
            .into_iter()
            .map(TechnologyView::from)
            .collect(),
    })
}

#[OpenApi(tag = "ApiTags::Surveillance")]
impl PublicApi {
    /// The public surveillance technologies register
    ///
    /// No token needed: every surveillance technology the City Council approved (Boston 16-63), with its
    /// department, vendor, vote and Surveillance Use Policy versions. The same as a plain accessible page:
    /// `/public/surveillance.html`.
    #[oai(
        path = "/public/surveillance",
        method = "get",
        operation_id = "publicSurveillanceRegister"
    )]
    async fn register(&self, store: Data<&Store>) -> Result<Json<PublicRegister>, ApiError> {
        Ok(Json(public_register(&store).await?))
    }

    /// A Surveillance Use Policy, as filed
    ///
    /// No token needed: any version of the Surveillance Use Policy of a technology on the register (the
    /// `document_id` the register lists). Other documents answer 404.
    #[oai(
        path = "/public/surveillance/policies/:document_id",
        method = "get",
        operation_id = "publicSurveillanceUsePolicy"
    )]
    async fn policy(
        &self,
        store: Data<&Store>,
        document_id: Path<Uuid>,
    ) -> Result<super::council::DocumentDownload, ApiError> {
        let register = store.surveillance_register().await?;
        let request_id = register
            .iter()
            .find(|t| t.use_policies.iter().any(|p| p.id == document_id.0))
            .map(|t| t.request_id)
            .ok_or_else(|| ApiError::not_found("surveillance use policy"))?;
        let (meta, data) = store
            .council_document_file(request_id, document_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("surveillance use policy"))?;
        Ok(super::council::DocumentDownload::Ok(
            Binary(data),
            super::attachment(&meta.file_name),
            meta.content_type,
        ))
    }

    /// The public surveillance technologies register, as a page
    ///
    /// No token needed: plain HTML with no script, one captioned table with scoped headers.
    #[oai(
        path = "/public/surveillance.html",
        method = "get",
        operation_id = "publicSurveillancePage"
    )]
    async fn page(&self, store: Data<&Store>) -> Result<Html<String>, ApiError> {
        Ok(Html(page(&public_register(&store).await?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_departments_and_vendors_wrote() {
        assert_eq!(
            escape("<script>\"x\" & 'y'"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
    }
}
