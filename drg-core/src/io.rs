//! Reading cases from CSV and JSON (specs/cases.md).
//!
//! Readers never stop at a bad row: a row that cannot be read becomes a
//! [`CaseRow`] whose `case` is an error with the line and the reason, so that
//! the output keeps one row per input row. Only a failure to read the input at
//! all (an I/O error, a header without the required columns) is fatal.

use std::io::{BufRead, Read};

use serde_json::Value;

use crate::case::{Case, Field};

/// A row that could not be read as a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The row's id, when it could be read.
    pub id: String,
    /// `line 12: age_years: "abc" is not a number`.
    pub reason: String,
}

/// One input row.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRow {
    /// The line the row starts on (1 is the CSV header), or the item number of
    /// a JSON array.
    pub line: u64,
    pub case: Result<Case, RowError>,
    /// The values of the input's unknown columns, in [`CsvCases::extra_columns`] order.
    pub extra: Vec<String>,
}

/// A failure to read the input as a whole.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Csv(#[from] csv::Error),
    #[error("the input is empty: a CSV of cases starts with a header line")]
    Empty,
    #[error("the header has no column {missing} (it has: {found})")]
    MissingColumns { missing: String, found: String },
    #[error("the header names column {0:?} twice")]
    DuplicateColumn(String),
    #[error("the input is not valid UTF-8 ({0}); convert it first (HIS exports are often GBK: iconv -f GBK -t UTF-8)")]
    Encoding(String),
    #[error("{0}")]
    Json(String),
}

/// The columns a CSV must have: without them no row could be grouped.
pub const REQUIRED_COLUMNS: [Field; 4] = [Field::Id, Field::Sex, Field::AgeYears, Field::Diagnoses];

/// Cases from a CSV with a header line naming the columns of specs/cases.md.
/// Column order is free; unknown columns are kept in [`CaseRow::extra`].
pub struct CsvCases<R: Read> {
    reader: csv::Reader<R>,
    layout: CsvLayout,
    record: csv::ByteRecord,
}

/// What the header of a case CSV says: which field each column holds. It turns
/// a raw record into a [`CaseRow`], on any thread.
#[derive(Clone, Debug)]
pub struct CsvLayout {
    /// The field of each input column, or `None` for an unknown column.
    columns: Vec<Option<Field>>,
    extra_names: Vec<String>,
    id_column: usize,
}

impl CsvLayout {
    /// Reads a header record.
    pub fn from_header(header: &csv::ByteRecord) -> Result<Self, InputError> {
        if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
            return Err(InputError::Empty);
        }
        let mut names = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw).map_err(|e| InputError::Encoding(format!("header, column {}: {e}", i + 1)))?;
            let name = if i == 0 { name.trim_start_matches('\u{feff}') } else { name };
            names.push(name.trim().to_string());
        }
        let mut columns = Vec::with_capacity(names.len());
        let mut extra_names = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(InputError::DuplicateColumn(name.clone()));
            }
            let field = Field::from_name(name);
            if field.is_none() {
                extra_names.push(name.clone());
            }
            columns.push(field);
        }
        let missing: Vec<&str> =
            REQUIRED_COLUMNS.iter().filter(|f| !columns.contains(&Some(**f))).map(|f| f.name()).collect();
        if !missing.is_empty() {
            return Err(InputError::MissingColumns { missing: missing.join(", "), found: names.join(", ") });
        }
        let id_column = columns.iter().position(|c| *c == Some(Field::Id)).expect("checked above");
        Ok(CsvLayout { columns, extra_names, id_column })
    }

    /// The names of the input's unknown columns, carried through.
    pub fn extra_columns(&self) -> &[String] {
        &self.extra_names
    }

    /// The raw id of a record, trimmed (empty when the record has none).
    pub fn id_of<'r>(&self, rec: &'r csv::ByteRecord) -> &'r [u8] {
        rec.get(self.id_column).unwrap_or(b"").trim_ascii()
    }

    /// Reads one record as a case; a record that cannot be read becomes an
    /// error naming its line.
    pub fn parse(&self, rec: &csv::ByteRecord) -> CaseRow {
        let mut case = Case::default();
        let mut extra = Vec::with_capacity(self.extra_names.len());
        let line = rec.position().map_or(0, |p| p.line());
        match self.parse_into(rec, &mut case, &mut extra) {
            Ok(()) => CaseRow { line, case: Ok(case), extra },
            Err(e) => CaseRow { line, case: Err(e), extra },
        }
    }

    /// Reads one record into `case` and `extra` (the unknown columns' values),
    /// reusing their memory: every field the header names is set. A record
    /// that cannot be read is an error naming its line (`extra` is still
    /// filled, with empty values for a record of the wrong length).
    pub fn parse_into(&self, rec: &csv::ByteRecord, case: &mut Case, extra: &mut Vec<String>) -> Result<(), RowError> {
        let line = rec.position().map_or(0, |p| p.line());
        let fail = |reason: String| {
            let id = rec.get(self.id_column).map(|b| String::from_utf8_lossy(b).trim().to_string()).unwrap_or_default();
            RowError { id, reason: format!("line {line}: {reason}") }
        };
        extra.clear();
        if rec.len() != self.columns.len() {
            extra.resize(self.extra_names.len(), String::new());
            return Err(fail(format!("expected {} fields, found {}", self.columns.len(), rec.len())));
        }
        let mut problem = None;
        for (i, (raw, column)) in rec.iter().zip(&self.columns).enumerate() {
            let text = match std::str::from_utf8(raw) {
                Ok(t) => t,
                Err(_) => {
                    problem.get_or_insert_with(|| {
                        format!("column {} is not valid UTF-8 (a GBK export? convert it to UTF-8)", i + 1)
                    });
                    if column.is_none() {
                        extra.push(String::from_utf8_lossy(raw).into_owned());
                    }
                    continue;
                }
            };
            match column {
                Some(field) => {
                    if let Err(e) = case.set_field(*field, text) {
                        problem.get_or_insert_with(|| e.to_string());
                    }
                }
                None => extra.push(text.to_string()),
            }
        }
        match problem {
            Some(reason) => Err(fail(reason)),
            None => Ok(()),
        }
    }
}

impl<R: Read> CsvCases<R> {
    pub fn new(input: R) -> Result<Self, InputError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(input);
        let layout = CsvLayout::from_header(reader.byte_headers()?)?;
        Ok(CsvCases { reader, layout, record: csv::ByteRecord::new() })
    }

    pub fn layout(&self) -> &CsvLayout {
        &self.layout
    }

    /// The names of the input's unknown columns, carried through.
    pub fn extra_columns(&self) -> &[String] {
        self.layout.extra_columns()
    }

    /// Reads the next raw record into `record` (false at the end), for callers
    /// that parse records elsewhere with [`CsvLayout::parse`].
    pub fn read_record(&mut self, record: &mut csv::ByteRecord) -> Result<bool, InputError> {
        Ok(self.reader.read_byte_record(record)?)
    }

    /// The next row, `None` at the end.
    pub fn next_row(&mut self) -> Option<Result<CaseRow, InputError>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Err(e) => Some(Err(e.into())),
            Ok(true) => Some(Ok(self.layout.parse(&self.record))),
        }
    }
}

impl<R: Read> Iterator for CsvCases<R> {
    type Item = Result<CaseRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}

/// Cases from JSON: one object a line (JSONL), or one array of objects.
///
/// Unknown keys are kept in [`JsonCaseRow::extra`].
pub struct JsonCases<R: BufRead> {
    source: JsonSource<R>,
}

enum JsonSource<R> {
    Lines { input: R, line: u64, buf: Vec<u8> },
    Array { items: std::vec::IntoIter<Value>, index: u64 },
}

/// One JSON input row: the case (or why it could not be read) and the
/// object's unknown keys.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonCaseRow {
    /// The line (JSONL) or the 1-based item number (array).
    pub line: u64,
    pub case: Result<Case, RowError>,
    pub extra: Vec<(String, Value)>,
}

impl<R: BufRead> JsonCases<R> {
    /// Reads JSONL, or a JSON array when the input's first non-blank character
    /// is `[` (the array is read whole).
    pub fn new(mut input: R) -> Result<Self, InputError> {
        let starts_array = loop {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                break false;
            }
            let skip = buf
                .iter()
                .take_while(|&&b| b.is_ascii_whitespace())
                .count()
                .max(if buf.starts_with("\u{feff}".as_bytes()) { 3 } else { 0 });
            if skip == 0 {
                break buf[0] == b'[';
            }
            let n = skip.min(buf.len());
            input.consume(n);
        };
        if starts_array {
            let mut text = String::new();
            input.read_to_string(&mut text).map_err(|e| InputError::Encoding(e.to_string()))?;
            let items: Vec<Value> = serde_json::from_str(&text).map_err(|e| InputError::Json(format!("the JSON array: {e}")))?;
            Ok(JsonCases { source: JsonSource::Array { items: items.into_iter(), index: 0 } })
        } else {
            Ok(JsonCases { source: JsonSource::Lines { input, line: 0, buf: Vec::new() } })
        }
    }
}

fn json_row(line: u64, where_: &str, value: Result<Value, String>) -> JsonCaseRow {
    let fail = |id: String, reason: String| JsonCaseRow {
        line,
        case: Err(RowError { id, reason: format!("{where_} {line}: {reason}") }),
        extra: vec![],
    };
    let value = match value {
        Ok(v) => v,
        Err(e) => return fail(String::new(), e),
    };
    let Value::Object(object) = value else {
        return fail(String::new(), "expected a JSON object".into());
    };
    match Case::from_json_object(&object) {
        Ok((case, extra)) => JsonCaseRow { line, case: Ok(case), extra },
        Err(e) => fail(crate::case::json_id(&object), e.to_string()),
    }
}

impl<R: BufRead> Iterator for JsonCases<R> {
    type Item = Result<JsonCaseRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            JsonSource::Array { items, index } => {
                let item = items.next()?;
                *index += 1;
                Some(Ok(json_row(*index, "item", Ok(item))))
            }
            JsonSource::Lines { input, line, buf } => loop {
                buf.clear();
                match input.read_until(b'\n', buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => return Some(Err(e.into())),
                }
                *line += 1;
                let text = match std::str::from_utf8(buf) {
                    Ok(t) => t,
                    Err(_) => {
                        return Some(Ok(json_row(*line, "line", Err("not valid UTF-8 (a GBK export? convert it to UTF-8)".into()))))
                    }
                };
                let text = text.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue;
                }
                let value = serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}"));
                return Some(Ok(json_row(*line, "line", value)));
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Sex;

    #[test]
    fn csv_rows_with_free_column_order_and_extras() {
        let input = "\u{feff}diagnoses,ward,id,sex,age_years\nK35.800|E11.900,3B,1,男,30\n";
        let mut cases = CsvCases::new(input.as_bytes()).unwrap();
        assert_eq!(cases.extra_columns(), ["ward"]);
        let row = cases.next().unwrap().unwrap();
        assert_eq!(row.line, 2);
        let case = row.case.unwrap();
        assert_eq!(case.id, "1");
        assert_eq!(case.sex, Some(Sex::Male));
        assert_eq!(case.diagnoses, vec!["K35.800", "E11.900"]);
        assert_eq!(row.extra, vec!["3B"]);
        assert!(cases.next().is_none());
    }

    #[test]
    fn bad_rows_are_reported_with_their_line() {
        let input = "id,sex,age_years,diagnoses\n1,1,30,K35.800\n2,1,abc,K35.800\n3,1\n4,1,30,\"K35.800\"\n";
        let rows: Vec<CaseRow> = CsvCases::new(input.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 4);
        assert!(rows[0].case.is_ok());
        let e = rows[1].case.as_ref().unwrap_err();
        assert_eq!(e.id, "2");
        assert_eq!(e.reason, "line 3: age_years: \"abc\" is not a number");
        let e = rows[2].case.as_ref().unwrap_err();
        assert_eq!(e.id, "3");
        assert_eq!(e.reason, "line 4: expected 4 fields, found 2");
        assert!(rows[3].case.is_ok());
    }

    #[test]
    fn invalid_utf8_is_a_bad_row_not_a_crash() {
        let mut input = b"id,sex,age_years,diagnoses\n1,1,30,".to_vec();
        input.extend_from_slice(&[0xB8, 0xDF]);
        input.extend_from_slice(b"\n2,1,30,K35.800\n");
        let rows: Vec<CaseRow> = CsvCases::new(&input[..]).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].case.as_ref().unwrap_err().reason.contains("UTF-8"));
        assert!(rows[1].case.is_ok());
    }

    #[test]
    fn a_header_without_required_columns_is_refused() {
        let err = CsvCases::new("id,sex,diagnoses\n".as_bytes()).err().unwrap();
        assert_eq!(err.to_string(), "the header has no column age_years (it has: id, sex, diagnoses)");
        assert!(matches!(CsvCases::new("id,id,sex,age_years,diagnoses\n".as_bytes()), Err(InputError::DuplicateColumn(_))));
    }

    #[test]
    fn jsonl_and_arrays() {
        let input = "{\"id\": \"1\", \"sex\": 1, \"age_years\": 30, \"diagnoses\": [\"K35.800\"], \"x\": 5}\n\nnot json\n[1]\n";
        let rows: Vec<JsonCaseRow> = JsonCases::new(input.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].case.as_ref().unwrap().diagnoses, vec!["K35.800"]);
        assert_eq!(rows[0].extra, vec![("x".to_string(), serde_json::json!(5))]);
        assert!(rows[1].case.as_ref().unwrap_err().reason.starts_with("line 3: not valid JSON"));
        assert_eq!(rows[2].case.as_ref().unwrap_err().reason, "line 4: expected a JSON object");

        let input = " [{\"id\": \"a\", \"diagnoses\": \"K35.800|I10.X05\"}, {\"id\": 7, \"sex\": true}]";
        let rows: Vec<JsonCaseRow> = JsonCases::new(input.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows[0].case.as_ref().unwrap().diagnoses, vec!["K35.800", "I10.x05"]);
        let e = rows[1].case.as_ref().unwrap_err();
        assert_eq!(e.id, "7");
        assert!(e.reason.starts_with("item 2: sex:"), "{}", e.reason);
    }
}
