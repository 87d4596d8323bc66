//! Grouping a case with a pack (specs/rulepack.md, "Evaluation").

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::case::Case;
use crate::codes::{for_message, normalize_code};
use crate::pack::{
    Adrg, CcEntry, CcLevel, CodeId, CodeSel, Drg, Expr, Mdc, NumField, Pack, Retry, IN_DX_VOCAB, IN_PROC_VOCAB,
};

/// The outcome of grouping a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// A DRG was found.
    Grouped,
    /// No DRG: no MDC gave a result, or an ADRG matched and none of its DRGs.
    Ungroupable,
    /// The case reached an ambiguous (QY) ADRG.
    Ambiguous,
    /// The case lacks what grouping needs, or a field could not be read.
    Invalid,
}

impl Status {
    /// `grouped`, `ungroupable`, `ambiguous` or `invalid`, as in result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Grouped => "grouped",
            Status::Ungroupable => "ungroupable",
            Status::Ambiguous => "ambiguous",
            Status::Invalid => "invalid",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of grouping one case. Codes and names borrow from the pack.
///
/// ```
/// use std::sync::Arc;
/// use drg_core::{Case, Grouper, Pack, Status};
///
/// let grouper = Grouper::new(Arc::new(Pack::demo()));
/// // No sex, no age: the case cannot be grouped, and the reason says why.
/// let result = grouper.group(&Case { id: "A2".into(), diagnoses: vec!["K35.800".into()], ..Case::default() });
/// assert_eq!(result.status, Status::Invalid);
/// assert_eq!(result.drg, None);
/// assert!(result.reason.is_some());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GroupResult<'p> {
    /// Grouped, ungroupable, ambiguous or invalid.
    pub status: Status,
    /// The MDC the case went to, if any.
    pub mdc: Option<&'p str>,
    /// Its name.
    pub mdc_name: Option<&'p str>,
    /// The ADRG within it, if any.
    pub adrg: Option<&'p str>,
    /// Its name.
    pub adrg_name: Option<&'p str>,
    /// Set only when grouped.
    pub drg: Option<&'p str>,
    /// The DRG's name.
    pub drg_name: Option<&'p str>,
    /// Why a case is invalid, ungroupable or ambiguous, in one line.
    pub reason: Option<String>,
    /// Codes outside the pack's vocabularies and the like.
    pub warnings: Vec<String>,
    /// The rules tried, in order; filled only by [`Grouper::explain`].
    pub trace: Vec<TraceStep>,
}

impl<'p> GroupResult<'p> {
    /// An `invalid` result for a row that could not even be read.
    pub fn invalid(reason: impl Into<String>) -> Self {
        GroupResult {
            status: Status::Invalid,
            mdc: None,
            mdc_name: None,
            adrg: None,
            adrg_name: None,
            drg: None,
            drg_name: None,
            reason: Some(reason.into()),
            warnings: Vec::new(),
            trace: Vec::new(),
        }
    }

    /// The warnings as one `;`-separated field.
    pub fn warnings_joined(&self) -> String {
        self.warnings.join("; ")
    }

    /// The result as a JSON object: `id` and the result columns of
    /// specs/cases.md (`null` where empty, `warnings` as an array), and
    /// `trace` (an array of `{depth, held, text}`) when there is a trail.
    pub fn to_json(&self, id: &str) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        o.insert("id".into(), id.into());
        o.insert("status".into(), self.status.as_str().into());
        for (key, value) in [("mdc", self.mdc), ("adrg", self.adrg), ("drg", self.drg), ("drg_name", self.drg_name)] {
            o.insert(key.into(), value.into());
        }
        o.insert("reason".into(), self.reason.clone().into());
        o.insert("warnings".into(), self.warnings.clone().into());
        if !self.trace.is_empty() {
            let steps = self
                .trace
                .iter()
                .map(|s| serde_json::json!({"depth": s.depth, "held": s.held, "text": s.text}))
                .collect::<Vec<_>>();
            o.insert("trace".into(), steps.into());
        }
        serde_json::Value::Object(o)
    }

    /// The result as one line of `drg group --format jsonl` (with the
    /// newline): [`GroupResult::to_json`], then the input's unknown keys
    /// (`extra`) that the result does not already have. The CLI, the C ABI's
    /// callers and `drg serve` all render results through this, so they agree
    /// byte for byte.
    ///
    /// It writes the same bytes as serialising [`GroupResult::to_json`] with
    /// the extra keys added, without building the JSON tree first (which
    /// cost `drg serve` about 2 µs of its 7 µs a batch case).
    pub fn write_json_line(&self, id: &str, extra: &[(String, serde_json::Value)], out: &mut Vec<u8>) {
        fn string(out: &mut Vec<u8>, s: &str) {
            serde_json::to_writer(&mut *out, s).expect("writing JSON to memory cannot fail");
        }
        fn optional(out: &mut Vec<u8>, s: Option<&str>) {
            match s {
                Some(s) => string(out, s),
                None => out.extend_from_slice(b"null"),
            }
        }
        out.extend_from_slice(b"{\"id\":");
        string(out, id);
        out.extend_from_slice(b",\"status\":");
        string(out, self.status.as_str());
        for (key, value) in [(&b",\"mdc\":"[..], self.mdc), (b",\"adrg\":", self.adrg), (b",\"drg\":", self.drg), (b",\"drg_name\":", self.drg_name)] {
            out.extend_from_slice(key);
            optional(out, value);
        }
        out.extend_from_slice(b",\"reason\":");
        optional(out, self.reason.as_deref());
        out.extend_from_slice(b",\"warnings\":[");
        for (i, w) in self.warnings.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, w);
        }
        out.push(b']');
        if !self.trace.is_empty() {
            out.extend_from_slice(b",\"trace\":[");
            for (i, step) in self.trace.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(format!("{{\"depth\":{},\"held\":{},\"text\":", step.depth, step.held).as_bytes());
                string(out, &step.text);
                out.push(b'}');
            }
            out.push(b']');
        }
        const OWN: [&str; 8] = ["id", "status", "mdc", "adrg", "drg", "drg_name", "reason", "warnings"];
        for (i, (key, value)) in extra.iter().enumerate() {
            let taken = OWN.contains(&key.as_str())
                || (key == "trace" && !self.trace.is_empty())
                || extra[..i].iter().any(|(k, _)| k == key);
            if !taken {
                out.push(b',');
                string(out, key);
                out.push(b':');
                serde_json::to_writer(&mut *out, value).expect("writing JSON to memory cannot fail");
            }
        }
        out.extend_from_slice(b"}\n");
    }

    /// The trail as plain indented lines, for a coder to read.
    pub fn trace_text(&self) -> String {
        let mut out = String::new();
        for step in &self.trace {
            out.push_str(&step.to_string());
            out.push('\n');
        }
        out
    }
}

/// One rule tried while grouping, and whether it held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// Nesting: MDCs at 0, their rules and ADRGs at 1, and so on.
    pub depth: u16,
    /// Whether the rule held.
    pub held: bool,
    /// The rule, as a coder reads it.
    pub text: String,
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for _ in 0..self.depth {
            f.write_str("  ")?;
        }
        write!(f, "{} {}", if self.held { "✓" } else { "✗" }, self.text)
    }
}

/// How a [`Grouper`] treats its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupOptions {
    /// Replace legacy codes found in the pack's `*_map.tsv` by their targets
    /// before grouping (off by default, as specs/cases.md says).
    pub translate_codes: bool,
}

/// Groups cases with one pack. Cheap to clone and `Send + Sync`: share one
/// between threads.
///
/// [`Grouper::group`] gives the result; [`Grouper::explain`] the same result
/// with the rules tried, for a coder to read:
///
/// ```
/// use std::sync::Arc;
/// use drg_core::{Case, Grouper, Pack, Sex, Status};
///
/// let grouper = Grouper::new(Arc::new(Pack::demo()));
/// let case = Case {
///     id: "A1".into(),
///     sex: Some(Sex::Female),
///     age_years: Some(45),
///     diagnoses: vec!["K35.800".into(), "E11.900".into()],
///     procedures: vec!["47.0901".into()],
///     ..Case::default()
/// };
/// let explained = grouper.explain(&case);
/// assert_eq!(explained.status, Status::Grouped);
/// assert_eq!(explained.drg, grouper.group(&case).drg);
/// assert!(explained.trace.iter().any(|step| step.held));
/// ```
#[derive(Clone, Debug)]
pub struct Grouper {
    pack: Arc<Pack>,
    options: GroupOptions,
    /// Built from the pack once (a few milliseconds) and kept by the pack,
    /// shared by every grouper over it.
    index: Arc<FastIndex>,
}

/// The id of a code the pack does not know: it is in no list and no table.
const NO_ID: CodeId = CodeId::MAX;

/// A complication level not looked for yet (see `Ctx::complications`).
const NOT_LOOKED_FOR: usize = usize::MAX;

/// A found complication's index into the diagnoses as an answer: 0, the
/// principal's own index, stands for none (see `Ctx::complications`).
#[inline(always)]
fn found_complication(index: usize) -> Option<usize> {
    (index != 0).then_some(index)
}

/// The ids of a case's codes: the first twelve in place, where the fast path
/// of [`Grouper::resolve`] writes them, all of them in a `Vec` past twelve.
/// (A `SmallVec` cost a code a push and the case a copy of the array.)
struct Ids {
    inline: [CodeId; 12],
    /// The ids in `inline`, when `spilled` is empty.
    len: usize,
    spilled: Vec<CodeId>,
}

impl Ids {
    fn new() -> Self {
        Ids { inline: [0; 12], len: 0, spilled: Vec::new() }
    }

    fn push(&mut self, id: CodeId) {
        if self.spilled.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = id;
                self.len += 1;
                return;
            }
            self.spilled.extend_from_slice(&self.inline);
        }
        self.spilled.push(id);
    }
}

impl std::ops::Deref for Ids {
    type Target = [CodeId];

    #[inline]
    fn deref(&self) -> &[CodeId] {
        if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }
}

impl Grouper {
    /// A grouper with the default options.
    pub fn new(pack: Arc<Pack>) -> Self {
        Self::with_options(pack, GroupOptions::default())
    }

    /// A grouper with these options.
    pub fn with_options(pack: Arc<Pack>, options: GroupOptions) -> Self {
        let index = pack.fast_index();
        Grouper { pack, options, index }
    }

    /// The id of a code spelt exactly so in the pack: through the inline
    /// keys for a short code, else the pack's own index.
    #[inline]
    fn lookup(&self, code: &str) -> Option<CodeId> {
        if FastIndex::is_short(code) {
            self.index.find(code).map(|known| known.id)
        } else {
            self.pack.codes.id(code)
        }
    }

    /// The pack it groups with.
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// Its options.
    pub fn options(&self) -> GroupOptions {
        self.options
    }

    /// Starts loading what grouping `case` will look up first (its codes'
    /// places in the grouper's index), so that a loop over cases can ask it
    /// of the next case while it groups this one. A hint: grouping gives
    /// the same result without it. [`Grouper::read_ahead`] is that loop.
    ///
    /// (The index of a national pack is a few megabytes: a code looked up
    /// cold waits for memory, and that wait was two fifths of grouping's
    /// time on a mix of cases with codes of every kind.)
    pub fn prefetch(&self, case: &Case) {
        // (Two loops: a chained iterator cost a code a test of which half
        // it is in.)
        for code in &case.diagnoses {
            self.index.prefetch(code);
        }
        for code in &case.procedures {
            self.index.prefetch(code);
        }
    }

    /// Reads rows `0..rows` into the two `slots` by turns, each row one row
    /// ahead of its use, and gives each row to `each` in order with what
    /// reading it gave; a row read well is [prefetched](Grouper::prefetch)
    /// while the row before it is used. `each` is expected to group the
    /// row's case (or report its error); the slots hold whatever a row is
    /// read into besides its case, and are kept for the next call.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use drg_core::{Case, Grouper, Pack, Status};
    ///
    /// let grouper = Grouper::new(Arc::new(Pack::demo()));
    /// let ids = ["C1", "", "C3"];
    /// let mut slots = [Case::default(), Case::default()];
    /// let mut groups = Vec::new();
    /// grouper.read_ahead(
    ///     &mut slots,
    ///     ids.len(),
    ///     |row, case: &mut Case| {
    ///         case.id = ids[row].to_string();
    ///         if case.id.is_empty() { Err(format!("row {row}: no id")) } else { Ok(()) }
    ///     },
    ///     |_row, case, read| groups.push(read.map(|()| (case.id.clone(), grouper.group(case).status))),
    /// );
    /// assert_eq!(groups[0], Ok(("C1".to_string(), Status::Invalid)));
    /// assert_eq!(groups[1], Err("row 1: no id".to_string()));
    /// assert_eq!(groups[2].as_ref().map(|(id, _)| id.as_str()), Ok("C3"));
    /// ```
    pub fn read_ahead<S: AsRef<Case>, E>(
        &self,
        slots: &mut [S; 2],
        rows: usize,
        mut read: impl FnMut(usize, &mut S) -> Result<(), E>,
        mut each: impl FnMut(usize, &mut S, Result<(), E>),
    ) {
        let [mut this, mut ahead] = slots.each_mut();
        if rows == 0 {
            return;
        }
        let mut read_this = read(0, this);
        // What a case needs comes in three steps, each known only once the
        // one before has come: the slots of its codes, asked for once it is
        // read; the rows of its principal codes, asked for once the case
        // before it is grouped; their first entries, once the next case is
        // read.
        let mut rows_this = PrincipalRows::default();
        for next in 1..rows {
            let read_next = read(next, ahead);
            self.index.prefetch_principal_entries(rows_this);
            if read_next.is_ok() {
                self.prefetch(ahead.as_ref());
            }
            each(next - 1, this, read_this);
            rows_this = match read_next {
                Ok(()) => {
                    let case = ahead.as_ref();
                    let (pdx, pproc) = (case.diagnoses.first(), case.procedures.first());
                    self.index.prefetch_principal_rows(pdx.map(String::as_str), pproc.map(String::as_str))
                }
                Err(_) => PrincipalRows::default(),
            };
            read_this = read_next;
            std::mem::swap(&mut this, &mut ahead);
        }
        each(rows - 1, this, read_this);
    }

    /// Groups a case.
    pub fn group(&self, case: &Case) -> GroupResult<'_> {
        self.run::<false>(case)
    }

    /// Groups a case and records the trail of rules tried in `trace`.
    pub fn explain(&self, case: &Case) -> GroupResult<'_> {
        self.run::<true>(case)
    }

    /// Groups with or without the trail.
    pub fn group_with(&self, case: &Case, explain: bool) -> GroupResult<'_> {
        if explain {
            self.explain(case)
        } else {
            self.group(case)
        }
    }

    #[inline(always)]
    fn resolve<'c, const TRACE: bool>(
        &self,
        raw: &'c [String],
        vocab: u8,
        notes: &mut Notes,
        ids: &mut Ids,
        text: Option<&mut Vec<Cow<'c, str>>>,
    ) {
        // The common case, without a trail or translation: a code spelt as
        // the pack spells it, of the vocabulary wanted, costs one lookup and
        // gives no warning. Anything else takes the long way, told what that
        // lookup found (a short code's only lookup as it is spelt).
        if !TRACE && !self.options.translate_codes {
            // The ids go straight to their place (`ids` is new and empty).
            debug_assert!(ids.is_empty(), "resolve fills new ids");
            if raw.len() > ids.inline.len() {
                return self.resolve_each::<TRACE>(raw, vocab, notes, ids, None);
            }
            // Item i's id goes to slot i. An item that is no code at all
            // (rare) would leave a gap: the codes are then resolved again
            // the long way, from the warnings as they were.
            let warned = notes.warnings.len();
            for (item, slot) in raw.iter().zip(&mut ids.inline) {
                *slot = match self.index.find(item) {
                    Some(known) if known.vocab_flags & vocab != 0 => known.id,
                    found => {
                        let looked = FastIndex::is_short(item).then(|| found.map(|known| known.id));
                        match self.resolve_one::<TRACE>(item, looked, vocab, notes) {
                            Some((id, _)) => id,
                            None => {
                                notes.warnings.truncate(warned);
                                return self.resolve_each::<TRACE>(raw, vocab, notes, ids, None);
                            }
                        }
                    }
                };
            }
            ids.len = raw.len();
            return;
        }
        self.resolve_each::<TRACE>(raw, vocab, notes, ids, text);
    }

    /// [`Grouper::resolve`] code by code the long way, the codes' text to
    /// `text` when there is one (when explaining).
    fn resolve_each<'c, const TRACE: bool>(
        &self,
        raw: &'c [String],
        vocab: u8,
        notes: &mut Notes,
        ids: &mut Ids,
        mut text: Option<&mut Vec<Cow<'c, str>>>,
    ) {
        for item in raw {
            if let Some((id, code)) = self.resolve_one::<TRACE>(item, None, vocab, notes) {
                ids.push(id);
                if let Some(text) = &mut text {
                    text.push(code);
                }
            }
        }
    }

    /// [`Grouper::resolve`] for one code the long way: `looked` is what
    /// looking the code up as it is spelt gave, when that was done. The id
    /// ([`NO_ID`] for an unknown code) and the code as normalised and
    /// translated; `None` for an item that is no code at all.
    #[inline(never)]
    fn resolve_one<'c, const TRACE: bool>(
        &self,
        item: &'c str,
        looked: Option<Option<CodeId>>,
        vocab: u8,
        notes: &mut Notes,
    ) -> Option<(CodeId, Cow<'c, str>)> {
        let pack = &*self.pack;
        let translation =
            if vocab == IN_DX_VOCAB { &pack.dx_translation } else { &pack.proc_translation };
        // Every code of a pack is stored normalised, so a code found as it
        // is needs no normalising: the common case costs one lookup.
        let (mut code, mut id) = match looked.unwrap_or_else(|| self.lookup(item)) {
            Some(id) => (Cow::Borrowed(item), Some(id)),
            None => {
                let code = normalize_code(item)?;
                let id = self.lookup(&code);
                (code, id)
            }
        };
        if let (true, Some(from)) = (self.options.translate_codes, id) {
            match translation.get(&from) {
                Some(&Some(to)) => {
                    if TRACE {
                        notes.trace.push(TraceStep {
                            depth: 0,
                            held: true,
                            text: format!("code {code} translated to {}", pack.codes.code(to)),
                        });
                    }
                    id = Some(to);
                    code = Cow::Owned(pack.codes.code(to).to_string());
                }
                Some(None) => notes
                    .warnings
                    .push(format!("code {} not translated: its translation chain loops", for_message(&code))),
                None => {}
            }
        }
        if id.map_or(true, |id| pack.codes.vocab_flags(id) & vocab == 0) {
            let what = if vocab == IN_DX_VOCAB { "diagnosis" } else { "procedure" };
            notes.warnings.push(format!("unknown {what} code {}", for_message(&code)));
        }
        Some((id.unwrap_or(NO_ID), code))
    }

    /// The principal code as normalised (and translated), without the text
    /// the fast path does not keep: the pack's spelling of a known code, else
    /// the first item that normalises to a code.
    fn principal_text(&self, ids: &[CodeId], raw: &[String]) -> Option<String> {
        match *ids.first()? {
            NO_ID => raw.iter().find_map(|r| normalize_code(r)).map(Cow::into_owned),
            id => Some(self.pack.codes.code(id).to_string()),
        }
    }

    fn run<const TRACE: bool>(&self, case: &Case) -> GroupResult<'_> {
        let pack = &*self.pack;
        // The result is put together at the end, in place (a result built
        // first and filled in cost a case a copy of it).
        let mut notes = Notes::default();
        // The codes' ids ([`NO_ID`] for one the pack does not know), and their
        // text for the trail, filled and lent only when explaining: without a
        // trail it is never lent out, so that dropping it costs nothing.
        let (mut dx, mut proc, mut dx_text, mut proc_text) = (Ids::new(), Ids::new(), Vec::new(), Vec::new());
        self.resolve::<TRACE>(&case.diagnoses, IN_DX_VOCAB, &mut notes, &mut dx, TRACE.then_some(&mut dx_text));
        self.resolve::<TRACE>(&case.procedures, IN_PROC_VOCAB, &mut notes, &mut proc, TRACE.then_some(&mut proc_text));

        // The ids as slices once (each deref of `Ids` tests where they are).
        let (dx_ids, proc_ids): (&[CodeId], &[CodeId]) = (&dx, &proc);
        if let Some(problems) = validate(case, dx_ids.len()) {
            if TRACE {
                notes.trace.push(TraceStep { depth: 0, held: false, text: format!("invalid case: {problems}") });
            }
            return notes.into_result(Status::Invalid, Some(problems));
        }
        let (dx_text, proc_text) = (&dx_text[..], &proc_text[..]);
        let outcome = self.evaluate::<TRACE>(case, (dx_ids, dx_text), (proc_ids, proc_text), &mut notes.trace);
        if let Outcome::Grouped(mdc, adrg, drg) = outcome {
            // The common case, written out.
            let Notes { warnings, trace } = notes;
            return GroupResult {
                status: Status::Grouped,
                mdc: Some(&mdc.code),
                mdc_name: Some(&mdc.name),
                adrg: Some(&adrg.code),
                adrg_name: Some(&adrg.name),
                drg: Some(&drg.code),
                drg_name: Some(&drg.name),
                reason: None,
                warnings,
                trace,
            };
        }
        if !matches!(outcome, Outcome::NoMdc) {
            return finish(outcome, notes);
        }

        // Step 3 of the evaluation: once per procedure after the first, alone.
        if pack.retry == Retry::EachOtherProcedure && proc_ids.len() >= 2 {
            for i in 1..proc_ids.len() {
                let alone = &proc_ids[i..i + 1];
                let alone_text = if TRACE { &proc_text[i..i + 1] } else { &[][..] };
                let mut attempt = Vec::new();
                let outcome = self.evaluate::<TRACE>(case, (dx_ids, dx_text), (alone, alone_text), &mut attempt);
                let found = !matches!(outcome, Outcome::NoMdc);
                if TRACE {
                    notes.trace.push(TraceStep {
                        depth: 0,
                        held: found,
                        text: format!(
                            "retry_ungroupable: evaluated again with procedure {} alone{}",
                            self.nth_code((proc_ids, proc_text), &case.procedures, i),
                            if found { ", which gives a result" } else { ", which gives no result" }
                        ),
                    });
                    notes.trace.extend(attempt.into_iter().map(|s| TraceStep { depth: s.depth + 1, ..s }));
                }
                if found {
                    notes.warnings.push(format!(
                        "grouped on procedure {} alone: the case gave no group with principal procedure {}",
                        for_message(&self.nth_code((proc_ids, proc_text), &case.procedures, i)),
                        for_message(&self.nth_code((proc_ids, proc_text), &case.procedures, 0)),
                    ));
                    return finish(outcome, notes);
                }
            }
        }

        let pdx = self.principal_text(dx_ids, &case.diagnoses).unwrap_or_default();
        let mut reason = format!("no MDC gave a result for principal diagnosis {}", for_message(&pdx));
        if let Some(p) = self.principal_text(proc_ids, &case.procedures) {
            reason.push_str(&format!(" and principal procedure {}", for_message(&p)));
        }
        notes.into_result(Status::Ungroupable, Some(reason))
    }

    /// The `i`-th procedure of the case as normalised (and translated): the
    /// pack's spelling of a known code, else the `i`-th item that normalises
    /// to a code.
    fn nth_code(&self, (ids, text): (&[CodeId], &[Cow<'_, str>]), raw: &[String], i: usize) -> String {
        if let Some(text) = text.get(i) {
            return text.to_string();
        }
        match ids.get(i) {
            Some(&id) if id != NO_ID => self.pack.codes.code(id).to_string(),
            _ => raw.iter().filter_map(|r| normalize_code(r)).nth(i).map(Cow::into_owned).unwrap_or_default(),
        }
    }

    /// Steps 1 and 2 of the evaluation (specs/rulepack.md) with these
    /// procedures; the trail goes to `trace` when explaining.
    #[inline(always)]
    fn evaluate<'p, const TRACE: bool>(
        &'p self,
        case: &Case,
        (dx, dx_text): (&[CodeId], &[Cow<'_, str>]),
        (proc, proc_text): (&[CodeId], &[Cow<'_, str>]),
        trace: &mut Vec<TraceStep>,
    ) -> Outcome<'p> {
        let pack = &*self.pack;
        let (pdx, pproc) = (dx.first().copied(), proc.first().copied());
        let (candidate_mdcs, adrg_entries) = self.index.principals(pdx, pproc);
        let mut cx = Ctx {
            pack,
            case,
            principal: [pdx.unwrap_or(NO_ID), pproc.unwrap_or(NO_ID)],
            program: &self.index.program,
            index: &self.index,
            adrg_entries,
            dx,
            proc,
            dx_text,
            proc_text,
            complications: [NOT_LOOKED_FOR; 2],
            any_tests_passed: [None; 2],
            trace,
        };
        // Step 1 over the MDCs that can hold: when explaining every one (the
        // trail shows each), else those whose items on the principal codes
        // alone hold, from the grouper's masks.
        // (The MDCs go in pack order either way, as the ADRG masks want.)
        let candidates = if TRACE { None } else { candidate_mdcs };
        let outcome = match candidates {
            Some(mut mdcs) => {
                loop {
                    if mdcs == 0 {
                        break Outcome::NoMdc;
                    }
                    let m = mdcs.trailing_zeros() as usize;
                    mdcs &= mdcs - 1;
                    if let Some(found) = cx.step_1_mdc::<TRACE>(m, &pack.mdcs[m], true) {
                        break found;
                    }
                }
            }
            None => pack
                .mdcs
                .iter()
                .enumerate()
                .find_map(|(m, mdc)| cx.step_1_mdc::<TRACE>(m, mdc, false))
                .unwrap_or(Outcome::NoMdc),
        };
        outcome
    }
}

/// How steps 1 and 2 of the evaluation ended.
enum Outcome<'p> {
    Grouped(&'p Mdc, &'p Adrg, &'p Drg),
    Ambiguous(&'p Mdc, &'p Adrg),
    /// An ADRG matched and none of its DRGs, and it says stop.
    NoDrg(&'p Mdc, &'p Adrg),
    /// An MDC matched and none of its ADRGs, and it says stop.
    NoAdrg(&'p Mdc),
    /// No MDC gave a result (step 2).
    NoMdc,
}

/// What grouping notes down on the way: warnings, and the trail when
/// explaining.
#[derive(Default)]
struct Notes {
    warnings: Vec<String>,
    trace: Vec<TraceStep>,
}

impl Notes {
    /// A result with no MDC.
    fn into_result<'p>(self, status: Status, reason: Option<String>) -> GroupResult<'p> {
        let Notes { warnings, trace } = self;
        GroupResult { status, mdc: None, mdc_name: None, adrg: None, adrg_name: None, drg: None, drg_name: None, reason, warnings, trace }
    }
}

/// The result of an outcome other than [`Outcome::NoMdc`] (which gives an
/// ungroupable result without a reason).
#[inline(never)]
fn finish<'p>(outcome: Outcome<'p>, notes: Notes) -> GroupResult<'p> {
    let (status, mdc, adrg, drg, reason) = match outcome {
        Outcome::Grouped(mdc, adrg, drg) => (Status::Grouped, Some(mdc), Some(adrg), Some(drg), None),
        Outcome::Ambiguous(mdc, adrg) => {
            let reason = format!("ADRG {} is an ambiguous group", adrg.code);
            (Status::Ambiguous, Some(mdc), Some(adrg), None, Some(reason))
        }
        Outcome::NoDrg(mdc, adrg) => {
            let reason = format!("ADRG {} matched but none of its DRGs", adrg.code);
            (Status::Ungroupable, Some(mdc), Some(adrg), None, Some(reason))
        }
        Outcome::NoAdrg(mdc) => {
            let reason = format!("MDC {} matched but none of its ADRGs (the MDC says stop)", mdc.code);
            (Status::Ungroupable, Some(mdc), None, None, Some(reason))
        }
        Outcome::NoMdc => (Status::Ungroupable, None, None, None, None),
    };
    let Notes { warnings, trace } = notes;
    GroupResult {
        status,
        mdc: mdc.map(|m| &*m.code),
        mdc_name: mdc.map(|m| &*m.name),
        adrg: adrg.map(|a| &*a.code),
        adrg_name: adrg.map(|a| &*a.name),
        drg: drg.map(|d| &*d.code),
        drg_name: drg.map(|d| &*d.name),
        reason,
        warnings,
        trace,
    }
}

/// The checks of specs/cases.md ("Validation"), all of them, in one line.
#[inline]
pub(crate) fn validate(case: &Case, n_diagnoses: usize) -> Option<String> {
    match problems(case, n_diagnoses) {
        0 => None,
        found => Some(describe_problems(case, found)),
    }
}

/// The problems of [`problems`], a bit each, in the order they are told.
mod problem {
    pub const ID_MISSING: u16 = 1 << 0;
    pub const SEX_MISSING: u16 = 1 << 1;
    pub const AGE_YEARS_MISSING: u16 = 1 << 2;
    pub const AGE_YEARS_NEGATIVE: u16 = 1 << 3;
    pub const AGE_DAYS_MISSING: u16 = 1 << 4;
    pub const AGE_DAYS_NEGATIVE: u16 = 1 << 5;
    pub const AGE_DAYS_DISAGREE: u16 = 1 << 6;
    pub const WEIGHT_MISSING: u16 = 1 << 7;
    pub const LOS_NEGATIVE: u16 = 1 << 8;
    pub const NO_DIAGNOSES: u16 = 1 << 9;
}

/// The validation rules, each once: the bits of the [`problem`]s a case has
/// (0, the common case, for none). The messages are built apart, only for a
/// case with a problem.
#[inline]
fn problems(case: &Case, n_diagnoses: usize) -> u16 {
    use problem::*;
    let mut found = 0;
    // An id starting with a visible ASCII byte is not all whitespace
    // (`trim().is_empty()`, without trimming both ends of every id).
    if !matches!(case.id.as_bytes().first(), Some(0x21..=0x7e)) && case.id.chars().all(char::is_whitespace) {
        found |= ID_MISSING;
    }
    if case.sex.is_none() {
        found |= SEX_MISSING;
    }
    found |= match case.age_years {
        None => AGE_YEARS_MISSING,
        Some(y) if y < 0 => AGE_YEARS_NEGATIVE,
        Some(0) if case.age_days.is_none() => AGE_DAYS_MISSING,
        _ => 0,
    };
    found |= match case.age_days {
        None => 0,
        Some(d) if d < 0 => AGE_DAYS_NEGATIVE,
        // The two ages must tell the same age (specs/cases.md): at least
        // 365 days a year, fewer than 366 days a year to the next birthday.
        Some(d) if case.age_years.is_some_and(|y| y >= 0 && !days_agree(y, d)) => AGE_DAYS_DISAGREE,
        Some(d) if d <= 28 && case.age_years == Some(0) && !case.weight_g.is_some_and(|w| w > 0.0) => WEIGHT_MISSING,
        _ => 0,
    };
    if case.los_days.is_some_and(|d| d < 0) {
        found |= LOS_NEGATIVE;
    }
    if n_diagnoses == 0 {
        found |= NO_DIAGNOSES;
    }
    found
}

/// The day counts an age of `years` (at least 0) allows: at least 365 days
/// a year, fewer than 366 a year to the next birthday (specs/cases.md), as
/// `from..to`, worked out wide for a message.
fn days_of_age(years: i64) -> (i128, i128) {
    let years = i128::from(years);
    (365 * years, 366 * (years + 1))
}

/// Whether `days` tells the same age as `years` (at least 0; see
/// [`days_of_age`]), without overflow for any age a caller sets (the
/// readers stop at 9e15; a Rust caller may set any `i64`).
#[inline]
fn days_agree(years: i64, days: i64) -> bool {
    // Up to here 366 days a year fit an `i64`: the common case, worked out
    // narrow.
    const NARROW: i64 = i64::MAX / 366 - 1;
    if years <= NARROW {
        (365 * years..366 * (years + 1)).contains(&days)
    } else {
        let (from, to) = days_of_age(years);
        (from..to).contains(&i128::from(days))
    }
}

/// The messages of the problems `found` (bits of [`problem`]), in order.
#[cold]
#[inline(never)]
fn describe_problems(case: &Case, found: u16) -> String {
    use problem::*;
    let (years, days) = (case.age_years.unwrap_or_default(), case.age_days.unwrap_or_default());
    let mut messages: Vec<String> = Vec::new();
    let mut tell = |problem: u16, message: &dyn Fn() -> String| {
        if found & problem != 0 {
            messages.push(message());
        }
    };
    tell(ID_MISSING, &|| "id: missing".into());
    tell(SEX_MISSING, &|| "sex: missing".into());
    tell(AGE_YEARS_MISSING, &|| "age_years: missing".into());
    tell(AGE_YEARS_NEGATIVE, &|| format!("age_years: {years} is negative"));
    tell(AGE_DAYS_MISSING, &|| "age_days: missing (required when age_years is 0)".into());
    tell(AGE_DAYS_NEGATIVE, &|| format!("age_days: {days} is negative"));
    tell(AGE_DAYS_DISAGREE, &|| {
        let (from, to) = days_of_age(years);
        format!("age_days: {days} disagrees with age_years {years} (expected {from} to {})", to - 1)
    });
    tell(WEIGHT_MISSING, &|| "weight_g: missing (required for a newborn, age_days ≤ 28)".into());
    tell(LOS_NEGATIVE, &|| format!("los_days: {} is negative", case.los_days.unwrap_or_default()));
    tell(NO_DIAGNOSES, &|| "diagnoses: none given".into());
    messages.join("; ")
}

/// What evaluating one case needs; the CC/MCC answers are computed once.
struct Ctx<'a, 'c> {
    pack: &'a Pack,
    case: &'a Case,
    /// The principal diagnosis and procedure, [`NO_ID`] for none. (Their
    /// list bits are read where a rule asks: most cases ask few, and
    /// finding both rows first cost more.)
    principal: [CodeId; 2],
    /// The rules compiled, for the path without a trail.
    program: &'a Program,
    /// The grouper's index, and in it the ADRG entries of the principal
    /// codes (see [`FastIndex::candidate_adrgs`]).
    index: &'a FastIndex,
    /// (From the first entry of the next MDC on: see
    /// [`FastIndex::candidate_adrgs`].)
    adrg_entries: [AdrgEntries<'a>; 2],
    dx: &'a [CodeId],
    proc: &'a [CodeId],
    dx_text: &'a [Cow<'c, str>],
    proc_text: &'a [Cow<'c, str>],
    /// By `CcLevel as usize`: the first secondary diagnosis (index into
    /// `dx`) that is a non-excluded CC / MCC; 0 (the principal's index) for
    /// none, [`NOT_LOOKED_FOR`] until asked.
    complications: [usize; 2],
    /// [`FastIndex::any_tests_passed`] for the diagnoses and the
    /// procedures, once asked.
    any_tests_passed: [Option<u64>; 2],
    /// The trail, when explaining.
    trace: &'a mut Vec<TraceStep>,
}

impl Ctx<'_, '_> {
    /// Step 1 of the evaluation for one MDC: its `when`; then its ADRGs in
    /// order (1.1); then, when none gave a result, `if_no_adrg` (1.2).
    /// `m` is the MDC's place in the pack; `in_mask` says the grouper's MDC
    /// masks have answered its items on the principal codes alone (its
    /// compiled rule takes them as holding; else it takes its guard so).
    #[inline(always)]
    fn step_1_mdc<'p, const TRACE: bool>(&mut self, m: usize, mdc: &'p Mdc, in_mask: bool) -> Option<Outcome<'p>> {
        if !TRACE && !in_mask && mdc.guard.is_some_and(|guard| !self.guard_holds(guard)) {
            return None;
        }
        if !self.node::<TRACE>(0, || format!("MDC {} {}", mdc.code, mdc.name), &mdc.when, self.program.mdc(m)) {
            return None;
        }
        let first = self.program.first_adrg(m);
        // Without a trail, only the ADRGs whose guard the principal codes
        // pass, from the grouper's masks, when the MDC has them.
        let candidates = if TRACE { None } else { self.candidate_adrgs(m) };
        if let Some(mut adrgs) = candidates {
            while adrgs != 0 {
                let i = adrgs.trailing_zeros() as usize;
                adrgs &= adrgs - 1;
                if let Some(found) = self.step_1_1_adrg::<TRACE>(mdc, &mdc.adrgs[i], first + i) {
                    return Some(found);
                }
            }
        } else {
            for (i, adrg) in mdc.adrgs.iter().enumerate() {
                if !TRACE && adrg.guard.is_some_and(|guard| !self.guard_holds(guard)) {
                    continue;
                }
                if let Some(found) = self.step_1_1_adrg::<TRACE>(mdc, adrg, first + i) {
                    return Some(found);
                }
            }
        }
        if !mdc.stop_if_no_adrg {
            return None;
        }
        if TRACE {
            self.trace.push(TraceStep {
                depth: 1,
                held: false,
                text: format!("no ADRG of MDC {} holds; it says stop (if_no_adrg)", mdc.code),
            });
        }
        Some(Outcome::NoAdrg(mdc))
    }

    /// The ADRGs of MDC `m` worth evaluating, from the grouper's masks: those
    /// whose guard the principal codes pass, less those that require a test
    /// on any code that the case fails. `None` when the MDC has no masks.
    #[inline(always)]
    fn candidate_adrgs(&mut self, m: usize) -> Option<u64> {
        let index = self.index;
        let mut adrgs = index.candidate_adrgs(m, &mut self.adrg_entries)?;
        for &(adrg, need) in index.adrg_needs(m) {
            if adrgs & adrg != 0 && !self.passes_any_tests(need) {
                adrgs &= !adrg;
            }
        }
        Some(adrgs)
    }

    /// Whether the case passes these tests of [`FastIndex::adrg_needs`];
    /// each side's answers are worked out once, when first needed.
    fn passes_any_tests(&mut self, need: u64) -> bool {
        let index = self.index;
        let mut passed = 0;
        for (side, codes) in [self.dx, self.proc].into_iter().enumerate() {
            if need & index.any_tests_on_side(side) != 0 {
                passed |= *self.any_tests_passed[side].get_or_insert_with(|| index.any_tests_passed(side, codes));
            }
        }
        passed & need == need
    }

    /// Step 1.1 for one ADRG of a matched MDC: its `when`; then ambiguous,
    /// the first DRG that holds, or `if_no_drg`. `a` numbers the ADRG
    /// across the pack's MDCs, as the program does.
    /// The caller has checked the ADRG's guard.
    #[inline(always)]
    fn step_1_1_adrg<'p, const TRACE: bool>(&mut self, mdc: &'p Mdc, adrg: &'p Adrg, a: usize) -> Option<Outcome<'p>> {
        if !self.node::<TRACE>(1, || format!("ADRG {} {}", adrg.code, adrg.name), &adrg.when, self.program.adrg(a)) {
            return None;
        }
        if adrg.ambiguous {
            return Some(Outcome::Ambiguous(mdc, adrg));
        }
        if let Some(drg) = self.first_drg::<TRACE>(adrg, a) {
            return Some(Outcome::Grouped(mdc, adrg, drg));
        }
        if !adrg.continue_if_no_drg {
            return Some(Outcome::NoDrg(mdc, adrg));
        }
        if TRACE {
            self.trace.push(TraceStep {
                depth: 2,
                held: false,
                text: format!("no DRG of ADRG {} holds; it says continue with the next ADRG", adrg.code),
            });
        }
        None
    }

    /// The first DRG of ADRG `a` (numbered as in [`Ctx::step_1_1_adrg`])
    /// whose rule holds: without a trail, through the ADRG's
    /// [`DrgChoice`].
    #[inline(always)]
    fn first_drg<'p, const TRACE: bool>(&mut self, adrg: &'p Adrg, a: usize) -> Option<&'p Drg> {
        let chosen = match self.program.drg_choice(a) {
            _ if TRACE => None,
            DrgChoice::Rules => None,
            DrgChoice::Fixed(d) => Some(d),
            DrgChoice::ByComplications(table) => {
                let has_mcc = self.complication(CcLevel::Mcc).is_some() as usize;
                // Asked only when it decides, as the rules in order would.
                let decides = table[2 * has_mcc] != table[2 * has_mcc + 1];
                let has_cc = decides && self.complication(CcLevel::Cc).is_some();
                Some(table[2 * has_mcc + has_cc as usize])
            }
        };
        if let Some(d) = chosen {
            return adrg.drgs.get(d as usize);
        }
        adrg.drgs
            .iter()
            .enumerate()
            .find(|&(d, drg)| {
                self.node::<TRACE>(2, || format!("DRG {} {}", drg.code, drg.name), &drg.when, self.program.drg(a, d))
            })
            .map(|(_, drg)| drg)
    }
}

impl Ctx<'_, '_> {
    /// Evaluates an MDC, ADRG or DRG: without a trail, its compiled rule
    /// (entry `compiled`); with one, its heading, then its `when` below it.
    #[inline]
    fn node<const TRACE: bool>(&mut self, depth: u16, title: impl FnOnce() -> String, when: &Expr, compiled: Target) -> bool {
        if !TRACE {
            return self.run(compiled);
        }
        let at = self.trace.len();
        self.trace.push(TraceStep { depth, held: false, text: title() });
        let held = self.eval::<true>(when, depth + 1);
        self.trace[at].held = held;
        held
    }

    /// Whether the compiled rule entered at `at` holds, without a trail:
    /// the hot path. A rule that is a constant (as most last DRGs are)
    /// costs no call.
    #[inline(always)]
    fn run(&mut self, at: Target) -> bool {
        if at >= FAILS {
            return at == HOLDS;
        }
        self.run_steps(at)
    }

    /// [`Ctx::run`] for a rule with steps: one loop over them, with the
    /// rare leaves out of line.
    fn run_steps(&mut self, mut at: Target) -> bool {
        let program = self.program;
        // The two ends of a rule are past the last step.
        while let Some(step) = program.steps.get(at as usize) {
            // (`in_list` inlined with a constant selector: one dispatch.)
            let held = match step.test {
                Test::Pdx(list) => self.in_list(CodeSel::Pdx, list),
                Test::Pproc(list) => self.in_list(CodeSel::Pproc, list),
                Test::DxAny(list) => self.in_list(CodeSel::DxAny, list),
                Test::SdxAny(list) => self.in_list(CodeSel::SdxAny, list),
                Test::ProcAny(list) => self.in_list(CodeSel::ProcAny, list),
                Test::SprocAny(list) => self.in_list(CodeSel::SprocAny, list),
                Test::HasMcc => self.complication(CcLevel::Mcc).is_some(),
                Test::HasCc => self.complication(CcLevel::Cc).is_some(),
                Test::Sex(sex) => self.case.sex == Some(sex),
                Test::Compare(field, op, n) => self.number(field).is_some_and(|v| op.holds(v, program.numbers[n as usize])),
                Test::Other(i) => self.leaf_out_of_line(&program.others[i as usize]),
            };
            at = if held { step.then } else { step.otherwise };
        }
        at == HOLDS
    }

    #[inline(never)]
    fn leaf_out_of_line(&mut self, e: &Expr) -> bool {
        self.leaf(e)
    }

    /// A guard (see [`Expr::guard`]): one bit of a principal code's row.
    #[inline(always)]
    fn guard_holds(&self, (sel, list): (CodeSel, crate::pack::ListId)) -> bool {
        match sel {
            CodeSel::Pdx => self.pack.lists.contains(list, self.principal[0]),
            CodeSel::Pproc => self.pack.lists.contains(list, self.principal[1]),
            _ => self.in_list(sel, list),
        }
    }

    /// A code-list test: a principal code's row, or one word of each code's.
    #[inline(always)]
    fn in_list(&self, sel: CodeSel, list: crate::pack::ListId) -> bool {
        let lists = &self.pack.lists;
        match sel {
            CodeSel::Pdx => lists.contains(list, self.principal[0]),
            CodeSel::DxAny => lists.any_contains(list, self.dx),
            CodeSel::SdxAny => lists.any_contains(list, self.dx.get(1..).unwrap_or(&[])),
            CodeSel::Pproc => lists.contains(list, self.principal[1]),
            CodeSel::ProcAny => lists.any_contains(list, self.proc),
            CodeSel::SprocAny => lists.any_contains(list, self.proc.get(1..).unwrap_or(&[])),
        }
    }

    /// Whether `e` holds, recording the trail.
    fn eval<const TRACE: bool>(&mut self, e: &Expr, depth: u16) -> bool {
        match e {
            Expr::All(items) | Expr::Any(items) => {
                let all = matches!(e, Expr::All(_));
                let at = self.trace.len();
                if TRACE {
                    let text = if all { "all of:" } else { "any of:" };
                    self.trace.push(TraceStep { depth, held: false, text: text.into() });
                }
                let mut held = all;
                for item in items.iter() {
                    if self.eval::<TRACE>(item, depth + 1) != all {
                        held = !all;
                        break;
                    }
                }
                if TRACE {
                    self.trace[at].held = held;
                }
                held
            }
            Expr::Not(inner) => {
                let at = self.trace.len();
                if TRACE {
                    self.trace.push(TraceStep { depth, held: false, text: "not:".into() });
                }
                let held = !self.eval::<TRACE>(inner, depth + 1);
                if TRACE {
                    self.trace[at].held = held;
                }
                held
            }
            _ => {
                let held = self.leaf(e);
                if TRACE {
                    let text = self.describe(e, held);
                    self.trace.push(TraceStep { depth, held, text });
                }
                held
            }
        }
    }

    /// A leaf test.
    fn leaf(&mut self, e: &Expr) -> bool {
        match *e {
            Expr::Const(b) => b,
            Expr::InList(sel, list) => self.in_list(sel, list),
            Expr::HasMcc => self.complication(CcLevel::Mcc).is_some(),
            Expr::HasCc => self.complication(CcLevel::Cc).is_some(),
            Expr::Sex(s) => self.case.sex == Some(s),
            Expr::DischargeIn(ref values) => {
                self.case.discharge.as_deref().is_some_and(|d| values.iter().any(|v| &**v == d))
            }
            Expr::DeptIn(ref values) => {
                self.case.dept.as_deref().is_some_and(|d| values.iter().any(|v| &**v == d))
            }
            Expr::DistinctValuesGe { map, min } => self.distinct_values(map.0 as usize).len() >= min as usize,
            Expr::Compare(field, ref cmps) => match self.number(field) {
                Some(v) => cmps.iter().all(|&(op, n)| op.holds(v, n)),
                None => false,
            },
            Expr::All(_) | Expr::Any(_) | Expr::Not(_) => unreachable!("composites are evaluated by eval"),
        }
    }

    /// The codes a list test looks at: (codes, skip the first, only the first).
    #[inline]
    fn select(&self, sel: CodeSel) -> (&[CodeId], bool, bool) {
        match sel {
            CodeSel::Pdx => (self.dx, false, true),
            CodeSel::DxAny => (self.dx, false, false),
            CodeSel::SdxAny => (self.dx, true, false),
            CodeSel::Pproc => (self.proc, false, true),
            CodeSel::ProcAny => (self.proc, false, false),
            CodeSel::SprocAny => (self.proc, true, false),
        }
    }

    /// The first secondary diagnosis that is a complication of `level` not
    /// excluded by the principal diagnosis.
    #[inline]
    fn complication(&mut self, level: CcLevel) -> Option<usize> {
        match self.complications[level as usize] {
            NOT_LOOKED_FOR => {}
            found => return found_complication(found),
        }
        // (A fifth of cases have no secondary diagnosis.)
        if self.dx.len() < 2 {
            return None;
        }
        self.find_complication(level)
    }

    /// [`Ctx::complication`] the first time it is asked. The pass notes the
    /// first complication of the other level on its way: one that finds no
    /// MCC (most cases) answers "has a CC" too, which a DRG asks next.
    #[inline(never)]
    fn find_complication(&mut self, level: CcLevel) -> Option<usize> {
        let first = match self.index.cc_words() {
            Some(words) => self.first_complications(level, |s| words.get(s)),
            None => {
                let cc = &self.pack.cc;
                self.first_complications(level, |s| cc.get(s).iter().copied())
            }
        };
        let (this, other) = (level as usize, 1 - level as usize);
        self.complications[this] = first[this];
        // A pass that went to the end knows the other level's answer; one
        // that stopped early, only when it found one before.
        if first[this] == 0 || first[other] != 0 {
            self.complications[other] = first[other];
        }
        found_complication(first[this])
    }

    /// The first secondary diagnosis of each level (by `CcLevel as usize`)
    /// that is a complication not excluded by the principal diagnosis, up to
    /// the first of `level` (0 for none); `entries`: the rows of cc.tsv of a
    /// code.
    #[inline(always)]
    fn first_complications<E: IntoIterator<Item = CcEntry>>(&self, level: CcLevel, entries: impl Fn(CodeId) -> E) -> [usize; 2] {
        // The principal's exclusion tables, looked up at the first
        // complication (most cases have few or none).
        let mut excluded: Option<&[u32]> = None;
        // Indexes into `dx`, 0 (the principal's) for none yet.
        let mut first = [0; 2];
        for (i, &s) in self.dx.iter().enumerate().skip(1) {
            for e in entries(s) {
                let slot = &mut first[e.level as usize];
                if *slot == 0 {
                    let excluded = excluded.get_or_insert_with(|| self.pack.exclusions.get(self.dx[0]));
                    // (Most principal codes exclude one table: a plain loop.
                    // Clippy's `contains` cost 7 instructions a case more on
                    // the 1.1 mix.)
                    #[allow(clippy::manual_contains)]
                    if !excluded.iter().any(|&t| t == e.table) {
                        *slot = i;
                    }
                }
            }
            if first[level as usize] != 0 {
                break;
            }
        }
        first
    }

    /// The distinct values the diagnoses take in a value map, in order of
    /// first appearance.
    fn distinct_values(&self, map: usize) -> SmallVec<[u32; 8]> {
        let map = &self.pack.maps[map];
        let mut seen: SmallVec<[u32; 8]> = SmallVec::new();
        for id in self.dx {
            if let Some(&v) = map.by_code.get(id) {
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
        }
        seen
    }

    #[inline]
    fn number(&self, field: NumField) -> Option<f64> {
        let c = self.case;
        match field {
            NumField::AgeYears => c.age_years.map(|v| v as f64),
            NumField::AgeDays => c.age_days.map(|v| v as f64),
            NumField::WeightG => c.weight_g.filter(|&w| w > 0.0),
            NumField::LosDays => c.los_days.map(|v| v as f64),
            NumField::IcuHours => c.icu_hours,
            NumField::SdxCount => Some(self.dx.len().saturating_sub(1) as f64),
            NumField::ProcCount => Some(self.proc.len() as f64),
            NumField::DxCount => Some(self.dx.len() as f64),
        }
    }

    /// A leaf in words a coder reads: what was tested, and on which code.
    fn describe(&mut self, e: &Expr, held: bool) -> String {
        let pack = self.pack;
        match *e {
            Expr::Const(true) => "always".into(),
            Expr::Const(false) => "never".into(),
            Expr::InList(sel, list) => {
                let list_name = pack.lists.name(list);
                let (ids, texts, what) = match sel {
                    CodeSel::Pdx | CodeSel::DxAny | CodeSel::SdxAny => (self.dx, self.dx_text, "diagnosis"),
                    _ => (self.proc, self.proc_text, "procedure"),
                };
                let (_, skip_first, only_first) = self.select(sel);
                let role = match sel {
                    CodeSel::Pdx | CodeSel::Pproc => format!("principal {what}"),
                    CodeSel::SdxAny => "secondary diagnosis".into(),
                    CodeSel::SprocAny => "secondary procedure".into(),
                    _ => what.into(),
                };
                let hit = ids
                    .iter()
                    .enumerate()
                    .skip(skip_first as usize)
                    .take(if only_first { 1 } else { usize::MAX })
                    .find(|(_, &id)| pack.lists.contains(list, id));
                match (hit, only_first, ids.is_empty()) {
                    (Some((i, _)), _, _) => format!("{role} {} is in {list_name}", self.name_of(&texts[i])),
                    (None, true, true) => format!("no {role} to test against {list_name}"),
                    (None, true, false) => format!("{role} {} is not in {list_name}", self.name_of(&texts[0])),
                    (None, false, _) => format!("no {role} is in {list_name}"),
                }
            }
            Expr::HasMcc | Expr::HasCc => {
                let level = if matches!(e, Expr::HasMcc) { CcLevel::Mcc } else { CcLevel::Cc };
                self.describe_complication(level, held)
            }
            Expr::Sex(s) => match self.case.sex {
                Some(actual) => format!("sex is {} (rule: {})", actual.letter(), s.letter()),
                None => format!("sex is missing (rule: {})", s.letter()),
            },
            Expr::DischargeIn(ref values) | Expr::DeptIn(ref values) => {
                let (what, actual) = if matches!(e, Expr::DischargeIn(_)) {
                    ("discharge type", &self.case.discharge)
                } else {
                    ("department", &self.case.dept)
                };
                let list = values.join(", ");
                match actual {
                    Some(v) => format!("{what} {v} {} one of [{list}]", if held { "is" } else { "is not" }),
                    None => format!("{what} is missing (rule: one of [{list}])"),
                }
            }
            Expr::DistinctValuesGe { map, min } => {
                let m = &pack.maps[map.0 as usize];
                let values: Vec<&str> = self.distinct_values(map.0 as usize).iter().map(|&v| &*m.values[v as usize]).collect();
                format!(
                    "the diagnoses give {} distinct {} value(s) [{}], {} needed",
                    values.len(),
                    m.name,
                    values.join(", "),
                    min
                )
            }
            Expr::Compare(field, ref cmps) => {
                let rule: Vec<String> = cmps.iter().map(|(op, n)| format!("{} {n}", op.symbol())).collect();
                match self.number(field) {
                    Some(v) => format!("{} is {v} (rule: {})", field.key(), rule.join(" and ")),
                    None => format!("{} is missing (rule: {})", field.key(), rule.join(" and ")),
                }
            }
            Expr::All(_) | Expr::Any(_) | Expr::Not(_) => unreachable!("composites are described by eval"),
        }
    }

    fn describe_complication(&mut self, level: CcLevel, held: bool) -> String {
        let pack = self.pack;
        let label = level.as_str();
        let a_label = if level == CcLevel::Mcc { "an MCC" } else { "a CC" };
        let pdx_text = self.dx_text.first().map(|t| t.to_string()).unwrap_or_default();
        let excluded = self.dx.first().map_or(&[][..], |&p| pack.exclusions.get(p));
        if held {
            let i = self.complication(level).expect("held");
            let entry = pack.cc.get(self.dx[i]).iter().find(|e| e.level == level && !excluded.contains(&e.table));
            let table = entry.map(|e| &*pack.tables[e.table as usize]).unwrap_or("");
            return format!(
                "has {label}: secondary diagnosis {} is {a_label} (exclusion table {table}), not excluded by principal diagnosis {pdx_text}",
                self.name_of(&self.dx_text[i])
            );
        }
        let mut excluded_ones = Vec::new();
        for (i, &s) in self.dx.iter().enumerate().skip(1) {
            for e in pack.cc.get(s).iter().filter(|e| e.level == level) {
                excluded_ones.push(format!(
                    "{} by table {}",
                    self.dx_text[i],
                    pack.tables[e.table as usize]
                ));
            }
        }
        if excluded_ones.is_empty() {
            format!("has {label}: no secondary diagnosis is {a_label}")
        } else {
            format!(
                "has {label}: every {label} is excluded by principal diagnosis {pdx_text} ({})",
                excluded_ones.join(", ")
            )
        }
    }

    /// `K35.800 急性阑尾炎`, or the bare code when the pack has no name for it.
    fn name_of(&self, code: &str) -> String {
        match self.pack.code_name(code) {
            Some(name) => format!("{code} {name}"),
            None => for_message(code).into_owned(),
        }
    }
}

pub(crate) mod index;
use index::{AdrgEntries, FastIndex, PrincipalRows};
pub(crate) mod program;
use program::{DrgChoice, Program, Target, Test, FAILS, HOLDS};

#[cfg(test)]
mod tests;
