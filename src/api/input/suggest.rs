//! "Did you mean": the known field closest to a misspelt one.
//!
//! A misspelt field is worse than a missing one: it looks sent. The suggestion names the field the sender
//! most likely meant, so that the fix is obvious; it is only offered when the two are close enough that the
//! guess is likely right, because a wrong guess sends the sender looking in the wrong place.

use crate::domain::duplicates::osa_distance;

/// The known name closest to `unknown` (case, `-` and `_` aside), if it is within a typo or two; the first
/// listed wins a tie.
pub fn closest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = normalise(unknown);
    // A typo per four characters: enough for a dropped or doubled letter or a transposition in a long
    // name, without matching `id` to `q`.
    let max = (wanted.chars().count() / 4).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for name in known {
        let Some(distance) = osa_distance(&wanted, &normalise(name), max) else {
            continue;
        };
        if distance < name.chars().count() && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, name));
        }
    }
    best.map(|(_, name)| name)
}

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[&str] = &[
        "title",
        "description",
        "surveillance",
        "face_surveillance",
        "expected_users",
    ];

    #[test]
    fn a_dropped_letter_finds_the_field() {
        assert_eq!(
            closest("face_surveilance", REQUEST.iter().copied()),
            Some("face_surveillance")
        );
        assert_eq!(
            closest("coment", ["question_id", "comment"]),
            Some("comment")
        );
    }

    #[test]
    fn case_and_separators_do_not_count_as_typos() {
        assert_eq!(
            closest("faceSurveillance", REQUEST.iter().copied()),
            Some("face_surveillance")
        );
        assert_eq!(
            closest("Expected-Users", REQUEST.iter().copied()),
            Some("expected_users")
        );
    }

    #[test]
    fn the_closest_of_several_candidates_wins() {
        // One edit from `surveillance`, two from `face_surveillance`.
        assert_eq!(
            closest("surveilance", REQUEST.iter().copied()),
            Some("surveillance")
        );
        assert_eq!(closest("titel", REQUEST.iter().copied()), Some("title"));
    }

    #[test]
    fn nothing_is_suggested_for_a_name_unlike_any_field() {
        assert_eq!(closest("colour", REQUEST.iter().copied()), None);
        assert_eq!(closest("q", ["id"]), None);
        assert_eq!(closest("x", ["y"]), None);
    }
}
