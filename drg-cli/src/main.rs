//! `drg`: group discharges into CHS-DRG groups from the command line.
//!
//! A thin layer over drg-core: it reads files, calls the engine and prints.
//! No grouping rule lives here. `args` holds the command line's types, `cmd`
//! one module per command; this file only dispatches and reports errors.

mod args;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, CodeCommand, Command, PackCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Group(args) => cmd::group::command(args),
        Command::Explain(args) => cmd::explain::command(args),
        Command::Code(CodeCommand::Lookup { pack, codes }) => cmd::code::lookup(&pack, &codes),
        Command::Code(CodeCommand::Search { pack, limit, text }) => cmd::code::search(&pack, &text, limit),
        Command::Pack(PackCommand::List) => cmd::pack::list(),
        Command::Pack(PackCommand::Info { pack }) => cmd::pack::info(&pack),
        Command::Pack(PackCommand::Notice) => cmd::pack::notice(),
        Command::Pack(PackCommand::Diff(args)) => cmd::pack_diff::command(args),
        Command::Pack(PackCommand::Check { path }) => cmd::pack::check(&path),
        Command::Pack(PackCommand::Compile { path, output }) => cmd::pack::compile(&path, &output),
        Command::Points(command) => cmd::points::command(command),
    };
    report(outcome)
}

/// The one place an outcome becomes an exit code: an error is printed on
/// standard error and exits 2.
fn report(outcome: cmd::Outcome) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("drg: error: {message}");
            ExitCode::from(2)
        }
    }
}
