//! The audit chain: each record's hash covers its content and the previous record's hash, so that an edited,
//! inserted or removed record breaks the chain at a point verification can name.

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::{Enum, Object};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use strum::{EnumString, IntoStaticStr, VariantArray};

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
    let null = Value::Null;
    let at = Value::from(entry.at.to_rfc3339_opts(SecondsFormat::Micros, true));
    let request_id = entry.request_id.map(Value::from).unwrap_or(Value::Null);
    let (seq, prev_hash) = (Value::from(seq), Value::from(prev_hash));
    let (actor, role, action) = (
        Value::from(entry.actor),
        Value::from(entry.role),
        Value::from(entry.action),
    );
    let (object_type, object_id) = (Value::from(entry.object_type), Value::from(entry.object_id));
    // Borrowed, not cloned: the before and after objects are most of a record, and a full verification hashes
    // every record.
    let mut fields: Vec<&Value> = vec![
        &seq,
        &prev_hash,
        &at,
        &actor,
        &role,
        &action,
        &object_type,
        &object_id,
        entry.before.unwrap_or(&null),
        entry.after.unwrap_or(&null),
        &request_id,
    ];
    if let Some(context) = entry.context {
        fields.push(context);
    }
    let mut text = String::with_capacity(1024);
    text.push('[');
    for (i, field) in fields.into_iter().enumerate() {
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

/// Which records a verification read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum VerifyScope {
    /// The records after the last checkpoint, and the record the checkpoint names (`GET /audit/verify`).
    Incremental,
    /// Every record and every checkpoint (`procurement-review audit verify`).
    Full,
}

impl VerifyScope {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct VerifyReport {
    /// True when every record checked is present, unedited and chained, and no record lies beyond the head.
    pub ok: bool,
    pub scope: VerifyScope,
    /// Records checked.
    pub records: i64,
    /// The first record checked (the one the checkpoint names, when resuming from one).
    pub from_seq: i64,
    /// The last sequence number the chain head records.
    pub head_seq: i64,
    /// Each fault found, in order: the sequence number and what is wrong.
    pub faults: Vec<ChainFault>,
    /// The checkpoint an incremental verification resumed from; absent when it read the chain from the start.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<CheckpointSummary>,
    /// The latest checkpoint once this verification is done (a new one when it advanced). Its hash, kept
    /// outside the database, anchors the chain: see the README's audit section.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointSummary>,
    /// When the chain was last verified in full and up to which record. Records before `from_seq` were not read
    /// again by an incremental verification: only a full one reads them.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_full_verification: Option<FullVerification>,
    /// What was verified and what was not, in one sentence.
    pub summary: String,
}

/// A verification checkpoint as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct CheckpointSummary {
    pub number: i64,
    /// The last record verified when the checkpoint was written.
    pub verified_seq: i64,
    pub scope: VerifyScope,
    pub at: DateTime<Utc>,
    /// The checkpoint's own hash (it covers the checkpoint before it).
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct FullVerification {
    pub at: DateTime<Utc>,
    /// The last record it verified.
    pub verified_seq: i64,
}

/// A stored checkpoint: the chain was verified up to `verified_seq`, whose record's hash was `verified_hash`.
/// `full_at` and `full_seq` carry the last full verification forward, so that the latest checkpoint alone tells
/// when that was.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Checkpoint {
    pub number: i64,
    pub verified_seq: i64,
    pub verified_hash: String,
    pub scope: VerifyScope,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub full_at: Option<DateTime<Utc>>,
    pub full_seq: Option<i64>,
    pub prev_hash: String,
    pub hash: String,
}

impl Checkpoint {
    /// The checkpoint that follows `prev` (the first when there is none), hashed.
    pub fn after(
        prev: Option<&Checkpoint>,
        verified_seq: i64,
        verified_hash: &str,
        scope: VerifyScope,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Checkpoint {
        let (full_at, full_seq) = match scope {
            VerifyScope::Full => (Some(at), Some(verified_seq)),
            VerifyScope::Incremental => {
                (prev.and_then(|p| p.full_at), prev.and_then(|p| p.full_seq))
            }
        };
        let mut checkpoint = Checkpoint {
            number: prev.map_or(1, |p| p.number + 1),
            verified_seq,
            verified_hash: verified_hash.to_string(),
            scope,
            at,
            actor: actor.to_string(),
            full_at,
            full_seq,
            prev_hash: prev.map_or(GENESIS_HASH.to_string(), |p| p.hash.clone()),
            hash: String::new(),
        };
        checkpoint.hash = checkpoint.content_hash();
        checkpoint
    }

    /// SHA-256 over every field but the hash itself, the previous checkpoint's hash included.
    pub fn content_hash(&self) -> String {
        let micros =
            |t: &DateTime<Utc>| Value::from(t.to_rfc3339_opts(SecondsFormat::Micros, true));
        let fields = Value::Array(vec![
            Value::from(self.number),
            Value::from(self.verified_seq),
            Value::from(self.verified_hash.as_str()),
            Value::from(self.scope.as_str()),
            micros(&self.at),
            Value::from(self.actor.as_str()),
            self.full_at.as_ref().map(micros).unwrap_or(Value::Null),
            self.full_seq.map(Value::from).unwrap_or(Value::Null),
            Value::from(self.prev_hash.as_str()),
        ]);
        hex::encode(Sha256::digest(canonical_json(&fields).as_bytes()))
    }

    pub fn summary(&self) -> CheckpointSummary {
        CheckpointSummary {
            number: self.number,
            verified_seq: self.verified_seq,
            scope: self.scope,
            at: self.at,
            hash: self.hash.clone(),
        }
    }

    pub fn full_verification(&self) -> Option<FullVerification> {
        Some(FullVerification {
            at: self.full_at?,
            verified_seq: self.full_seq?,
        })
    }
}

/// Walks checkpoints in order (a full verification): each must hash to its own hash, link to the one before,
/// and name the hash its record has.
#[derive(Default)]
pub struct CheckpointVerifier {
    /// The checkpoint before the next one: its number, and its hash when it is there.
    prev: Option<(i64, Option<String>)>,
    faults: Vec<ChainFault>,
}

impl CheckpointVerifier {
    /// Starts at checkpoint `number`, whose predecessor is `before` (`None` when it is gone, or when `number`
    /// is the first).
    pub fn resume(number: i64, before: Option<&Checkpoint>) -> CheckpointVerifier {
        CheckpointVerifier {
            prev: (number > 1).then(|| (number - 1, before.map(|b| b.hash.clone()))),
            faults: Vec::new(),
        }
    }

    /// `record_hash`: the stored hash of the record the checkpoint names (`None` when that record is gone).
    pub fn check(&mut self, checkpoint: &Checkpoint, record_hash: Option<&str>) {
        let number = checkpoint.number;
        let mut fault = |problem: String| {
            if self.faults.len() < MAX_FAULTS {
                self.faults.push(ChainFault {
                    seq: checkpoint.verified_seq,
                    problem,
                });
            }
        };
        let (expected_number, expected_prev) = match &self.prev {
            Some((n, hash)) => (n + 1, hash.as_deref()),
            None => (1, Some(GENESIS_HASH)),
        };
        if number != expected_number {
            fault(format!(
                "checkpoints {expected_number} to {} are missing",
                number - 1
            ));
        }
        match expected_prev {
            Some(prev) if checkpoint.prev_hash != prev => fault(format!(
                "checkpoint {number} does not chain to the checkpoint before it"
            )),
            Some(_) => {}
            None => fault(format!("checkpoint {} is missing", number - 1)),
        }
        if checkpoint.content_hash() != checkpoint.hash {
            fault(format!(
                "checkpoint {number} has been altered: its content does not match its hash"
            ));
        }
        if record_hash != Some(checkpoint.verified_hash.as_str()) {
            fault(format!(
                "record {} no longer has the hash checkpoint {number} verified: the chain was rewritten up to \
                 it after {}",
                checkpoint.verified_seq,
                checkpoint.at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ));
        }
        self.prev = Some((number, Some(checkpoint.hash.clone())));
    }

    pub fn finish(self) -> Vec<ChainFault> {
        self.faults
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct ChainFault {
    pub seq: i64,
    pub problem: String,
}

/// One sentence for the report: what was verified, from where, and what only a full verification covers.
pub fn verification_summary(report: &VerifyReport) -> String {
    let outcome = if report.ok {
        "The chain is intact".to_string()
    } else {
        format!("The chain is BROKEN ({} faults)", report.faults.len())
    };
    let full = match &report.last_full_verification {
        Some(f) => format!(
            "last verified in full on {} (up to record {})",
            f.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            f.verified_seq
        ),
        None => "never verified in full".to_string(),
    };
    match (report.scope, &report.resumed_from) {
        (VerifyScope::Full, _) => format!(
            "{outcome}: verified in full, all {} records from the first to {} and every checkpoint.",
            report.records, report.head_seq
        ),
        (VerifyScope::Incremental, Some(cp)) => format!(
            "{outcome} from checkpoint {} on: verified incrementally, records {} to {} ({} records). The records \
             before {} were not read again: they were {full}; `procurement-review audit verify` reads them all.",
            cp.number, report.from_seq, report.head_seq, report.records, cp.verified_seq
        ),
        (VerifyScope::Incremental, None) => format!(
            "{outcome}: no checkpoint yet, so all {} records were verified from the first to {}.",
            report.records, report.head_seq
        ),
    }
}

/// Walks records in sequence order. Feed batches with [`ChainVerifier::check`], then [`ChainVerifier::finish`].
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    /// Resuming from a checkpoint: the record it names and the hash it had.
    anchor: Option<(i64, String)>,
    records: i64,
    faults: Vec<ChainFault>,
}

const MAX_FAULTS: usize = 100;

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            anchor: None,
            records: 0,
            faults: Vec::new(),
        }
    }
}

impl ChainVerifier {
    /// Starts at the record a checkpoint names: that record must still have the hash the checkpoint verified
    /// (its content is checked too); the records after it are checked as from the start.
    pub fn resume(seq: i64, hash: &str) -> ChainVerifier {
        ChainVerifier {
            expected_seq: seq,
            prev_hash: String::new(),
            anchor: Some((seq, hash.to_string())),
            records: 0,
            faults: Vec::new(),
        }
    }

    /// The record a checkpoint names is gone: go on from the checkpoint as though it were there.
    fn anchor_missing(&mut self, seq: i64, hash: String) {
        self.fault(
            seq,
            format!("record {seq}, which the last checkpoint verified, is missing"),
        );
        self.expected_seq = seq + 1;
        self.prev_hash = hash;
    }

    fn fault(&mut self, seq: i64, problem: String) {
        if self.faults.len() < MAX_FAULTS {
            self.faults.push(ChainFault { seq, problem });
        }
    }

    pub fn check(&mut self, record: &AuditRecord) {
        if let Some((seq, hash)) = self.anchor.take() {
            if record.seq == seq {
                if record.hash != hash {
                    self.fault(
                        seq,
                        format!(
                            "record {seq} ({} on {} {}) no longer has the hash the last checkpoint verified",
                            record.action, record.object_type, record.object_id
                        ),
                    );
                }
                // Its link to the record before was verified when the checkpoint was written.
                self.prev_hash = record.prev_hash.clone();
            } else {
                self.anchor_missing(seq, hash);
            }
        }
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

    /// Compares the end of the chain with its head. The report's scope, checkpoints and summary are the
    /// caller's to fill in.
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> VerifyReport {
        if let Some((seq, hash)) = self.anchor.take() {
            self.anchor_missing(seq, hash);
        }
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
            scope: VerifyScope::Full,
            records: self.records,
            from_seq: 0,
            head_seq,
            faults: self.faults,
            resumed_from: None,
            checkpoint: None,
            last_full_verification: None,
            summary: String::new(),
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

    fn resumed(records: &[AuditRecord], seq: i64, hash: &str, head: &AuditRecord) -> VerifyReport {
        let mut v = ChainVerifier::resume(seq, hash);
        records.iter().for_each(|r| v.check(r));
        v.finish(head.seq, &head.hash)
    }

    #[test]
    fn resuming_from_a_checkpoint_reads_the_record_it_names_and_those_after() {
        let c = chain(6);
        let report = resumed(&c[2..], 3, &c[2].hash, &c[5]);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.records, 4);

        let mut edited = c.clone();
        edited[4].actor = "mallory".into();
        let report = resumed(&edited[2..], 3, &c[2].hash, &c[5]);
        assert_eq!((report.ok, report.faults[0].seq), (false, 5), "{report:?}");
    }

    #[test]
    fn the_record_a_checkpoint_names_must_keep_its_content_and_its_hash() {
        let c = chain(4);
        let mut edited = c.clone();
        edited[1].actor = "mallory".into();
        let report = resumed(&edited[1..], 2, &c[1].hash, &c[3]);
        assert!(report.faults[0].problem.contains("altered"), "{report:?}");

        // Rewritten with a fresh hash (and the rest of the chain after it): the checkpoint still knows.
        let mut rewritten = edited.clone();
        rewritten[1].hash = chain_hash(2, &rewritten[1].prev_hash, &rewritten[1].entry());
        for i in 2..4 {
            rewritten[i].prev_hash = rewritten[i - 1].hash.clone();
            rewritten[i].hash = chain_hash(
                rewritten[i].seq,
                &rewritten[i].prev_hash,
                &rewritten[i].entry(),
            );
        }
        let report = resumed(&rewritten[1..], 2, &c[1].hash, &rewritten[3]);
        assert_eq!(report.faults.len(), 1, "{report:?}");
        assert!(
            report.faults[0].problem.contains("no longer has the hash"),
            "{report:?}"
        );

        let report = resumed(&c[2..], 2, &c[1].hash, &c[3]);
        assert!(
            report.faults[0]
                .problem
                .contains("record 2, which the last checkpoint verified, is missing")
        );
    }

    fn checkpoints(records: &[AuditRecord]) -> Vec<Checkpoint> {
        let at = DateTime::from_timestamp_micros(1_800_000_000_000_000).unwrap();
        let mut out: Vec<Checkpoint> = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let scope = if i == 0 {
                VerifyScope::Full
            } else {
                VerifyScope::Incremental
            };
            out.push(Checkpoint::after(
                out.last(),
                r.seq,
                &r.hash,
                scope,
                at,
                "auditor",
            ));
        }
        out
    }

    fn verify_checkpoints(checkpoints: &[Checkpoint], records: &[AuditRecord]) -> Vec<ChainFault> {
        let mut v = CheckpointVerifier::default();
        for cp in checkpoints {
            let hash = records
                .iter()
                .find(|r| r.seq == cp.verified_seq)
                .map(|r| r.hash.as_str());
            v.check(cp, hash);
        }
        v.finish()
    }

    #[test]
    fn checkpoints_chain_carry_the_last_full_verification_and_name_their_records() {
        let c = chain(5);
        let cps = checkpoints(&[c[1].clone(), c[3].clone(), c[4].clone()]);
        assert_eq!(cps[2].number, 3);
        assert_eq!(cps[2].prev_hash, cps[1].hash);
        assert_eq!(cps[2].full_verification().unwrap().verified_seq, 2);
        assert!(verify_checkpoints(&cps, &c).is_empty());
    }

    /// A checkpoint's hash covers its scope as text (`full`, `incremental`): stored checkpoints are verified again
    /// years on, so the text and the hash must never change with the type that carries the scope. The hashes are
    /// SHA-256 of `[1,7,"abc","<scope>","2027-01-15T08:00:00.000000Z","auditor",<full_at>,<full_seq>,"000..."]`.
    #[test]
    fn a_checkpoints_hash_covers_its_scope_in_the_text_it_always_had() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let full = Checkpoint::after(None, 7, "abc", VerifyScope::Full, at, "auditor");
        assert_eq!(
            full.hash,
            "5b9be18c078b0e3e7e86712e748082c55286d92c48c29a5c077384e8ad98c7a6"
        );
        let incremental =
            Checkpoint::after(None, 7, "abc", VerifyScope::Incremental, at, "auditor");
        assert_eq!(
            incremental.hash,
            "7e2e40ed3aa7730317fe8dd058e87e690e6c480d02b3f80d4b436f0c408721cd"
        );
        assert_eq!(full.summary().scope, VerifyScope::Full);
    }

    #[track_caller]
    fn assert_named(faults: &[ChainFault], problem: &str) {
        assert!(
            faults.iter().any(|f| f.problem.contains(problem)),
            "{problem}: {faults:?}"
        );
    }

    #[test]
    fn an_edited_or_removed_checkpoint_and_a_rewritten_record_are_named() {
        let c = chain(5);
        let cps = checkpoints(&[c[1].clone(), c[3].clone(), c[4].clone()]);

        let mut edited = cps.clone();
        edited[1].verified_seq = 3;
        let faults = verify_checkpoints(&edited, &c);
        assert_named(&faults, "checkpoint 2 has been altered");

        let removed = [cps[0].clone(), cps[2].clone()];
        let faults = verify_checkpoints(&removed, &c);
        assert_named(&faults, "checkpoints 2 to 2 are missing");
        assert_named(&faults, "checkpoint 3 does not chain");

        let mut rewritten = c.clone();
        rewritten[3].hash = "f".repeat(64);
        let faults = verify_checkpoints(&cps, &rewritten);
        assert_eq!(faults.len(), 1, "{faults:?}");
        assert_eq!(faults[0].seq, 4);
        assert!(
            faults[0]
                .problem
                .contains("no longer has the hash checkpoint 2 verified"),
            "{faults:?}"
        );
    }
}
