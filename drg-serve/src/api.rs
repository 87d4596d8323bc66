//! The JSON API under `/v1`, `/health`, and the errors every route answers
//! with.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use drg_core::io::InputError;
use drg_core::Case;
use serde_json::{json, Value};
use tokio_stream::StreamExt;

use crate::Shared;

/// An error answer: `{"error": "...", "field": "..."}` with its status. The
/// field is the request's part at fault (a case field, a query parameter)
/// when there is one.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    field: Option<String>,
    /// The line of the body at fault (where JSON stopped parsing, a CSV row
    /// past a limit), and the column when it is known.
    line: Option<u64>,
    column: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), field: None, line: None, column: None }
    }
    /// A body that cannot be read as a whole: 400, `context: message`, with
    /// the line (and column) the error names.
    pub(crate) fn input(context: &str, e: &InputError) -> Self {
        let mut error = Self::bad_request(format!("{context}: {e}"));
        error.line = e.line();
        if let InputError::Json { at: Some((_, column)), .. } = e {
            error.column = Some(*column);
        }
        error
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    /// The answer's JSON body.
    fn body(&self) -> Value {
        let mut o = serde_json::Map::new();
        o.insert("error".into(), self.message.clone().into());
        o.insert("status".into(), self.status.as_u16().into());
        if let Some(field) = &self.field {
            o.insert("field".into(), field.clone().into());
        }
        if let Some(line) = self.line {
            o.insert("line".into(), line.into());
        }
        if let Some(column) = self.column {
            o.insert("column".into(), column.into());
        }
        Value::Object(o)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body());
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    json_bytes(status, serde_json::to_vec(value).expect("JSON to memory"))
}

fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// What a handler that panicked answers (the panic is also printed on
/// standard error by Rust's panic hook).
pub(crate) fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error: the request could not be handled (see the service's log)")
        .into_response()
}

/// Any route that does not exist.
pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route {method} {} (see GET /v1/packs, POST /v1/group, GET /v1/codes)", uri.path()))
}

/// The query parameters, percent-decoded; a parameter not in `allowed` is an
/// error naming it (a misspelt `?pak=` would otherwise be silently ignored).
pub(crate) fn query(uri: &Uri, allowed: &[&str]) -> Result<HashMap<String, String>, ApiError> {
    let mut found = HashMap::new();
    for pair in uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key).map_err(|e| ApiError::bad_request(format!("query: {e}")))?;
        let value = percent_decode(value).map_err(|e| ApiError::bad_request(format!("query parameter {key}: {e}")).field(key.clone()))?;
        if !allowed.contains(&key.as_str()) {
            let takes = if allowed.is_empty() { "no query parameters".to_string() } else { allowed.join(", ") };
            return Err(ApiError::bad_request(format!("unknown query parameter {key:?} (this route takes {takes})")).field(key));
        }
        found.insert(key, value);
    }
    Ok(found)
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(hex.ok_or("a % not followed by two hex digits")?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once decoded".to_string())
}

pub(crate) fn flag(params: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("") | Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!("{name} must be true or false, not {other:?}")).field(name)),
    }
}

/// The request body, refusing one longer than the limit with 413 (before
/// reading it when its Content-Length says so).
pub(crate) async fn read_body(shared: &Shared, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let limit = shared.options.body_limit;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than the limit of {limit} bytes: split the batch, or start drg serve with a larger --max-body"),
        )
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn malformed(e: &serde_json::Error) -> ApiError {
    let mut error = ApiError::bad_request(format!("the body is not valid JSON: {e}"));
    (error.line, error.column) = (Some(e.line() as u64), Some(e.column() as u64));
    error
}

/// `GET /health`.
pub(crate) async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let packs: Vec<&str> = shared.packs.iter().map(|(id, _)| id.as_str()).collect();
    json_response(StatusCode::OK, &json!({"status": "ok", "version": drg_core::VERSION, "packs": packs}))
}

/// `GET /v1/packs`.
pub(crate) async fn packs(State(shared): State<Arc<Shared>>, uri: Uri) -> Result<Response, ApiError> {
    query(&uri, &[])?;
    let packs: Vec<Value> = shared
        .packs
        .iter()
        .enumerate()
        .map(|(i, (id, grouper))| {
            let pack = grouper.pack();
            let info = pack.info();
            json!({
                "id": id,
                "name": info.name,
                "description": info.description,
                "default": i == 0,
                "mdcs": info.counts.mdc,
                "adrgs": info.counts.adrg,
                "drgs": info.counts.drg,
                "diagnoses": pack.vocabulary_size(drg_core::Vocabulary::Diagnosis),
                "procedures": pack.vocabulary_size(drg_core::Vocabulary::Procedure),
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"packs": packs, "weights": shared.options.weights.is_some()})))
}

/// `POST /v1/group`: one case.
pub(crate) async fn group(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let params = query(&uri, &["pack", "explain"])?;
    let explain = flag(&params, "explain")?;
    let (pack_id, grouper) = shared.grouper(params.get("pack").map(String::as_str))?;
    let bytes = read_body(&shared, &headers, body).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| malformed(&e))?;
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(format!(
            "the body must be one case as a JSON object, not {} (for many cases: POST /v1/group/batch)",
            kind(&value)
        )));
    };
    let (case, extra) = Case::from_json_object(&object).map_err(|e| ApiError::bad_request(e.to_string()).field(e.field))?;
    let result = grouper.group_with(&case, explain);
    shared.metrics.cases(pack_id, [(result.status, 1)]);
    let mut line = Vec::with_capacity(256);
    result.write_json_line(&case.id, &extra, &mut line);
    line.pop();
    Ok(json_bytes(StatusCode::OK, line))
}

/// `GET /v1/codes/{code}`.
pub(crate) async fn code(State(shared): State<Arc<Shared>>, uri: Uri, Path(code): Path<String>) -> Result<Response, ApiError> {
    let params = query(&uri, &["pack"])?;
    let (pack_id, grouper) = shared.grouper(params.get("pack").map(String::as_str))?;
    let pack = grouper.pack();
    let found = pack.lookup(&code).ok_or_else(|| ApiError::bad_request(format!("{code:?} is not a code")).field("code"))?;
    if found.diagnosis_name.is_none() && found.procedure_name.is_none() {
        return Err(ApiError::not_found(format!("{} is in neither vocabulary of pack {pack_id}", found.code)).field("code"));
    }
    let cc: Vec<Value> = found.cc.iter().map(|(level, table)| json!({"level": level.as_str(), "table": table})).collect();
    let translates_to = match found.translates_to {
        Some(Ok(to)) => json!(to),
        Some(Err(())) => json!({"error": "its translation chain loops: never translated"}),
        None => Value::Null,
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "pack": pack_id,
            "code": found.code,
            "diagnosis_name": found.diagnosis_name,
            "procedure_name": found.procedure_name,
            "cc_level": cc_level(&found.cc),
            "cc": cc,
            "excludes_tables": found.excludes_tables,
            "or_procedure": found.or_procedure,
            "lists": found.lists,
            "translates_to": translates_to,
        }),
    ))
}

/// The highest CC level of a code, as a coder names it.
fn cc_level(cc: &[(drg_core::pack::CcLevel, &str)]) -> Option<&'static str> {
    use drg_core::pack::CcLevel;
    if cc.iter().any(|(l, _)| *l == CcLevel::Mcc) {
        Some("MCC")
    } else if cc.iter().any(|(l, _)| *l == CcLevel::Cc) {
        Some("CC")
    } else {
        None
    }
}

/// `GET /v1/codes?search=TEXT&limit=N&vocabulary=diagnosis|procedure`.
pub(crate) async fn search_codes(State(shared): State<Arc<Shared>>, uri: Uri) -> Result<Response, ApiError> {
    let params = query(&uri, &["pack", "search", "limit", "vocabulary"])?;
    let (pack_id, grouper) = shared.grouper(params.get("pack").map(String::as_str))?;
    let text = params.get("search").ok_or_else(|| ApiError::bad_request("give the text to search for: ?search=TEXT").field("search"))?;
    let limit = match params.get("limit") {
        None => 20,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("limit must be a whole number from 1 to 1000, not {n:?}")).field("limit"))?,
    };
    let vocabulary = match params.get("vocabulary").map(String::as_str) {
        None | Some("") => None,
        Some("diagnosis") => Some(drg_core::Vocabulary::Diagnosis),
        Some("procedure") => Some(drg_core::Vocabulary::Procedure),
        Some(other) => {
            return Err(ApiError::bad_request(format!("vocabulary must be diagnosis or procedure, not {other:?}")).field("vocabulary"))
        }
    };
    let pack = grouper.pack();
    let hits: Vec<_> = pack.search(text).into_iter().filter(|h| vocabulary.map_or(true, |v| h.vocabulary == v)).collect();
    let codes: Vec<Value> = hits
        .iter()
        .take(limit)
        .map(|hit| {
            let level = match hit.vocabulary {
                drg_core::Vocabulary::Diagnosis => pack.lookup(hit.code).and_then(|l| cc_level(&l.cc)),
                drg_core::Vocabulary::Procedure => None,
            };
            json!({"code": hit.code, "vocabulary": hit.vocabulary.as_str(), "name": hit.name, "cc_level": level})
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"pack": pack_id, "search": text, "total": hits.len(), "codes": codes})))
}

/// `GET /v1/drgs/{drg}`: its name, where it sits, and its weight and base
/// points when the service has a weights table.
pub(crate) async fn drg(State(shared): State<Arc<Shared>>, uri: Uri, Path(drg): Path<String>) -> Result<Response, ApiError> {
    let params = query(&uri, &["pack"])?;
    let (pack_id, grouper) = shared.grouper(params.get("pack").map(String::as_str))?;
    let wanted = drg.trim().to_ascii_uppercase();
    let place = grouper.pack().mdcs().iter().find_map(|mdc| {
        mdc.adrgs.iter().find_map(|adrg| adrg.drgs.iter().find(|d| *d.code == *wanted).map(|d| (mdc, adrg, d)))
    });
    let Some((mdc, adrg, found)) = place else {
        return Err(ApiError::not_found(format!("pack {pack_id} has no DRG {drg:?}")).field("drg"));
    };
    let weight = shared.options.weights.as_ref().and_then(|w| w.drgs.get(&*found.code));
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "pack": pack_id,
            "drg": &*found.code,
            "name": &*found.name,
            "mdc": &*mdc.code,
            "mdc_name": &*mdc.name,
            "adrg": &*adrg.code,
            "adrg_name": &*adrg.name,
            "weight": weight.map(|w| w.weight),
            "base_points": weight.map(|w| w.base_points),
            "cases": weight.map(|w| w.n),
            "unstable": weight.map(|w| w.unstable),
        }),
    ))
}
