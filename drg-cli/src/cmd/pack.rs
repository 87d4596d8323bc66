//! `drg pack`: list the bundled packs, describe, check and compile packs.

use std::ffi::OsStr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use drg_core::Vocabulary;

use super::Outcome;

/// `drg pack compile`.
pub fn compile(path: &OsStr, output: &Path) -> Outcome {
    let path = Path::new(path);
    let pack = match drg_packs::open(path) {
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
pub fn check(path: &OsStr) -> Outcome {
    let started = Instant::now();
    let pack = match drg_packs::open(path) {
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
    println!("loaded in {ms:.1} ms");
    for w in &info.warnings {
        println!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}


/// `writeln!` into a String (which cannot fail).
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// Prints a listing; a closed pipe (`drg pack list | head`) is not an error.
fn print_all(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `drg pack list`.
pub fn list() -> Outcome {
    let mut out = String::new();
    let packs = drg_packs::bundled();
    let id_width = packs.iter().map(|p| p.id.len()).max().unwrap_or(2).max(2);
    outln!(out, "{:id_width$}  {:>4} {:>5} {:>5}  name", "id", "MDC", "ADRG", "DRG");
    for p in packs {
        let default = if p.id == drg_packs::DEFAULT_PACK { "  (default)" } else { "" };
        outln!(out, "{:id_width$}  {:>4} {:>5} {:>5}  {}{default}", p.id, p.counts.mdc, p.counts.adrg, p.counts.drg, p.name);
    }
    outln!(out, "{:id_width$}  {:>4} {:>5} {:>5}  hand-written demo pack, not for payment", drg_packs::DEMO_PACK, "", "", "");
    outln!(out, "");
    outln!(out, "Provenance: {}.", drg_packs::PROVENANCE);
    outln!(out, "`drg pack info ID` describes one; `drg pack notice` prints the attribution and licence.");
    print_all(&out);
    Ok(ExitCode::SUCCESS)
}

/// `drg pack info`.
pub fn info(arg: &OsStr) -> Outcome {
    let source = match drg_packs::parse(arg) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("drg: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let pack = match source.open() {
        Ok(pack) => pack,
        Err(e) => {
            eprintln!("drg: pack refused: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = String::new();
    let info = pack.info();
    outln!(out, "id:          {}", info.id);
    outln!(out, "name:        {}", info.name);
    outln!(out, "counts:      {}", info.counts);
    outln!(out, "source:      {}", info.source);
    match source {
        drg_packs::PackSource::Bundled(p) => {
            outln!(out, "bundled:     yes{}", if p.id == drg_packs::DEFAULT_PACK { " (the default pack)" } else { "" });
            outln!(out, "provenance:  {}", p.provenance);
            outln!(out, "attribution: converted from OpenDRG (Apache License 2.0); `drg pack notice` prints the notice and licence.");
            outln!(out, "             Not an official release: check results against your region's own grouper.");
        }
        drg_packs::PackSource::Demo => outln!(out, "bundled:     yes (hand-written demo pack, not for payment)"),
        drg_packs::PackSource::Path(_) => outln!(out, "bundled:     no"),
    }
    for w in &info.warnings {
        outln!(out, "warning:     {w}");
    }
    if !info.description.is_empty() {
        outln!(out, "");
        outln!(out, "{}", info.description);
    }
    print_all(&out);
    Ok(ExitCode::SUCCESS)
}

/// `drg pack notice`.
pub fn notice() -> Outcome {
    let mut out = String::new();
    outln!(out, "{}", drg_packs::NOTICE.trim_end());
    outln!(out, "");
    outln!(out, "{}", drg_packs::OPENDRG_LICENSE.trim_end());
    print_all(&out);
    Ok(ExitCode::SUCCESS)
}
