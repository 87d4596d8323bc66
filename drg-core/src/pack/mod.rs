//! Rule packs (specs/rulepack.md): a grouping scheme as data, compiled.
//!
//! [`Pack::open`] reads a drgpack/1 directory and compiles it into an
//! immutable form that is `Send + Sync` and cheap to share behind an `Arc`:
//!
//! - every code the pack mentions is interned to a [`CodeId`];
//! - every code list becomes a bit set over code ids (membership is one load
//!   and one mask);
//! - CC levels and exclusion tables are arrays indexed by code id;
//! - expressions are compiled to expression trees that refer to lists and
//!   maps by index (private: the compiled form may change with any release).
//!
//! Nothing in this module knows a scheme: MDCs, ADRGs and DRGs come from the
//! pack and are evaluated in the pack's order by the [`Grouper`](crate::Grouper).

mod binary;
mod expr;
mod load;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;

use crate::grouper::index::FastIndex;

pub use binary::FILE_VERSION;
pub use expr::MAX_DEPTH;
pub(crate) use expr::{CmpOp, CodeSel, Expr, NumField};

/// A code interned by a pack. Codes a pack does not know have no id.
pub type CodeId = u32;

/// A code list of a pack, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListId(pub(crate) u32);

/// A value map of a pack (`maps` in pack.json), by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapId(pub(crate) u32);

/// The format a loader reads.
pub const FORMAT: &str = "drgpack/1";

/// The longest MDC, ADRG or DRG code a pack may have, in bytes: the C ABI
/// returns codes in `char[DRG_CODE_SIZE]` arrays with a terminating NUL
/// (`DRG_CODE_SIZE` is 16), so a longer code could not reach a C caller whole.
pub const MAX_CODE_BYTES: usize = 15;

/// The largest pack file read, in bytes (64 MiB): the biggest file of the
/// shipped packs is under 2 MB, and a limit keeps a link to `/dev/zero` or a
/// huge file from exhausting memory.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The largest compiled pack file read, in bytes (256 MiB; a compiled national
/// pack is a few MB).
pub const MAX_COMPILED_BYTES: u64 = 256 << 20;

/// What a pack does with a case that no MDC took (`retry_ungroupable` in
/// pack.json; specs/rulepack.md, "Evaluation", step 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// No retry: the case is ungroupable (the default).
    #[default]
    Never,
    /// `"each_other_procedure"`: evaluate again with each procedure after the
    /// first, alone, in order; the first attempt that gives a result stands.
    EachOtherProcedure,
}

impl Retry {
    /// The value in pack.json (`None` for the default, which has none).
    pub fn key(self) -> Option<&'static str> {
        match self {
            Retry::Never => None,
            Retry::EachOtherProcedure => Some("each_other_procedure"),
        }
    }
}

/// A pack that cannot be loaded, with the file and the place in it.
///
/// ```
/// use drg_core::pack::Location;
/// use drg_core::Pack;
///
/// let dir = std::env::temp_dir().join(format!("drg-doc-pack-error-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("pack.json"), r#"{"format": "drgpack/9"}"#).unwrap();
/// let e = Pack::open(&dir).unwrap_err();
/// assert!(e.file.ends_with("pack.json"));
/// assert_eq!(e.location, Some(Location::Key("$.format".into())));
/// assert_eq!(e.key(), Some("$.format"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location.as_ref().map(|l| format!(" ({l})")).unwrap_or_default())]
#[non_exhaustive]
pub struct PackError {
    /// The file (or the pack itself when no file is to blame).
    pub file: String,
    /// The place in the file: a line, or a JSON path.
    pub location: Option<Location>,
    /// What is wrong there.
    pub message: String,
}

/// A place in a pack file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A line of a TSV or JSON file (1 is the first), with the column when
    /// known (a JSON syntax error). Shown as `line 12` or `line 12, column 5`.
    Line {
        /// The line, from 1.
        line: u64,
        /// The column, from 1, when known.
        column: Option<u64>,
    },
    /// A JSON path into pack.json, such as `$.mdcs[3].adrgs[0].when.all[1]`.
    Key(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line { line, column: None } => write!(f, "line {line}"),
            Location::Line { line, column: Some(column) } => write!(f, "line {line}, column {column}"),
            Location::Key(key) => f.write_str(key),
        }
    }
}

impl PackError {
    /// An error of a file as a whole (or of the pack, when `file` names it).
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        PackError { file: file.into(), location: None, message: message.into() }
    }

    /// An error at a JSON path of pack.json, such as `$.mdcs[0].when`.
    pub fn at(file: impl Into<String>, key: impl Into<String>, message: impl Into<String>) -> Self {
        PackError { file: file.into(), location: Some(Location::Key(key.into())), message: message.into() }
    }

    /// An error at a line (and column) of a file.
    pub fn at_line(file: impl Into<String>, line: u64, column: Option<u64>, message: impl Into<String>) -> Self {
        PackError { file: file.into(), location: Some(Location::Line { line, column }), message: message.into() }
    }

    /// The line to blame, when the place is a line.
    pub fn line(&self) -> Option<u64> {
        match self.location {
            Some(Location::Line { line, .. }) => Some(line),
            _ => None,
        }
    }

    /// The JSON path to blame, when the place is one.
    pub fn key(&self) -> Option<&str> {
        match &self.location {
            Some(Location::Key(key)) => Some(key),
            _ => None,
        }
    }
}

/// What a pack says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackInfo {
    /// The pack's id (`chs-drg-2.0`): how a service or `$DRG_PACK` names it.
    pub id: String,
    /// Its name for people (`CHS-DRG 2.0`).
    pub name: String,
    /// What it is and where it comes from.
    pub description: String,
    /// MDCs, distinct ADRG codes and distinct DRG codes, as read. The pack's
    /// own `counts` are checked against them; differences are `warnings`.
    pub counts: Counts,
    /// Where the pack was loaded from.
    pub source: String,
    /// What is odd but not wrong, such as `counts` that differ from what was read.
    pub warnings: Vec<String>,
}

/// Numbers of MDCs, distinct ADRG codes and distinct DRG codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Distinct MDC codes.
    pub mdc: usize,
    /// Distinct codes of ADRGs that are not ambiguous.
    pub adrg: usize,
    /// Distinct DRG codes.
    pub drg: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} MDC, {} ADRG, {} DRG", self.mdc, self.adrg, self.drg)
    }
}

/// A major diagnostic category and its ADRGs, in evaluation order.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Mdc {
    /// The MDC code (`MDCB`).
    pub code: Box<str>,
    /// Its name.
    pub name: Box<str>,
    pub(crate) when: Expr,
    /// `when.guard()`, computed once.
    pub(crate) guard: Option<(CodeSel, ListId)>,
    /// Its ADRGs, in evaluation order.
    pub adrgs: Vec<Adrg>,
    /// `"if_no_adrg": "stop"`: when no ADRG of this MDC gives a result, the
    /// case is ungroupable in this MDC instead of going on with the next MDC
    /// (CHS-DRG 2.0, where the principal diagnosis alone chooses the MDC).
    pub stop_if_no_adrg: bool,
}

/// An adjacent DRG (an entry of it: the same code may stand more than once).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Adrg {
    /// The ADRG code (`BB1`).
    pub code: Box<str>,
    /// Its name.
    pub name: Box<str>,
    pub(crate) when: Expr,
    /// `when.guard()`, computed once.
    pub(crate) guard: Option<(CodeSel, ListId)>,
    /// Its DRGs, in evaluation order (none when ambiguous).
    pub drgs: Vec<Drg>,
    /// An ambiguous (QY) group: a case that reaches it is `ambiguous`.
    pub ambiguous: bool,
    /// When no DRG holds: go on with the next ADRG instead of stopping.
    pub continue_if_no_drg: bool,
}

/// A DRG.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Drg {
    /// The DRG code (`BB11`).
    pub code: Box<str>,
    /// Its name.
    pub name: Box<str>,
    pub(crate) when: Expr,
}

/// CC or MCC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CcLevel {
    /// A complication or comorbidity (CC).
    Cc,
    /// A major one (MCC).
    Mcc,
}

impl CcLevel {
    /// `CC` or `MCC`, as in cc.tsv.
    pub fn as_str(self) -> &'static str {
        match self {
            CcLevel::Cc => "CC",
            CcLevel::Mcc => "MCC",
        }
    }
}

/// A row of cc.tsv: the code is a CC or MCC, with an exclusion table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CcEntry {
    pub level: CcLevel,
    pub table: u32,
}

/// Items grouped by code id (compressed sparse rows).
#[derive(Clone, Debug, Default)]
pub(crate) struct ByCode<T> {
    offsets: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy> ByCode<T> {
    fn build(n_codes: usize, mut pairs: Vec<(CodeId, T)>) -> Self {
        pairs.sort_by_key(|p| p.0);
        let mut offsets = Vec::with_capacity(n_codes + 1);
        let mut items = Vec::with_capacity(pairs.len());
        let mut next = 0;
        for id in 0..n_codes as CodeId {
            offsets.push(items.len() as u32);
            while next < pairs.len() && pairs[next].0 == id {
                items.push(pairs[next].1);
                next += 1;
            }
        }
        offsets.push(items.len() as u32);
        ByCode { offsets, items }
    }

    #[inline]
    pub(crate) fn get(&self, id: CodeId) -> &[T] {
        let i = id as usize;
        if i + 1 >= self.offsets.len() {
            return &[];
        }
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// The named code lists, as one bit row per code: bit `l` of a code's row
/// says whether the code is in list `l`. Grouping asks "is this code in that
/// list" for a few codes and many lists, so a case loads its principal codes'
/// rows once and each test is one bit. Codes in no list (interned after all
/// list codes) have no row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lists {
    pub names: Vec<Box<str>>,
    /// Words per row: one bit per list. (A `u32`, as list ids are, so that
    /// a row's start, a code id times the width, cannot overflow.)
    width: u32,
    rows: Vec<u64>,
}

impl Lists {
    /// Builds the rows from each list's codes.
    fn build(lists: Vec<(Box<str>, Vec<CodeId>)>) -> (Self, Vec<ListId>) {
        let width = lists.len().div_ceil(64).max(1);
        let n_codes = lists.iter().flat_map(|(_, ids)| ids).max().map_or(0, |&m| m as usize + 1);
        let mut rows = vec![0u64; n_codes * width];
        let mut names = Vec::with_capacity(lists.len());
        let mut ids = Vec::with_capacity(lists.len());
        for (l, (name, codes)) in lists.into_iter().enumerate() {
            for id in codes {
                rows[id as usize * width + l / 64] |= 1 << (l % 64);
            }
            names.push(name);
            ids.push(ListId(l as u32));
        }
        (Lists { names, width: width as u32, rows }, ids)
    }

    /// Where word `word` of code `id`'s row would be in `rows` (past its end
    /// for a code without a row), worked out in 64 bits, which no code id
    /// times the width (both `u32`) overflows: a saturating multiply cost a
    /// row a few instructions. `try_from` is free where `usize` is 64 bits.
    #[inline]
    fn at(&self, id: CodeId, word: u32) -> Option<usize> {
        usize::try_from(u64::from(id) * u64::from(self.width) + u64::from(word)).ok()
    }

    /// The row of a code: empty for a code in no list.
    #[inline]
    pub(crate) fn row(&self, id: CodeId) -> &[u64] {
        match (self.at(id, 0), self.at(id, self.width)) {
            (Some(start), Some(end)) => self.rows.get(start..end).unwrap_or(&[]),
            _ => &[],
        }
    }

    #[inline]
    pub(crate) fn contains(&self, list: ListId, id: CodeId) -> bool {
        row_has(self.row(id), list)
    }

    /// Whether any of the codes is in `list`: [`Lists::contains`] for each,
    /// reading only the word of the list's bit in each code's row.
    #[inline]
    pub(crate) fn any_contains(&self, list: ListId, ids: &[CodeId]) -> bool {
        let l = list.0 as usize;
        let (word, bit) = (l / 64, l % 64);
        if word >= self.width as usize {
            return false;
        }
        // A code without a row (interned after the list codes, or no code
        // at all) is past the end of `rows`.
        ids.iter().any(|&id| self.at(id, word as u32).and_then(|at| self.rows.get(at)).is_some_and(|w| w >> bit & 1 != 0))
    }

    pub(crate) fn name(&self, list: ListId) -> &str {
        &self.names[list.0 as usize]
    }
}

/// Whether a code's row has the bit of `list`.
#[inline]
pub(crate) fn row_has(row: &[u64], list: ListId) -> bool {
    let l = list.0 as usize;
    row.get(l / 64).is_some_and(|w| w >> (l % 64) & 1 != 0)
}

/// A value map (`maps` in pack.json): code → one of a few values.
#[derive(Clone, Debug, Default)]
pub(crate) struct ValueMap {
    pub name: Box<str>,
    pub values: Vec<Box<str>>,
    pub by_code: FxHashMap<CodeId, u32>,
}

/// Every code the pack knows, interned, with its vocabulary names.
///
/// Codes and names live in two contiguous strings with offsets, and the
/// index holds only ids: a compiled pack loads as a few arrays, with no
/// allocation per code.
#[derive(Clone, Debug, Default)]
pub(crate) struct CodeTable {
    /// Every code, one after the other; code `i` ends at `code_ends[i]`.
    text: String,
    code_ends: Vec<u32>,
    /// Code ids, hashed by their text.
    index: hashbrown::HashTable<CodeId>,
    /// Every vocabulary name, one after the other.
    names: String,
    /// Per code: its name in the diagnosis / procedure vocabulary, as a span
    /// of `names` ([`NO_NAME`] when the code is not in that vocabulary).
    dx_names: Vec<(u32, u32)>,
    proc_names: Vec<(u32, u32)>,
}

/// The span of a code that is not in a vocabulary.
const NO_NAME: (u32, u32) = (u32::MAX, 0);

pub(crate) const IN_DX_VOCAB: u8 = 1;
pub(crate) const IN_PROC_VOCAB: u8 = 2;

fn hash_code(code: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(code)
}

impl CodeTable {
    fn intern(&mut self, code: &str) -> CodeId {
        if let Some(id) = self.id(code) {
            return id;
        }
        let id = self.code_ends.len() as CodeId;
        self.text.push_str(code);
        self.code_ends.push(self.text.len() as u32);
        self.dx_names.push(NO_NAME);
        self.proc_names.push(NO_NAME);
        let (text, ends) = (&self.text, &self.code_ends);
        self.index.insert_unique(hash_code(code), id, |&other| hash_code(code_text(text, ends, other)));
        id
    }

    /// Rebuilds the index from the codes (after reading a compiled pack).
    fn rebuild_index(&mut self) {
        let (text, ends) = (&self.text, &self.code_ends);
        let mut index = hashbrown::HashTable::with_capacity(ends.len());
        for id in 0..ends.len() as CodeId {
            index.insert_unique(hash_code(code_text(text, ends, id)), id, |&other| {
                hash_code(code_text(text, ends, other))
            });
        }
        self.index = index;
    }

    #[inline]
    pub(crate) fn id(&self, code: &str) -> Option<CodeId> {
        self.index.find(hash_code(code), |&id| self.code(id) == code).copied()
    }

    #[inline]
    pub(crate) fn code(&self, id: CodeId) -> &str {
        code_text(&self.text, &self.code_ends, id)
    }

    pub(crate) fn len(&self) -> usize {
        self.code_ends.len()
    }

    fn set_name(&mut self, id: CodeId, vocabulary: Vocabulary, name: &str) {
        let start = self.names.len() as u32;
        self.names.push_str(name);
        let span = (start, self.names.len() as u32);
        match vocabulary {
            Vocabulary::Diagnosis => self.dx_names[id as usize] = span,
            Vocabulary::Procedure => self.proc_names[id as usize] = span,
        }
    }

    /// The name of a code in a vocabulary; `None` when it is not in it.
    pub(crate) fn name(&self, id: CodeId, vocabulary: Vocabulary) -> Option<&str> {
        let spans = match vocabulary {
            Vocabulary::Diagnosis => &self.dx_names,
            Vocabulary::Procedure => &self.proc_names,
        };
        match spans.get(id as usize) {
            Some(&(start, end)) if start != u32::MAX => self.names.get(start as usize..end as usize),
            _ => None,
        }
    }

    /// [`IN_DX_VOCAB`] and [`IN_PROC_VOCAB`] bits.
    #[inline]
    pub(crate) fn vocab_flags(&self, id: CodeId) -> u8 {
        let has = |spans: &[(u32, u32)]| spans.get(id as usize).is_some_and(|s| s.0 != u32::MAX);
        (has(&self.dx_names) as u8 * IN_DX_VOCAB) | (has(&self.proc_names) as u8 * IN_PROC_VOCAB)
    }

    /// The codes of a vocabulary, by id.
    fn vocabulary(&self, vocabulary: Vocabulary) -> impl Iterator<Item = (CodeId, &str)> + '_ {
        (0..self.len() as CodeId).filter_map(move |id| self.name(id, vocabulary).map(|n| (id, n)))
    }
}

#[inline]
fn code_text<'t>(text: &'t str, ends: &[u32], id: CodeId) -> &'t str {
    let i = id as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &text[start..ends[i] as usize]
}

/// A compiled rule pack. Immutable; share it behind an `Arc`.
///
/// Open a drgpack/1 directory with [`Pack::open`], a compiled file with
/// [`Pack::from_bytes`], or try the tools on [`Pack::demo`]:
///
/// ```
/// use drg_core::Pack;
///
/// let pack = Pack::demo();
/// assert!(pack.info().counts.drg > 0);
/// let code = pack.lookup("k35.800").expect("the demo pack knows acute appendicitis");
/// assert_eq!(code.code, "K35.800");
/// assert_eq!(code.diagnosis_name, Some("急性阑尾炎，其他未特指"));
///
/// // The compiled form loads back to the same pack.
/// let again = Pack::from_bytes(&pack.to_bytes(), "demo.drgpack").unwrap();
/// assert_eq!(again.info().counts, pack.info().counts);
/// ```
#[derive(Clone, Debug)]
pub struct Pack {
    pub(crate) info: PackInfo,
    pub(crate) codes: CodeTable,
    pub(crate) lists: Lists,
    pub(crate) maps: Vec<ValueMap>,
    pub(crate) cc: ByCode<CcEntry>,
    /// The exclusion tables a principal diagnosis is listed in.
    pub(crate) exclusions: ByCode<u32>,
    /// Exclusion table names, by table id.
    pub(crate) tables: Vec<Box<str>>,
    /// Legacy code → its end of chain, or `None` when the chain loops.
    pub(crate) dx_translation: FxHashMap<CodeId, Option<CodeId>>,
    pub(crate) proc_translation: FxHashMap<CodeId, Option<CodeId>>,
    pub(crate) mdcs: Vec<Mdc>,
    /// `retry_ungroupable`.
    pub(crate) retry: Retry,
    /// The groupers' index of this pack, built by the first [`Grouper`] and
    /// shared by the others; not built by opening, so that opening stays as
    /// cheap as reading the pack.
    ///
    /// [`Grouper`]: crate::Grouper
    pub(crate) grouper_index: GrouperIndex,
}

/// The lazily built [`FastIndex`] of one pack. A clone starts empty: the
/// clone of a pack is a new pack (tests change one before grouping with it),
/// whose index is built from its own content.
#[derive(Default)]
pub(crate) struct GrouperIndex(OnceLock<Arc<FastIndex>>);

impl Clone for GrouperIndex {
    fn clone(&self) -> Self {
        GrouperIndex::default()
    }
}

/// Shown without its state, so that a pack's `Debug` is the same before and
/// after grouping with it.
impl fmt::Debug for GrouperIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GrouperIndex")
    }
}

/// Which vocabulary a code belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Vocabulary {
    /// ICD-10 diagnoses (codes/diagnoses.tsv).
    Diagnosis,
    /// ICD-9-CM3 procedures (codes/procedures.tsv).
    Procedure,
}

impl Vocabulary {
    /// `diagnosis` or `procedure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vocabulary::Diagnosis => "diagnosis",
            Vocabulary::Procedure => "procedure",
        }
    }
}

/// What a pack knows of one code (see [`Pack::lookup`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CodeLookup<'p> {
    /// The code as normalised.
    pub code: String,
    /// Its name in codes/diagnoses.tsv, when it is a diagnosis of the scheme.
    pub diagnosis_name: Option<&'p str>,
    /// Its name in codes/procedures.tsv, when it is a procedure of the scheme.
    pub procedure_name: Option<&'p str>,
    /// (level, exclusion table) rows of cc.tsv.
    pub cc: Vec<(CcLevel, &'p str)>,
    /// Exclusion tables that list this code as a principal diagnosis.
    pub excludes_tables: Vec<&'p str>,
    /// Whether or_procedures.tsv lists it (an operating-room procedure).
    pub or_procedure: bool,
    /// The code lists that contain it.
    pub lists: Vec<&'p str>,
    /// Where code translation takes it (`*_map.tsv`): `Some(Ok(code))`, or
    /// `Some(Err(()))` when its chain loops and it is left as it is.
    pub translates_to: Option<Result<&'p str, ()>>,
}

/// A vocabulary entry found by [`Pack::search`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodeMatch<'p> {
    /// The vocabulary it was found in.
    pub vocabulary: Vocabulary,
    /// The code.
    pub code: &'p str,
    /// Its name.
    pub name: &'p str,
}

/// The list name that stands for or_procedures.tsv.
pub const OR_PROCEDURES: &str = "$or_procedures";

impl Pack {
    /// Opens a pack: a drgpack/1 directory, or a file written by
    /// [`Pack::to_bytes`] (`drg pack compile`).
    pub fn open(path: impl AsRef<Path>) -> Result<Pack, PackError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => load::from_dir(path),
            Ok(m) => {
                // Only a regular file is read, and only so much of it: a FIFO
                // would hang and `/dev/zero` would never end.
                if !m.is_file() {
                    return Err(PackError::new(shown, "is neither a directory nor a regular file (a device, a FIFO or a socket?)"));
                }
                let bytes = load::read_limited(path, MAX_COMPILED_BYTES)
                    .map_err(|e| PackError::new(&shown, e))?;
                if !binary::looks_compiled(&bytes) {
                    return Err(PackError::new(shown, "is a file, but neither a pack directory nor a compiled pack"));
                }
                binary::decode(&bytes, &shown)
            }
            Err(e) => Err(PackError::new(shown, format!("cannot open: {e}"))),
        }
    }

    /// The pack compiled into one versioned, checksummed file's bytes, which
    /// [`Pack::open`] and [`Pack::from_bytes`] read back.
    pub fn to_bytes(&self) -> Vec<u8> {
        binary::encode(self)
    }

    /// Reads a compiled pack from bytes; `label` names it in messages.
    pub fn from_bytes(bytes: &[u8], label: &str) -> Result<Pack, PackError> {
        binary::decode(bytes, label)
    }

    /// Loads a pack from in-memory files, named by their path inside the pack
    /// (`pack.json`, `cc.tsv`, `codes/diagnoses.tsv`…). `label` names the pack
    /// in messages.
    pub fn from_files<'a>(
        label: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Pack, PackError> {
        let files: FxHashMap<&str, &str> = files.into_iter().collect();
        load::load(label, &|name: &str| Ok(files.get(name).map(|s| std::borrow::Cow::Borrowed(*s))))
    }

    /// The built-in demonstration pack (a handful of MDCs and ADRGs with real
    /// codes). It is for trying the tools, not for payment.
    pub fn demo() -> Pack {
        Pack::from_files("built-in demo pack", crate::demo::FILES.iter().copied())
            .expect("the built-in demo pack loads")
    }

    /// The groupers' index of the pack, built on the first call.
    pub(crate) fn fast_index(&self) -> Arc<FastIndex> {
        Arc::clone(self.grouper_index.0.get_or_init(|| Arc::new(FastIndex::new(self))))
    }

    /// What the pack says about itself: id, name, counts, warnings.
    pub fn info(&self) -> &PackInfo {
        &self.info
    }

    /// The MDCs with their ADRGs and DRGs, in evaluation order.
    pub fn mdcs(&self) -> &[Mdc] {
        &self.mdcs
    }

    /// What the pack does with a case no MDC took (`retry_ungroupable`).
    pub fn retry(&self) -> Retry {
        self.retry
    }

    /// How many named code lists the pack has (with `$or_procedures`).
    pub fn list_count(&self) -> usize {
        self.lists.names.len()
    }

    /// How many codes a vocabulary has.
    pub fn vocabulary_size(&self, vocabulary: Vocabulary) -> usize {
        self.codes.vocabulary(vocabulary).count()
    }

    /// The name of a DRG code, if the pack has it.
    pub fn drg_name(&self, drg: &str) -> Option<&str> {
        self.mdcs
            .iter()
            .flat_map(|m| &m.adrgs)
            .flat_map(|a| &a.drgs)
            .find(|d| &*d.code == drg)
            .map(|d| &*d.name)
    }

    /// Everything the pack knows of a code, in any spelling.
    pub fn lookup(&self, code: &str) -> Option<CodeLookup<'_>> {
        let code = crate::codes::normalize_code(code)?.into_owned();
        let Some(id) = self.codes.id(&code) else {
            return Some(CodeLookup {
                code,
                diagnosis_name: None,
                procedure_name: None,
                cc: vec![],
                excludes_tables: vec![],
                or_procedure: false,
                lists: vec![],
                translates_to: None,
            });
        };
        let lists: Vec<&str> = (0..self.lists.names.len() as u32)
            .map(ListId)
            .filter(|&l| self.lists.contains(l, id))
            .map(|l| self.lists.name(l))
            .collect();
        let translation = self.dx_translation.get(&id).or_else(|| self.proc_translation.get(&id));
        Some(CodeLookup {
            code,
            diagnosis_name: self.codes.name(id, Vocabulary::Diagnosis),
            procedure_name: self.codes.name(id, Vocabulary::Procedure),
            cc: self.cc.get(id).iter().map(|e| (e.level, &*self.tables[e.table as usize])).collect(),
            excludes_tables: self.exclusions.get(id).iter().map(|&t| &*self.tables[t as usize]).collect(),
            or_procedure: lists.contains(&OR_PROCEDURES),
            lists: lists.into_iter().filter(|l| *l != OR_PROCEDURES).collect(),
            translates_to: translation.map(|to| to.map(|to| self.codes.code(to)).ok_or(())),
        })
    }

    /// The name of a diagnosis or procedure code, in any spelling.
    pub fn code_name(&self, code: &str) -> Option<&str> {
        let code = crate::codes::normalize_code(code)?;
        let id = self.codes.id(&code)?;
        self.codes.name(id, Vocabulary::Diagnosis).or_else(|| self.codes.name(id, Vocabulary::Procedure))
    }

    /// Vocabulary entries whose name contains `text` (or whose code begins
    /// with it, normalised), diagnoses first, each in code order.
    pub fn search(&self, text: &str) -> Vec<CodeMatch<'_>> {
        let text = text.trim();
        if text.is_empty() {
            return vec![];
        }
        let as_code = crate::codes::normalize_code(text);
        let mut found = Vec::new();
        for vocabulary in [Vocabulary::Diagnosis, Vocabulary::Procedure] {
            let mut hits: Vec<CodeMatch<'_>> = self
                .codes
                .vocabulary(vocabulary)
                .map(|(id, name)| (self.codes.code(id), name))
                .filter(|(code, name)| {
                    name.contains(text) || as_code.as_deref().is_some_and(|c| code.starts_with(c))
                })
                .map(|(code, name)| CodeMatch { vocabulary, code, name })
                .collect();
            hits.sort_by(|a, b| a.code.cmp(b.code));
            found.extend(hits);
        }
        found
    }
}

#[cfg(test)]
pub(crate) mod tests;
