//! What a server function needs from the request: the control plane (and, later, the caller).

use control::Control;
use leptos::prelude::use_context;
use model::AppError;

/// The control plane provided to every server function by the server's router.
pub fn control() -> Result<Control, AppError> {
    use_context::<Control>().ok_or_else(|| control::internal("server fn", "Control not in context"))
}
