//! `strata authz`: validation files, and read-only questions about an installation's grants,
//! asked of its database directly or of a running server as a platform administrator.

use std::io::Write;

use control::access::inspect::Inspector;
use model::access::AuthzQuery;

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

/// POSTs the query to the server's REST API with a platform administrator's API token.
async fn ask_server(remote: &Remote, query: &AuthzQuery) -> Result<Vec<String>, RunError> {
    let fail = |m: String| RunError::Authz(m);
    let server = remote.server.clone().unwrap_or_default();
    let token = remote.token.clone().ok_or_else(|| {
        fail(
            "--server needs --token (or STRATA_API_TOKEN): a platform administrator's API token"
                .into(),
        )
    })?;
    let local = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|p| server.starts_with(p));
    if server.starts_with("http://") && !local {
        eprintln!("strata: warning: {server} is not https; the token travels in clear");
    }
    let body = serde_json::to_value(query).map_err(|e| fail(e.to_string()))?;
    // ureq blocks; keep it off the async workers.
    let answer = tokio::task::spawn_blocking(move || {
        crate::client::http::Api::new(&server, &token).post("/authz/query", &body)
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(|e| fail(format!("the server refused: {}", e.message)))?;
    serde_json::from_value::<Vec<String>>(answer["lines"].clone())
        .map_err(|e| fail(format!("bad answer: {e}")))
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
