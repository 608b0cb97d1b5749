//! `strata authz`: validation files, and read-only questions about an installation's grants.

use std::io::Write;

use control::access::inspect::Inspector;

use crate::config::AuthzCommand;
use crate::serve::RunError;
use crate::Config;

pub async fn run(config: &Config, cmd: AuthzCommand) -> Result<(), RunError> {
    let mut out = std::io::stdout().lock();
    let fail = |e: &dyn std::fmt::Display| RunError::Authz(e.to_string());
    match cmd {
        AuthzCommand::Validate { files } => validate(&mut out, &files).await,
        AuthzCommand::Check {
            subject,
            permission,
            entity,
        } => {
            let i = open(config).await?;
            let s = i.subject(&subject).await.map_err(|e| fail(&e))?;
            let o = i.object(&entity).await.map_err(|e| fail(&e))?;
            let allowed = i.check(&s, &permission, &o).await.map_err(|e| fail(&e))?;
            let _ = writeln!(out, "{}", if allowed { "allowed" } else { "denied" });
            Ok(())
        }
        AuthzCommand::LookupResources {
            subject,
            permission,
            entity_type,
        } => {
            let i = open(config).await?;
            let s = i.subject(&subject).await.map_err(|e| fail(&e))?;
            let found = i
                .lookup_resources(&s, &permission, &entity_type)
                .await
                .map_err(|e| fail(&e))?;
            for line in &found {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "({} found)", found.len());
            Ok(())
        }
        AuthzCommand::LookupSubjects {
            entity,
            permission,
            subject_type,
        } => {
            let i = open(config).await?;
            let o = i.object(&entity).await.map_err(|e| fail(&e))?;
            let found = i
                .lookup_subjects(&o, &permission, &subject_type)
                .await
                .map_err(|e| fail(&e))?;
            for line in &found {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "({} found)", found.len());
            Ok(())
        }
        AuthzCommand::Explain {
            subject,
            permission,
            entity,
        } => {
            let i = open(config).await?;
            let s = i.subject(&subject).await.map_err(|e| fail(&e))?;
            let o = i.object(&entity).await.map_err(|e| fail(&e))?;
            let trace = i.explain(&s, &permission, &o).await.map_err(|e| fail(&e))?;
            let _ = write!(out, "{trace}");
            let _ = writeln!(out, "{}", if trace.granted { "allowed" } else { "denied" });
            Ok(())
        }
    }
}

async fn open(config: &Config) -> Result<Inspector, RunError> {
    let url = config.database_url()?;
    Inspector::open(&url)
        .await
        .map_err(|e| RunError::Authz(e.to_string()))
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
