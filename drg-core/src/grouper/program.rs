//! The rules of a pack as one branching program, for the hot path.
//!
//! Each rule's expression tree becomes a chain of leaf tests, each naming
//! where to go when it holds and when it fails: `all`, `any` and `not` turn
//! into those jumps and cost nothing when grouping, and a rule is a loop over
//! a flat array instead of a recursion over boxed nodes. The leaves tested,
//! and their order, are exactly those of the tree evaluated with
//! short-circuits (leaves have no effect but caching), so every answer is the
//! same. The tree itself stays: the trail of `Grouper::explain` walks it.
//!
//! An MDC or ADRG rule is run only once its guard (a list test on a
//! principal code, see [`Expr::guard`]) has held, so it is compiled with that
//! test taken as true: 1.1's MDC rules, their guard alone, cost nothing more.

use crate::case::Sex;
use crate::pack::{row_has, CmpOp, CodeSel, Expr, ListId, NumField, Pack};

/// Where a step goes next: another step's index, or the end of the rule.
pub(super) type Target = u32;
/// The rule holds.
pub(super) const HOLDS: Target = u32::MAX;
/// The rule fails.
pub(super) const FAILS: Target = u32::MAX - 1;

/// A leaf test. List tests are split by selector so that the hot loop
/// dispatches once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Test {
    Pdx(ListId),
    DxAny(ListId),
    SdxAny(ListId),
    Pproc(ListId),
    ProcAny(ListId),
    SprocAny(ListId),
    HasMcc,
    HasCc,
    Sex(Sex),
    /// One comparison of a field with [`Program::numbers`]`[i]`; false
    /// when the case lacks the field.
    Compare(NumField, CmpOp, u32),
    /// Any other leaf: an index into [`Program::others`].
    Other(u32),
}

/// One test and where to go after it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Step {
    pub test: Test,
    pub then: Target,
    pub otherwise: Target,
}

/// Every rule of a pack, compiled.
#[derive(Clone, Debug, Default)]
pub(crate) struct Program {
    pub(super) steps: Vec<Step>,
    /// The rare leaves (comparisons, sex, …), evaluated as in the tree.
    pub(super) others: Vec<Expr>,
    /// The right-hand sides of the comparisons.
    pub(super) numbers: Vec<f64>,
    /// Per MDC, the entry of its `when`.
    mdcs: Vec<Target>,
    /// Per MDC, the index in `adrgs` of its first ADRG.
    adrg_start: Vec<u32>,
    adrgs: Vec<Target>,
    /// Per ADRG (as numbered in `adrgs`), the index in `drgs` of its first DRG.
    drg_start: Vec<u32>,
    drgs: Vec<Target>,
    /// Per ADRG (as numbered in `adrgs`), how its DRG is chosen.
    drg_choices: Vec<DrgChoice>,
}

/// How the DRG of an ADRG is chosen without a trail.
///
/// DRG rules mostly test the case's complications and nothing else (CHS-DRG
/// splits an ADRG by MCC, CC or neither): those are answered once for the
/// case, and the first DRG that holds is a look-up in a table made from the
/// rules, instead of a run of each rule in turn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum DrgChoice {
    /// Run each DRG's rule in order.
    Rules,
    /// The DRG is the same whatever the case: its index in the ADRG's DRGs,
    /// or [`NO_DRG`] when none holds.
    Fixed(u32),
    /// The DRG for each answer to "has an MCC" and "has a CC", at
    /// `2 * has_mcc + has_cc`: an index in the ADRG's DRGs, or [`NO_DRG`].
    ByComplications([u32; 4]),
}

/// In a [`DrgChoice`]: no DRG of the ADRG holds.
pub(super) const NO_DRG: u32 = u32::MAX;

impl DrgChoice {
    /// The choice for DRGs with these rules, in order.
    fn new<'e>(rules: impl Iterator<Item = &'e Expr> + Clone) -> Self {
        let mut table = [NO_DRG; 4];
        for (answers, slot) in table.iter_mut().enumerate() {
            let (has_mcc, has_cc) = (answers & 2 != 0, answers & 1 != 0);
            let mut first = None;
            // Every rule is looked at, even past the first that holds, so
            // that a rule testing anything else keeps the general path.
            for (d, rule) in rules.clone().enumerate() {
                match on_complications(rule, has_mcc, has_cc) {
                    Some(held) => {
                        if held && first.is_none() {
                            first = Some(d);
                        }
                    }
                    None => return DrgChoice::Rules,
                }
            }
            *slot = match first {
                Some(d) => u32::try_from(d).ok().filter(|&d| d != NO_DRG).expect("fewer than 2^32 - 1 DRGs"),
                None => NO_DRG,
            };
        }
        if table.iter().all(|&d| d == table[0]) {
            DrgChoice::Fixed(table[0])
        } else {
            DrgChoice::ByComplications(table)
        }
    }
}

/// Whether `e` holds with these answers to `has_mcc` and `has_cc`; `None`
/// when it tests anything else.
fn on_complications(e: &Expr, has_mcc: bool, has_cc: bool) -> Option<bool> {
    Some(match e {
        Expr::Const(b) => *b,
        Expr::HasMcc => has_mcc,
        Expr::HasCc => has_cc,
        Expr::Not(inner) => !on_complications(inner, has_mcc, has_cc)?,
        // Every item is looked at, for the same reason as in `DrgChoice::new`.
        Expr::All(items) | Expr::Any(items) => {
            let all = matches!(e, Expr::All(_));
            let mut held = all;
            for item in items.iter() {
                if on_complications(item, has_mcc, has_cc)? != all {
                    held = !all;
                }
            }
            held
        }
        _ => return None,
    })
}

impl Program {
    pub(crate) fn new(pack: &Pack) -> Self {
        let mut p = Program::default();
        for mdc in &pack.mdcs {
            // With the MDC masks, the rule's items on the principal codes
            // alone are answered by them (see `PrincipalSplit`).
            let rule = if mdcs_in_masks(pack) { Expr::All(PrincipalSplit::of(&mdc.when).rest.into()) } else { assuming(&mdc.when, mdc.guard) };
            let entry = p.compile(&rule, HOLDS, FAILS);
            p.mdcs.push(entry);
            p.adrg_start.push(p.adrgs.len() as u32);
            for adrg in &mdc.adrgs {
                let entry = p.compile(&assuming(&adrg.when, adrg.guard), HOLDS, FAILS);
                p.adrgs.push(entry);
                p.drg_start.push(p.drgs.len() as u32);
                for drg in &adrg.drgs {
                    let entry = p.compile(&drg.when, HOLDS, FAILS);
                    p.drgs.push(entry);
                }
                p.drg_choices.push(DrgChoice::new(adrg.drgs.iter().map(|drg| &drg.when)));
            }
        }
        p
    }

    /// Compiles `e` so that it continues at `then` when it holds and at
    /// `otherwise` when it fails; returns its entry. Children are compiled
    /// last to first, each knowing its successor, so every node is compiled
    /// once and the program is as long as the tree has leaves.
    fn compile(&mut self, e: &Expr, then: Target, otherwise: Target) -> Target {
        match e {
            Expr::Const(true) => then,
            Expr::Const(false) => otherwise,
            Expr::Not(inner) => self.compile(inner, otherwise, then),
            Expr::All(items) => items.iter().rev().fold(then, |next, item| self.compile(item, next, otherwise)),
            Expr::Any(items) => items.iter().rev().fold(otherwise, |next, item| self.compile(item, then, next)),
            // The comparisons of one field all hold, the field being there:
            // a chain of single comparisons, each false without the field.
            // (None at all is true only with the field: left to the tree.)
            Expr::Compare(field, cmps) if !cmps.is_empty() => cmps.iter().rev().fold(then, |next, &(op, n)| {
                self.numbers.push(n);
                self.push(Test::Compare(*field, op, self.numbers.len() as u32 - 1), next, otherwise)
            }),
            leaf => {
                let test = match *leaf {
                    Expr::InList(sel, list) => match sel {
                        CodeSel::Pdx => Test::Pdx(list),
                        CodeSel::DxAny => Test::DxAny(list),
                        CodeSel::SdxAny => Test::SdxAny(list),
                        CodeSel::Pproc => Test::Pproc(list),
                        CodeSel::ProcAny => Test::ProcAny(list),
                        CodeSel::SprocAny => Test::SprocAny(list),
                    },
                    Expr::HasMcc => Test::HasMcc,
                    Expr::HasCc => Test::HasCc,
                    Expr::Sex(sex) => Test::Sex(sex),
                    _ => {
                        self.others.push(leaf.clone());
                        Test::Other(self.others.len() as u32 - 1)
                    }
                };
                self.push(test, then, otherwise)
            }
        }
    }

    /// Adds a step; returns its index.
    fn push(&mut self, test: Test, then: Target, otherwise: Target) -> Target {
        self.steps.push(Step { test, then, otherwise });
        // A pack too big for the targets would have billions of leaves.
        Target::try_from(self.steps.len() - 1).ok().filter(|&at| at < FAILS).expect("a program of fewer than 2^32 - 2 steps")
    }

    /// The entry of MDC `m`'s `when`, for a case that passes its guard.
    #[inline]
    pub(super) fn mdc(&self, m: usize) -> Target {
        self.mdcs[m]
    }

    /// The number of MDC `m`'s first ADRG among all ADRGs.
    #[inline]
    pub(super) fn first_adrg(&self, m: usize) -> usize {
        self.adrg_start[m] as usize
    }

    /// The entry of ADRG `a` (numbered across MDCs), for a case that passes
    /// its guard.
    #[inline]
    pub(super) fn adrg(&self, a: usize) -> Target {
        self.adrgs[a]
    }

    /// The entry of DRG `d` of ADRG `a` (numbered across MDCs).
    #[inline]
    pub(super) fn drg(&self, a: usize, d: usize) -> Target {
        self.drgs[self.drg_start[a] as usize + d]
    }

    /// How the DRG of ADRG `a` (numbered across MDCs) is chosen.
    #[inline]
    pub(super) fn drg_choice(&self, a: usize) -> DrgChoice {
        self.drg_choices[a]
    }
}

/// `e` with each test of its guard (on a principal code) taken as true, for
/// a case known to pass the guard; `e` as it is without such a guard.
fn assuming(e: &Expr, guard: Option<(CodeSel, ListId)>) -> Expr {
    match guard {
        Some(guard @ (CodeSel::Pdx | CodeSel::Pproc, _)) => replace_test(e, guard),
        _ => e.clone(),
    }
}

fn replace_test(e: &Expr, guard: (CodeSel, ListId)) -> Expr {
    match e {
        Expr::InList(sel, list) if (*sel, *list) == guard => Expr::Const(true),
        Expr::All(items) => Expr::All(items.iter().map(|item| replace_test(item, guard)).collect()),
        Expr::Any(items) => Expr::Any(items.iter().map(|item| replace_test(item, guard)).collect()),
        Expr::Not(inner) => Expr::Not(Box::new(replace_test(inner, guard))),
        other => other.clone(),
    }
}

/// Whether the grouper keeps a mask of MDCs per code (see
/// `FastIndex::principals`): when the pack has at most 64 MDCs.
pub(super) fn mdcs_in_masks(pack: &Pack) -> bool {
    pack.mdcs.len() <= 64
}

/// A rule as the items of its `all` (with `not` of an `any` read as the
/// `all` of the `not`s, and `all`s in it flattened), sorted: those that test
/// only the principal diagnosis, those that test only the principal
/// procedure, and the rest, each in their order. The rule holds when all of
/// them do. What the first two say depends on one code's list row alone, so
/// it can be worked out for each code once (2.0's MDC rules test the gray and
/// invalid lists on the principal codes before the MDC's own list).
#[derive(Debug, Default, PartialEq)]
pub(super) struct PrincipalSplit {
    pub pdx: Vec<Expr>,
    pub pproc: Vec<Expr>,
    pub rest: Vec<Expr>,
}

impl PrincipalSplit {
    pub(super) fn of(e: &Expr) -> Self {
        let mut split = PrincipalSplit::default();
        split.add(e);
        split
    }

    fn add(&mut self, e: &Expr) {
        match e {
            Expr::All(items) => items.iter().for_each(|item| self.add(item)),
            Expr::Not(inner) => match &**inner {
                Expr::Any(items) => items.iter().for_each(|item| self.add(&Expr::Not(Box::new(item.clone())))),
                Expr::Not(twice) => self.add(twice),
                _ => self.file(e),
            },
            _ => self.file(e),
        }
    }

    fn file(&mut self, e: &Expr) {
        let side = match on_one_code(e) {
            Some(CodeSel::Pdx) => &mut self.pdx,
            Some(_) => &mut self.pproc,
            None => &mut self.rest,
        };
        side.push(e.clone());
    }
}

/// `Pdx` or `Pproc` when every test of `e` is a list test on that principal
/// code (and there is one), else `None`.
fn on_one_code(e: &Expr) -> Option<CodeSel> {
    fn walk(e: &Expr, found: &mut Option<CodeSel>) -> bool {
        match e {
            Expr::Const(_) => true,
            Expr::InList(sel @ (CodeSel::Pdx | CodeSel::Pproc), _) => *found.get_or_insert(*sel) == *sel,
            Expr::Not(inner) => walk(inner, found),
            Expr::All(items) | Expr::Any(items) => items.iter().all(|item| walk(item, found)),
            _ => false,
        }
    }
    let mut found = None;
    if walk(e, &mut found) {
        found
    } else {
        None
    }
}

/// Whether `e`, which tests only one principal code (see
/// [`PrincipalSplit`]), holds for a code with this list row (empty for no
/// code, an unknown one, or one in no list).
pub(super) fn holds_on_row(e: &Expr, row: &[u64]) -> bool {
    match e {
        Expr::Const(b) => *b,
        Expr::InList(_, list) => row_has(row, *list),
        Expr::Not(inner) => !holds_on_row(inner, row),
        Expr::All(items) => items.iter().all(|item| holds_on_row(item, row)),
        Expr::Any(items) => items.iter().any(|item| holds_on_row(item, row)),
        _ => unreachable!("only list tests on a principal code are split off"),
    }
}
