//! What a text input may hold: no control characters, and a bounded length.
//!
//! A NUL reaches PostgreSQL as an error (a 500) and SQLite stores it; other control characters (escape,
//! backspace, a lone carriage return) rewrite what a terminal, a log line or a spreadsheet cell shows. So every
//! text field and text query parameter refuses them, the same on both backends, before anything is stored.
//!
//! The exception is prose. A field that holds prose may run over several lines and be indented with tabs, so
//! tab and newline are allowed there, and a carriage return directly before a newline too (a Windows client
//! sends CRLF). Which fields hold prose is decided by the field's name, so that a new field named like its
//! peers gets the same rule without anyone listing it: see [`MULTI_LINE_FIELDS`].

/// Names of the fields that hold prose and may span lines: a request's `description`, the `rationale` of a
/// decision or a risk acceptance, `conditions` of an approval, a `comment` on an answer or in a review, the
/// `justification` of a waiver or an exception, the `note` of a resolution, decommission or re-assessment, a
/// remediation `plan`, the `reason` of a dismissal or an exception decision, an answer's `value` (the
/// answer to a text question is prose), an incident's `steps_taken`, the `findings` of a post-incident review,
/// the `grounds` of an appeal, and the accounts of an Annual Surveillance Report (`usage`,
/// `non_suspect_capture`, `complaints`, `audits`, `violations`). Everything else (names, titles, codes, references, e-mail addresses,
/// search filters) is one line: a newline there is a paste error, not content.
pub const MULTI_LINE_FIELDS: &[&str] = &[
    "description",
    "rationale",
    "conditions",
    "comment",
    "justification",
    "note",
    "plan",
    "reason",
    "usage",
    "non_suspect_capture",
    "complaints",
    "audits",
    "violations",
    "value",
    "steps_taken",
    "findings",
    "grounds",
];

/// Longest one-line text accepted where the field states no tighter limit of its own.
pub const MAX_ONE_LINE_CHARS: usize = 1_000;
/// Longest prose accepted where the field states no tighter limit: the longest text answer to a questionnaire.
pub const MAX_MULTI_LINE_CHARS: usize = crate::domain::questionnaires::MAX_TEXT_ANSWER_CHARS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    OneLine,
    MultiLine,
}

impl TextKind {
    /// The kind of the field named `name` (the last key of its path; list items share their list's name).
    pub fn of_field(name: &str) -> TextKind {
        if MULTI_LINE_FIELDS.contains(&name) {
            TextKind::MultiLine
        } else {
            TextKind::OneLine
        }
    }

    /// The most characters a field of this kind takes when it states no limit of its own.
    pub fn default_max_chars(self) -> usize {
        match self {
            TextKind::OneLine => MAX_ONE_LINE_CHARS,
            TextKind::MultiLine => MAX_MULTI_LINE_CHARS,
        }
    }

    /// [`TextKind::pattern`] for a field that must hold more than white space (the domain trims it and
    /// refuses what is left empty): at least one character that is neither a space nor a control character.
    pub fn non_blank_pattern(self) -> &'static str {
        match self {
            TextKind::OneLine => {
                r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
            }
            TextKind::MultiLine => {
                r"^(?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\r\n)*[^\s\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\r\n)*$"
            }
        }
    }

    /// The same rule as a JSON Schema `pattern`, for the OpenAPI document.
    pub fn pattern(self) -> &'static str {
        match self {
            TextKind::OneLine => r"^[^\u0000-\u001f\u007f-\u009f]*$",
            TextKind::MultiLine => r"^(?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\r\n)*$",
        }
    }
}

/// Refuses a control character that `kind` does not allow, saying which and where (counted from 1).
pub fn check_characters(text: &str, kind: TextKind) -> Result<(), String> {
    let mut chars = text.chars().enumerate().peekable();
    while let Some((index, c)) = chars.next() {
        if !c.is_control() {
            continue;
        }
        let allowed = kind == TextKind::MultiLine
            && match c {
                '\t' | '\n' => true,
                '\r' => chars.peek().is_some_and(|(_, next)| *next == '\n'),
                _ => false,
            };
        if !allowed {
            let found = format!("character {} is {}", index + 1, describe(c));
            return Err(match kind {
                TextKind::OneLine => {
                    format!("must be one line without control characters; {found}")
                }
                TextKind::MultiLine => {
                    format!("may hold tabs and line breaks but no other control character; {found}")
                }
            });
        }
    }
    Ok(())
}

/// Refuses a text longer than `max` characters (Unicode scalar values, as JSON Schema's `maxLength` counts).
pub fn check_length(text: &str, max: usize) -> Result<(), String> {
    let length = text.chars().count();
    if length > max {
        return Err(format!("must be at most {max} characters; it has {length}"));
    }
    Ok(())
}

fn describe(c: char) -> String {
    let code = format!("U+{:04X}", u32::from(c));
    let name = match c {
        '\0' => "NUL",
        '\t' => "a tab",
        '\n' => "a line break",
        '\r' => "a carriage return",
        '\u{1b}' => "escape",
        '\u{7f}' => "delete",
        _ => return code,
    };
    format!("{code} ({name})")
}

/// `text` safe inside HTML text and attribute values: `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_refused_in_every_kind_of_field() {
        for kind in [TextKind::OneLine, TextKind::MultiLine] {
            let message = check_characters("a\0b", kind).unwrap_err();
            assert!(message.contains("character 2 is U+0000 (NUL)"), "{message}");
        }
    }

    #[test]
    fn prose_may_hold_tabs_and_line_breaks_and_one_line_may_not() {
        let prose = "First point:\n\t- a\r\n\t- b";
        assert_eq!(check_characters(prose, TextKind::MultiLine), Ok(()));
        let message = check_characters("Acme\tInc", TextKind::OneLine).unwrap_err();
        assert_eq!(
            message,
            "must be one line without control characters; character 5 is U+0009 (a tab)"
        );
        assert!(check_characters("a\nb", TextKind::OneLine).is_err());
    }

    #[test]
    fn a_carriage_return_is_a_line_break_only_before_a_newline() {
        assert!(check_characters("a\rb", TextKind::MultiLine).is_err());
        assert!(check_characters("a\r", TextKind::MultiLine).is_err());
        assert_eq!(check_characters("a\r\nb", TextKind::MultiLine), Ok(()));
    }

    #[test]
    fn escape_delete_and_the_c1_controls_are_refused_and_other_text_is_not() {
        for c in ['\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{8}'] {
            assert!(
                check_characters(&format!("x{c}"), TextKind::MultiLine).is_err(),
                "{c:?}"
            );
        }
        assert_eq!(
            check_characters("Zoë's naïve café — 日本語 🙂 \u{a0}", TextKind::OneLine),
            Ok(())
        );
    }

    #[test]
    fn prose_fields_are_named_and_everything_else_is_one_line() {
        assert_eq!(TextKind::of_field("description"), TextKind::MultiLine);
        assert_eq!(TextKind::of_field("rationale"), TextKind::MultiLine);
        assert_eq!(TextKind::of_field("title"), TextKind::OneLine);
        assert_eq!(TextKind::of_field("q"), TextKind::OneLine);
    }

    #[test]
    fn the_published_pattern_says_what_the_check_does() {
        let samples: Vec<String> = (0u32..=0xa0)
            .filter_map(char::from_u32)
            .flat_map(|c| [format!("a{c}b"), format!("{c}")])
            .chain(["a\r\nb", "a\r", "\r\n\r\n", "", "日本\u{2028}"].map(str::to_string))
            .collect();
        for kind in [TextKind::OneLine, TextKind::MultiLine] {
            let pattern = regex::Regex::new(kind.pattern()).unwrap();
            for sample in &samples {
                assert_eq!(
                    pattern.is_match(sample),
                    check_characters(sample, kind).is_ok(),
                    "{kind:?} {sample:?}"
                );
            }
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(check_length("ééé", 3), Ok(()));
        assert_eq!(
            check_length("abcd", 3).unwrap_err(),
            "must be at most 3 characters; it has 4"
        );
    }
}
