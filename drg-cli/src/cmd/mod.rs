//! One module per command. What they share: the outcome type, choosing and
//! opening the pack, and opening an input file.

pub mod code;
pub mod columns;
pub mod dip;
pub mod explain;
pub mod group;
pub mod pack;
pub mod pack_diff;
pub mod pipeline;
pub mod points;
pub mod report;
pub mod serve;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::process::ExitCode;

use drg_core::Pack;

use crate::args::PackChoice;

/// What a command gives back: its exit code, or why it failed.
pub type Outcome = Result<ExitCode, Failure>;

/// Why a command failed: an error of drg-core, kept as data (its kind, file,
/// line and key), or a message of the command itself (an argument that cannot
/// be used, a file that cannot be opened or written). `main` turns it into
/// the exit code and the message, in one place.
#[derive(Debug)]
pub enum Failure {
    /// An error of the engine.
    Core(drg_core::Error),
    /// An error of the command, as the message to print.
    Message(String),
}

impl Failure {
    /// The kind of engine error, when it is one.
    pub fn kind(&self) -> Option<drg_core::ErrorKind> {
        match self {
            Failure::Core(e) => Some(e.kind()),
            Failure::Message(_) => None,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Core(e) => e.fmt(f),
            Failure::Message(m) => f.write_str(m),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Message(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Message(message.to_string())
    }
}

/// For the helpers that still report a message: the failure's text.
impl From<Failure> for String {
    fn from(failure: Failure) -> Self {
        failure.to_string()
    }
}

impl From<drg_core::Error> for Failure {
    fn from(e: drg_core::Error) -> Self {
        Failure::Core(e)
    }
}

impl From<drg_core::PackError> for Failure {
    fn from(e: drg_core::PackError) -> Self {
        Failure::Core(e.into())
    }
}

/// Set when the output was closed by its reader (`drg … | head`).
static OUTPUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether the output was closed by its reader: then drg ends quietly with
/// exit 0, as Unix tools do, whatever the command was doing.
pub fn output_closed() -> bool {
    OUTPUT_CLOSED.load(Ordering::Relaxed)
}

/// The message of an error writing the output; a closed pipe is noted, so
/// that `main` ends quietly instead of reporting it.
pub fn output_error(context: &str, e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        OUTPUT_CLOSED.store(true, Ordering::Relaxed);
    }
    format!("{context}: {e}")
}

/// Refuses to write `output` when it is one of `inputs` (the same file, also
/// through a symbolic or hard link, or standard input redirected from it):
/// creating the output would truncate the input before it is read. An input
/// `-` is standard input.
pub fn refuse_overwriting_inputs(output: &Path, inputs: &[&Path]) -> Result<(), String> {
    let Ok(out) = std::fs::metadata(output) else { return Ok(()) };
    for input in inputs {
        let shown = input.display().to_string();
        let opened = if shown == "-" { Path::new("/dev/stdin") } else { input };
        let Ok(meta) = std::fs::metadata(opened) else { continue };
        if same_file(&out, &meta, output, opened) {
            let input = if shown == "-" { "standard input".to_string() } else { shown };
            return Err(format!(
                "{}: this is the input file ({input}); writing the output would destroy it. Write to another file",
                output.display()
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata, _: &Path, _: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.is_file() && a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata, a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}


/// `--pack`, else `$DRG_PACK`, else chs-drg-2.0: the rule of
/// [`drg_packs::resolve`] (an existing path, else a bundled id or `demo`).
pub fn load_pack(choice: &PackChoice) -> Result<Pack, Failure> {
    Ok(drg_packs::open_or_default(choice.pack.as_deref())?)
}
