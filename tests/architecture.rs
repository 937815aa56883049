//! The layers, read from the source: the domain (types and rules) and the workflow planners do no I/O and know
//! nothing of HTTP, the database or the service around them; the spreadsheet readers and writers know nothing of
//! the API or the store. Every import and path in a layer's files (test modules aside, whether written inline or
//! in files of their own) is checked against what the layer may reach, and a violation is named with its file,
//! line and import.
//!
//! Edges that are known to break the rule and not yet removed are listed in [`KNOWN`]; the test also fails when
//! one of them is gone, so that the list only shrinks.

use std::path::{Path, PathBuf};

/// The crate's own modules that no pure layer may reach.
const SERVICE: &[&str] = &[
    "api",
    "auth",
    "cli",
    "config",
    "console",
    "detection",
    "edge",
    "error",
    "jobs",
    "mailer",
    "metrics",
    "sheets",
    "startup",
    "store",
    "telemetry",
    "templates",
    "tls",
];

/// Crates and std modules that do I/O or serve HTTP.
const IO: &[&str] = &[
    "poem::",
    "tokio::",
    "reqwest::",
    "lettre::",
    "openidconnect::",
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
];

struct Layer {
    dir: &'static str,
    /// `crate::` modules the layer may not reach.
    crate_modules: Vec<&'static str>,
    /// Other paths the layer may not name.
    paths: Vec<&'static str>,
    /// Whether `sqlx` and `poem_openapi` may appear only as derive or attribute annotations.
    annotations_only: bool,
}

fn layers() -> Vec<Layer> {
    let mut domain_reach: Vec<&str> = SERVICE.to_vec();
    domain_reach.push("workflow");
    vec![
        Layer {
            dir: "src/domain",
            crate_modules: domain_reach,
            paths: IO.to_vec(),
            annotations_only: true,
        },
        Layer {
            dir: "src/workflow",
            crate_modules: SERVICE.to_vec(),
            paths: IO.to_vec(),
            annotations_only: true,
        },
        Layer {
            dir: "src/api",
            crate_modules: vec!["startup", "cli"],
            paths: vec![],
            annotations_only: false,
        },
        Layer {
            dir: "src/store",
            crate_modules: vec![
                "api",
                "console",
                "startup",
                "cli",
                "jobs",
                "detection",
                "templates",
                "sheets",
            ],
            paths: vec!["poem::", "reqwest::"],
            annotations_only: false,
        },
        Layer {
            dir: "src/sheets",
            crate_modules: vec!["api", "console", "startup", "store", "jobs", "detection"],
            paths: vec!["poem::", "sqlx::", "tokio::", "reqwest::"],
            annotations_only: false,
        },
    ]
}

/// Edges against the direction that are still there: (file, what it reaches).
const KNOWN: &[(&str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's lines up to its test module, without comments: (line number, code, whether the line belongs to an
/// attribute such as a `#[derive(...)]` spread over several lines).
fn code_lines(text: &str) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    let mut open_brackets = 0i32;
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|(_, next)| next.trim_start().starts_with("mod "))
        {
            break;
        }
        let code = match trimmed.find("//") {
            Some(at) => &trimmed[..at],
            None => trimmed,
        };
        let in_attribute = open_brackets > 0 || code.starts_with("#[");
        if in_attribute {
            open_brackets += code.matches('[').count() as i32 - code.matches(']').count() as i32;
        }
        if !code.trim().is_empty() {
            out.push((i + 1, code.to_string(), in_attribute));
        }
    }
    out
}

/// The files of the test modules that `file` declares out of line (`#[cfg(test)]`, maybe other attributes, then
/// `mod tests;`): in `m/mod.rs` (or `lib.rs`, `main.rs`) that is `m/tests.rs` or `m/tests/mod.rs`, in `m.rs` it is
/// `m/tests.rs` or `m/tests/mod.rs`. Their code is test code, held to no layer, like a test module written inline.
fn test_module_files(file: &Path, text: &str) -> Vec<PathBuf> {
    let dir = match file.file_name().and_then(|name| name.to_str()) {
        Some("mod.rs" | "lib.rs" | "main.rs") => file.parent().unwrap().to_path_buf(),
        _ => file.with_extension(""),
    };
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "#[cfg(test)]" {
            continue;
        }
        let Some(declaration) = lines.by_ref().find(|next| !next.starts_with("#[")) else {
            break;
        };
        let declaration = ["pub(crate) ", "pub(super) ", "pub "]
            .iter()
            .fold(declaration, |d, visibility| {
                d.trim_start_matches(visibility)
            });
        if let Some(name) = declaration
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'))
        {
            out.push(dir.join(format!("{name}.rs")));
            out.push(dir.join(name).join("mod.rs"));
        }
    }
    out
}

/// The `crate::` modules named by a line, including those of a grouped `use crate::{a::X, b};` that the
/// statement spreads over several lines (`group` carries the open group between lines).
fn crate_modules(code: &str, group: &mut Option<String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(inner) = after.strip_prefix('{') {
            *group = Some(String::new());
            rest = inner;
            break;
        }
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        found.push(name);
        rest = after;
    }
    if let Some(open) = group {
        open.push_str(rest);
        if open.contains("};") || open.trim_end().ends_with('}') {
            let body = open.split("};").next().unwrap_or_default().to_string();
            let mut depth = 0;
            let mut current = String::new();
            for c in body.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&current));
                        current.clear();
                        continue;
                    }
                    _ => {}
                }
                current.push(c);
            }
            if !current.trim().is_empty() {
                found.push(first_segment(&current));
            }
            *group = None;
        }
    }
    found
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Whether a line uses `sqlx` or `poem_openapi` as more than an annotation (a derive, an attribute, or the
/// import of a derive macro).
fn beyond_annotation(code: &str) -> Option<&'static str> {
    let trimmed = code.trim();
    if trimmed.starts_with("#[") {
        return None;
    }
    for krate in ["sqlx::", "poem_openapi::"] {
        if !trimmed.contains(krate) {
            continue;
        }
        let derive_import = trimmed.starts_with("use poem_openapi::")
            && trimmed
                .trim_start_matches("use poem_openapi::")
                .trim_matches(|c| "{};".contains(c))
                .split(',')
                .all(|name| ["Enum", "Object", "Union", "NewType"].contains(&name.trim()));
        if !derive_import {
            return Some(krate);
        }
    }
    None
}

#[test]
fn each_layer_reaches_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    let mut seen_known = vec![false; KNOWN.len()];
    for layer in layers() {
        let mut files = Vec::new();
        rust_files(&root.join(layer.dir), &mut files);
        files.sort();
        assert!(!files.is_empty(), "{} holds no Rust files", layer.dir);
        let tests: Vec<PathBuf> = files
            .iter()
            .flat_map(|file| test_module_files(file, &std::fs::read_to_string(file).unwrap()))
            .collect();
        for file in files.into_iter().filter(|file| !tests.contains(file)) {
            let name = file.strip_prefix(root).unwrap().display().to_string();
            let text = std::fs::read_to_string(&file).unwrap();
            let mut group = None;
            for (line, code, in_attribute) in code_lines(&text) {
                let mut faults: Vec<String> = crate_modules(&code, &mut group)
                    .into_iter()
                    .filter(|m| layer.crate_modules.contains(&m.as_str()))
                    .map(|m| format!("crate::{m}"))
                    .collect();
                faults.extend(
                    layer
                        .paths
                        .iter()
                        .filter(|p| code.contains(**p))
                        .map(|p| p.trim_end_matches("::").to_string()),
                );
                if layer.annotations_only
                    && !in_attribute
                    && let Some(krate) = beyond_annotation(&code)
                {
                    faults.push(format!("{} beyond a derive", krate.trim_end_matches("::")));
                }
                for fault in faults {
                    match KNOWN
                        .iter()
                        .position(|(f, reach)| *f == name && *reach == fault)
                    {
                        Some(k) => seen_known[k] = true,
                        None => {
                            violations.push(format!("{name}:{line}: {fault} in `{}`", code.trim()))
                        }
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layers' direction (domain <- workflow <- store <- api <- startup; sheets <- api):\n{}",
        violations.join("\n")
    );
    let gone: Vec<String> = KNOWN
        .iter()
        .zip(&seen_known)
        .filter(|(_, seen)| !**seen)
        .map(|((file, reach), _)| format!("{file} -> {reach}"))
        .collect();
    assert!(
        gone.is_empty(),
        "known exceptions that are gone; remove them from KNOWN: {gone:?}"
    );
}

/// The `#[path]` modules of `text` that name a file under `tests/` without `#[cfg(test)]` among their attributes:
/// (line number, the module's declaration).
fn test_files_in_the_library(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut attributes: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with("#[") {
            attributes.push(line);
            continue;
        }
        let from_tests = attributes
            .iter()
            .any(|a| a.starts_with("#[path") && a.contains("tests/"));
        if from_tests && !attributes.contains(&"#[cfg(test)]") {
            out.push((i + 1, line.to_string()));
        }
        if !line.starts_with("//") {
            attributes.clear();
        }
    }
    out
}

/// Test data and helpers live under `tests/` and reach the library's own tests through `#[path]` modules; the
/// library may include such a file only under `#[cfg(test)]`, so that none is compiled into the release build.
#[test]
fn the_library_compiles_no_test_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let found: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let name = file.strip_prefix(root).unwrap().display().to_string();
            test_files_in_the_library(&std::fs::read_to_string(file).unwrap())
                .into_iter()
                .map(move |(line, module)| {
                    format!("{name}:{line}: `{module}` outside #[cfg(test)]")
                })
        })
        .collect();
    assert!(
        found.is_empty(),
        "files under tests/ compiled into the library:\n{}",
        found.join("\n")
    );
    assert_eq!(
        test_files_in_the_library(
            "#[cfg(test)]\n#[path = \"../../tests/support/a.rs\"]\nmod a;\n\
             /// Doc.\n#[path = \"../../tests/support/b.rs\"]\npub mod b;\n#[path = \"c.rs\"]\nmod c;\n"
        ),
        [(6, "pub mod b;".to_string())]
    );
}

#[test]
fn the_checker_sees_plain_grouped_and_inline_imports() {
    let mut group = None;
    assert_eq!(
        crate_modules("use crate::store::Store;", &mut group),
        ["store"]
    );
    assert_eq!(
        crate_modules("use crate::{", &mut group),
        Vec::<String>::new()
    );
    assert_eq!(
        crate_modules("    error::ApiError, domain::{a, b},", &mut group),
        Vec::<String>::new()
    );
    assert_eq!(
        crate_modules("    store };", &mut group),
        ["error", "domain", "store"]
    );
    assert!(group.is_none());
    assert_eq!(
        crate_modules("let e = crate::error::ApiError::from(x);", &mut group),
        ["error"]
    );
    assert_eq!(beyond_annotation("use poem_openapi::{Enum, Object};"), None);
    assert_eq!(beyond_annotation("#[derive(Debug, sqlx::Type)]"), None);
    assert_eq!(
        beyond_annotation("let p = poem_openapi::payload::Json(x);"),
        Some("poem_openapi::")
    );
    assert_eq!(
        beyond_annotation("sqlx::query(\"SELECT 1\")"),
        Some("sqlx::")
    );
    assert_eq!(
        test_module_files(
            Path::new("src/domain/a/mod.rs"),
            "mod b;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\n#[allow(dead_code)]\npub(crate) mod helpers;\n",
        ),
        [
            "src/domain/a/tests.rs",
            "src/domain/a/tests/mod.rs",
            "src/domain/a/helpers.rs",
            "src/domain/a/helpers/mod.rs"
        ]
        .map(PathBuf::from)
    );
    assert_eq!(
        test_module_files(
            Path::new("src/domain/b.rs"),
            "#[cfg(test)]\nmod tests {\n}\n"
        ),
        Vec::<PathBuf>::new()
    );
    assert_eq!(
        test_module_files(Path::new("src/domain/b.rs"), "#[cfg(test)]\nmod tests;\n"),
        [
            PathBuf::from("src/domain/b/tests.rs"),
            PathBuf::from("src/domain/b/tests/mod.rs")
        ]
    );
    let code = code_lines(
        "use a; // crate::store\n#[derive(\n  sqlx::Type,\n)]\nstruct A;\n#[cfg(test)]\nmod tests {\nuse crate::store;\n}\n",
    );
    let code: Vec<(usize, &str, bool)> = code.iter().map(|(n, c, a)| (*n, c.trim(), *a)).collect();
    assert_eq!(
        code,
        [
            (1, "use a;", false),
            (2, "#[derive(", true),
            (3, "sqlx::Type,", true),
            (4, ")]", true),
            (5, "struct A;", false)
        ]
    );
}
