//! The command-line client through the real binary against a real server: log in, create a
//! VM and wait for it to run (a real QEMU guest), stop it, delete it, with JSON output parsed
//! and exit codes a script can tell apart.

use std::path::Path;
use std::process::{Command, Stdio};

use chrono::Utc;
use control::testing::{caller, TestDb};
use model::tokens::{NewToken, TokenScope};
use serde_json::Value;

use crate::common::Served;

/// Runs `strata args...` as a client with its own config directory; exit code, stdout, stderr.
fn client(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("STRATA_SERVER")
        .env_remove("STRATA_API_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run the strata client");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(config: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let (code, out, err) = client(config, &all);
    assert_eq!(code, 0, "strata {args:?} failed: {err}");
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("strata {args:?} printed no JSON ({e}): {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_logs_in_creates_waits_for_stops_and_deletes_a_real_vm() {
    let db = TestDb::new().await;
    let c = db.control().await;
    let ann = caller(&c, "ann", false).await;
    // After the callers: their sessions' passkey check must not lie in `now`'s future.
    let now = Utc::now();
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    let token = c
        .create_token(
            &ann,
            &NewToken {
                name: "cli".into(),
                expires_in_days: 1,
                actions: vec![],
                scope: TokenScope::Everything,
            },
            now,
        )
        .await
        .unwrap()
        .secret;
    let server = Served::start(&db.url, "stcli", &[]).await;
    let config = server.data.join("config");
    let url = server.url();

    // Without a login the client says what to do, with the usage exit code.
    let (code, _, err) = client(&config, &["vm", "list"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("strata login"), "{err}");
    // A wrong token is refused before anything is stored.
    let (code, _, err) = client(
        &config,
        &["login", "--server", &url, "--token", "strata_wrong"],
    );
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = client(&config, &["login", "--server", &url, "--token", &token]);
    assert_eq!(code, 0, "{err}");
    let stored = config.join("strata/cli.json");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&stored).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the login is the user's alone");

    // Create and boot: the client follows the operation and shows its steps.
    let mut all = vec!["vm", "create", "web", "--organization", "acme", "--start"];
    all.extend(["--output", "json"]);
    let (code, out, err) = client(&config, &all);
    assert_eq!(code, 0, "create failed: {err}");
    assert!(
        err.contains("vm.create") && err.contains("  · "),
        "progress: {err}"
    );
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["vm"]["name"], "web");
    assert_eq!(created["vm"]["state"], "running", "{created}");
    assert_eq!(created["operation"]["state"], "succeeded");

    let listed = json(&config, &["vm", "list"]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web"]);
    let (code, table, _) = client(&config, &["vm", "list"]);
    assert_eq!(code, 0);
    assert!(
        table.starts_with("NAME") && table.contains("running"),
        "{table}"
    );

    // The serial console from the terminal: the boot marker is there, and a line typed in is
    // run by the guest's shell (the sum proves it ran, not just echoed).
    let mut typing = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "vm",
            "console",
            "web",
            "--wait-for",
            "cli-42",
            "--timeout",
            "60",
        ])
        .env("XDG_CONFIG_HOME", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kept open until the client is done: it ends on the awaited text, not on end of input.
    let mut stdin = typing.stdin.take().unwrap();
    {
        use std::io::Write;
        stdin.write_all(b"echo cli-$((40+2))\n").unwrap();
    }
    let out = typing.wait_with_output().unwrap();
    drop(stdin);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "console: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shown.contains("STRATA-GUEST-READY") && shown.contains("cli-42"),
        "{shown}"
    );

    let stopped = json(&config, &["vm", "stop", "web"]);
    assert_eq!(stopped["vm"]["state"], "stopped", "{stopped}");
    let shown = json(&config, &["vm", "show", "web"]);
    assert_eq!(shown["vm"]["state"], "stopped");

    // Stale and refused requests have their own exit codes.
    let (code, _, err) = client(&config, &["vm", "stop", "web"]);
    assert_eq!(code, 6, "stopping a stopped VM conflicts: {err}");
    let deleted = json(&config, &["vm", "delete", "web"]);
    assert_eq!(deleted["operation"]["state"], "succeeded", "{deleted}");
    let (code, _, err) = client(&config, &["vm", "show", "web"]);
    assert_eq!(code, 4, "gone: {err}");
    let (code, _, err) = client(
        &config,
        &["operation", "wait", &uuid::Uuid::new_v4().to_string()],
    );
    assert_eq!(code, 4, "{err}");

    // A service: listed, scaled and deployed from the command line, each waiting for its
    // rollout of real replicas.
    c.create_service(
        &ann,
        &model::services::NewService::named(&acme.id, "api"),
        Utc::now(),
    )
    .await
    .unwrap();
    let services = json(&config, &["service", "list"]);
    assert_eq!(services[0]["name"], "api");
    let scaled = json(&config, &["service", "scale", "api", "2"]);
    assert_eq!(scaled["operation"]["state"], "succeeded", "{scaled}");
    assert_eq!(scaled["service"]["running"], 2, "{scaled}");
    let deployed = json(&config, &["service", "deploy", "api", "--version", "2"]);
    assert_eq!(deployed["service"]["version"], "2", "{deployed}");
    assert_eq!(deployed["service"]["status"], "running", "{deployed}");

    // Tokens from the command line: made, listed, revoked; a revoked login stops working.
    let made = json(
        &config,
        &["token", "create", "ci", "--days", "1", "--action", "read"],
    );
    assert!(made["secret"].as_str().unwrap().starts_with("strata_"));
    let tokens = json(&config, &["token", "list"]);
    assert_eq!(tokens.as_array().unwrap().len(), 2);
    let own = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "cli")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json(&config, &["token", "revoke", &own]);
    let (code, _, err) = client(&config, &["vm", "list"]);
    assert_eq!(code, 3, "the stored token was revoked: {err}");

    let (code, script, _) = client(&config, &["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        script.contains("strata") && script.contains("complete"),
        "a bash completion script"
    );
    drop(server);
}
