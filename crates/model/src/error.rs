//! The one error type that crosses from the control plane to the browser.
//!
//! Each variant carries only a message that is safe to show a person. Internal detail (database
//! or driver text) is logged on the server where the error is made and never put in here.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum AppError {
    /// The caller is not signed in.
    #[error("please sign in")]
    Unauthenticated,
    /// The caller may see the resource but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist, or the caller may not see it.
    #[error("{0}")]
    NotFound(String),
    /// The input was rejected; the message says which field and why.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (a duplicate name, a stale generation).
    #[error("{0}")]
    Conflict(String),
    /// The request named a version of the resource (`If-Match`) that is no longer current.
    #[error("{0}")]
    Stale(String),
    /// Too many attempts from this client; try again later.
    #[error("too many attempts, please wait a moment and try again")]
    RateLimited,
    /// Something failed on the server; the detail is in the server's log, not here.
    #[error("something went wrong on the server (reference {0})")]
    Internal(String),
    /// The browser could not reach the server or understand its answer.
    #[error("could not reach Strata: {0}")]
    Transport(String),
}

impl AppError {
    /// HTTP status for this error when it is answered outside a server function.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Invalid(_) => 400,
            Self::Conflict(_) => 409,
            Self::Stale(_) => 412,
            Self::RateLimited => 429,
            Self::Internal(_) => 500,
            Self::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Bad arguments are the caller's fault, and their text names only the argument.
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                Self::Invalid(malformed(&m))
            }
            // On the server, a body that does not decode is a request with bad arguments (the
            // server never decodes its own responses).
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(m) => Self::Invalid(malformed(&m)),
            // These happen in the browser: the network or a response it could not read.
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Deserialization(m) => Self::Transport(m),
            ServerFnErrorErr::Request(m) => Self::Transport(m),
            // Anything else is server-side and must not leak its text.
            _ => Self::Internal("framework".into()),
        }
    }
}

/// A short message about arguments that did not decode: the decoder's words (they name the
/// field: "missing field `id`", "invalid type: integer `5`, expected a string") without its
/// position, and never more than a line.
fn malformed(detail: &str) -> String {
    let detail = detail.split(" at line ").next().unwrap_or("").trim();
    let detail: String = detail
        .chars()
        .filter(|c| !c.is_control())
        .take(160)
        .collect();
    if detail.is_empty() {
        "The request was malformed.".to_owned()
    } else {
        format!("The request was malformed: {detail}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_with_a_kind_and_a_safe_message() {
        let json = serde_json::to_string(&AppError::NotFound("no such VM".into())).unwrap();
        assert_eq!(json, r#"{"kind":"not_found","message":"no such VM"}"#);
        let back: AppError = serde_json::from_str(&json).unwrap();
        assert_eq!(back.status(), 404);
    }

    #[test]
    fn framework_errors_do_not_leak_server_text() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "relation \"vms\" does not exist".into(),
        ));
        assert!(!e.to_string().contains("vms"), "{e}");
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Args("x".into()));
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn malformed_arguments_name_the_field_without_the_position() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Args(
            "missing field `id` at line 1 column 2".into(),
        ));
        assert_eq!(
            e,
            AppError::Invalid("The request was malformed: missing field `id`.".into())
        );
    }
}
