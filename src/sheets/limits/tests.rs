use std::io::Write;

use zip::write::SimpleFileOptions;

use super::*;

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// One pass over the whole of `xml`, as if it came in one piece.
fn whole<C: CellCounter>(xml: &[u8]) -> u64 {
    let mut counter = C::default();
    TagScanner::default().scan(xml, &mut |tag| counter.feed(tag));
    counter.total()
}

fn sheet_cells(xml: &[u8]) -> u64 {
    whole::<SheetCells>(xml)
}

fn ods_cells(xml: &[u8]) -> u64 {
    whole::<OdsCells>(xml)
}

/// The tags found in `xml` read `chunk` bytes at a time, written out as `</name/ attrs`.
fn tags_read_by(xml: &[u8], chunk: usize) -> Vec<String> {
    let mut tags = Vec::new();
    let read = scan_tags(xml, chunk, |tag| {
        tags.push(format!(
            "<{}{}{}{}",
            if tag.end { "/" } else { "" },
            String::from_utf8_lossy(tag.name),
            if tag.self_closing { "/" } else { "" },
            String::from_utf8_lossy(tag.attrs)
        ))
    })
    .unwrap();
    assert_eq!(read, xml.len() as u64);
    tags
}

/// Every way of cutting the XML below into chunks of up to 64 bytes: each '<' and '>', each opener and
/// terminator of a comment or CDATA, lands on a chunk boundary in some of them.
const CHUNK_SIZES: std::ops::RangeInclusive<usize> = 1..=64;

/// A sheet part with what a cut can break: a declaration and a PI, tags longer than a chunk, '>' in quoted
/// attribute values (both quotes), a comment and CDATA holding cells far away, and self-closing blank cells.
const SHEET_XML: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE worksheet><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x="x"><dimension ref="A1"/>
<!-- a cell far away, commented out: <c r="XFD1048576"><v>1</v></c> -- and a lone > -->
<sheetData><row r="2" spans="1:5"><c r="B2" t="inlineStr"><is><t>a &gt; b</t></is></c><c note='x > "y"' r="D2"><v>2</v></c>
<c r="E2" s="1"/><c s="2"/></row><row><c t="str"><v><![CDATA[<c r="ZZ99999"><v>1</v></c> ]]]]></v></c><c/></row>
<x:row r="10"><x:c r="C10" t="s" x:note="<<>>"><x:v>0</x:v></x:c><x:c r="F10"/></x:row></sheetData></worksheet>"#;

/// Values at B2, D2, A3 and C10 (E2, F2, B3 and F10 are blank): rows 2..=10 by columns A..=D.
const SHEET_XML_CELLS: u64 = 9 * 4;

/// An ODS content.xml with the same hazards, two tables and repeats.
const ODS_XML: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>
<!-- <table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float"/></table:table-row> -->
<table:table table:name="A &gt; B" table:style-name='t>1'>
<table:table-row><table:table-cell office:value-type="string"><text:p><![CDATA[</table:table-row><table:table-row table:number-rows-repeated="9">]]></text:p></table:table-cell><table:table-cell table:number-columns-repeated="16383"/></table:table-row>
<table:table-row table:number-rows-repeated="3"><table:table-cell/></table:table-row>
<table:table-row table:style-name="ro>1"><table:table-cell table:number-columns-repeated="2" office:value-type="float" office:value="1"/></table:table-row>
<table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
</table:table>
<table:table table:name="Second"><table:table-row table:number-rows-repeated="2"><table:table-cell table:formula="of:=[.A1]>0" table:number-columns-repeated="3"/></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#;

/// The first table: rows 1..=5 by 2 columns; the second: 2 rows by 3 columns.
const ODS_XML_CELLS: u64 = 5 * 2 + 2 * 3;

#[test]
fn tags_are_found_alike_however_the_xml_is_cut_into_chunks() {
    let whole = tags_read_by(SHEET_XML, SHEET_XML.len());
    assert!(
        whole.contains(&r#"<c note='x > "y"' r="D2""#.to_string()),
        "{whole:#?}"
    );
    assert!(
        whole.contains(&r#"<x:c r="C10" t="s" x:note="<<>>""#.to_string()),
        "{whole:#?}"
    );
    assert!(whole.contains(&r#"<c/"#.to_string()), "{whole:#?}");
    assert!(
        !whole
            .iter()
            .any(|tag| tag.contains("XFD1048576") || tag.contains("ZZ99999")),
        "{whole:#?}"
    );
    assert_eq!(
        whole.first().map(String::as_str),
        Some(
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x="x""#
        )
    );
    assert_eq!(whole.last().map(String::as_str), Some("</worksheet"));
    for chunk in CHUNK_SIZES {
        assert_eq!(
            tags_read_by(SHEET_XML, chunk),
            whole,
            "read {chunk} bytes at a time"
        );
    }
    let whole = tags_read_by(ODS_XML, ODS_XML.len());
    for chunk in CHUNK_SIZES {
        assert_eq!(
            tags_read_by(ODS_XML, chunk),
            whole,
            "read {chunk} bytes at a time"
        );
    }
}

/// Counts the cells of `xml` in one piece and then in every chunk size, expecting `cells` each time.
fn assert_counted_alike<C: CellCounter>(xml: &[u8], cells: u64) {
    assert_eq!(whole::<C>(xml), cells);
    for chunk in CHUNK_SIZES.chain([CHUNK]) {
        let counted = count_cells::<C>(xml, chunk).unwrap();
        assert_eq!(
            (counted.counter.total(), counted.read),
            (cells, xml.len() as u64),
            "read {chunk} bytes at a time"
        );
    }
}

#[test]
fn sheet_cells_are_counted_alike_however_the_part_is_cut_into_chunks() {
    assert_counted_alike::<SheetCells>(SHEET_XML, SHEET_XML_CELLS);
}

#[test]
fn ods_cells_are_counted_alike_however_the_part_is_cut_into_chunks() {
    assert_counted_alike::<OdsCells>(ODS_XML, ODS_XML_CELLS);
}

/// The most bytes the scan of `xml`, read `chunk` bytes at a time, kept from one chunk for the next.
fn longest_kept(xml: &[u8], chunk: usize) -> usize {
    let mut scanner = TagScanner::default();
    let mut longest = 0;
    for_each_chunk(xml, chunk, |buffer| {
        let done = scanner.scan(buffer, &mut |_| {});
        longest = longest.max(buffer.len() - done);
        done
    })
    .unwrap();
    longest
}

#[test]
fn a_long_comment_or_cdata_is_skipped_without_being_kept_but_a_long_tag_is_kept_whole() {
    let filler = "x".repeat(100_000);
    let skipped = format!(
        r#"<row r="1"><!-- {filler} --><c r="A1"><v><![CDATA[{filler}]]></v></c><?pi {filler}?></row>"#
    );
    // At most a cut opener (`<![CDATA`) or the bytes that may begin a terminator are carried over.
    assert!(longest_kept(skipped.as_bytes(), 64) < 9);
    let cells = count_cells::<SheetCells>(skipped.as_bytes(), 64).unwrap();
    assert_eq!(cells.counter.total(), 1);

    let long_tag = format!(r#"<row r="1"><c note="{filler}" r="B1"><v>1</v></c></row>"#);
    // Kept from its `<` until the chunk holding its `>`.
    assert!(longest_kept(long_tag.as_bytes(), 64) > filler.len() - 64);
    let cells = count_cells::<SheetCells>(long_tag.as_bytes(), 64).unwrap();
    assert_eq!(cells.counter.total(), 1);
}

fn refusal(bytes: &[u8], limits: &Limits) -> Refusal {
    check(bytes, limits).expect_err("the upload should be refused")
}

fn small_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "ID").unwrap();
    sheet.write_string(1, 0, "Q1").unwrap();
    book.save_to_buffer().unwrap()
}

#[test]
fn an_xlsx_and_the_fixtures_pass_with_the_default_limits() {
    let limits = Limits::default();
    assert_eq!(check(&small_workbook(), &limits), Ok(WorkbookKind::Xlsx));
    let caiq = super::super::fixtures::caiq_v4(&[("IAM-14.1", "Yes", "")]);
    assert_eq!(check(&caiq, &limits), Ok(WorkbookKind::Xlsx));
}

#[test]
fn the_real_cis_worksheet_passes() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/cloud.gov-CIS-Worksheet.xlsx"
    );
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!("{path} is missing ({e}): shared/fixtures must sit beside the checkout")
    });
    assert_eq!(check(&bytes, &Limits::default()), Ok(WorkbookKind::Xlsx));
}

#[test]
fn a_macro_enabled_workbook_is_xlsm() {
    let mut bytes_entries = Vec::new();
    let types = br#"<Types><Override ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>"#;
    bytes_entries.push(("[Content_Types].xml", types.as_slice()));
    bytes_entries.push(("xl/workbook.xml", b"<workbook/>".as_slice()));
    assert_eq!(
        check(&zip_of(&bytes_entries), &Limits::default()),
        Ok(WorkbookKind::Xlsm)
    );
}

#[test]
fn the_macro_content_type_is_found_across_a_chunk_boundary() {
    let override_tag =
        br#"<Override ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>"#;
    let word_at = find(override_tag, b"macroEnabled").unwrap();
    // Spaces put the middle of "macroEnabled" on the first chunk's last byte.
    let mut types = b"<Types>".to_vec();
    types.resize(CHUNK - word_at - 6, b' ');
    types.extend_from_slice(override_tag);
    types.extend_from_slice(b"</Types>");
    assert_eq!(&types[CHUNK - 6..CHUNK + 6], b"macroEnabled");
    let bytes = zip_of(&[
        ("[Content_Types].xml", &types),
        ("xl/workbook.xml", b"<workbook/>"),
    ]);
    assert_eq!(check(&bytes, &Limits::default()), Ok(WorkbookKind::Xlsm));
}

#[test]
fn a_zip_bomb_is_refused_from_its_directory() {
    let zeros = vec![0u8; 50 * 1024 * 1024];
    let bytes = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", &zeros),
    ]);
    assert!(bytes.len() < 1024 * 1024, "compressed to {}", bytes.len());
    let limits = Limits {
        max_uncompressed_bytes: 10 * 1024 * 1024,
        ..Limits::default()
    };
    let refused = refusal(&bytes, &limits);
    assert_eq!(refused.code, "too_large_uncompressed");
    assert!(refused.message.contains("10485760"), "{}", refused.message);
}

#[test]
fn an_entry_that_inflates_past_its_declared_size_is_refused() {
    let payload = vec![b'x'; 4096];
    let mut bytes = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", &payload),
    ]);
    // Rewrite the central directory's uncompressed size of the last entry (4096) to 16, as a forger would.
    let central = bytes
        .windows(4)
        .rposition(|w| w == b"PK\x01\x02")
        .expect("a central directory header");
    let size_at = central + 24;
    assert_eq!(&bytes[size_at..size_at + 4], &4096u32.to_le_bytes());
    bytes[size_at..size_at + 4].copy_from_slice(&16u32.to_le_bytes());
    let refused = refusal(&bytes, &Limits::default());
    assert_eq!(refused.code, "unsupported_file", "{}", refused.message);
    assert!(refused.message.contains("forged"), "{}", refused.message);
}

#[test]
fn too_many_entries_are_refused() {
    let names: Vec<String> = (0..20).map(|i| format!("xl/media/{i}.bin")).collect();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
    ];
    entries.extend(names.iter().map(|name| (name.as_str(), b"x".as_slice())));
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    assert_eq!(refusal(&zip_of(&entries), &limits).code, "too_many_entries");
}

#[test]
fn two_cells_far_apart_are_refused_as_too_many_cells() {
    let sheet = br#"<worksheet><dimension ref="A1"/><sheetData>
            <row r="1"><c r="A1"><v>1</v></c></row>
            <row r="1048576"><c r="XFD1048576"><v>2</v></c></row>
        </sheetData></worksheet>"#;
    let bytes = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", sheet),
    ]);
    let refused = refusal(&bytes, &Limits::default());
    assert_eq!(refused.code, "too_many_cells", "{}", refused.message);
}

#[test]
fn a_dimension_claim_and_formatted_empty_rows_count_for_nothing() {
    // As the official blank HECVAT 4.1.4: the sheet claims A1:L1048576 and keeps one formatted, empty row at
    // the bottom of the grid; it holds a handful of values.
    let sheet = br#"<worksheet><dimension ref="A1:L1048576"/><sheetData>
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="L1" s="2"><v>1</v></c></row>
            <row r="40"><c r="C40" t="inlineStr"><is><t>x</t></is></c></row>
            <row r="1048576" s="3" customFormat="1"><c r="A1048576" s="3"/><c r="L1048576" s="4"></c></row>
        </sheetData></worksheet>"#;
    assert_eq!(sheet_cells(sheet), 40 * 12);
    let bytes = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", sheet),
    ]);
    let limits = Limits {
        max_cells: 1_000,
        ..Limits::default()
    };
    assert_eq!(check(&bytes, &limits), Ok(WorkbookKind::Xlsx));
}

#[test]
fn a_refusal_for_cells_names_the_sheet_and_the_range() {
    let sheet = br#"<worksheet><sheetData>
            <row r="1"><c r="A1"><v>1</v></c></row>
            <row r="1048576"><c r="L1048576"><v>2</v></c></row>
        </sheetData></worksheet>"#;
    let bytes = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        (
            "xl/workbook.xml",
            br#"<workbook><sheets><sheet name="Start &amp; Notes" sheetId="1" r:id="rId7"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<Relationships><Relationship Id="rId7" Type="x" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ]);
    let refused = refusal(&bytes, &Limits::default());
    assert_eq!(refused.code, "too_many_cells");
    assert!(
        refused
            .message
            .starts_with("the sheet \"Start & Notes\" spans A1:L1048576: 12582912 cells"),
        "{}",
        refused.message
    );
}

#[test]
fn entity_declarations_are_refused_as_what_they_are() {
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sst><si><t>&e;</t></si></sst>"#;
    let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><worksheet/>"#;
    for (part, xml) in [
        ("xl/sharedStrings.xml", &xxe[..]),
        ("xl/worksheets/sheet1.xml", &laughs[..]),
        ("xl/_rels/workbook.xml.rels", &xxe[..]),
    ] {
        let bytes = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<workbook/>"),
            (part, xml),
        ]);
        let refused = refusal(&bytes, &Limits::default());
        assert_eq!(refused.code, "xml_entities", "{part}");
        assert!(
            refused.message.contains("external entity (XXE)"),
            "{}",
            refused.message
        );
        assert!(refused.message.contains(part), "{}", refused.message);
    }
    // Cut anywhere, the declaration is still seen.
    for chunk in 1..12 {
        let mut scanner = TagScanner::default();
        for_each_chunk(&laughs[..], chunk, |buffer| {
            scanner.scan(buffer, &mut |_| {})
        })
        .unwrap();
        assert!(scanner.declares_entities, "chunk {chunk}");
    }
}

#[test]
fn cells_are_counted_from_references_rows_and_positions() {
    let xml =
        br#"<sheetData><row r="2"><c r="B2"><v>1</v></c><c><v>2</v></c><c r="Z2" s="1"/></row>
            <row><c><v>3</v></c></row><x:row r="10"><x:c r="D10" t="s"><x:v>0</x:v></x:c></x:row>
            <!-- <c r="ZZ99999"><v>1</v></c> --></sheetData>"#;
    // Values at B2, C2, A3 and D10: rows 2..=10 by columns A..=D.
    assert_eq!(sheet_cells(xml), 9 * 4);
}

#[test]
fn ods_cells_ignore_trailing_repeats_but_count_repeated_values() {
    let xml = br#"<office:spreadsheet><table:table table:name="S">
            <table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell>
              <table:table-cell table:number-columns-repeated="16383"/></table:table-row>
            <table:table-row table:number-rows-repeated="3"><table:table-cell/></table:table-row>
            <table:table-row><table:table-cell table:number-columns-repeated="2" office:value-type="float" office:value="1"/></table:table-row>
            <table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
            </table:table></office:spreadsheet>"#;
    // Rows 1..=5 by 2 columns.
    assert_eq!(ods_cells(xml), 5 * 2);
    let bomb = br#"<table:table><table:table-row table:number-rows-repeated="1000000">
            <table:table-cell table:number-columns-repeated="1000" office:value-type="float" office:value="1"/>
            </table:table-row></table:table>"#;
    assert_eq!(ods_cells(bomb), 1_000_000 * 1000);
}

#[test]
fn an_ods_is_recognised_by_its_mimetype() {
    let bytes = zip_of(&[
        ("mimetype", ODS_MIMETYPE),
        ("content.xml", b"<office:document-content/>"),
    ]);
    assert_eq!(check(&bytes, &Limits::default()), Ok(WorkbookKind::Ods));
    let text = zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<office:document-content/>"),
    ]);
    assert_eq!(refusal(&text, &Limits::default()).code, "unsupported_file");
}

/// An OLE2 header followed by a directory naming the given streams in UTF-16LE, as Office writes them.
fn ole2_with_streams(names: &[&str]) -> Vec<u8> {
    let mut bytes = OLE2_MAGIC.to_vec();
    bytes.resize(512, 0);
    for name in names {
        let mut entry: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        entry.resize(128, 0);
        bytes.extend(entry);
    }
    bytes
}

#[test]
fn an_encrypted_workbook_is_refused_as_such() {
    let bytes = ole2_with_streams(&["EncryptionInfo", "EncryptedPackage", "\u{6}DataSpaces"]);
    let refused = refusal(&bytes, &Limits::default());
    assert_eq!(refused.code, "encrypted_workbook");
    assert!(refused.message.contains("password"), "{}", refused.message);
}

#[test]
fn a_legacy_xls_passes_and_a_word_file_does_not() {
    let xls = ole2_with_streams(&["Workbook", "\u{5}SummaryInformation"]);
    assert_eq!(check(&xls, &Limits::default()), Ok(WorkbookKind::Xls));
    let doc = ole2_with_streams(&["WordDocument", "1Table"]);
    assert_eq!(refusal(&doc, &Limits::default()).code, "unsupported_file");
}

#[test]
fn other_files_are_refused_by_content_whatever_their_name() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let refused = refusal(png, &Limits::default());
    assert_eq!(refused.code, "unsupported_file");
    assert!(refused.message.contains("an image"), "{}", refused.message);

    let text = refusal(b"ID,Answer\nIAM-01,Yes\n", &Limits::default());
    assert_eq!(text.code, "unsupported_file");
    assert!(text.message.contains("plain text"), "{}", text.message);

    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ]);
    let refused = refusal(&docx, &Limits::default());
    assert_eq!(refused.code, "unsupported_file");
    assert!(
        refused.message.contains("Word document"),
        "{}",
        refused.message
    );

    assert_eq!(refusal(b"", &Limits::default()).code, "unsupported_file");
    assert_eq!(
        refusal(b"PK\x03\x04garbage", &Limits::default()).code,
        "unsupported_file"
    );
}

#[test]
fn a_file_over_the_byte_cap_is_refused_before_anything_else() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(refusal(&small_workbook(), &limits).code, "file_too_large");
}
