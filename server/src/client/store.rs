//! What `strata login` remembers: the server and the token, in the user's config directory
//! (`$XDG_CONFIG_HOME/strata/cli.json`, else `~/.config/strata/cli.json`), readable by the
//! user alone (mode 0600).

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::http::{CliError, CliResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub server: String,
    pub token: String,
}

/// Where the login lives.
pub fn path() -> CliResult<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => {
                return Err(CliError::new(
                    2,
                    "neither XDG_CONFIG_HOME nor HOME is set: pass --server and --token",
                ))
            }
        },
    };
    Ok(base.join("strata").join("cli.json"))
}

pub fn load() -> CliResult<Option<Login>> {
    let path = path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            CliError::new(
                2,
                format!(
                    "{} is damaged ({e}); run `strata login` again",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::new(
            2,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// Writes the login, replacing any earlier one; the file is created with mode 0600 (and kept
/// so if it existed).
pub fn save(login: &Login) -> CliResult<PathBuf> {
    let path = path()?;
    let fail =
        |e: std::io::Error| CliError::new(1, format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension("json.new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail)?;
    let text = serde_json::to_string_pretty(login).unwrap_or_default();
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)?;
    Ok(path)
}
