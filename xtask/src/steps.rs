//! The work after setup: building, running and testing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::setup::{self, Need};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The optimized site, with brotli and gzip copies of every asset, and the WASM split per page
/// (`--split`: app/src/routes.rs).
const FRONT_BUILD: &str = "cargo leptos build --release --precompress --split --frontend-only";
/// The optimized server, through cargo-leptos. Its cargo runs through a script that records the
/// variables cargo-leptos gives it.
const SERVER_BUILD: &str = "LEPTOS_BIN_CARGO_COMMAND=\"$PWD/scripts/cargo-recording-env.sh\" cargo leptos build --release --precompress --split --server-only";
/// The same server compile, started beside the site's build: with hashed or precompressed
/// files cargo-leptos builds the site first and the server after it, one waiting for the other
/// (its `build_proj`). Compiled with the variables cargo-leptos passes (its `to_envs`, from the
/// workspace's `[[workspace.metadata.leptos]]`), it leaves `SERVER_BUILD` nothing to do; when
/// they drift, `SERVER_BUILD` compiles again (slower, never wrong) and the build says so.
const SERVER_COMPILE: &str = "cargo build --package=server --bin=strata --release";
const SERVER_COMPILE_ENV: &[(&str, &str)] = &[
    ("LEPTOS_BIN_DIR", "server"),
    ("LEPTOS_HASH_FILES", "true"),
    ("LEPTOS_HASH_FILE_NAME", "hash.txt"),
    ("LEPTOS_JS_MINIFY", "true"),
    ("LEPTOS_LIB_DIR", "frontend"),
    ("LEPTOS_OUTPUT_NAME", "strata"),
    ("LEPTOS_RELOAD_PORT", "3001"),
    ("LEPTOS_SITE_ADDR", "127.0.0.1:3000"),
    ("LEPTOS_SITE_PKG_DIR", "pkg"),
    ("LEPTOS_SITE_ROOT", "target/site"),
    ("RUSTFLAGS", "--cfg erase_components"),
];
/// Where that script writes them.
const LEPTOS_ENV_FILE: &str = "target/leptos-server.env";
/// The Rust tests, in the release profile, with nextest (integration binaries run side by
/// side). Every test runs even after one fails, so a CI log lists all failures at once.
const RUST_TESTS: &str = "cargo nextest run --release --no-fail-fast";
/// After the release build: the binaries and benches it does not build, linted like it. Only
/// the bench targets (`--bench '*'`): `--benches` also builds every library's unit tests as a
/// benchmark, a compile of control, authz and server that nothing runs (the test step builds
/// them again, in the test profile).
const OTHER_TARGETS: &str = "cargo build --release --bins --bench '*'";
/// What `cargo xtask test` changes in the release profile: optimization level 1 instead of 3.
/// On 2 cores the workspace's optimized compile is most of a fresh CI run (docs/performance.md);
/// level 1 keeps the code fast enough for the tests (QEMU runs in its own processes) and compiles
/// in a fraction of the time. The WASM has its own profile (`wasm-release`, `opt-level = "z"`),
/// which this does not touch, so the browser's bytes are the ones people get. The release
/// build, the other targets and the tests all see the same value, so the tests reuse the build.
/// `cargo xtask run` and `cargo xtask bench` build with the full release profile.
const TEST_PROFILE: &[(&str, &str)] = &[("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")];
/// `cargo clippy -- -D warnings`'s lints as errors (clippy-driver reads them from here).
const CLIPPY_ARGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Runs a shell command in the workspace root with node_modules/.bin first on PATH.
pub fn sh(cmd: &str) -> Result {
    sh_env(cmd, &[])
}

pub fn sh_env(cmd: &str, env: &[(&str, &str)]) -> Result {
    eprintln!("$ {cmd}");
    let status = command(cmd)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("could not start `{cmd}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{cmd}` failed ({status})"))
    }
}

/// Runs a command quietly and returns its stdout, or None when it fails.
pub fn capture(cmd: &str) -> Option<String> {
    let out = command(cmd).stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn command(cmd: &str) -> Command {
    let root = root();
    let path = format!(
        "{}:{}:{}",
        root.join("node_modules/.bin").display(),
        home_cargo_bin(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("bash");
    // `cargo xtask` runs this program with CARGO_MANIFEST_DIR set to xtask's folder; ring's
    // build script reruns when that variable changes, and everything above ring with it. The
    // builds started here (directly or through cargo-leptos) must all see it the same, as a
    // cargo command typed by hand does: unset.
    c.arg("-c")
        .arg(cmd)
        .current_dir(&root)
        .env("PATH", path)
        .env_remove("CARGO_MANIFEST_DIR");
    c
}

fn home_cargo_bin() -> String {
    std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|p| p.join("bin").display().to_string())
        .unwrap_or_default()
}

fn banner(what: &str) {
    eprintln!("\n================ {what} ================");
}

/// `cargo xtask run`: build the release site and serve it on the embedded defaults.
pub fn run(extra: &[String]) -> Result {
    setup::all(Need::Run)?;
    banner("building Strata (release)");
    release_build(&[])?;
    let url = std::env::var("STRATA_PUBLIC_URL").unwrap_or_else(|_| "http://localhost:3000".into());
    let listen = std::env::var("STRATA_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    banner("starting Strata");
    let mut child = Command::new(root().join("target/release/strata"))
        .arg("serve")
        .args(extra)
        .current_dir(root())
        .env("STRATA_SITE_ROOT", root().join("target/site"))
        .spawn()
        .map_err(|e| format!("could not start target/release/strata: {e}"))?;
    if wait_ready(&listen, &mut child, Duration::from_secs(60)) {
        eprintln!("\n  Strata is running. Open {url} in your browser.\n  Data lives in ./data (SQLite). Press Ctrl-C to stop.\n");
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("strata exited with {status}"))
    }
}

/// Polls `/readyz` until it answers 200, the process exits, or the time is up.
fn wait_ready(listen: &str, child: &mut Child, limit: Duration) -> bool {
    let addr = listen.replace("0.0.0.0", "127.0.0.1");
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut s) = TcpStream::connect(&addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let req = format!("GET /readyz HTTP/1.0\r\nHost: {addr}\r\n\r\n");
            let mut buf = String::new();
            if s.write_all(req.as_bytes()).is_ok()
                && s.read_to_string(&mut buf).is_ok()
                && buf.starts_with("HTTP/1.0 200")
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Kills every QEMU whose pid file lies in a VM directory under `dir`.
fn stop_vms_under(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if let Ok(pid) = std::fs::read_to_string(entry.path().join("qemu.pid")) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        }
    }
}

/// The release build: the site and the server compiled side by side, then cargo-leptos's own
/// server step (which finds the server built and records its variables). `env` goes to all.
fn release_build(env: &[(&str, &str)]) -> Result {
    let mut compile_env = env.to_vec();
    compile_env.extend_from_slice(SERVER_COMPILE_ENV);
    std::thread::scope(|s| {
        let server = s.spawn(|| sh_env(SERVER_COMPILE, &compile_env));
        let front = sh_env(FRONT_BUILD, env);
        let server = server
            .join()
            .unwrap_or_else(|_| Err("the server build panicked".into()));
        front.and(server)
    })?;
    sh_env(SERVER_BUILD, env)?;
    let recorded = leptos_env()?;
    let drifted: Vec<&(String, String)> = recorded
        .iter()
        .filter(|(k, _)| k != "LEPTOS_BIN_CARGO_COMMAND")
        .filter(|(k, v)| !SERVER_COMPILE_ENV.contains(&(k.as_str(), v.as_str())))
        .collect();
    if !drifted.is_empty() {
        eprintln!(
            "\nxtask: cargo-leptos built the server with other variables than SERVER_COMPILE_ENV \
             ({drifted:?}), so it compiled twice: update xtask/src/steps.rs"
        );
    }
    Ok(())
}

/// The variables the release build's server was compiled with (see [`SERVER_BUILD`]).
fn leptos_env() -> Result<Vec<(String, String)>> {
    let path = root().join(LEPTOS_ENV_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {} (written by the release build): {e}",
            path.display()
        )
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// The variables that make cargo compile the workspace's own crates with clippy-driver (what
/// `cargo clippy` does, but building instead of only checking): every crate CI compiles is
/// linted in the build it needs anyway, and nothing is compiled a second time for clippy.
fn lint_env() -> Result<Vec<(String, String)>> {
    let sysroot = capture("rustc --print sysroot").ok_or("`rustc --print sysroot` failed")?;
    let driver = PathBuf::from(sysroot.trim()).join("bin/clippy-driver");
    if !driver.exists() {
        return Err(format!(
            "{} is missing: install clippy with `rustup component add clippy`",
            driver.display()
        ));
    }
    Ok(vec![
        (
            "RUSTC_WORKSPACE_WRAPPER".into(),
            driver.display().to_string(),
        ),
        ("CLIPPY_ARGS".into(), CLIPPY_ARGS.into()),
    ])
}

fn pairs(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// How long each step took, printed at the end (and when a step fails).
struct Steps {
    started: Instant,
    done: Vec<(&'static str, Duration)>,
}

impl Steps {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            done: Vec::new(),
        }
    }

    /// Runs one step under a banner and records its time.
    fn run(&mut self, name: &'static str, f: impl FnOnce() -> Result) -> Result {
        banner(name);
        let t = Instant::now();
        let result = f();
        self.done.push((name, t.elapsed()));
        if result.is_err() {
            self.summary();
        }
        result
    }

    fn summary(&self) {
        eprintln!("\n---------------- time per step ----------------");
        for (name, took) in &self.done {
            eprintln!("{:>8.1} s  {name}", took.as_secs_f64());
        }
        eprintln!("{:>8.1} s  in all", self.started.elapsed().as_secs_f64());
    }
}

/// `cargo xtask bench`: the load benchmark against the release binary, with wrk.
pub fn bench(args: &[String]) -> Result {
    setup::all(Need::Run)?;
    setup::wrk()?;
    banner("building Strata (release)");
    release_build(&[])?;
    let soak = match args {
        [] => "0".to_owned(),
        [flag, minutes] if flag == "--soak" && minutes.parse::<u32>().is_ok() => minutes.clone(),
        _ => return Err("usage: cargo xtask bench [--soak MINUTES]".into()),
    };
    banner("load benchmark (server/benches/load.rs)");
    let env = leptos_env()?;
    let mut all = pairs(&env);
    all.push(("STRATA_BENCH_SOAK_MINUTES", soak.as_str()));
    sh_env("cargo bench -p server --bench load", &all)
}

/// `cargo xtask test`: every check and test the project has.
pub fn test() -> Result {
    let mut steps = Steps::new();
    steps.run("installs (only what is missing)", || setup::all(Need::Test))?;
    steps.run("formatting", || sh("cargo fmt --all -- --check"))?;
    // Clippy's lints run inside the builds (see `lint_env`): the release build lints the server
    // and the browser crates, the next step the other binaries and the benches, the test build
    // the tests. Built with the variables the release build recorded, the tests reuse its crates.
    let mut lint = lint_env()?;
    lint.extend(
        TEST_PROFILE
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    steps.run("release build, linted", || release_build(&pairs(&lint)))?;
    let mut env = leptos_env()?;
    env.extend(lint);
    steps.run("other binaries and benches, linted", || {
        sh_env(OTHER_TARGETS, &pairs(&env))
    })?;
    let with = |db: &'static str| {
        let mut all = pairs(&env);
        all.push(("STRATA_TEST_DATABASE", db));
        all
    };
    steps.run("Rust tests on SQLite (builds them)", || {
        sh_env(RUST_TESTS, &with("sqlite"))
    })?;
    steps.run("Rust tests on PostgreSQL", || {
        sh_env(RUST_TESTS, &with("postgres"))
    })?;
    steps.run("browser tests (Playwright, Debian's Chromium)", || {
        let e2e = sh_env(
            "npx playwright test --config end2end/playwright.config.ts",
            &[("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")],
        );
        // VMs outlive the server that started them (by design); stop the ones the browser
        // tests left behind.
        stop_vms_under(&root().join("target/e2e-data/vms"));
        e2e
    })?;
    steps.summary();
    eprintln!("\nAll checks and tests passed.");
    Ok(())
}
