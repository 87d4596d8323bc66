//! The rows of a case CSV, read as the csv crate reads them, mostly without it.
//!
//! Nearly every row of a hospital's export fits on one line of a buffer and
//! is within the [`CsvLimits`]; most hold no quote at all. Such a row is cut
//! at its commas here, straight from the buffer, instead of going byte by
//! byte through the limit guard ([`GuardedCsv`]) and then through the csv
//! crate's parser: reading is about a third of the cost of a grouped row, and
//! this is most of it.
//!
//! A row that is anything else (a quoted field running over a line end, a
//! row or field past the limits, a row longer than the buffer) is not read
//! here: from that row's first byte on, the rest of the input goes to the
//! csv crate behind the guard, as every row did before, so that every rule
//! and message of the full reader still holds. The rows read before it are
//! the same bytes, at the same positions, as that reader would give (tested
//! against it in `tests`), quirks included: like the csv crate, a lone `\r`
//! ends a row, and a row's position is taken before the blank lines
//! (or the `\n` of a `\r\n`) ahead of it are skipped.

use std::io::{Chain, Cursor, Read};

use super::{bytes_equal, CsvLimits, GuardedCsv, InputError, Record};

/// How much of the input the plain reader holds at once; a row must fit in
/// it to be read here (a real row is a few hundred bytes).
const BUFFER_BYTES: usize = 256 << 10;

/// The rows of a CSV, the header first, as raw [`Record`]s: the reader
/// every case CSV of drg is read with. A row or field past its
/// [`CsvLimits`], or a quote the input ends inside, makes reading fail with
/// [`InputError::Limit`] naming the line; the rows before it are read.
pub struct CsvRows<R: Read> {
    state: State<R>,
}

enum State<R: Read> {
    Plain(Box<Plain<R>>),
    Full(Box<Full<R>>),
    /// Only while the input moves from the one to the other.
    Moving,
}

/// The plain reader: a buffer over the input.
struct Plain<R> {
    input: R,
    buf: Vec<u8>,
    /// The first unread byte in `buf`.
    start: usize,
    /// The end of what was read into `buf`.
    end: usize,
    eof: bool,
    /// The csv crate's line at `start` (1 + the `\n` before it).
    line: u64,
    /// The input's offset of `buf[start]`.
    byte: u64,
    limits: CsvLimits,
    /// The next row is the header (it has its own limit).
    header: bool,
    /// A quoted row's fields, unquoted, before they go into the record.
    unquoted: Vec<u8>,
    /// Where each field of `unquoted` ends.
    ends: Vec<usize>,
}

/// The rest of the input, read by the csv crate behind the guard; its
/// positions count from where it took over.
struct Full<R: Read> {
    reader: csv::Reader<GuardedCsv<Chain<Cursor<Vec<u8>>, R>>>,
    record: csv::ByteRecord,
    lines_before: u64,
    bytes_before: u64,
}

/// What the plain reader made of the next row.
enum Step {
    Row,
    End,
    /// Not a plain row: the full reader takes over at the call's start.
    NotPlain,
}

impl<R: Read> CsvRows<R> {
    /// Rows of `input`, guarded by `limits`; the first row read is the header.
    pub fn new(input: R, limits: CsvLimits) -> Self {
        Self::with_buffer(input, limits, BUFFER_BYTES)
    }

    /// [`Self::new`] with a buffer of `bytes` (tests take small ones).
    fn with_buffer(input: R, limits: CsvLimits, bytes: usize) -> Self {
        let plain = Plain {
            input,
            buf: vec![0; bytes.max(1)],
            start: 0,
            end: 0,
            eof: false,
            line: 1,
            byte: 0,
            limits,
            header: true,
            unquoted: Vec::new(),
            ends: Vec::new(),
        };
        CsvRows {
            state: State::Plain(Box::new(plain)),
        }
    }

    /// Reads the next row into `record` (with its position), as
    /// `csv::Reader::read_byte_record` would: false at the end of the input.
    pub fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        loop {
            match &mut self.state {
                State::Full(full) => return full.read(record),
                State::Plain(plain) => match plain.read(record).map_err(InputError::from)? {
                    Step::Row => return Ok(true),
                    Step::End => return Ok(false),
                    Step::NotPlain => self.hand_over(),
                },
                State::Moving => unreachable!("the reader is moved only inside hand_over"),
            }
        }
    }

    /// Gives the unread bytes and the rest of the input to the full reader.
    fn hand_over(&mut self) {
        let State::Plain(plain) = std::mem::replace(&mut self.state, State::Moving) else {
            unreachable!("hand_over is called on the plain reader")
        };
        let Plain {
            input,
            buf,
            start,
            end,
            line,
            byte,
            limits,
            header,
            ..
        } = *plain;
        let rest = Cursor::new(buf[start..end].to_vec()).chain(input);
        let guard = GuardedCsv::resuming(rest, limits, line, header);
        let reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(guard);
        self.state = State::Full(Box::new(Full {
            reader,
            record: csv::ByteRecord::new(),
            lines_before: line - 1,
            bytes_before: byte,
        }));
    }
}

impl<R: Read> Full<R> {
    fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| match InputError::from_csv(e) {
                InputError::Csv { line, message } => InputError::Csv {
                    line: line.map(|l| l + self.lines_before),
                    message,
                },
                other => other,
            })?;
        record.copy_csv(&self.record);
        record.line += self.lines_before;
        record.byte += self.bytes_before;
        Ok(more)
    }
}

impl<R: Read> Plain<R> {
    /// Reads the next row, skipping the blank lines ahead of it, unless it is
    /// not plain; then nothing is consumed.
    fn read(&mut self, record: &mut Record) -> std::io::Result<Step> {
        record.start(self.line, self.byte);
        let (mut line, mut row_start) = (self.line, self.start);
        loop {
            // Blank lines, and the `\n` of a `\r\n`, between rows.
            while row_start < self.end && matches!(self.buf[row_start], b'\n' | b'\r') {
                line += (self.buf[row_start] == b'\n') as u64;
                row_start += 1;
            }
            let row_end = memchr::memchr2(b'\n', b'\r', &self.buf[row_start..self.end])
                .map(|i| row_start + i);
            if row_end.is_some() || self.eof {
                let row_end = row_end.unwrap_or(self.end);
                if row_start == row_end {
                    self.consume_to(row_end, line);
                    return Ok(Step::End);
                }
                if !self.split(row_start, row_end, record) {
                    return Ok(Step::NotPlain);
                }
                // The row's line end is consumed with it, as the csv crate does.
                let next = (row_end + 1).min(self.end);
                line += (row_end < self.end && self.buf[row_end] == b'\n') as u64;
                self.header = false;
                self.consume_to(next, line);
                return Ok(Step::Row);
            }
            // The row runs past the buffered bytes: read more, keeping all
            // from the call's start (a hand-over starts there).
            let skipped = row_start - self.start;
            if !self.fill()? {
                return Ok(Step::NotPlain);
            }
            row_start = self.start + skipped;
        }
    }

    /// Consumes the buffer up to `to`, the csv crate's line there being `line`.
    fn consume_to(&mut self, to: usize, line: u64) {
        self.byte += (to - self.start) as u64;
        self.start = to;
        self.line = line;
    }

    /// Moves the unread bytes to the front and reads more after them: false
    /// when the buffer is full of them (a row too long to read here).
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Ok(false);
        }
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Cuts `buf[start..end]` (one line) into `record`'s fields: false when
    /// it is not a plain row (a row or field past the limits, or a quoted
    /// field left open at the line's end).
    fn split(&mut self, start: usize, end: usize, record: &mut Record) -> bool {
        let row_limit = if self.header {
            self.limits.header_bytes
        } else {
            self.limits.line_bytes
        };
        if end - start > row_limit {
            return false;
        }
        let row = &self.buf[start..end];
        if has_quote(row) {
            return self.split_quoted(start, end, record);
        }
        record.set_plain_line(row);
        let field_limit = self.limits.field_bytes;
        (0..record.len()).all(|i| record.span(i).is_some_and(|(s, e)| e - s <= field_limit))
    }

    /// [`Self::split`] for a line holding a quote: the csv crate's rules (a
    /// quote opens a quoted field only at the field's start; `""` inside it
    /// is one quote; bytes after its closing quote join the field).
    fn split_quoted(&mut self, start: usize, end: usize, record: &mut Record) -> bool {
        #[derive(PartialEq)]
        enum At {
            FieldStart,
            InField,
            InQuotes,
            QuoteInQuotes,
        }
        let field_limit = self.limits.field_bytes;
        self.unquoted.clear();
        self.ends.clear();
        let mut at = At::FieldStart;
        let mut raw_field = 0;
        for &b in &self.buf[start..end] {
            raw_field += 1;
            if raw_field > field_limit && !(b == b',' && at != At::InQuotes) {
                return false;
            }
            at = match (at, b) {
                (At::InQuotes, b'"') => At::QuoteInQuotes,
                (At::InQuotes, _) => {
                    self.unquoted.push(b);
                    At::InQuotes
                }
                (At::FieldStart, b'"') => At::InQuotes,
                (At::QuoteInQuotes, b'"') => {
                    self.unquoted.push(b'"');
                    At::InQuotes
                }
                (_, b',') => {
                    self.ends.push(self.unquoted.len());
                    raw_field = 0;
                    At::FieldStart
                }
                (_, _) => {
                    self.unquoted.push(b);
                    At::InField
                }
            };
        }
        if at == At::InQuotes {
            // The quoted field goes on past the line end.
            return false;
        }
        self.ends.push(self.unquoted.len());
        let mut from = 0;
        for &to in &self.ends {
            record.push_cell(&self.unquoted[from..to]);
            from = to;
        }
        true
    }
}

/// Whether `row` holds a quote, eight bytes at a time.
fn has_quote(row: &[u8]) -> bool {
    let mut chunks = row.chunks_exact(8);
    let found = (&mut chunks).fold(0, |found, chunk| {
        found
            | bytes_equal(
                u64::from_le_bytes(chunk.try_into().expect("eight bytes")),
                b'"',
            )
    });
    found != 0 || chunks.remainder().contains(&b'"')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What a reader gave: each row's fields, line and byte, then how it
    /// ended (`None` at the end of the input, else the error's message).
    type Reading = (Vec<(Vec<Vec<u8>>, u64, u64)>, Option<String>);

    fn fields(record: &Record) -> (Vec<Vec<u8>>, u64, u64) {
        (
            record.iter().map(<[u8]>::to_vec).collect(),
            record.line(),
            record.byte(),
        )
    }

    /// The csv crate behind the guard, as every row was read before.
    fn by_csv_crate(data: &[u8], limits: CsvLimits) -> Reading {
        let mut reader = crate::io::csv_reader(data, limits);
        let mut rows = Vec::new();
        match reader.byte_headers() {
            Ok(header) => rows.push((header.iter().map(<[u8]>::to_vec).collect(), 1, 0)),
            Err(e) => return (rows, Some(InputError::from_csv(e).to_string())),
        }
        let mut record = csv::ByteRecord::new();
        let mut copy = Record::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {
                    copy.copy_csv(&record);
                    rows.push(fields(&copy));
                }
                Ok(false) => return (rows, None),
                Err(e) => return (rows, Some(InputError::from_csv(e).to_string())),
            }
        }
    }

    /// An input that gives at most `chunk` bytes a read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn by_rows(data: &[u8], limits: CsvLimits, buffer: usize, chunk: usize) -> Reading {
        let mut rows = CsvRows::with_buffer(Trickle(data, chunk), limits, buffer);
        let mut got = Vec::new();
        let mut record = Record::new();
        let mut header = true;
        loop {
            match rows.read(&mut record) {
                // The header of an empty input is an empty record.
                Ok(false) if header => got.push((Vec::new(), 1, 0)),
                Ok(true) => got.push(fields(&record)),
                Ok(false) => return (got, None),
                Err(e) => return (got, Some(e.to_string())),
            }
            if std::mem::take(&mut header) {
                // The csv crate gives the header at line 1, byte 0, whatever
                // blank lines come before it.
                let first = got.last_mut().expect("the header");
                (first.1, first.2) = (1, 0);
            }
        }
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop::sample::select(vec![
            b'a', b'b', b',', b',', b'"', b'\r', b'\n', b'\n', 0xC3, 0xA9, b' ',
        ]);
        prop::collection::vec(byte, 0..160)
    }

    fn limits() -> impl Strategy<Value = CsvLimits> {
        prop_oneof![
            Just(CsvLimits::default()),
            (1usize..48, 1usize..48, 1usize..24).prop_map(|(h, l, f)| CsvLimits {
                header_bytes: h,
                line_bytes: l,
                field_bytes: f
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Every row, position and message is the csv crate's, whatever
        /// the buffer's size and however the input arrives.
        #[test]
        fn rows_are_the_csv_crates(data in bytes(), limits in limits(), buffer in 1usize..64, chunk in 1usize..70) {
            let expected = by_csv_crate(&data, limits);
            prop_assert_eq!(&by_rows(&data, limits, buffer, chunk), &expected);
            prop_assert_eq!(&by_rows(&data, limits, BUFFER_BYTES, 1 << 20), &expected);
        }
    }

    #[test]
    fn plain_rows_are_read_without_the_csv_crate() {
        let data = b"id,sex\r\nA,1\r\n\r\nB,\"2\"\nC,\"x\"\"y\"z\n";
        let mut rows = CsvRows::new(&data[..], CsvLimits::default());
        let mut record = Record::new();
        let mut lines = Vec::new();
        while rows.read(&mut record).unwrap() {
            lines.push((
                record
                    .iter()
                    .map(|f| String::from_utf8(f.to_vec()).unwrap())
                    .collect::<Vec<_>>()
                    .join("|"),
                fields(&record).1,
            ));
        }
        assert!(
            matches!(rows.state, State::Plain(_)),
            "no row here needs the csv crate"
        );
        let want = [("id|sex", 1), ("A|1", 1), ("B|2", 2), ("C|x\"yz", 5)];
        assert_eq!(lines, want.map(|(f, l)| (f.to_string(), l)));
    }
}
