//! Passkey flows through the real server routes with a software authenticator (no browser):
//! sign-up, both sign-in styles, the ways a ceremony must fail, sessions, links and limits.
//!
//! webauthn-authenticator-rs's SoftPasskey cannot hold resident keys, so for the one-click
//! flow the test plays the part a discoverable authenticator plays itself: it relaxes the
//! resident-key request before registering, names the credential in `allowCredentials`, and
//! returns the user handle. Everything the server checks (challenge, origin, signature, user
//! verification, counter) is real. Chromium's virtual authenticator covers the genuine
//! resident-key flow in end2end/.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{Duration, Utc};
use control::testing::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use server::{ratelimit::RateLimiter, router, serve::leptos_options, AppState};
use tower::ServiceExt;
use webauthn_authenticator_rs::{softpasskey::SoftPasskey, WebauthnAuthenticator};
use webauthn_rs::prelude::Url;

const ORIGIN: &str = "http://localhost:3000";

struct App {
    router: axum::Router,
    control: control::Control,
    _db: TestDb,
}

async fn app_with(limit: u32, auth: control::auth::AuthConfig) -> App {
    let db = TestDb::new().await;
    let control = db.control_with(auth).await;
    let state = AppState {
        leptos_options: leptos_options(&std::env::temp_dir().join("strata-no-site")),
        control: control.clone(),
        auth_limiter: RateLimiter::per_minute(limit),
        api_limiter: RateLimiter::per_minute(1000),
        trusted_proxies: Default::default(),
        metrics: Default::default(),
    };
    App {
        router: router::build(state),
        control,
        _db: db,
    }
}

async fn app() -> App {
    app_with(1000, control::auth::AuthConfig::new(ORIGIN)).await
}

impl App {
    /// (action, outcome, actor) of every audit row, oldest first.
    /// Audit rows of what people did (not Strata's own start-up work, such as registering
    /// the ready image).
    async fn audit(&self) -> Vec<(String, String, String)> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        control::entities::audit::Entity::find()
            .filter(control::entities::audit::Column::Action.ne("image.register"))
            .order_by_asc(control::entities::audit::Column::Id)
            .all(control::testing::db(&self.control))
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.action, r.outcome, r.actor_name))
            .collect()
    }

    /// The actions of successful audit rows, oldest first.
    async fn done(&self) -> Vec<String> {
        self.audit()
            .await
            .into_iter()
            .filter(|(_, outcome, _)| outcome == "success")
            .map(|(action, _, _)| action)
            .collect()
    }
}

struct Reply {
    status: StatusCode,
    json: Value,
    cookie: Option<String>,
}

impl App {
    /// Calls a server function the way a browser form post does.
    async fn call(&self, path: &str, form: &[(&str, &str)], token: Option<&str>) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, ORIGIN);
        if let Some(t) = token {
            req = req.header(header::COOKIE, format!("strata_session={t}"));
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            json,
            cookie,
        }
    }

    async fn me(&self, token: &str) -> Value {
        self.call("/api/session/me", &[], Some(token)).await.json
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn token_of(reply: &Reply) -> String {
    let c = reply.cookie.as_deref().expect("a Set-Cookie header");
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
    c.split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("strata_session="))
        .expect("the session cookie")
        .to_owned()
}

/// A person's software authenticator and what it registered.
struct Device {
    auth: WebauthnAuthenticator<SoftPasskey>,
    origin: Url,
    cred_id: String,
    user_id: String,
}

impl Device {
    fn new() -> Self {
        Self::at(ORIGIN)
    }

    fn at(origin: &str) -> Self {
        Self {
            // `true`: the soft authenticator claims user verification, as a PIN or sensor would.
            auth: WebauthnAuthenticator::new(SoftPasskey::new(true)),
            origin: Url::parse(origin).unwrap(),
            cred_id: String::new(),
            user_id: String::new(),
        }
    }

    /// Answers registration options; `uv` false asks the authenticator not to verify the user.
    fn register(&mut self, options: &str, uv: bool) -> String {
        let mut o: Value = serde_json::from_str(options).unwrap();
        let sel = &mut o["publicKey"]["authenticatorSelection"];
        assert_eq!(
            sel["residentKey"], "required",
            "Strata asks for a discoverable credential"
        );
        assert_eq!(sel["userVerification"], "required");
        sel["residentKey"] = json!("discouraged");
        sel["requireResidentKey"] = json!(false);
        if !uv {
            sel["userVerification"] = json!("discouraged");
        }
        let ccr = serde_json::from_value(o).unwrap();
        let cred = self.auth.do_registration(self.origin.clone(), ccr).unwrap();
        self.cred_id = cred.id.clone();
        serde_json::to_string(&cred).unwrap()
    }

    /// Answers authentication options, as a discoverable authenticator would when
    /// `discoverable` (naming its credential and returning the user handle).
    fn authenticate(&mut self, options: &str, discoverable: bool, uv: bool) -> String {
        let mut o: Value = serde_json::from_str(options).unwrap();
        if discoverable {
            assert_eq!(o["publicKey"]["allowCredentials"], json!([]));
            o["publicKey"]["allowCredentials"] =
                json!([{ "type": "public-key", "id": self.cred_id }]);
        }
        if !uv {
            o["publicKey"]["userVerification"] = json!("discouraged");
        }
        let rcr = serde_json::from_value(o).unwrap();
        let cred = self
            .auth
            .do_authentication(self.origin.clone(), rcr)
            .unwrap();
        let mut v = serde_json::to_value(&cred).unwrap();
        if discoverable {
            let uuid = sea_orm::prelude::Uuid::parse_str(&self.user_id).unwrap();
            v["response"]["userHandle"] = json!(URL_SAFE_NO_PAD.encode(uuid.as_bytes()));
        }
        v.to_string()
    }
}

/// Signs up `username` with a fresh device; returns the device and the session token.
async fn sign_up(app: &App, username: &str, invite: Option<&str>) -> (Device, String) {
    let mut form = vec![("username", username), ("display_name", "Test Person")];
    if let Some(i) = invite {
        form.push(("invite", i));
    }
    let start = app.call("/api/auth/begin_signup", &form, None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.json);
    let mut device = Device::new();
    let cred = device.register(start.json["options"].as_str().unwrap(), true);
    let done = app
        .call(
            "/api/auth/finish_signup",
            &[
                ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
                ("credential", &cred),
            ],
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.json);
    device.user_id = done.json["id"].as_str().unwrap().to_owned();
    let token = token_of(&done);
    (device, token)
}

async fn begin_signin(app: &App, username: Option<&str>) -> (String, String) {
    let form: Vec<(&str, &str)> = username.map(|u| ("username", u)).into_iter().collect();
    let start = app.call("/api/auth/begin_signin", &form, None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.json);
    (
        start.json["ceremony_id"].as_str().unwrap().to_owned(),
        start.json["options"].as_str().unwrap().to_owned(),
    )
}

async fn finish_signin(app: &App, ceremony: &str, cred: &str, token: Option<&str>) -> Reply {
    app.call(
        "/api/auth/finish_signin",
        &[("ceremony_id", ceremony), ("credential", cred)],
        token,
    )
    .await
}

#[tokio::test]
async fn first_account_is_admin_and_both_sign_in_styles_work() {
    let app = app().await;
    let (mut device, token) = sign_up(&app, "ada", None).await;
    let me = app.me(&token).await;
    assert_eq!(me["username"], "ada");
    assert_eq!(
        me["is_admin"], true,
        "the first account is the platform admin"
    );

    // One click: no username typed.
    let (ceremony, options) = begin_signin(&app, None).await;
    let cred = device.authenticate(&options, true, true);
    let done = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.json);
    let t1 = token_of(&done);
    assert_eq!(app.me(&t1).await["username"], "ada");

    // Username first.
    let (ceremony, options) = begin_signin(&app, Some("ada")).await;
    let cred = device.authenticate(&options, true, true);
    let done = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.json);
    assert_ne!(token_of(&done), t1);

    assert_eq!(
        app.done().await,
        ["account.sign_up", "session.sign_in", "session.sign_in"],
        "one audit row per change"
    );
    let rows = app.audit().await;
    assert!(rows.iter().all(|(_, _, actor)| actor == "ada"), "{rows:?}");
}

#[tokio::test]
async fn sign_in_and_sign_up_answer_alike_for_unknown_and_existing_usernames() {
    let app = app().await;
    let (mut device, _) = sign_up(&app, "ada", None).await;

    // Username first: the same shape for an account that exists and one that does not, and
    // nobody's credential ids.
    let shape = |options: &str| {
        let mut o: Value = serde_json::from_str(options).unwrap();
        o["publicKey"]["challenge"] = Value::Null;
        o
    };
    let (_, known) = begin_signin(&app, Some("ada")).await;
    let (_, unknown) = begin_signin(&app, Some("nobody")).await;
    let (_, none) = begin_signin(&app, None).await;
    assert_eq!(shape(&known), shape(&unknown));
    assert_eq!(shape(&known), shape(&none));
    assert_eq!(shape(&known)["publicKey"]["allowCredentials"], json!([]));
    assert!(!known.contains(&device.cred_id), "{known}");

    // A typed name is held to at the end: another account's passkey does not sign in as it.
    let (ceremony, options) = begin_signin(&app, Some("nobody")).await;
    let cred = device.authenticate(&options, true, true);
    let wrong = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.json);
    assert!(wrong.cookie.is_none());

    // Sign-up on an invite-only installation: no invite, no word on whether a name is taken.
    let ask = |name: &'static str| {
        let app = &app;
        async move {
            app.call(
                "/api/auth/begin_signup",
                &[("username", name), ("display_name", "Someone")],
                None,
            )
            .await
        }
    };
    let taken = ask("ada").await;
    let free = ask("zed").await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN, "{}", taken.json);
    assert_eq!((taken.status, &taken.json), (free.status, &free.json));
    assert_eq!(app.done().await, ["account.sign_up"]);
}

#[tokio::test]
async fn a_replayed_ceremony_a_wrong_origin_and_missing_verification_fail() {
    let app = app().await;
    let (mut device, _) = sign_up(&app, "ada", None).await;

    let (ceremony, options) = begin_signin(&app, None).await;
    let cred = device.authenticate(&options, true, true);
    assert_eq!(
        finish_signin(&app, &ceremony, &cred, None).await.status,
        StatusCode::OK
    );
    let replay = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.json["message"]
        .as_str()
        .unwrap()
        .contains("expired or was already used"));

    // The same response offered to a different challenge.
    let (other, _) = begin_signin(&app, None).await;
    let mismatched = finish_signin(&app, &other, &cred, None).await;
    assert_eq!(
        mismatched.status,
        StatusCode::BAD_REQUEST,
        "{}",
        mismatched.json
    );

    // A response made for another site.
    let (ceremony, options) = begin_signin(&app, None).await;
    let mut phish = Device::at("http://localhost:4444");
    phish.cred_id = device.cred_id.clone();
    phish.user_id = device.user_id.clone();
    std::mem::swap(&mut phish.auth, &mut device.auth);
    let cred = phish.authenticate(&options, true, true);
    let wrong = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong.json["message"]
            .as_str()
            .unwrap()
            .contains("different site"),
        "{}",
        wrong.json
    );

    // No user verification.
    std::mem::swap(&mut phish.auth, &mut device.auth);
    let (ceremony, options) = begin_signin(&app, None).await;
    let cred = device.authenticate(&options, true, false);
    let unverified = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(unverified.status, StatusCode::BAD_REQUEST);
    assert!(unverified.json["message"]
        .as_str()
        .unwrap()
        .contains("did not verify you"));

    let start = app
        .call(
            "/api/auth/begin_signup",
            &[("username", "bob"), ("display_name", "Bob")],
            None,
        )
        .await;
    // Invite-only once an admin exists.
    assert_eq!(start.status, StatusCode::FORBIDDEN, "{}", start.json);
}

#[tokio::test]
async fn registration_without_user_verification_is_refused() {
    let app = app().await;
    let start = app
        .call(
            "/api/auth/begin_signup",
            &[("username", "ada"), ("display_name", "Ada")],
            None,
        )
        .await;
    let mut device = Device::new();
    let cred = device.register(start.json["options"].as_str().unwrap(), false);
    let done = app
        .call(
            "/api/auth/finish_signup",
            &[
                ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
                ("credential", &cred),
            ],
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::BAD_REQUEST, "{}", done.json);
    assert!(done.cookie.is_none());
    let status = app.call("/api/session/signup_status", &[], None).await;
    assert_eq!(status.json["first_account"], true, "nothing was created");
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused() {
    let app = app().await;
    let (mut device, _) = sign_up(&app, "ada", None).await;
    // Pretend the authenticator was seen at a far higher counter: its next use looks cloned.
    use sea_orm::EntityTrait;
    let row = control::entities::passkey::Entity::find()
        .one(control::testing::db(&app.control))
        .await
        .unwrap()
        .unwrap();
    let mut pk: Value = serde_json::from_str(&row.passkey).unwrap();
    pk["cred"]["counter"] = json!(1000);
    let mut active: control::entities::passkey::ActiveModel = row.into();
    active.passkey = sea_orm::ActiveValue::Set(pk.to_string());
    sea_orm::ActiveModelTrait::update(active, control::testing::db(&app.control))
        .await
        .unwrap();
    let (ceremony, options) = begin_signin(&app, None).await;
    let cred = device.authenticate(&options, true, true);
    let refused = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.json);
    assert!(refused.json["message"]
        .as_str()
        .unwrap()
        .contains("counter"));
}

#[tokio::test]
async fn sessions_rotate_end_on_sign_out_and_can_be_revoked() {
    let app = app().await;
    let (mut device, first) = sign_up(&app, "ada", None).await;

    // Signing in again from a browser that holds a session replaces it.
    let (ceremony, options) = begin_signin(&app, None).await;
    let cred = device.authenticate(&options, true, true);
    let second = token_of(&finish_signin(&app, &ceremony, &cred, Some(&first)).await);
    assert_ne!(first, second);
    assert_eq!(app.me(&first).await, Value::Null, "the old session ended");
    assert_eq!(app.me(&second).await["username"], "ada");

    // A second device.
    let (ceremony, options) = begin_signin(&app, Some("ada")).await;
    let cred = device.authenticate(&options, true, true);
    let third = token_of(&finish_signin(&app, &ceremony, &cred, None).await);
    let list = app.call("/api/security/sessions", &[], Some(&third)).await;
    assert_eq!(list.json.as_array().unwrap().len(), 2);

    let revoked = app
        .call("/api/security/revoke_other_sessions", &[], Some(&third))
        .await;
    assert_eq!(revoked.json, json!(1));
    assert_eq!(app.me(&second).await, Value::Null);
    assert_eq!(app.me(&third).await["username"], "ada");

    let out = app.call("/api/session/sign_out", &[], Some(&third)).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(app.me(&third).await, Value::Null);
    let after = app.call("/api/security/sessions", &[], Some(&third)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.done().await,
        [
            "account.sign_up",
            // Signing in over a live session ends the old session.
            "session.sign_in",
            "session.sign_out",
            "session.sign_in",
            "session.revoke_others",
            "session.sign_out"
        ]
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_end() {
    let mut auth = control::auth::AuthConfig::new(ORIGIN);
    auth.idle_timeout = Duration::minutes(30);
    auth.absolute_timeout = Duration::hours(2);
    let app = app_with(1000, auth).await;
    let (_, token) = sign_up(&app, "ada", None).await;
    let c = &app.control;
    let t0 = Utc::now();
    assert!(c
        .resolve_session(&token, t0 + Duration::minutes(29))
        .await
        .unwrap()
        .is_some());
    // Kept alive by use every 29 minutes, it still ends at the absolute limit.
    let mut t = t0 + Duration::minutes(29);
    while t < t0 + Duration::minutes(115) {
        t += Duration::minutes(29);
        assert!(
            c.resolve_session(&token, t).await.unwrap().is_some(),
            "alive at {t}"
        );
    }
    assert!(c
        .resolve_session(&token, t0 + Duration::hours(2))
        .await
        .unwrap()
        .is_none());

    let (_, idle) = control::testing::user_with_session(c, "bob", false).await;
    assert!(c
        .resolve_session(&idle, Utc::now() + Duration::minutes(31))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_expired_ceremony_fails() {
    let app = app().await;
    let (mut device, _) = sign_up(&app, "ada", None).await;
    let now = Utc::now();
    let start = app.control.begin_signin(None, now).await.unwrap();
    let cred = device.authenticate(&start.options, true, true);
    let client = control::auth::ClientInfo::new("127.0.0.1", "test");
    let late = app
        .control
        .finish_signin(
            &start.ceremony_id,
            &cred,
            &client,
            now + Duration::minutes(6),
        )
        .await
        .unwrap_err();
    assert!(late.to_string().contains("expired"), "{late}");
}

#[tokio::test]
async fn passkeys_can_be_added_renamed_and_removed_but_never_the_last() {
    let app = app().await;
    let (device, token) = sign_up(&app, "ada", None).await;
    let list = app.call("/api/security/passkeys", &[], Some(&token)).await;
    let only = list.json[0]["id"].as_str().unwrap().to_owned();
    let last = app
        .call(
            "/api/security/remove_passkey",
            &[("id", &only)],
            Some(&token),
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.json);

    let start = app
        .call("/api/security/begin_add_passkey", &[], Some(&token))
        .await;
    let options: Value = serde_json::from_str(start.json["options"].as_str().unwrap()).unwrap();
    assert_eq!(
        options["publicKey"]["excludeCredentials"][0]["id"], device.cred_id,
        "the browser is told not to register the same authenticator twice"
    );
    let mut second = Device::new();
    let cred = second.register(start.json["options"].as_str().unwrap(), true);
    let added = app
        .call(
            "/api/security/finish_add_passkey",
            &[
                ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
                ("credential", &cred),
            ],
            Some(&token),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.json);
    let renamed = app
        .call(
            "/api/security/rename_passkey",
            &[("id", &only), ("name", "Laptop")],
            Some(&token),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let bad = app
        .call(
            "/api/security/rename_passkey",
            &[("id", &only), ("name", "  ")],
            Some(&token),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let removed = app
        .call(
            "/api/security/remove_passkey",
            &[("id", &only)],
            Some(&token),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    let list = app.call("/api/security/passkeys", &[], Some(&token)).await;
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    assert_eq!(list.json[0]["name"], "Passkey 2");
    // The refused removal of the last passkey and the bad rename left no success rows.
    assert_eq!(
        app.done().await,
        [
            "account.sign_up",
            "passkey.add",
            "passkey.rename",
            "passkey.remove"
        ]
    );
}

#[tokio::test]
async fn invites_disabling_and_recovery_links() {
    let app = app().await;
    let (_, admin) = sign_up(&app, "ada", None).await;
    let invite = app
        .call("/api/admin/create_invite", &[], Some(&admin))
        .await;
    let url = invite.json["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://localhost:3000/signup?invite="),
        "{url}"
    );
    let code = url.rsplit('=').next().unwrap().to_owned();
    // Anyone holding the link learns who sent it and until when it works, nothing else.
    let info = app
        .call("/api/session/invite", &[("invite", &code)], None)
        .await;
    assert_eq!(info.status, StatusCode::OK, "{:?}", info.json);
    assert_eq!(
        info.json["invited_by"],
        app.me(&admin).await["display_name"]
    );
    assert!(info.json["expires_at"].is_string());
    let unknown = app
        .call("/api/session/invite", &[("invite", "not-a-token")], None)
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);

    let (mut bob, bob_token) = sign_up(&app, "bob", Some(&code)).await;
    assert_eq!(app.me(&bob_token).await["is_admin"], false);
    let twice = app
        .call(
            "/api/auth/begin_signup",
            &[
                ("username", "carol"),
                ("display_name", "C"),
                ("invite", &code),
            ],
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::FORBIDDEN, "an invite works once");
    let used = app
        .call("/api/session/invite", &[("invite", &code)], None)
        .await;
    assert_eq!(used.status, StatusCode::FORBIDDEN);
    assert!(
        used.json.to_string().contains("already been used"),
        "{:?}",
        used.json
    );

    // Members cannot administer.
    let denied = app.call("/api/admin/users", &[], Some(&bob_token)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let bob_id = bob.user_id.clone();
    let off = app
        .call(
            "/api/admin/set_user_disabled",
            &[("user_id", &bob_id), ("disabled", "true")],
            Some(&admin),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.json);
    assert_eq!(
        app.me(&bob_token).await,
        Value::Null,
        "disabling ends every session"
    );
    let (ceremony, options) = begin_signin(&app, None).await;
    let cred = bob.authenticate(&options, true, true);
    let refused = finish_signin(&app, &ceremony, &cred, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.json["message"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    app.call(
        "/api/admin/set_user_disabled",
        &[("user_id", &bob_id), ("disabled", "false")],
        Some(&admin),
    )
    .await;

    // Bob lost his passkey: a recovery link lets him register a new one, once.
    let link = app
        .call(
            "/api/admin/create_recovery_link",
            &[("user_id", &bob_id)],
            Some(&admin),
        )
        .await;
    let token = link.json["url"]
        .as_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_owned();
    let start = app
        .call("/api/auth/begin_recovery", &[("token", &token)], None)
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.json);
    let mut new_device = Device::new();
    let cred = new_device.register(start.json["options"].as_str().unwrap(), true);
    let done = app
        .call(
            "/api/auth/finish_recovery",
            &[
                ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
                ("credential", &cred),
            ],
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.json);
    assert_eq!(app.me(&token_of(&done)).await["username"], "bob");
    let again = app
        .call("/api/auth/begin_recovery", &[("token", &token)], None)
        .await;
    assert_eq!(
        again.status,
        StatusCode::FORBIDDEN,
        "a recovery link works once"
    );

    // Expired links fail too.
    let now = Utc::now();
    let who = app
        .control
        .resolve_session(&admin, now)
        .await
        .unwrap()
        .unwrap();
    let late = app.control.create_invite(&who, now).await.unwrap();
    let code = late.url.rsplit('=').next().unwrap().to_owned();
    let input = control::auth::signup::SignupInput {
        username: "dave".into(),
        display_name: "Dave".into(),
        invite: Some(code),
    };
    let expired = app
        .control
        .begin_signup(input, now + Duration::hours(73))
        .await
        .unwrap_err();
    assert_eq!(expired.status(), 403);
    let done = app.done().await;
    for action in [
        "user.invite",
        "user.disable",
        "user.enable",
        "user.recovery_link",
        "account.recover",
    ] {
        assert!(
            done.iter().any(|a| a == action),
            "{action} missing from {done:?}"
        );
    }
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_address_without_blocking_the_rest() {
    let app = app_with(3, control::auth::AuthConfig::new(ORIGIN)).await;
    for _ in 0..3 {
        assert_eq!(
            app.call("/api/auth/begin_signin", &[], None).await.status,
            StatusCode::OK
        );
    }
    let limited = app.call("/api/auth/begin_signin", &[], None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.json["kind"], "rate_limited");
    // Pages and the session endpoint are not part of the limit.
    assert_eq!(
        app.call("/api/session/signup_status", &[], None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn two_simultaneous_first_sign_ups_make_one_admin() {
    let app = app().await;
    let c = &app.control;
    let now = Utc::now();
    let input = |name: &str| control::auth::signup::SignupInput {
        username: name.into(),
        display_name: name.into(),
        invite: None,
    };
    // Both begin while the installation is empty, so both were offered the admin account.
    let a = c.begin_signup(input("ada"), now).await.unwrap();
    let b = c.begin_signup(input("bob"), now).await.unwrap();
    let cred_a = Device::new().register(&a.options, true);
    let cred_b = Device::new().register(&b.options, true);
    let client = control::auth::ClientInfo::new("127.0.0.1", "test");
    let (ra, rb) = tokio::join!(
        c.finish_signup(&a.ceremony_id, &cred_a, &client, now),
        c.finish_signup(&b.ceremony_id, &cred_b, &client, now),
    );
    let admins = [ra, rb]
        .into_iter()
        .filter_map(Result::ok)
        .filter(|(me, _)| me.is_admin)
        .count();
    assert_eq!(admins, 1);
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let stored = control::entities::user::Entity::find()
        .filter(control::entities::user::Column::IsAdmin.eq(true))
        .count(control::testing::db(c))
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

/// Makes every session's last passkey check `age` old.
async fn verified_ago(app: &App, age: Duration) {
    use sea_orm::EntityTrait;
    control::entities::session::Entity::update_many()
        .col_expr(
            control::entities::session::Column::VerifiedAt,
            sea_orm::sea_query::Expr::value(Some(Utc::now() - age)),
        )
        .exec(control::testing::db(&app.control))
        .await
        .unwrap();
}

/// Runs the reauthentication ceremony for `token` with `device`.
async fn reauth(app: &App, device: &mut Device, token: &str, uv: bool) -> Reply {
    let start = app
        .call("/api/security/begin_reauth", &[], Some(token))
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.json);
    let options = start.json["options"].as_str().unwrap();
    let o: Value = serde_json::from_str(options).unwrap();
    assert_eq!(o["publicKey"]["userVerification"], "required");
    assert_eq!(
        o["publicKey"]["allowCredentials"][0]["id"], device.cred_id,
        "only the caller's own passkeys"
    );
    let cred = device.authenticate(options, false, uv);
    app.call(
        "/api/security/finish_reauth",
        &[
            ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
            ("credential", &cred),
        ],
        Some(token),
    )
    .await
}

#[tokio::test]
async fn passkey_and_session_changes_need_a_fresh_passkey_confirmation() {
    let app = app().await;
    let (mut device, token) = sign_up(&app, "ada", None).await;
    // A second session (another browser) to revoke.
    let (ceremony, options) = begin_signin(&app, Some("ada")).await;
    let cred = device.authenticate(&options, true, true);
    let other = token_of(&finish_signin(&app, &ceremony, &cred, None).await);
    let sessions = app.call("/api/security/sessions", &[], Some(&token)).await;
    let other_id = sessions
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let passkeys = app.call("/api/security/passkeys", &[], Some(&token)).await;
    let first_key = passkeys.json[0]["id"].as_str().unwrap().to_owned();

    // Six minutes after the last passkey check, a cookie alone changes nothing.
    verified_ago(&app, Duration::minutes(6)).await;
    let refusals = [
        ("/api/security/begin_add_passkey", vec![]),
        (
            "/api/security/finish_add_passkey",
            vec![("ceremony_id", "x"), ("credential", "x")],
        ),
        (
            "/api/security/remove_passkey",
            vec![("id", first_key.as_str())],
        ),
        (
            "/api/security/revoke_session",
            vec![("id", other_id.as_str())],
        ),
        ("/api/security/revoke_other_sessions", vec![]),
    ];
    let refuse_all = |label: &'static str| {
        let app = &app;
        let token = &token;
        let refusals = &refusals;
        async move {
            for (path, form) in refusals {
                let r = app.call(path, form, Some(token)).await;
                // finish_add_passkey with a made-up ceremony fails on the ceremony first.
                if *path == "/api/security/finish_add_passkey" {
                    assert_ne!(r.status, StatusCode::OK, "{label}: {path}");
                    continue;
                }
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{label}: {path}: {}",
                    r.json
                );
                assert_eq!(
                    r.json,
                    json!({"kind": "forbidden", "message": "Confirm with your passkey first."}),
                    "{label}: {path}"
                );
            }
        }
    };
    refuse_all("stale").await;
    assert_eq!(
        app.me(&other).await["username"],
        "ada",
        "nothing was revoked"
    );

    // A passkey check without user verification does not count.
    let unverified = reauth(&app, &mut device, &token, false).await;
    assert_eq!(
        unverified.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unverified.json
    );
    refuse_all("after an unverified check").await;

    // Someone else's session cannot finish this session's check.
    let (_, bob) = {
        let invite = app
            .call("/api/admin/create_invite", &[], Some(&other))
            .await;
        let code = invite.json["url"]
            .as_str()
            .unwrap()
            .rsplit('=')
            .next()
            .unwrap()
            .to_owned();
        sign_up(&app, "bob", Some(&code)).await
    };
    let start = app
        .call("/api/security/begin_reauth", &[], Some(&token))
        .await;
    let cred = device.authenticate(start.json["options"].as_str().unwrap(), false, true);
    let stolen = app
        .call(
            "/api/security/finish_reauth",
            &[
                ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
                ("credential", &cred),
            ],
            Some(&bob),
        )
        .await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST, "{}", stolen.json);
    refuse_all("after another session's attempt").await;

    // With a verified passkey check every change goes through.
    let ok = reauth(&app, &mut device, &token, true).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    let start = app
        .call("/api/security/begin_add_passkey", &[], Some(&token))
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.json);
    let mut second = Device::new();
    let cred = second.register(start.json["options"].as_str().unwrap(), true);
    let added = app
        .call(
            "/api/security/finish_add_passkey",
            &[
                ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
                ("credential", &cred),
            ],
            Some(&token),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.json);
    let removed = app
        .call(
            "/api/security/remove_passkey",
            &[("id", &first_key)],
            Some(&token),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.json);
    let revoked = app
        .call(
            "/api/security/revoke_session",
            &[("id", &other_id)],
            Some(&token),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.json);
    assert_eq!(app.me(&other).await, Value::Null);

    // The confirmation lasts a few minutes, not for ever.
    verified_ago(&app, Duration::minutes(6)).await;
    let late = app
        .call("/api/security/revoke_other_sessions", &[], Some(&token))
        .await;
    assert_eq!(late.status, StatusCode::FORBIDDEN, "{}", late.json);
    let done = app.done().await;
    assert!(
        done.iter()
            .filter(|a| *a == "session.reauthenticate")
            .count()
            == 1,
        "one successful check: {done:?}"
    );
}

impl App {
    /// Calls a server function as it arrives through a socket from `peer` with an
    /// `X-Forwarded-For`.
    async fn call_via(&self, path: &str, form: &[(&str, &str)], peer: &str, xff: &str) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, ORIGIN)
            .header("x-forwarded-for", xff)
            .body(Body::from(body))
            .unwrap();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            json,
            cookie,
        }
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_sessions_and_audit_rows_name_the_forwarded_client() {
    let db = TestDb::new().await;
    let control = db
        .control_with(control::auth::AuthConfig::new(ORIGIN))
        .await;
    let state = AppState {
        leptos_options: leptos_options(&std::env::temp_dir().join("strata-no-site")),
        control: control.clone(),
        auth_limiter: RateLimiter::per_minute(1000),
        api_limiter: RateLimiter::per_minute(1000),
        trusted_proxies: server::client_ip::TrustedProxies::parse("10.0.0.0/8").unwrap(),
        metrics: Default::default(),
    };
    let app = App {
        router: router::build(state),
        control,
        _db: db,
    };
    let form = [("username", "ada"), ("display_name", "Ada")];
    let start = app
        .call_via("/api/auth/begin_signup", &form, "10.0.0.2:443", "192.0.2.7")
        .await;
    let mut device = Device::new();
    let cred = device.register(start.json["options"].as_str().unwrap(), true);
    let done = app
        .call_via(
            "/api/auth/finish_signup",
            &[
                ("ceremony_id", start.json["ceremony_id"].as_str().unwrap()),
                ("credential", &cred),
            ],
            "10.0.0.2:443",
            // A client-supplied hop on the left is not believed.
            "198.51.100.1, 192.0.2.7",
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.json);
    let token = token_of(&done);
    let sessions = app.call("/api/security/sessions", &[], Some(&token)).await;
    assert_eq!(sessions.json[0]["ip"], "192.0.2.7", "{}", sessions.json);
    use sea_orm::EntityTrait;
    let rows = control::entities::audit::Entity::find()
        .all(control::testing::db(&app.control))
        .await
        .unwrap();
    let signup = rows.iter().find(|r| r.action == "account.sign_up").unwrap();
    assert_eq!(signup.client_ip, "192.0.2.7");
}
