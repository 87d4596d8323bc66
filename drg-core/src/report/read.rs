//! Reading the cases of a report from CSV, streaming: grouped rows (with
//! `status` and `drg` columns) as they are, other files grouped here with a
//! pack. Fields are read with [`Case::set_field`], as every case reader
//! reads them.

use std::borrow::Cow;
use std::io::Read;

use crate::case::{Case, Field};
use crate::io::{CsvLayout, CsvLimits, CsvRows, InputError, Record};
use crate::read::RecordSource;
use crate::parallel::par_map;
use crate::{Grouper, Status};

use super::ReportRow;

/// Rows read at a time (grouped on every core when the file is grouped here).
const BATCH: usize = 4096;

/// A case file for a report, its header read.
pub struct ReportReader<R: Read> {
    reader: Rows<R>,
    width: usize,
    hospital: Option<usize>,
    dept: Option<usize>,
    discharge: Option<usize>,
    los_days: Option<usize>,
    total_cost: Option<usize>,
    /// The `status` and `drg` columns, when the file has both.
    results: Option<(usize, usize)>,
    /// How to read a whole case, to group it (files without results).
    layout: Option<CsvLayout>,
}

/// What reading found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadSummary {
    /// Rows read.
    pub rows: u64,
    /// Rows grouped here with the pack.
    pub grouped_here: u64,
    /// Rows reported to the problem callback.
    pub problems: u64,
}

/// A file that cannot be read as cases for a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportInputError {
    /// The input cannot be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Neither results nor cases: the header's columns are the field.
    #[error("the cases have neither status and drg columns (grouped cases) nor the case columns id, sex, age_years and diagnoses to group them (the header has: {0})")]
    NoResultsNoCases(String),
    /// Cases without results, and no pack to group them with.
    #[error("the cases have no status and drg columns: they are grouped here, which needs a pack")]
    NeedsPack,
}

/// Where a report's records come from: a CSV reader, or any file the
/// reading layer opens ([`crate::read::open_records`]: CSV, GBK, Excel).
/// The source is boxed: a reader with its layout is several times the size
/// of a CSV reader (clippy's large_enum_variant).
enum Rows<R: Read> {
    Csv(CsvRows<R>),
    Source(Box<RecordSource>),
}

impl<R: Read> Rows<R> {
    fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        match self {
            Rows::Csv(r) => r.read(record),
            Rows::Source(s) => s.read_record(record),
        }
    }
}

impl ReportReader<std::io::Empty> {
    /// Reads the cases of a file opened by [`crate::read::open_records`]:
    /// its columns are found under their aliases and a mapping file's names
    /// (specs/columns.md), `status` and `drg` by name, and its cells are
    /// read as every reader reads them (Excel number cells, 死亡, `12,345.60`).
    pub fn from_records(source: RecordSource) -> Result<Self, ReportInputError> {
        let results = source.column("status").zip(source.column("drg"));
        let names: Vec<String> = source.layout().plan().columns.iter().map(|c| c.header.clone()).collect();
        let layout = match results {
            Some(_) => None,
            None if source.has_case_columns() => Some(source.layout().clone()),
            None => return Err(ReportInputError::NoResultsNoCases(names.join(", "))),
        };
        Ok(ReportReader {
            width: names.len(),
            hospital: source.column(Field::Hospital.name()),
            dept: source.column(Field::Dept.name()),
            discharge: source.column(Field::Discharge.name()),
            los_days: source.column(Field::LosDays.name()),
            total_cost: source.column(Field::TotalCost.name()),
            results,
            layout,
            reader: Rows::Source(Box::new(source)),
        })
    }
}

fn column_names(header: &Record) -> Vec<String> {
    header
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let n = String::from_utf8_lossy(n);
            let n = if i == 0 { n.trim_start_matches('\u{feff}') } else { &n };
            n.trim().to_string()
        })
        .collect()
}

impl<R: Read> ReportReader<R> {
    /// Reads the header.
    pub fn new(input: R) -> Result<Self, ReportInputError> {
        let mut reader = CsvRows::new(input, CsvLimits::default());
        let mut header = Record::new();
        reader.read(&mut header)?;
        if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
            return Err(InputError::Empty.into());
        }
        let names = column_names(&header);
        let col = |f: &str| names.iter().position(|n| n == f);
        let results = col("status").zip(col("drg"));
        let layout = if results.is_none() {
            match CsvLayout::from_header(&header) {
                Ok(l) => Some(l),
                Err(InputError::MissingColumns { .. }) => return Err(ReportInputError::NoResultsNoCases(names.join(", "))),
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        Ok(ReportReader {
            width: names.len(),
            hospital: col(Field::Hospital.name()),
            dept: col(Field::Dept.name()),
            discharge: col(Field::Discharge.name()),
            los_days: col(Field::LosDays.name()),
            total_cost: col(Field::TotalCost.name()),
            results,
            layout,
            reader: Rows::Csv(reader),
        })
    }

    /// True when the file has no `status` and `drg` columns: its rows are
    /// grouped with a pack.
    pub fn needs_grouper(&self) -> bool {
        self.results.is_none()
    }

    /// Reads every row and gives it to `add`; a value that cannot be read is
    /// given to `problem` with the row's line (and the row goes on, without
    /// that value). `grouper` groups the rows of a file without results, on
    /// `threads` threads (0: every core).
    pub fn read_all(
        &mut self,
        grouper: Option<&Grouper>,
        threads: usize,
        add: &mut dyn FnMut(&ReportRow<'_>),
        problem: &mut dyn FnMut(u64, String),
    ) -> Result<ReadSummary, ReportInputError> {
        let grouping = match (&self.layout, grouper) {
            (Some(layout), Some(g)) => Some((layout, g)),
            (Some(_), None) => return Err(ReportInputError::NeedsPack),
            (None, _) => None,
        };
        let mut summary = ReadSummary::default();
        let mut batch: Vec<Record> = (0..BATCH).map(|_| Record::new()).collect();
        let mut case = Case::default();
        let mut msgs: Vec<String> = Vec::new();
        loop {
            let mut filled = 0;
            while filled < BATCH && self.reader.read(&mut batch[filled])? {
                filled += 1;
            }
            if filled == 0 {
                break;
            }
            let records = &batch[..filled];
            let grouped: Vec<(Status, Option<String>)> = match grouping {
                Some((layout, g)) => {
                    summary.grouped_here += filled as u64;
                    par_map(records, threads, |rec| match layout.parse(rec).case {
                        Ok(case) => {
                            let r = g.group(&case);
                            (r.status, r.drg.map(str::to_string))
                        }
                        Err(_) => (Status::Invalid, None),
                    })
                }
                None => Vec::new(),
            };
            for (i, rec) in records.iter().enumerate() {
                summary.rows += 1;
                let line = rec.line();
                let short = rec.len() != self.width;
                if short {
                    msgs.push(format!("expected {} fields, found {}; counted as an invalid case", self.width, rec.len()));
                }
                self.read_fields(rec, &mut case, &mut msgs);
                let drg_text;
                let (status, drg): (Status, Option<&str>) = if short {
                    (Status::Invalid, None)
                } else if let Some((s, d)) = self.results {
                    let status_text = cell(rec, Some(s), "status", &mut msgs);
                    drg_text = cell(rec, Some(d), "drg", &mut msgs);
                    read_result(&status_text, &drg_text, &mut msgs)
                } else {
                    let (s, d) = &grouped[i];
                    (*s, d.as_deref())
                };
                add(&ReportRow {
                    hospital: case.hospital.as_deref().unwrap_or(""),
                    dept: case.dept.as_deref().unwrap_or(""),
                    status,
                    drg,
                    death: is_death(case.discharge.as_deref()),
                    total_cost: case.total_cost,
                    los_days: case.los_days,
                });
                for m in msgs.drain(..) {
                    summary.problems += 1;
                    problem(line, m);
                }
            }
        }
        Ok(summary)
    }

    /// The fields a report uses besides the result: hospital, department and
    /// discharge always read; a length of stay or cost that cannot be read
    /// is noted in `msgs` and left out of its figures.
    fn read_fields(&self, rec: &Record, case: &mut Case, msgs: &mut Vec<String>) {
        for (column, field) in [(self.hospital, Field::Hospital), (self.dept, Field::Dept), (self.discharge, Field::Discharge)] {
            // Text fields always read.
            let _ = case.set_field(field, &cell(rec, column, field.name(), msgs));
        }
        if let Err(e) = case.set_field(Field::LosDays, &cell(rec, self.los_days, "los_days", msgs)) {
            msgs.push(format!("{e}; left out of time figures"));
            case.los_days = None;
        }
        if let Err(e) = case.set_field(Field::TotalCost, &cell(rec, self.total_cost, "total_cost", msgs)) {
            msgs.push(format!("{e}; left out of cost figures"));
            case.total_cost = None;
        }
    }
}

/// The status and DRG of a grouped row, from its `status` and `drg` cells; a
/// status that cannot be used is noted in `msgs` and counted as not grouped.
fn read_result<'t>(status_text: &str, drg_text: &'t str, msgs: &mut Vec<String>) -> (Status, Option<&'t str>) {
    let drg = drg_text.trim();
    match status_text.trim() {
        "grouped" if drg.is_empty() => {
            msgs.push("grouped with an empty drg; counted as not grouped".into());
            (Status::Grouped, None)
        }
        "grouped" => (Status::Grouped, Some(drg)),
        "ungroupable" => (Status::Ungroupable, None),
        "ambiguous" => (Status::Ambiguous, None),
        "invalid" => (Status::Invalid, None),
        other => {
            msgs.push(format!("status: {other:?} is not one of grouped, ungroupable, ambiguous, invalid; counted as not grouped"));
            (Status::Ungroupable, None)
        }
    }
}

/// The text of column `c` of a record ("" without it); a cell that is not
/// UTF-8 is read lossily and noted in `msgs`.
fn cell<'r>(rec: &'r Record, c: Option<usize>, name: &str, msgs: &mut Vec<String>) -> Cow<'r, str> {
    match c.and_then(|c| rec.get(c)) {
        None => Cow::Borrowed(""),
        Some(raw) => match std::str::from_utf8(raw) {
            // An Excel number or boolean cell carries a mark (crate::io).
            Ok(_) if raw.first() == Some(&0xEE) => crate::read::cell_text(raw),
            Ok(t) => Cow::Borrowed(t),
            Err(_) => {
                msgs.push(format!("{name}: not valid UTF-8 (a GBK export? convert it to UTF-8)"));
                String::from_utf8_lossy(raw)
            }
        },
    }
}

/// A death: 离院方式 `5` (or its name, 死亡).
pub fn is_death(discharge: Option<&str>) -> bool {
    matches!(discharge.map(str::trim), Some("5" | "死亡"))
}
