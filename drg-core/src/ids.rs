//! The duplicate-id check: which earlier line, if any, had this id.
//!
//! A file of cases may hold the same id twice (a case exported twice, a
//! merge of two exports). Every row is kept and grouped; a later row whose id
//! an earlier one had gets a warning naming the line of the first. The check
//! has to see every id, for ten million rows as for ten, without holding them
//! all in memory.
//!
//! [`DuplicateIds`] keeps the ids of the most recent rows in memory, up to a
//! fixed budget (4 MiB by default). When the budget is reached they are
//! written, sorted by a 64-bit hash, to a temporary file (a *run*), and only a
//! small filter (about 1.25 bytes an id) stays in memory for each run. A new
//! id costs one lookup in memory and one filter word per run; only a filter
//! hit (about 2% of new ids, plus the real duplicates) reads the file. Runs
//! are merged four into one as they accumulate, so that there are never more
//! than a few dozen filters to ask (three per size, sizes growing fourfold).
//! A hash equal to an earlier one is confirmed by comparing the id bytes
//! (kept in the file), so two different ids never count as duplicates.
//!
//! The temporary files live in the directory given to
//! [`DuplicateIds::spill_to`], by default [`std::env::temp_dir`] (`$TMPDIR`,
//! else `/tmp`). They are unnamed (deleted by the system as soon as they are
//! closed, even if the process is killed). When that directory cannot be
//! written, the ids stay in memory instead (the check is then as exact, but
//! memory grows with the ids) and [`DuplicateIds::spill_note`] says why.
//!
//! ```
//! use drg_core::ids::DuplicateIds;
//!
//! let mut ids = DuplicateIds::new();
//! assert_eq!(ids.check(b"C001", 2)?, None); // first seen on line 2
//! assert_eq!(ids.check(b"C002", 3)?, None);
//! assert_eq!(ids.check(b"C001", 4)?, Some(2)); // "duplicate id: also on line 2"
//! assert_eq!(ids.check(b"", 5)?, None); // an empty id is never a duplicate
//! assert_eq!(ids.len(), 2);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// The memory the ids held in memory may take before they are written to a
/// temporary file, by default.
pub const DEFAULT_MEMORY_BUDGET: usize = 4 << 20;

/// Bytes the in-memory table takes for an id besides the id's own bytes: its
/// hash, line and offset, and the hash table's slot at its load factor.
const BYTES_PER_ID: usize = 8 + 8 + 8 + 8;

/// Filter bits for each id of a run (about 2% false hits with 5 bits set in
/// one 64-bit word).
const FILTER_BITS_PER_ID: u64 = 10;

/// Words of a filter page (8 KiB; a run of 65,000 ids has two).
const FILTER_PAGE_WORDS: usize = 1024;

/// Records of a run read at once: one page of 16-byte (hash, offset) pairs.
const RECORDS_PER_PAGE: u64 = 256;
const RECORD_BYTES: u64 = 16;

/// How many runs of one size are merged into one of the next size.
const MERGE_FANOUT: usize = 4;

/// Size of an id record's header in the id file: the line (u64) and the
/// length of the id (u32), little-endian.
const ID_HEADER: usize = 12;

/// Remembers ids and tells, for each new row, the line where its id was
/// first seen, if it was. Every id is checked, whatever the number of rows;
/// memory stays within a fixed budget plus about 1.3 bytes an id (see the
/// [module documentation](self)).
pub struct DuplicateIds {
    hash: fn(&[u8]) -> u64,
    /// The ids in memory: their hashes, lines and where their bytes start
    /// in `bytes` (an id ends where the next starts).
    hashes: Vec<u64>,
    lines: Vec<u64>,
    starts: Vec<u64>,
    bytes: Vec<u8>,
    /// Indexes into `hashes`, by hash.
    table: hashbrown::HashTable<u32>,
    /// Ids in memory before they are written out.
    max_ids: usize,
    max_bytes: usize,
    spill: Option<Spill>,
    spill_dir: PathBuf,
    /// Why the ids stay in memory, when writing them out failed.
    spill_failed: Option<String>,
    /// Whether [`DuplicateIds::take_spill_note`] has given the note.
    spill_noted: bool,
    /// How the warnings number the first row: by line, or by row.
    counting_rows: bool,
    total: u64,
    /// What the reads of a run's page and of the id file go into.
    scratch: Scratch,
}

/// The temporary files: the bytes and line of every id written out, and the
/// runs of (hash, offset of the id in `ids`) sorted by hash.
struct Spill {
    ids: File,
    ids_len: u64,
    runs: Vec<Run>,
}

struct Run {
    file: File,
    count: u64,
    /// How many memory flushes this run holds (runs of one level are merged).
    level: u32,
    /// About 1.25 bytes an id (see [`Filter`]).
    filter: Filter,
    /// The first hash of each page.
    page_first: Vec<u64>,
}

/// The warning of a row whose id an earlier row had, the one on `first_line`
/// (as the CLI and the HTTP service write it; Python counts rows instead,
/// see [`DuplicateIds::counting_rows`]).
pub fn duplicate_warning(first_line: u64) -> String {
    format!("duplicate id: also on line {first_line}")
}

impl Default for DuplicateIds {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for DuplicateIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuplicateIds")
            .field("ids", &self.total)
            .field("in_memory", &self.hashes.len())
            .field("runs", &self.spill.as_ref().map_or(0, |s| s.runs.len()))
            .field("spill_dir", &self.spill_dir)
            .field("spill_failed", &self.spill_failed)
            .finish()
    }
}

/// The hash of an id: FxHash of its bytes (fast; collisions are harmless,
/// since equal hashes are confirmed byte by byte).
fn fx_hash(id: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

impl DuplicateIds {
    /// An empty check with the default memory budget
    /// ([`DEFAULT_MEMORY_BUDGET`]), writing to [`std::env::temp_dir`].
    pub fn new() -> Self {
        Self::with_memory_budget(DEFAULT_MEMORY_BUDGET)
    }

    /// An empty check that keeps at most about `bytes` of ids in memory
    /// before writing them to a temporary file. A small budget is for tests:
    /// each write makes a run, and each run costs a filter lookup per id.
    pub fn with_memory_budget(bytes: usize) -> Self {
        Self::with_hasher(bytes, fx_hash)
    }

    /// The same with another hash function: tests use a poor one to force
    /// collisions between different ids.
    fn with_hasher(bytes: usize, hash: fn(&[u8]) -> u64) -> Self {
        // Half the budget for the table, half for the ids' bytes (ids are
        // usually shorter than the 28 bytes the table takes for each).
        let max_ids = (bytes / 2 / BYTES_PER_ID).max(1);
        DuplicateIds {
            hash,
            hashes: Vec::new(),
            lines: Vec::new(),
            starts: Vec::new(),
            bytes: Vec::new(),
            table: hashbrown::HashTable::new(),
            max_ids,
            max_bytes: (bytes / 2).max(1),
            spill: None,
            spill_dir: std::env::temp_dir(),
            spill_failed: None,
            spill_noted: false,
            counting_rows: false,
            total: 0,
            scratch: Scratch::default(),
        }
    }

    /// An empty check that never writes to a file: for ids that are in
    /// memory anyway (a request body, a Python list). [`check`](Self::check)
    /// then never fails.
    pub fn in_memory() -> Self {
        Self::with_memory_budget(usize::MAX)
    }

    /// Warnings name the first row by its number as given to
    /// [`warning`](Self::warning) (`also in row 3`), not as a line: for
    /// rows that are items of a list (Python).
    pub fn counting_rows(mut self) -> Self {
        self.counting_rows = true;
        self
    }

    /// Writes the temporary files into `dir` instead of the system's
    /// temporary directory.
    pub fn spill_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = dir.into();
        self
    }

    /// How many distinct (non-empty) ids were seen.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether no id was seen yet.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// When the ids could not be written to the temporary directory: why,
    /// and that they are kept in memory instead (the check stays exact).
    pub fn spill_note(&self) -> Option<String> {
        self.spill_failed.as_ref().map(|e| {
            format!(
                "the duplicate-id check could not write to {} ({e}); ids are kept in memory instead",
                self.spill_dir.display()
            )
        })
    }

    /// [`spill_note`](Self::spill_note) the first time it is asked for
    /// after the ids could not be written out, and `None` after that: a
    /// shell tells the user once.
    pub fn take_spill_note(&mut self) -> Option<String> {
        if self.spill_noted {
            return None;
        }
        let note = self.spill_note();
        self.spill_noted = note.is_some();
        note
    }

    /// The check a shell makes for each row: the warning for the row read
    /// at `at` (its line, or its row with [`counting_rows`](Self::counting_rows))
    /// when an earlier row had `id` ([`duplicate_warning`]), else `None`,
    /// the id being remembered. An empty id is never a duplicate.
    ///
    /// Fails only if a temporary file written earlier cannot be read back;
    /// the error then says that the duplicate-id check failed.
    ///
    /// ```
    /// use drg_core::ids::DuplicateIds;
    ///
    /// let mut ids = DuplicateIds::new();
    /// assert_eq!(ids.warning(b"C001", 2)?, None);
    /// assert_eq!(ids.warning(b"C001", 5)?.as_deref(), Some("duplicate id: also on line 2"));
    /// let mut rows = DuplicateIds::in_memory().counting_rows();
    /// assert_eq!(rows.warning(b"C001", 0)?, None);
    /// assert_eq!(rows.warning(b"C001", 1)?.as_deref(), Some("duplicate id: also in row 0"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn warning(&mut self, id: &[u8], at: u64) -> io::Result<Option<String>> {
        let first = self.check(id, at).map_err(|e| io::Error::new(e.kind(), format!("checking ids for duplicates: {e}")))?;
        Ok(first.map(|first| match self.counting_rows {
            true => format!("duplicate id: also in row {first}"),
            false => duplicate_warning(first),
        }))
    }

    /// The line `id` was first seen on, if it was; otherwise remembers it as
    /// seen on `line`. An empty id is never remembered nor a duplicate.
    ///
    /// Fails only if a temporary file written earlier cannot be read back.
    pub fn check(&mut self, id: &[u8], line: u64) -> io::Result<Option<u64>> {
        if id.is_empty() {
            return Ok(None);
        }
        let hash = (self.hash)(id);
        if let Some(first) = self.find_in_memory(hash, id) {
            return Ok(Some(first));
        }
        if let Some(spill) = &self.spill {
            if let Some(first) = spill.find(hash, id, &mut self.scratch)? {
                return Ok(Some(first));
            }
        }
        self.insert(hash, id, line);
        self.total += 1;
        if (self.hashes.len() >= self.max_ids || self.bytes.len() >= self.max_bytes) && self.spill_failed.is_none() {
            if let Err(e) = self.write_out() {
                self.spill_failed = Some(e.to_string());
            }
        }
        Ok(None)
    }

    fn id_bytes(&self, i: usize) -> &[u8] {
        let end = self.starts.get(i + 1).map_or(self.bytes.len(), |&s| s as usize);
        &self.bytes[self.starts[i] as usize..end]
    }

    fn find_in_memory(&self, hash: u64, id: &[u8]) -> Option<u64> {
        let i = *self.table.find(hash, |&i| self.hashes[i as usize] == hash && self.id_bytes(i as usize) == id)?;
        Some(self.lines[i as usize])
    }

    fn insert(&mut self, hash: u64, id: &[u8], line: u64) {
        let i = self.hashes.len();
        let start = self.bytes.len() as u64;
        if i == self.hashes.capacity() {
            // Grow by doubling, but not past the budget (a doubling Vec
            // could take twice what it holds).
            let more = i.max(1024).min(self.max_ids.saturating_sub(i)).max(1);
            self.hashes.reserve_exact(more);
            self.lines.reserve_exact(more);
            self.starts.reserve_exact(more);
        }
        if self.bytes.len() + id.len() > self.bytes.capacity() {
            let more = self.bytes.capacity().max(16 << 10).min(self.max_bytes.saturating_sub(self.bytes.len())).max(id.len());
            self.bytes.reserve_exact(more);
        }
        self.hashes.push(hash);
        self.lines.push(line);
        self.starts.push(start);
        self.bytes.extend_from_slice(id);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, i as u32, |&j| hashes[j as usize]);
    }

    /// Writes the ids in memory out as a new run, then merges runs; on
    /// failure the ids stay in memory.
    fn write_out(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            let ids = tempfile::tempfile_in(&self.spill_dir)?;
            self.spill = Some(Spill { ids, ids_len: 0, runs: Vec::new() });
        }
        let spill = self.spill.as_mut().expect("created above");
        let order = order_by_hash(&self.hashes);

        // The ids' bytes and lines are appended to the id file in hash order
        // while the run of their hashes and offsets is written.
        let mut chunk = Vec::with_capacity(1 << 16);
        let mut at = spill.ids_len;
        let ids = &spill.ids;
        let records = order.iter().map(|&i| {
            let i = i as usize;
            let end = self.starts.get(i + 1).map_or(self.bytes.len(), |&s| s as usize);
            let id = &self.bytes[self.starts[i] as usize..end];
            let offset = at + chunk.len() as u64;
            chunk.extend_from_slice(&self.lines[i].to_le_bytes());
            chunk.extend_from_slice(&(id.len() as u32).to_le_bytes());
            chunk.extend_from_slice(id);
            if chunk.len() >= 1 << 16 {
                ids.write_all_at(&chunk, at)?;
                at += chunk.len() as u64;
                chunk.clear();
            }
            Ok((self.hashes[i], offset))
        });
        let file = tempfile::tempfile_in(&self.spill_dir)?;
        let run = Run::write(file, order.len() as u64, 0, records)?;
        ids.write_all_at(&chunk, at)?;
        at += chunk.len() as u64;
        // Only now is the run complete: the ids leave memory.
        spill.ids_len = at;
        spill.runs.push(run);
        self.hashes.clear();
        self.lines.clear();
        self.starts.clear();
        self.bytes.clear();
        self.table.clear();
        // A failed merge leaves the runs as they were: still exact.
        let _ = spill.merge(&self.spill_dir);
        Ok(())
    }
}

/// The indexes of `hashes` in the order of their hashes. Hashes are spread
/// evenly, so a counting pass on their top bits puts them in buckets of a
/// few each (eight on average), which are then sorted alone: a fraction of
/// the work of a comparison sort of the whole. A poor hash only makes some
/// buckets large; they are sorted all the same.
fn order_by_hash(hashes: &[u64]) -> Vec<u32> {
    let n = hashes.len();
    let bucket_bits = (n / 8).max(2).ilog2().min(16);
    let bucket = |h: u64| (h >> (64 - bucket_bits)) as usize;
    // starts[b] is where bucket b begins in `order`, once counted.
    let mut starts = vec![0u32; (1 << bucket_bits) + 1];
    for &h in hashes {
        starts[bucket(h) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut order = vec![0u32; n];
    let mut next = starts.clone();
    for (i, &h) in hashes.iter().enumerate() {
        let b = bucket(h);
        order[next[b] as usize] = i as u32;
        next[b] += 1;
    }
    for b in starts.windows(2) {
        order[b[0] as usize..b[1] as usize].sort_unstable_by_key(|&i| hashes[i as usize]);
    }
    order
}

impl Spill {
    fn find(&self, hash: u64, id: &[u8], scratch: &mut Scratch) -> io::Result<Option<u64>> {
        let key = FilterKey::of(hash);
        for run in &self.runs {
            if run.filter.may_hold(key) {
                if let Some(first) = run.find(hash, id, &self.ids, self.ids_len, scratch)? {
                    return Ok(Some(first));
                }
            }
        }
        Ok(None)
    }

    /// Merges the newest runs while the last [`MERGE_FANOUT`] are of one
    /// level, so that runs stay few (their levels never increase).
    fn merge(&mut self, dir: &std::path::Path) -> io::Result<()> {
        while self.runs.len() >= MERGE_FANOUT {
            let tail = &self.runs[self.runs.len() - MERGE_FANOUT..];
            let level = tail[0].level;
            if tail.iter().any(|r| r.level != level) {
                break;
            }
            let count = tail.iter().map(|r| r.count).sum();
            let first = self.runs.len() - MERGE_FANOUT;
            // The old runs' filters go before the merged run's filter is
            // built, so that the largest merge does not hold both (1.25
            // bytes an id more for a moment); if the merge fails they are
            // built again from the runs.
            for run in &mut self.runs[first..] {
                run.filter = Filter::default();
            }
            if let Err(e) = Self::merged(&self.runs[first..], count, level + 1, dir).map(|run| {
                self.runs.truncate(first);
                self.runs.push(run);
            }) {
                for run in &mut self.runs[first..] {
                    run.rebuild_filter();
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// The runs `tail` merged into one new run of `level`.
    fn merged(tail: &[Run], count: u64, level: u32, dir: &std::path::Path) -> io::Result<Run> {
        let mut readers = Vec::with_capacity(tail.len());
        for run in tail {
            let mut reader = RunReader::new(&run.file);
            if let Some(head) = reader.next()? {
                readers.push((reader, head));
            }
        }
        let file = tempfile::tempfile_in(dir)?;
        Run::write(file, count, level, KWay { readers })
    }
}

/// The records of several sorted runs in one sorted sequence. Records of
/// one hash may come in any order of their runs: a lookup reads them all.
struct KWay<'a> {
    /// The runs not yet at their end, and the record each is at.
    readers: Vec<(RunReader<'a>, (u64, u64))>,
}

impl Iterator for KWay<'_> {
    type Item = io::Result<(u64, u64)>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut least = 0;
        for (i, (_, (hash, _))) in self.readers.iter().enumerate().skip(1) {
            if *hash < self.readers[least].1 .0 {
                least = i;
            }
        }
        let (reader, head) = self.readers.get_mut(least)?;
        let record = *head;
        match reader.next() {
            Ok(Some(next)) => *head = next,
            Ok(None) => {
                self.readers.swap_remove(least);
            }
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(record))
    }
}

/// Reads a run's records from its start.
struct RunReader<'a> {
    reader: BufReader<FileAt<'a>>,
}

/// A file read from an offset without moving the file's own position.
struct FileAt<'a> {
    file: &'a File,
    at: u64,
}

impl Read for FileAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl<'a> RunReader<'a> {
    fn new(file: &'a File) -> Self {
        RunReader { reader: BufReader::with_capacity(1 << 16, FileAt { file, at: 0 }) }
    }

    fn next(&mut self) -> io::Result<Option<(u64, u64)>> {
        // A whole record in the buffer (all but one in 4,096): no copy.
        if let Some(record) = self.reader.buffer().get(..RECORD_BYTES as usize) {
            let record = decode(record);
            self.reader.consume(RECORD_BYTES as usize);
            return Ok(Some(record));
        }
        let mut record = [0u8; RECORD_BYTES as usize];
        match self.reader.read_exact(&mut record) {
            Ok(()) => Ok(Some(decode(&record))),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn encode(hash: u64, offset: u64) -> [u8; RECORD_BYTES as usize] {
    let mut record = [0u8; RECORD_BYTES as usize];
    record[..8].copy_from_slice(&hash.to_le_bytes());
    record[8..].copy_from_slice(&offset.to_le_bytes());
    record
}

fn decode(record: &[u8]) -> (u64, u64) {
    let hash = u64::from_le_bytes(record[..8].try_into().expect("16-byte record"));
    let offset = u64::from_le_bytes(record[8..16].try_into().expect("16-byte record"));
    (hash, offset)
}

/// Where a hash falls in a filter: a remix of the hash (so that a poor hash
/// still spreads over the words) that picks the word, and the 5 bits it sets
/// there. Made once per id, whatever the number of runs asked.
#[derive(Clone, Copy)]
struct FilterKey {
    mix: u64,
    bits: u64,
}

impl FilterKey {
    fn of(hash: u64) -> FilterKey {
        let mut x = hash;
        x ^= x >> 30;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        let bits = (1u64 << (x & 63))
            | (1u64 << ((x >> 6) & 63))
            | (1u64 << ((x >> 12) & 63))
            | (1u64 << ((x >> 18) & 63))
            | (1u64 << ((x >> 24) & 63));
        FilterKey { mix: x, bits }
    }
}

/// A run's filter: [`FILTER_BITS_PER_ID`] bits an id, each id setting 5 bits
/// of one 64-bit word. An empty filter (freed for a merge, or not built
/// again) may hold anything.
///
/// The words are kept in pages of one size, so that the filters freed and
/// built as runs merge reuse each other's memory. Filters of growing sizes
/// in one piece left holes in the heap that later, larger ones could not
/// use, and the process's memory grew with them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filter {
    pages: Vec<Box<[u64]>>,
    words: usize,
}

impl Filter {
    /// An empty filter sized for `count` ids.
    fn for_ids(count: u64) -> Filter {
        let words = (count * FILTER_BITS_PER_ID).div_ceil(64).max(1) as usize;
        let pages = (0..words.div_ceil(FILTER_PAGE_WORDS)).map(|_| vec![0u64; FILTER_PAGE_WORDS].into_boxed_slice()).collect();
        Filter { pages, words }
    }

    fn word(&self, key: FilterKey) -> (usize, usize) {
        let word = ((u128::from(key.mix) * self.words as u128) >> 64) as usize;
        (word / FILTER_PAGE_WORDS, word % FILTER_PAGE_WORDS)
    }

    fn add(&mut self, key: FilterKey) {
        let (page, at) = self.word(key);
        self.pages[page][at] |= key.bits;
    }

    fn may_hold(&self, key: FilterKey) -> bool {
        if self.words == 0 {
            return true;
        }
        let (page, at) = self.word(key);
        self.pages[page][at] & key.bits == key.bits
    }
}

impl Run {
    /// Writes sorted (hash, id offset) records to `file`, building the
    /// filter and page index on the way.
    fn write(file: File, count: u64, level: u32, records: impl Iterator<Item = io::Result<(u64, u64)>>) -> io::Result<Run> {
        let mut filter = Filter::for_ids(count);
        let mut page_first = Vec::with_capacity(count.div_ceil(RECORDS_PER_PAGE) as usize);
        let mut out = BufWriter::with_capacity(1 << 16, &file);
        let mut written = 0u64;
        for record in records {
            let (hash, offset) = record?;
            if written % RECORDS_PER_PAGE == 0 {
                page_first.push(hash);
            }
            filter.add(FilterKey::of(hash));
            out.write_all(&encode(hash, offset))?;
            written += 1;
        }
        out.flush()?;
        drop(out);
        debug_assert_eq!(written, count);
        Ok(Run { file, count: written, level, filter, page_first })
    }

    /// Builds the filter again from the run's records (after a failed
    /// merge freed it). If the run cannot be read, the filter stays empty
    /// and the run is read for every id instead: slower, still exact.
    fn rebuild_filter(&mut self) {
        let mut filter = Filter::for_ids(self.count);
        let mut reader = RunReader::new(&self.file);
        loop {
            match reader.next() {
                Ok(Some((hash, _))) => filter.add(FilterKey::of(hash)),
                Ok(None) => break,
                Err(_) => return,
            }
        }
        self.filter = filter;
    }

    /// The line of `id` if this run holds it: the records of its hash are
    /// found by page, and each is compared byte by byte with `id`.
    fn find(&self, hash: u64, id: &[u8], ids: &File, ids_len: u64, scratch: &mut Scratch) -> io::Result<Option<u64>> {
        // Records of this hash may begin on the page before the first page
        // that starts with it.
        let mut page = self.page_first.partition_point(|&h| h < hash).saturating_sub(1);
        while page < self.page_first.len() {
            if self.page_first[page] > hash {
                return Ok(None);
            }
            let start = page as u64 * RECORDS_PER_PAGE;
            let n = (self.count - start).min(RECORDS_PER_PAGE);
            // Sized once and then reused: only a short last page is read
            // into less than all of it.
            scratch.page.resize((RECORDS_PER_PAGE * RECORD_BYTES) as usize, 0);
            let records = &mut scratch.page[..(n * RECORD_BYTES) as usize];
            self.file.read_exact_at(records, start * RECORD_BYTES)?;
            // The page is sorted: its records of this hash are found by
            // bisection, then read while the hash lasts.
            // (by hand: slices of arrays, `as_chunks`, came after Rust 1.80).
            let hash_at = |i: usize| decode(&records[i * RECORD_BYTES as usize..]).0;
            let (mut first, mut end) = (0, n as usize);
            while first < end {
                let mid = (first + end) / 2;
                if hash_at(mid) < hash {
                    first = mid + 1;
                } else {
                    end = mid;
                }
            }
            for record in records[first * RECORD_BYTES as usize..].chunks_exact(RECORD_BYTES as usize) {
                let (h, offset) = decode(record);
                if h > hash {
                    return Ok(None);
                }
                if let Some(line) = same_id(ids, ids_len, offset, id, &mut scratch.id)? {
                    return Ok(Some(line));
                }
            }
            page += 1;
        }
        Ok(None)
    }
}

/// The buffers of [`Run::find`]: a page of a run, and an id record.
#[derive(Default)]
struct Scratch {
    page: Vec<u8>,
    id: Vec<u8>,
}

/// The line of the id record at `offset` if its bytes are `id`.
fn same_id(ids: &File, ids_len: u64, offset: u64, id: &[u8], scratch: &mut Vec<u8>) -> io::Result<Option<u64>> {
    let want = (ID_HEADER + id.len()) as u64;
    let n = want.min(ids_len.saturating_sub(offset)) as usize;
    scratch.resize(n, 0);
    ids.read_exact_at(scratch, offset)?;
    if n < ID_HEADER {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "duplicate-id file: a record is cut short"));
    }
    let line = u64::from_le_bytes(scratch[..8].try_into().expect("8 bytes"));
    let len = u32::from_le_bytes(scratch[8..12].try_into().expect("4 bytes")) as usize;
    Ok((len == id.len() && n == want as usize && &scratch[ID_HEADER..] == id).then_some(line))
}

#[cfg(test)]
mod tests;
