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
    end_quietly_on_closed_output();
    return_large_blocks_to_the_system();
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
        Command::Report(args) => cmd::report::command(args),
        Command::Serve(args) => cmd::serve::command(args),
        Command::Dip(command) => cmd::dip::command(command),
        Command::Columns(args) => cmd::columns::command(args),
    };
    report(outcome)
}

/// The one place an outcome becomes an exit code: an error is printed on
/// standard error and exits with [`exit_code`]. When the reader of the output
/// went away (`drg group big.csv | head -1`), drg ends quietly with exit 0.
fn report(outcome: cmd::Outcome) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(_) if cmd::output_closed() => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("drg: error: {failure}");
            ExitCode::from(exit_code(&failure))
        }
    }
}

/// The exit code of a failure, from the kind of error. Every error exits 2
/// whatever its kind (0 is done; 1 is a "no" that is the command's answer,
/// such as an unknown code in `drg code lookup` or a refused pack in `drg
/// pack check`), as docs/behaviour.md says and scripts test. A kind that
/// needs its own code gets it here, and only here.
fn exit_code(failure: &cmd::Failure) -> u8 {
    use drg_core::ErrorKind;
    match failure.kind() {
        Some(ErrorKind::Pack | ErrorKind::Input | ErrorKind::Policy | ErrorKind::Dip) => 2,
        // drg-core's kinds are non-exhaustive: a new one is an error too.
        Some(_) => 2,
        None => 2,
    }
}

/// glibc serves a block of 128 kB or more with its own mapping, returned to
/// the system when freed, but raises that threshold to the size of each such
/// block freed: after a large block is freed once, later ones of that size
/// (batches of rows, output buffers) come from the heap, where freed memory
/// stays with the process. The duplicate-id check's filters, once the worst
/// of these, are now made of equal pages (drg_core::ids); with the threshold
/// fixed too, ten million rows peak about 1 MB lower (docs/performance.md,
/// "Memory at ten million rows").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}

/// `println!` panics when standard output is a closed pipe (Rust ignores
/// SIGPIPE, so the write fails with EPIPE). Such a panic is no bug: it ends
/// drg quietly with exit 0, like `head` closing the pipe ends any Unix tool.
/// Every other panic is reported as usual.
fn end_quietly_on_closed_output() {
    let report_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        if message.is_some_and(|m| m.starts_with("failed printing to stdout") && m.contains("Broken pipe")) {
            std::process::exit(0);
        }
        report_panic(info);
    }));
}
