//! What a [`super::Grouper`] precomputes from its pack for the hot path:
//! short codes as inline 16-byte keys, for each code the MDCs and ADRGs whose
//! guard it passes as principal diagnosis or procedure, and the rules
//! compiled.

use super::program::{holds_on_row, mdcs_in_masks, PrincipalSplit, Program};
use crate::pack::{row_has, CcEntry, CcLevel, CodeId, CodeSel, Expr, ListId, Pack};

/// The longest code kept inline: 15 bytes and its length in the 16th.
const INLINE: usize = 15;

/// A code of at most [`INLINE`] bytes as one 128-bit key (its bytes, zero
/// padded, and its length in the last byte), so that a lookup hashes two
/// words and compares one key instead of hashing and comparing a string
/// that lives elsewhere.
///
/// The key is put together from a few overlapping word reads: copying a
/// code of variable length into a buffer compiles to a call to `memcpy`,
/// which cost a lookup about a quarter of its instructions.
#[inline]
fn inline_key(code: &[u8]) -> Option<u128> {
    let n = code.len();
    if n > INLINE {
        return None;
    }
    let (low, high) = if n >= 8 {
        let head = u64::from_le_bytes(code[..8].try_into().expect("8 bytes"));
        let tail = u64::from_le_bytes(code[n - 8..].try_into().expect("8 bytes"));
        // Bytes 8..n are the last n - 8 of `tail`: shifted out by
        // 8 × (16 - n) bits in two shifts, as one would be the whole word
        // when n is 8.
        (head, tail >> (8 * (15 - n)) >> 8)
    } else {
        (short_word(code), 0)
    };
    Some(low as u128 | ((high | (n as u64) << 56) as u128) << 64)
}

/// Asks the processor to start loading the cache line of `at`, where it
/// can (a hint: nothing else changes).
#[inline(always)]
fn prefetch_line<T>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that reads nothing and cannot fault; SSE
    // is part of every x86_64 processor.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((at as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Fewer than 8 bytes as one little-endian word, zero padded.
#[inline]
fn short_word(code: &[u8]) -> u64 {
    let n = code.len();
    if n >= 4 {
        let head = u32::from_le_bytes(code[..4].try_into().expect("4 bytes")) as u64;
        let tail = u32::from_le_bytes(code[n - 4..].try_into().expect("4 bytes")) as u64;
        // The two reads overlap when n < 8; the shared bytes are the same.
        head | tail << (8 * (n - 4))
    } else {
        code.iter().rev().fold(0, |word, &b| word << 8 | b as u64)
    }
}

/// The short codes by inline key: open addressing with linear probing in a
/// table at most half full, one slot (key and what it finds) a probe. A
/// general hash table (hashbrown with Fx) cost a lookup about twice the
/// instructions: its group probes and tags buy nothing for keys that are
/// two words compared at once.
#[derive(Clone, Default)]
struct ShortCodes {
    /// A power of two long (or empty); a free slot has [`FREE`] as `hi`.
    slots: Vec<Slot>,
    /// 64 less the bits of a slot's index, for the top bits of the hash.
    shift: u32,
    len: usize,
}

#[derive(Clone, Copy)]
struct Slot {
    lo: u64,
    hi: u64,
    known: Known,
}

/// The high word of a free slot: no key has it, a key's last byte being
/// its length, at most [`INLINE`].
const FREE: u64 = u64::MAX;

impl ShortCodes {
    fn with_keys(keys: Vec<(u128, Known)>) -> Self {
        let size = (keys.len() * 2).next_power_of_two().max(2);
        let free = Slot { lo: 0, hi: FREE, known: Known { id: 0, vocab_flags: 0 } };
        let mut table = ShortCodes { slots: vec![free; size], shift: 64 - size.trailing_zeros(), len: 0 };
        for (key, known) in keys {
            // Codes are interned, so each key comes once.
            let (lo, hi, mut i) = table.first_probe(key);
            while table.slots[i].hi != FREE {
                i = (i + 1) & (size - 1);
            }
            table.slots[i] = Slot { lo, hi, known };
            table.len += 1;
        }
        table
    }

    /// A key's two words and the first slot a lookup of it probes: the top
    /// bits of a multiplicative hash of both words. [`ShortCodes::find`]
    /// and [`ShortCodes::prefetch`] both start here, so the slot a prefetch
    /// loads is the one a lookup reads first.
    #[inline]
    fn first_probe(&self, key: u128) -> (u64, u64, usize) {
        let (lo, hi) = (key as u64, (key >> 64) as u64);
        let h = (lo ^ hi.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // A built table's shift leaves an index below its length; an empty
        // one (never built, shift 0) has no slot at any index.
        (lo, hi, (h >> self.shift) as usize)
    }

    /// Starts loading the first slot a lookup of `key` probes.
    #[inline]
    fn prefetch(&self, key: u128) {
        if let Some(slot) = self.slots.get(self.first_probe(key).2) {
            prefetch_line(slot);
        }
    }

    #[inline]
    fn find(&self, key: u128) -> Option<Known> {
        let (lo, hi, mut i) = self.first_probe(key);
        let mask = self.slots.len().wrapping_sub(1);
        loop {
            let slot = self.slots.get(i)?;
            if slot.lo == lo && slot.hi == hi {
                return Some(slot.known);
            }
            if slot.hi == FREE {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// A code known to the pack: its id, and its vocabularies
/// ([`crate::pack::IN_DX_VOCAB`], …) so that the hot path need not ask the
/// pack again.
#[derive(Clone, Copy, Debug)]
pub(super) struct Known {
    pub id: CodeId,
    pub vocab_flags: u8,
}

/// The grouper's own index of the pack.
#[derive(Clone, Default)]
pub(crate) struct FastIndex {
    /// Every code of at most [`INLINE`] bytes, by its inline key.
    short: ShortCodes,
    /// What a code tells as principal diagnosis, and as principal procedure.
    principal: [Principal; 2],
    /// Whether the pack has at most 64 MDCs, so that [`Principal`]'s MDC
    /// masks are filled. Else every MDC is a candidate, tested one by one.
    mdc_masks: bool,
    /// Per MDC: its ADRGs that have no guard, as bits in pack order, or
    /// `None` when it has more than 64 ADRGs (each guard is then tested).
    unguarded_adrgs: Vec<Option<u64>>,
    /// The tests on any diagnosis or procedure that ADRG rules require.
    any_lists: AnyLists,
    /// Per MDC (with ADRG masks): the ADRGs that require some of those
    /// tests, as (the ADRG's bit, the tests' bits in `any_lists`).
    adrg_needs: Vec<Vec<(u64, u64)>>,
    /// Every rule of the pack as a branching program.
    pub(super) program: Program,
    /// cc.tsv as one word a code (see [`CcWords`]), when no code has two
    /// rows.
    cc_words: Option<CcWords>,
}

/// cc.tsv as one word a code, for a pack where no code has two rows (every
/// pack shipped but one): the level in the top bit and the exclusion table
/// below it, [`CcWords::NONE`] for a code in no row. Looking for a case's
/// complication then costs one load a secondary diagnosis, where the pack's
/// rows by code cost two offsets and a slice each.
#[derive(Clone, Default)]
pub(super) struct CcWords {
    /// By code id, up to the last code with a row.
    words: Vec<u32>,
}

impl CcWords {
    const NONE: u32 = u32::MAX;
    const MCC_BIT: u32 = 1 << 31;

    /// `None` when a code has two rows, or a table does not fit below the
    /// level bit.
    fn of(pack: &Pack) -> Option<CcWords> {
        let mut words = vec![Self::NONE; pack.codes.len()];
        let mut used = 0;
        for (id, slot) in words.iter_mut().enumerate() {
            *slot = match *pack.cc.get(id as CodeId) {
                [] => continue,
                [entry] if entry.table < Self::MCC_BIT - 1 => entry.table | if entry.level == CcLevel::Mcc { Self::MCC_BIT } else { 0 },
                _ => return None,
            };
            used = id + 1;
        }
        words.truncate(used);
        words.shrink_to_fit();
        Some(CcWords { words })
    }

    /// The row of a code, if it has one.
    #[inline(always)]
    pub(super) fn get(&self, id: CodeId) -> Option<CcEntry> {
        match self.words.get(id as usize) {
            Some(&word) if word != Self::NONE => {
                let level = if word & Self::MCC_BIT != 0 { CcLevel::Mcc } else { CcLevel::Cc };
                Some(CcEntry { level, table: word & !Self::MCC_BIT })
            }
            _ => None,
        }
    }
}

/// Up to 64 list tests on any of a case's codes (`dx_any_in`, `sdx_any_in`,
/// `proc_any_in`, `sproc_any_in`) that some ADRG rule requires (the test is
/// an item of the rule's `all`), as bits: which of them a case passes takes
/// one look-up a code, and the ADRGs whose required tests fail are never
/// visited. (1.1 has ADRGs with no guard on a principal code, such as FB1,
/// `proc_any_in` two lists, which most cases of their MDC would visit.)
#[derive(Clone, Default)]
struct AnyLists {
    /// The tests, by bit.
    tests: Vec<(CodeSel, ListId)>,
    /// Per code: the bits of the tests whose list holds it.
    by_code: Vec<u64>,
    /// Per side (diagnoses, procedures): the bits of the tests on any code
    /// of the side (`dx_any_in`, `proc_any_in`) and on any code but the
    /// first (`sdx_any_in`, `sproc_any_in`).
    any: [u64; 2],
    secondary: [u64; 2],
    /// Per side, both of them: the tests on the side.
    on_side: [u64; 2],
}

impl AnyLists {
    /// The bit of a test, adding it when there is room.
    fn bit(&mut self, test: (CodeSel, ListId)) -> Option<u64> {
        let at = match self.tests.iter().position(|&t| t == test) {
            Some(at) => at,
            None if self.tests.len() < 64 => {
                self.tests.push(test);
                self.tests.len() - 1
            }
            None => return None,
        };
        Some(1 << at)
    }

    /// Fills `by_code` and the sides' bits once every test is in.
    fn finish(&mut self, pack: &Pack) {
        for (t, &(sel, _)) in self.tests.iter().enumerate() {
            let bits = match sel {
                CodeSel::DxAny => &mut self.any[0],
                CodeSel::SdxAny => &mut self.secondary[0],
                CodeSel::ProcAny => &mut self.any[1],
                _ => &mut self.secondary[1],
            };
            *bits |= 1 << t;
        }
        self.on_side = [0, 1].map(|side| self.any[side] | self.secondary[side]);
        if self.tests.is_empty() {
            return;
        }
        self.by_code = (0..pack.codes.len() as CodeId)
            .map(|id| {
                let row = pack.lists.row(id);
                self.tests.iter().enumerate().filter(|&(_, &(_, list))| row_has(row, list)).fold(0, |bits, (t, _)| bits | 1 << t)
            })
            .collect();
    }

    /// The tests on side `side` (0 for the diagnoses, 1 for the
    /// procedures), as bits.
    fn on_side(&self, side: usize) -> u64 {
        self.on_side[side]
    }

    /// The tests on side `side` that a case with these codes of it passes,
    /// as bits.
    fn passed(&self, side: usize, ids: &[CodeId]) -> u64 {
        let of = |id: &CodeId| self.by_code.get(*id as usize).copied().unwrap_or(0);
        let Some((first, rest)) = ids.split_first() else { return 0 };
        let rest = rest.iter().fold(0, |bits, id| bits | of(id));
        (of(first) | rest) & self.any[side] | rest & self.secondary[side]
    }
}

/// The list tests on any code that `e` requires: the items of its `all`
/// (and of an `all` in it), as a rule's guard is found.
fn required_any_tests(e: &Expr, found: &mut Vec<(CodeSel, ListId)>) {
    match *e {
        Expr::InList(sel @ (CodeSel::DxAny | CodeSel::SdxAny | CodeSel::ProcAny | CodeSel::SprocAny), list) => {
            found.push((sel, list))
        }
        Expr::All(ref items) => items.iter().for_each(|item| required_any_tests(item, found)),
        _ => {}
    }
}

/// What codes tell as principal diagnosis (or as principal procedure), by
/// code in one record, so that a case's principal code costs one look
/// there (three tables by code cost it three bounds checks and three
/// cache lines).
#[derive(Clone, Default)]
struct Principal {
    by_code: Vec<AsPrincipal>,
    /// The codes' ADRG entries: for each MDC with ADRGs whose guard the
    /// code passes, the MDC's place and those ADRGs as bits, in the order of
    /// the MDCs. Most codes pass the guards of a few ADRGs of one or two
    /// MDCs, so a code's entries are a short slice.
    entries: Vec<(u32, u64)>,
    /// The MDCs whose items on the principal code alone (see
    /// [`PrincipalSplit`]) hold without one (or with an unknown code, or
    /// one in no list).
    no_code_mdcs: u64,
}

/// A code's ADRG entries (see [`Principal::entries`]), or what is left of
/// them as the MDCs are asked in order.
pub(super) type AdrgEntries<'a> = &'a [(u32, u64)];

/// The rows of the principal index of a case's principal diagnosis and
/// procedure, as [`FastIndex::prefetch_principal_rows`] found them (none
/// for a code it does not find that way).
#[derive(Clone, Copy, Default)]
pub(super) struct PrincipalRows<'a>([Option<&'a AsPrincipal>; 2]);

/// What one code tells as principal code.
#[derive(Clone, Copy, Default)]
struct AsPrincipal {
    /// The MDCs whose items on the principal code alone hold with it.
    mdcs: u64,
    /// Its entries are `entries[adrgs[0]..adrgs[1]]`.
    adrgs: [u32; 2],
}

impl Principal {
    /// The MDC mask and the ADRG entries of a code (or of none, or of an
    /// unknown one).
    #[inline]
    fn of(&self, id: Option<CodeId>) -> (u64, AdrgEntries<'_>) {
        match id.and_then(|id| self.by_code.get(id as usize)) {
            Some(&AsPrincipal { mdcs, adrgs: [from, to] }) => {
                (mdcs, self.entries.get(from as usize..to as usize).unwrap_or(&[]))
            }
            None => (self.no_code_mdcs, &[]),
        }
    }
}

/// The ADRGs of MDC `m` in a code's entries, which start at the first entry
/// of an MDC from `m` on: the entries of the MDCs before it are dropped, so
/// that asking for MDCs in order reads each entry once.
#[inline]
fn adrgs_of(entries: &mut AdrgEntries<'_>, m: usize) -> u64 {
    while let Some((&(mdc, bits), rest)) = entries.split_first() {
        if mdc as usize > m {
            break;
        }
        *entries = rest;
        if mdc as usize == m {
            return bits;
        }
    }
    0
}

impl std::fmt::Debug for FastIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastIndex").field("short_codes", &self.short.len).field("mdc_masks", &self.mdc_masks).finish()
    }
}

impl FastIndex {
    pub(crate) fn new(pack: &Pack) -> Self {
        let codes = &pack.codes;
        let short = ShortCodes::with_keys(
            (0..codes.len() as CodeId)
                .filter_map(|id| Some((inline_key(codes.code(id).as_bytes())?, Known { id, vocab_flags: codes.vocab_flags(id) })))
                .collect(),
        );
        let mut index = FastIndex { short, program: Program::new(pack), cc_words: CcWords::of(pack), ..FastIndex::default() };
        index.adrg_masks(pack);
        if !mdcs_in_masks(pack) {
            return index;
        }
        // Per side (principal diagnosis, principal procedure): the MDCs whose
        // items on that code alone hold with a code of this row.
        let splits: Vec<PrincipalSplit> = pack.mdcs.iter().map(|mdc| PrincipalSplit::of(&mdc.when)).collect();
        let sides: [fn(&PrincipalSplit) -> &[Expr]; 2] = [|split| &split.pdx, |split| &split.pproc];
        let passing = |side: fn(&PrincipalSplit) -> &[Expr], row: &[u64]| {
            (splits.iter().enumerate())
                .filter(|&(_, split)| side(split).iter().all(|item| holds_on_row(item, row)))
                .fold(0u64, |bits, (m, _)| bits | 1 << m)
        };
        index.mdc_masks = true;
        for (principal, side) in index.principal.iter_mut().zip(sides) {
            principal.no_code_mdcs = passing(side, &[]);
            // Many codes are in the same lists: each distinct row is
            // worked out once (a pack has tens of thousands of codes and a
            // few thousand distinct rows; this took 20 ms a load).
            let mut by_row: rustc_hash::FxHashMap<&[u64], u64> = rustc_hash::FxHashMap::default();
            for (id, code) in principal.by_code.iter_mut().enumerate() {
                let row = pack.lists.row(id as CodeId);
                code.mdcs = if row.iter().all(|&word| word == 0) {
                    principal.no_code_mdcs
                } else {
                    *by_row.entry(row).or_insert_with(|| passing(side, row))
                };
            }
        }
        index
    }

    /// Fills the ADRG masks: each ADRG guard is filed under its list, then
    /// one pass over the codes' rows, list bit by list bit.
    fn adrg_masks(&mut self, pack: &Pack) {
        // Per list: (principal procedure?, MDC, ADRG bit) of the guards on it.
        let mut by_list: Vec<Vec<(bool, u32, u64)>> = vec![Vec::new(); pack.lists.names.len()];
        for (m, mdc) in pack.mdcs.iter().enumerate() {
            if mdc.adrgs.len() > 64 {
                self.unguarded_adrgs.push(None);
                self.adrg_needs.push(Vec::new());
                continue;
            }
            let mut unguarded = 0;
            let mut needs = Vec::new();
            for (i, adrg) in mdc.adrgs.iter().enumerate() {
                let mut tests = Vec::new();
                required_any_tests(&adrg.when, &mut tests);
                let need = tests.into_iter().filter_map(|test| self.any_lists.bit(test)).fold(0, |need, bit| need | bit);
                if need != 0 {
                    needs.push((1u64 << i, need));
                }
                match adrg.guard {
                    Some((sel @ (CodeSel::Pdx | CodeSel::Pproc), list)) => {
                        by_list[list.0 as usize].push((sel == CodeSel::Pproc, m as u32, 1u64 << i))
                    }
                    _ => unguarded |= 1u64 << i,
                }
            }
            self.unguarded_adrgs.push(Some(unguarded));
            self.adrg_needs.push(needs);
        }
        self.any_lists.finish(pack);
        let n = pack.codes.len();
        for principal in &mut self.principal {
            principal.by_code.reserve(n);
        }
        let mut found: [Vec<(u32, u64)>; 2] = [Vec::new(), Vec::new()];
        for id in 0..n {
            for (w, &word) in pack.lists.row(id as CodeId).iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let list = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    for &(pproc, m, bit) in by_list.get(list).map_or(&[][..], Vec::as_slice) {
                        let found = &mut found[pproc as usize];
                        match found.iter_mut().find(|(mdc, _)| *mdc == m) {
                            Some((_, bits)) => *bits |= bit,
                            None => found.push((m, bit)),
                        }
                    }
                }
            }
            for (principal, found) in self.principal.iter_mut().zip(&mut found) {
                found.sort_unstable_by_key(|&(mdc, _)| mdc);
                let from = principal.entries.len() as u32;
                principal.entries.append(found);
                let adrgs = [from, principal.entries.len() as u32];
                principal.by_code.push(AsPrincipal { mdcs: 0, adrgs });
            }
        }
    }

    /// For these principal codes (ids, or `None`): the MDCs worth
    /// evaluating, as bits in pack order, and the codes' ADRG entries for
    /// [`FastIndex::candidate_adrgs`].
    ///
    /// The MDCs are those whose items on the principal codes alone hold,
    /// which their compiled rules then take as holding; `None` when the pack
    /// has too many MDCs for a mask (then every MDC is a candidate).
    #[inline]
    pub(super) fn principals(&self, pdx: Option<CodeId>, pproc: Option<CodeId>) -> (Option<u64>, [AdrgEntries<'_>; 2]) {
        let [(pdx_mdcs, pdx_entries), (pproc_mdcs, pproc_entries)] = [self.principal[0].of(pdx), self.principal[1].of(pproc)];
        (self.mdc_masks.then_some(pdx_mdcs & pproc_mdcs), [pdx_entries, pproc_entries])
    }

    /// The ADRGs of MDC `m` worth evaluating, as bits in the MDC's order,
    /// given the principal codes' entries; `None` when the MDC has too many
    /// ADRGs for a mask (then every guard is tested). The entries of the MDCs
    /// before `m` are dropped: ask for the MDCs in order.
    #[inline]
    pub(super) fn candidate_adrgs(&self, m: usize, [pdx, pproc]: &mut [AdrgEntries<'_>; 2]) -> Option<u64> {
        let unguarded = (*self.unguarded_adrgs.get(m)?)?;
        Some(unguarded | adrgs_of(pdx, m) | adrgs_of(pproc, m))
    }

    /// cc.tsv as one word a code, when no code has two rows.
    pub(super) fn cc_words(&self) -> Option<&CcWords> {
        self.cc_words.as_ref()
    }

    /// The ADRGs of MDC `m` that require tests on any code (see
    /// [`AnyLists`]), as (the ADRG's bit, the tests' bits).
    #[inline]
    pub(super) fn adrg_needs(&self, m: usize) -> &[(u64, u64)] {
        self.adrg_needs.get(m).map_or(&[][..], Vec::as_slice)
    }

    /// The tests of [`FastIndex::adrg_needs`] on side `side` (0 for the
    /// diagnoses, 1 for the procedures), as bits.
    #[inline]
    pub(super) fn any_tests_on_side(&self, side: usize) -> u64 {
        self.any_lists.on_side(side)
    }

    /// Those of them that a case with these codes of the side passes.
    #[inline(never)]
    pub(super) fn any_tests_passed(&self, side: usize, ids: &[CodeId]) -> u64 {
        self.any_lists.passed(side, ids)
    }

    /// The code as it is written, if the pack knows it spelt so: `None`
    /// when the code is not found this way (longer than [`INLINE`] bytes,
    /// or not in canonical form, or not in the pack).
    #[inline]
    pub(super) fn find(&self, code: &str) -> Option<Known> {
        let key = inline_key(code.as_bytes())?;
        self.short.find(key)
    }

    /// Starts loading the slot where [`FastIndex::find`] will look for
    /// `code`, if it is short.
    #[inline]
    pub(super) fn prefetch(&self, code: &str) {
        if let Some(key) = inline_key(code.as_bytes()) {
            self.short.prefetch(key);
        }
    }

    /// Once the slots of a case's principal codes have come (see
    /// [`FastIndex::prefetch`]), starts loading what they tell as principal
    /// codes: their rows of the principal index, returned so that
    /// [`FastIndex::prefetch_principal_entries`] need not look the codes up
    /// again. These are the loads grouping waited on most (two fifths of its
    /// time, on 1.1), since which row to load is known only from the slot.
    #[inline]
    pub(super) fn prefetch_principal_rows(&self, pdx: Option<&str>, pproc: Option<&str>) -> PrincipalRows<'_> {
        let row = |side: usize, code: Option<&str>| {
            let row = self.principal[side].by_code.get(self.find(code?)?.id as usize)?;
            prefetch_line(row);
            Some(row)
        };
        PrincipalRows([row(0, pdx), row(1, pproc)])
    }

    /// Once the rows [`FastIndex::prefetch_principal_rows`] asked for have
    /// come, starts loading the first of each one's ADRG entries.
    #[inline]
    pub(super) fn prefetch_principal_entries(&self, rows: PrincipalRows<'_>) {
        for (principal, row) in self.principal.iter().zip(rows.0) {
            if let Some(first) = row.and_then(|row| principal.entries.get(row.adrgs[0] as usize)) {
                prefetch_line(first);
            }
        }
    }

    /// Whether codes longer than the inline keys need the pack's own index.
    #[inline]
    pub(super) fn is_short(code: &str) -> bool {
        code.len() <= INLINE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::Pack;

    /// The key is the code's bytes zero padded, with its length in the
    /// 16th byte, whatever the length.
    #[test]
    fn inline_keys_are_the_padded_bytes_and_the_length() {
        let bytes: Vec<u8> = (1..=20u8).map(|b| b.wrapping_mul(37) | 1).collect();
        for n in 0..=bytes.len() {
            let code = &bytes[..n];
            let expected = (n <= INLINE).then(|| {
                let mut key = [0u8; 16];
                key[..n].copy_from_slice(code);
                key[15] = n as u8;
                u128::from_le_bytes(key)
            });
            assert_eq!(inline_key(code), expected, "length {n}");
        }
    }

    #[test]
    fn the_index_agrees_with_the_pack() {
        let pack = Pack::demo();
        let index = FastIndex::new(&pack);
        for id in 0..pack.codes.len() as CodeId {
            let code = pack.codes.code(id);
            if FastIndex::is_short(code) {
                assert_eq!(index.find(code).map(|k| (k.id, k.vocab_flags)), Some((id, pack.codes.vocab_flags(id))), "{code}");
            }
            // What the masks say is what the guards say.
            let Some(mask) = index.principals(Some(id), Some(id)).0 else { continue };
            for (m, mdc) in pack.mdcs.iter().enumerate() {
                let passes = match mdc.guard {
                    Some((CodeSel::Pdx | CodeSel::Pproc, list)) => pack.lists.contains(list, id),
                    _ => true,
                };
                assert_eq!(mask >> m & 1 == 1, passes, "{code}, MDC {}", mdc.code);
            }
        }
        // And the ADRG masks are what the ADRG guards say, for each code as
        // principal diagnosis and as principal procedure.
        for id in 0..pack.codes.len() as CodeId {
            for (pproc, entries) in [(false, index.principals(Some(id), None).1), (true, index.principals(None, Some(id)).1)] {
                // Asked MDC by MDC in order, through one cursor, as grouping does.
                let mut cursor = entries;
                for (m, mdc) in pack.mdcs.iter().enumerate() {
                    let mask = index.candidate_adrgs(m, &mut entries.clone()).expect("the demo's MDCs have few ADRGs");
                    assert_eq!(index.candidate_adrgs(m, &mut cursor), Some(mask), "{}, MDC {}", pack.codes.code(id), mdc.code);
                    for (i, adrg) in mdc.adrgs.iter().enumerate() {
                        let passes = match adrg.guard {
                            Some((CodeSel::Pdx, list)) => !pproc && pack.lists.contains(list, id),
                            Some((CodeSel::Pproc, list)) => pproc && pack.lists.contains(list, id),
                            _ => true,
                        };
                        assert_eq!(mask >> i & 1 == 1, passes, "{}, ADRG {}", pack.codes.code(id), adrg.code);
                    }
                }
            }
        }
        for absent in ["", "K35.80", "k35.800", "K35.800 ", "ZZZ.999"] {
            assert_eq!(index.find(absent).map(|k| k.id), pack.codes.id(absent), "{absent:?}");
        }
        // (The demo's MDCs have no item on a principal code but their guard.)
        let unguarded = pack.mdcs.iter().enumerate().filter(|(_, mdc)| mdc.guard.is_none()).fold(0, |bits, (m, _)| bits | 1 << m);
        assert_eq!(index.principals(None, None).0, Some(unguarded));
        assert_eq!(index.principals(Some(CodeId::MAX), None).0, Some(unguarded));
        assert_eq!(index.principals(Some(CodeId::MAX), Some(CodeId::MAX)).1, [&[][..], &[][..]]);
    }
}
