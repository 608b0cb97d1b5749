//! Awaiting a resource inside `Suspend` safely.

use leptos::prelude::*;

/// The resource's value, or None when its page is already gone. Live events can start a
/// refetch just as a person navigates away, and awaiting a disposed resource panics.
pub async fn loaded<T: Clone + Send + Sync + 'static>(resource: Resource<T>) -> Option<T> {
    if resource.is_disposed() {
        None
    } else {
        Some(resource.await)
    }
}
