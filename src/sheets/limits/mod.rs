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
    pub code: &'static str,
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
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
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
            "file_too_large",
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
            "unsupported_file",
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
            "encrypted_workbook",
            "the workbook is protected by a password to open it, so it cannot be read; remove the password \
             (File > Info > Protect Workbook > Encrypt with Password, then clear it) and upload it again",
        ));
    }
    if contains_utf16(bytes, "Workbook") || contains_utf16(bytes, "Book") {
        return Ok(WorkbookKind::Xls);
    }
    Err(Refusal::new(
        "unsupported_file",
        format!(
            "the file is an Office document but not a workbook (a Word or Outlook file?); {SEND_INSTEAD}"
        ),
    ))
}

fn check_zip(bytes: &[u8], limits: &Limits) -> Result<WorkbookKind, Refusal> {
    let damaged = |e: zip::result::ZipError| {
        Refusal::new(
            "unsupported_file",
            format!("the file looks like a zip archive but cannot be opened ({e}); {SEND_INSTEAD}"),
        )
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if archive.len() > limits.max_entries {
        return Err(Refusal::new(
            "too_many_entries",
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
            "unsupported_file",
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
                "unsupported_file",
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
                "xml_entities",
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
                "too_many_cells",
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
        "too_large_uncompressed",
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
            "unsupported_file",
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
mod tests {
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
}
