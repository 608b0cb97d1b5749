//! `strata authz`: validation files, and read-only questions about an installation's grants,
//! asked of its database directly or of a running server as a platform administrator.

use std::io::Write;

use control::access::inspect::Inspector;
use model::access::AuthzQuery;
use model::AppError;

use crate::config::{AuthzCommand, Remote};
use crate::serve::RunError;
use crate::Config;

pub async fn run(config: &Config, cmd: AuthzCommand) -> Result<(), RunError> {
    let (query, remote) = match cmd {
        AuthzCommand::Validate { files } => {
            return validate(&mut std::io::stdout().lock(), &files).await
        }
        AuthzCommand::Check {
            subject,
            permission,
            entity,
            remote,
        } => (
            AuthzQuery::Check {
                subject,
                permission,
                entity,
            },
            remote,
        ),
        AuthzCommand::LookupResources {
            subject,
            permission,
            entity_type,
            remote,
        } => (
            AuthzQuery::LookupResources {
                subject,
                permission,
                entity_type,
            },
            remote,
        ),
        AuthzCommand::LookupSubjects {
            entity,
            permission,
            subject_type,
            remote,
        } => (
            AuthzQuery::LookupSubjects {
                entity,
                permission,
                subject_type,
            },
            remote,
        ),
        AuthzCommand::Explain {
            subject,
            permission,
            entity,
            remote,
        } => (
            AuthzQuery::Explain {
                subject,
                permission,
                entity,
            },
            remote,
        ),
    };
    let lines = match remote.server {
        Some(_) => ask_server(&remote, &query).await?,
        None => {
            let url = config.database_url()?;
            let inspector = Inspector::open(&url)
                .await
                .map_err(|e| RunError::Authz(e.to_string()))?;
            inspector
                .answer(&query)
                .await
                .map_err(|e| RunError::Authz(e.to_string()))?
        }
    };
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// POSTs the query to the server's admin endpoint with the session token.
async fn ask_server(remote: &Remote, query: &AuthzQuery) -> Result<Vec<String>, RunError> {
    let fail = |m: String| RunError::Authz(m);
    let server = remote.server.clone().unwrap_or_default();
    let token = remote.token.clone().ok_or_else(|| {
        fail(
            "--server needs --token (or STRATA_TOKEN): a platform administrator's session token"
                .into(),
        )
    })?;
    let url = format!("{}/api/admin/authz/query", server.trim_end_matches('/'));
    let local = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|p| server.starts_with(p));
    if server.starts_with("http://") && !local {
        eprintln!("strata: warning: {server} is not https; the session token travels in clear");
    }
    let body = serde_json::json!({ "query": query }).to_string();
    // ureq blocks; keep it off the async workers.
    let answer = tokio::task::spawn_blocking(move || -> Result<(u16, String), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut res = agent
            .post(&url)
            // Both cookie names: a server on https reads only `__Host-strata_session`.
            .header(
                "Cookie",
                &format!("strata_session={token}; __Host-strata_session={token}"),
            )
            .header("Content-Type", "application/json")
            .send(body.as_str())
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("bad answer from {url}: {e}"))?;
        Ok((status, text))
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(fail)?;
    match answer {
        (200, text) => serde_json::from_str(&text).map_err(|e| fail(format!("bad answer: {e}"))),
        (_, text) => Err(fail(match serde_json::from_str::<AppError>(&text) {
            Ok(e) => format!("the server refused: {e}"),
            Err(_) => format!("the server answered: {text}"),
        })),
    }
}

async fn validate(out: &mut impl Write, files: &[std::path::PathBuf]) -> Result<(), RunError> {
    let (mut assertions, mut failed, mut broken) = (0usize, 0usize, 0usize);
    for file in files {
        match authz::validate::validate_file(file).await {
            Ok(report) => {
                assertions += report.assertions;
                failed += report.failures.len();
                for f in &report.failures {
                    let _ = writeln!(out, "{f}");
                }
            }
            Err(e) => {
                broken += 1;
                let _ = writeln!(out, "ERROR {e}");
            }
        }
    }
    let _ = writeln!(
        out,
        "{} files, {assertions} assertions, {failed} failed{}",
        files.len(),
        if broken > 0 {
            format!(", {broken} files could not be run")
        } else {
            String::new()
        }
    );
    if failed > 0 || broken > 0 {
        Err(RunError::Authz("validation failed".into()))
    } else {
        Ok(())
    }
}
