//! Runs the programs that make networks (`ip`, `dnsmasq`), optionally inside a namespace,
//! and turns their failures into errors that say which command failed and what it printed.

use tokio::process::Command;

/// Why a network could not be made or removed on this node.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(
        "cannot run {program} (`cargo xtask setup` installs iproute2 and dnsmasq-base): {source}"
    )]
    Tool {
        program: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// A command, run inside `netns` when given (`ip netns exec`, which executes the program, so
/// a daemon's pid file holds the program's own pid).
pub fn command(netns: Option<&str>, program: &str, args: &[&str]) -> Command {
    let mut c = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, program]);
            c
        }
        None => Command::new(program),
    };
    c.args(args).kill_on_drop(true);
    c
}

/// Runs it to its end; an error unless it succeeded.
pub async fn run(netns: Option<&str>, program: &str, args: &[&str]) -> Result<(), NetError> {
    output(netns, program, args).await.map(drop)
}

/// Runs it to its end and returns what it printed; an error unless it succeeded.
pub async fn output(netns: Option<&str>, program: &str, args: &[&str]) -> Result<String, NetError> {
    let out = command(netns, program, args)
        .output()
        .await
        .map_err(|source| NetError::Tool {
            program: program.to_owned(),
            source,
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(NetError::Failed {
            command: describe(netns, program, args),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// `ip` with `-n <netns>` when given.
pub async fn ip(netns: Option<&str>, args: &[&str]) -> Result<(), NetError> {
    let mut all: Vec<&str> = Vec::with_capacity(args.len() + 2);
    if let Some(ns) = netns {
        all.extend(["-n", ns]);
    }
    all.extend_from_slice(args);
    run(None, "ip", &all).await
}

/// Deletes a device; Ok when it is already gone (one end of a veth goes with the other, a
/// deleted namespace's devices go a moment later, and a namespace never made holds none).
pub async fn del_link(netns: Option<&str>, dev: &str) -> Result<(), NetError> {
    if netns.is_some_and(|ns| !netns_exists(ns)) {
        return Ok(());
    }
    match ip(netns, &["link", "del", "dev", dev]).await {
        Err(NetError::Failed { stderr, .. }) if stderr.contains("Cannot find device") => Ok(()),
        other => other,
    }
}

/// Whether a device exists in the namespace.
pub async fn link_exists(netns: Option<&str>, dev: &str) -> bool {
    ip(netns, &["link", "show", "dev", dev]).await.is_ok()
}

/// Whether a named namespace exists.
pub fn netns_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

fn describe(netns: Option<&str>, program: &str, args: &[&str]) -> String {
    let mut s = match netns {
        Some(ns) => format!("ip netns exec {ns} {program}"),
        None => program.to_owned(),
    };
    for a in args {
        s.push(' ');
        s.push_str(a);
    }
    s
}
