//! Upload safety: what a spreadsheet upload must pass before any parser sees it.
//!
//! A workbook is a zip of XML (or an OLE2 container for legacy xls), so a few kilobytes can ask a reader for
//! gigabytes: an entry that inflates a thousandfold, or two cells at A1 and XFD1048576 that make calamine allocate
//! the whole grid between them. [`check`] judges the bytes themselves (never the file name or the declared
//! content type), refuses what this service does not read, and bounds what reading will cost. The bounds are
//! checked against what the reader will actually do: the sizes come from the zip's central directory (the zip
//! reader, ours and calamine's, refuses to inflate an entry past its declared size), and a sheet's cells are counted from the cells' own references as
//! well as from its `<dimension>` tag, which is only the writer's claim and may be missing or wrong.
//!
//! Legacy xls is accepted on its container alone: its cells sit in a BIFF stream inside OLE2 that this check does
//! not parse, so its cost is bounded only by the byte cap and xls's own grid (65,536 rows by 256 columns).

use crate::domain::problems::ProblemCode;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

/// Caps for one upload. The defaults suit vendor questionnaires: the largest real ones (CAIQ, HECVAT 4) are a
/// few hundred kilobytes holding a few thousand cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, as uploaded.
    pub max_bytes: usize,
    /// Largest total of a zip's entries once inflated.
    pub max_uncompressed_bytes: u64,
    /// Most cells the reader may have to hold, summed over every sheet.
    pub max_cells: u64,
    /// Most entries in a zip container.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 10 * 1024 * 1024,
            max_uncompressed_bytes: 100 * 1024 * 1024,
            max_cells: 2_000_000,
            max_entries: 5_000,
        }
    }
}

/// What a file that passed [`check`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkbookKind {
    /// Office Open XML workbook.
    Xlsx,
    /// Office Open XML workbook with macros. Accepted because vendors' questionnaires (SIG among them) come that
    /// way; this service only reads cell values and never runs a macro.
    Xlsm,
    /// Legacy Excel 97-2003 workbook (BIFF8 in an OLE2 container).
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
}

/// Why an upload was refused, before reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable and machine-readable: `file_too_large`, `unsupported_file`, `encrypted_workbook`,
    /// `too_many_entries`, `too_large_uncompressed`, `too_many_cells` or `xml_entities`.
    pub code: ProblemCode,
    /// What was found and what to send instead, in words an uploader can act on.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    fn new(code: ProblemCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

const OLE2_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";
const SEND_INSTEAD: &str = "send the questionnaire as an xlsx, xlsm, xls or ods workbook";

/// Checks an upload before it is parsed: its kind by content, encryption, and the cost of reading it.
#[tracing::instrument(level = "debug", skip_all, fields(bytes = bytes.len()))]
pub fn check(bytes: &[u8], limits: &Limits) -> Result<WorkbookKind, Refusal> {
    if bytes.len() > limits.max_bytes {
        return Err(Refusal::new(
            ProblemCode::FileTooLarge,
            format!(
                "the file is {} bytes; the most this service accepts is {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        ));
    }
    if bytes.starts_with(&OLE2_MAGIC) {
        check_ole2(bytes)
    } else if bytes.starts_with(ZIP_MAGIC) {
        check_zip(bytes, limits)
    } else {
        Err(Refusal::new(
            ProblemCode::UnsupportedFile,
            format!(
                "the file is {}, not a workbook; {SEND_INSTEAD}",
                describe(bytes)
            ),
        ))
    }
}

/// A few common kinds by their first bytes, so that the refusal says what was sent.
fn describe(bytes: &[u8]) -> &'static str {
    if bytes.is_empty() {
        "empty"
    } else if bytes.starts_with(b"%PDF") {
        "a PDF document"
    } else if bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(b"\xFF\xD8\xFF")
        || bytes.starts_with(b"GIF8")
    {
        "an image"
    } else if std::str::from_utf8(bytes).is_ok() {
        "plain text (for CSV, save it as a workbook first)"
    } else {
        "of a kind this service does not read"
    }
}

/// Whether `haystack` holds `name` as UTF-16LE, the way an OLE2 directory stores stream names.
fn contains_utf16(haystack: &[u8], name: &str) -> bool {
    let needle: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_slice())
}

/// OLE2 holds legacy xls, but also an encrypted (password to open) xlsx: Office wraps the encrypted package in an
/// OLE2 file with `EncryptionInfo` and `EncryptedPackage` streams. Looking for the stream names in the directory
/// sectors is enough; a false positive would only refuse a file that is not a plain workbook anyway.
fn check_ole2(bytes: &[u8]) -> Result<WorkbookKind, Refusal> {
    if contains_utf16(bytes, "EncryptedPackage") || contains_utf16(bytes, "EncryptionInfo") {
        return Err(Refusal::new(
            ProblemCode::EncryptedWorkbook,
            "the workbook is protected by a password to open it, so it cannot be read; remove the password \
             (File > Info > Protect Workbook > Encrypt with Password, then clear it) and upload it again",
        ));
    }
    if contains_utf16(bytes, "Workbook") || contains_utf16(bytes, "Book") {
        return Ok(WorkbookKind::Xls);
    }
    Err(Refusal::new(
        ProblemCode::UnsupportedFile,
        format!(
            "the file is an Office document but not a workbook (a Word or Outlook file?); {SEND_INSTEAD}"
        ),
    ))
}

fn check_zip(bytes: &[u8], limits: &Limits) -> Result<WorkbookKind, Refusal> {
    let damaged = |e: zip::result::ZipError| {
        Refusal::new(
            ProblemCode::UnsupportedFile,
            format!("the file looks like a zip archive but cannot be opened ({e}); {SEND_INSTEAD}"),
        )
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if archive.len() > limits.max_entries {
        return Err(Refusal::new(
            ProblemCode::TooManyEntries,
            format!(
                "the workbook holds {} parts; the most this service reads is {}",
                archive.len(),
                limits.max_entries
            ),
        ));
    }

    // The central directory's sizes first: cheap, and refuses the plain zip bomb without inflating anything.
    let mut names = Vec::with_capacity(archive.len());
    let mut declared_total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(damaged)?;
        declared_total = declared_total.saturating_add(entry.size());
        names.push((entry.name().map_err(damaged)?.into_owned(), entry.size()));
    }
    if declared_total > limits.max_uncompressed_bytes {
        return Err(too_large_uncompressed(declared_total, limits));
    }

    let has = |wanted: &str| names.iter().any(|(name, _)| name == wanted);
    let kind = if has("[Content_Types].xml") && has("xl/workbook.xml") {
        let macro_types = entry_contains(
            &mut archive,
            "[Content_Types].xml",
            limits.max_uncompressed_bytes,
            b"macroEnabled",
        )?;
        if has("xl/vbaProject.bin") || macro_types {
            WorkbookKind::Xlsm
        } else {
            WorkbookKind::Xlsx
        }
    } else if has("mimetype")
        && has("content.xml")
        && read_entry(&mut archive, "mimetype", 1024)?.trim_ascii() == ODS_MIMETYPE
    {
        WorkbookKind::Ods
    } else {
        let what = if has("word/document.xml") {
            "a Word document"
        } else if has("ppt/presentation.xml") {
            "a PowerPoint presentation"
        } else if has("xl/workbook.bin") {
            "a binary Excel workbook (xlsb), which this service does not read"
        } else {
            "a zip archive but not a workbook"
        };
        return Err(Refusal::new(
            ProblemCode::UnsupportedFile,
            format!("the file is {what}; {SEND_INSTEAD}"),
        ));
    };

    // The zip reader refuses to inflate an entry past its declared size (calamine reads through the same crate), so
    // the declared total above is a real bound. What remains is the cells, and declarations no workbook needs: every
    // XML part is inflated once, capped at its declared size, and scanned as it is inflated, a chunk at a time.
    let sheet_names = match kind {
        WorkbookKind::Ods => BTreeMap::new(),
        _ => xlsx_sheet_names(&mut archive, limits)?,
    };
    let mut cells: u64 = 0;
    let mut largest: Option<(u64, String)> = None;
    for (name, declared) in names.iter().filter(|(name, _)| is_xml_part(kind, name)) {
        let forged = |e: std::io::Error| {
            Refusal::new(
                ProblemCode::UnsupportedFile,
                format!(
                    "the part {name} of the workbook cannot be unpacked ({e}); the file is damaged or forged"
                ),
            )
        };
        let entry = archive
            .by_name(name)
            .map_err(damaged)?
            .take(declared.saturating_add(1));
        let (estimate, read, declares_entities, place) = match kind {
            WorkbookKind::Ods => {
                let part = count_cells::<OdsCells>(entry, CHUNK).map_err(forged)?;
                (
                    part.counter.total(),
                    part.read,
                    part.declares_entities,
                    part.counter.describe(),
                )
            }
            _ => {
                let part = count_cells::<SheetCells>(entry, CHUNK).map_err(forged)?;
                let place = part
                    .counter
                    .describe()
                    .map(|range| match sheet_names.get(name) {
                        Some(sheet) => format!("the sheet \"{sheet}\" spans {range}"),
                        None => format!("the part {name} spans {range}"),
                    });
                (
                    part.counter.total(),
                    part.read,
                    part.declares_entities,
                    place,
                )
            }
        };
        if declares_entities {
            return Err(Refusal::new(
                ProblemCode::XmlEntities,
                format!(
                    "the part {name} of the workbook declares a DOCTYPE or XML entities, the means of external \
                     entity (XXE) and entity expansion attacks; spreadsheet programs never write them, so the file \
                     was crafted or damaged. Save it again from a spreadsheet program and upload that copy"
                ),
            ));
        }
        if read > *declared {
            return Err(forged(std::io::Error::other(
                "larger than its declared size",
            )));
        }
        if !is_cell_part(kind, name) {
            continue;
        }
        if let Some(place) = place
            && largest.as_ref().is_none_or(|(area, _)| estimate > *area)
        {
            largest = Some((estimate, place));
        }
        cells = cells.saturating_add(estimate);
        if cells > limits.max_cells {
            let (area, place) = largest.unwrap_or((estimate, format!("the part {name}")));
            return Err(Refusal::new(
                ProblemCode::TooManyCells,
                format!(
                    "{place}: {area} cells between its first and last filled cell, which a reader holds whole \
                     ({cells} so far in the workbook); the most this service reads is {} cells in all; delete the \
                     unused rows and columns, or a stray cell far from the others, and upload it again",
                    limits.max_cells
                ),
            ));
        }
    }
    Ok(kind)
}

/// Sheet names by part (`xl/worksheets/sheet1.xml` -> `Questions`), from the workbook and its relationships, so
/// that a refusal names the sheet as the uploader sees it. Parts it cannot place are named by path.
fn xlsx_sheet_names(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    limits: &Limits,
) -> Result<BTreeMap<String, String>, Refusal> {
    let tags = |archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
                part: &str,
                local: &[u8],
                attrs: &[&[u8]]| {
        let mut found: Vec<Vec<String>> = Vec::new();
        let read = with_entry(archive, part, |entry| {
            scan_tags(entry.take(limits.max_uncompressed_bytes), CHUNK, |tag| {
                if !tag.end && tag.local() == local {
                    found.push(
                        attrs
                            .iter()
                            .map(|a| {
                                tag.attr(a)
                                    .map(|v| xml_unescape(&String::from_utf8_lossy(v)))
                                    .unwrap_or_default()
                            })
                            .collect(),
                    );
                }
            })
        });
        read.map(|_| found)
    };
    let Ok(sheets) = tags(archive, "xl/workbook.xml", b"sheet", &[b"name", b"r:id"]) else {
        return Ok(BTreeMap::new());
    };
    let targets = tags(
        archive,
        "xl/_rels/workbook.xml.rels",
        b"Relationship",
        &[b"Id", b"Target"],
    )
    .unwrap_or_default();
    Ok(sheets
        .into_iter()
        .filter_map(|sheet| {
            let [name, id] = sheet.as_slice() else {
                return None;
            };
            let target = targets.iter().find(|t| t.first() == Some(id))?.get(1)?;
            let part = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_owned(),
                None => format!("xl/{target}"),
            };
            Some((part, name.clone()))
        })
        .collect())
}

/// The five predefined XML entities, as attribute values hold them.
fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn too_large_uncompressed(total: u64, limits: &Limits) -> Refusal {
    Refusal::new(
        ProblemCode::TooLargeUncompressed,
        format!(
            "the workbook unpacks to {total} bytes; the most this service reads is {} bytes",
            limits.max_uncompressed_bytes
        ),
    )
}

fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    cap: u64,
) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    with_entry(archive, name, |entry| entry.take(cap).read_to_end(&mut out))?;
    Ok(out)
}

/// Whether the first `cap` bytes of part `name` hold `needle`, read a chunk at a time.
fn entry_contains(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    cap: u64,
    needle: &[u8],
) -> Result<bool, Refusal> {
    let mut found = false;
    with_entry(archive, name, |entry| {
        for_each_chunk(entry.take(cap), CHUNK, |buffer| {
            found |= find(buffer, needle).is_some();
            // A needle cut at the end of this chunk is found in the next.
            buffer.len().saturating_sub(needle.len() - 1)
        })
    })?;
    Ok(found)
}

/// Runs `read` on part `name`, refusing the file when the part cannot be read.
fn with_entry<T>(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    read: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
) -> Result<T, Refusal> {
    let unreadable = |e: String| {
        Refusal::new(
            ProblemCode::UnsupportedFile,
            format!("the part {name} of the workbook cannot be read ({e}); {SEND_INSTEAD}"),
        )
    };
    let mut entry = archive
        .by_name(name)
        .map_err(|e| unreadable(e.to_string()))?;
    read(&mut entry).map_err(|e| unreadable(e.to_string()))
}

/// Parts whose cells a reader loads. For xlsx that is any XML part: the relationships, not the path, say which
/// part is a sheet, and a crafted file could put one anywhere.
fn is_cell_part(kind: WorkbookKind, name: &str) -> bool {
    match kind {
        WorkbookKind::Ods => name == "content.xml",
        _ => name.ends_with(".xml") && !name.ends_with(".rels"),
    }
}

/// Parts a reader parses as XML, each checked for entity declarations.
fn is_xml_part(kind: WorkbookKind, name: &str) -> bool {
    is_cell_part(kind, name) || name.ends_with(".xml") || name.ends_with(".rels")
}

/// How much of a part is inflated at a time. A tag cut at the end of a chunk is kept for the next one, so the
/// buffer outgrows this only by the length of one tag (bounded by the part's declared size, which is capped).
const CHUNK: usize = 64 * 1024;

/// Reads `reader` to its end, `chunk` bytes at a time, into a buffer that starts with what `take` left of the
/// previous pass: `take` gets the buffer and answers how many of its leading bytes it is done with. Returns the
/// number of bytes read.
fn for_each_chunk(
    mut reader: impl Read,
    chunk: usize,
    mut take: impl FnMut(&[u8]) -> usize,
) -> std::io::Result<u64> {
    let mut buffer = Vec::with_capacity(chunk);
    let mut read: u64 = 0;
    loop {
        let kept = buffer.len();
        buffer.resize(kept + chunk, 0);
        let n = loop {
            match reader.read(&mut buffer[kept..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        buffer.truncate(kept + n);
        if n == 0 {
            return Ok(read);
        }
        read += n as u64;
        let done = take(&buffer);
        buffer.drain(..done);
    }
}

/// Calls `visit` for every start and end tag of the XML that `reader` yields, read `chunk` bytes at a time.
/// Returns the number of bytes read.
fn scan_tags(reader: impl Read, chunk: usize, visit: impl FnMut(&Tag<'_>)) -> std::io::Result<u64> {
    scan_tags_declaring(reader, chunk, visit).map(|(read, _)| read)
}

/// [`scan_tags`], also telling whether the XML declares a DOCTYPE or entities.
fn scan_tags_declaring(
    reader: impl Read,
    chunk: usize,
    mut visit: impl FnMut(&Tag<'_>),
) -> std::io::Result<(u64, bool)> {
    let mut scanner = TagScanner::default();
    let read = for_each_chunk(reader, chunk, |buffer| scanner.scan(buffer, &mut visit))?;
    Ok((read, scanner.declares_entities))
}

/// What one part holds, as far as the limits go.
struct PartCount<C> {
    counter: C,
    read: u64,
    declares_entities: bool,
}

/// Counts the cells of one part that `reader` yields, read `chunk` bytes at a time.
fn count_cells<C: CellCounter>(reader: impl Read, chunk: usize) -> std::io::Result<PartCount<C>> {
    let mut counter = C::default();
    let (read, declares_entities) = scan_tags_declaring(reader, chunk, |tag| counter.feed(tag))?;
    Ok(PartCount {
        counter,
        read,
        declares_entities,
    })
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// One XML start or end tag.
struct Tag<'a> {
    /// Qualified name, prefix included (`c`, `x:row`, `table:table-cell`).
    name: &'a [u8],
    attrs: &'a [u8],
    end: bool,
    self_closing: bool,
}

impl<'a> Tag<'a> {
    /// The tag whose text between `<` and `>` is `inner`.
    fn parse(inner: &'a [u8]) -> Tag<'a> {
        let (end, inner) = match inner.strip_prefix(b"/") {
            Some(inner) => (true, inner),
            None => (false, inner),
        };
        let (self_closing, inner) = match inner.strip_suffix(b"/") {
            Some(inner) => (true, inner),
            None => (false, inner),
        };
        let name_len = inner
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(inner.len());
        Tag {
            name: &inner[..name_len],
            attrs: &inner[name_len..],
            end,
            self_closing,
        }
    }

    /// The tag's name without a namespace prefix.
    fn local(&self) -> &'a [u8] {
        match self.name.iter().position(|b| *b == b':') {
            Some(colon) => &self.name[colon + 1..],
            None => self.name,
        }
    }

    /// The value of attribute `name` (qualified as written), if present.
    fn attr(&self, name: &[u8]) -> Option<&'a [u8]> {
        let mut rest = self.attrs;
        loop {
            let at = rest.windows(name.len() + 2).position(|w| {
                w[..name.len()] == *name
                    && w[name.len()] == b'='
                    && matches!(w[name.len() + 1], b'"' | b'\'')
            })?;
            let preceded_by_space = at == 0 || rest[at - 1].is_ascii_whitespace();
            let quote = rest[at + name.len() + 1];
            let value_start = at + name.len() + 2;
            let value_len = rest[value_start..].iter().position(|b| *b == quote)?;
            if preceded_by_space {
                return Some(&rest[value_start..value_start + value_len]);
            }
            rest = &rest[value_start + value_len..];
        }
    }
}

/// Finds the start and end tags of XML that arrives in pieces, skipping comments, processing instructions,
/// declarations and CDATA. Not a validating parser: it only needs to find tags and their attributes.
#[derive(Default)]
struct TagScanner {
    within: Within,
    /// Whether a `<!DOCTYPE` or `<!ENTITY` declaration was seen: the way in for external entities (XXE) and entity
    /// expansion ("billion laughs"). Spreadsheet programs never write one.
    declares_entities: bool,
}

/// Where the bytes scanned so far end.
#[derive(Debug, Default, Clone, Copy)]
enum Within {
    /// In text, or at a `<` whose kind needs more bytes to tell (`<!-` may open a comment or a declaration).
    #[default]
    Text,
    /// In a comment, CDATA section, processing instruction or declaration, which ends at this terminator. Only the
    /// last bytes that could begin the terminator are kept, so a long comment costs no memory.
    Skipping(&'static [u8]),
    /// In a tag, kept from its `<`: `looked` bytes of it have been looked at, ending inside an attribute value
    /// quoted by `quote` if that is set (a `>` there does not close the tag).
    Tag { looked: usize, quote: Option<u8> },
}

/// Openers that a `<` and a few more bytes may be the start of, and that change how what follows is read.
const OPENERS: [&[u8]; 4] = [b"<!--", b"<![CDATA[", b"<!DOCTYPE", b"<!ENTITY"];

impl TagScanner {
    /// Calls `visit` for every tag that ends in `buffer` and returns how many of its leading bytes are done with.
    /// The caller passes the rest again at the front of the next buffer, followed by the bytes that come next.
    fn scan(&mut self, buffer: &[u8], visit: &mut impl FnMut(&Tag<'_>)) -> usize {
        let mut at = 0;
        loop {
            match self.within {
                Within::Text => {
                    let Some(offset) = buffer[at..].iter().position(|b| *b == b'<') else {
                        return buffer.len();
                    };
                    at += offset;
                    let rest = &buffer[at..];
                    if OPENERS
                        .iter()
                        .any(|opener| rest.len() < opener.len() && opener.starts_with(rest))
                    {
                        return at;
                    }
                    self.within = if rest.starts_with(b"<!--") {
                        Within::Skipping(b"-->")
                    } else if rest.starts_with(b"<![CDATA[") {
                        Within::Skipping(b"]]>")
                    } else if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
                        self.declares_entities |=
                            rest.starts_with(b"<!DOCTYPE") || rest.starts_with(b"<!ENTITY");
                        Within::Skipping(b">")
                    } else {
                        Within::Tag {
                            looked: 1,
                            quote: None,
                        }
                    };
                }
                Within::Skipping(terminator) => match find(&buffer[at..], terminator) {
                    Some(offset) => {
                        at += offset + terminator.len();
                        self.within = Within::Text;
                    }
                    None => return buffer.len().saturating_sub(terminator.len() - 1).max(at),
                },
                Within::Tag { looked, mut quote } => {
                    let tag = &buffer[at..];
                    let mut close = None;
                    for (j, b) in tag.iter().enumerate().skip(looked) {
                        match (quote, *b) {
                            (None, b'"' | b'\'') => quote = Some(*b),
                            (Some(q), b) if b == q => quote = None,
                            (None, b'>') => {
                                close = Some(j);
                                break;
                            }
                            _ => {}
                        }
                    }
                    let Some(close) = close else {
                        self.within = Within::Tag {
                            looked: tag.len(),
                            quote,
                        };
                        return at;
                    };
                    visit(&Tag::parse(&tag[1..close]));
                    at += close + 1;
                    self.within = Within::Text;
                }
            }
        }
    }
}

/// `B12` -> (row 11, column 1), 0-based.
fn parse_cell_ref(text: &[u8]) -> Option<(u64, u64)> {
    let letters = text.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let mut col: u64 = 0;
    for b in &text[..letters] {
        col = col * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    let row: u64 = std::str::from_utf8(&text[letters..]).ok()?.parse().ok()?;
    Some((row.checked_sub(1)?, col - 1))
}

fn parse_number(text: Option<&[u8]>) -> Option<u64> {
    std::str::from_utf8(text?).ok()?.trim().parse().ok()
}

/// Works out, tag by tag, the cells a reader may allocate for one part, so that the part can be read in pieces.
trait CellCounter: Default {
    fn feed(&mut self, tag: &Tag<'_>);
    fn total(&self) -> u64;
    /// Where the counted cells lie, for a refusal: a range like `A1:L40`, or for ODS the largest table's extent.
    fn describe(&self) -> Option<String>;
}

/// Cells a reader may allocate for one xlsx part: the area from the first to the last cell that holds a value
/// (a `<v>` or inline `<is>` inside its `<c>`), as readers hold a sheet whole between them. A styled blank (`<c/>`,
/// or a `<c>` without a value) holds none, and the sheet's `<dimension>` is only the writer's claim: the official
/// blank HECVAT 4.1.4 declares `A1:L1048576` for a sheet holding a few hundred cells, and reads in a tenth of a
/// second. Cells without an `r` attribute follow the previous one, as readers place them.
#[derive(Debug, Default)]
struct SheetCells {
    /// First and last row, first and last column of the cells that hold a value.
    bounds: Option<(u64, u64, u64, u64)>,
    /// The open `<c>` whose value is not seen yet.
    pending: Option<(u64, u64)>,
    row: u64,
    next_col: u64,
    next_row: u64,
}

impl SheetCells {
    /// `A1:L40`, the area [`CellCounter::total`] counts.
    fn range(&self) -> Option<String> {
        let (r0, r1, c0, c1) = self.bounds?;
        let name = |r: u64, c: u64| format!("{}{}", super::column_letters(c as u32), r + 1);
        Some(format!("{}:{}", name(r0, c0), name(r1, c1)))
    }
}

impl CellCounter for SheetCells {
    fn feed(&mut self, tag: &Tag<'_>) {
        if tag.end {
            if tag.local() == b"c" {
                self.pending = None;
            }
            return;
        }
        match tag.local() {
            b"row" => {
                self.row =
                    parse_number(tag.attr(b"r")).map_or(self.next_row, |r| r.saturating_sub(1));
                self.next_row = self.row.saturating_add(1);
                self.next_col = 0;
            }
            b"c" => {
                let (r, c) = tag
                    .attr(b"r")
                    .and_then(parse_cell_ref)
                    .unwrap_or((self.row, self.next_col));
                self.next_col = c + 1;
                self.pending = (!tag.self_closing).then_some((r, c));
            }
            b"v" | b"is" => {
                if let Some((r, c)) = self.pending.take() {
                    self.bounds = Some(match self.bounds {
                        None => (r, r, c, c),
                        Some((r0, r1, c0, c1)) => (r0.min(r), r1.max(r), c0.min(c), c1.max(c)),
                    });
                }
            }
            _ => {}
        }
    }

    fn total(&self) -> u64 {
        self.bounds.map_or(0, |(r0, r1, c0, c1)| {
            (r1 - r0)
                .saturating_add(1)
                .saturating_mul((c1 - c0).saturating_add(1))
        })
    }

    fn describe(&self) -> Option<String> {
        self.range()
    }
}

/// Readers cap a sheet at Excel's grid; a repeat count beyond it is clamped the same way.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

/// Cells a reader allocates for an ODS `content.xml`: per table, the rows from the first to the last row holding a
/// value (repeats expanded) times the widest such row. Trailing repeated empty cells and rows, which LibreOffice
/// writes to the edge of the grid, hold no value and do not count.
#[derive(Debug)]
struct OdsCells {
    /// The tables closed so far.
    total: u64,
    /// The largest table closed so far: name, rows, columns, area.
    largest: Option<(String, u64, u64, u64)>,
    table: OdsTable,
    row_repeats: u64,
    column: u64,
    row_width: u64,
}

#[derive(Debug, Default)]
struct OdsTable {
    name: String,
    row_position: u64,
    first_data_row: Option<u64>,
    data_rows_end: u64,
    width: u64,
}

impl OdsTable {
    fn area(&self) -> u64 {
        self.first_data_row.map_or(0, |first| {
            (self.data_rows_end - first).saturating_mul(self.width)
        })
    }
}

impl Default for OdsCells {
    fn default() -> Self {
        OdsCells {
            total: 0,
            largest: None,
            table: OdsTable::default(),
            row_repeats: 1,
            column: 0,
            row_width: 0,
        }
    }
}

impl CellCounter for OdsCells {
    fn feed(&mut self, tag: &Tag<'_>) {
        let table = &mut self.table;
        match (tag.name, tag.end) {
            (b"table:table", false) => {
                *table = OdsTable {
                    name: tag
                        .attr(b"table:name")
                        .map(|n| String::from_utf8_lossy(n).into_owned())
                        .unwrap_or_default(),
                    ..OdsTable::default()
                }
            }
            (b"table:table", true) => {
                let area = table.area();
                self.total = self.total.saturating_add(area);
                if self.largest.as_ref().is_none_or(|(_, _, _, a)| area > *a) {
                    let rows = table
                        .first_data_row
                        .map_or(0, |first| table.data_rows_end - first);
                    self.largest = Some((table.name.clone(), rows, table.width, area));
                }
            }
            (b"table:table-row", false) => {
                self.row_repeats = parse_number(tag.attr(b"table:number-rows-repeated"))
                    .unwrap_or(1)
                    .clamp(1, MAX_ROWS);
                self.column = 0;
                self.row_width = 0;
                if tag.self_closing {
                    table.row_position = table.row_position.saturating_add(self.row_repeats);
                }
            }
            (b"table:table-row", true) => {
                if self.row_width > 0 {
                    table.first_data_row.get_or_insert(table.row_position);
                    table.data_rows_end = (table.row_position + self.row_repeats).min(MAX_ROWS);
                    table.width = table.width.max(self.row_width);
                }
                table.row_position = table.row_position.saturating_add(self.row_repeats);
            }
            (b"table:table-cell" | b"table:covered-table-cell", false) => {
                let repeats = parse_number(tag.attr(b"table:number-columns-repeated"))
                    .unwrap_or(1)
                    .clamp(1, MAX_COLUMNS);
                self.column = (self.column + repeats).min(MAX_COLUMNS);
                let has_value = !tag.self_closing
                    || tag.attr(b"office:value-type").is_some()
                    || tag.attr(b"table:formula").is_some();
                if has_value {
                    self.row_width = self.column;
                }
            }
            _ => {}
        }
    }

    fn total(&self) -> u64 {
        self.total
    }

    fn describe(&self) -> Option<String> {
        self.largest.as_ref().map(|(name, rows, columns, _)| {
            format!("table \"{name}\", {rows} rows by {columns} columns")
        })
    }
}

#[cfg(test)]
mod tests;
