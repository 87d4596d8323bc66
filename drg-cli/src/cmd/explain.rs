//! `drg explain`: one case, the trail of rules tried.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use drg_core::{Case, GroupOptions, Grouper};

use super::{load_pack, Outcome};
use crate::args::ExplainArgs;

/// A case given as JSON text, `@FILE` or `-` (standard input): what
/// `drg explain --case` and `drg dip explain --case` take.
pub fn read_case_json(text: &str) -> Result<Case, String> {
    let text = if text == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| format!("standard input: {e}"))?;
        s
    } else if let Some(path) = text.strip_prefix('@') {
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?
    } else {
        text.to_string()
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("the case is not valid JSON: {e}"))?;
    let object = value.as_object().ok_or("the case must be a JSON object")?;
    let (case, _extra) = Case::from_json_object(object).map_err(|e| format!("the case: {e}"))?;
    Ok(case)
}

fn find_case_in_file(path: &Path, id: &str, options: &drg_core::read::ReadOptions) -> Result<Case, String> {
    let shown = path.display();
    let mut source = drg_core::read::open_cases(&path.to_string_lossy(), options).map_err(|e| format!("{shown}: {e}"))?;
    for row in source.rows() {
        let row = row.map_err(|e| format!("{shown}: {e}"))?;
        match row.case {
            Ok(case) if case.id == id => return Ok(case),
            Err(e) if e.id == id => return Err(format!("{shown}: case {id} cannot be read: {}", e.reason)),
            _ => {}
        }
    }
    Err(format!("{shown}: no case with id {id}"))
}

/// Whether the case is paid by the bed-day under `policy` (specs/perdiem.md
/// §1), and why or why not.
fn perdiem_lines(policy: &drg_core::points::Policy, case: &Case, invalid: bool) -> Vec<String> {
    let Some(perdiem) = &policy.perdiem else {
        return vec!["per-diem: the policy has no [perdiem] categories".into()];
    };
    let diagnoses = case.diagnoses.join("|");
    let facts = drg_core::points::CareFacts {
        invalid,
        los_days: case.los_days,
        dept: case.dept.as_deref(),
        diagnoses: Some(&diagnoses),
    };
    perdiem.explain(&facts)
}

/// `drg explain`.
pub fn command(args: ExplainArgs) -> Outcome {
    let case = match (&args.case, &args.input, &args.id) {
        (Some(json), _, _) => read_case_json(json)?,
        (None, Some(path), Some(id)) => {
            let options = super::columns::read_options(&args.read)?;
            find_case_in_file(path, id, &options)?
        }
        _ => return Err("give the case with --case JSON, or with --input FILE --id ID".into()),
    };
    let policy = match &args.policy {
        Some(path) => Some(drg_core::points::Policy::load(path).map_err(drg_core::Error::from)?),
        None => None,
    };
    let pack = load_pack(&args.pack)?;
    let grouper = Grouper::with_options(Arc::new(pack), GroupOptions { translate_codes: args.translate_codes });
    let result = grouper.explain(&case);
    let info = grouper.pack().info();
    let mut out = std::io::stdout().lock();
    let mut print = || -> std::io::Result<()> {
        writeln!(out, "case {} with {} ({})", case.id, info.name, info.id)?;
        write!(out, "{}", result.trace_text())?;
        let place = [result.mdc, result.adrg, result.drg].iter().flatten().copied().collect::<Vec<_>>().join(" / ");
        write!(out, "=> {}", result.status)?;
        if !place.is_empty() {
            write!(out, " {place}")?;
        }
        if let Some(name) = result.drg_name {
            write!(out, " {name}")?;
        }
        writeln!(out)?;
        if let Some(reason) = &result.reason {
            writeln!(out, "   reason: {reason}")?;
        }
        for w in &result.warnings {
            writeln!(out, "   warning: {w}")?;
        }
        if let Some(policy) = &policy {
            for line in perdiem_lines(policy, &case, result.status == drg_core::Status::Invalid) {
                writeln!(out, "   {line}")?;
            }
        }
        Ok(())
    };
    print().map_err(|e| super::output_error("writing the output", e))?;
    Ok(ExitCode::SUCCESS)
}

