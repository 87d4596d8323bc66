//! One module per command. What they share: the outcome type, choosing and
//! opening the pack, and opening an input file.

pub mod code;
pub mod columns;
pub mod explain;
pub mod group;
pub mod pack;
pub mod points;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use drg_core::Pack;

use crate::args::{Encoding, PackChoice};

/// What a command gives back: its exit code, or the message of an error.
pub type Outcome = Result<ExitCode, String>;


/// `--pack`, else `$DRG_PACK`, else the built-in demo pack.
pub fn load_pack(choice: &PackChoice) -> Result<Pack, String> {
    let path = choice.pack.clone().or_else(|| std::env::var_os("DRG_PACK").filter(|v| !v.is_empty()).map(PathBuf::from));
    match path {
        Some(path) => Pack::open(&path).map_err(|e| e.to_string()),
        None => Ok(Pack::demo()),
    }
}


/// Opens an input file (or `-`, standard input) as UTF-8 text: GBK is
/// decoded with `--encoding gbk`; otherwise an input whose first megabyte is
/// not UTF-8 is refused (see `drg_core::read::open_text`). Commands that read
/// cases should open them with `drg_core::read::open_cases` instead, which
/// also reads Excel and understands HIS column names.
#[allow(dead_code)] // for commands that read other text files
pub fn open_input(input: &str, encoding: Encoding) -> Result<Box<dyn BufRead>, String> {
    let encoding = match encoding {
        Encoding::Utf8 => drg_core::read::TextEncoding::Utf8,
        Encoding::Gbk => drg_core::read::TextEncoding::Gbk,
    };
    drg_core::read::open_text(input, encoding).map_err(|e| e.to_string())
}
