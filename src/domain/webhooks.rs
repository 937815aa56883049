//! Signed webhook deliveries: how a receiver knows a notification came from this service, and how often a failed
//! delivery is retried.
//!
//! Each delivery carries a header `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the MAC computed with the
//! subscriber's shared secret over `"<timestamp>.<body>"`. Binding the timestamp into the MAC lets the receiver
//! refuse an old message replayed later ([`verify`] with a tolerance); comparing in constant time keeps the MAC
//! from being guessed byte by byte. A header may carry several `v1` signatures (one per secret while a secret is
//! being rotated); any one matching is enough. Keys other than `t` and `v1` are ignored so that a later scheme
//! can be added beside this one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use strum::{EnumString, IntoStaticStr, VariantArray};

/// Where a delivery of a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Failed every attempt; waits for an admin to retry it.
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a notification is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryChannel {
    /// A signed JSON POST to a webhook URL.
    Webhook,
    /// An e-mail over SMTP.
    Email,
}

impl DeliveryChannel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The HTTP header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Webhook-Signature";

/// How far a delivery's timestamp may be from the receiver's clock, either way, by default: five minutes.
pub const DEFAULT_TOLERANCE_SECONDS: u32 = 300;

/// Delivery attempts before a delivery is dead-lettered for someone to look at.
pub const MAX_ATTEMPTS: u32 = 8;

/// Waits after the 1st, 2nd, ... failed attempt, in seconds; the last figure is the cap.
const BACKOFF_SECONDS: [u64; 5] = [30, 2 * 60, 10 * 60, 60 * 60, 6 * 60 * 60];

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is not `t=<timestamp>,v1=<hex>`.
    #[error("malformed signature header: {0}")]
    Malformed(&'static str),
    /// The header has a timestamp but no `v1` signature.
    #[error("the signature header carries no v1 signature")]
    NoSignature,
    /// No signature matches the body and timestamp under this secret: the body was changed, or signed with
    /// another secret.
    #[error("no signature matches the body")]
    BadSignature,
    /// The signature is genuine but the timestamp is too far from now: a replay, or a clock that is off.
    #[error("the timestamp is {age_seconds} s from now, beyond the {tolerance_seconds} s allowed")]
    Stale {
        /// Seconds between the timestamp and now, either way.
        age_seconds: u64,
        /// The tolerance the receiver allowed.
        tolerance_seconds: u32,
    },
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The [`SIGNATURE_HEADER`] value for a delivery: `t=<timestamp>,v1=<hex>`.
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Checks a delivery's signature header against its body: some `v1` signature must match (compared in constant
/// time), and only then is the timestamp checked to be within `tolerance_seconds` of `now`, either way.
pub fn verify(
    secret: &[u8],
    header_value: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance_seconds: u32,
) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header_value.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(VerifyError::Malformed("each part must be key=value"))?;
        match key {
            "t" => {
                let parsed = value
                    .parse::<i64>()
                    .map_err(|_| VerifyError::Malformed("t must be whole unix seconds"))?;
                if timestamp.replace(parsed).is_some() {
                    return Err(VerifyError::Malformed("t appears more than once"));
                }
            }
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed("no t= timestamp"))?;
    if signatures.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    let expected = mac(secret, timestamp, body);
    let genuine = signatures.iter().any(|signature| {
        hex::decode(signature).is_ok_and(|bytes| expected.clone().verify_slice(&bytes).is_ok())
    });
    if !genuine {
        return Err(VerifyError::BadSignature);
    }
    let age_seconds = now.timestamp().abs_diff(timestamp);
    if age_seconds > u64::from(tolerance_seconds) {
        return Err(VerifyError::Stale {
            age_seconds,
            tolerance_seconds,
        });
    }
    Ok(())
}

/// How long to wait before the next attempt, given how many attempts have failed so far: none failed, no wait;
/// then 30 s, 2 min, 10 min, 1 h, and 6 h from the fifth failure on (roughly exponential, capped).
///
/// The figure is deterministic so that the schedule can be tested and reasoned about; a caller that runs many
/// deliveries at once may add its own random jitter on top so that they do not all retry in the same second.
/// Stop retrying after [`MAX_ATTEMPTS`] ([`next_attempt_after`] does).
pub fn backoff(failed_attempts: u32) -> Duration {
    match failed_attempts {
        0 => Duration::ZERO,
        failed => {
            let index = usize::try_from(failed - 1)
                .unwrap_or(usize::MAX)
                .min(BACKOFF_SECONDS.len() - 1);
            Duration::from_secs(BACKOFF_SECONDS[index])
        }
    }
}

/// The wait before the next attempt, or `None` once [`MAX_ATTEMPTS`] have failed and the delivery is to be
/// dead-lettered.
pub fn next_attempt_after(failed_attempts: u32) -> Option<Duration> {
    (failed_attempts < MAX_ATTEMPTS).then(|| backoff(failed_attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"event":"request.approved"}"#;
    const SENT_AT: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn now_plus(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(SENT_AT + seconds, 0).unwrap()
    }

    #[test]
    fn a_signature_is_hex_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: python3 hmac.new(b"whsec_test", b'1767225600.{"event":"request.approved"}',
        // hashlib.sha256).hexdigest()
        let expected = "c95f0f4491db774f9d6de8ed29c8cb31f55273e5ddc21c68a0de4d2351098a51";
        assert_eq!(sign(SECRET, SENT_AT, BODY), expected);
        assert_eq!(
            signature_header(SECRET, SENT_AT, BODY),
            format!("t=1767225600,v1={expected}")
        );
    }

    #[test]
    fn a_signed_delivery_verifies_with_the_same_secret() {
        let header = signature_header(SECRET, SENT_AT, BODY);
        assert_eq!(verify(SECRET, &header, BODY, now_plus(0), 300), Ok(()));
        assert_eq!(verify(SECRET, &header, BODY, now_plus(42), 300), Ok(()));
        let empty = signature_header(SECRET, SENT_AT, b"");
        assert_eq!(verify(SECRET, &empty, b"", now_plus(0), 300), Ok(()));
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let header = signature_header(SECRET, SENT_AT, BODY);
        let tampered = br#"{"event":"request.denied"}"#;
        assert_eq!(
            verify(SECRET, &header, tampered, now_plus(0), 300),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn a_signature_made_with_another_secret_is_refused() {
        let header = signature_header(b"whsec_other", SENT_AT, BODY);
        assert_eq!(
            verify(SECRET, &header, BODY, now_plus(0), 300),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn a_timestamp_moved_to_make_a_replay_look_fresh_breaks_the_signature() {
        let signature = sign(SECRET, SENT_AT, BODY);
        let moved = format!("t={},v1={signature}", SENT_AT + 3_600);
        assert_eq!(
            verify(SECRET, &moved, BODY, now_plus(3_600), 300),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn a_genuine_delivery_older_or_newer_than_the_tolerance_is_refused_as_stale() {
        let header = signature_header(SECRET, SENT_AT, BODY);
        assert_eq!(verify(SECRET, &header, BODY, now_plus(300), 300), Ok(()));
        assert_eq!(
            verify(SECRET, &header, BODY, now_plus(301), 300),
            Err(VerifyError::Stale {
                age_seconds: 301,
                tolerance_seconds: 300
            })
        );
        assert_eq!(verify(SECRET, &header, BODY, now_plus(-300), 300), Ok(()));
        assert!(matches!(
            verify(SECRET, &header, BODY, now_plus(-301), 300),
            Err(VerifyError::Stale { .. })
        ));
    }

    #[test]
    fn any_one_of_several_signatures_is_enough_while_a_secret_is_rotated() {
        let old = sign(b"whsec_old", SENT_AT, BODY);
        let new = sign(SECRET, SENT_AT, BODY);
        let header = format!("t={SENT_AT}, v1={old}, v1={new}, v0=ignored");
        assert_eq!(verify(SECRET, &header, BODY, now_plus(0), 300), Ok(()));
        assert_eq!(
            verify(b"whsec_old", &header, BODY, now_plus(0), 300),
            Ok(())
        );
        assert_eq!(
            verify(b"whsec_third", &header, BODY, now_plus(0), 300),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn a_malformed_header_is_refused_before_any_signature_is_checked() {
        let signature = sign(SECRET, SENT_AT, BODY);
        let cases = [
            (
                String::new(),
                VerifyError::Malformed("each part must be key=value"),
            ),
            (
                format!("v1={signature}"),
                VerifyError::Malformed("no t= timestamp"),
            ),
            (
                format!("t=yesterday,v1={signature}"),
                VerifyError::Malformed("t must be whole unix seconds"),
            ),
            (
                format!("t={SENT_AT},t={SENT_AT},v1={signature}"),
                VerifyError::Malformed("t appears more than once"),
            ),
            (format!("t={SENT_AT}"), VerifyError::NoSignature),
            (format!("t={SENT_AT},v1=not-hex"), VerifyError::BadSignature),
            (
                format!("t={SENT_AT},v1={}", &signature[..32]),
                VerifyError::BadSignature,
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                verify(SECRET, &header, BODY, now_plus(0), 300),
                Err(expected),
                "{header:?}"
            );
        }
    }

    #[test]
    fn an_extreme_timestamp_is_stale_rather_than_an_overflow() {
        let header = signature_header(SECRET, i64::MIN, BODY);
        assert!(matches!(
            verify(SECRET, &header, BODY, now_plus(0), u32::MAX),
            Err(VerifyError::Stale { .. })
        ));
    }

    #[test]
    fn retries_back_off_from_30_seconds_to_a_cap_of_6_hours() {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let schedule: Vec<Duration> = (0..=8).map(backoff).collect();
        assert_eq!(
            schedule,
            [
                Duration::ZERO,
                Duration::from_secs(30),
                minutes(2),
                minutes(10),
                minutes(60),
                minutes(360),
                minutes(360),
                minutes(360),
                minutes(360),
            ]
        );
        assert_eq!(backoff(u32::MAX), minutes(360));
        assert!(schedule.windows(2).all(|pair| pair[0] <= pair[1]));
    }

    #[test]
    fn a_delivery_is_dead_lettered_after_the_eighth_failed_attempt() {
        for failed in 0..MAX_ATTEMPTS {
            assert_eq!(
                next_attempt_after(failed),
                Some(backoff(failed)),
                "{failed}"
            );
        }
        assert_eq!(next_attempt_after(MAX_ATTEMPTS), None);
        assert_eq!(next_attempt_after(MAX_ATTEMPTS + 1), None);
        let total: Duration = (1..MAX_ATTEMPTS).map(backoff).sum();
        assert_eq!(
            total,
            Duration::from_secs(30 + 120 + 600 + 3_600 + 3 * 21_600)
        );
    }
}
