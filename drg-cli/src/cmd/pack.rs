//! `drg pack`: check and compile rule packs.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use drg_core::{Pack, Vocabulary};

use super::Outcome;

/// `drg pack compile`.
pub fn compile(path: &Path, output: &Path) -> Outcome {
    let pack = match Pack::open(path) {
        Ok(pack) => pack,
        Err(e) => {
            eprintln!("drg: pack refused: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let bytes = pack.to_bytes();
    // Write beside the target and rename, so a reader never sees half a file.
    let partial = output.with_extension("drgpack.partial");
    std::fs::write(&partial, &bytes).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, output).map_err(|e| format!("{}: {e}", output.display()))?;
    let info = pack.info();
    println!("{} ({}): {} -> {}, {} bytes", info.id, info.counts, path.display(), output.display(), bytes.len());
    Ok(ExitCode::SUCCESS)
}

/// `drg pack check`.
pub fn check(path: &Path) -> Outcome {
    let started = Instant::now();
    let pack = match Pack::open(path) {
        Ok(pack) => pack,
        Err(e) => {
            eprintln!("drg: pack refused: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let info = pack.info();
    println!("{}\t{}", info.id, info.name);
    println!("{}", info.counts);
    println!(
        "{} code lists, {} diagnoses, {} procedures",
        pack.list_count(),
        pack.vocabulary_size(Vocabulary::Diagnosis),
        pack.vocabulary_size(Vocabulary::Procedure)
    );
    println!("loaded in {ms:.0} ms");
    for w in &info.warnings {
        println!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

