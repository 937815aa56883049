//! Cursors of paged lists: the keyset of a newest-first page and the sequence number of an audit page, with the
//! opaque tokens the client is handed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where a newest-first page ends: the creation time and id of its last row. The next page starts after it,
/// so a page costs the same however deep it is, and rows added meanwhile do not shift it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Keyset {
    /// An opaque token for the client: URL-safe base64 of `<RFC 3339 time>|<id>`.
    pub fn encode(&self) -> String {
        use base64::Engine;
        let text = format!(
            "{}|{}",
            self.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            self.id
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// The keyset a token names, or `None` for anything this service did not hand out.
    pub fn decode(token: &str) -> Option<Keyset> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (time, id) = text.split_once('|')?;
        Some(Keyset {
            created_at: DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc),
            id: id.parse().ok()?,
        })
    }
}

impl Keyset {
    /// Cuts a page read with one row more than `limit` back to `limit` rows; returns where the next page starts
    /// (the last row kept, by `key`) when there was that one more row.
    pub fn next_of<T>(
        items: &mut Vec<T>,
        limit: i64,
        key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    ) -> Option<Keyset> {
        if items.len() as i64 <= limit {
            return None;
        }
        items.truncate(limit as usize);
        items.last().map(|row| {
            let (created_at, id) = key(row);
            Keyset { created_at, id }
        })
    }
}

/// Where an oldest-first page of a sequence-numbered list (the audit trail) ends: the number of its last row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqCursor(pub i64);

impl SeqCursor {
    /// An opaque token for the client: URL-safe base64 of `seq|<number>`.
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("seq|{}", self.0))
    }

    /// The cursor a token names, or `None` for anything this service did not hand out.
    pub fn decode(token: &str) -> Option<SeqCursor> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        text.strip_prefix("seq|")?.parse().ok().map(SeqCursor)
    }
}

#[cfg(test)]
mod keyset_tests {
    use super::Keyset;

    #[test]
    fn a_sequence_cursor_survives_its_token_and_no_keyset_passes_for_one() {
        use super::SeqCursor;
        let c = SeqCursor(1_000_042);
        assert_eq!(SeqCursor::decode(&c.encode()), Some(c));
        let k = Keyset {
            created_at: chrono::Utc::now(),
            id: uuid::Uuid::new_v4(),
        };
        assert_eq!(SeqCursor::decode(&k.encode()), None);
        assert_eq!(Keyset::decode(&c.encode()), None);
        assert_eq!(SeqCursor::decode("seq|12"), None, "not base64 of it");
    }

    #[test]
    fn a_keyset_survives_its_token_and_anything_else_is_refused() {
        let k = Keyset {
            created_at: chrono::DateTime::parse_from_rfc3339("2026-11-30T23:59:58.123456789Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            id: uuid::Uuid::from_u128(42),
        };
        assert_eq!(Keyset::decode(&k.encode()), Some(k));
        for bad in ["", "not base64!", "bm9waXBl", "MjAyNnxub3QtYS11dWlk"] {
            assert_eq!(Keyset::decode(bad), None, "{bad}");
        }
    }
}
