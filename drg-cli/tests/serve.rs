//! `drg serve` as a process: starts, answers like `drg group`, and on
//! SIGTERM finishes what is in flight and exits 0.

#[path = "../../drg-serve/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{connect, get, head, metric, post, read_reply};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Starts `drg serve` on a free port; its address, read from its first line.
fn start(extra: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drg"))
        .env_remove("DRG_PACK")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Warnings (of a DIP policy) may come before the line with the address.
    let mut line = String::new();
    let mut stderr = BufReader::new(child.stderr.as_mut().unwrap());
    while !line.contains("http://") {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
    }
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args(["-s", name, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn wait(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("drg serve did not stop within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The example cases as NDJSON through the service give byte for byte what
/// `drg group --format jsonl` prints.
#[test]
fn batch_answers_exactly_like_drg_group() {
    let cases = workspace().join("examples/cases.csv");
    let mut reader = csv::Reader::from_path(&cases).unwrap();
    let header = reader.headers().unwrap().clone();
    let mut ndjson = String::new();
    for record in reader.records() {
        let record = record.unwrap();
        let object: serde_json::Map<String, serde_json::Value> =
            header.iter().zip(record.iter()).map(|(k, v)| (k.to_string(), v.into())).collect();
        ndjson.push_str(&serde_json::to_string(&object).unwrap());
        ndjson.push('\n');
    }
    let mut group = Command::new(env!("CARGO_BIN_EXE_drg"))
        .env_remove("DRG_PACK")
        .args(["group", "-q", "--format", "jsonl", "--explain", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Written on its own thread while the output is read (see cli.rs's
    // run_with_stdin: both pipes can fill).
    let mut pipe = group.stdin.take().unwrap();
    let input = ndjson.clone().into_bytes();
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let expected = group.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(expected.status.success());
    assert!(!expected.stdout.is_empty());

    let (mut child, addr) = start(&[]);
    let reply = post(addr, "/v1/group/batch?explain=true", &ndjson);
    assert_eq!(reply.status, 200);
    assert_eq!(String::from_utf8(reply.body).unwrap(), String::from_utf8(expected.stdout).unwrap());
    signal(&child, "INT");
    assert!(wait(&mut child, Duration::from_secs(10)).success());
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    let (mut child, addr) = start(&["--timeout", "20"]);
    let case = r#"{"id":"T1","sex":"2","age_years":50,"diagnoses":["K35.800"],"procedures":["47.0901"]}"#;
    let mut in_flight = connect(addr);
    in_flight.write_all(&head("POST", "/v1/group", &[("Content-Length", case.len().to_string())])).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&get(addr, "/metrics").text(), "drg_http_requests_in_flight") != Some(2.0) {
        assert!(Instant::now() < deadline, "the request never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "drg serve left with a request in flight");
    in_flight.write_all(case.as_bytes()).unwrap();
    let reply = read_reply(&mut in_flight);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["id"], "T1");
    let status = wait(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");
}

#[test]
fn bad_options_are_refused() {
    for args in [
        &["--max-body", "lots"][..],
        &["--timeout", "0"],
        &["--pack", "/nonexistent/pack"],
        &["--weights", "/nonexistent.csv"],
        &["--catalogue", "/nonexistent.csv"],
        &["--catalogue", "/nonexistent.csv", "--policy", "/nonexistent.toml"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_drg"))
            .env_remove("DRG_PACK")
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("error"), "{args:?}");
    }
}

/// With --catalogue and --policy, `POST /v1/dip/group?explain=true` answers
/// what `drg dip explain --json` prints for the same case.
#[test]
fn dip_over_http_is_drg_dip_explain() {
    let shared = workspace().join("../shared");
    let dip = shared.join("testdata/dip");
    let pack = shared.join("rulepacks/chs-drg-1.1");
    let (policy, catalogue) = (dip.join("policy.toml"), dip.join("expected/catalogue.csv"));
    let paths = [pack.to_str().unwrap(), policy.to_str().unwrap(), catalogue.to_str().unwrap()];
    let (mut child, addr) = start(&["--pack", paths[0], "--policy", paths[1], "--catalogue", paths[2]]);
    let case = r#"{"id":"x","sex":"1","age_years":60,"total_cost":9000,"hospital_level":"3","diagnoses":"C15.900|J18.900","procedures":""}"#;
    let reply = post(addr, "/v1/dip/group?explain=true", case);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let explained = Command::new(env!("CARGO_BIN_EXE_drg"))
        .args(["dip", "explain", "--json", "--pack", paths[0], "--policy", paths[1], "--catalogue", paths[2], "--case", case])
        .output()
        .unwrap();
    assert!(explained.status.success(), "{}", String::from_utf8_lossy(&explained.stderr));
    let expected: serde_json::Value = serde_json::from_slice(&explained.stdout).unwrap();
    assert_eq!(reply.json(), expected);
    assert_eq!(expected["group"], "C15#C");
    signal(&child, "TERM");
    assert!(wait(&mut child, Duration::from_secs(20)).success());
}
