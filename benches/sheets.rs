//! Spreadsheet exchange: export and import of our questionnaire workbook with 300 and 10,000 questions, and a
//! CAIQ-shaped import; each import next to calamine's bare parse of the same bytes, to show the cost of our
//! checks over reading the file at all.
//!
//! Criterion measures time only, so before its groups the bench prints the peak heap of one call of each import,
//! of the upload check before it, and of calamine's bare parse, through a counting allocator (below), including a
//! file as large as the upload limits allow.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use calamine::Reader;
use criterion::{Criterion, criterion_group, criterion_main};
use procurement_review::domain::crosswalk::{Crosswalk, Links};
use procurement_review::domain::questionnaires::Template;
use procurement_review::sheets::external::{self, Asked, Family, Mapping, Through};
use procurement_review::sheets::{limits, workbook};
use serde_json::json;

/// The synthetic workbooks of the tests (a test file, not part of the library).
#[allow(dead_code)] // the tests use the rest
#[path = "../tests/support/sheet_fixtures.rs"]
mod fixtures;

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

/// A template of `n` yes/no questions in sections of 25; [`crosswalk`] links every one to a CAIQ-shaped ID.
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
                 na_allowed = true\nexpected = \"yes\"\ncitation = \"bench\"\n"
            ));
        }
    }
    Template::from_toml("bench.toml", &toml).expect("a valid bench template")
}

/// A CAIQ v4 crosswalk for the bench template: question `Q-00007` has the same meaning as [`caiq_id`]`(7)`.
fn crosswalk(t: &Template) -> Crosswalk {
    let questions = t
        .questions()
        .enumerate()
        .map(|(q, question)| {
            (
                question.id.clone(),
                Links {
                    same: vec![caiq_id(q)],
                    related: Vec::new(),
                },
            )
        })
        .collect();
    Crosswalk {
        version: "caiq-v4".into(),
        templates: [(t.id.clone(), questions)].into_iter().collect(),
    }
}

const CAIQ_V4: Asked = Asked {
    family: Family::Caiq,
    version: Some("caiq-v4"),
};

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

/// The system allocator, counting the bytes live and their peak while [`peak_heap`] measures. Counting is off
/// otherwise, so that criterion's timings pay one relaxed load per allocation and nothing more.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since counting started: frees of older blocks can make it negative.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        let live = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: every call goes straight to `System` with the caller's arguments; the counters only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most heap `work` held at once beyond what was live when it started, its result included (it is dropped
/// after the measurement). The bench is single-threaded while this runs, so only `work` allocates.
fn peak_heap<T>(work: impl FnOnce() -> T) -> usize {
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let result = std::hint::black_box(work());
    COUNTING.store(false, Ordering::SeqCst);
    drop(result);
    PEAK.load(Ordering::SeqCst).max(0) as usize
}

/// Bytes as `12,345,678`.
fn bytes(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A sheet as large as the default upload limits allow: one "Controls" sheet of 2,000,000 cells (the cell cap),
/// 199,999 rows of an ID, a Yes or No, a comment and seven numbers under a header row, for a hand-mapped import.
fn largest_allowed() -> (Vec<u8>, Mapping) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Controls").unwrap();
    let header = [
        "ID", "Answer", "Comment", "N1", "N2", "N3", "N4", "N5", "N6", "N7",
    ];
    for (col, title) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *title).unwrap();
    }
    for row in 1..200_000u32 {
        sheet.write_string(row, 0, format!("CTL-{row:06}")).unwrap();
        sheet
            .write_string(row, 1, if row % 5 == 0 { "No" } else { "Yes" })
            .unwrap();
        sheet
            .write_string(
                row,
                2,
                format!("Evidence in section {} of the policy.", row % 97),
            )
            .unwrap();
        for col in 3..10u16 {
            sheet
                .write_number(row, col, f64::from(row % 1000) + f64::from(col) / 10.0)
                .unwrap();
        }
    }
    let mapping = Mapping {
        sheet: "Controls".into(),
        header_row: 1,
        id_column: "A".into(),
        answer_column: Some("B".into()),
        comment_column: Some("C".into()),
        answer_words: [("Yes", "yes"), ("No", "no")]
            .into_iter()
            .map(|(w, m)| (w.to_string(), m.to_string()))
            .collect(),
        ..Mapping::default()
    };
    (book.save_to_buffer().unwrap(), mapping)
}

/// The other corner of the limits: 2,000,000 cells again, but each a string written in the cell itself, as long
/// as 100 MB unpacked allows (about 25 characters), so that the reader allocates one string per cell. Written by
/// hand, since rust_xlsxwriter shares repeated strings.
fn largest_unpacked() -> Vec<u8> {
    use std::io::Write;

    let options = zip::write::SimpleFileOptions::default();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let parts: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Controls" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, text) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for row in 1..=200_000u32 {
        xml.push_str(&format!(
            r#"<row r="{row}"><c t="str"><v>CTL-{row:06}</v></c>"#
        ));
        let answer = if row % 5 == 0 { "No" } else { "Yes" };
        xml.push_str(&format!(r#"<c t="str"><v>{answer}</v></c>"#));
        for col in 2..10 {
            xml.push_str(&format!(
                r#"<c t="str"><v>note {col} on row {row:06} abcdef</v></c>"#
            ));
        }
        xml.push_str("</row>");
        if xml.len() > 1 << 20 {
            zip.write_all(xml.as_bytes()).unwrap();
            xml.clear();
        }
    }
    xml.push_str("</sheetData></worksheet>");
    zip.write_all(xml.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// Prints the peak heap of one import of each case, of the upload check that precedes it, and of calamine's bare
/// parse of the same bytes. Only under `cargo bench` (criterion's `--bench`), not when the bench is run as a test.
fn memory(_: &mut Criterion) {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let limits = limits::Limits::default();
    println!(
        "\nPeak heap of one call, in bytes beyond what was live before it (the uploaded file itself excluded)"
    );
    println!(
        "{:<42} {:>11} {:>13} {:>13} {:>13} {:>7}",
        "file", "file size", "upload check", "import", "bare parse", "ratio"
    );
    let row = |name: &str, file: &[u8], import: &dyn Fn()| {
        let check = peak_heap(|| limits::check(file, &limits).expect("within the limits"));
        let import = peak_heap(import);
        let bare = peak_heap(|| bare_parse_kept(file));
        println!(
            "{name:<42} {:>11} {:>13} {:>13} {:>13} {:>6.3}x",
            bytes(file.len()),
            bytes(check),
            bytes(import),
            bytes(bare),
            import as f64 / bare as f64
        );
    };
    for n in [300usize, 10_000] {
        let t = template(n);
        let m = meta(&t);
        let bytes = workbook::export(&m, &t, &answers(&t)).unwrap();
        row(&format!("our workbook, {n} questions"), &bytes, &|| {
            std::hint::black_box(workbook::import(&bytes, &m, &t).unwrap());
        });
    }
    let t = template(300);
    let cw = crosswalk(&t);
    let through = Through::Crosswalk {
        version: "caiq-v4",
        crosswalk: &cw,
    };
    let bytes = caiq_file(&t);
    row("a CAIQ v4-shaped file, 300 rows", &bytes, &|| {
        let read = external::read(&bytes, &CAIQ_V4).unwrap();
        std::hint::black_box(external::map_to_template(&t, &read.answers, through));
    });
    let (bytes, mapping) = largest_allowed();
    assert!(
        bytes.len() <= 10_000_000,
        "{} bytes: over the default upload cap",
        bytes.len()
    );
    row("at the cell cap: 2,000,000 cells, mapped", &bytes, &|| {
        let read = external::read_mapped(&bytes, &mapping).unwrap();
        std::hint::black_box(external::map_to_template(
            &t,
            &read.answers,
            Through::OwnIds,
        ));
    });
    let bytes = largest_unpacked();
    row("at both caps: 2,000,000 strings, ~100 MB", &bytes, &|| {
        let read = external::read_mapped(&bytes, &mapping).unwrap();
        std::hint::black_box(external::map_to_template(
            &t,
            &read.answers,
            Through::OwnIds,
        ));
    });
    println!();
}

fn bare_parse(bytes: &[u8]) {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).unwrap();
    for name in book.sheet_names() {
        std::hint::black_box(book.worksheet_range(&name).unwrap());
    }
}

/// The bare parse holding every sheet at once, as an import does: the fair comparison for memory.
fn bare_parse_kept(bytes: &[u8]) -> Vec<calamine::Range<calamine::Data>> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).unwrap();
    book.sheet_names()
        .iter()
        .map(|name| book.worksheet_range(name).unwrap())
        .collect()
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

/// A CAIQ v4-shaped file answering every question of `t` through its [`crosswalk`].
fn caiq_file(t: &Template) -> Vec<u8> {
    let ids: Vec<String> = (0..t.questions().count()).map(caiq_id).collect();
    let rows: Vec<(&str, &str, &str)> = ids
        .iter()
        .map(|id| (id.as_str(), "Yes", "Implemented"))
        .collect();
    fixtures::caiq_v4(&rows)
}

fn bench_caiq(c: &mut Criterion) {
    let t = template(300);
    let cw = crosswalk(&t);
    let through = Through::Crosswalk {
        version: "caiq-v4",
        crosswalk: &cw,
    };
    let bytes = caiq_file(&t);
    let mut group = c.benchmark_group("caiq-v4/300 rows");
    group.sample_size(30);
    group.bench_function("import and crosswalk", |b| {
        b.iter(|| {
            let read = external::read(&bytes, &CAIQ_V4).unwrap();
            external::map_to_template(&t, &read.answers, through)
        })
    });
    group.bench_function("calamine bare parse", |b| b.iter(|| bare_parse(&bytes)));
    group.finish();
}

criterion_group!(benches, memory, bench_workbook, bench_caiq);
criterion_main!(benches);
