//! Every route and every safeguard of the service, over real sockets on
//! 127.0.0.1 with ephemeral ports.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use common::{connect, get as http_get, head, metric, post, read_reply};
use drg_core::Pack;
use drg_serve::ServeOptions;
use serde_json::{json, Value};

/// A service running on its own runtime in a thread.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(packs: Vec<(String, Arc<Pack>)>, options: ServeOptions, extra: Router) -> Server {
        let app = drg_serve::router_with(packs, options, extra).expect("router");
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                drg_serve::serve(listener, app, async { let _ = stopped.await; }, Duration::from_secs(10)).await.unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Server { addr, stop: Some(stop), thread: Some(thread) }
    }

    fn demo(options: ServeOptions) -> Server {
        Server::start(vec![("drg-demo".into(), Arc::new(Pack::demo()))], options, Router::new())
    }

    /// Asks the service to stop, and waits until it has.
    fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn shared() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(dir.join("README.md").is_file(), "../shared is missing beside the workspace");
    dir
}

const APPENDICITIS: &str = r#"{"id":"A1","sex":"1","age_years":30,"diagnoses":["K35.800","E11.900"],"procedures":["47.0901"],"ward":"3B"}"#;

#[test]
fn health_and_packs() {
    let demo = Arc::new(Pack::demo());
    let server = Server::start(
        vec![("drg-demo".into(), Arc::clone(&demo)), ("second".into(), demo)],
        ServeOptions::default(),
        Router::new(),
    );
    let health = http_get(server.addr, "/health");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["packs"], json!(["drg-demo", "second"]));

    let packs = http_get(server.addr, "/v1/packs");
    assert_eq!(packs.status, 200);
    assert_eq!(packs.header("content-type"), Some("application/json"));
    let body = packs.json();
    assert_eq!(body["weights"], false);
    assert_eq!(body["packs"][0]["id"], "drg-demo");
    assert_eq!(body["packs"][0]["default"], true);
    assert_eq!(body["packs"][1]["id"], "second");
    assert_eq!(body["packs"][1]["default"], false);
    assert_eq!(body["packs"][0]["drgs"], Pack::demo().info().counts.drg);

    let typo = http_get(server.addr, "/v1/packs?pak=x");
    assert_eq!(typo.status, 400);
    assert_eq!(typo.json()["field"], "pak");
}

#[test]
fn one_case_is_the_json_of_drg_group() {
    let server = Server::demo(ServeOptions::default());
    let reply = post(server.addr, "/v1/group", APPENDICITIS);
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The same bytes as a line of `drg group --format jsonl` (less the newline).
    let object: serde_json::Map<String, Value> = serde_json::from_str(APPENDICITIS).unwrap();
    let (case, extra) = drg_core::Case::from_json_object(&object).unwrap();
    let grouper = drg_core::Grouper::new(Arc::new(Pack::demo()));
    let mut line = Vec::new();
    grouper.group(&case).write_json_line(&case.id, &extra, &mut line);
    assert_eq!(reply.body, line[..line.len() - 1]);
    let result = reply.json();
    assert_eq!(result["status"], "grouped");
    assert_eq!(result["ward"], "3B", "unknown keys are carried through");
    assert!(result.get("trace").is_none());

    let explained = post(server.addr, "/v1/group?explain=true&pack=drg-demo", APPENDICITIS).json();
    let trace = explained["trace"].as_array().expect("a trace");
    assert!(trace.iter().any(|s| s["held"] == true && s["text"].as_str().unwrap().contains(result["drg"].as_str().unwrap())));

    let bad_flag = post(server.addr, "/v1/group?explain=perhaps", APPENDICITIS);
    assert_eq!((bad_flag.status, bad_flag.json()["field"].clone()), (400, json!("explain")));
}

#[test]
fn bad_input_is_400_naming_the_field() {
    let server = Server::demo(ServeOptions::default());
    let bad_age = post(server.addr, "/v1/group", r#"{"id":"x","sex":"1","age_years":"thirty","diagnoses":["K35.800"]}"#);
    assert_eq!(bad_age.status, 400);
    assert_eq!(bad_age.json()["field"], "age_years");
    assert!(bad_age.json()["error"].as_str().unwrap().contains("thirty"));

    let bad_codes = post(server.addr, "/v1/group", r#"{"sex":"1","age_years":3,"diagnoses":42}"#);
    assert_eq!((bad_codes.status, bad_codes.json()["field"].clone()), (400, json!("diagnoses")));

    let malformed = post(server.addr, "/v1/group", "{\"id\": \"x\",\n \"sex\" 1}");
    assert_eq!(malformed.status, 400);
    let body = malformed.json();
    assert_eq!((body["line"].clone(), body["column"].clone()), (json!(2), json!(8)), "{body}");

    let array = post(server.addr, "/v1/group", "[]");
    assert_eq!(array.status, 400);
    assert!(array.json()["error"].as_str().unwrap().contains("batch"));

    let deep = "[".repeat(100_000);
    assert_eq!(post(server.addr, "/v1/group", &deep).status, 400);
    assert_eq!(post(server.addr, "/v1/group/batch", &deep).status, 400);
    assert_eq!(http_get(server.addr, "/health").status, 200, "still serving");
}

#[test]
fn unknown_packs_are_404_and_paths_are_not_packs() {
    let server = Server::demo(ServeOptions::default());
    let path = shared().join("rulepacks/chs-drg-1.1");
    for target in [
        "/v1/group?pack=chs-drg-1.1".to_string(),
        format!("/v1/group?pack={}", path.display()),
        "/v1/group/batch?pack=..%2F..%2Fshared%2Frulepacks%2Fchs-drg-1.1".to_string(),
    ] {
        let reply = post(server.addr, &target, APPENDICITIS);
        assert_eq!(reply.status, 404, "{target}: {}", reply.text());
        assert_eq!(reply.json()["field"], "pack");
    }
    for target in ["/v1/codes/K35.800?pack=nope", "/v1/codes?search=K35&pack=nope", "/v1/drgs/GC23?pack=nope"] {
        assert_eq!(http_get(server.addr, target).status, 404, "{target}");
    }
    let nowhere = http_get(server.addr, "/v2/group");
    assert_eq!(nowhere.status, 404);
    assert!(nowhere.json()["error"].as_str().unwrap().contains("/v2/group"));
}

#[test]
fn batches_as_ndjson_and_as_arrays() {
    let server = Server::demo(ServeOptions::default());
    let ndjson = format!("{APPENDICITIS}\nnot json\n{{\"id\":\"A1\",\"sex\":\"2\",\"age_years\":40,\"diagnoses\":\"K35.800\"}}\n");
    let reply = post(server.addr, "/v1/group/batch", &ndjson);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = reply.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], post(server.addr, "/v1/group", APPENDICITIS).json());
    assert_eq!(lines[1]["status"], "invalid");
    assert!(lines[1]["reason"].as_str().unwrap().starts_with("line 2:"), "{}", lines[1]);
    assert_eq!(lines[2]["warnings"], json!(["duplicate id: also on line 1"]));

    let array = post(server.addr, "/v1/group/batch?explain=true", &format!("[{APPENDICITIS}, 7]"));
    assert_eq!(array.status, 200);
    assert_eq!(array.header("content-type"), Some("application/json"));
    let items = array.json();
    assert_eq!(items.as_array().unwrap().len(), 2);
    assert!(items[0]["trace"].is_array());
    assert_eq!(items[1]["status"], "invalid");

    // A batch that cannot be read at all names the place as fields.
    let cut = post(server.addr, "/v1/group/batch", "[{\"id\":1},\n{\"id\":");
    assert_eq!(cut.status, 400);
    let body = cut.json();
    assert_eq!((body["line"].clone(), body["column"].clone()), (json!(2), json!(6)), "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("the batch: the JSON array: "), "{body}");
    let empty = post(server.addr, "/v1/group/batch", "");
    assert_eq!((empty.status, empty.body.len()), (200, 0));
}

/// The 1.1 test cases, as NDJSON through the service, give the expected
/// groups case by case.
#[test]
fn conformance_through_a_batch() {
    let shared = shared();
    let pack = Arc::new(Pack::open(shared.join("rulepacks/chs-drg-1.1")).unwrap());
    let options = ServeOptions { body_limit: 64 << 20, ..ServeOptions::default() };
    let server = Server::start(vec![("chs-drg-1.1".into(), pack)], options, Router::new());
    let mut cases = csv::Reader::from_path(shared.join("testdata/chs-drg-1.1/cases.csv")).unwrap();
    let header = cases.headers().unwrap().clone();
    let mut ndjson = String::new();
    for record in cases.records() {
        let record = record.unwrap();
        let object: serde_json::Map<String, Value> =
            header.iter().zip(record.iter()).map(|(k, v)| (k.to_string(), Value::from(v))).collect();
        ndjson.push_str(&serde_json::to_string(&object).unwrap());
        ndjson.push('\n');
    }
    let reply = post(server.addr, "/v1/group/batch", &ndjson);
    assert_eq!(reply.status, 200);
    let mut expected = csv::Reader::from_path(shared.join("testdata/chs-drg-1.1/expected.csv")).unwrap();
    let expected: Vec<(String, String, String)> =
        expected.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[1].to_string(), r[4].to_string())).collect();
    let got: Vec<Value> = reply.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), expected.len());
    let mismatches: Vec<&str> = expected
        .iter()
        .zip(&got)
        .filter(|((id, status, drg), result)| {
            result["id"] != id.as_str() || result["status"] != status.as_str() || result["drg"].as_str().unwrap_or("") != drg
        })
        .map(|((id, _, _), _)| id.as_str())
        .collect();
    assert!(mismatches.is_empty(), "{} cases differ: {:?}", mismatches.len(), &mismatches[..mismatches.len().min(20)]);
}

#[test]
fn codes_and_drgs() {
    let server = Server::demo(ServeOptions::default());
    let found = http_get(server.addr, "/v1/codes/e11.900");
    assert_eq!(found.status, 200);
    let body = found.json();
    assert_eq!(body["code"], "E11.900");
    assert_eq!(body["diagnosis_name"], Pack::demo().code_name("E11.900").unwrap());
    assert_eq!(body["cc_level"], "CC");

    assert_eq!(http_get(server.addr, "/v1/codes/Z99.999").status, 404);
    let junk = http_get(server.addr, "/v1/codes/%20");
    assert_eq!((junk.status, junk.json()["field"].clone()), (400, json!("code")));

    // "阑尾" percent-encoded: names contain it.
    let search = http_get(server.addr, "/v1/codes?search=%E9%98%91%E5%B0%BE&limit=2&vocabulary=diagnosis");
    assert_eq!(search.status, 200);
    let body = search.json();
    let codes = body["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 2);
    assert!(body["total"].as_u64().unwrap() >= 2);
    assert!(codes.iter().all(|c| c["name"].as_str().unwrap().contains("阑尾") && c["vocabulary"] == "diagnosis"));
    let by_code = http_get(server.addr, "/v1/codes?search=47.09").json();
    assert!(by_code["codes"].as_array().unwrap().iter().any(|c| c["code"] == "47.0901"));

    for (target, field) in [("/v1/codes", "search"), ("/v1/codes?search=a&limit=0", "limit"), ("/v1/codes?search=a&vocabulary=drug", "vocabulary")] {
        let reply = http_get(server.addr, target);
        assert_eq!((reply.status, reply.json()["field"].clone()), (400, json!(field)), "{target}");
    }

    let drg = http_get(server.addr, "/v1/drgs/gc23");
    assert_eq!(drg.status, 200);
    assert_eq!(drg.json()["name"], Pack::demo().drg_name("GC23").unwrap());
    assert_eq!(drg.json()["weight"], Value::Null);
    assert_eq!(http_get(server.addr, "/v1/drgs/ZZ99").status, 404);
}

#[test]
fn weights_are_shown_with_the_drg() {
    let shared = shared();
    let file = std::fs::File::open(shared.join("testdata/points/expected/weights.csv")).unwrap();
    let weights = drg_core::points::read_weights_csv(std::io::BufReader::new(file)).unwrap();
    let (code, expected) = weights.drgs.iter().next().map(|(c, w)| (c.clone(), w.clone())).unwrap();
    let pack = Arc::new(Pack::open(shared.join("rulepacks/chs-drg-1.1")).unwrap());
    let options = ServeOptions { weights: Some(weights), ..ServeOptions::default() };
    let server = Server::start(vec![("chs-drg-1.1".into(), pack)], options, Router::new());
    assert_eq!(http_get(server.addr, "/v1/packs").json()["weights"], true);
    let drg = http_get(server.addr, &format!("/v1/drgs/{code}")).json();
    assert_eq!(drg["weight"].as_f64(), Some(expected.weight));
    assert_eq!(drg["base_points"].as_f64(), Some(expected.base_points));
}

#[test]
fn bodies_over_the_limit_are_413() {
    let server = Server::demo(ServeOptions { body_limit: 1000, ..ServeOptions::default() });
    // Declared too large: refused before the body is sent.
    for path in ["/v1/group", "/v1/group/batch"] {
        let mut stream = connect(server.addr);
        stream.write_all(&head("POST", path, &[("Content-Length", "5000".into())])).unwrap();
        let reply = read_reply(&mut stream);
        assert_eq!(reply.status, 413, "{path}");
        assert!(reply.json()["error"].as_str().unwrap().contains("1000 bytes"));
    }
    // Chunked, with no length given: refused once past the limit.
    let mut stream = connect(server.addr);
    stream.write_all(&head("POST", "/v1/group/batch", &[("Transfer-Encoding", "chunked".into())])).unwrap();
    let line = format!("{APPENDICITIS}\n");
    for _ in 0..20 {
        if stream.write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes()).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    assert_eq!(read_reply(&mut stream).status, 413);
    // At the limit: fine.
    let exactly = format!("{APPENDICITIS:<1000}");
    assert_eq!(post(server.addr, "/v1/group", &exactly).status, 200);
}

#[test]
fn a_request_not_answered_in_time_is_503() {
    let server = Server::demo(ServeOptions { timeout: Duration::from_millis(300), ..ServeOptions::default() });
    let mut stream = connect(server.addr);
    // The head promises a body that never comes.
    stream.write_all(&head("POST", "/v1/group", &[("Content-Length", "100".into())])).unwrap();
    let started = Instant::now();
    let reply = read_reply(&mut stream);
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(reply.json()["error"].as_str().unwrap().contains("300 ms"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn concurrency_is_bounded_and_probes_still_answer() {
    let server = Server::demo(ServeOptions { max_in_flight: 1, timeout: Duration::from_millis(700), ..ServeOptions::default() });
    // The one slot, held by a batch whose answer (tens of megabytes with the
    // trails) its client does not read: a streamed answer keeps its slot
    // until it is sent.
    let batch = format!("{APPENDICITIS}\n").repeat(4000);
    let mut holder = connect(server.addr);
    let mut bytes = head("POST", "/v1/group/batch?explain=true", &[("Content-Length", batch.len().to_string())]);
    bytes.extend_from_slice(batch.as_bytes());
    holder.write_all(&bytes).unwrap();
    let mut status = [0u8; 12];
    std::io::Read::read_exact(&mut holder, &mut status).unwrap();
    assert_eq!(&status, b"HTTP/1.1 200");

    let started = Instant::now();
    let waited = post(server.addr, "/v1/group", APPENDICITIS);
    assert_eq!(waited.status, 503, "{}", waited.text());
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(http_get(server.addr, "/health").status, 200);
    // Once the batch is read, the slot is free again.
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut holder, &mut rest).unwrap();
    assert!(rest.len() > 4000 * 500, "{} bytes", rest.len());
    assert_eq!(post(server.addr, "/v1/group", APPENDICITIS).status, 200);
}

#[test]
fn a_panic_is_a_500_and_the_service_goes_on() {
    let extra = Router::new().route("/boom", get(|| async { panic!("a bug in a handler") as &'static str }));
    let server = Server::start(vec![("drg-demo".into(), Arc::new(Pack::demo()))], ServeOptions::default(), extra);
    let reply = http_get(server.addr, "/boom");
    assert_eq!(reply.status, 500);
    assert!(reply.json()["error"].as_str().unwrap().starts_with("internal error"));
    assert_eq!(post(server.addr, "/v1/group", APPENDICITIS).status, 200);
    let metrics = http_get(server.addr, "/metrics").text();
    assert_eq!(metric(&metrics, "drg_http_requests_total{route=\"/boom\",code=\"500\"}"), Some(1.0));
}

#[test]
fn metrics_in_prometheus_text() {
    let server = Server::demo(ServeOptions::default());
    post(server.addr, "/v1/group", APPENDICITIS);
    post(server.addr, "/v1/group", APPENDICITIS);
    post(server.addr, "/v1/group", "{");
    post(server.addr, "/v1/group/batch", &format!("{APPENDICITIS}\n{{}}\n"));
    let reply = http_get(server.addr, "/metrics");
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = reply.text();
    assert_eq!(metric(&text, r#"drg_http_requests_total{route="/v1/group",code="200"}"#), Some(2.0));
    assert_eq!(metric(&text, r#"drg_http_requests_total{route="/v1/group",code="400"}"#), Some(1.0));
    assert_eq!(metric(&text, r#"drg_http_request_errors_total{route="/v1/group"}"#), Some(1.0));
    assert_eq!(metric(&text, r#"drg_http_request_duration_seconds_count{route="/v1/group"}"#), Some(3.0));
    assert_eq!(metric(&text, r#"drg_http_request_duration_seconds_bucket{route="/v1/group",le="+Inf"}"#), Some(3.0));
    assert_eq!(metric(&text, r#"drg_cases_grouped_total{pack="drg-demo",status="grouped"}"#), Some(3.0));
    assert_eq!(metric(&text, r#"drg_cases_grouped_total{pack="drg-demo",status="invalid"}"#), Some(1.0));
    for name in ["drg_http_requests_total", "drg_http_request_duration_seconds", "drg_cases_grouped_total", "drg_http_requests_in_flight"] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
    }
}

#[test]
fn the_page_and_its_assets() {
    let server = Server::demo(ServeOptions::default());
    let page = http_get(server.addr, "/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let html = page.text();
    assert!(html.contains("app.js") && html.contains("分组"));
    assert!(!html.contains("http://") && !html.contains("https://"), "the page loads nothing from the network");
    for (path, kind) in [("/app.js", "text/javascript"), ("/app.css", "text/css")] {
        let asset = http_get(server.addr, path);
        assert_eq!(asset.status, 200);
        assert!(asset.header("content-type").unwrap().starts_with(kind));
        assert!(!asset.text().contains("https://"), "{path} loads nothing from the network");
    }
}

#[test]
fn shutdown_finishes_the_requests_in_flight() {
    let server = Server::demo(ServeOptions::default());
    let addr = server.addr;
    let mut in_flight = connect(addr);
    in_flight.write_all(&head("POST", "/v1/group", &[("Content-Length", APPENDICITIS.len().to_string())])).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&http_get(addr, "/metrics").text(), "drg_http_requests_in_flight") != Some(2.0) {
        assert!(Instant::now() < deadline, "the request never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    let stopping = std::thread::spawn(move || server.stop());
    std::thread::sleep(Duration::from_millis(200));
    in_flight.write_all(APPENDICITIS.as_bytes()).unwrap();
    let reply = read_reply(&mut in_flight);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["id"], "A1");
    stopping.join().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_err(), "no longer listening");
}

#[test]
fn the_router_refuses_what_it_cannot_serve() {
    assert!(drg_serve::router(vec![], ServeOptions::default()).is_err());
    let demo = Arc::new(Pack::demo());
    let twice = vec![("a".to_string(), Arc::clone(&demo)), ("a".to_string(), demo)];
    assert!(drg_serve::router(twice, ServeOptions::default()).unwrap_err().contains("\"a\""));
}

/// A service with DIP: the shared reference catalogue and policy, keys made
/// with the CHS-DRG 1.1 pack (as the reference run was).
fn dip_server() -> Server {
    let shared = shared();
    let dir = shared.join("testdata/dip");
    let pack = Arc::new(Pack::open(shared.join("rulepacks/chs-drg-1.1")).unwrap());
    let policy = drg_core::dip::DipPolicy::load(dir.join("policy.toml")).unwrap();
    let catalogue = drg_core::dip::read_catalogue_csv(std::fs::File::open(dir.join("expected/catalogue.csv")).unwrap()).unwrap();
    let keys = drg_core::dip::KeyMaker::new(Arc::clone(&pack), &policy);
    let dip = drg_core::dip::Dip::new(policy, keys, catalogue);
    let options = ServeOptions { dip: Some(Arc::new(dip)), ..ServeOptions::default() };
    Server::start(vec![("chs-drg-1.1".into(), pack)], options, Router::new())
}

/// A CSV file's rows as (header, records).
fn read_csv(path: PathBuf) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    (header, reader.records().map(Result::unwrap).collect())
}

/// The reference DIP period through `POST /v1/dip/group`, one case a
/// request: the groups, severities and points of `drg dip run` with the
/// published catalogue (expected-published/).
#[test]
fn dip_group_gives_the_reference_groups_and_points() {
    let server = dip_server();
    let dir = shared().join("testdata/dip");
    let (header, cases) = read_csv(dir.join("period.csv"));
    let (_, groups) = read_csv(dir.join("expected-published/groups.csv"));
    let (_, points) = read_csv(dir.join("expected-published/case_points.csv"));
    let points: HashMap<&str, f64> = points.iter().map(|r| (r.get(0).unwrap(), r[6].parse().unwrap())).collect();
    let mut differ = Vec::new();
    // Every 7th case of the 20,000: a request each.
    let mut checked = 0;
    for (case, expected) in cases.iter().zip(&groups).step_by(7) {
        let object: serde_json::Map<String, Value> = header.iter().zip(case.iter()).map(|(k, v)| (k.to_string(), Value::from(v))).collect();
        let reply = post(server.addr, "/v1/dip/group", &Value::Object(object).to_string());
        assert_eq!(reply.status, 200, "{}", reply.text());
        let got = reply.json();
        assert!(got.get("explain").is_none(), "no trail unless asked for");
        let severity = got["severity"].as_u64().map(|s| s.to_string()).unwrap_or_default();
        let same_group = got["id"] == expected[0] && got["status"] == expected[1] && got["group"].as_str().unwrap_or("") == &expected[2] && severity == expected[3];
        let same_points = match points.get(&expected[0]) {
            Some(p) => got["score"]["points"].as_f64().is_some_and(|g| (g - p).abs() < 0.00051),
            // Not in case_points.csv: invalid, or no total_cost above 0.
            None => got["status"] == "invalid" || got["score"].is_null(),
        };
        if !(same_group && same_points) {
            if differ.is_empty() {
                eprintln!("first difference: expected {expected:?} points {:?}, got {got}", points.get(&expected[0]));
            }
            differ.push(expected[0].to_string());
        }
        checked += 1;
    }
    assert!(checked > 2800);
    assert!(differ.is_empty(), "{} of {checked} cases differ: {:?}", differ.len(), &differ[..differ.len().min(20)]);

    let case = r#"{"id":"x","sex":"1","age_years":60,"total_cost":9000,"hospital_level":"3","diagnoses":"C15.900|J18.900","procedures":""}"#;
    let explained = post(server.addr, "/v1/dip/group?explain=true", case).json();
    assert_eq!((explained["status"].as_str(), explained["group"].as_str()), (Some("comprehensive"), Some("C15#C")));
    let lines: Vec<&str> = explained["explain"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(lines.iter().any(|l| l.contains("comprehensive group C15#C")), "{lines:?}");

    let bad = post(server.addr, "/v1/dip/group", r#"{"id":"x","sex":"1","age_years":"old","diagnoses":"C15.900"}"#);
    assert_eq!((bad.status, bad.json()["field"].as_str()), (400, Some("age_years")), "{}", bad.text());
    let malformed = post(server.addr, "/v1/dip/group", "{\"id\":");
    assert_eq!(malformed.status, 400);
    assert!(malformed.json()["error"].as_str().unwrap().contains("not valid JSON"));
    assert_eq!(post(server.addr, "/v1/dip/group", "[]").status, 400);
    assert_eq!(post(server.addr, "/v1/dip/group?pack=chs-drg-1.1", case).status, 400, "DIP takes no pack: its keys use the one it was started with");
    let metrics = http_get(server.addr, "/metrics").text();
    assert!(metrics.contains("drg_dip_cases_grouped_total{status=\"comprehensive\"}"), "{metrics}");
}

#[test]
fn dip_without_a_catalogue_is_404_saying_how_to_enable_it() {
    let server = Server::demo(ServeOptions::default());
    let reply = post(server.addr, "/v1/dip/group", APPENDICITIS);
    assert_eq!(reply.status, 404);
    let error = reply.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("--catalogue") && error.contains("--policy"), "{error}");
}

/// A CSV body as a HIS exports it (Chinese headers, one column per code)
/// through the batch endpoint: the 1.1 reference groups, case by case.
#[test]
fn a_csv_batch_with_chinese_headers_and_wide_code_columns() {
    let shared = shared();
    let pack = Arc::new(Pack::open(shared.join("rulepacks/chs-drg-1.1")).unwrap());
    let options = ServeOptions { body_limit: 64 << 20, ..ServeOptions::default() };
    let server = Server::start(vec![("chs-drg-1.1".into(), pack)], options, Router::new());
    let (header, cases) = read_csv(shared.join("testdata/chs-drg-1.1/cases.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (dx, px) = (col("diagnoses"), col("procedures"));
    let widest = |c: usize| cases.iter().map(|r| r[c].split('|').filter(|s| !s.is_empty()).count()).max().unwrap();
    let (n_dx, n_px) = (widest(dx), widest(px));
    let mut names: Vec<String> =
        ["病案号", "医疗机构编码", "医院等级", "性别", "年龄（岁）", "年龄（天）", "新生儿出生体重（克）", "实际住院天数", "离院方式", "住院总费用", "个人负担金额", "病区"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    names.push("主要诊断编码".into());
    names.extend((1..n_dx).map(|n| format!("其他诊断编码{n}")));
    names.extend((1..=n_px).map(|n| format!("手术操作编码{n}")));
    let fields = ["id", "hospital", "hospital_level", "sex", "age_years", "age_days", "weight_g", "los_days", "discharge", "total_cost", "self_pay"].map(col);
    let mut body = csv::Writer::from_writer(Vec::new());
    body.write_record(&names).unwrap();
    for r in &cases {
        let mut row: Vec<String> = fields.iter().map(|&f| r[f].to_string()).collect();
        row.push("3B".into());
        let d: Vec<&str> = r[dx].split('|').filter(|s| !s.is_empty()).collect();
        let p: Vec<&str> = r[px].split('|').filter(|s| !s.is_empty()).collect();
        row.extend((0..n_dx).map(|k| d.get(k).copied().unwrap_or("").to_string()));
        row.extend((0..n_px).map(|k| p.get(k).copied().unwrap_or("").to_string()));
        body.write_record(&row).unwrap();
    }
    let body = body.into_inner().unwrap();
    let reply = common::request(server.addr, "POST", "/v1/group/batch", &body);
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body[..reply.body.len().min(500)]));
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let got: Vec<Value> = reply.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (_, expected) = read_csv(shared.join("testdata/chs-drg-1.1/expected.csv"));
    assert_eq!(got.len(), expected.len());
    let differ: Vec<&str> = expected
        .iter()
        .zip(&got)
        .filter(|(e, g)| g["id"] != e[0] || g["status"] != e[1] || g["drg"].as_str().unwrap_or("") != &e[4])
        .map(|(e, _)| e.get(0).unwrap())
        .collect();
    assert!(differ.is_empty(), "{} cases differ: {:?}", differ.len(), &differ[..differ.len().min(20)]);
    assert_eq!(got[0]["病区"], "3B", "an unknown column is carried through");

    // A bad row is invalid with its line; a header that cannot be read is a 400.
    let reply = post(server.addr, "/v1/group/batch", "病案号,性别,年龄,主要诊断编码\nA,男,30,K35.800\nB,3,30,K35.800\n");
    let lines: Vec<Value> = reply.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["status"], "invalid");
    assert!(lines[1]["reason"].as_str().unwrap().starts_with("line 3:"), "{}", lines[1]);
    let refused = post(server.addr, "/v1/group/batch", "病案号,性别\nA,男\n");
    assert_eq!(refused.status, 400, "{}", refused.text());
}

/// A batch larger than one chunk per worker: results in input order, line
/// numbers and duplicate ids counted over the whole body.
#[test]
fn a_large_ndjson_batch_keeps_order_lines_and_duplicates() {
    let server = Server::demo(ServeOptions::default());
    let mut body = String::new();
    for i in 0..5000 {
        if i == 3000 {
            body.push_str("\n not json\n");
        }
        body.push_str(&format!("{{\"id\":\"C{}\",\"sex\":\"1\",\"age_years\":30,\"diagnoses\":[\"K35.800\"]}}\n", i % 4000));
    }
    let reply = post(server.addr, "/v1/group/batch", &body);
    assert_eq!(reply.status, 200);
    let lines: Vec<Value> = reply.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5001);
    assert_eq!(lines[2999]["id"], "C2999");
    assert!(lines[3000]["reason"].as_str().unwrap().starts_with("line 3002:"), "{}", lines[3000]);
    assert_eq!(lines[3001]["id"], "C3000");
    assert_eq!(lines[4001]["id"], "C0");
    assert_eq!(lines[4001]["warnings"], json!(["duplicate id: also on line 1"]));
    assert_eq!(lines[4002]["warnings"], json!(["duplicate id: also on line 2"]));
}
