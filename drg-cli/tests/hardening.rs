//! Issue 15, second round of hardening, through the binary: size limits on
//! rows, headers and fields; unterminated quotes; an output that is the
//! input; closed pipes; absurd thread counts. Big inputs are generated here
//! and streamed, so each test takes at most a few seconds.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// drg with the demo pack: these tests' cases are written for it (the
/// default, chs-drg-2.0, takes K35.800, a 2.0 gray code, as ungroupable).
fn drg() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drg"));
    cmd.env("DRG_PACK", "demo");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drg-hardening-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn points_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/points");
    assert!(dir.is_dir(), "../shared is missing beside the workspace");
    dir
}

/// Runs `drg group -` with `write` producing standard input on its own thread
/// (it may stop early when drg stops reading).
fn group_streamed(args: &[&str], write: impl FnOnce(&mut dyn Write) + Send + 'static) -> Output {
    let mut child =
        drg().arg("group").args(args).arg("-").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || write(&mut stdin));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

const HEADER: &str = "id,sex,age_years,diagnoses\n";

fn cases(n: usize) -> String {
    let mut s = String::from(HEADER);
    for i in 1..=n {
        s.push_str(&format!("{i},1,30,K35.800\n"));
    }
    s
}

/// Item 2: 300 MB without a newline is refused with the line, the message
/// shows a short prefix only, and memory does not follow the input.
#[test]
fn a_300_mb_line_is_refused_with_its_line_and_a_short_message() {
    for (input_start, line) in [("", 1), ("id,sex,age_years,diagnoses\n1,1,30,K35.800\n2,1,30,", 3)] {
        let start = input_start.to_string();
        let out = group_streamed(&[], move |stdin| {
            let _ = stdin.write_all(start.as_bytes());
            let chunk = vec![b'K'; 1 << 20];
            for _ in 0..300 {
                if stdin.write_all(&chunk).is_err() {
                    return; // drg stopped reading: what the test wants
                }
            }
        });
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("line {line}: ")), "{stderr}");
        assert!(stderr.contains("drg refuses"), "{stderr}");
        assert!(stderr.len() < 400, "the message echoes the input: {} bytes", stderr.len());
        if line == 3 {
            // The row before the long one is written.
            assert!(text(&out.stdout).contains("\n1,grouped,"), "{}", text(&out.stdout));
        }
    }
}

/// Item 2: a long row made of many fields (each below the field limit) is
/// refused at the row limit, naming its line.
#[test]
fn a_row_past_the_row_limit_is_refused() {
    let out = group_streamed(&[], |stdin| {
        let _ = stdin.write_all(b"id,sex,age_years,diagnoses\n1,1,30,K35.800\n");
        let field = format!(",{}", "K".repeat(1 << 20));
        for _ in 0..40 {
            if stdin.write_all(field.as_bytes()).is_err() {
                return;
            }
        }
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 3: a row longer than 33554432 bytes"), "{stderr}");
    assert!(stderr.len() < 400, "{stderr}");
}

/// Item 2: a header line past its limit (no newline in 20 MB of names).
#[test]
fn a_huge_header_is_refused() {
    let out = group_streamed(&[], |stdin| {
        let names: String = (0..3_000_000).map(|i| format!("c{i},")).collect();
        let _ = stdin.write_all(names.as_bytes());
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 1: the header line longer than 16777216 bytes"), "{stderr}");
    assert!(stderr.len() < 400, "{stderr}");
}

/// Item 2: the 10 MB field of the first hardening round is still read.
#[test]
fn a_10_mb_field_is_still_read() {
    let out = group_streamed(&["-q"], |stdin| {
        let _ = stdin.write_all(format!("{HEADER}1,1,30,K35.800|{}\n2,1,30,K35.800\n", "X".repeat(10 << 20)).as_bytes());
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 3);
}

/// Item 3: 100 rows with a quote left open on row 51: refused, naming the
/// line where the quote opened; the 50 rows before it are written.
#[test]
fn an_unterminated_quote_is_refused_naming_where_it_opened() {
    let mut input = String::from(HEADER);
    for i in 1..=100 {
        input.push_str(&format!("{i},1,30,{}K35.800\n", if i == 51 { "\"" } else { "" }));
    }
    let out = group_streamed(&[], move |stdin| {
        let _ = stdin.write_all(input.as_bytes());
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 52: a quote opened here is never closed"), "{stderr}");
    assert_eq!(text(&out.stdout).lines().count(), 51, "the header and the 50 rows before the quote");
}

/// Item 4: the output is the input, directly, through a symbolic link, a
/// hard link, or standard input: refused, and the input is intact.
#[test]
fn the_output_is_never_the_input() {
    let dir = temp_dir("same-file");
    let input = dir.join("x.csv");
    let original = cases(50_000);
    std::fs::write(&input, &original).unwrap();
    std::os::unix::fs::symlink(&input, dir.join("link.csv")).unwrap();
    std::fs::hard_link(&input, dir.join("hard.csv")).unwrap();
    for (from, to) in [("x.csv", "x.csv"), ("x.csv", "link.csv"), ("link.csv", "x.csv"), ("hard.csv", "x.csv")] {
        let out = drg().current_dir(&dir).args(["group", from, "-o", to]).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{from} -o {to}: {stderr}");
        assert!(stderr.contains("this is the input file"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), original, "{from} -o {to} touched the input");
    }
    let out = drg()
        .current_dir(&dir)
        .args(["group", "-", "-o", "x.csv"])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("this is the input file (standard input)"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&input).unwrap(), original);
    // Another file is fine.
    let out = drg().current_dir(&dir).args(["group", "-q", "x.csv", "-o", "out.csv"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("out.csv")).unwrap().lines().count(), 50_001);
}

/// Item 4, points: an output file that is the period, the history, the
/// weights table or the policy is refused before anything is written.
#[test]
fn points_outputs_are_never_inputs() {
    let dir = temp_dir("points-same-file");
    let period = dir.join("period.csv");
    std::fs::copy(points_dir().join("period.csv"), &period).unwrap();
    let original = std::fs::read(&period).unwrap();
    let policy = points_dir().join("policy.toml");
    let history = points_dir().join("history.csv");
    // score -o the period itself.
    let weights = dir.join("weights.csv");
    let out = drg().args(["points", "calibrate", "--policy"]).arg(&policy).arg("--history").arg(&history).arg("-o").arg(&weights).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = drg()
        .args(["points", "score", "--policy"])
        .arg(&policy)
        .arg("--weights")
        .arg(&weights)
        .arg("--period")
        .arg(&period)
        .arg("-o")
        .arg(&period)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("this is the input file"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&period).unwrap(), original);
    // run --out-dir the directory that holds period.csv: period.csv would be
    // overwritten by the report of the same name.
    let out = drg()
        .args(["points", "run", "--policy"])
        .arg(&policy)
        .arg("--history")
        .arg(&history)
        .arg("--period")
        .arg(&period)
        .arg("--out-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&period).unwrap(), original);
}

/// Item 13: a closed pipe ends drg quietly, exit 0, for every command that
/// prints.
#[test]
fn a_closed_pipe_ends_drg_quietly() {
    let dir = temp_dir("pipe");
    let input = dir.join("big.csv");
    std::fs::write(&input, cases(200_000)).unwrap();
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../drg-core/demo-pack");
    let runs: Vec<Vec<String>> = vec![
        vec!["group".into(), input.display().to_string()],
        vec!["group".into(), "--format".into(), "jsonl".into(), input.display().to_string()],
        vec!["pack".into(), "check".into(), demo.display().to_string()],
        vec!["code".into(), "lookup".into(), "K35.800".into()],
        vec!["explain".into(), "--case".into(), r#"{"id":"1","sex":1,"age_years":30,"diagnoses":["K35.800"]}"#.into()],
    ];
    for args in runs {
        // The reader closes the pipe before drg writes anything.
        let mut child = drg().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "drg {args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe") && !stderr.contains("panicked"), "drg {args:?}: {stderr}");
    }
    // `| head -1`: one line read, then the pipe closes while drg writes.
    let mut child = drg().arg("group").arg(&input).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = [0u8; 64];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

/// Item 14: an absurd thread count is clamped, said on standard error, and
/// every row is grouped; 0 keeps its meaning (one worker), a negative count
/// is still refused by the argument parser.
#[test]
fn absurd_thread_counts_are_clamped() {
    let input = cases(5_000);
    for threads in ["40000", "18446744073709551615"] {
        let input = input.clone();
        let out = group_streamed(&["--threads", threads], move |stdin| {
            let _ = stdin.write_all(input.as_bytes());
        });
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "--threads {threads}: {stderr}");
        assert!(stderr.contains(&format!("{threads} threads asked for; using 256")), "{stderr}");
        assert_eq!(text(&out.stdout).lines().count(), 5_001);
    }
    let out = group_streamed(&["--threads", "0", "-q"], move |stdin| {
        let _ = stdin.write_all(input.as_bytes());
    });
    assert!(out.status.success() && out.stderr.is_empty(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 5_001);
    let out = drg().args(["group", "--threads", "-1", "-"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Items 2–3 for the points readers: an unterminated quote in a period file
/// is refused with its line.
#[test]
fn points_files_are_read_with_the_same_limits() {
    let dir = temp_dir("points-quote");
    let period = dir.join("period.csv");
    let mut text_in = std::fs::read_to_string(points_dir().join("period.csv")).unwrap();
    text_in.push_str("X1,H1,\"3,GC25,grouped,1000\n");
    std::fs::write(&period, &text_in).unwrap();
    let lines = text_in.lines().count();
    let out = drg()
        .args(["points", "run", "--policy"])
        .arg(points_dir().join("policy.toml"))
        .arg("--history")
        .arg(points_dir().join("history.csv"))
        .arg("--period")
        .arg(&period)
        .arg("--out-dir")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("line {lines}: a quote opened here is never closed")), "{stderr}");
}

/// Item 2 for JSONL: a line past the limit is refused with its line; the
/// objects before it are written.
#[test]
fn a_huge_jsonl_line_is_refused() {
    let out = group_streamed(&["--input-format", "jsonl"], |stdin| {
        let _ = stdin.write_all(b"{\"id\":\"1\",\"sex\":1,\"age_years\":30,\"diagnoses\":\"K35.800\"}\n{\"id\":\"");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..40 {
            if stdin.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 2: a line longer than 33554432 bytes"), "{stderr}");
    assert!(stderr.len() < 400, "{stderr}");
    assert!(text(&out.stdout).contains("\n1,grouped,"), "{}", text(&out.stdout));
}
