//! `drg`: group discharges into CHS-DRG groups from the command line.
//!
//! A thin layer over drg-core: it reads files, calls the engine and prints.
//! No grouping rule lives here.

mod group;
mod points;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use drg_core::io::CsvCases;
use drg_core::{Case, GroupOptions, Grouper, Pack, Vocabulary};

use group::{InputFormat, OutputFormat, Settings};

#[derive(Parser)]
#[command(name = "drg", version, about = "Group inpatient discharges into CHS-DRG groups from rule packs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Group every case of a CSV or JSONL file (or - for standard input).
    Group(GroupArgs),
    /// Group one case and print the trail of rules tried.
    Explain(ExplainArgs),
    /// Look up codes in a pack's vocabularies.
    #[command(subcommand)]
    Code(CodeCommand),
    /// Check a rule pack.
    #[command(subcommand)]
    Pack(PackCommand),
    /// DRG points (点数法): base points, case points, settlement.
    #[command(subcommand)]
    Points(PointsCommand),
}

#[derive(Args)]
struct PolicyArg {
    /// The policy file (TOML; specs/points.md).
    #[arg(long, value_name = "POLICY")]
    policy: PathBuf,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct WeightsSource {
    /// Historical cases to calibrate from (grouped, or grouped here with --pack).
    #[arg(long, value_name = "HISTORY.csv")]
    history: Option<PathBuf>,
    /// A weights table in the format of `drg points calibrate` instead.
    #[arg(long, value_name = "WEIGHTS.csv")]
    weights: Option<PathBuf>,
}

#[derive(Subcommand)]
enum PointsCommand {
    /// All three steps: writes weights.csv, case_points.csv, settlement.csv and period.csv.
    Run {
        #[command(flatten)]
        policy: PolicyArg,
        #[arg(long, value_name = "HISTORY.csv")]
        history: PathBuf,
        #[arg(long, value_name = "PERIOD.csv")]
        period: PathBuf,
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        #[command(flatten)]
        pack: PackChoice,
    },
    /// Base points of every DRG from historical cases (weights.csv).
    Calibrate {
        #[command(flatten)]
        policy: PolicyArg,
        #[arg(long, value_name = "HISTORY.csv")]
        history: PathBuf,
        /// Where to write weights.csv (default: standard output).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
    },
    /// The points of every case of a period (case_points.csv).
    Score {
        #[command(flatten)]
        policy: PolicyArg,
        #[command(flatten)]
        weights: WeightsSource,
        #[arg(long, value_name = "PERIOD.csv")]
        period: PathBuf,
        /// Where to write case_points.csv (default: standard output).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
    },
    /// A period's settlement (settlement.csv and period.csv).
    Settle {
        #[command(flatten)]
        policy: PolicyArg,
        #[command(flatten)]
        weights: WeightsSource,
        #[arg(long, value_name = "PERIOD.csv")]
        period: PathBuf,
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        #[command(flatten)]
        pack: PackChoice,
    },
}

#[derive(Args, Clone)]
struct PackChoice {
    /// The rule pack: a drgpack/1 directory or a compiled pack file.
    /// Default: $DRG_PACK, else the built-in demo pack.
    #[arg(long, value_name = "PATH")]
    pack: Option<PathBuf>,
}

#[derive(Args)]
struct GroupArgs {
    #[command(flatten)]
    pack: PackChoice,
    /// Where to write the results (default: standard output).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// The format of the results.
    #[arg(long, value_enum, default_value = "csv")]
    format: OutputFormat,
    /// The format of the input.
    #[arg(long, value_enum, default_value = "auto")]
    input_format: InputFormat,
    /// Add a `trace` column with the rules tried.
    #[arg(long)]
    explain: bool,
    /// Translate legacy codes through the pack's code maps first.
    #[arg(long)]
    translate_codes: bool,
    /// The input's text encoding: utf-8, or gbk (GBK/GB18030, common in HIS
    /// exports).
    #[arg(long, value_enum, default_value = "utf-8")]
    encoding: Encoding,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Print nothing on standard error (no progress line, no summary).
    #[arg(short, long)]
    quiet: bool,
    /// The cases: a CSV or JSONL file, or - for standard input.
    input: String,
}

/// A text encoding of input files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Encoding {
    #[value(name = "utf-8")]
    Utf8,
    Gbk,
}

#[derive(Args)]
struct ExplainArgs {
    #[command(flatten)]
    pack: PackChoice,
    /// The case as a JSON object (field names of specs/cases.md), @FILE for a
    /// file holding one, or - for standard input.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["input", "id"])]
    case: Option<String>,
    /// A CSV file of cases; explain the one named by --id.
    #[arg(long, value_name = "FILE", requires = "id")]
    input: Option<PathBuf>,
    /// The id of the case to explain in --input.
    #[arg(long, value_name = "ID", requires = "input")]
    id: Option<String>,
    /// Translate legacy codes through the pack's code maps first.
    #[arg(long)]
    translate_codes: bool,
}

#[derive(Subcommand)]
enum CodeCommand {
    /// Everything the pack knows of some codes: name, CC/MCC level, lists.
    Lookup {
        #[command(flatten)]
        pack: PackChoice,
        #[arg(required = true, value_name = "CODE")]
        codes: Vec<String>,
    },
    /// Codes whose name contains TEXT (or whose code begins with it).
    Search {
        #[command(flatten)]
        pack: PackChoice,
        /// At most this many results.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        text: String,
    },
}

#[derive(Subcommand)]
enum PackCommand {
    /// Load and validate a pack (a directory or a compiled file), and print what it holds.
    Check { path: PathBuf },
    /// Compile a pack directory into one versioned, checksummed file that opens in milliseconds.
    Compile {
        /// The pack directory (or a compiled pack, to rewrite it).
        path: PathBuf,
        /// The file to write, e.g. chs-drg-1.1.drgpack.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Group(args) => cmd_group(args),
        Command::Explain(args) => cmd_explain(args),
        Command::Code(CodeCommand::Lookup { pack, codes }) => cmd_lookup(&pack, &codes),
        Command::Code(CodeCommand::Search { pack, limit, text }) => cmd_search(&pack, &text, limit),
        Command::Pack(PackCommand::Check { path }) => cmd_pack_check(&path),
        Command::Pack(PackCommand::Compile { path, output }) => cmd_pack_compile(&path, &output),
        Command::Points(command) => cmd_points(command),
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("drg: error: {message}");
            ExitCode::from(2)
        }
    }
}

type Outcome = Result<ExitCode, String>;

/// `--pack`, else `$DRG_PACK`, else the built-in demo pack.
fn load_pack(choice: &PackChoice) -> Result<Pack, String> {
    let path = choice.pack.clone().or_else(|| std::env::var_os("DRG_PACK").filter(|v| !v.is_empty()).map(PathBuf::from));
    match path {
        Some(path) => Pack::open(&path).map_err(|e| e.to_string()),
        None => Ok(Pack::demo()),
    }
}

/// Opens an input file (or `-`, standard input) as UTF-8 text: GBK is
/// decoded with `--encoding gbk`; otherwise an input whose first megabyte is
/// not UTF-8 is refused, naming the encoding it looks like. (A GBK file can
/// pass for UTF-8 cell by cell — 女 in GBK is Ů in UTF-8 — so the check is
/// made on the whole start of the file, not per cell.)
fn open_input(input: &str, encoding: Encoding) -> Result<Box<dyn BufRead>, String> {
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

fn cmd_group(args: GroupArgs) -> Outcome {
    let pack = load_pack(&args.pack)?;
    let pack_label = format!("{} ({})", pack.info().name, pack.info().id);
    let grouper = Grouper::with_options(Arc::new(pack), GroupOptions { translate_codes: args.translate_codes });
    let mut input = open_input(&args.input, args.encoding)?;
    let json = match args.input_format {
        InputFormat::Csv => false,
        InputFormat::Jsonl => true,
        InputFormat::Auto => {
            let ext = Path::new(&args.input).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            match ext.as_str() {
                "jsonl" | "ndjson" | "json" => true,
                "csv" => false,
                _ => group::sniff_json(&mut input).map_err(|e| format!("{}: {e}", args.input))?,
            }
        }
    };
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => Box::new(std::io::stdout()),
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // A progress line when a person watches: standard error is a terminal.
    let progress = (!args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| (args.input != "-").then(|| std::fs::metadata(&args.input).ok().map(|m| m.len())).flatten());
    let settings = Settings { format: args.format, explain: args.explain, threads, progress };
    let (tally, seconds) = group::run(&grouper, input, json, out, &settings).map_err(|e| format!("{}: {e}", args.input))?;
    if !args.quiet {
        eprintln!("drg group: {} with {pack_label}", tally.summary(seconds));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_case_json(text: &str) -> Result<Case, String> {
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

fn find_case_in_csv(path: &Path, id: &str) -> Result<Case, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = CsvCases::new(BufReader::new(file)).map_err(|e| format!("{}: {e}", path.display()))?;
    for row in reader {
        let row = row.map_err(|e| format!("{}: {e}", path.display()))?;
        match row.case {
            Ok(case) if case.id == id => return Ok(case),
            Err(e) if e.id == id => return Err(format!("{}: case {id} cannot be read: {}", path.display(), e.reason)),
            _ => {}
        }
    }
    Err(format!("{}: no case with id {id}", path.display()))
}

fn cmd_explain(args: ExplainArgs) -> Outcome {
    let case = match (&args.case, &args.input, &args.id) {
        (Some(json), _, _) => read_case_json(json)?,
        (None, Some(path), Some(id)) => find_case_in_csv(path, id)?,
        _ => return Err("give the case with --case JSON, or with --input FILE --id ID".into()),
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
        Ok(())
    };
    print().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_lookup(choice: &PackChoice, codes: &[String]) -> Outcome {
    let pack = load_pack(choice)?;
    let mut out = std::io::stdout().lock();
    let mut all_known = true;
    for raw in codes {
        let Some(found) = pack.lookup(raw) else {
            writeln!(out, "{raw:?}: not a code").map_err(|e| e.to_string())?;
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
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
        }
    }
    Ok(if all_known { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn cmd_search(choice: &PackChoice, text: &str, limit: usize) -> Outcome {
    let pack = load_pack(choice)?;
    let hits = pack.search(text);
    let mut out = std::io::stdout().lock();
    for hit in hits.iter().take(limit) {
        writeln!(out, "{}\t{}\t{}", hit.code, hit.vocabulary.as_str(), hit.name).map_err(|e| e.to_string())?;
    }
    if hits.len() > limit {
        eprintln!("… {} more (use --limit)", hits.len() - limit);
    }
    Ok(if hits.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn cmd_pack_compile(path: &Path, output: &Path) -> Outcome {
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

fn cmd_pack_check(path: &Path) -> Outcome {
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

fn load_policy(arg: &PolicyArg) -> Result<drg_core::points::Policy, String> {
    drg_core::points::Policy::load(&arg.policy).map_err(|e| e.to_string())
}

/// The weights from a history file (calibrated here) or a weights table.
fn weights_from(
    policy: &drg_core::points::Policy,
    source: &WeightsSource,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
) -> Result<drg_core::points::Weights, String> {
    match (&source.history, &source.weights) {
        (Some(history), _) => {
            let input = points::read_cases(history, grouper)?;
            points::calibrate(policy, history, &input)
        }
        (None, Some(weights)) => points::read_weights(weights),
        (None, None) => Err("give --history or --weights".into()),
    }
}

fn settle_into(policy: &drg_core::points::Policy, scored: &[Scored], out_dir: &Path) -> Result<(), String> {
    let settlement = drg_core::points::settle(policy, scored).map_err(|e| e.to_string())?;
    points::write(&out_dir.join("settlement.csv"), &drg_core::points::settlement_csv(&settlement))?;
    points::write(&out_dir.join("period.csv"), &drg_core::points::period_csv(&settlement))?;
    let p = &settlement.period;
    eprintln!(
        "drg points: {} cases, {} points, pool {} yuan, point value {} yuan/point, {} hospitals",
        scored.len(),
        drg_core::points::fixed(p.points, 4),
        drg_core::points::fixed(p.pool, 2),
        drg_core::points::fixed(p.point_value, 6),
        settlement.hospitals.len()
    );
    Ok(())
}

/// The policy, the weights (from history or a table) and the period's cases
/// scored with them: what `run`, `score` and `settle` share.
fn score_period(
    policy: &PolicyArg,
    weights: &WeightsSource,
    period: &Path,
    pack: PackChoice,
) -> Result<(drg_core::points::Policy, drg_core::points::Weights, Vec<Scored>), String> {
    let policy = load_policy(policy)?;
    let mut grouper = lazy_grouper(pack);
    let weights = weights_from(&policy, weights, &mut grouper)?;
    let input = points::read_cases(period, &mut grouper)?;
    let scored = points::score_all(&policy, &weights, period, input);
    Ok((policy, weights, scored))
}

type Scored = (drg_core::points::PointsCase, drg_core::points::CaseScore);

fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn cmd_points(command: PointsCommand) -> Outcome {
    use drg_core::points::{case_points_csv, weights_csv};
    match command {
        PointsCommand::Run { policy, history, period, out_dir, pack } => {
            let source = WeightsSource { history: Some(history), weights: None };
            let (policy, weights, scored) = score_period(&policy, &source, &period, pack)?;
            create_dir(&out_dir)?;
            points::write(&out_dir.join("weights.csv"), &weights_csv(&weights))?;
            points::write(&out_dir.join("case_points.csv"), &case_points_csv(&scored))?;
            settle_into(&policy, &scored, &out_dir)?;
        }
        PointsCommand::Calibrate { policy, history, output, pack } => {
            let policy = load_policy(&policy)?;
            let source = WeightsSource { history: Some(history), weights: None };
            let weights = weights_from(&policy, &source, &mut lazy_grouper(pack))?;
            points::write_or_print(output.as_ref(), &weights_csv(&weights))?;
        }
        PointsCommand::Score { policy, weights, period, output, pack } => {
            let (_, _, scored) = score_period(&policy, &weights, &period, pack)?;
            points::write_or_print(output.as_ref(), &case_points_csv(&scored))?;
        }
        PointsCommand::Settle { policy, weights, period, out_dir, pack } => {
            let (policy, _, scored) = score_period(&policy, &weights, &period, pack)?;
            create_dir(&out_dir)?;
            settle_into(&policy, &scored, &out_dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The pack is loaded only when a file has rows to group.
fn lazy_grouper(choice: PackChoice) -> impl FnMut() -> Result<Grouper, String> {
    move || Ok(Grouper::new(Arc::new(load_pack(&choice)?)))
}
