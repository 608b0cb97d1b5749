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
