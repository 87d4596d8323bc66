//! Rule expressions (specs/rulepack.md, "Expressions"), compiled.
//!
//! The JSON form is walked once, at load: list and map names become indices,
//! field names become [`NumField`]s, so that grouping compares integers and
//! never looks at a string of the pack.

use serde_json::Value;

use super::{ListId, MapId, PackError};
use crate::case::{json_kind, Sex};

/// Deepest nesting of `all`/`any`/`not` accepted. The national schemes nest 4
/// deep; a limit keeps a hostile pack from overflowing the stack.
pub const MAX_DEPTH: usize = 64;

/// A compiled expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Const(bool),
    All(Box<[Expr]>),
    Any(Box<[Expr]>),
    Not(Box<Expr>),
    /// Code-list membership of some of the case's codes.
    InList(CodeSel, ListId),
    HasMcc,
    HasCc,
    Sex(Sex),
    DischargeIn(Box<[Box<str>]>),
    DeptIn(Box<[Box<str>]>),
    DistinctValuesGe { map: MapId, min: u32 },
    Compare(NumField, Box<[(CmpOp, f64)]>),
}

impl Expr {
    /// A necessary condition of this expression that is one list test on the
    /// principal diagnosis or procedure: when it fails, the expression fails.
    /// The grouper checks it first, so that most MDCs and ADRGs that cannot
    /// hold cost one bit test.
    pub fn guard(&self) -> Option<(CodeSel, ListId)> {
        match self {
            Expr::InList(sel @ (CodeSel::Pdx | CodeSel::Pproc), list) => Some((*sel, *list)),
            Expr::All(items) => items.iter().find_map(Expr::guard),
            _ => None,
        }
    }
}

/// Which of the case's codes a list test looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeSel {
    /// `pdx_in`: the principal diagnosis.
    Pdx,
    /// `dx_any_in`: any diagnosis, principal included.
    DxAny,
    /// `sdx_any_in`: any secondary diagnosis.
    SdxAny,
    /// `pproc_in`: the principal procedure.
    Pproc,
    /// `proc_any_in`: any procedure.
    ProcAny,
    /// `sproc_any_in`: any procedure but the principal.
    SprocAny,
}

impl CodeSel {
    fn from_key(key: &str) -> Option<CodeSel> {
        Some(match key {
            "pdx_in" => CodeSel::Pdx,
            "dx_any_in" => CodeSel::DxAny,
            "sdx_any_in" => CodeSel::SdxAny,
            "pproc_in" => CodeSel::Pproc,
            "proc_any_in" => CodeSel::ProcAny,
            "sproc_any_in" => CodeSel::SprocAny,
            _ => return None,
        })
    }
}

/// A numeric field an expression can compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumField {
    AgeYears,
    AgeDays,
    WeightG,
    LosDays,
    IcuHours,
    SdxCount,
    ProcCount,
    DxCount,
}

impl NumField {
    pub fn key(self) -> &'static str {
        match self {
            NumField::AgeYears => "age_years",
            NumField::AgeDays => "age_days",
            NumField::WeightG => "weight_g",
            NumField::LosDays => "los_days",
            NumField::IcuHours => "icu_hours",
            NumField::SdxCount => "sdx_count",
            NumField::ProcCount => "proc_count",
            NumField::DxCount => "dx_count",
        }
    }

    fn from_key(key: &str) -> Option<NumField> {
        Some(match key {
            "age_years" => NumField::AgeYears,
            "age_days" => NumField::AgeDays,
            "weight_g" => NumField::WeightG,
            "los_days" => NumField::LosDays,
            "icu_hours" => NumField::IcuHours,
            "sdx_count" => NumField::SdxCount,
            "proc_count" => NumField::ProcCount,
            "dx_count" => NumField::DxCount,
            _ => return None,
        })
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    /// The usual mathematical sign, for explanations.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "≤",
            CmpOp::Gt => ">",
            CmpOp::Ge => "≥",
            CmpOp::Eq => "=",
            CmpOp::Ne => "≠",
        }
    }

    fn from_key(key: &str) -> Option<CmpOp> {
        Some(match key {
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            _ => return None,
        })
    }

    #[inline]
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CmpOp::Lt => left < right,
            CmpOp::Le => left <= right,
            CmpOp::Gt => left > right,
            CmpOp::Ge => left >= right,
            CmpOp::Eq => left == right,
            CmpOp::Ne => left != right,
        }
    }
}

/// Resolves the names an expression uses; the loader implements it.
pub(crate) trait Names {
    fn list(&self, name: &str) -> Option<ListId>;
    fn map(&self, name: &str) -> Option<MapId>;
}

/// Compiles the JSON expression `value`, found at JSON path `path` of `file`.
pub(crate) fn compile(
    value: &Value,
    path: &str,
    file: &str,
    names: &dyn Names,
) -> Result<Expr, PackError> {
    compile_at(value, path, file, names, 0)
}

/// An expression refused at `at`.
fn fail<T>(file: &str, at: &str, message: String) -> Result<T, PackError> {
    Err(PackError::at(file, at, message))
}

/// What compiling one expression needs besides the JSON: the file for
/// messages, the pack's lists and maps by name, and the nesting depth.
#[derive(Clone, Copy)]
struct Context<'c> {
    file: &'c str,
    names: &'c dyn Names,
    depth: usize,
}

fn compile_at(value: &Value, path: &str, file: &str, names: &dyn Names, depth: usize) -> Result<Expr, PackError> {
    let cx = Context { file, names, depth };
    if depth > MAX_DEPTH {
        return fail(file, path, format!("expressions nest more than {MAX_DEPTH} deep"));
    }
    let object = match value {
        Value::Bool(b) => return Ok(Expr::Const(*b)),
        Value::Object(o) => o,
        other => return fail(file, path, format!("expected true, false or an object, found {}", json_kind(other))),
    };
    if object.len() != 1 {
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        return fail(
            file,
            path,
            format!("an expression object has exactly one key, this one has {} ({})", keys.len(), keys.join(", ")),
        );
    }
    let (key, arg) = object.iter().next().expect("one key");
    let at = format!("{path}.{key}");
    match key.as_str() {
        "all" | "any" => compile_all_any(key == "all", arg, &at, cx),
        "not" => Ok(Expr::Not(Box::new(compile_at(arg, &at, file, names, depth + 1)?))),
        "has_mcc" | "has_cc" => {
            let test = if key == "has_mcc" { Expr::HasMcc } else { Expr::HasCc };
            match arg {
                Value::Bool(true) => Ok(test),
                Value::Bool(false) => Ok(Expr::Not(Box::new(test))),
                other => fail(file, &at, format!("expected true, found {}", json_kind(other))),
            }
        }
        "sex" => match arg.as_str().and_then(crate::case::Sex::parse) {
            Some(sex) => Ok(Expr::Sex(sex)),
            None => fail(file, &at, format!("expected \"M\" or \"F\", found {arg}")),
        },
        "discharge_in" | "dept_in" => {
            let values = compile_strings(arg, &at, file)?;
            Ok(if key == "discharge_in" { Expr::DischargeIn(values) } else { Expr::DeptIn(values) })
        }
        "distinct_values_ge" => compile_distinct_values_ge(arg, &at, cx),
        _ => {
            if let Some(sel) = CodeSel::from_key(key) {
                return compile_in_list(sel, arg, &at, cx);
            }
            if let Some(field) = NumField::from_key(key) {
                return compile_compare(field, arg, &at, file);
            }
            fail(file, &at, format!("unknown expression key {key:?}"))
        }
    }
}

/// `{"all": [EXPR, …]}` or `{"any": [EXPR, …]}`.
fn compile_all_any(all: bool, arg: &Value, at: &str, cx: Context<'_>) -> Result<Expr, PackError> {
    let items = match arg {
        Value::Array(items) => items,
        other => return fail(cx.file, at, format!("expected an array of expressions, found {}", json_kind(other))),
    };
    let compiled = items
        .iter()
        .enumerate()
        .map(|(i, item)| compile_at(item, &format!("{at}[{i}]"), cx.file, cx.names, cx.depth + 1))
        .collect::<Result<Vec<_>, _>>()?
        .into_boxed_slice();
    Ok(if all { Expr::All(compiled) } else { Expr::Any(compiled) })
}

/// The values of `discharge_in` / `dept_in`: strings (numbers are taken as
/// written).
fn compile_strings(arg: &Value, at: &str, file: &str) -> Result<Box<[Box<str>]>, PackError> {
    let items = match arg {
        Value::Array(items) => items,
        other => return fail(file, at, format!("expected an array of strings, found {}", json_kind(other))),
    };
    let mut values = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => values.push(s.trim().into()),
            Value::Number(n) => values.push(n.to_string().into_boxed_str()),
            other => return fail(file, &format!("{at}[{i}]"), format!("expected a string, found {}", json_kind(other))),
        }
    }
    Ok(values.into_boxed_slice())
}

/// `{"distinct_values_ge": {"map": name, "min": n}}`.
fn compile_distinct_values_ge(arg: &Value, at: &str, cx: Context<'_>) -> Result<Expr, PackError> {
    let file = cx.file;
    let o = match arg {
        Value::Object(o) => o,
        other => return fail(file, at, format!("expected {{\"map\": name, \"min\": n}}, found {}", json_kind(other))),
    };
    if let Some(unknown) = o.keys().find(|k| *k != "map" && *k != "min") {
        return fail(file, &format!("{at}.{unknown}"), format!("unknown key {unknown:?}; expected \"map\" and \"min\""));
    }
    let map_name = match o.get("map") {
        Some(Value::String(s)) => s,
        _ => return fail(file, &format!("{at}.map"), "expected the name of a map".into()),
    };
    let map = match cx.names.map(map_name) {
        Some(m) => m,
        None => return fail(file, &format!("{at}.map"), format!("map {map_name:?} is not defined in \"maps\"")),
    };
    let min = match o.get("min").and_then(Value::as_u64) {
        Some(n) if n <= u32::MAX as u64 => n as u32,
        _ => return fail(file, &format!("{at}.min"), "expected a whole number ≥ 0".into()),
    };
    Ok(Expr::DistinctValuesGe { map, min })
}

/// `{"pdx_in": list}` and the other code selectors: a named list.
fn compile_in_list(sel: CodeSel, arg: &Value, at: &str, cx: Context<'_>) -> Result<Expr, PackError> {
    let name = match arg {
        Value::String(s) => s,
        other => return fail(cx.file, at, format!("expected a list name, found {}", json_kind(other))),
    };
    match cx.names.list(name) {
        Some(list) => Ok(Expr::InList(sel, list)),
        None => fail(cx.file, at, format!("list {name:?} is not defined in \"lists\"")),
    }
}

/// `{"age_years": {"ge": 18, …}}` and the other numeric fields.
fn compile_compare(field: NumField, arg: &Value, at: &str, file: &str) -> Result<Expr, PackError> {
    let o = match arg {
        Value::Object(o) if !o.is_empty() => o,
        other => {
            return fail(file, at, format!("expected {{op: number, …}} with op in lt, le, gt, ge, eq, ne, found {}", json_kind(other)))
        }
    };
    let mut cmps = Vec::with_capacity(o.len());
    for (op, n) in o {
        let op_at = format!("{at}.{op}");
        let Some(op) = CmpOp::from_key(op) else {
            return fail(file, &op_at, format!("unknown operator {op:?}; expected lt, le, gt, ge, eq or ne"));
        };
        let Some(n) = n.as_f64() else {
            return fail(file, &op_at, format!("expected a number, found {}", json_kind(n)));
        };
        cmps.push((op, n));
    }
    Ok(Expr::Compare(field, cmps.into_boxed_slice()))
}
