//! Schemathesis against the running server's own OpenAPI document, with a token: every
//! operation, generated requests (examples, coverage and fuzzing phases); the goal is no server
//! error and no response that breaks the spec. Schemathesis is installed by `cargo xtask setup`
//! in `target/schemathesis`.

use std::path::PathBuf;
use std::process::Command;

use chrono::Utc;
use control::testing::{caller, TestDb};
use model::tokens::{NewToken, TokenScope};

use crate::common::Served;

fn schemathesis() -> PathBuf {
    let st = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/schemathesis/bin/st");
    assert!(
        st.exists(),
        "{} is missing: `cargo xtask setup` installs schemathesis for the API's property-based test",
        st.display()
    );
    st
}

/// How many requests a run reported sending, from its summary ("1234 generated" lines or
/// "Test cases: N").
fn generated(report: &str) -> u64 {
    report
        .lines()
        .filter(|l| l.contains("generated") || l.contains("Test cases"))
        .filter_map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter(|w| !w.is_empty())
                .filter_map(|w| w.parse::<u64>().ok())
                .max()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_find_no_server_error_and_no_answer_that_breaks_the_spec() {
    let st = schemathesis();
    let db = TestDb::new().await;
    let c = db.control().await;
    let ann = caller(&c, "ann", false).await;
    let now = Utc::now();
    // Something for the requests to find: an organization with a VM (a record) and a service
    // without replicas.
    let acme = c.create_organization(&ann, "acme", now).await.unwrap();
    c.create_vm(&ann, &model::vms::NewVm::named(&acme.id, "web"), now)
        .await
        .unwrap();
    let mut svc = model::services::NewService::named(&acme.id, "api");
    svc.replicas = 0;
    c.create_service(&ann, &svc, now).await.unwrap();
    let token = c
        .create_token(
            &ann,
            &NewToken {
                name: "schemathesis".into(),
                expires_in_days: 1,
                actions: vec![],
                scope: TokenScope::Everything,
            },
            now,
        )
        .await
        .unwrap()
        .secret;

    let server = Served::start(&db.url, "stfz", &["--api-rate-per-minute", "0"]).await;
    let port = server.port;

    // The token works before anything is generated (a failing run then means the API).
    let probe = format!(
        "GET /api/v1/vms HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let answer = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(probe.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");

    // Revoking the token it runs with would leave the rest of a run with 401s: token
    // revocation gets a run of its own, last.
    const REVOKE: &str = "DELETE /api/v1/tokens/{id}";
    let mut reports = String::new();
    let mut sent = 0;
    for filter in ["--exclude-name", "--include-name"] {
        let (st, token) = (st.clone(), token.clone());
        let out = tokio::task::spawn_blocking(move || {
            Command::new(st)
                .arg("run")
                .arg(format!("http://127.0.0.1:{port}/api/v1/openapi.json"))
                .args(["--header", &format!("Authorization: Bearer {token}")])
                .args([
                    "--checks",
                    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                ])
                .args(["--phases", "examples,coverage,fuzzing"])
                // Every request carries the token above; none made up from the security scheme.
                .args(["--generation-with-security-parameters", "false"])
                .args([filter, REVOKE])
                .args(["--max-examples", "40", "--workers", "2", "--seed", "20261207"])
                .arg("--no-color")
                .output()
                .expect("run schemathesis")
        })
        .await
        .unwrap();
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{report}");
        assert!(
            out.status.success(),
            "schemathesis found problems ({filter} {REVOKE}):\n{report}"
        );
        // Operations for platform admins answer this token 403 throughout (schemathesis warns
        // about those); a 401 would mean the token stopped working mid-run.
        assert!(
            !report.contains("401 Unauthorized"),
            "the token stopped working during the run:\n{report}"
        );
        sent += generated(&report);
        reports.push_str(&report);
    }
    let report = reports;
    assert!(sent >= 1000, "only {sent} generated requests:\n{report}");
}
