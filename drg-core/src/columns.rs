//! What hospitals export, read as it is (specs/columns.md).
//!
//! A HIS export names its columns in Chinese (`病案号`, `性别`), with the
//! 病案首页 field codes (`BAH`, `JBDM`), or in a user's own words; it holds one
//! diagnosis or procedure a column (`其他诊断编码1`…); and it writes values as
//! people do (`男`, `医嘱离院`, `12,345.60`, `5天`, `2025年3月1日`). This module
//! is the one place that understands all of it: [`ColumnPlan::from_headers`]
//! turns a header row into a plan (which column holds which field, which wide
//! code columns make up a list and in what order), refusing an ambiguous
//! header before any row is read, and the value helpers turn the spellings
//! into what cases.md reads. Every reader (CSV, JSON, Excel, Python frames)
//! goes through it.

use std::collections::BTreeMap;
use std::fmt;

use rustc_hash::FxHashMap;

use crate::case::Field;

/// Where a column's values go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A field of [`crate::Case`].
    Field(Field),
    /// `discharge_date`: carried through under that name, its value written
    /// `YYYY-MM-DD` (an unreadable date makes the row invalid).
    DischargeDate,
}

impl Target {
    /// The cases.md column name.
    pub fn name(self) -> &'static str {
        match self {
            Target::Field(f) => f.name(),
            Target::DischargeDate => "discharge_date",
        }
    }
}

/// Which code list a wide column belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CodeList {
    /// `diagnoses`.
    Diagnoses,
    /// `procedures`.
    Procedures,
}

impl CodeList {
    /// The cases.md field the list fills.
    pub fn name(self) -> &'static str {
        match self {
            CodeList::Diagnoses => "diagnoses",
            CodeList::Procedures => "procedures",
        }
    }
}

/// The place of a wide code column in its list: the principal column, or
/// number N of a numbered pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Slot {
    /// A family's principal column (`主要诊断编码`), before every numbered one.
    Principal,
    /// `其他诊断编码N`: the N-th other code (N ≥ 1).
    Other(u32),
    /// `诊断编码N`: N = 1 is the principal itself.
    All(u32),
}

/// How one header was understood.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Understood {
    /// The field's own name or an alias (`via` is `name`, `alias` or `map`).
    Field {
        /// The field.
        target: Target,
        /// `name`, `alias` or `map`.
        via: &'static str,
    },
    /// A wide code column: `family` is D1, D2, P1, P2, or `map` for the
    /// mapping file's pattern.
    Wide {
        /// The list it fills.
        list: CodeList,
        /// D1, D2, P1, P2, or `map`.
        family: &'static str,
        /// Its place in the list.
        slot: Slot,
    },
    /// A second alias of a field another column already holds: carried
    /// through; `winner` is that column's header.
    SecondAlias {
        /// The field.
        target: Target,
        /// The header of the column that holds it.
        winner: String,
    },
    /// Names no field: carried through.
    Carried,
}

/// One column of a plan.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PlannedColumn {
    /// The header as written (trimmed, without a BOM).
    pub header: String,
    /// What it was understood as.
    pub understood: Understood,
}

/// What a header row says, column by column.
#[derive(Clone, Debug)]
pub struct ColumnPlan {
    /// Every column, in the header's order.
    pub columns: Vec<PlannedColumn>,
    /// For each wide list: the columns in the list's order (principal, then N
    /// ascending), and the principal column of a diagnosis family (whose empty
    /// cell makes the row invalid).
    pub wide: Vec<WideList>,
}

/// The wide columns of one code list, in order.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WideList {
    /// The list the columns fill.
    pub list: CodeList,
    /// The family of names: D1, D2, P1, P2, or `map`.
    pub family: &'static str,
    /// Column indexes in the list's order.
    pub order: Vec<usize>,
    /// The principal diagnosis column, when the list is diagnoses.
    pub principal: Option<usize>,
}

/// A header (or mapping file) that cannot be read unambiguously: refused
/// before any row is read.
///
/// The column-map file and key are fields; the message names the columns by
/// number and name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ColumnsError {
    /// The column-map file, when one is to blame.
    pub file: Option<String>,
    /// The column-map key, such as `columns.id` or `wide.diagnoses.others`.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ColumnsError {
    /// An error of the header as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        ColumnsError { file: None, key: None, message: message.into() }
    }

    /// An error of one key of a column map.
    pub fn at_key(key: impl Into<String>, message: impl Into<String>) -> Self {
        ColumnsError { file: None, key: Some(key.into()), message: message.into() }
    }

    /// The same error, blamed on a column-map file.
    pub fn in_file(self, file: impl Into<String>) -> Self {
        ColumnsError { file: Some(file.into()), ..self }
    }
}

impl fmt::Display for ColumnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ColumnsError {}

/// The aliases of each field, in priority order (specs/columns.md).
pub const ALIASES: &[(&str, &[&str])] = &[
    ("id", &["病案号", "住院号", "病历号", "结算清单号", "清单流水号", "就诊ID", "BAH"]),
    ("hospital", &["医疗机构编码", "医疗机构代码", "定点医疗机构编码", "医院编码", "机构编码"]),
    ("hospital_level", &["医院等级", "医疗机构等级"]),
    ("sex", &["性别", "XB"]),
    ("age_years", &["年龄", "年龄(岁)", "NL"]),
    ("age_days", &["年龄(天)", "年龄不足1周岁的年龄(天)", "(年龄不足1周岁的)年龄(天)", "不足1周岁年龄(天)"]),
    ("weight_g", &["新生儿出生体重(克)", "新生儿出生体重", "出生体重(克)", "出生体重", "XSECSTZ"]),
    ("los_days", &["实际住院天数", "实际住院(天)", "住院天数", "SJZYTS"]),
    ("discharge", &["离院方式", "LYFS"]),
    ("dept", &["出院科别", "出院科室", "科室", "CYKB"]),
    ("icu_hours", &["重症监护时长(小时)", "ICU时长(小时)"]),
    ("total_cost", &["住院总费用", "总费用", "医疗费总额", "ZFY"]),
    ("self_pay", &["个人负担金额", "个人负担总额", "个人负担"]),
    ("discharge_date", &["出院日期", "出院时间", "CYSJ"]),
    ("diagnoses", &[]),
    ("procedures", &[]),
];

/// A family of wide code columns: principal names, and `{n}` patterns.
struct Family {
    id: &'static str,
    list: CodeList,
    principal: &'static [&'static str],
    /// Patterns whose N = 1 is the first *other* code.
    others: &'static [&'static str],
    /// Patterns whose N = 1 is the principal.
    all: &'static [&'static str],
}

const FAMILIES: &[Family] = &[
    Family {
        id: "D1",
        list: CodeList::Diagnoses,
        principal: &["主要诊断编码", "主诊断编码", "出院主要诊断编码", "诊断编码", "JBDM"],
        others: &["其他诊断编码{n}", "其他诊断{n}编码", "次要诊断编码{n}", "JBDM{n}"],
        all: &[],
    },
    Family { id: "D2", list: CodeList::Diagnoses, principal: &[], others: &[], all: &["诊断编码{n}", "出院诊断编码{n}"] },
    Family {
        id: "P1",
        list: CodeList::Procedures,
        principal: &["主要手术操作编码", "主手术操作编码", "主要手术及操作编码", "手术操作编码", "手术及操作编码"],
        others: &["其他手术操作编码{n}", "其他手术及操作编码{n}"],
        all: &[],
    },
    Family {
        id: "P2",
        list: CodeList::Procedures,
        principal: &[],
        others: &[],
        all: &["手术操作编码{n}", "手术及操作编码{n}", "SSJCZBM{n}"],
    },
];

/// Brings a header to the form names are compared in: format characters and
/// all whitespace removed, full-width ASCII made half-width, ASCII letters
/// upper-cased.
pub fn normalize_header(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_whitespace() || is_format_char(c) {
            continue;
        }
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Unicode general category Cf (the common ones: BOM, zero-width, bidi marks,
/// embeddings, overrides, isolates, soft hyphen…).
fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{08E2}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// A user's own names (`--columns MAP.toml`): more aliases, and a wide
/// pattern per list.
#[derive(Clone, Debug, Default)]
pub struct ColumnMap {
    /// Normalised name → (target, priority: its place in the key's list).
    names: Vec<(String, Target)>,
    /// list → (principal name, others pattern) or the `all` pattern.
    wide: Vec<(CodeList, MapWide)>,
}

#[derive(Clone, Debug)]
enum MapWide {
    PrincipalOthers { principal: String, others: (String, String) },
    All((String, String)),
}

fn target_of_name(name: &str) -> Option<Target> {
    if let Some(f) = Field::from_name(name) {
        return Some(Target::Field(f));
    }
    (name == "discharge_date").then_some(Target::DischargeDate)
}

/// Splits a normalised `{n}` pattern into what stands before and after N.
fn split_pattern(pattern: &str) -> Option<(String, String)> {
    let norm = normalize_header(&pattern.replace("{n}", "\u{0}").replace("{N}", "\u{0}"));
    let (before, after) = norm.split_once('\u{0}')?;
    if after.contains('\u{0}') {
        return None;
    }
    Some((before.to_string(), after.to_string()))
}

impl ColumnMap {
    /// Reads a mapping file's text (TOML: `[columns]` and `[wide]`), refusing
    /// an unknown field, a pattern without `{n}`, or a name that is another
    /// field's alias or a built-in wide name, naming the key.
    pub fn from_toml(text: &str) -> Result<ColumnMap, ColumnsError> {
        let value: toml::Table = text.parse().map_err(|e: toml::de::Error| ColumnsError::new(format!("not valid TOML: {e}")))?;
        let mut map = ColumnMap::default();
        for (section, body) in &value {
            let table = body.as_table().ok_or_else(|| ColumnsError::new(format!("[{section}] must be a table")))?;
            match section.as_str() {
                "columns" => map.read_columns(table)?,
                "wide" => map.read_wide(table)?,
                other => return Err(ColumnsError::new(format!("[{other}]: unknown section (columns, wide)"))),
            }
        }
        Ok(map)
    }

    /// `[columns]`: more names for a field's column.
    fn read_columns(&mut self, table: &toml::Table) -> Result<(), ColumnsError> {
        for (key, names) in table {
            let target = target_of_name(key)
                .filter(|t| !matches!(t, Target::Field(Field::Diagnoses | Field::Procedures)))
                .ok_or_else(|| ColumnsError::at_key(format!("columns.{key}"), "no such field (diagnoses and procedures go in [wide] or keep their names)"))?;
            let list: Vec<&str> = match names {
                toml::Value::String(s) => vec![s.as_str()],
                toml::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().ok_or_else(|| ColumnsError::at_key(format!("columns.{key}"), "names must be strings")))
                    .collect::<Result<_, _>>()?,
                _ => return Err(ColumnsError::at_key(format!("columns.{key}"), "give a name or a list of names")),
            };
            for name in list {
                let norm = normalize_header(name);
                if norm.is_empty() {
                    return Err(ColumnsError::at_key(format!("columns.{key}"), "an empty name"));
                }
                if let Some(other) = builtin_target(&norm).filter(|t| *t != target) {
                    return Err(ColumnsError::at_key(format!("columns.{key}"), format!("{name:?} is already a name of {}", other.name())));
                }
                if builtin_wide(&norm).is_some() {
                    return Err(ColumnsError::at_key(format!("columns.{key}"), format!("{name:?} is a built-in wide code column")));
                }
                if let Some((_, t)) = self.names.iter().find(|(n, _)| *n == norm) {
                    if *t != target {
                        return Err(ColumnsError::at_key(format!("columns.{key}"), format!("{name:?} is already given to {}", t.name())));
                    }
                }
                self.names.push((norm, target));
            }
        }
        Ok(())
    }

    /// `[wide]`: the patterns of one-code-per-column lists.
    fn read_wide(&mut self, table: &toml::Table) -> Result<(), ColumnsError> {
        for (key, spec) in table {
            let list = match key.as_str() {
                "diagnoses" => CodeList::Diagnoses,
                "procedures" => CodeList::Procedures,
                _ => return Err(ColumnsError::at_key(format!("wide.{key}"), "only diagnoses and procedures have wide columns")),
            };
            let spec = spec.as_table().ok_or_else(|| ColumnsError::at_key(format!("wide.{key}"), "give { principal, others } or { all }"))?;
            let get = |k: &str| -> Result<Option<&str>, ColumnsError> {
                match spec.get(k) {
                    None => Ok(None),
                    Some(v) => v.as_str().map(Some).ok_or_else(|| ColumnsError::new(format!("wide.{key}.{k} must be a string"))),
                }
            };
            for k in spec.keys() {
                if !matches!(k.as_str(), "principal" | "others" | "all") {
                    return Err(ColumnsError::at_key(format!("wide.{key}.{k}"), "unknown key (principal, others, all)"));
                }
            }
            let pattern = |k: &str, p: &str| -> Result<(String, String), ColumnsError> {
                let parts = split_pattern(p).ok_or_else(|| ColumnsError::at_key(format!("wide.{key}.{k}"), format!("{p:?} needs one {{n}}")))?;
                let probe = format!("{}1{}", parts.0, parts.1);
                if builtin_wide(&probe).is_some() || builtin_target(&probe).is_some() {
                    return Err(ColumnsError::at_key(format!("wide.{key}.{k}"), format!("{p:?} is a built-in name")));
                }
                Ok(parts)
            };
            let wide = match (get("principal")?, get("others")?, get("all")?) {
                (Some(principal), Some(others), None) => {
                    let norm = normalize_header(principal);
                    if builtin_wide(&norm).is_some() || builtin_target(&norm).is_some() {
                        return Err(ColumnsError::at_key(format!("wide.{key}.principal"), format!("{principal:?} is a built-in name")));
                    }
                    MapWide::PrincipalOthers { principal: norm, others: pattern("others", others)? }
                }
                (None, None, Some(all)) => MapWide::All(pattern("all", all)?),
                _ => return Err(ColumnsError::at_key(format!("wide.{key}"), "give principal and others together, or all alone")),
            };
            self.wide.retain(|(l, _)| *l != list);
            self.wide.push((list, wide));
        }
        Ok(())
    }

    /// Reads a mapping file.
    pub fn load(path: &std::path::Path) -> Result<ColumnMap, ColumnsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ColumnsError::new(e.to_string()).in_file(&file))?;
        ColumnMap::from_toml(&text).map_err(|e| e.in_file(file))
    }
}

/// The built-in field of a normalised header (its name or an alias), with
/// its priority (0 for the name, 1… for the aliases in order).
fn builtin_field(norm: &str) -> Option<(Target, usize)> {
    static TABLE: std::sync::OnceLock<FxHashMap<String, (Target, usize)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = FxHashMap::default();
        for (name, aliases) in ALIASES {
            let target = target_of_name(name).expect("table names are fields");
            t.entry(normalize_header(name)).or_insert((target, 0));
            for (i, a) in aliases.iter().enumerate() {
                t.entry(normalize_header(a)).or_insert((target, i + 1));
            }
        }
        t
    });
    table.get(norm).copied()
}

fn builtin_target(norm: &str) -> Option<Target> {
    builtin_field(norm).map(|(t, _)| t)
}

fn match_pattern(norm: &str, before: &str, after: &str) -> Option<u32> {
    let middle = norm.strip_prefix(before)?.strip_suffix(after)?;
    if middle.is_empty() || !middle.bytes().all(|b| b.is_ascii_digit()) || middle.len() > 6 {
        return None;
    }
    middle.parse().ok().filter(|&n| n >= 1)
}

/// A normalised header's built-in wide family: (family, list, slot, pattern).
fn builtin_wide(norm: &str) -> Option<(&'static str, CodeList, Slot, &'static str)> {
    for f in FAMILIES {
        if let Some(p) = f.principal.iter().find(|p| **p == norm) {
            return Some((f.id, f.list, Slot::Principal, p));
        }
        for p in f.others {
            let (before, after) = p.split_once("{n}").expect("patterns have {n}");
            if let Some(n) = match_pattern(norm, before, after) {
                return Some((f.id, f.list, Slot::Other(n), p));
            }
        }
        for p in f.all {
            let (before, after) = p.split_once("{n}").expect("patterns have {n}");
            if let Some(n) = match_pattern(norm, before, after) {
                return Some((f.id, f.list, Slot::All(n), p));
            }
        }
    }
    None
}

/// What one normalised header names, before conflicts are resolved.
enum Naming {
    Field { target: Target, priority: usize, via: &'static str },
    Wide { family: &'static str, list: CodeList, slot: Slot, pattern: String },
    Nothing,
}

fn naming(norm: &str, map: Option<&ColumnMap>) -> Naming {
    if let Some(map) = map {
        // The mapping file's names come first: they are the user's words.
        if let Some(i) = map.names.iter().position(|(n, _)| n == norm) {
            return Naming::Field { target: map.names[i].1, priority: 0, via: "map" };
        }
        for (list, wide) in &map.wide {
            match wide {
                MapWide::PrincipalOthers { principal, others } => {
                    if principal == norm {
                        return Naming::Wide { family: "map", list: *list, slot: Slot::Principal, pattern: "principal".into() };
                    }
                    if let Some(n) = match_pattern(norm, &others.0, &others.1) {
                        return Naming::Wide { family: "map", list: *list, slot: Slot::Other(n), pattern: "others".into() };
                    }
                }
                MapWide::All(all) => {
                    if let Some(n) = match_pattern(norm, &all.0, &all.1) {
                        return Naming::Wide { family: "map", list: *list, slot: Slot::All(n), pattern: "all".into() };
                    }
                }
            }
        }
    }
    if let Some((target, priority)) = builtin_field(norm) {
        return Naming::Field { target, priority: priority + 1, via: if priority == 0 { "name" } else { "alias" } };
    }
    if let Some((family, list, slot, pattern)) = builtin_wide(norm) {
        return Naming::Wide { family, list, slot, pattern: pattern.to_string() };
    }
    Naming::Nothing
}

/// A header, shortened for messages.
fn shown(header: &str) -> String {
    let mut s: String = header.chars().take(60).collect();
    if s.len() < header.len() {
        s.push('…');
    }
    format!("{s:?}")
}

/// Each header cleaned (BOM, spaces) and what it names; two columns with the
/// same normalised name are refused.
fn name_columns<S: AsRef<str>>(headers: &[S], map: Option<&ColumnMap>) -> Result<(Vec<Naming>, Vec<String>), ColumnsError> {
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    seen.reserve(headers.len());
    let mut namings = Vec::with_capacity(headers.len());
    let mut cleaned: Vec<String> = Vec::with_capacity(headers.len());
    for (i, raw) in headers.iter().enumerate() {
        let raw = raw.as_ref();
        let header = if i == 0 { raw.trim_start_matches('\u{feff}') } else { raw }.trim().to_string();
        let norm = normalize_header(&header);
        if !norm.is_empty() {
            if let Some(&first) = seen.get(&norm) {
                return Err(ColumnsError::new(format!(
                    "columns {} ({}) and {} ({}) have the same name",
                    first + 1,
                    shown(&cleaned[first]),
                    i + 1,
                    shown(&header)
                )));
            }
            // The common case, a cases.md name, needs no table look-up.
            let n = match target_of_name(&header) {
                Some(t) if map.is_none() => Naming::Field { target: t, priority: 0, via: "name" },
                _ => naming(&norm, map),
            };
            seen.insert(norm, i);
            namings.push(n);
        } else {
            namings.push(Naming::Nothing);
        }
        cleaned.push(header);
    }

    Ok((namings, cleaned))
}

/// Each field's column: the best-priority one (its priority and index); the
/// others are carried.
fn field_winners(namings: &[Naming]) -> BTreeMap<&'static str, (usize, usize)> {
    // Fields: the best-priority column wins, the others are carried.
    let mut winner: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for (i, n) in namings.iter().enumerate() {
        if let Naming::Field { target, priority, .. } = n {
            let e = winner.entry(target.name()).or_insert((*priority, i));
            if *priority < e.0 {
                *e = (*priority, i);
            }
        }
    }
    winner
}

/// The wide columns of one code list.
struct WideGroup {
    family: &'static str,
    patterns: Vec<(String, usize)>,
    slots: BTreeMap<Slot, usize>,
    principal_names: Vec<usize>,
}

/// The wide columns by code list; two families, two patterns or two columns
/// for one slot are refused.
fn group_wide_columns(namings: &[Naming], cleaned: &[String]) -> Result<BTreeMap<CodeList, WideGroup>, ColumnsError> {
    // Wide lists.
    let mut groups: BTreeMap<CodeList, WideGroup> = BTreeMap::new();
    for (i, n) in namings.iter().enumerate() {
        let Naming::Wide { family, list, slot, pattern } = n else { continue };
        let g = groups.entry(*list).or_insert_with(|| WideGroup { family, patterns: vec![], slots: BTreeMap::new(), principal_names: vec![] });
        if g.family != *family {
            let first = g.slots.values().next().copied().unwrap_or(i);
            return Err(ColumnsError::new(format!(
                "{}: columns {} ({}) and {} ({}) are of two different families of wide columns",
                list.name(),
                first + 1,
                shown(&cleaned[first]),
                i + 1,
                shown(&cleaned[i])
            )));
        }
        if *slot == Slot::Principal {
            g.principal_names.push(i);
        } else if let Some((p, first)) = g.patterns.iter().find(|(p, _)| p != pattern) {
            let _ = p;
            return Err(ColumnsError::new(format!(
                "{}: columns {} ({}) and {} ({}) follow two different patterns",
                list.name(),
                first + 1,
                shown(&cleaned[*first]),
                i + 1,
                shown(&cleaned[i])
            )));
        } else if g.patterns.is_empty() {
            g.patterns.push((pattern.clone(), i));
        }
        // `诊断编码1` is the principal of its family: the same slot as a
        // principal column would be.
        let key = match slot {
            Slot::All(1) => Slot::Principal,
            s => *s,
        };
        if let Some(first) = g.slots.insert(key, i) {
            return Err(ColumnsError::new(format!(
                "{}: columns {} ({}) and {} ({}) both hold the {}",
                list.name(),
                first + 1,
                shown(&cleaned[first]),
                i + 1,
                shown(&cleaned[i]),
                match key {
                    Slot::Principal => "principal code".to_string(),
                    Slot::Other(n) | Slot::All(n) => format!("code number {n}"),
                }
            )));
        }
    }
    Ok(groups)
}

/// The wide lists, in list order; a list given both as one cell and as
/// wide columns is refused.
fn wide_lists(
    groups: &BTreeMap<CodeList, WideGroup>,
    winner: &BTreeMap<&'static str, (usize, usize)>,
    cleaned: &[String],
) -> Result<Vec<WideList>, ColumnsError> {
    let mut wide = Vec::new();
    for (list, g) in groups {
        let field = match list {
            CodeList::Diagnoses => "diagnoses",
            CodeList::Procedures => "procedures",
        };
        if let Some(&(_, one_cell)) = winner.get(field) {
            let w = g.slots.values().next().copied().unwrap_or(0);
            return Err(ColumnsError::new(format!(
                "{field}: column {} ({}) holds the whole list, and column {} ({}) one code of it: keep one or the other",
                one_cell + 1,
                shown(&cleaned[one_cell]),
                w + 1,
                shown(&cleaned[w])
            )));
        }
        let order: Vec<usize> = g.slots.values().copied().collect();
        let principal = (*list == CodeList::Diagnoses).then(|| g.slots.get(&Slot::Principal).copied()).flatten();
        wide.push(WideList { list: *list, family: g.family, order, principal });
    }
    Ok(wide)
}

/// The plan: each column with what it was understood as.
fn plan_columns(
    namings: Vec<Naming>,
    cleaned: Vec<String>,
    winner: &BTreeMap<&'static str, (usize, usize)>,
    wide: Vec<WideList>,
) -> ColumnPlan {
    let columns = namings
        .into_iter()
        .zip(cleaned)
        .enumerate()
        .map(|(i, (n, header))| {
            let understood = match n {
                Naming::Field { target, via, .. } => {
                    let (_, w) = winner[target.name()];
                    if w == i {
                        Understood::Field { target, via }
                    } else {
                        Understood::SecondAlias { target, winner: String::new() }
                    }
                }
                Naming::Wide { family, list, slot, .. } => Understood::Wide { list, family, slot },
                Naming::Nothing => Understood::Carried,
            };
            PlannedColumn { header, understood }
        })
        .collect::<Vec<_>>();
    let mut plan = ColumnPlan { columns, wide };
    let headers: Vec<String> = plan.columns.iter().map(|c| c.header.clone()).collect();
    for c in &mut plan.columns {
        if let Understood::SecondAlias { target, winner: w } = &mut c.understood {
            w.clone_from(&headers[winner[target.name()].1]);
        }
    }
    plan
}

impl ColumnPlan {
    /// Reads a header row. Refuses, naming the columns: two columns with the
    /// same normalised header; a one-cell code field together with wide
    /// columns for the same list; wide columns of two families or two
    /// patterns for one list; two columns for the same principal or N.
    ///
    /// Linear in the number of columns (a header of a million columns is
    /// read in well under a second).
    pub fn from_headers<S: AsRef<str>>(headers: &[S], map: Option<&ColumnMap>) -> Result<ColumnPlan, ColumnsError> {
        let (namings, cleaned) = name_columns(headers, map)?;
        let winner = field_winners(&namings);
        let groups = group_wide_columns(&namings, &cleaned)?;
        let wide = wide_lists(&groups, &winner, &cleaned)?;
        Ok(plan_columns(namings, cleaned, &winner, wide))
    }

    /// Whether the plan gives some column to this field (directly or, for a
    /// code list, as wide columns).
    pub fn has(&self, field: Field) -> bool {
        let list = match field {
            Field::Diagnoses => Some(CodeList::Diagnoses),
            Field::Procedures => Some(CodeList::Procedures),
            _ => None,
        };
        self.columns.iter().any(|c| matches!(c.understood, Understood::Field { target: Target::Field(f), .. } if f == field))
            || list.is_some_and(|l| self.wide.iter().any(|w| w.list == l))
    }

    /// Second aliases carried through, for the run's summary:
    /// `"住院号" (carried; id is "病案号")`.
    pub fn second_aliases(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter_map(|c| match &c.understood {
                Understood::SecondAlias { target, winner } => {
                    Some(format!("{} carried through ({} is read from {})", shown(&c.header), target.name(), shown(winner)))
                }
                _ => None,
            })
            .collect()
    }

    /// One line per column: how its header was understood (for
    /// `drg columns` and `--dry-run`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.columns.iter().enumerate() {
            let what = match &c.understood {
                Understood::Field { target, via: "name" } => target.name().to_string(),
                Understood::Field { target, via } => format!("{} ({via})", target.name()),
                Understood::Wide { list, family, slot } => {
                    let place = match slot {
                        Slot::Principal => "principal".to_string(),
                        Slot::Other(n) => format!("other {n}"),
                        Slot::All(1) => "1 (principal)".to_string(),
                        Slot::All(n) => format!("{n}"),
                    };
                    format!("{} wide, family {family}, {place}", list.name())
                }
                Understood::SecondAlias { target, winner } => {
                    format!("carried through (also a name of {}, read from {})", target.name(), shown(winner))
                }
                Understood::Carried => "carried through".to_string(),
            };
            out.push_str(&format!("{:>4}  {:<28}  {what}\n", i + 1, c.header));
        }
        for w in &self.wide {
            let names: Vec<&str> = w.order.iter().map(|&i| self.columns[i].header.as_str()).collect();
            out.push_str(&format!("      {} = {}\n", w.list.name(), names.join(" + ")));
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Values.

/// The unit a numeric field may be written with (`5天`, `3200克`).
pub fn unit_of(field: Field) -> Option<&'static str> {
    match field {
        Field::TotalCost | Field::SelfPay => Some("元"),
        Field::LosDays | Field::AgeDays => Some("天"),
        Field::AgeYears => Some("岁"),
        Field::WeightG => Some("克"),
        Field::IcuHours => Some("小时"),
        _ => None,
    }
}

/// A number as people write it in a field: thousands separators
/// (`12,345.60`) and the field's unit (`5天`) removed. `None` when nothing
/// was removed or the rest is still no number.
pub fn lenient_number(field: Field, text: &str) -> Option<f64> {
    let t = text.trim();
    let t = match unit_of(field) {
        Some(unit) => t.strip_suffix(unit).unwrap_or(t).trim_end(),
        None => t,
    };
    let mut cleaned = String::with_capacity(t.len());
    let chars: Vec<char> = t.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let is_group_sep = matches!(c, ',' | '，')
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.len() >= i + 4
            && chars[i + 1..i + 4].iter().all(|d| d.is_ascii_digit())
            && !chars.get(i + 4).is_some_and(|d| d.is_ascii_digit());
        if !is_group_sep {
            cleaned.push(c);
        }
    }
    if cleaned == text.trim() {
        return None;
    }
    crate::case::parse_number(&cleaned).ok().flatten()
}

/// The code of a 离院方式 written as its name (`医嘱离院` → `1`).
pub fn discharge_code(text: &str) -> Option<&'static str> {
    Some(match normalize_header(text).as_str() {
        "医嘱离院" => "1",
        "医嘱转院" => "2",
        "医嘱转社区卫生服务机构/乡镇卫生院" | "医嘱转社区卫生服务机构" | "医嘱转乡镇卫生院" | "医嘱转社区" | "医嘱转社区/乡镇卫生院" => "3",
        "非医嘱离院" => "4",
        "死亡" => "5",
        "其他" | "其它" => "9",
        _ => return None,
    })
}

/// The level of a hospital written as its name (`三级甲等`, `二乙` → `3`, `2`).
pub fn hospital_level_code(text: &str) -> Option<&'static str> {
    let t = normalize_header(text);
    if matches!(t.as_str(), "1" | "2" | "3") {
        return None;
    }
    let mut chars = t.chars();
    let level = match chars.next()? {
        '一' => "1",
        '二' => "2",
        '三' => "3",
        _ => return None,
    };
    let rest: String = chars.collect();
    let rest = rest.strip_prefix('级').unwrap_or(&rest);
    matches!(rest, "" | "甲" | "乙" | "丙" | "特" | "甲等" | "乙等" | "丙等" | "特等" | "合格" | "未定级" | "医院")
        .then_some(level)
        .filter(|_| !rest.is_empty() || t.contains('级'))
}

/// A date as `YYYY-MM-DD`: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`,
/// `YYYY年M月D日`, each optionally followed by a time. `None` for anything
/// else, or a date that does not exist.
pub fn parse_date(text: &str) -> Option<String> {
    let t = text.trim();
    let (y, m, d, rest) = if let Some((y, rest)) = t.split_once('年') {
        let (m, rest) = rest.split_once('月')?;
        let (d, rest) = rest.split_once('日')?;
        (y, m, d, rest)
    } else if t.len() >= 8 && t.as_bytes()[..8].iter().all(u8::is_ascii_digit) && !t.as_bytes().get(8).is_some_and(|b| b.is_ascii_digit()) {
        (&t[..4], &t[4..6], &t[6..8], &t[8..])
    } else {
        let sep = if t.contains('-') { '-' } else { '/' };
        let mut parts = t.splitn(3, sep);
        let y = parts.next()?;
        let m = parts.next()?;
        let rest = parts.next()?;
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        (y, m, &rest[..end], &rest[end..])
    };
    let num = |s: &str, max_len: usize| -> Option<u32> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    let (y, m, d) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
    if y.to_string().len() != 4 || !is_time(rest) || m == 0 || m > 12 || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

fn is_time(rest: &str) -> bool {
    let r = rest.trim_start_matches(['T', ' ']);
    rest.is_empty() || (rest != r || rest.starts_with('T')) && r.bytes().all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.'))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The date of an Excel serial day number (1900 system, or 1904).
pub fn excel_serial_date(serial: f64, is_1904: bool) -> Option<String> {
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return None;
    }
    let whole = serial.floor() as i64;
    // Days since 1970-01-01. The 1900 system counts a 29 February 1900 that
    // did not exist (serial 60), so serials from 61 on are one day late.
    let days = if is_1904 {
        whole - 24_107
    } else if whole >= 61 {
        whole - 25_569
    } else if whole == 60 {
        return None;
    } else {
        whole - 25_568
    };
    let (y, m, d) = civil_from_days(days);
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// A civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The warning of a row whose code cell Excel stored as a number.
pub const CODE_AS_NUMBER: &str = "code stored as a number in Excel: check the cell format";

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(h: &[&str]) -> Result<ColumnPlan, ColumnsError> {
        ColumnPlan::from_headers(h, None)
    }

    #[test]
    fn headers_are_normalised_and_matched_whole() {
        assert_eq!(normalize_header(" 年龄（天）\u{200b}\n"), "年龄(天)");
        assert_eq!(normalize_header("bah"), "BAH");
        let p = plan(&["病案号", "性别", "年龄（岁）", "年龄（天）", "主要诊断编码", "其他诊断编码2", "其他诊断编码10", "其他诊断编码1", "年龄备注"]).unwrap();
        assert_eq!(p.columns[0].understood, Understood::Field { target: Target::Field(Field::Id), via: "alias" });
        assert_eq!(p.columns[3].understood, Understood::Field { target: Target::Field(Field::AgeDays), via: "alias" });
        assert_eq!(p.columns[8].understood, Understood::Carried, "never by prefix");
        assert_eq!(p.wide[0].order, vec![4, 7, 5, 6], "principal, then N numerically");
        assert_eq!(p.wide[0].principal, Some(4));
    }

    #[test]
    fn refusals_name_the_columns() {
        let e = plan(&["id", "ID "]).unwrap_err().to_string();
        assert!(e.contains("\"id\"") && e.contains("\"ID\""), "{e}");
        let e = plan(&["id", "diagnoses", "主要诊断编码"]).unwrap_err().to_string();
        assert!(e.contains("diagnoses") && e.contains("主要诊断编码"), "{e}");
        let e = plan(&["主要诊断编码", "诊断编码2"]).unwrap_err().to_string();
        assert!(e.contains("two different families"), "{e}");
        let e = plan(&["主要诊断编码", "其他诊断编码1", "JBDM2"]).unwrap_err().to_string();
        assert!(e.contains("two different patterns"), "{e}");
        let e = plan(&["主要诊断编码", "JBDM"]).unwrap_err().to_string();
        assert!(e.contains("principal"), "{e}");
        let e = plan(&["JBDM1", "JBDM01"]).unwrap_err().to_string();
        assert!(e.contains("code number 1"), "{e}");
    }

    #[test]
    fn a_second_alias_is_carried() {
        let p = plan(&["住院号", "病案号", "id2"]).unwrap();
        assert!(matches!(p.columns[0].understood, Understood::SecondAlias { .. }));
        assert_eq!(p.columns[1].understood, Understood::Field { target: Target::Field(Field::Id), via: "alias" });
        assert_eq!(p.second_aliases().len(), 1);
    }

    #[test]
    fn a_million_columns_in_linear_time() {
        let headers: Vec<String> = (0..1_000_000).map(|i| format!("c{i}")).collect();
        let started = std::time::Instant::now();
        let p = plan(&headers.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        assert_eq!(p.columns.len(), 1_000_000);
        // The old pairwise check took hours here; a linear one well under a
        // second (docs/performance.md). The bound only catches a quadratic
        // return, with room for a loaded machine.
        assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
        let mut dup = headers;
        dup.push("c5".into());
        assert!(plan(&dup.iter().map(String::as_str).collect::<Vec<_>>()).is_err());
    }

    #[test]
    fn mapping_files() {
        let map = ColumnMap::from_toml(
            "[columns]\nid = \"住院流水号\"\ntotal_cost = [\"总金额(元)\", \"金额\"]\n[wide]\ndiagnoses = { principal = \"主诊断代码\", others = \"副诊断代码{n}\" }\nprocedures = { all = \"手术代码{n}\" }\n",
        )
        .unwrap();
        let p = ColumnPlan::from_headers(&["住院流水号", "总金额（元）", "主诊断代码", "副诊断代码1", "手术代码1", "手术代码2"], Some(&map)).unwrap();
        assert_eq!(p.columns[0].understood, Understood::Field { target: Target::Field(Field::Id), via: "map" });
        assert_eq!(p.columns[1].understood, Understood::Field { target: Target::Field(Field::TotalCost), via: "map" });
        assert_eq!(p.wide.len(), 2);
        for (bad, key) in [
            ("[columns]\nfoo = \"x\"", "columns.foo"),
            ("[wide]\ndiagnoses = { all = \"诊断\" }", "wide.diagnoses.all"),
            ("[columns]\nid = \"性别\"", "columns.id"),
            ("[columns]\nid = \"JBDM3\"", "columns.id"),
            ("[wide]\ndiagnoses = { all = \"诊断编码{n}\" }", "wide.diagnoses.all"),
            ("[wide]\ndiagnoses = { principal = \"a\" }", "wide.diagnoses"),
        ] {
            let e = ColumnMap::from_toml(bad).unwrap_err();
            assert!(e.to_string().starts_with(key), "{bad}: {e}");
            assert_eq!(e.key.as_deref(), Some(key), "{bad}: {e}");
        }
    }

    #[test]
    fn value_spellings() {
        assert_eq!(lenient_number(Field::TotalCost, "12,345.60"), Some(12345.6));
        assert_eq!(lenient_number(Field::TotalCost, "1,234,567元"), Some(1234567.0));
        assert_eq!(lenient_number(Field::LosDays, "5天"), Some(5.0));
        assert_eq!(lenient_number(Field::WeightG, "3200克"), Some(3200.0));
        assert_eq!(lenient_number(Field::IcuHours, "12小时"), Some(12.0));
        assert_eq!(lenient_number(Field::LosDays, "5元"), None, "another unit");
        assert_eq!(lenient_number(Field::TotalCost, "1,23"), None);
        assert_eq!(discharge_code("医嘱离院"), Some("1"));
        assert_eq!(discharge_code("医嘱转社区卫生服务机构/乡镇卫生院"), Some("3"));
        assert_eq!(discharge_code("死亡"), Some("5"));
        for (t, l) in [("三级甲等", Some("3")), ("二乙", Some("2")), ("一级", Some("1")), ("三甲", Some("3")), ("甲等", None), ("3", None)] {
            assert_eq!(hospital_level_code(t), l, "{t}");
        }
        for (t, d) in [
            ("2025-03-01", Some("2025-03-01")),
            ("2025/3/1", Some("2025-03-01")),
            ("20250301", Some("2025-03-01")),
            ("2025年3月1日", Some("2025-03-01")),
            ("2025-03-01 08:30:00", Some("2025-03-01")),
            ("2025-02-29", None),
            ("2024-02-29", Some("2024-02-29")),
            ("2025-13-01", None),
            ("yesterday", None),
        ] {
            assert_eq!(parse_date(t).as_deref(), d, "{t}");
        }
        assert_eq!(excel_serial_date(45717.0, false).as_deref(), Some("2025-03-01"));
        assert_eq!(excel_serial_date(45717.35, false).as_deref(), Some("2025-03-01"));
        assert_eq!(excel_serial_date(1.0, false).as_deref(), Some("1900-01-01"));
    }
}
