//! # drg-serve
//!
//! `drg serve`: CHS-DRG grouping over HTTP, for HIS that integrate engines as
//! services, and a page where a coder tries a case.
//!
//! The service takes packs that are already loaded (the CLI opens them) and
//! answers, under `/v1`, with the same JSON as `drg group --format jsonl`
//! ([`drg_core::GroupResult::write_json_line`]). No grouping rule lives here:
//! this crate only translates HTTP to drg-core calls.
//!
//! Routes (see the README's "drg serve" section):
//!
//! | route | what |
//! | --- | --- |
//! | `GET /` , `/app.js`, `/app.css` | the coder's page, embedded in the binary |
//! | `GET /health` | liveness and the packs served |
//! | `GET /metrics` | Prometheus text: requests, errors, latency, cases grouped |
//! | `GET /v1/packs` | the packs, by the id a request names them with |
//! | `POST /v1/group` | one case (`?pack=ID&explain=true`) |
//! | `POST /v1/group/batch` | a JSON array, NDJSON or CSV (any headers `drg group` reads) in, streamed out |
//! | `GET /v1/codes/{code}` | what a pack knows of a code |
//! | `GET /v1/codes?search=TEXT&limit=N` | search the vocabularies |
//! | `GET /v1/drgs/{drg}` | a DRG's name and, with a weights table, its weight |
//! | `POST /v1/dip/group` | one case's DIP group and points (`?explain=true`), with [`ServeOptions::dip`] |
//!
//! Grouping schemes other than CHS-DRG get their own prefix beside
//! `/v1/group` (DIP: `/v1/dip/group`), so adding one changes no route here.

mod api;
mod batch;
mod dip;
mod metrics;
mod page;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use drg_core::points::Weights;
use drg_core::{GroupOptions, Grouper, Pack};
use tokio::sync::Semaphore;

pub use api::ApiError;

/// How the service behaves. [`ServeOptions::default`] gives the documented
/// defaults.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Request bodies longer than this many bytes get 413.
    pub body_limit: usize,
    /// A request that has not been answered within this time gets 503; a
    /// batch still streaming then ends with an error line.
    pub timeout: Duration,
    /// At most this many requests are handled at once (`/health` and
    /// `/metrics` aside); the others wait for a slot until their timeout.
    pub max_in_flight: usize,
    /// Translate legacy codes through the pack's code maps first.
    pub translate_codes: bool,
    /// A weights table (`drg points calibrate`): shown with each DRG.
    pub weights: Option<Weights>,
    /// DIP grouping (a catalogue and a policy, keys made with a pack):
    /// `POST /v1/dip/group` answers 404, saying how to enable it, without.
    pub dip: Option<Arc<drg_core::dip::Dip>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            body_limit: 16 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            max_in_flight: 256,
            translate_codes: false,
            weights: None,
            dip: None,
        }
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    /// The packs by configured id; the first is the default.
    pub packs: Vec<(String, Grouper)>,
    pub options: ServeOptions,
    pub metrics: metrics::Metrics,
    pub slots: Arc<Semaphore>,
    /// Batches grouped at once: one per core. A batch keeps its body and
    /// its parsed cases in memory, so this bounds the memory of batches
    /// whatever the number of clients.
    pub batch_slots: Arc<Semaphore>,
}

impl Shared {
    /// The pack a request names with `?pack=ID`, or the default one.
    pub fn grouper(&self, id: Option<&str>) -> Result<(&str, &Grouper), ApiError> {
        match id {
            None => Ok(self.packs.first().map(|(id, g)| (id.as_str(), g)).expect("at least one pack")),
            Some(wanted) => self.packs.iter().find(|(id, _)| id == wanted).map(|(id, g)| (id.as_str(), g)).ok_or_else(|| {
                let known = self.packs.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ");
                ApiError::not_found(format!("no pack {wanted:?} is served here (packs: {known})")).field("pack")
            }),
        }
    }
}

/// The service's routes with its safeguards (timeout, bounded concurrency,
/// panics turned into 500, metrics). `packs` are (id, pack), the first being
/// the default; ids must be distinct.
pub fn router(packs: Vec<(String, Arc<Pack>)>, options: ServeOptions) -> Result<Router, String> {
    router_with(packs, options, Router::new())
}

/// [`router`], with `extra` routes behind the same safeguards (the tests
/// use it to check that a handler that panics answers 500).
pub fn router_with(packs: Vec<(String, Arc<Pack>)>, options: ServeOptions, extra: Router) -> Result<Router, String> {
    if packs.is_empty() {
        return Err("no pack to serve".into());
    }
    for (i, (id, _)) in packs.iter().enumerate() {
        if packs[..i].iter().any(|(other, _)| other == id) {
            return Err(format!("two packs have the id {id:?}: a request could not tell them apart"));
        }
    }
    if options.max_in_flight == 0 {
        return Err("max_in_flight must be at least 1".into());
    }
    let group_options = GroupOptions { translate_codes: options.translate_codes };
    let shared = Arc::new(Shared {
        packs: packs.into_iter().map(|(id, pack)| (id, Grouper::with_options(pack, group_options))).collect(),
        slots: Arc::new(Semaphore::new(options.max_in_flight)),
        batch_slots: Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))),
        options,
        metrics: metrics::Metrics::default(),
    });
    let routes = Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/app.css", get(page::style))
        .route("/health", get(api::health))
        .route("/metrics", get(metrics::handler))
        .route("/v1/packs", get(api::packs))
        .route("/v1/group", post(api::group))
        .route("/v1/group/batch", post(batch::batch))
        .route("/v1/codes", get(api::search_codes))
        .route("/v1/codes/{code}", get(api::code))
        .route("/v1/drgs/{drg}", get(api::drg))
        .route("/v1/dip/group", post(dip::group))
        .with_state(Arc::clone(&shared))
        .merge(extra)
        .fallback(api::no_route)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(api::panic_response))
        .layer(axum::middleware::from_fn_with_state(shared, guard));
    Ok(routes)
}

/// Around every request: a slot (bounded concurrency), the timeout, and the
/// metrics.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route: Arc<str> = match request.extensions().get::<MatchedPath>() {
        Some(path) => Arc::from(path.as_str()),
        None => Arc::from("unmatched"),
    };
    // Probes answer even when every slot is taken.
    let needs_slot = !matches!(&*route, "/health" | "/metrics");
    let _in_flight = shared.metrics.enter();
    let timeout = shared.options.timeout;
    let slots = Arc::clone(&shared.slots);
    let answered = tokio::time::timeout(timeout, async move {
        let slot = if needs_slot { Some(slots.acquire_owned().await.expect("the semaphore is never closed")) } else { None };
        (next.run(request).await, slot)
    })
    .await;
    let response = match answered {
        Ok((response, slot)) => match slot {
            // A streamed body keeps its slot until it is sent.
            Some(slot) if response.body().size_hint().exact().is_none() => {
                let (parts, body) = response.into_parts();
                let stream = tokio_stream::StreamExt::map(body.into_data_stream(), move |chunk| {
                    let _ = &slot;
                    chunk
                });
                Response::from_parts(parts, Body::from_stream(stream))
            }
            _ => response,
        },
        Err(_) => ApiError::unavailable(format!(
            "the request was not answered within the timeout of {} ms (the service is busy, or the body came too slowly)",
            timeout.as_millis()
        ))
        .into_response(),
    };
    shared.metrics.record(&route, response.status().as_u16(), started.elapsed());
    response
}

/// Serves `app` on `listener` until `shutdown` completes; then stops
/// accepting, lets the requests in flight finish (for at most `grace`), and
/// returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stopped = stop_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let server = server.into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        _ = async {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        } => {
            drop(stop_rx);
            Ok(())
        }
    }
}

/// Binds `addr`, calls `ready` with the address bound (port 0 picks a free
/// one), and serves until SIGTERM or SIGINT (Ctrl-C); then finishes the
/// requests in flight and returns `Ok`. Runs its own tokio runtime.
pub fn run(
    addr: &str,
    packs: Vec<(String, Arc<Pack>)>,
    options: ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let grace = options.timeout + Duration::from_secs(5);
    let app = router(packs, options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("drg-serve")
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("{addr}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| format!("{addr}: {e}"))?;
        ready(bound);
        serve(listener, app, stop_signal(), grace).await.map_err(|e| format!("serving on {bound}: {e}"))
    })
}

/// SIGTERM or SIGINT.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
