//! One module per command. What they share: the outcome type, choosing and
//! opening the pack, and opening an input file.

pub mod code;
pub mod explain;
pub mod group;
pub mod pack;
pub mod pack_diff;
pub mod points;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;

use drg_core::Pack;

use crate::args::{Encoding, PackChoice};

/// What a command gives back: its exit code, or the message of an error.
pub type Outcome = Result<ExitCode, String>;


/// `--pack`, else `$DRG_PACK`, else chs-drg-2.0: the rule of
/// [`drg_packs::resolve`] (an existing path, else a bundled id or `demo`).
pub fn load_pack(choice: &PackChoice) -> Result<Pack, String> {
    drg_packs::open_or_default(choice.pack.as_deref()).map_err(|e| e.to_string())
}

/// Opens an input file (or `-`, standard input) as UTF-8 text: GBK is
/// decoded with `--encoding gbk`; otherwise an input whose first megabyte is
/// not UTF-8 is refused, naming the encoding it looks like. (A GBK file can
/// pass for UTF-8 cell by cell — 女 in GBK is Ů in UTF-8 — so the check is
/// made on the whole start of the file, not per cell.)
pub fn open_input(input: &str, encoding: Encoding) -> Result<Box<dyn BufRead>, String> {
    let raw: Box<dyn Read> = if input == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(input).map_err(|e| format!("{input}: {e}"))?)
    };
    if encoding == Encoding::Gbk {
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new().encoding(Some(encoding_rs::GB18030)).build(raw);
        return Ok(Box::new(BufReader::with_capacity(1 << 20, decoded)));
    }
    let mut reader = BufReader::with_capacity(1 << 20, raw);
    let start = reader.fill_buf().map_err(|e| format!("{input}: {e}"))?;
    if let Err(e) = std::str::from_utf8(start) {
        // A sequence cut at the end of the buffer is not an error.
        if e.error_len().is_some() {
            let at = e.valid_up_to();
            let (_, _, gbk_errors) = encoding_rs::GB18030.decode(start);
            let guess = if gbk_errors { "" } else { " It reads as GBK (GB18030), common in HIS exports: give --encoding gbk, or convert it (iconv -f GBK -t UTF-8)." };
            return Err(format!("{input}: not UTF-8 (byte {at} is 0x{:02X}).{guess}", start[at]));
        }
    }
    Ok(Box::new(reader))
}

