//! The work after setup: building, running and testing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::setup::{self, Need};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The browser's code: the `frontend` crate for wasm32 in its size profile, in its own target
/// folder (its dependencies are built with other features than the server's). Linked with
/// relocations kept, so `strata-site` can split it per lazy route (app/src/routes.rs).
const FRONT_COMPILE: &str = "cargo build --package=frontend --lib --target=wasm32-unknown-unknown --profile=wasm-release --target-dir=target/front";
const FRONT_COMPILE_ENV: &[(&str, &str)] = &[(
    "RUSTFLAGS",
    "-Clink-args=--emit-relocs --cfg erase_components",
)];
/// What `strata-site` (tools/site) makes of it: the site in target/site, and hash.txt beside
/// the server binary, where Leptos looks for it. Its `wasm-opt` is npm's Binaryen, first on PATH.
const SITE_BUILD: &str = "target/tool/strata-site --wasm target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm --site target/site --hash-file target/release/hash.txt --name strata --style style/main.css --assets public";
/// The REST API's reference page (`/api/v1/docs`) is Swagger UI from npm, served by Strata
/// itself: its bundle and stylesheet go beside `public/api-docs/init.js` in the site.
const API_DOCS_ASSETS: &str = "mkdir -p target/site/api-docs && cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css target/site/api-docs/";
/// The site tool's own tests, in the profile setup built it in (not a default member of the
/// workspace: the Rust test step does not build it in the release profile again).
const SITE_TESTS: &str = "cargo test --profile=tool --package=strata-site";
/// The optimized server. Type-erased components (`--cfg erase_components`) on both sides:
/// Leptos compiles each view once instead of one copy per nesting (the WASM shrank by 28%), and
/// hydration needs both sides to agree. `LEPTOS_OUTPUT_NAME`, the other value Leptos bakes in,
/// is set for every cargo command in .cargo/config.toml.
const SERVER_COMPILE: &str = "cargo build --package=server --bin=strata --release";
const SERVER_COMPILE_ENV: &[(&str, &str)] = &[("RUSTFLAGS", "--cfg erase_components")];
/// The Rust tests, in the release profile, with nextest (integration binaries run side by
/// side). Every test runs even after one fails, so a CI log lists all failures at once.
const RUST_TESTS: &str = "cargo nextest run --release --no-fail-fast";
/// The longest tests of the suite take turns (the `heavy` group in .config/nextest.toml): those
/// that boot guests under QEMU, and the server-function matrix. They do the same on either
/// database, so each runs on one of the two passes. On PostgreSQL: the guests' tests whose
/// operations race each other (rollouts, a killed control plane resuming its work, the CLI
/// waiting on a VM), where row locks and isolation differ from SQLite's. On SQLite, the embedded
/// default: the VMs' own life, the network data plane (guests reaching each other through
/// bridges, VXLAN between host namespaces, nftables), the hosts run by agents, and the matrix
/// (authorization decided by the permission engine, whose store runs on both in
/// `control/tests/permissions.rs`). Every other test runs on both.
const ONLY_ON_POSTGRES: &str =
    "test(/^services_qemu::/) | (binary_id(server::integration) & test(/^(crash|cli)::/))";
const ONLY_ON_SQLITE: &str = "test(/^(networks_qemu|vms_qemu|errors_qemu)::/) \
     | (binary_id(server::integration) & test(/^(agents|authz_matrix)::/))";
/// The SQLite pass: everything but what runs only on PostgreSQL.
fn on_sqlite() -> String {
    format!("-E 'not ({ONLY_ON_POSTGRES})'")
}
/// The PostgreSQL pass: the tests of the crates that reach a database (the control plane and
/// what depends on it; the hypervisor's tests, the permission engine and the model see no
/// database, so a second run would repeat the first), but what runs only on SQLite.
fn on_postgres() -> String {
    format!("-E 'rdeps(control) - ({ONLY_ON_SQLITE})'")
}
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
/// What `cargo xtask test` adds to the server's compiles (release build, other targets, tests):
/// the two largest crates of the workspace, the views (`app`) and the server, at optimization
/// level 0. Their code generation is most of the server's compile on 2 cores; the work that
/// must be fast in tests (compression, crypto, the database drivers, the permission engine)
/// lives in crates that keep level 1. The browser's WASM is built apart and never sees this.
const TEST_CODEGEN: &str = " --config profile.release.package.app.opt-level=0 --config profile.release.package.server.opt-level=0";
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
    // builds started here must all see it the same, as a cargo command typed by hand does:
    // unset.
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

/// `cargo xtask build`: the release site and server, nothing else.
pub fn build() -> Result {
    setup::build_tools()?;
    banner("building Strata (release)");
    release_build(&[])
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

/// Removes the VM networks a server made with its files in `dir`: kills the dnsmasq processes
/// that name it, and deletes the network namespaces named for its tag (`<dir>/tag`).
fn stop_networks_under(dir: &std::path::Path) {
    let root = dir.display().to_string();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.starts_with("dnsmasq") && cmdline.contains(&root) {
            let pid = entry.file_name().to_string_lossy().into_owned();
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }
    let Ok(tag) = std::fs::read_to_string(dir.join("tag")) else {
        return;
    };
    let prefix = format!("{}-", tag.trim());
    for entry in std::fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) {
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        }
    }
}

/// The release build: the site and the server compiled side by side (the front's compile and
/// the site tool leave a core idle at times, and the server's compile is the longer). `env`
/// goes to both compiles.
fn release_build(env: &[(&str, &str)]) -> Result {
    release_build_with(env, "")
}

/// [`release_build`], with `server_args` after the server's compile command.
fn release_build_with(env: &[(&str, &str)], server_args: &str) -> Result {
    let with = |own: &[(&'static str, &'static str)]| {
        let mut all = env.to_vec();
        all.extend_from_slice(own);
        all
    };
    let (front_env, server_env) = (with(FRONT_COMPILE_ENV), with(SERVER_COMPILE_ENV));
    let server_compile = format!("{SERVER_COMPILE}{server_args}");
    std::thread::scope(|s| {
        let server = s.spawn(|| sh_env(&server_compile, &server_env));
        let front = sh_env(FRONT_COMPILE, &front_env)
            .and_then(|()| sh(SITE_BUILD))
            .and_then(|()| sh(API_DOCS_ASSETS));
        let server = server
            .join()
            .unwrap_or_else(|_| Err("the server build panicked".into()));
        front.and(server)
    })
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
    let mut all = SERVER_COMPILE_ENV.to_vec();
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
    let linted = lint_env()?;
    let mut lint = linted.clone();
    lint.extend(
        TEST_PROFILE
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    steps.run("release build, linted", || {
        release_build_with(&pairs(&lint), TEST_CODEGEN)
    })?;
    let mut env: Vec<(String, String)> = SERVER_COMPILE_ENV
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    env.extend(lint);
    steps.run("other binaries and benches, linted", || {
        sh_env(&format!("{OTHER_TARGETS}{TEST_CODEGEN}"), &pairs(&env))
    })?;
    // The site tool is built by setup in its own profile, without the server's RUSTFLAGS; its
    // tests reuse those crates.
    steps.run("site tool's tests, linted", || {
        sh_env(SITE_TESTS, &pairs(&linted))
    })?;
    let with = |db: &'static str| {
        let mut all = pairs(&env);
        all.push(("STRATA_TEST_DATABASE", db));
        all
    };
    steps.run("Rust tests on SQLite (builds them)", || {
        sh_env(
            &format!("{RUST_TESTS}{TEST_CODEGEN} {}", on_sqlite()),
            &with("sqlite"),
        )
    })?;
    steps.run("Rust tests on PostgreSQL", || {
        sh_env(
            &format!("{RUST_TESTS}{TEST_CODEGEN} {}", on_postgres()),
            &with("postgres"),
        )
    })?;
    steps.run("browser tests (Playwright, Debian's Chromium)", || {
        let e2e = sh_env(
            "npx playwright test --config end2end/playwright.config.ts",
            &[("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")],
        );
        // VMs outlive the server that started them (by design); stop the ones the browser
        // tests left behind.
        stop_vms_under(&root().join("target/e2e-data/vms"));
        stop_networks_under(&root().join("target/e2e-data/networks"));
        e2e
    })?;
    steps.summary();
    eprintln!("\nAll checks and tests passed.");
    Ok(())
}
