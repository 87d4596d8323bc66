//! `GET /metrics`: counters and a latency histogram in the Prometheus text
//! format (version 0.0.4), kept by hand: one short lock per request.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use drg_core::Status;

use crate::Shared;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
    in_flight: Arc<AtomicI64>,
}

#[derive(Default)]
struct Inner {
    /// (route, status code) → answers.
    answers: BTreeMap<(Arc<str>, u16), u64>,
    /// route → latency histogram.
    latency: BTreeMap<Arc<str>, Histogram>,
    /// (pack, status) → cases.
    cases: BTreeMap<(String, &'static str), u64>,
    /// DIP status → cases.
    dip_cases: BTreeMap<&'static str, u64>,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counts a request in flight until dropped.
pub(crate) struct InFlight(Arc<AtomicI64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn enter(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(&self.in_flight))
    }

    /// One answered request.
    pub fn record(&self, route: &Arc<str>, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.answers.entry((Arc::clone(route), status)).or_default() += 1;
        let histogram = inner.latency.entry(Arc::clone(route)).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        if let Some(i) = BUCKETS.iter().position(|&b| seconds <= b) {
            histogram.counts[i] += 1;
        }
    }

    /// Cases grouped with a pack, by status.
    pub fn cases(&self, pack: &str, counts: impl IntoIterator<Item = (Status, u64)>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for (status, n) in counts {
            match inner.cases.get_mut(&(pack.to_string(), status.as_str())) {
                Some(total) => *total += n,
                None => {
                    inner.cases.insert((pack.to_string(), status.as_str()), n);
                }
            }
        }
    }

    /// One case grouped by DIP, with its status.
    pub fn dip_case(&self, status: &'static str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.dip_cases.entry(status).or_default() += 1;
    }

    fn render(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "# HELP drg_http_requests_total HTTP requests answered, by route and status code.");
        let _ = writeln!(w, "# TYPE drg_http_requests_total counter");
        for ((route, code), n) in &inner.answers {
            let _ = writeln!(w, "drg_http_requests_total{{route=\"{}\",code=\"{code}\"}} {n}", escape(route));
        }
        let _ = writeln!(w, "# HELP drg_http_request_errors_total HTTP requests answered with a 4xx or 5xx status, by route.");
        let _ = writeln!(w, "# TYPE drg_http_request_errors_total counter");
        let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
        for ((route, code), n) in &inner.answers {
            if *code >= 400 {
                *errors.entry(route).or_default() += n;
            }
        }
        for (route, n) in errors {
            let _ = writeln!(w, "drg_http_request_errors_total{{route=\"{}\"}} {n}", escape(route));
        }
        let _ = writeln!(w, "# HELP drg_http_request_duration_seconds Time from a request's arrival to its answer's head, by route.");
        let _ = writeln!(w, "# TYPE drg_http_request_duration_seconds histogram");
        for (route, h) in &inner.latency {
            let route = escape(route);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                cumulative += n;
                let _ = writeln!(w, "drg_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(w, "drg_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(w, "drg_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(w, "drg_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        let _ = writeln!(w, "# HELP drg_cases_grouped_total Cases grouped, by pack and result status.");
        let _ = writeln!(w, "# TYPE drg_cases_grouped_total counter");
        for ((pack, status), n) in &inner.cases {
            let _ = writeln!(w, "drg_cases_grouped_total{{pack=\"{}\",status=\"{status}\"}} {n}", escape(pack));
        }
        if !inner.dip_cases.is_empty() {
            let _ = writeln!(w, "# HELP drg_dip_cases_grouped_total Cases grouped by DIP, by result status.");
            let _ = writeln!(w, "# TYPE drg_dip_cases_grouped_total counter");
            for (status, n) in &inner.dip_cases {
                let _ = writeln!(w, "drg_dip_cases_grouped_total{{status=\"{status}\"}} {n}");
            }
        }
        let _ = writeln!(w, "# HELP drg_http_requests_in_flight Requests being handled now (this one included).");
        let _ = writeln!(w, "# TYPE drg_http_requests_in_flight gauge");
        let _ = writeln!(w, "drg_http_requests_in_flight {}", self.in_flight.load(Ordering::Relaxed));
        out
    }
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `GET /metrics`.
pub(crate) async fn handler(State(shared): State<Arc<Shared>>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], shared.metrics.render()).into_response()
}
