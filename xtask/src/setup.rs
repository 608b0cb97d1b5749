//! Installs, each only when missing: apt packages, the wasm target, cargo tools, npm packages.

use crate::steps::{capture, root, sh, Result};
use std::path::Path;

/// What the command about to run needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Building and running the server.
    Run,
    /// Everything `Run` needs, and the browser for the end-to-end tests.
    Test,
}

pub fn all(need: Need) -> Result {
    // Two independent lines of work side by side: the system packages (mostly downloads and
    // unpacking) and the site's build tool, which compiles.
    std::thread::scope(|s| {
        let system = s.spawn(|| -> Result {
            if need == Need::Test {
                apt(&["chromium"], "/usr/bin/chromium")?;
            }
            // VM networks: bridges, taps and namespaces (iproute2), each network's DHCP and
            // DNS server (dnsmasq; dhcp_release ends a deleted VM's lease), the routers'
            // firewalls (nftables). The tests make hosts as network namespaces with the same
            // tools.
            apt(&["iproute2"], "/bin/ip")?;
            apt(
                &["dnsmasq-base", "dnsmasq-utils", "nftables"],
                "/usr/bin/dhcp_release",
            )?;
            // VMs run under QEMU; the ready image is the test guest built from Debian packages.
            qemu()?;
            test_guest()?;
            npm()?;
            if need == Need::Test {
                // The REST API's property-based test (server/tests/api_fuzz.rs) runs it.
                schemathesis()?;
            }
            Ok(())
        });
        let tools = (|| -> Result {
            wasm_target()?;
            if need == Need::Test {
                nextest()?;
            }
            site_tool()
        })();
        let joined = |r: std::thread::Result<Result>| {
            r.unwrap_or_else(|_| Err("an install step panicked".into()))
        };
        // The first failure, after every line of work has ended.
        [joined(system.join()), tools].into_iter().collect()
    })
}

/// What a release build needs and nothing more (no system packages): the wasm target, the npm
/// tools (Tailwind, esbuild, Binaryen's wasm-opt) and the site tool. For `cargo xtask build`, in a
/// container image's build stage for instance.
pub fn build_tools() -> Result {
    wasm_target()?;
    npm()?;
    site_tool()
}

/// Installs Debian packages when `probe` (a file they provide) is missing.
fn apt(packages: &[&str], probe: &str) -> Result {
    if Path::new(probe).exists() {
        return Ok(());
    }
    step(&format!("installing {} (apt)", packages.join(" ")));
    let install = format!(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if sh(&install).is_err() {
        // A fresh machine may have stale package lists.
        sh("apt-get update")?;
        sh(&install)?;
    }
    Ok(())
}

/// The test guest (target/guest), offered as the ready image on first run. Idempotent.
fn test_guest() -> Result {
    step("test guest image (scripts/build-test-guest.sh)");
    crate::steps::sh("sh scripts/build-test-guest.sh target/guest")
}

/// QEMU and qemu-img from the backports of this Debian release: installing bookworm's
/// qemu-system-x86 would remove the newer qemu-utils the machine has (ENVIRONMENT.md).
fn qemu() -> Result {
    if Path::new("/usr/bin/qemu-system-x86_64").exists() && Path::new("/usr/bin/qemu-img").exists()
    {
        return Ok(());
    }
    let codename = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("VERSION_CODENAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .ok_or("cannot tell the Debian release from /etc/os-release")?;
    let backports = format!("{codename}-backports");
    let listed = capture("grep -rhs backports /etc/apt/sources.list /etc/apt/sources.list.d/")
        .unwrap_or_default()
        .contains(&backports);
    if !listed {
        step(&format!("adding the {backports} package source"));
        std::fs::write(
            "/etc/apt/sources.list.d/strata-backports.sources",
            format!(
                "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: {backports}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
            ),
        )
        .map_err(|e| format!("cannot add the backports source: {e}"))?;
    }
    step("installing qemu-system-x86 and qemu-utils (apt, backports)");
    sh("apt-get update")?;
    sh(&format!(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t {backports} qemu-system-x86 qemu-utils"
    ))
}

fn wasm_target() -> Result {
    let installed = capture("rustup target list --installed").unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    step("adding the wasm32-unknown-unknown target");
    sh("rustup target add wasm32-unknown-unknown")
}

/// The site's build tool (tools/site: splitting, wasm-bindgen, hashes, compression). It binds
/// the WASM with the `wasm-bindgen-cli-support` library, which must be exactly the version of
/// the `wasm-bindgen` crate the WASM was compiled with. Cargo finds it up to date in a second.
fn site_tool() -> Result {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let crate_version =
        locked_version(&lock, "wasm-bindgen").ok_or("Cargo.lock does not list wasm-bindgen")?;
    let bindgen = locked_version(&lock, "wasm-bindgen-cli-support")
        .ok_or("Cargo.lock does not list wasm-bindgen-cli-support")?;
    if crate_version != bindgen {
        return Err(format!(
            "wasm-bindgen is {crate_version} but tools/site binds with wasm-bindgen-cli-support \
             {bindgen}: set the same version in tools/site/Cargo.toml"
        ));
    }
    step("the site's build tool (tools/site; a few minutes the first time)");
    sh("cargo build --locked --package=strata-site --profile=tool")
}

/// Schemathesis, pinned, in its own virtual environment under target/ (PyPI).
const SCHEMATHESIS: &str = "4.32.5";

fn schemathesis() -> Result {
    let st = root().join("target/schemathesis/bin/st");
    let have = capture(&format!("{} --version", st.display()));
    if have.is_some_and(|v| v.contains(SCHEMATHESIS)) {
        return Ok(());
    }
    step(&format!(
        "installing schemathesis {SCHEMATHESIS} (PyPI, in target/schemathesis)"
    ));
    sh("python3 -m venv target/schemathesis")?;
    sh(&format!(
        "target/schemathesis/bin/pip install --quiet --disable-pip-version-check schemathesis=={SCHEMATHESIS}"
    ))
}

/// The load benchmark's HTTP load generator (Debian's wrk).
pub fn wrk() -> Result {
    apt(&["wrk"], "/usr/bin/wrk")
}

/// The Rust tests run under cargo-nextest (preinstalled on these machines).
fn nextest() -> Result {
    if capture("cargo nextest --version").is_some() {
        return Ok(());
    }
    step("installing cargo-nextest");
    sh("cargo install --locked cargo-nextest")
}

fn npm() -> Result {
    let root = root();
    let manifest = std::fs::read_to_string(root.join("package.json"))
        .map_err(|e| format!("cannot read package.json: {e}"))?;
    let stamp = root.join("node_modules/.strata-installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(manifest.as_str()) {
        return Ok(());
    }
    step("installing npm packages (Tailwind, esbuild, wasm-opt, Playwright and axe-core without browsers)");
    // `npm ci` cannot be used: the lockfile lacks other platforms' optional packages here.
    sh("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund")?;
    std::fs::write(&stamp, manifest).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// The version of `name` recorded in a Cargo.lock.
pub fn locked_version(lock: &str, name: &str) -> Option<String> {
    let needle = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle {
            let version = lines.next()?.trim();
            return version
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_owned);
        }
    }
    None
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"9\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(locked_version(lock, "leptos"), None);
    }
}
