//! DIP (按病种分值付费) over HTTP: `POST /v1/dip/group`, present when the
//! service was started with a catalogue and a policy (`drg serve
//! --catalogue C --policy P`). Grouping and scoring are drg-core's
//! ([`drg_core::dip::Dip`]); this only translates the request and answer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use drg_core::Case;
use serde_json::Value;

use crate::api::{flag, json_response, kind, malformed, query, read_body, ApiError};
use crate::Shared;

/// `POST /v1/dip/group[?explain=true]`: one case (the fields of cases.md) →
/// its DIP keys, group, severity and, with a `total_cost` above 0, its
/// score and points; with `explain=true`, the trail `drg dip explain` gives.
/// The answer is the object of `drg dip explain --json`, without `explain`
/// unless asked for.
pub(crate) async fn group(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let params = query(&uri, &["explain"])?;
    let explain = flag(&params, "explain")?;
    let Some(dip) = shared.options.dip.as_deref() else {
        return Err(ApiError::not_found(
            "DIP grouping is not enabled on this service: start it with `drg serve --catalogue CATALOGUE.csv --policy POLICY.toml`",
        ));
    };
    let bytes = read_body(&shared, &headers, body).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| malformed(&e))?;
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(format!("the body must be one case as a JSON object, not {}", kind(&value))));
    };
    let (case, _extra) = Case::from_json_object(&object).map_err(|e| ApiError::bad_request(e.to_string()).field(e.field))?;
    let explanation = dip.explain(&case);
    shared.metrics.dip_case(explanation.status.as_str());
    let mut answer = explanation.to_json(&case.id);
    if !explain {
        if let Value::Object(o) = &mut answer {
            o.remove("explain");
        }
    }
    Ok(json_response(StatusCode::OK, &answer))
}
