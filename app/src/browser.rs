//! The few browser calls Rust cannot make through Leptos: WebAuthn, full-page navigation and
//! the serial console's WebSocket.
//!
//! Chromium, Firefox and Safari parse WebAuthn options from JSON and serialize credentials back
//! with `toJSON()`, so the glue is small. On the server these functions are never called.

use model::AppError;

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = r#"
function outcome(p) {
  return p.then(
    (cred) => JSON.stringify({ ok: JSON.stringify(cred.toJSON()) }),
    (err) => JSON.stringify({ error: (err && err.name) || 'Error', message: String((err && err.message) || err) }),
  );
}
export function passkeyCreate(options) {
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
    return Promise.resolve(JSON.stringify({ error: 'Unsupported' }));
  }
  const o = JSON.parse(options);
  return outcome(navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o.publicKey) }));
}
export function passkeyGet(options) {
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) {
    return Promise.resolve(JSON.stringify({ error: 'Unsupported' }));
  }
  const o = JSON.parse(options);
  return outcome(navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o.publicKey) }));
}
export function goTo(url) { window.location.assign(url); }
// The browser's own WHATWG parser for model::redirect: the path, query and fragment of `next`
// resolved against `base` when it keeps base's origin and has no credentials.
export function resolveOnSite(next, base) {
  try {
    const b = new URL(base);
    const u = new URL(next, b);
    if (u.origin !== b.origin || u.username || u.password) return undefined;
    return u.pathname + u.search + u.hash;
  } catch (_) {
    return undefined;
  }
}
// Live events: one WebSocket per tab to /ws, reconnecting with backoff (0.5 s doubling to
// 10 s). Each message's text goes to onEvent; the state to onStatus.
export function liveConnect(onEvent, onStatus) {
  let delay = 500;
  const connect = () => {
    onStatus('connecting');
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = () => { delay = 500; onStatus('open'); };
    ws.onmessage = (ev) => { if (typeof ev.data === 'string') onEvent(ev.data); };
    ws.onclose = (ev) => {
      if (ev.code === 4401) { onStatus('signed-out'); return; }
      onStatus('closed');
      setTimeout(connect, delay); delay = Math.min(delay * 2, 10000);
    };
  };
  connect();
}
// The serial console: a WebSocket that streams the guest's output into `out` (a <pre>) and
// sends what is typed in `input` (a line, with Enter) to the guest. Reconnects with backoff
// while the elements stay on the page.
export function consoleAttach(path, outId, inputId, statusId) {
  // One console per page: a re-rendered console replaces the previous connection.
  if (window.__strataConsole) window.__strataConsole.stop();
  let stopped = false;
  let ws = null;
  window.__strataConsole = { stop() { stopped = true; if (ws) ws.close(); } };
  let delay = 500;
  const connect = () => {
    if (stopped) return;
    const out = document.getElementById(outId);
    const input = document.getElementById(inputId);
    const status = document.getElementById(statusId);
    if (!out) return;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
    ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const decoder = new TextDecoder();
    ws.onopen = () => { delay = 500; if (status) { status.textContent = 'Connected'; status.dataset.state = 'open'; } };
    ws.onmessage = (ev) => {
      const text = typeof ev.data === 'string' ? ev.data : decoder.decode(new Uint8Array(ev.data), { stream: true });
      out.textContent += text.replace(/\r/g, '');
      if (out.textContent.length > 200000) out.textContent = out.textContent.slice(-150000);
      out.scrollTop = out.scrollHeight;
    };
    ws.onclose = (ev) => {
      if (status) { status.textContent = ev.reason || 'Disconnected'; status.dataset.state = 'closed'; }
      if (stopped || ev.code === 4403 || ev.code === 4401 || !document.getElementById(outId)) return;
      setTimeout(connect, delay); delay = Math.min(delay * 2, 10000);
    };
    if (input) {
      input.onkeydown = (ev) => {
        if (ev.key === 'Enter' && ws.readyState === WebSocket.OPEN) {
          ws.send(input.value + '\n'); input.value = ''; ev.preventDefault();
        }
      };
    }
  };
  connect();
}
"#)]
    extern "C" {
        #[wasm_bindgen(js_name = passkeyCreate)]
        pub fn passkey_create(options: &str) -> js_sys::Promise;
        #[wasm_bindgen(js_name = passkeyGet)]
        pub fn passkey_get(options: &str) -> js_sys::Promise;
        #[wasm_bindgen(js_name = goTo)]
        pub fn go_to(url: &str);
        #[wasm_bindgen(js_name = resolveOnSite)]
        pub fn resolve_on_site(next: &str, base: &str) -> Option<String>;
        #[wasm_bindgen(js_name = liveConnect)]
        pub fn live_connect(on_event: &js_sys::Function, on_status: &js_sys::Function);
        #[wasm_bindgen(js_name = consoleAttach)]
        pub fn console_attach(path: &str, out_id: &str, input_id: &str, status_id: &str);
    }
}

#[cfg(feature = "hydrate")]
#[derive(serde::Deserialize)]
struct Outcome {
    ok: Option<String>,
    error: Option<String>,
}

/// Runs `navigator.credentials.create` (register) or `.get` (sign in) with the server's options;
/// returns the credential as JSON, or an error a person can act on.
pub async fn passkey(options: &str, register: bool) -> Result<String, AppError> {
    #[cfg(feature = "hydrate")]
    {
        let promise = if register {
            js::passkey_create(options)
        } else {
            js::passkey_get(options)
        };
        let value = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|_| AppError::Transport("the browser's passkey support failed".into()))?;
        let text = value.as_string().unwrap_or_default();
        let outcome: Outcome = serde_json::from_str(&text)
            .map_err(|_| AppError::Transport("the browser's passkey support failed".into()))?;
        match (outcome.ok, outcome.error.as_deref()) {
            (Some(cred), _) => Ok(cred),
            (None, Some("NotAllowedError")) => Err(AppError::Invalid(if register {
                "Passkey creation was cancelled or timed out.".into()
            } else {
                "Sign-in was cancelled, or this browser has no passkey for Strata.".into()
            })),
            (None, Some("InvalidStateError")) => Err(AppError::Conflict(
                "This authenticator already holds a passkey for this account.".into(),
            )),
            (None, Some("Unsupported")) => Err(AppError::Invalid(
                "This browser does not support passkeys.".into(),
            )),
            (None, _) => Err(AppError::Invalid("The passkey request failed.".into())),
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (options, register);
        Err(AppError::Invalid("Passkeys need JavaScript.".into()))
    }
}

/// A full page load, so the server renders with the new session.
pub fn go_to(url: &str) {
    #[cfg(feature = "hydrate")]
    js::go_to(url);
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// Where to go after signing in: `next` when it is a path on this site, else `/`
/// (`model::redirect`), parsed by the browser's own URL parser.
pub fn safe_next(next: Option<&str>) -> String {
    #[cfg(feature = "hydrate")]
    {
        model::redirect::safe_next_with(next, js::resolve_on_site)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        model::redirect::safe_next(next)
    }
}

/// Opens the tab's live-event connection (in the browser only); the callbacks get each
/// event's JSON text and each change of the connection's state.
pub fn live_connect(
    on_event: impl FnMut(String) + 'static,
    on_status: impl FnMut(String) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let on_event = Closure::<dyn FnMut(String)>::new(on_event).into_js_value();
        let on_status = Closure::<dyn FnMut(String)>::new(on_status).into_js_value();
        js::live_connect(on_event.unchecked_ref(), on_status.unchecked_ref());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (on_event, on_status);
}

/// Connects the serial console elements to the VM's console WebSocket (in the browser only).
pub fn console_attach(path: &str, out_id: &str, input_id: &str, status_id: &str) {
    #[cfg(feature = "hydrate")]
    js::console_attach(path, out_id, input_id, status_id);
    #[cfg(not(feature = "hydrate"))]
    let _ = (path, out_id, input_id, status_id);
}
