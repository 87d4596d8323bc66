//! Excel workbooks: reading a sheet of cases as records, writing results
//! (specs/columns.md, "Formats").
//!
//! Reading streams the sheet's cells with calamine on a thread of its own
//! (the crate's cell reader borrows the workbook), handing records over in
//! batches; only the workbook's shared-string table is held whole, as the
//! crate needs it. Each Excel row becomes a [`csv::ByteRecord`] read by the
//! same [`CsvLayout`] as a CSV row, so that every alias, wide column and value
//! spelling works alike. Number cells are marked with
//! [`crate::io::NUMBER_CELL_MARK`] (a code in one gets a warning), boolean
//! cells with [`crate::io::BOOLEAN_CELL_MARK`] (a field holding one is
//! invalid).
//!
//! Before calamine sees the file, its zip directory is checked: a file that is
//! not a zip, or whose parts inflate out of all proportion (a zip bomb), is
//! refused with a clear message.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};

use calamine::{DataRef, Reader, Xlsx};

use crate::io::{InputError, BOOLEAN_CELL_MARK, NUMBER_CELL_MARK};

/// Excel's own limits: 1,048,576 rows, 16,384 columns.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: u32 = 16_384;
/// A part of the workbook larger than this (inflated) must not inflate more
/// than [`MAX_RATIO`] times: real sheets compress 5 to 30 times, zip bombs a
/// thousand.
const BIG_PART: u64 = 64 << 20;
const MAX_RATIO: u64 = 200;
/// No workbook's parts add up to more than this inflated.
const MAX_TOTAL: u64 = 16 << 30;

/// Rows per hand-over from the reading thread.
const BATCH: usize = 1024;

fn xlsx_error(path: &Path, what: impl std::fmt::Display) -> InputError {
    InputError::Xlsx(format!("{}: {what}", path.display()))
}

/// Checks a workbook's zip directory: a zip at all, and no part inflating out
/// of proportion.
pub fn check_workbook<R: Read + Seek>(reader: R, path: &Path) -> Result<(), InputError> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| xlsx_error(path, format!("not an .xlsx workbook (it is not a zip file: {e})")))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| xlsx_error(path, format!("a damaged workbook: {e}")))?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > BIG_PART && size / packed > MAX_RATIO {
            return Err(xlsx_error(
                path,
                format!(
                    "part {} inflates from {packed} to {size} bytes ({}×): refused as a zip bomb",
                    entry.name(),
                    size / packed
                ),
            ));
        }
    }
    if total > MAX_TOTAL {
        return Err(xlsx_error(path, format!("its parts inflate to {total} bytes: refused as a zip bomb")));
    }
    Ok(())
}

/// The rows of one worksheet, as records: the header first, then one record
/// a row (wholly empty rows skipped), each with its Excel row number as line.
pub struct XlsxRows {
    header: Vec<String>,
    rx: Receiver<Result<Vec<csv::ByteRecord>, InputError>>,
    pending: std::vec::IntoIter<csv::ByteRecord>,
    /// The sheet read.
    pub sheet: String,
}

impl XlsxRows {
    /// Opens `path` and reads `sheet` (default: the first worksheet). Fails
    /// for a file that is not a workbook, a missing sheet, or a sheet without
    /// a header row.
    pub fn open(path: &Path, sheet: Option<&str>) -> Result<XlsxRows, InputError> {
        let file = File::open(path).map_err(|e| xlsx_error(path, e))?;
        check_workbook(BufReader::new(file), path)?;
        let file = File::open(path).map_err(|e| xlsx_error(path, e))?;
        let shown = path.to_path_buf();
        let mut workbook: Xlsx<BufReader<File>> = catch(|| Xlsx::new(BufReader::with_capacity(1 << 16, file)))
            .map_err(|m| xlsx_error(&shown, m))?
            .map_err(|e| xlsx_error(&shown, format!("cannot be read as a workbook: {e}")))?;
        let names = workbook.sheet_names().to_vec();
        let name = match sheet {
            Some(s) => names
                .iter()
                .find(|n| n.as_str() == s)
                .cloned()
                .ok_or_else(|| xlsx_error(path, format!("no sheet {s:?} (it has: {})", names.join(", "))))?,
            None => names.first().cloned().ok_or_else(|| xlsx_error(path, "the workbook has no sheet"))?,
        };
        let (tx, rx) = sync_channel(4);
        let (header_tx, header_rx) = sync_channel(1);
        let sheet_name = name.clone();
        std::thread::Builder::new()
            .name("xlsx-reader".into())
            .spawn(move || {
                let failed = catch(|| read_sheet(&mut workbook, &sheet_name, &shown, &header_tx, &tx));
                let failure = match failed {
                    Ok(Ok(())) => return,
                    Ok(Err(e)) => e,
                    Err(m) => xlsx_error(&shown, m),
                };
                // Before the header, `open` waits for it; after, the rows'
                // reader does.
                if let Err(std::sync::mpsc::SendError(Err(failure))) = header_tx.send(Err(failure)) {
                    let _ = tx.send(Err(failure));
                }
            })
            .map_err(|e| xlsx_error(path, e))?;
        let header = match header_rx.recv() {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(xlsx_error(path, format!("sheet {name:?} has no header row (it is empty)"))),
        };
        Ok(XlsxRows { header, rx, pending: Vec::new().into_iter(), sheet: name })
    }

    /// The header row's texts.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Reads the next row into `record`; false at the end.
    pub fn read_record(&mut self, record: &mut csv::ByteRecord) -> Result<bool, InputError> {
        loop {
            if let Some(next) = self.pending.next() {
                *record = next;
                return Ok(true);
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.pending = batch.into_iter(),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(false),
            }
        }
    }
}

/// Runs `f`, turning a panic inside the Excel crate (a malformed workbook
/// can index out of bounds) into an error message.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let what = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
        format!("a malformed workbook ({what})")
    })
}

type HeaderTx = std::sync::mpsc::SyncSender<Result<Vec<String>, InputError>>;
type RowsTx = std::sync::mpsc::SyncSender<Result<Vec<csv::ByteRecord>, InputError>>;

fn read_sheet(workbook: &mut Xlsx<BufReader<File>>, sheet: &str, path: &Path, header_tx: &HeaderTx, tx: &RowsTx) -> Result<(), InputError> {
    let mut cells = workbook.worksheet_cells_reader(sheet).map_err(|e| xlsx_error(path, format!("sheet {sheet:?}: {e}")))?;
    let mut header: Option<usize> = None;
    let mut row_cells: Vec<(u32, String)> = Vec::new();
    let mut row_at: Option<u32> = None;
    let mut batch: Vec<csv::ByteRecord> = Vec::with_capacity(BATCH);
    let mut flush_row = |row: u32, cells: &mut Vec<(u32, String)>, batch: &mut Vec<csv::ByteRecord>| -> Result<bool, InputError> {
        if cells.iter().all(|(_, t)| t.trim().is_empty()) {
            cells.clear();
            return Ok(true);
        }
        match header {
            None => {
                let width = cells.iter().map(|(c, _)| *c + 1).max().unwrap_or(0) as usize;
                let mut names = vec![String::new(); width];
                for (c, t) in cells.drain(..) {
                    names[c as usize] = t.trim_start_matches([NUMBER_CELL_MARK, BOOLEAN_CELL_MARK]).to_string();
                }
                header = Some(width);
                if header_tx.send(Ok(names)).is_err() {
                    return Ok(false);
                }
            }
            Some(width) => {
                let used = cells.iter().filter(|(_, t)| !t.is_empty()).map(|(c, _)| *c as usize + 1).max().unwrap_or(0);
                let mut fields: Vec<&str> = vec![""; width.max(used)];
                for (c, t) in cells.iter() {
                    if (*c as usize) < fields.len() {
                        fields[*c as usize] = t;
                    }
                }
                let mut record = csv::ByteRecord::from(fields);
                let mut pos = csv::Position::new();
                pos.set_line(u64::from(row) + 1);
                record.set_position(Some(pos));
                cells.clear();
                batch.push(record);
                if batch.len() == BATCH && tx.send(Ok(std::mem::replace(batch, Vec::with_capacity(BATCH)))).is_err() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    };
    loop {
        let cell = cells.next_cell().map_err(|e| xlsx_error(path, format!("sheet {sheet:?}: {e}")))?;
        let Some(cell) = cell else { break };
        let (row, col) = cell.get_position();
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err(xlsx_error(path, format!("sheet {sheet:?}: a cell at row {}, column {} is beyond Excel's limits", row + 1, col + 1)));
        }
        if row_at != Some(row) {
            if let Some(r) = row_at {
                if !flush_row(r, &mut row_cells, &mut batch)? {
                    return Ok(());
                }
            }
            row_at = Some(row);
        }
        let text = cell_text(cell.get_value());
        if !text.is_empty() {
            row_cells.push((col, text));
        }
    }
    if let Some(r) = row_at {
        if !flush_row(r, &mut row_cells, &mut batch)? {
            return Ok(());
        }
    }
    if header.is_none() {
        return Err(xlsx_error(path, format!("sheet {sheet:?} has no header row (it is empty)")));
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
    Ok(())
}

/// A cell as text: numbers in their shortest decimal form (marked), dates as
/// `YYYY-MM-DD` (with the time when there is one), errors and formulas
/// without a cached value empty.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty | DataRef::Error(_) => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Int(i) => format!("{NUMBER_CELL_MARK}{i}"),
        DataRef::Float(f) => format!("{NUMBER_CELL_MARK}{}", shortest(*f)),
        DataRef::Bool(b) => format!("{BOOLEAN_CELL_MARK}{}", if *b { "TRUE" } else { "FALSE" }),
        // A date-formatted cell. (Workbooks of the 1904 date system, from old
        // Mac Excel, are read as the 1900 system: calamine does not say which.)
        DataRef::DateTime(d) => {
            crate::columns::excel_serial_date(d.as_f64(), false).unwrap_or_else(|| format!("{NUMBER_CELL_MARK}{}", shortest(d.as_f64())))
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
    }
}

/// The shortest decimal text of a number: `30` for 30.0, `99.1` for 99.1.
fn shortest(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Writes rows of text to a one-sheet workbook in constant memory: the header
/// in bold and frozen, every cell as text (codes keep their spelling).
pub struct XlsxWriter {
    workbook: rust_xlsxwriter::Workbook,
    row: u32,
    bold: rust_xlsxwriter::Format,
}

fn write_error(e: rust_xlsxwriter::XlsxError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl XlsxWriter {
    /// A workbook whose sheet is named `sheet`, with this header row.
    pub fn new<S: AsRef<str>>(sheet: &str, header: &[S]) -> std::io::Result<XlsxWriter> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        {
            let ws = workbook.add_worksheet_with_constant_memory();
            ws.set_name(sheet).map_err(write_error)?;
            ws.set_freeze_panes(1, 0).map_err(write_error)?;
            for (c, h) in header.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, h.as_ref(), &bold).map_err(write_error)?;
            }
        }
        Ok(XlsxWriter { workbook, row: 1, bold })
    }

    /// Appends one row. Past Excel's 1,048,576 rows it is an error.
    pub fn write_row<S: AsRef<str>>(&mut self, cells: &[S]) -> std::io::Result<()> {
        if self.row >= MAX_ROWS {
            return Err(std::io::Error::other("more than 1,048,576 rows do not fit in one Excel sheet: write CSV instead"));
        }
        let ws = self.workbook.worksheet_from_index(0).map_err(write_error)?;
        for (c, v) in cells.iter().enumerate() {
            let v = v.as_ref();
            if !v.is_empty() {
                ws.write_string(self.row, c as u16, v).map_err(write_error)?;
            }
        }
        self.row += 1;
        Ok(())
    }

    /// Writes the workbook to `path`.
    pub fn save(mut self, path: &Path) -> std::io::Result<()> {
        let _ = &self.bold;
        self.workbook.save(path).map_err(write_error)
    }
}

/// Converts a CSV file (results, say) into a workbook at `path`.
pub fn csv_to_xlsx(csv_path: &Path, path: &Path, sheet: &str) -> std::io::Result<()> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_path(csv_path).map_err(std::io::Error::other)?;
    let header: Vec<String> = reader.headers().map_err(std::io::Error::other)?.iter().map(str::to_string).collect();
    let mut writer = XlsxWriter::new(sheet, &header)?;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(std::io::Error::other)? {
        writer.write_row(&record.iter().collect::<Vec<_>>())?;
    }
    writer.save(path)
}
