//! The browser serial console: the guest's output, and a line to type into it.

use leptos::prelude::*;

use crate::components::ui;

#[component]
pub fn SerialConsole(vm_id: String) -> impl IntoView {
    let path = format!("/api/vms/{vm_id}/console");
    Effect::new(move |_| {
        crate::browser::console_attach(&path, "console-out", "console-in", "console-status");
    });
    view! {
        <section class=ui::CARD aria-labelledby="console-title">
            <div class="flex items-center justify-between">
                <h2 id="console-title" class="text-base font-semibold">"Serial console"</h2>
                <span id="console-status" class="text-xs text-slate-500 dark:text-slate-400" data-testid="console-status">"Connecting…"</span>
            </div>
            <pre id="console-out" data-testid="console-out"
                class="mt-2 h-72 overflow-auto whitespace-pre-wrap rounded-md bg-slate-950 p-3 font-mono text-xs text-slate-100"></pre>
            <input id="console-in" data-testid="console-in" class=ui::INPUT autocomplete="off" spellcheck="false"
                placeholder="Type a command and press Enter" aria-label="Console input" />
        </section>
    }
}
