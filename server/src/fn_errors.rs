//! Server-function errors answer with their own HTTP status.
//!
//! The server-function framework answers every error with 500, including the ones it makes
//! itself when arguments do not decode. Its body is always one [`AppError`], so this layer
//! reads the (small) body of a 500 and gives the response the status that error stands for:
//! a malformed request is a 400, not a server failure, and is logged as such.

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::Response,
};
use model::AppError;

/// Error bodies are a short JSON object; anything bigger is not one of ours.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn fix_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(e.status()) {
            if status.is_client_error() {
                tracing::info!(status = status.as_u16(), error = %e, "request refused");
            }
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
