//! Refreshing a page while work is under way (until live events replace polling).

use leptos::prelude::*;

/// A counter that goes up every `ms` milliseconds in the browser while `busy` says work is
/// under way; resources that read it refetch. Never ticks on the server.
pub fn tick_while(busy: impl Fn() -> bool + Send + Sync + 'static, ms: u64) -> RwSignal<u64> {
    let tick = RwSignal::new(0u64);
    let busy = std::sync::Arc::new(busy);
    Effect::new(move |_| {
        let busy = busy.clone();
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if busy() {
                    // The page may be gone by now: then there is nothing to refresh.
                    tick.try_update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(ms),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}
