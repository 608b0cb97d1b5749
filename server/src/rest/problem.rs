//! Errors of the REST API as RFC 9457 problem details (`application/problem+json`).
//!
//! The body carries only the public message of an [`AppError`]; internal detail stays in the
//! server's log, as everywhere else.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use model::AppError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A problem detail: what went wrong, in words safe to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and `code` say what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's phrase.
    pub title: String,
    pub status: u16,
    /// What happened, for a person.
    pub detail: String,
    /// A stable name for scripts: `unauthenticated`, `forbidden`, `not_found`, `invalid`,
    /// `conflict`, `stale`, `rate_limited`, `internal`.
    pub code: String,
}

impl Problem {
    pub fn of(e: &AppError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match e {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::Stale(_) => "stale",
            AppError::RateLimited => "rate_limited",
            AppError::Internal(_) | AppError::Transport(_) => "internal",
        };
        let detail = match e {
            AppError::Unauthenticated => {
                "Send a valid API token: `Authorization: Bearer strata_...` (it may be unknown, expired or revoked).".to_owned()
            }
            other => other.to_string(),
        };
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.into(),
        }
    }
}

/// An [`AppError`] answered as a problem detail.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem::of(&self.0);
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        Self(AppError::Invalid(format!(
            "The request body is not what this call takes: {}",
            one_line(&e.body_text())
        )))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self(AppError::Invalid(format!(
            "The query string is not what this call takes: {}",
            one_line(&e.body_text())
        )))
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        Self(AppError::NotFound(format!(
            "No such resource ({}).",
            one_line(&e.body_text())
        )))
    }
}

/// The first line of a rejection's text, without positions, bounded.
fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .next()
        .unwrap_or("")
        .split(" at line ")
        .next()
        .unwrap_or("");
    line.chars().filter(|c| !c.is_control()).take(200).collect()
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_the_status_code_and_only_the_public_message() {
        let p = Problem::of(&AppError::NotFound("No such virtual machine.".into()));
        assert_eq!((p.status, p.code.as_str()), (404, "not_found"));
        assert_eq!(p.detail, "No such virtual machine.");
        let p = Problem::of(&AppError::Stale("changed".into()));
        assert_eq!(p.status, 412);
        let p = Problem::of(&AppError::Internal("ab12".into()));
        assert!(p.detail.contains("ab12") && p.status == 500);
    }
}
