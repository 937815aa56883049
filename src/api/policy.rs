use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;

use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Admin, Auth, Staff};
use crate::domain::PageRequest;
use crate::domain::policy::{Policy, PolicyScope, Rule};
use crate::error::{ApiError, FieldError};
use crate::store::{PolicyRecord, Store};

/// A published policy version.
#[derive(Debug, Object)]
pub struct PolicyView {
    pub version: i32,
    pub label: String,
    /// SHA-256 of the policy's canonical JSON.
    pub content_hash: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    /// The policy document: thresholds, fiscal calendar, and the rules with their conditions, outcomes,
    /// reasons and citations.
    pub policy: Value,
}

impl From<PolicyRecord> for PolicyView {
    fn from(p: PolicyRecord) -> Self {
        PolicyView {
            version: p.version,
            label: p.label,
            content_hash: p.content_hash,
            published_by: p.published_by,
            published_at: p.published_at,
            policy: serde_json::to_value(&p.document.0).unwrap_or(Value::Null),
        }
    }
}

#[derive(ApiResponse)]
pub enum PolicyResponse {
    /// The policy; its `ETag` is its version, which a new version is published over.
    #[oai(status = 200)]
    Ok(Json<PolicyView>, #[oai(header = "ETag")] String),
}

fn respond(record: PolicyRecord) -> PolicyResponse {
    let tag = etag(i64::from(record.version));
    PolicyResponse::Ok(Json(record.into()), tag)
}

#[derive(Debug, Object)]
pub struct PolicyPage {
    pub items: Vec<PolicyView>,
    pub page: PageInfo,
}

/// Reads a policy document, naming the rule at fault for every problem found.
pub fn parse_policy(document: Value) -> Result<Policy, ApiError> {
    let rules: Vec<Value> = document
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let rule_field = |id: &str| -> String {
        rules
            .iter()
            .position(|r| r.get("id").and_then(Value::as_str) == Some(id))
            .map(|i| format!("rules[{i}]"))
            .unwrap_or_else(|| "rules".to_string())
    };
    let mut errors = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if let Err(e) = serde_json::from_value::<Rule>(rule.clone()) {
            let id = rule.get("id").and_then(Value::as_str).unwrap_or("(no id)");
            errors.push(FieldError::new(
                format!("rules[{i}]"),
                format!("rule {id}: {e}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let policy: Policy =
        serde_json::from_value(document).map_err(|e| ApiError::field("policy", e.to_string()))?;
    policy.validate().map_err(|faults| {
        ApiError::validation(
            faults
                .iter()
                .map(|f| {
                    let field = match &f.scope {
                        PolicyScope::Policy => "policy".to_string(),
                        PolicyScope::Rule(id) => rule_field(id),
                    };
                    FieldError::new(field, f.to_string())
                })
                .collect(),
        )
    })?;
    Ok(policy)
}

pub struct PolicyApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Policy")]
impl PolicyApi {
    /// The current policy
    ///
    /// The rules that route requests, with their thresholds and citations. Staff roles.
    #[oai(path = "/policy", method = "get", operation_id = "getPolicy")]
    async fn current(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
    ) -> Result<PolicyResponse, ApiError> {
        Ok(respond(store.current_policy().await?))
    }

    /// Publish a new policy version
    ///
    /// Admins. The body is a policy document (the shape `GET /policy` returns under `policy`). It is checked
    /// whole; every fault is named with the rule at fault (422) and nothing is stored. Requests already routed
    /// keep the version they were routed under until re-routed. `If-Match` (required) names the current version,
    /// the one the admin read and edited (`GET /policy` sends it as `ETag`): a version published meanwhile
    /// answers 412 rather than being replaced unseen.
    #[oai(path = "/policy", method = "put", operation_id = "publishPolicy")]
    async fn publish(
        &self,
        store: Data<&Store>,
        auth: Auth<Admin>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<Value>,
    ) -> Result<PolicyResponse, ApiError> {
        let current = if_match.version()?;
        let policy = parse_policy(body.0)?;
        Ok(respond(
            store.publish_policy(&auth.actor(), current, policy).await?,
        ))
    }

    /// Policy versions
    ///
    /// Newest first. Staff roles.
    #[oai(
        path = "/policy/versions",
        method = "get",
        operation_id = "listPolicyVersions"
    )]
    async fn versions(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<PolicyPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let found = store.list_policies(page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(PolicyPage {
            items: found.items.into_iter().map(PolicyView::from).collect(),
            page: info,
        }))
    }

    /// One policy version
    #[oai(
        path = "/policy/versions/:version",
        method = "get",
        operation_id = "getPolicyVersion"
    )]
    async fn version(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        version: Path<i32>,
    ) -> Result<Json<PolicyView>, ApiError> {
        let found = store
            .get_policy(version.0)
            .await?
            .ok_or_else(|| ApiError::not_found("policy version"))?;
        Ok(Json(found.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_index(doc: &Value, id: &str) -> usize {
        doc["rules"]
            .as_array()
            .unwrap()
            .iter()
            .position(|r| r["id"] == id)
            .unwrap()
    }

    #[test]
    fn the_default_policy_survives_its_own_parser() {
        let doc = serde_json::to_value(Policy::default_policy()).unwrap();
        assert_eq!(parse_policy(doc).unwrap(), Policy::default_policy());
    }

    #[test]
    fn a_broken_rule_is_named_by_position_and_id() {
        let mut doc = serde_json::to_value(Policy::default_policy()).unwrap();
        let i = rule_index(&doc, "cio-user-threshold");
        doc["rules"][i]["then"] = serde_json::json!({"step": "teleport"});
        let p = parse_policy(doc).unwrap_err().to_problem();
        assert_eq!(p.errors[0].field, format!("rules[{i}]"));
        assert!(
            p.errors[0].message.contains("cio-user-threshold"),
            "{}",
            p.errors[0].message
        );
    }

    #[test]
    fn a_rule_that_fails_validation_is_named() {
        let mut doc = serde_json::to_value(Policy::default_policy()).unwrap();
        let i = rule_index(&doc, "cio-value-threshold");
        doc["rules"][i]["citation"] = serde_json::json!("");
        let p = parse_policy(doc).unwrap_err().to_problem();
        assert_eq!(p.errors[0].field, format!("rules[{i}]"));
        assert!(p.errors[0].message.contains("cio-value-threshold"));
    }
}
