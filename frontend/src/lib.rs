//! The browser entry point: hydrate the server-rendered page, nothing else. The pages are
//! lazy routes (app/src/routes.rs): `hydrate_lazy` loads the current page's WASM chunk first.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
