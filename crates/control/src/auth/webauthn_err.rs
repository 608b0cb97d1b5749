//! WebAuthn failures as messages a person can act on; the library's detail goes to the log.

use model::AppError;
use webauthn_rs::prelude::WebauthnError;

pub(crate) fn to_app_error(e: WebauthnError) -> AppError {
    tracing::info!(error = ?e, "passkey verification failed");
    match e {
        WebauthnError::MismatchedChallenge => {
            AppError::Invalid("This passkey response does not match the request. Please try again.".into())
        }
        WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => {
            AppError::Invalid("This passkey response was made for a different site.".into())
        }
        WebauthnError::UserNotVerified => AppError::Invalid(
            "Your authenticator did not verify you. Strata requires a PIN, fingerprint or face check.".into(),
        ),
        WebauthnError::CredentialPossibleCompromise => AppError::Forbidden(
            "This passkey's signature counter went backwards, so it may have been copied. Sign-in refused.".into(),
        ),
        WebauthnError::CredentialAlteredAlgFromRequest => {
            AppError::Conflict("This passkey is already registered.".into())
        }
        _ => AppError::Invalid("The passkey could not be verified.".into()),
    }
}

/// The credential JSON from the browser, or a clear error.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, AppError> {
    serde_json::from_str(json)
        .map_err(|_| AppError::Invalid("The passkey response was malformed.".into()))
}
