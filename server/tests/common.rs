//! What the server's integration tests share: the `strata` binary as a command, a free port,
//! and the world most of them start from (an organization `acme` with members and a VM `web`).

use std::net::TcpListener;
use std::process::Command;

use chrono::{DateTime, Utc};
use control::auth::Caller;
use control::Control;
use model::orgs::OrgRole;
use model::vms::NewVm;

/// Runs the `strata` binary with `args`; whether it succeeded, and its stdout and stderr.
pub fn strata(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run the strata binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A port nothing listens on right now (the OS picks it), for a server a test starts.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Polls until `done` holds, at most `limit`.
pub async fn until<F, Fut>(limit: std::time::Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The organization `acme` and its VM `web`.
pub struct Acme {
    pub org: String,
    pub vm: String,
}

/// `owner` starts `acme`, adds each of `members` (existing usernames) as a member, and creates
/// the VM `web` in it (a record: nothing boots).
pub async fn acme(control: &Control, owner: &Caller, members: &[&str], now: DateTime<Utc>) -> Acme {
    let org = control
        .create_organization(owner, "acme", now)
        .await
        .expect("create acme");
    for member in members {
        control
            .add_member(owner, &org.id, member, OrgRole::Member, now)
            .await
            .expect("add a member to acme");
    }
    let vm = control
        .create_vm(owner, &NewVm::named(&org.id, "web"), now)
        .await
        .expect("create the VM web");
    Acme {
        org: org.id,
        vm: vm.id,
    }
}

/// `strata serve` as a process on this test's database, on a port and in a data directory of
/// its own, with the test guest as its ready image and agents off; answering once `start`
/// returns. Dropping it stops the server, kills any QEMU it left and removes the directory.
pub struct Served {
    child: std::process::Child,
    pub data: std::path::PathBuf,
    pub port: u16,
}

impl Served {
    pub async fn start(database_url: &str, prefix: &str, extra: &[&str]) -> Self {
        let data = std::env::temp_dir().join(format!(
            "{prefix}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        ));
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["serve", "--database-url", database_url, "--log", "warn"])
            .args(["--agent-listen", "off"])
            .args(extra)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data)
            .arg("--ready-image")
            .arg(control::testing::guest())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("run strata");
        let served = Self { child, data, port };
        until(
            std::time::Duration::from_secs(60),
            "strata answers",
            || async { std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() },
        )
        .await;
        served
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        control::testing::kill_vms_under(&self.data.join("vms"));
        hypervisor::testing::remove_node_networks(&self.data.join("networks"));
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
