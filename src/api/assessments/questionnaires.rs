//! Questionnaire templates: the ones in use, and one with its sections and questions.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use crate::api::me::ApiTags;
use crate::auth::{AnyRole, Auth};
use crate::error::ApiError;
use crate::templates::Templates;

#[derive(Debug, Object)]
pub struct TemplateSummary {
    pub id: String,
    pub title: String,
    pub description: String,
    pub applies_to: String,
    /// Content hash of the template file.
    pub version: String,
    pub questions: usize,
}

pub struct QuestionnairesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl QuestionnairesApi {
    /// Questionnaire templates
    ///
    /// The templates in use (those built into the binary, or `questionnaires_dir`'s), with their content-hash
    /// versions. Every signed-in role.
    #[oai(
        path = "/questionnaires",
        method = "get",
        operation_id = "listQuestionnaires"
    )]
    async fn templates(
        &self,
        templates: Data<&Arc<Templates>>,
        _auth: Auth<AnyRole>,
    ) -> Result<Json<Vec<TemplateSummary>>, ApiError> {
        Ok(Json(
            templates
                .current()
                .iter()
                .map(|t| TemplateSummary {
                    id: t.id.clone(),
                    title: t.title.clone(),
                    description: t.description.clone(),
                    applies_to: t.applies_to.clone(),
                    version: t.version().to_string(),
                    questions: t.questions().count(),
                })
                .collect(),
        ))
    }

    /// One questionnaire template
    ///
    /// Sections and questions with kind, allowed answers, expected answer, weight, citation, conditions and the
    /// CAIQ v4 / HECVAT question IDs that answer them.
    #[oai(
        path = "/questionnaires/:id",
        method = "get",
        operation_id = "getQuestionnaire"
    )]
    async fn template(
        &self,
        templates: Data<&Arc<Templates>>,
        _auth: Auth<AnyRole>,
        id: Path<String>,
    ) -> Result<Json<Value>, ApiError> {
        let t = templates
            .current_of(&id.0)
            .ok_or_else(|| ApiError::not_found("questionnaire"))?;
        let mut value =
            serde_json::to_value(t.as_ref()).map_err(|e| ApiError::Internal(e.into()))?;
        value["version"] = Value::from(t.version());
        Ok(Json(value))
    }
}
