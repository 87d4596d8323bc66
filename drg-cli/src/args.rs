//! The command line: clap types only. Each command's handler is in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "drg", version, about = "Group inpatient discharges into CHS-DRG groups from rule packs")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// DRG indicators (CMI, cost and time index, low-risk mortality, RIV):
    /// writes drgs.csv, hospitals.csv, scheme.csv and report.html.
    Report(ReportArgs),
    /// Serve grouping over HTTP (JSON API, /metrics) and a page for coders.
    Serve(ServeArgs),
    /// DIP (按病种分值付费): catalogue, grouping, scores, settlement.
    #[command(subcommand)]
    Dip(DipCommand),
    /// Show how each header of a file of cases is understood (field, alias,
    /// wide code column, carried through).
    Columns(ColumnsArgs),
}

/// How every command reads a file of cases (specs/columns.md): flattened
/// into each command that reads one, so that all take the same options.
#[derive(Args, Clone)]
pub struct InputArgs {
    /// The format of the input.
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormat,
    /// The input's text encoding (CSV, JSON): utf-8, or gbk (GBK/GB18030,
    /// common in HIS exports).
    #[arg(long, value_enum, default_value = "utf-8")]
    pub encoding: Encoding,
    /// The worksheet of an .xlsx input (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// A mapping file (TOML) giving local column names.
    #[arg(long, value_name = "MAP.toml")]
    pub columns: Option<PathBuf>,
}

#[derive(Args)]
pub struct ColumnsArgs {
    #[command(flatten)]
    pub read: InputArgs,
    /// A file of cases: CSV, JSONL or .xlsx.
    pub input: String,
}

#[derive(Args)]
pub struct PolicyArg {
    /// The policy file (TOML; specs/points.md).
    #[arg(long, value_name = "POLICY")]
    pub policy: PathBuf,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct WeightsSource {
    /// Historical cases to calibrate from (grouped, or grouped here with --pack).
    #[arg(long, value_name = "HISTORY.csv")]
    pub history: Option<PathBuf>,
    /// A weights table in the format of `drg points calibrate` instead.
    #[arg(long, value_name = "WEIGHTS.csv")]
    pub weights: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum PointsCommand {
    /// All three steps: writes weights.csv, case_points.csv, settlement.csv and
    /// period.csv; with per-diem categories perdiem.csv; with discharge dates
    /// monthly.csv and clearing.csv (specs/perdiem.md).
    Run {
        #[command(flatten)]
        policy: PolicyArg,
        #[arg(long, value_name = "HISTORY.csv")]
        history: PathBuf,
        #[arg(long, value_name = "PERIOD.csv")]
        period: PathBuf,
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        /// Hospitals' assessment scores (`hospital, score`, 0–100) for the
        /// policy's [assessment] coefficients.
        #[arg(long, value_name = "SCORES.csv")]
        scores: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
        #[command(flatten)]
        input: CaseFileArgs,
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
        /// Where to write the per-diem bed-day points (perdiem.csv), for a
        /// policy with [perdiem].
        #[arg(long, value_name = "PERDIEM.csv")]
        perdiem_output: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
        #[command(flatten)]
        input: CaseFileArgs,
    },
    /// The points of every case of a period (case_points.csv).
    Score {
        #[command(flatten)]
        policy: PolicyArg,
        #[command(flatten)]
        weights: WeightsSource,
        /// The per-diem bed-day points (perdiem.csv) to go with --weights.
        #[arg(long, value_name = "PERDIEM.csv", requires = "weights")]
        perdiem: Option<PathBuf>,
        #[arg(long, value_name = "PERIOD.csv")]
        period: PathBuf,
        /// Where to write case_points.csv (default: standard output).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
        #[command(flatten)]
        input: CaseFileArgs,
    },
    /// A period's settlement (settlement.csv and period.csv).
    Settle {
        #[command(flatten)]
        policy: PolicyArg,
        #[command(flatten)]
        weights: WeightsSource,
        /// The per-diem bed-day points (perdiem.csv) to go with --weights.
        #[arg(long, value_name = "PERDIEM.csv", requires = "weights")]
        perdiem: Option<PathBuf>,
        #[arg(long, value_name = "PERIOD.csv")]
        period: PathBuf,
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        /// Hospitals' assessment scores (`hospital, score`, 0–100).
        #[arg(long, value_name = "SCORES.csv")]
        scores: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
        #[command(flatten)]
        input: CaseFileArgs,
    },
}

#[derive(Args, Clone)]
pub struct PackChoice {
    /// The rule pack: the id of a bundled pack (`drg pack list`, e.g.
    /// chs-drg-1.1, wuhan-2022, demo), or a drgpack/1 directory or compiled
    /// pack file (an existing path wins; an id never contains `/`).
    /// Default: $DRG_PACK, else chs-drg-2.0.
    #[arg(long, value_name = "ID|PATH")]
    pub pack: Option<std::ffi::OsString>,
}

#[derive(Args)]
pub struct GroupArgs {
    #[command(flatten)]
    pub pack: PackChoice,
    /// Where to write the results (default: standard output).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// The format of the results.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutputFormat,
    /// Add a `trace` column with the rules tried.
    #[arg(long)]
    pub explain: bool,
    /// Translate legacy codes through the pack's code maps first.
    #[arg(long)]
    pub translate_codes: bool,
    /// Threads that group, the reading thread among them (default: every core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing on standard error (no progress line, no summary).
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub read: InputArgs,
    /// Only show how each header is understood; group nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The cases: a CSV, JSONL or .xlsx file, or - for standard input.
    pub input: String,
}

/// A text encoding of input files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    #[value(name = "utf-8")]
    Utf8,
    Gbk,
}

#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub pack: PackChoice,
    /// The case as a JSON object (field names of specs/cases.md), @FILE for a
    /// file holding one, or - for standard input.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["input", "id"])]
    pub case: Option<String>,
    /// A file of cases (CSV, JSONL, .xlsx); explain the one named by --id.
    #[arg(long, value_name = "FILE", requires = "id")]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub read: InputArgs,
    /// The id of the case to explain in --input.
    #[arg(long, value_name = "ID", requires = "input")]
    pub id: Option<String>,
    /// Translate legacy codes through the pack's code maps first.
    #[arg(long)]
    pub translate_codes: bool,
    /// A points policy (specs/points.md, perdiem.md): also say whether the
    /// case is paid by the bed-day, and why or why not.
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum CodeCommand {
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
pub enum PackCommand {
    /// The packs bundled with drg: id, name, MDC/ADRG/DRG counts, provenance.
    List,
    /// What a pack (bundled id or path) is: name, description, counts, provenance.
    Info {
        #[arg(value_name = "ID|PATH")]
        pack: std::ffi::OsString,
    },
    /// Print where the bundled packs come from (NOTICE) and the OpenDRG licence.
    Notice,
    /// What a change of scheme does to cases: each case under OLD and NEW
    /// (cases.csv), the transitions (transitions.csv), each hospital's CMI
    /// under both with weights (hospitals.csv), and a summary.
    Diff(PackDiffArgs),
    /// Load and validate a pack (a directory, a compiled file or a bundled id), and print what it holds.
    Check {
        #[arg(value_name = "ID|PATH")]
        path: std::ffi::OsString,
    },
    /// Compile a pack directory into one versioned, checksummed file that opens in milliseconds.
    Compile {
        /// The pack directory (or a compiled pack, to rewrite it, or a bundled id).
        #[arg(value_name = "ID|PATH")]
        path: std::ffi::OsString,
        /// The file to write, e.g. chs-drg-1.1.drgpack.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Jsonl,
    /// An Excel workbook (needs -o FILE); chosen too by an -o ending in .xlsx.
    Xlsx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// CSV when the input looks like it, JSON when it starts with `{` or `[`.
    Auto,
    Csv,
    /// One JSON object a line, or one JSON array.
    Jsonl,
    /// An Excel workbook (.xlsx): the first sheet, or --sheet.
    Xlsx,
}


#[derive(Args)]
pub struct ReportArgs {
    /// The weights table (RW of each DRG), as `drg points calibrate` writes it.
    #[arg(long, value_name = "WEIGHTS.csv")]
    pub weights: PathBuf,
    /// Groups the cases first when the file has no status and drg columns.
    #[command(flatten)]
    pub pack: PackChoice,
    /// One row per hospital (default), or per hospital and department.
    #[arg(long, value_enum, default_value = "hospital")]
    pub by: ReportBy,
    /// Grade the DRGs' mortality risk on these cases (a benchmark period)
    /// instead of on the input itself.
    #[arg(long, value_name = "CASES.csv")]
    pub risk_from: Option<PathBuf>,
    #[command(flatten)]
    pub read: InputArgs,
    /// Threads that group, the reading thread among them (default: every core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The directory to write the four files into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// The cases: a CSV, JSONL or .xlsx file, or - for standard input.
    pub input: String,
}

/// What a row of hospitals.csv is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportBy {
    Hospital,
    Dept,
}

#[derive(Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,
    /// A pack to serve (repeat for several; the first is the default).
    /// Requests choose one by its id (`?pack=ID`). Each is a bundled id
    /// (`drg pack list`) or a path. Default: $DRG_PACK, else chs-drg-2.0.
    #[arg(long = "pack", value_name = "ID|PATH")]
    pub packs: Vec<std::ffi::OsString>,
    /// A weights table (`drg points calibrate`): each DRG is shown with its weight.
    #[arg(long, value_name = "WEIGHTS.csv")]
    pub weights: Option<PathBuf>,
    /// Refuse request bodies larger than this with 413 (e.g. 16MB, 512KB, 1000000).
    #[arg(long, default_value = "16MB", value_name = "SIZE")]
    pub max_body: String,
    /// Answer 503 to a request not answered within this many seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Handle at most this many requests at once; the rest wait their turn.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_in_flight: usize,
    /// Translate legacy codes through the pack's code maps first.
    #[arg(long)]
    pub translate_codes: bool,
    /// A DIP catalogue (`drg dip build`, or a region's published one): with
    /// --policy, enables `POST /v1/dip/group` (keys made with the default pack).
    #[arg(long, value_name = "CATALOGUE.csv", requires = "policy")]
    pub catalogue: Option<PathBuf>,
    /// The DIP policy (TOML; specs/dip.md) to go with --catalogue.
    #[arg(long, value_name = "POLICY.toml", requires = "catalogue")]
    pub policy: Option<PathBuf>,
}

/// How `drg dip` and `drg points` read case files: the reading options of
/// every command, worker threads and quiet.
#[derive(Args, Clone)]
pub struct CaseFileArgs {
    #[command(flatten)]
    pub read: InputArgs,
    /// Threads that group, the reading thread among them (default: every core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing on standard error but errors (no progress, no summary).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct DipPolicyArg {
    /// The DIP policy file (TOML; specs/dip.md).
    #[arg(long, value_name = "POLICY")]
    pub policy: PathBuf,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct CatalogueSource {
    /// Historical cases to build the catalogue from.
    #[arg(long, value_name = "HISTORY")]
    pub history: Option<String>,
    /// A region's published catalogue (the CSV format of `drg dip build`) instead.
    #[arg(long, value_name = "CATALOGUE.csv")]
    pub catalogue: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum DipCommand {
    /// Build the catalogue (目录库) from historical cases: catalogue.csv.
    Build {
        #[command(flatten)]
        policy: DipPolicyArg,
        /// Historical cases: a CSV or JSONL file, or - for standard input.
        #[arg(long, value_name = "HISTORY")]
        history: String,
        /// Where to write catalogue.csv (default: standard output).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
        #[command(flatten)]
        input: CaseFileArgs,
    },
    /// The DIP group of every case (groups.csv): id, status, group, severity, reason.
    Group {
        #[command(flatten)]
        policy: DipPolicyArg,
        /// The catalogue (a published one, or from `drg dip build`).
        #[arg(long, value_name = "CATALOGUE.csv")]
        catalogue: PathBuf,
        /// Where to write the groups (default: standard output).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pack: PackChoice,
        #[command(flatten)]
        input: CaseFileArgs,
        /// The cases: a CSV or JSONL file, or - for standard input.
        cases: String,
    },
    /// Everything: catalogue.csv (from history), groups.csv, case_points.csv,
    /// settlement.csv and period.csv.
    Run {
        #[command(flatten)]
        policy: DipPolicyArg,
        #[command(flatten)]
        source: CatalogueSource,
        /// The period's cases: a CSV or JSONL file, or - for standard input.
        #[arg(long, value_name = "PERIOD")]
        period: String,
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        #[command(flatten)]
        pack: PackChoice,
        #[command(flatten)]
        input: CaseFileArgs,
    },
    /// One case's keys, group and points, and why.
    Explain {
        #[command(flatten)]
        policy: DipPolicyArg,
        #[arg(long, value_name = "CATALOGUE.csv")]
        catalogue: PathBuf,
        #[command(flatten)]
        pack: PackChoice,
        /// The case as a JSON object (field names of specs/cases.md), @FILE
        /// for a file holding one, or - for standard input.
        #[arg(long, value_name = "JSON")]
        case: String,
        /// Print the explanation as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct PackDiffArgs {
    /// The old pack (bundled id or path), e.g. chs-drg-1.1.
    #[arg(value_name = "OLD")]
    pub old: std::ffi::OsString,
    /// The new pack (bundled id or path), e.g. chs-drg-2.0.
    #[arg(value_name = "NEW")]
    pub new: std::ffi::OsString,
    /// The cases: a CSV, JSONL or .xlsx file, or - for standard input.
    #[arg(value_name = "CASES")]
    pub cases: String,
    /// Weights of the old scheme's DRGs (drg, weight columns: the table of
    /// `drg points calibrate`), for each hospital's CMI.
    #[arg(long, value_name = "W")]
    pub weights_old: Option<PathBuf>,
    /// Weights of the new scheme's DRGs.
    #[arg(long, value_name = "W")]
    pub weights_new: Option<PathBuf>,
    /// Where to write cases.csv, transitions.csv and hospitals.csv.
    #[arg(long, value_name = "DIR", default_value = "pack-diff")]
    pub out_dir: PathBuf,
    #[command(flatten)]
    pub read: InputArgs,
    /// Threads that group, the reading thread among them (default: every core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Do not list unreadable rows on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}