//! `drg code`: what a pack knows of codes.

use std::io::Write;
use std::process::ExitCode;

use super::{load_pack, Outcome};
use crate::args::PackChoice;

/// `drg code lookup`.
pub fn lookup(choice: &PackChoice, codes: &[String]) -> Outcome {
    let pack = load_pack(choice)?;
    let mut out = std::io::stdout().lock();
    let mut all_known = true;
    for raw in codes {
        let Some(found) = pack.lookup(raw) else {
            writeln!(out, "{raw:?}: not a code").map_err(|e| super::output_error("writing the output", e))?;
            all_known = false;
            continue;
        };
        let mut lines = Vec::new();
        if let Some(name) = found.diagnosis_name {
            lines.push(format!("{}\tdiagnosis\t{name}", found.code));
        }
        if let Some(name) = found.procedure_name {
            lines.push(format!("{}\tprocedure\t{name}", found.code));
        }
        if lines.is_empty() {
            all_known = false;
            lines.push(format!("{}\tunknown\tnot in the vocabularies of {}", found.code, pack.info().id));
        }
        for (level, table) in &found.cc {
            lines.push(format!("  {}: exclusion table {table}", level.as_str()));
        }
        if !found.excludes_tables.is_empty() {
            lines.push(format!("  as principal diagnosis, excludes the CC/MCC of tables {}", found.excludes_tables.join(", ")));
        }
        if found.or_procedure {
            lines.push("  operating-room procedure".into());
        }
        if !found.lists.is_empty() {
            lines.push(format!("  in lists: {}", found.lists.join(", ")));
        }
        match found.translates_to {
            Some(Ok(to)) => lines.push(format!("  translated to {to} with --translate-codes")),
            Some(Err(())) => lines.push("  its translation chain loops: never translated".into()),
            None => {}
        }
        for line in lines {
            writeln!(out, "{line}").map_err(|e| super::output_error("writing the output", e))?;
        }
    }
    Ok(if all_known { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `drg code search`.
pub fn search(choice: &PackChoice, text: &str, limit: usize) -> Outcome {
    let pack = load_pack(choice)?;
    let hits = pack.search(text);
    let mut out = std::io::stdout().lock();
    for hit in hits.iter().take(limit) {
        writeln!(out, "{}\t{}\t{}", hit.code, hit.vocabulary.as_str(), hit.name).map_err(|e| super::output_error("writing the output", e))?;
    }
    if hits.len() > limit {
        eprintln!("… {} more (use --limit)", hits.len() - limit);
    }
    Ok(if hits.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

