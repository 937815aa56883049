//! The audit chain: each record's hash covers its content and the previous record's hash, so that an edited,
//! inserted or removed record breaks the chain at a point verification can name.

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash the first record chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record as stored and as shown to auditors.
#[derive(Debug, Clone, PartialEq, Serialize, Object, sqlx::FromRow)]
pub struct AuditRecord {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The token subject that acted (`system` for the service itself).
    pub actor: String,
    /// The role under which the actor acted.
    pub role: String,
    /// What happened, e.g. `vendor.created`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// The object before the change (absent on creation).
    #[sqlx(json(nullable))]
    pub before: Option<Value>,
    /// The object after the change (absent on deletion).
    #[sqlx(json(nullable))]
    pub after: Option<Value>,
    pub request_id: Option<String>,
    /// For an action taken with a vendor invitation: `invitation_id`, `invited_by` (the staff member who issued
    /// it) and the `request_id` it reaches. Absent otherwise.
    #[sqlx(json(nullable))]
    pub context: Option<Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// The content of a record before it is chained.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub request_id: Option<&'a str>,
    pub context: Option<&'a Value>,
}

impl AuditRecord {
    pub fn entry(&self) -> AuditEntry<'_> {
        AuditEntry {
            at: self.at,
            actor: &self.actor,
            role: &self.role,
            action: &self.action,
            object_type: &self.object_type,
            object_id: &self.object_id,
            before: self.before.as_ref(),
            after: self.after.as_ref(),
            request_id: self.request_id.as_deref(),
            context: self.context.as_ref(),
        }
    }
}

/// SHA-256 over a canonical serialisation: object keys sorted at every depth, so that a database that
/// reorders JSON keys (PostgreSQL's jsonb does) does not change the hash. The context joins the hashed fields
/// only when there is one, so that the records written before it existed keep their hashes.
pub fn chain_hash(seq: i64, prev_hash: &str, entry: &AuditEntry<'_>) -> String {
    let mut text = String::with_capacity(256);
    let mut fields: Vec<Value> = vec![
        Value::from(seq),
        Value::from(prev_hash),
        Value::from(entry.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        Value::from(entry.actor),
        Value::from(entry.role),
        Value::from(entry.action),
        Value::from(entry.object_type),
        Value::from(entry.object_id),
        entry.before.cloned().unwrap_or(Value::Null),
        entry.after.cloned().unwrap_or(Value::Null),
        entry.request_id.map(Value::from).unwrap_or(Value::Null),
    ];
    if let Some(context) = entry.context {
        fields.push(context.clone());
    }
    text.push('[');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        write_canonical(field, &mut text);
    }
    text.push(']');
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// JSON with object keys sorted at every depth: the same value always gives the same text.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct VerifyReport {
    /// True when every record is present, unedited and chained.
    pub ok: bool,
    /// Records checked.
    pub records: i64,
    /// The last sequence number the chain head records.
    pub head_seq: i64,
    /// Each fault found, in order: the sequence number and what is wrong.
    pub faults: Vec<ChainFault>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct ChainFault {
    pub seq: i64,
    pub problem: String,
}

/// Walks records in sequence order. Feed batches with [`ChainVerifier::check`], then [`ChainVerifier::finish`].
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    records: i64,
    faults: Vec<ChainFault>,
}

const MAX_FAULTS: usize = 100;

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            records: 0,
            faults: Vec::new(),
        }
    }
}

impl ChainVerifier {
    fn fault(&mut self, seq: i64, problem: String) {
        if self.faults.len() < MAX_FAULTS {
            self.faults.push(ChainFault { seq, problem });
        }
    }

    pub fn check(&mut self, record: &AuditRecord) {
        self.records += 1;
        if record.seq > self.expected_seq {
            let missing = if record.seq - self.expected_seq == 1 {
                format!("record {} is missing", self.expected_seq)
            } else {
                format!(
                    "records {} to {} are missing",
                    self.expected_seq,
                    record.seq - 1
                )
            };
            self.fault(self.expected_seq, missing);
        }
        if record.prev_hash != self.prev_hash {
            self.fault(
                record.seq,
                format!(
                    "record {} does not chain to the record before it",
                    record.seq
                ),
            );
        }
        let recomputed = chain_hash(record.seq, &record.prev_hash, &record.entry());
        if recomputed != record.hash {
            self.fault(
                record.seq,
                format!(
                    "record {} ({} on {} {}) has been altered: its content does not match its hash",
                    record.seq, record.action, record.object_type, record.object_id
                ),
            );
        }
        self.expected_seq = record.seq + 1;
        self.prev_hash = record.hash.clone();
    }

    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> VerifyReport {
        let last = self.expected_seq - 1;
        if head_seq > last {
            let problem = if head_seq - last == 1 {
                format!("record {head_seq} is missing (the chain head records it)")
            } else {
                format!(
                    "records {} to {head_seq} are missing (the chain head records them)",
                    last + 1
                )
            };
            self.fault(last + 1, problem);
        } else if head_seq < last {
            self.fault(
                head_seq + 1,
                format!("records after {head_seq} were added outside the chain"),
            );
        } else if head_hash != self.prev_hash {
            self.fault(last, format!("the chain head does not match record {last}"));
        }
        VerifyReport {
            ok: self.faults.is_empty(),
            records: self.records,
            head_seq,
            faults: self.faults,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let after = json!({"b": seq, "a": "x"});
                let mut r = AuditRecord {
                    seq,
                    at: DateTime::from_timestamp_micros(1_700_000_000_000_000 + seq).unwrap(),
                    actor: "alice".into(),
                    role: "admin".into(),
                    action: "vendor.created".into(),
                    object_type: "vendor".into(),
                    object_id: format!("v{seq}"),
                    before: None,
                    after: Some(after),
                    request_id: None,
                    context: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = chain_hash(seq, &prev, &r.entry());
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], head_seq: i64, head_hash: &str) -> VerifyReport {
        let mut v = ChainVerifier::default();
        records.iter().for_each(|r| v.check(r));
        v.finish(head_seq, head_hash)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let report = verify(&c, 5, &c[4].hash);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.records, 5);
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let mut c = chain(1);
        let reordered: Value = serde_json::from_str(r#"{"a":"x","b":1}"#).unwrap();
        c[0].after = Some(reordered);
        assert_eq!(chain_hash(1, GENESIS_HASH, &c[0].entry()), c[0].hash);
    }

    #[test]
    fn a_record_without_context_hashes_as_before_the_context_existed() {
        // The eleven fields every record was hashed over before the context existed, written out by hand.
        let c = chain(1);
        let r = &c[0];
        let text = format!(
            r#"[1,"{GENESIS_HASH}","{}","alice","admin","vendor.created","vendor","v1",null,{{"a":"x","b":1}},null]"#,
            r.at.to_rfc3339_opts(SecondsFormat::Micros, true)
        );
        assert_eq!(r.hash, hex::encode(Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn the_context_is_hashed_so_adding_or_removing_it_is_caught() {
        let mut c = chain(3);
        let head = c[2].hash.clone();
        c[1].context = Some(json!({"invitation_id": "i", "invited_by": "bea"}));
        let report = verify(&c, 3, &head);
        assert!(!report.ok);
        assert_eq!(report.faults[0].seq, 2);

        let mut with = chain(1);
        with[0].context = Some(json!({"invitation_id": "i", "invited_by": "bea"}));
        with[0].hash = chain_hash(1, GENESIS_HASH, &with[0].entry());
        assert!(verify(&with, 1, &with[0].hash.clone()).ok);
        with[0].context = Some(json!({"invitation_id": "i", "invited_by": "mallory"}));
        assert!(!verify(&with, 1, &with[0].hash.clone()).ok);
        with[0].context = None;
        assert!(!verify(&with, 1, &with[0].hash.clone()).ok);
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut c = chain(5);
        c[2].actor = "mallory".into();
        let report = verify(&c, 5, &c[4].hash);
        assert!(!report.ok);
        assert_eq!(report.faults[0].seq, 3);
        assert!(report.faults[0].problem.contains("altered"), "{report:?}");
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut c = chain(5);
        c.remove(1);
        let report = verify(&c, 5, &c[3].hash);
        assert!(!report.ok);
        assert_eq!(report.faults[0].seq, 2);
        assert!(report.faults[0].problem.contains("record 2 is missing"));
    }

    #[test]
    fn removing_the_last_record_is_caught_by_the_head() {
        let mut c = chain(3);
        let head = c[2].hash.clone();
        c.pop();
        let report = verify(&c, 3, &head);
        assert!(!report.ok);
        assert_eq!(report.faults[0].seq, 3);
    }
}
