//! `drg columns`: how each header of a file is understood, and the reading
//! options every command that reads cases shares.

use std::process::ExitCode;
use std::sync::Arc;

use drg_core::columns::ColumnMap;
use drg_core::read::{self, InputKind, ReadOptions, TextEncoding};

use super::Outcome;
use crate::args::{ColumnsArgs, Encoding, InputArgs, InputFormat};

/// The drg-core reading options of a command's arguments.
pub fn read_options(read: &InputArgs) -> Result<ReadOptions, String> {
    let columns = match &read.columns {
        Some(path) => Some(Arc::new(ColumnMap::load(path).map_err(|e| e.to_string())?)),
        None => None,
    };
    Ok(ReadOptions {
        kind: match read.input_format {
            InputFormat::Auto => InputKind::Auto,
            InputFormat::Csv => InputKind::Csv,
            InputFormat::Jsonl => InputKind::Json,
            InputFormat::Xlsx => InputKind::Xlsx,
        },
        sheet: read.sheet.clone(),
        encoding: match read.encoding {
            Encoding::Utf8 => TextEncoding::Utf8,
            Encoding::Gbk => TextEncoding::Gbk,
        },
        columns,
    })
}

/// Prints how each header of `input` is understood.
pub fn show(input: &str, options: &ReadOptions) -> Outcome {
    let plan = read::plan_of(input, options).map_err(|e| format!("{input}: {e}"))?;
    print!("{}", plan.describe());
    let missing: Vec<&str> = drg_core::io::REQUIRED_COLUMNS.iter().filter(|f| !plan.has(**f)).map(|f| f.name()).collect();
    if !missing.is_empty() {
        println!("missing: {} (the file would be refused)", missing.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// `drg columns`.
pub fn command(args: ColumnsArgs) -> Outcome {
    let options = read_options(&args.read)?;
    show(&args.input, &options)
}
