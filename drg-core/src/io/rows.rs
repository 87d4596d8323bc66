//! The rows of a CSV, read from drg's own buffer.
//!
//! Nearly every row of a hospital's export is short and holds no quote. Such
//! a row is cut at its commas here, eight bytes at a time, straight from the
//! buffer, instead of going byte by byte through the limit guard
//! ([`GuardedCsv`]) and then through the csv crate's parser: reading was
//! about a fifth of the cost of a grouped row. A row with quotes is read
//! here too, by the csv crate's rules (a quote opens a quoted field only at
//! the field's start, `""` inside one is a quote, line ends inside one are
//! part of the field, a lone `\r` ends a row like `\n`, blank lines are
//! skipped): the same cells as the csv crate's, tested against it.
//!
//! A row past the [`CsvLimits`], or a quote the input ends inside, is not
//! read here: from that row's first byte on, the input goes to the csv crate
//! behind the guard, as every row did before, so that the refusal and its
//! message are the guard's.
//!
//! A row's line is the line its first byte is on, counting `\r\n` as one
//! line end. (The csv crate gives the line where the previous row ended, so
//! after a `\r\n`, and after blank lines, its line was one or more short.)

use std::io::{Chain, Cursor, Read};

use super::{CsvLimits, GuardedCsv, InputError, Record};

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
        // The unread bytes, in the buffer's own memory.
        let mut buf = buf;
        buf.truncate(end);
        buf.drain(..start);
        let rest = Cursor::new(buf).chain(input);
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

/// Where the row at the reader's start ends, if it is read here.
enum Cut {
    /// The row is in `record`; its line end (or the input's end) is at
    /// the first offset; the second counts the line feeds inside its
    /// quoted fields.
    Row(usize, u64),
    /// The buffered bytes end inside the row.
    More,
    /// Past a limit, or inside an unclosed quote at the input's end.
    NotPlain,
}

impl<R: Read> Plain<R> {
    /// Reads the next row, skipping the blank lines ahead of it, unless it is
    /// not plain; then the reader is left at its first byte.
    fn read(&mut self, record: &mut Record) -> std::io::Result<Step> {
        loop {
            self.skip_blank_lines();
            if self.start == self.end {
                if self.eof {
                    record.start(self.line, self.byte);
                    return Ok(Step::End);
                }
                self.fill()?;
                continue;
            }
            record.start(self.line, self.byte);
            match self.cut(record) {
                Cut::Row(end, inside) => {
                    // Line ends inside quoted fields, then the row's own.
                    let through = (end + 1).min(self.end);
                    let own = (end < self.end && self.buf[end] == b'\n') as u64;
                    self.consume(through, inside + own);
                    self.header = false;
                    return Ok(Step::Row);
                }
                Cut::NotPlain => return Ok(Step::NotPlain),
                Cut::More => {
                    if !self.fill()? {
                        return Ok(Step::NotPlain);
                    }
                }
            }
        }
    }

    /// Consumes the blank lines (and the `\n` of a `\r\n`) at the start.
    fn skip_blank_lines(&mut self) {
        let rest = &self.buf[self.start..self.end];
        let blank = rest.iter().position(|&b| b != b'\n' && b != b'\r').unwrap_or(rest.len());
        if blank > 0 {
            let newlines = rest[..blank].iter().filter(|&&b| b == b'\n').count();
            self.consume(self.start + blank, newlines as u64);
        }
    }

    /// Consumes the buffer up to `to`, which holds `newlines` line feeds.
    fn consume(&mut self, to: usize, newlines: u64) {
        self.byte += (to - self.start) as u64;
        self.line += newlines;
        self.start = to;
    }

    /// The row limit of the next row.
    fn row_limit(&self) -> usize {
        if self.header {
            self.limits.header_bytes
        } else {
            self.limits.line_bytes
        }
    }

    /// Reads more after the unread bytes, growing the buffer for a row
    /// longer than it (up to the row limit and its line end): false when
    /// the row is past the limit.
    fn fill(&mut self) -> std::io::Result<bool> {
        let most = self.row_limit().saturating_add(2);
        match super::refill(&mut self.input, &mut self.buf, &mut self.start, &mut self.end, most)? {
            None => Ok(false),
            Some(n) => {
                self.eof |= n == 0;
                Ok(true)
            }
        }
    }

    /// Cuts the row at the start of the buffer into `record`'s cells.
    fn cut(&mut self, record: &mut Record) -> Cut {
        let rest = &self.buf[self.start..self.end];
        // A line past the row limit is refused however it goes on, so the
        // scan stops one byte past it.
        let row_limit = self.row_limit();
        let scanned = &rest[..rest.len().min(row_limit.saturating_add(1))];
        let line = record.scan_line(scanned);
        if line.quote {
            return self.cut_quoted(record);
        }
        if line.len > row_limit {
            return Cut::NotPlain;
        }
        if !line.ended && !self.eof {
            // A field already past its limit is refused without waiting
            // for the rest of the row.
            let last_field = line.len - record.ends().last().map_or(0, |comma| comma + 1);
            return if last_field > self.limits.field_bytes { Cut::NotPlain } else { Cut::More };
        }
        // A cell can be past the field limit only in a line that is.
        let field_limit = self.limits.field_bytes;
        if line.len > field_limit {
            let mut cell = 0;
            for &end in record.ends().iter().chain([&line.len]) {
                if end - cell > field_limit {
                    return Cut::NotPlain;
                }
                cell = end + 1;
            }
        }
        record.set_plain_line(rest, &line);
        Cut::Row(self.start + line.len, 0)
    }

    /// [`Self::cut`] for a row holding a quote, byte by byte.
    fn cut_quoted(&mut self, record: &mut Record) -> Cut {
        #[derive(PartialEq)]
        enum At {
            FieldStart,
            InField,
            InQuotes,
            QuoteInQuotes,
        }
        let (field_limit, row_limit) = (self.limits.field_bytes, self.row_limit());
        // The commas the scan noted may be inside quotes.
        record.start(record.line(), record.byte());
        self.unquoted.clear();
        self.ends.clear();
        let mut at = At::FieldStart;
        let mut raw_field = 0;
        let rest = &self.buf[self.start..self.end];
        let mut row_end = None;
        for (i, &b) in rest.iter().enumerate() {
            if at != At::InQuotes && (b == b'\n' || b == b'\r') {
                row_end = Some(i);
                break;
            }
            raw_field += 1;
            if i >= row_limit || (raw_field > field_limit && !(b == b',' && at != At::InQuotes)) {
                return Cut::NotPlain;
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
        let row_end = match row_end {
            Some(end) => end,
            None if !self.eof => return Cut::More,
            // The input ends inside a quoted field: the guard refuses it.
            None if at == At::InQuotes => return Cut::NotPlain,
            None => rest.len(),
        };
        self.ends.push(self.unquoted.len());
        let mut from = 0;
        for &to in &self.ends {
            record.push_cell(&self.unquoted[from..to]);
            from = to;
        }
        let inside = memchr::memchr_iter(b'\n', &rest[..row_end]).count() as u64;
        Cut::Row(self.start + row_end, inside)
    }
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

    /// The csv crate behind the guard, as every row was read before, but
    /// each row placed at its first byte: the csv crate's position is where
    /// the row before it ended, ahead of blank lines and of the `\n` of a
    /// `\r\n`.
    fn by_csv_crate(data: &[u8], limits: CsvLimits) -> Reading {
        let place = |at: u64| {
            let first = data[at as usize..].iter().take_while(|&&b| b == b'\n' || b == b'\r').count() + at as usize;
            (1 + data[..first].iter().filter(|&&b| b == b'\n').count() as u64, first as u64)
        };
        let mut reader = crate::io::csv_reader(data, limits);
        let mut rows = Vec::new();
        match reader.byte_headers() {
            Ok(header) => rows.push((header.iter().map(<[u8]>::to_vec).collect(), place(0).0, place(0).1)),
            Err(e) => return (rows, Some(InputError::from_csv(e).to_string())),
        }
        let mut record = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {
                    let (line, byte) = place(record.position().expect("a position").byte());
                    rows.push((record.iter().map(<[u8]>::to_vec).collect(), line, byte));
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
                Ok(false) if header => got.push(fields(&record)),
                Ok(true) => got.push(fields(&record)),
                Ok(false) => return (got, None),
                Err(e) => return (got, Some(e.to_string())),
            }
            header = false;
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

        /// Every row and message is the csv crate's, and every row is on
        /// the line of its first byte, whatever the buffer's size and
        /// however the input arrives.
        #[test]
        fn rows_are_the_csv_crates(data in bytes(), limits in limits(), buffer in 1usize..64, chunk in 1usize..70) {
            let expected = by_csv_crate(&data, limits);
            prop_assert_eq!(&by_rows(&data, limits, buffer, chunk), &expected);
            prop_assert_eq!(&by_rows(&data, limits, BUFFER_BYTES, 1 << 20), &expected);
        }
    }

    #[test]
    fn rows_within_the_limits_are_read_without_the_csv_crate() {
        let data = b"id,sex\r\nA,1\r\n\r\nB,\"2\"\nC,\"x\"\"y\"z\nD,\"p\r\nq\"\nE,1";
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
        let want = [("id|sex", 1), ("A|1", 2), ("B|2", 4), ("C|x\"yz", 5), ("D|p\r\nq", 6), ("E|1", 8)];
        assert_eq!(lines, want.map(|(f, l)| (f.to_string(), l)));
    }
}
