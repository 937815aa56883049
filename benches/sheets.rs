//! Spreadsheet exchange: export and import of our questionnaire workbook with 300 and 10,000 questions, and a
//! CAIQ-shaped import; each import next to calamine's bare parse of the same bytes, to show the cost of our
//! checks over reading the file at all.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::Reader;
use criterion::{Criterion, criterion_group, criterion_main};
use procurement_review::domain::questionnaire::Template;
use procurement_review::sheets::external::{self, ExternalFormat};
use procurement_review::sheets::{fixtures, workbook};
use serde_json::json;

/// A distinct CAIQ-shaped ID (`XAB-07.3`) for question `q`.
fn caiq_id(q: usize) -> String {
    let domain = q / 990;
    let letters = [b'A' + (domain / 26) as u8, b'A' + (domain % 26) as u8];
    format!(
        "X{}-{:02}.{}",
        String::from_utf8_lossy(&letters),
        (q % 990) / 10 + 1,
        q % 10 + 1
    )
}

/// A template of `n` yes/no questions in sections of 25, every one crosswalked to a CAIQ-shaped ID.
fn template(n: usize) -> Template {
    let mut toml = String::from(
        "id = \"bench\"\ntitle = \"Bench\"\ndescription = \"d\"\napplies_to = \"a\"\n",
    );
    for s in 0..n.div_ceil(25) {
        toml.push_str(&format!(
            "\n[[sections]]\nid = \"s{s}\"\ntitle = \"Section {s}\"\n"
        ));
        for q in (s * 25)..((s + 1) * 25).min(n) {
            toml.push_str(&format!(
                "\n[[sections.questions]]\nid = \"Q-{q:05}\"\ntext = \"Is control {q} in place?\"\nkind = \"yes_no\"\n\
                 na_allowed = true\nexpected = \"yes\"\ncitation = \"bench\"\ncrosswalk = {{ caiq_v4 = [\"{}\"] }}\n",
                caiq_id(q)
            ));
        }
    }
    Template::from_toml("bench.toml", &toml).expect("a valid bench template")
}

fn meta(t: &Template) -> workbook::WorkbookMeta {
    workbook::WorkbookMeta {
        assessment_id: "00000000-0000-0000-0000-000000000001".into(),
        template_id: t.id.clone(),
        template_version: t.version().to_string(),
        vendor_name: "Bench Vendor".into(),
        due: None,
    }
}

fn answers(t: &Template) -> BTreeMap<String, workbook::PriorAnswer> {
    t.questions()
        .enumerate()
        .map(|(i, q)| {
            let value = if i % 7 == 0 { "no" } else { "yes" };
            (
                q.id.clone(),
                workbook::PriorAnswer {
                    answer: Some(json!(value)),
                    comment: Some("c".into()),
                    evidence_ref: None,
                },
            )
        })
        .collect()
}

fn bare_parse(bytes: &[u8]) {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).unwrap();
    for name in book.sheet_names() {
        std::hint::black_box(book.worksheet_range(&name).unwrap());
    }
}

fn bench_workbook(c: &mut Criterion) {
    for n in [300usize, 10_000] {
        let t = template(n);
        let m = meta(&t);
        let prior = answers(&t);
        let mut group = c.benchmark_group(format!("workbook/{n} questions"));
        group.sample_size(if n > 1000 { 10 } else { 30 });
        group.bench_function("export", |b| {
            b.iter(|| workbook::export(&m, &t, &prior).unwrap())
        });
        let bytes = workbook::export(&m, &t, &prior).unwrap();
        group.bench_function("import", |b| {
            b.iter(|| workbook::import(&bytes, &m, &t).unwrap())
        });
        group.bench_function("calamine bare parse", |b| b.iter(|| bare_parse(&bytes)));
        group.finish();
    }
}

fn bench_caiq(c: &mut Criterion) {
    let t = template(300);
    let ids: Vec<String> = t
        .questions()
        .flat_map(|q| q.crosswalk.caiq_v4.clone())
        .collect();
    let rows: Vec<(&str, &str, &str)> = ids
        .iter()
        .map(|id| (id.as_str(), "Yes", "Implemented"))
        .collect();
    let bytes = fixtures::caiq_v4(&rows);
    let mut group = c.benchmark_group("caiq-v4/300 rows");
    group.sample_size(30);
    group.bench_function("import and crosswalk", |b| {
        b.iter(|| {
            let read = external::read(&bytes, &ExternalFormat::CaiqV4).unwrap();
            external::map_to_template(&t, &read, "caiq-v4")
        })
    });
    group.bench_function("calamine bare parse", |b| b.iter(|| bare_parse(&bytes)));
    group.finish();
}

criterion_group!(benches, bench_workbook, bench_caiq);
criterion_main!(benches);
