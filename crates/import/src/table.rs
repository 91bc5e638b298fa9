//! One CSV file of an export, read row by row with every problem located by file, line and
//! column.
//!
//! Encoding: UTF-8 with or without a byte-order mark; a file that is not valid UTF-8 is read
//! as Latin-1 (ISO 8859-1, the encoding of older Excel and Salesforce exports), mark or not,
//! and the caller is told so. Quoted fields may span lines. Columns are found by header name, so their order
//! does not matter (nor, failing an exact match, their case) and columns nobody reads are
//! ignored; a row with more or fewer fields than
//! the header is refused whole.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::issues::Issue;

/// Why a whole file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{file}: cannot read it: {source}")]
    Unreadable {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: line {line}: {message}")]
    Malformed {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: the header has no column {}", .missing.join(", "))]
    MissingColumns { file: String, missing: Vec<String> },
    #[error("{file}: the header names column `{column}` twice")]
    DuplicateColumn { file: String, column: String },
    #[error("{file}: changed while the import was reading it; run the import again")]
    Changed { file: String },
}

/// An export's folder, opened file by file, noting what applies to a whole file.
pub struct Folder<'a> {
    path: &'a Path,
    /// Files read as Latin-1 and optional files absent.
    pub notices: Vec<String>,
}

impl<'a> Folder<'a> {
    pub fn new(path: &'a Path) -> Self {
        Self {
            path,
            notices: Vec::new(),
        }
    }

    /// The file `name`, or `None` when the folder has no such file.
    fn open(&mut self, name: &str) -> Result<Option<Table>, FileError> {
        let path = self.path.join(name);
        if !path.exists() {
            return Ok(None);
        }
        let table = Table::open(&path)?;
        if table.read_as_latin1() {
            self.notices.push(format!(
                "{name} is not UTF-8; it was read as Latin-1 (ISO 8859-1)"
            ));
        }
        Ok(Some(table))
    }

    /// The file `name`, which the import cannot do without (`why`).
    pub fn required(
        &mut self,
        name: &'static str,
        why: &'static str,
    ) -> Result<Table, crate::ImportError> {
        self.open(name)?
            .ok_or_else(|| crate::ImportError::MissingFile {
                folder: self.path.display().to_string(),
                file: name,
                why,
            })
    }

    /// The file `name`, if present; if not, the notice says what is `without` it.
    pub fn optional(
        &mut self,
        name: &'static str,
        without: &str,
    ) -> Result<Option<Table>, FileError> {
        let table = self.open(name)?;
        if table.is_none() {
            self.notices.push(format!("no {name}: {without}"));
        }
        Ok(table)
    }
}

/// A CSV file whose header has been read. Its rows are read from the file again at each
/// pass rather than held in memory: an export of a million deals is gigabytes of text.
#[derive(Debug)]
pub struct Table {
    name: String,
    source: Source,
    /// Whether the bytes were not UTF-8 and are read as Latin-1.
    latin1: bool,
    headers: Vec<String>,
    columns: HashMap<String, usize>,
    breaks: LineBreaks,
}

/// How a table's lines end, for giving each row the line it starts on (`Records::locate`).
#[derive(Debug, Clone, Copy, Default)]
struct LineBreaks {
    /// Lines end in "\r\n", as the header's does.
    crlf: bool,
    /// Where the last row ends, in bytes past any byte-order mark, if no line break follows
    /// it. Only files whose lines end in a lone "\n" need it.
    unterminated_end: Option<u64>,
}

/// Where a table's bytes are.
#[derive(Debug)]
enum Source {
    /// A file kept open, so that each pass reads the same file even if another is put in
    /// its place, with its length when opened, so that one written over is noticed.
    File {
        file: File,
        length: u64,
    },
    Bytes(Vec<u8>),
}

/// A column of a [`Table`], found once by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    index: usize,
}

impl Table {
    /// Opens the file at `path`, named in messages by its file name, and reads its header.
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let opened = (|| {
            let file = File::open(path)?;
            let metadata = file.metadata()?;
            if !metadata.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            let utf8 = is_utf8(&file)?;
            Ok((file, metadata.len(), utf8))
        })();
        let (file, length, utf8) = opened.map_err(|source| FileError::Unreadable {
            file: name.clone(),
            source,
        })?;
        Self::new(name, Source::File { file, length }, !utf8)
    }

    /// A table of `bytes`; `name` is how messages refer to it.
    pub fn from_bytes(name: String, bytes: Vec<u8>) -> Result<Self, FileError> {
        let latin1 = std::str::from_utf8(&bytes).is_err();
        Self::new(name, Source::Bytes(bytes), latin1)
    }

    fn new(name: String, source: Source, latin1: bool) -> Result<Self, FileError> {
        let mut table = Self {
            name,
            source,
            latin1,
            headers: Vec::new(),
            columns: HashMap::new(),
            breaks: LineBreaks::default(),
        };
        let (mut reader, mark) = table.reader()?;
        let header = reader
            .byte_headers()
            .map_err(|e| malformed(&table.name, e))?;
        let headers: Vec<String> = header
            .iter()
            .map(|h| table.decode(h).trim().to_owned())
            .collect();
        let header_end = reader.position().byte();
        drop(reader);
        table.breaks =
            table
                .line_breaks(mark, header_end)
                .map_err(|source| FileError::Unreadable {
                    file: table.name.clone(),
                    source,
                })?;
        let mut columns = HashMap::with_capacity(headers.len());
        for (index, column) in headers.iter().enumerate() {
            if column.is_empty() {
                continue;
            }
            if columns.insert(column.to_owned(), index).is_some() {
                return Err(FileError::DuplicateColumn {
                    file: table.name,
                    column: column.to_owned(),
                });
            }
        }
        table.headers = headers;
        table.columns = columns;
        Ok(table)
    }

    /// A CSV reader from the first byte, past a byte-order mark.
    /// Also says how many bytes the mark took, as the reader's byte positions count past it.
    fn reader(&self) -> Result<(csv::Reader<Box<dyn BufRead + '_>>, u64), FileError> {
        let unreadable = |source| FileError::Unreadable {
            file: self.name.clone(),
            source,
        };
        let mut bytes: Box<dyn BufRead + '_> = match &self.source {
            Source::File { file, length } => {
                if file.metadata().map_err(unreadable)?.len() != *length {
                    return Err(FileError::Changed {
                        file: self.name.clone(),
                    });
                }
                // Only the bytes there were when it was opened, so that every pass reads
                // the same rows even if more are added meanwhile.
                Box::new(BufReader::with_capacity(
                    READ_BUFFER,
                    FromOffset { file, offset: 0 }.take(*length),
                ))
            }
            Source::Bytes(bytes) => Box::new(bytes.as_slice()),
        };
        let mark = if bytes
            .fill_buf()
            .map_err(unreadable)?
            .starts_with(BYTE_ORDER_MARK)
        {
            bytes.consume(BYTE_ORDER_MARK.len());
            BYTE_ORDER_MARK.len() as u64
        } else {
            0
        };
        let reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(bytes);
        Ok((reader, mark))
    }

    /// How the file's lines end, from its bytes: the header's last, which the csv reader
    /// stopped after at `header_end` (it ends a line at a "\r" and takes the "\n" after it
    /// only at its next read), and the file's last. `mark` is the byte-order mark's length.
    fn line_breaks(&self, mark: u64, header_end: u64) -> std::io::Result<LineBreaks> {
        let length = match &self.source {
            Source::File { length, .. } => *length,
            Source::Bytes(bytes) => bytes.len() as u64,
        };
        let mut byte = [0];
        let crlf = header_end > 0 && {
            self.read_at(mark + header_end - 1, &mut byte)?;
            byte[0] == b'\r'
        };
        let unterminated_end = if length == 0 {
            None
        } else {
            self.read_at(length - 1, &mut byte)?;
            (!matches!(byte[0], b'\n' | b'\r')).then_some(length - mark)
        };
        Ok(LineBreaks {
            crlf,
            unterminated_end,
        })
    }

    /// Fills `buffer` with the bytes from `offset` on.
    fn read_at(&self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        match &self.source {
            Source::File { file, .. } => FromOffset { file, offset }.read_exact(buffer),
            Source::Bytes(bytes) => {
                let found = usize::try_from(offset)
                    .ok()
                    .and_then(|start| bytes.get(start..start.checked_add(buffer.len())?))
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                buffer.copy_from_slice(found);
                Ok(())
            }
        }
    }

    /// A header field's text: UTF-8 unless the file is Latin-1.
    fn decode<'b>(&self, field: &'b [u8]) -> Cow<'b, str> {
        if self.latin1 {
            Cow::Owned(latin1(field))
        } else {
            String::from_utf8_lossy(field)
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the file was not UTF-8 and was read as Latin-1.
    pub fn read_as_latin1(&self) -> bool {
        self.latin1
    }

    /// The column named `name`, if the header has it: spelt exactly so, or else in any case.
    pub fn column(&self, name: &str) -> Option<Column> {
        let index = self.columns.get(name).copied().or_else(|| {
            self.headers
                .iter()
                .position(|header| header.eq_ignore_ascii_case(name))
        });
        index.map(|index| Column { index })
    }

    /// The columns named `names`; every one missing from the header is named in the error.
    pub fn require<const N: usize>(&self, names: [&str; N]) -> Result<[Column; N], FileError> {
        let found = names.map(|name| self.column(name));
        let missing: Vec<String> = names
            .iter()
            .zip(&found)
            .filter(|(_, column)| column.is_none())
            .map(|(name, _)| (*name).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns {
                file: self.name.clone(),
                missing,
            });
        }
        Ok(found.map(|column| column.unwrap_or(Column { index: 0 })))
    }

    /// Every column of the header whose name starts with `prefix`, with the rest of its name.
    pub fn columns_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, Column)> + 'a {
        self.headers
            .iter()
            .enumerate()
            .filter_map(move |(index, name)| {
                name.strip_prefix(prefix)
                    .map(|rest| (rest, Column { index }))
            })
    }

    /// Calls `visit` with each row in file order and `issues` to report in. A row of the
    /// wrong width is reported and not visited; a file broken beyond one row stops here.
    pub fn rows(
        &self,
        issues: &mut Vec<Issue>,
        mut visit: impl FnMut(&Row<'_>, &mut Vec<Issue>),
    ) -> Result<(), FileError> {
        let mut records = self.records()?;
        let mut record = csv::StringRecord::new();
        loop {
            match records.next(&mut record)? {
                Next::End => return Ok(()),
                Next::Skipped(issue) => issues.push(issue),
                Next::Row => visit(&self.row(&record), issues),
            }
        }
    }

    /// As [`Table::rows`], for a file whose rows take longer to parse than to read: `parse`
    /// runs on a second thread, a chunk of rows at a time, while this one reads the next
    /// chunk and hands each row's result to `take`, in file order. Where the system will not
    /// start a second thread (a limit on processes or threads), both run on this one.
    pub fn rows_in_parallel<T: Send>(
        &self,
        issues: &mut Vec<Issue>,
        parse: impl Fn(&Row<'_>) -> T + Sync,
        mut take: impl FnMut(T, &mut Vec<Issue>),
    ) -> Result<(), FileError> {
        // Lent to the parser rather than moved, to be at hand should it fail to start.
        let parse = &parse;
        std::thread::scope(|scope| {
            // Bounded, so reading cannot run far ahead of parsing; the way back is not, so
            // the parser never waits on this thread while this thread waits on it.
            let (to_parse, chunks) = mpsc::sync_channel::<Vec<Result<csv::StringRecord, Issue>>>(2);
            let (to_take, parsed) = mpsc::channel();
            let parser = std::thread::Builder::new().spawn_scoped(scope, move || {
                for chunk in chunks {
                    let done: Vec<Result<T, Issue>> = chunk
                        .into_iter()
                        .map(|row| row.map(|record| parse(&self.row(&record))))
                        .collect();
                    if to_take.send(done).is_err() {
                        return;
                    }
                }
            });
            if parser.is_err() {
                return self.rows(issues, |row, issues| take(parse(row), issues));
            }
            let mut take_all = |parsed: Vec<Result<T, Issue>>, issues: &mut Vec<Issue>| {
                for row in parsed {
                    match row {
                        Ok(value) => take(value, issues),
                        Err(issue) => issues.push(issue),
                    }
                }
            };
            let read = (|| {
                let mut records = self.records()?;
                // Each row's record is new, made as large as the last to save regrowing it.
                let mut bytes = 0;
                loop {
                    let mut chunk = Vec::with_capacity(PARSED_TOGETHER);
                    // Why the file's rows stopped: its end or a broken row.
                    let mut stop = None;
                    while chunk.len() < PARSED_TOGETHER && stop.is_none() {
                        let mut record =
                            csv::StringRecord::with_capacity(bytes, self.headers.len());
                        match records.next(&mut record) {
                            Ok(Next::End) => stop = Some(Ok(())),
                            Ok(Next::Skipped(issue)) => chunk.push(Err(issue)),
                            Ok(Next::Row) => {
                                bytes = record.as_slice().len();
                                chunk.push(Ok(record));
                            }
                            Err(error) => stop = Some(Err(error)),
                        }
                    }
                    // The rows before a broken one are still handed on, as `rows` visits them.
                    // Sending fails only if the parser stopped, which it does only by
                    // panicking: the scope's end passes that on.
                    if to_parse.send(chunk).is_err() {
                        return stop.unwrap_or(Ok(()));
                    }
                    if let Some(stop) = stop {
                        return stop;
                    }
                    for done in parsed.try_iter() {
                        take_all(done, issues);
                    }
                }
            })();
            drop(to_parse);
            for done in parsed {
                take_all(done, issues);
            }
            read
        })
    }

    /// Whether the rows with the same value of `column` all stand together, as in a file
    /// grouped or sorted by it. A file that is not UTF-8 or does not read to its end counts
    /// as not grouped, so that the answer is never wrongly yes; so does one whose reading is
    /// `abandoned` before its end.
    pub fn grouped_by(&self, column: Column, abandoned: &AtomicBool) -> bool {
        let Ok((mut reader, _)) = self.reader() else {
            return false;
        };
        if self.latin1 {
            return false;
        }
        // Values whose rows have ended, by a hash of each: two values sharing a hash can only
        // make the answer no.
        let hasher = std::hash::RandomState::new();
        let mut ended = std::collections::HashSet::new();
        let mut current = String::new();
        let mut record = csv::ByteRecord::new();
        loop {
            if abandoned.load(Ordering::Relaxed) {
                return false;
            }
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return true,
                Err(_) => return false,
            }
            // Trimmed as `Row::text` trims, so two spellings the reader takes for one deal are one.
            let Ok(value) = std::str::from_utf8(record.get(column.index).unwrap_or_default())
            else {
                return false;
            };
            let value = value.trim();
            // Blank lines and rows without a value belong to no group.
            if value.is_empty() || value == current {
                continue;
            }
            if !current.is_empty() {
                ended.insert(hasher.hash_one(current.as_str()));
            }
            if ended.contains(&hasher.hash_one(value)) {
                return false;
            }
            value.clone_into(&mut current);
        }
    }

    /// The file's rows from the first, read one at a time.
    fn records(&self) -> Result<Records<'_>, FileError> {
        Ok(Records {
            table: self,
            reader: self.reader()?.0,
            bytes: csv::ByteRecord::new(),
        })
    }

    fn row<'a>(&'a self, record: &'a csv::StringRecord) -> Row<'a> {
        Row {
            file: &self.name,
            headers: &self.headers,
            line: record.position().map_or(0, csv::Position::line),
            record,
        }
    }
}

/// A file read from `offset` on without moving the position its other readers share, so
/// that two passes over one table can run at once.
struct FromOffset<'f> {
    file: &'f File,
    offset: u64,
}

impl Read for FromOffset<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(self.file, buffer, self.offset)?;
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(self.file, buffer, self.offset)?;
        self.offset += read as u64;
        Ok(read)
    }
}

/// Rows handed to the parsing thread at a time: enough that passing them costs little
/// beside parsing them.
const PARSED_TOGETHER: usize = 4_096;

/// A [`Table`] being read.
struct Records<'t> {
    table: &'t Table,
    reader: csv::Reader<Box<dyn BufRead + 't>>,
    /// A Latin-1 row as read, before it is decoded.
    bytes: csv::ByteRecord,
}

/// What reading a row found.
enum Next {
    /// A row, of the header's width.
    Row,
    /// A row of another width, not to be visited.
    Skipped(Issue),
    End,
}

impl Records<'_> {
    /// Reads the next row that is not blank into `record`.
    fn next(&mut self, record: &mut csv::StringRecord) -> Result<Next, FileError> {
        let table = self.table;
        loop {
            let read = if table.latin1 {
                self.reader
                    .read_byte_record(&mut self.bytes)
                    .inspect(|_| latin1_record(&self.bytes, record))
            } else {
                self.reader.read_record(record)
            };
            match read {
                Ok(false) => return Ok(Next::End),
                Ok(true) => {}
                Err(e) => return Err(malformed(&table.name, e)),
            }
            if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
                continue; // A blank line.
            }
            self.locate(record);
            if record.len() != table.headers.len() {
                return Ok(Next::Skipped(table.row(record).row_issue(format!(
                    "the row has {} fields but the header has {}; the row is skipped",
                    record.len(),
                    table.headers.len()
                ))));
            }
            return Ok(Next::Row);
        }
    }

    /// Gives `record`, just read, the line it starts on. The csv crate gives the line where it
    /// began reading, before any empty lines it skipped (BurntSushi/rust-csv#208), and counts
    /// the "\n" of a "\r\n" only at the next read. The line where it stopped is right: the
    /// record's last line, or the one after it once a lone "\n" is read. So the record's
    /// lines are counted back from there.
    fn locate(&self, record: &mut csv::StringRecord) {
        let Some(start) = record.position() else {
            return;
        };
        let stopped = self.reader.position();
        let breaks = self.table.breaks;
        // Whether the line break after the record has been counted: only a lone "\n" is,
        // and the last row of a file may have none.
        let counted = u64::from(!breaks.crlf && breaks.unterminated_end != Some(stopped.byte()));
        // The "\n" of the "\r\n" before the record, counted in this read.
        let pending = u64::from(breaks.crlf);
        let read = stopped.line().saturating_sub(start.line());
        // Lines read beyond the record's own: empty lines skipped, or breaks inside quotes.
        let beyond = read.saturating_sub(pending + counted);
        let quoted_breaks = if beyond == 0 {
            0 // The common case, settled without a scan.
        } else {
            record.as_slice().bytes().filter(|&b| b == b'\n').count() as u64
        };
        // A record starts no earlier than where reading began; a lone "\r" ends a record
        // without a line being counted.
        let line = stopped
            .line()
            .saturating_sub(counted + quoted_breaks)
            .max(start.line());
        if line != start.line() {
            let mut located = start.clone();
            located.set_line(line);
            record.set_position(Some(located));
        }
    }
}

/// Each byte as the Latin-1 character it stands for; every byte is one.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn latin1_record(bytes: &csv::ByteRecord, record: &mut csv::StringRecord) {
    record.clear();
    for field in bytes {
        record.push_field(&latin1(field));
    }
    record.set_position(bytes.position().cloned());
}

/// Bytes read from a file at a time.
const READ_BUFFER: usize = 1 << 20;

const BYTE_ORDER_MARK: &[u8] = b"\xef\xbb\xbf";

/// Whether everything `bytes` yields is UTF-8, read a buffer at a time.
fn is_utf8(mut bytes: impl Read) -> std::io::Result<bool> {
    let mut buffer = vec![0; READ_BUFFER];
    // Bytes of a character cut by the end of the previous read, moved to the front.
    let mut carried = 0;
    loop {
        let read = match bytes.read(&mut buffer[carried..]) {
            Ok(0) => return Ok(carried == 0),
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let filled = carried + read;
        match std::str::from_utf8(&buffer[..filled]) {
            Ok(_) => carried = 0,
            // Only the last character is incomplete: the next read may finish it.
            Err(e) if e.error_len().is_none() => {
                buffer.copy_within(e.valid_up_to()..filled, 0);
                carried = filled - e.valid_up_to();
            }
            Err(_) => return Ok(false),
        }
    }
}

/// A file that stops being readable midway is unreadable, not malformed.
fn malformed(file: &str, error: csv::Error) -> FileError {
    let line = error.position().map_or(1, csv::Position::line);
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(source) => FileError::Unreadable {
            file: file.to_owned(),
            source,
        },
        _ => FileError::Malformed {
            file: file.to_owned(),
            line,
            message,
        },
    }
}

/// One row of a [`Table`].
#[derive(Debug)]
pub struct Row<'a> {
    file: &'a str,
    headers: &'a [String],
    line: u64,
    record: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The trimmed value of `column`; `None` when the column is absent or the value empty.
    pub fn get(&self, column: Option<Column>) -> Option<&'a str> {
        column.and_then(|c| self.text(c))
    }

    /// The trimmed value of `column`, `None` when empty.
    pub fn text(&self, column: Column) -> Option<&'a str> {
        self.record
            .get(column.index)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// The trimmed value of `column`, or an issue saying it is required.
    pub fn required(&self, column: Column) -> Result<&'a str, Issue> {
        self.text(column)
            .ok_or_else(|| self.issue(column, "", "a value is required; the row is skipped"))
    }

    /// Parses `column` with `parse` (which says what it expected); empty is `None`.
    pub fn parse<T>(
        &self,
        column: Option<Column>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Issue> {
        let Some(column) = column else {
            return Ok(None);
        };
        match self.text(column) {
            None => Ok(None),
            Some(value) => parse(value)
                .map(Some)
                .map_err(|reason| self.issue(column, value, reason)),
        }
    }

    /// Parses the required `column` with `parse` (which says what it expected); without
    /// it the row is skipped.
    pub fn parse_required<T>(
        &self,
        column: Column,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, Issue> {
        let value = self.required(column)?;
        parse(value).map_err(|expected| {
            self.issue(
                column,
                value,
                format!("expected {expected}; the row is skipped"),
            )
        })
    }

    /// An issue at `column` of this row.
    pub fn issue(&self, column: Column, value: &str, reason: impl Into<String>) -> Issue {
        Issue {
            file: self.file.to_owned(),
            line: self.line,
            column: self.headers.get(column.index).cloned().unwrap_or_default(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    /// An issue about the row as a whole.
    pub fn row_issue(&self, reason: impl Into<String>) -> Issue {
        Issue {
            file: self.file.to_owned(),
            line: self.line,
            column: String::new(),
            value: String::new(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(bytes: &[u8]) -> Table {
        Table::from_bytes("t.csv".into(), bytes.to_vec()).unwrap()
    }

    fn values(table: &Table, column: &'static str) -> (Vec<(u64, Option<String>)>, Vec<Issue>) {
        let [c] = table.require([column]).unwrap();
        let mut issues = Vec::new();
        let mut seen = Vec::new();
        table
            .rows(&mut issues, |row, _| {
                seen.push((row.line(), row.text(c).map(str::to_owned)))
            })
            .unwrap();
        (seen, issues)
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_column_name() {
        let t = table(b"\xef\xbb\xbfId,Name\n1,Acme\n");
        assert!(!t.read_as_latin1());
        assert_eq!(values(&t, "Id").0, vec![(2, Some("1".into()))]);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_read_as_latin1() {
        let t = table(b"Id,Name\n1,Soci\xe9t\xe9 G\xe9n\xe9rale\n");
        assert!(t.read_as_latin1());
        assert_eq!(
            values(&t, "Name").0,
            vec![(2, Some("Société Générale".into()))]
        );
    }

    /// Yields its bytes one at a time, so every multi-byte character is cut between reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let Some((&first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buffer[0] = first;
            self.0 = rest;
            Ok(1)
        }
    }

    #[test]
    fn utf8_is_recognised_across_reads_and_latin1_or_a_cut_last_character_is_not() {
        assert!(is_utf8(Trickle("Société Générale, 東京".as_bytes())).unwrap());
        assert!(!is_utf8(Trickle(b"Soci\xe9t\xe9")).unwrap());
        assert!(!is_utf8(Trickle(b"Soci\xc3")).unwrap());
        assert!(is_utf8(Trickle(b"")).unwrap());
    }

    #[test]
    fn each_pass_reads_the_file_opened_and_one_written_over_stops_the_import() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("accounts.csv");
        std::fs::write(&path, b"\xef\xbb\xbfId,Name\n1,Soci\xe9t\xe9\n").unwrap();
        let t = Table::open(&path).unwrap();
        assert_eq!(t.name(), "accounts.csv");
        assert!(t.read_as_latin1());
        assert_eq!(values(&t, "Name").0, vec![(2, Some("Société".into()))]);
        assert_eq!(values(&t, "Name").0, vec![(2, Some("Société".into()))]);

        // Another file put in its place is not read.
        let other = folder.path().join("other.csv");
        std::fs::write(&other, b"Id,Name\n1,Acme\n2,Beta\n").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(values(&t, "Name").0, vec![(2, Some("Société".into()))]);

        // The file written over is.
        let t = Table::open(&path).unwrap();
        std::fs::write(&path, b"Id,Name\n1,Acme\n").unwrap();
        let changed = t.rows(&mut Vec::new(), |_, _| {}).unwrap_err();
        assert_eq!(
            changed.to_string(),
            "accounts.csv: changed while the import was reading it; run the import again"
        );
    }

    #[test]
    fn a_folder_is_not_a_table() {
        let folder = tempfile::tempdir().unwrap();
        let error = Table::open(folder.path()).unwrap_err();
        assert!(matches!(error, FileError::Unreadable { .. }), "{error}");
    }

    #[test]
    fn quoted_newlines_stay_in_their_field_and_lines_count_from_the_row_start() {
        let t = table(b"Id,Note\n1,\"two\nlines\"\n2,plain\n");
        let (seen, issues) = values(&t, "Note");
        assert!(issues.is_empty());
        assert_eq!(
            seen,
            vec![(2, Some("two\nlines".into())), (4, Some("plain".into()))]
        );
    }

    #[test]
    fn rows_keep_their_own_line_after_empty_lines_and_with_crlf_breaks() {
        // Each row's id is the line it starts on, counted by hand.
        for (text, lines) in [
            // Line 8 holds spaces: a row of one empty field, skipped too.
            (
                &b"Id,Name\n2,Acme\n\n4,Beta\n\n\n7,Gamma\n  \n9,Delta\n"[..],
                &[2, 4, 7, 9][..],
            ),
            (
                b"Id,Name\r\n2,Acme\r\n\r\n4,Beta\r\n\r\n\r\n7,Gamma\r\n  \r\n9,Delta",
                &[2, 4, 7, 9],
            ),
            // A quoted line break, Latin-1, and a last row with no line break after it.
            (
                b"Id,Name\n2,Acme\n\n4,\"Be\nta\"\n\n\n8,Soci\xe9t\xe9\n\n10,Zeta",
                &[2, 4, 8, 10],
            ),
            // Byte-order marks, a quoted "\r\n", and last rows with no line break after them.
            (
                b"\xef\xbb\xbfId,Name\r\n2,\"Ac\r\nme\"\r\n\r\n5,Beta\r\n6,\"Ga\r\nmma\"",
                &[2, 5, 6],
            ),
            (b"\xef\xbb\xbfId,Name\n2,Acme\n\n4,Beta", &[2, 4]),
            // Empty lines before the header.
            (b"\r\n\r\nId,Name\r\n4,Acme\r\n\r\n6,Beta\r\n", &[4, 6]),
            // A lone "\r" ends a row, but lines are counted by "\n".
            (b"Id,Name\n2,Acme\r2,Beta\n3,Gamma\n", &[2, 2, 3]),
        ] {
            let shown = String::from_utf8_lossy(text);
            let folder = tempfile::tempdir().unwrap();
            let path = folder.path().join("accounts.csv");
            std::fs::write(&path, text).unwrap();
            // From memory and from a file, whose bytes are found otherwise; read row by row
            // and in parallel.
            for t in [table(text), Table::open(&path).unwrap()] {
                let (seen, issues) = values(&t, "Id");
                assert!(issues.is_empty(), "{shown}");
                let seen: Vec<u64> = seen.iter().map(|s| s.0).collect();
                assert_eq!(seen, lines, "{shown}");
                let [id] = t.require(["Id"]).unwrap();
                let mut parallel = Vec::new();
                t.rows_in_parallel(
                    &mut Vec::new(),
                    |row| (row.line(), row.text(id).map(str::to_owned)),
                    |(line, id), _| parallel.push((line, id)),
                )
                .unwrap();
                for (line, id) in parallel {
                    assert_eq!(Some(line.to_string()), id, "{shown}");
                }
            }
        }
        let t = table(b"Id,Name\n1,Acme\n\n3\n");
        let (_, issues) = values(&t, "Id");
        assert_eq!(issues.iter().map(|i| i.line).collect::<Vec<_>>(), vec![4]);
        let t = table(b"Id,Name\r\n1,Acme\r\n\r\n3\r\n");
        let (_, issues) = values(&t, "Id");
        assert_eq!(issues.iter().map(|i| i.line).collect::<Vec<_>>(), vec![4]);
    }

    #[test]
    fn rows_of_the_wrong_width_are_skipped_with_their_line() {
        let t = table(b"Id,Name\n1,Acme\n2\n3,Beta,extra\n4,Gamma\n");
        let (seen, issues) = values(&t, "Id");
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![2, 5]);
        assert_eq!(
            issues.iter().map(|i| i.line).collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert!(issues[0].reason.contains("1 fields but the header has 2"));
    }

    #[test]
    fn rows_parsed_in_parallel_arrive_in_file_order_with_their_issues() {
        // Three chunks and a bit, with a wrong-width row on each side of the first boundary
        // and at the end; every seventh value is refused by the parser.
        let rows = 3 * PARSED_TOGETHER + 5;
        let mut text = String::from("Id,Name\n");
        let mut expected_seen = Vec::new();
        let mut expected_issues = Vec::new();
        let mut line = 1;
        for i in 0..rows {
            line += 1;
            if i == PARSED_TOGETHER - 1 || i == PARSED_TOGETHER || i == rows - 1 {
                text.push_str("short\n");
                expected_issues.push(line);
            } else {
                text.push_str(&format!("{i},name {i}\n"));
                if i % 7 == 0 {
                    expected_issues.push(line);
                } else {
                    expected_seen.push((line, i));
                }
            }
        }
        for (t, latin1) in [
            (table(text.as_bytes()), false),
            (table(&latin1_bytes(&text)), true),
        ] {
            assert_eq!(t.read_as_latin1(), latin1);
            let [id] = t.require(["Id"]).unwrap();
            let mut issues = Vec::new();
            let mut seen = Vec::new();
            t.rows_in_parallel(
                &mut issues,
                |row| {
                    let i: usize = row.text(id).unwrap().parse().unwrap();
                    if i % 7 == 0 {
                        Err(row.issue(id, &i.to_string(), "a multiple of 7"))
                    } else {
                        Ok((row.line(), i))
                    }
                },
                |parsed, issues| match parsed {
                    Ok(row) => seen.push(row),
                    Err(issue) => issues.push(issue),
                },
            )
            .unwrap();
            // Compared whole, but not printed whole should they differ.
            assert!(seen == expected_seen, "rows out of order or lost");
            let issue_lines: Vec<u64> = issues.iter().map(|i| i.line).collect();
            assert_eq!(issue_lines, expected_issues);
        }
    }

    #[test]
    fn rows_parsed_in_parallel_end_with_the_file_at_any_chunk_border() {
        for rows in [0, 1, PARSED_TOGETHER, 2 * PARSED_TOGETHER] {
            let text: String = std::iter::once("Id\n".to_owned())
                .chain((0..rows).map(|i| format!("{i}\n")))
                .collect();
            let t = table(text.as_bytes());
            let [id] = t.require(["Id"]).unwrap();
            let mut seen = Vec::new();
            let mut issues = Vec::new();
            t.rows_in_parallel(
                &mut issues,
                |row| row.text(id).map(str::to_owned),
                |v, _| seen.push(v),
            )
            .unwrap();
            let expected: Vec<Option<String>> = (0..rows).map(|i| Some(i.to_string())).collect();
            assert!(seen == expected, "{rows} rows: {} seen", seen.len());
            assert!(issues.is_empty());
        }
    }

    /// The parser's panic reaches this thread as the scope's own; the test would hang, not
    /// pass, if the reader waited for a parser gone.
    #[test]
    #[should_panic(expected = "a scoped thread panicked")]
    fn a_parser_that_panics_is_passed_on_not_waited_for() {
        let text: String = std::iter::once("Id\n".to_owned())
            .chain((0..3 * PARSED_TOGETHER).map(|i| format!("{i}\n")))
            .collect();
        let t = table(text.as_bytes());
        let mut issues = Vec::new();
        let _ = t.rows_in_parallel(
            &mut issues,
            |row| assert!(row.line() < 10, "parser failed"),
            |(), _| {},
        );
    }

    /// `text` with the name of row 1 in Latin-1, so that the whole is read as Latin-1.
    fn latin1_bytes(text: &str) -> Vec<u8> {
        let (head, tail) = text.split_once("name 1\n").unwrap();
        [head.as_bytes(), b"Soci\xe9t\xe9\n", tail.as_bytes()].concat()
    }

    #[test]
    fn missing_and_duplicate_columns_are_named() {
        let t = table(b"Id,Name\n");
        let missing = t.require(["Id", "StageName", "Amount"]).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "t.csv: the header has no column StageName, Amount"
        );
        let duplicate = Table::from_bytes("d.csv".into(), b"Id,Name,Id\n".to_vec()).unwrap_err();
        assert_eq!(
            duplicate.to_string(),
            "d.csv: the header names column `Id` twice"
        );
    }

    #[test]
    fn a_column_is_found_in_any_case_when_no_header_spells_it_exactly() {
        let t = table(b"Stage,stage_id,Amount\n");
        assert_eq!(t.column("stage"), t.column("Stage"));
        assert!(t.column("STAGE_ID").is_some());
        assert_eq!(t.column("Stage_Id"), t.column("stage_id"));
        assert!(t.column("stages").is_none());
    }

    #[test]
    fn an_unclosed_quote_is_a_located_error_not_a_panic() {
        // The csv crate treats an unclosed quote at the end of input as the field's end,
        // so the row reads; what matters is that nothing panics and the value is kept.
        let t = table(b"Id,Name\n1,\"Acme\n");
        let (seen, _) = values(&t, "Name");
        assert_eq!(seen, vec![(2, Some("Acme\n".trim().into()))]);
    }

    fn grouped(text: &str) -> bool {
        let t = table(text.as_bytes());
        let [deal] = t.require(["deal"]).unwrap();
        t.grouped_by(deal, &AtomicBool::new(false))
    }

    #[test]
    fn a_file_is_grouped_when_each_values_rows_stand_together() {
        assert!(
            grouped("deal,seq\nb,1\nb,2\na,1\n"),
            "grouped, though not sorted"
        );
        assert!(grouped("deal,seq\n"));
        assert!(!grouped("deal,seq\na,1\nb,1\na,2\n"));
        // Spelt with spaces the reader trims, a value is the same value.
        assert!(!grouped("deal,seq\na,1\nb,1\n\" a\",2\n"));
        // Blank lines and rows without a value belong to no group.
        assert!(grouped("deal,seq\na,1\n\n,9\na,2\n  \nb,1\n"));
        // A line break inside a quoted field does not start a row.
        assert!(grouped("data,deal\n\"x\nb\",a\nz,a\nw,b\n"));
    }

    #[test]
    fn a_file_read_as_latin1_is_never_taken_for_grouped() {
        let t = table(b"deal,name\na,Soci\xe9t\xe9\nb,x\n");
        assert!(t.read_as_latin1());
        let [deal] = t.require(["deal"]).unwrap();
        assert!(!t.grouped_by(deal, &AtomicBool::new(false)));
        let grouped = table(b"deal\na\nb\n");
        assert!(
            !grouped.grouped_by(deal, &AtomicBool::new(true)),
            "a pass abandoned says no"
        );
    }

    proptest::proptest! {
        #[test]
        fn grouped_means_no_value_comes_back_after_another(
            rows in proptest::collection::vec((0u8..4, proptest::bool::ANY), 0..12)
        ) {
            let mut text = String::from("deal,seq\n");
            for (seq, (deal, padded)) in rows.iter().enumerate() {
                let pad = if *padded { " " } else { "" };
                text.push_str(&format!("\"{pad}d{deal}\",{seq}\n"));
            }
            let deals: Vec<u8> = rows.iter().map(|(deal, _)| *deal).collect();
            let comes_back = (0..deals.len()).any(|i| {
                (i + 1..deals.len()).any(|j| deals[j] == deals[i] && deals[i + 1..j].iter().any(|d| *d != deals[i]))
            });
            proptest::prop_assert_eq!(grouped(&text), !comes_back);
        }
    }
}
