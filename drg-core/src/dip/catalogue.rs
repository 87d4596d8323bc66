//! The DIP catalogue (目录库): built from history (dip.md §2), or read from a
//! region's published CSV ("A published catalogue").

use std::collections::BTreeMap;
use std::io::Read;

use rustc_hash::FxHashMap;

use super::{CaseKeys, DipError, DipPolicy, Treatment};
use crate::points::trim_range;

/// Core (核心病种) or comprehensive (综合病种).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupKind {
    /// 核心病种: a diagnosis with its procedures.
    Core,
    /// 综合病种: a diagnosis category and a treatment kind.
    Comprehensive,
}

impl GroupKind {
    /// `core` or `comprehensive`, as in catalogue.csv.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Core => "core",
            GroupKind::Comprehensive => "comprehensive",
        }
    }
}

/// One priced group of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct DipGroup {
    /// The core key (`K35.8:47.0901`) or comprehensive key (`K35#S`).
    pub code: String,
    /// Core or comprehensive.
    pub kind: GroupKind,
    /// dx4 (core) or dx3 (comprehensive).
    pub dx: String,
    /// The procedures joined by `+` (core with procedures; else empty).
    pub procedures: String,
    /// `C`, `P` or `S` (may be empty in a published catalogue).
    pub treatment: String,
    /// History cases, and those kept after trimming.
    pub n: u64,
    /// History cases kept after trimming.
    pub kept: u64,
    /// Average cost of the kept cases.
    pub avg_cost: f64,
    /// 分值.
    pub score: f64,
    /// Severity coefficients of levels 0, 1, 2.
    pub coef: [f64; 3],
}

/// The overall row (group `*`).
#[derive(Clone, Debug, PartialEq)]
pub struct Overall {
    /// History cases of every priced group.
    pub n: u64,
    /// Those kept after trimming.
    pub kept: u64,
    /// The mean of every kept cost of every priced group.
    pub avg_cost: f64,
    /// The policy's scale when built; the `*` row's score when read.
    pub score: f64,
}

/// Priced groups by code, and the overall row.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalogue {
    /// The priced groups, by code.
    pub groups: BTreeMap<String, DipGroup>,
    /// The overall row.
    pub overall: Overall,
}

/// One core key's history: what its group would be, and its cases.
struct KeyHistory {
    dx3: String,
    dx4: String,
    procedures: String,
    treatment: Treatment,
    /// (cost, severity) of each case.
    cases: Vec<(f64, u8)>,
}

/// Gathers history cases key by key; [`CatalogueBuilder::finish`] prices
/// them. Memory grows with the distinct keys and 16 bytes a case.
pub struct CatalogueBuilder {
    policy: DipPolicy,
    by_core_key: FxHashMap<String, KeyHistory>,
}

impl CatalogueBuilder {
    /// An empty builder for this policy: add history cases, then finish.
    pub fn new(policy: &DipPolicy) -> Self {
        CatalogueBuilder { policy: policy.clone(), by_core_key: FxHashMap::default() }
    }

    /// Adds a valid history case with its total cost (the caller leaves out
    /// a cost not above 0).
    pub fn add(&mut self, keys: &CaseKeys, cost: f64) {
        if let Some(h) = self.by_core_key.get_mut(&keys.core_key) {
            h.cases.push((cost, keys.severity));
            return;
        }
        self.by_core_key.insert(
            keys.core_key.clone(),
            KeyHistory {
                dx3: keys.dx3.clone(),
                dx4: keys.dx4.clone(),
                procedures: keys.procs.join("+"),
                treatment: keys.treatment,
                cases: vec![(cost, keys.severity)],
            },
        );
    }

    /// Merges another builder's cases (for building on several threads).
    pub fn merge(&mut self, other: CatalogueBuilder) {
        for (key, h) in other.by_core_key {
            match self.by_core_key.get_mut(&key) {
                Some(mine) => mine.cases.extend(h.cases),
                None => {
                    self.by_core_key.insert(key, h);
                }
            }
        }
    }

    /// How many cases were added.
    pub fn cases(&self) -> u64 {
        self.by_core_key.values().map(|h| h.cases.len() as u64).sum()
    }

    /// Prices the groups (dip.md §2, steps 1–5).
    pub fn finish(self) -> Result<Catalogue, DipError> {
        let d = &self.policy.dip;
        let mut keys: Vec<(String, KeyHistory)> = self.by_core_key.into_iter().collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        // code → (kind, dx, procedures, treatment, cases)
        type Candidate = (GroupKind, String, String, Treatment, Vec<(f64, u8)>);
        let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
        for (key, h) in keys {
            if h.cases.len() as i64 >= d.core_min_cases {
                candidates.insert(key, (GroupKind::Core, h.dx4, h.procedures, h.treatment, h.cases));
            } else {
                let code = format!("{}#{}", h.dx3, h.treatment.as_str());
                candidates
                    .entry(code)
                    .or_insert_with(|| (GroupKind::Comprehensive, h.dx3.clone(), String::new(), h.treatment, Vec::new()))
                    .4
                    .extend(h.cases);
            }
        }
        struct Priced {
            group: DipGroup,
            kept: Vec<(f64, u8)>,
        }
        let mut priced: Vec<Priced> = Vec::new();
        for (code, (kind, dx, procedures, treatment, cases)) in candidates {
            let costs: Vec<f64> = cases.iter().map(|c| c.0).collect();
            let (lo, hi) = trim_range(d.trim, d.trim_k, &costs);
            let kept: Vec<(f64, u8)> = cases.iter().copied().filter(|&(c, _)| lo <= c && c <= hi).collect();
            if kind == GroupKind::Comprehensive && (kept.len() as i64) < d.comprehensive_min_cases {
                continue;
            }
            if kept.is_empty() {
                continue;
            }
            let avg = kept.iter().map(|c| c.0).sum::<f64>() / kept.len() as f64;
            priced.push(Priced {
                group: DipGroup {
                    code,
                    kind,
                    dx,
                    procedures,
                    treatment: treatment.as_str().to_string(),
                    n: cases.len() as u64,
                    kept: kept.len() as u64,
                    avg_cost: avg,
                    score: 0.0,
                    coef: [1.0; 3],
                },
                kept,
            });
        }
        let total_kept: u64 = priced.iter().map(|p| p.kept.len() as u64).sum();
        if total_kept == 0 {
            return Err(DipError::EmptyHistory);
        }
        let overall_avg = priced.iter().flat_map(|p| p.kept.iter().map(|c| c.0)).sum::<f64>() / total_kept as f64;
        let overall = Overall {
            n: priced.iter().map(|p| p.group.n).sum(),
            kept: total_kept,
            avg_cost: overall_avg,
            score: d.scale,
        };
        let mut groups = BTreeMap::new();
        for Priced { mut group, kept } in priced {
            group.score = group.avg_cost / overall_avg * d.scale;
            if d.severity && group.kind == GroupKind::Core {
                for (level, coef) in group.coef.iter_mut().enumerate() {
                    let at: Vec<f64> = kept.iter().filter(|c| c.1 as usize == level).map(|c| c.0).collect();
                    if at.len() as i64 >= d.severity_min_cases {
                        *coef = at.iter().sum::<f64>() / at.len() as f64 / group.avg_cost;
                    }
                }
            }
            groups.insert(group.code.clone(), group);
        }
        Ok(Catalogue { groups, overall })
    }
}

/// A catalogue file that cannot be used, with the line (1 is the header).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct CatalogueError {
    /// The line to blame (1 is the header), when one is.
    pub line: Option<u64>,
    /// What is wrong there.
    pub message: String,
}

/// Reads a catalogue in the format of `catalogue.csv` (a region's published
/// one): columns by name, extra columns ignored; `group`, `kind`,
/// `avg_cost`, `score`, `coef_0`…`coef_2` required, exactly one `*` row.
/// Values are used as printed.
pub fn read_catalogue_csv(input: impl Read) -> Result<Catalogue, CatalogueError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers().map_err(|e| catalogue_error(Some(1), e.to_string()))?.clone();
    let columns = CatalogueColumns::of(&headers)?;
    let mut groups = BTreeMap::new();
    let mut overall: Option<Overall> = None;
    for record in reader.records() {
        let record = record.map_err(|e| catalogue_error(e.position().map(|p| p.line()), e.to_string()))?;
        let line = record.position().map(|p| p.line());
        match columns.row(&record)? {
            CatalogueRow::Overall(_) if overall.is_some() => {
                return Err(catalogue_error(line, "a second overall row (group *)".into()));
            }
            CatalogueRow::Overall(o) => overall = Some(o),
            CatalogueRow::Group(group) => {
                let code = group.code.clone();
                if groups.insert(code.clone(), group).is_some() {
                    return Err(catalogue_error(line, format!("group {code} is listed twice")));
                }
            }
        }
    }
    let overall = overall
        .ok_or_else(|| catalogue_error(None, "no overall row (group *): it gives the overall average cost".into()))?;
    Ok(Catalogue { groups, overall })
}

fn catalogue_error(line: Option<u64>, message: String) -> CatalogueError {
    CatalogueError { line, message }
}

/// Where a catalogue's columns are.
struct CatalogueColumns {
    width: usize,
    group: usize,
    kind: usize,
    avg_cost: usize,
    score: usize,
    coef: [usize; 3],
    dx: Option<usize>,
    procedures: Option<usize>,
    treatment: Option<usize>,
    n: Option<usize>,
    kept: Option<usize>,
}

/// One row of a catalogue: the overall row (`*`) or a group.
enum CatalogueRow {
    Overall(Overall),
    Group(DipGroup),
}

impl CatalogueColumns {
    fn of(headers: &csv::StringRecord) -> Result<Self, CatalogueError> {
        let names: Vec<&str> = headers.iter().map(|h| h.trim().trim_start_matches('\u{feff}')).collect();
        let col = |name: &str| names.iter().position(|h| *h == name);
        let need = |name: &str| {
            col(name).ok_or_else(|| {
                catalogue_error(Some(1), format!("no column {name} (a catalogue has group, kind, avg_cost, score, coef_0, coef_1, coef_2)"))
            })
        };
        Ok(CatalogueColumns {
            width: names.len(),
            group: need("group")?,
            kind: need("kind")?,
            avg_cost: need("avg_cost")?,
            score: need("score")?,
            coef: [need("coef_0")?, need("coef_1")?, need("coef_2")?],
            dx: col("dx"),
            procedures: col("procedures"),
            treatment: col("treatment"),
            n: col("n"),
            kept: col("kept"),
        })
    }

    /// Reads and checks one row.
    fn row(&self, record: &csv::StringRecord) -> Result<CatalogueRow, CatalogueError> {
        let line = record.position().map(|p| p.line());
        let err = |message: String| catalogue_error(line, message);
        if record.len() != self.width {
            return Err(err(format!("expected {} fields, found {}", self.width, record.len())));
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let opt = |i: Option<usize>| i.map(field).unwrap_or("");
        let number = |i: usize, name: &str| -> Result<f64, CatalogueError> {
            field(i)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(format!("{name}: {:?} is not a finite number", field(i))))
        };
        let count = |i: Option<usize>, name: &str| -> Result<u64, CatalogueError> {
            match opt(i) {
                "" => Ok(0),
                t => t.parse::<u64>().map_err(|_| err(format!("{name}: {t:?} is not a count"))),
            }
        };
        let avg_cost = number(self.avg_cost, "avg_cost")?;
        let score = number(self.score, "score")?;
        let coef = [number(self.coef[0], "coef_0")?, number(self.coef[1], "coef_1")?, number(self.coef[2], "coef_2")?];
        if score < 0.0 {
            return Err(err(format!("score: {score} is negative")));
        }
        if let Some((l, c)) = coef.iter().enumerate().find(|(_, c)| **c < 0.0) {
            return Err(err(format!("coef_{l}: {c} is negative")));
        }
        if avg_cost <= 0.0 {
            return Err(err(format!("avg_cost: {avg_cost} is not above 0")));
        }
        let (n, kept) = (count(self.n, "n")?, count(self.kept, "kept")?);
        let code = field(self.group);
        if code == "*" {
            return Ok(CatalogueRow::Overall(Overall { n, kept, avg_cost, score }));
        }
        if code.is_empty() {
            return Err(err("group: empty".into()));
        }
        let kind = match field(self.kind) {
            "core" => GroupKind::Core,
            "comprehensive" => GroupKind::Comprehensive,
            other => return Err(err(format!("kind: {other:?} is neither core nor comprehensive"))),
        };
        let treatment = opt(self.treatment);
        if !matches!(treatment, "" | "C" | "P" | "S") {
            return Err(err(format!("treatment: {treatment:?} is none of C, P, S")));
        }
        Ok(CatalogueRow::Group(DipGroup {
            code: code.to_string(),
            kind,
            dx: opt(self.dx).to_string(),
            procedures: opt(self.procedures).to_string(),
            treatment: treatment.to_string(),
            n,
            kept,
            avg_cost,
            score,
            coef,
        }))
    }
}
