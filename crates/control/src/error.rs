//! Turning internal failures into safe errors: log the detail, hand out a reference.

use model::AppError;

/// Logs `detail` with a fresh reference and returns an [`AppError::Internal`] carrying only that
/// reference, so a person can quote it and an operator can find the log line.
pub fn internal(context: &str, detail: impl std::fmt::Display) -> AppError {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    tracing::error!(%reference, context, error = %detail, "internal error");
    AppError::Internal(reference)
}

/// A unique-constraint violation becomes `conflict`; any other database error is internal.
pub(crate) fn unique_or(e: sea_orm::DbErr, conflict: AppError, context: &str) -> AppError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => conflict,
        _ => internal(context, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_carry_a_reference_and_no_detail() {
        let e = internal("loading", "password authentication failed for user x");
        match &e {
            AppError::Internal(r) => assert_eq!(r.len(), 12),
            other => panic!("unexpected {other:?}"),
        }
        assert!(!e.to_string().contains("password"));
    }
}
