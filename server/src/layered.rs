//! Layered configuration: built-in defaults, then `strata.toml`, then environment variables,
//! then flags. The file's values become clap's defaults, so clap itself applies the rest of
//! the order and reports a bad value with the setting's name.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::Cli;

/// The file read when neither `--config` nor `STRATA_CONFIG` names one (if it exists).
pub const DEFAULT_FILE: &str = "strata.toml";

/// Settings whose values are secret: `config show` prints them redacted.
const SECRETS: &[&str] = &["metrics_token"];
/// Settings that are URLs and may carry a password.
const URLS: &[&str] = &["database_url", "redis_url"];

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Args(#[from] clap::Error),
}

/// Where a setting's value came from.
pub type Sources = BTreeMap<String, &'static str>;

/// The config file named by `--config FILE`/`--config=FILE`, else `STRATA_CONFIG`, else
/// `strata.toml` if present.
fn config_path(args: &[OsString], env: Option<OsString>) -> (Option<PathBuf>, bool) {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--config" {
            return (it.next().map(PathBuf::from), true);
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return (Some(PathBuf::from(v)), true);
        }
    }
    if let Some(v) = env {
        return (Some(PathBuf::from(v)), true);
    }
    let default = PathBuf::from(DEFAULT_FILE);
    (default.exists().then_some(default), false)
}

fn read_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let fail = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| fail(e.to_string()))?;
    let known: Vec<String> = Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| l.replace('-', "_")))
        .filter(|k| k != "config" && k != "help" && k != "version")
        .collect();
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !known.contains(&key) {
            return Err(fail(format!(
                "unknown setting `{key}`; the settings are: {}",
                known.join(", ")
            )));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(fail(format!(
                    "`{key}` must be a string or a number, not {}",
                    other.type_str()
                )))
            }
        };
        out.insert(key, text);
    }
    Ok(out)
}

/// Parses the command line over the file and the environment.
pub fn load(
    args: Vec<OsString>,
    env_config: Option<OsString>,
) -> Result<(Cli, Sources), ConfigError> {
    let (path, explicit) = config_path(&args, env_config);
    let file = match &path {
        Some(p) if explicit || p.exists() => read_file(p)?,
        _ => BTreeMap::new(),
    };
    let mut command = Cli::command();
    for (key, value) in &file {
        let id = key.clone();
        let value = value.clone();
        command = command.mut_arg(id, |a| a.default_value(value));
    }
    let matches = command.try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let mut sources = Sources::new();
    for arg in Cli::command().get_arguments() {
        let id = arg.get_id().as_str().to_owned();
        if matches!(id.as_str(), "config_file" | "help" | "version") || arg.get_long().is_none() {
            continue;
        }
        let source = match matches.value_source(&id) {
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => "environment",
            Some(ValueSource::DefaultValue) if file.contains_key(&id) => "file",
            Some(ValueSource::DefaultValue) => "default",
            _ => "unset",
        };
        sources.insert(id, source);
    }
    Ok((cli, sources))
}

/// Hides a URL's credentials: the password in `user:password@` (or a bare token in
/// `token@`) and `password`-like query parameters.
fn redact_url(url: &str) -> String {
    let mut out = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = match creds.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    };
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") || k == "token" => {
                    format!("{k}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}{}", query.join("&"));
    }
    out
}

/// `strata config show`: every setting, its effective value (secrets redacted) and where it
/// came from.
pub fn show(cli: &Cli, sources: &Sources) -> String {
    let values: serde_json::Value = serde_json::to_value(&cli.config).unwrap_or_default();
    let mut out = String::new();
    for (key, source) in sources {
        let value = values.get(key).cloned().unwrap_or(serde_json::Value::Null);
        let text = match value {
            serde_json::Value::Null => "(not set)".to_owned(),
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let text = if SECRETS.contains(&key.as_str()) && text != "(not set)" {
            "***".to_owned()
        } else if URLS.contains(&key.as_str()) {
            redact_url(&text)
        } else {
            text
        };
        out.push_str(&format!("{key:<24} {text:<40} ({source})\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("strata")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn file(text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("strata-cfg-{}.toml", uuid_like()));
        std::fs::write(&p, text).unwrap();
        p
    }

    fn uuid_like() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    #[test]
    fn file_then_environment_then_flags() {
        let f = file("listen = \"127.0.0.1:4000\"\nlog = \"debug\"\nsession_idle_minutes = 30\nauth_rate_per_minute = 7\n");
        let path = f.to_str().unwrap();
        // The file beats the defaults.
        let (cli, src) = load(args(&["--config", path]), None).unwrap();
        assert_eq!(cli.config.listen.port(), 4000);
        assert_eq!(cli.config.session_idle_minutes, 30);
        assert_eq!(src["listen"], "file");
        assert_eq!(src["public_url"], "default");
        // Flags beat the file.
        let (cli, src) = load(
            args(&["--config", path, "--listen", "127.0.0.1:5000"]),
            None,
        )
        .unwrap();
        assert_eq!(cli.config.listen.port(), 5000);
        assert_eq!(src["listen"], "flag");
        // The environment beats the file (a variable no other test reads).
        std::env::set_var("STRATA_AUTH_RATE_PER_MINUTE", "9");
        let (cli, src) = load(args(&["--config", path]), None).unwrap();
        std::env::remove_var("STRATA_AUTH_RATE_PER_MINUTE");
        assert_eq!(cli.config.auth_rate_per_minute, 9);
        assert_eq!(src["auth_rate_per_minute"], "environment");
        // And flags beat the environment.
        std::fs::remove_file(f).unwrap();
    }

    #[test]
    fn bad_files_and_values_name_the_setting() {
        let f = file("listne = \"x\"\n");
        let e = load(args(&["--config", f.to_str().unwrap()]), None).unwrap_err();
        assert!(e.to_string().contains("unknown setting `listne`"), "{e}");
        let f = file("listen = \"not an address\"\n");
        let e = load(args(&["--config", f.to_str().unwrap()]), None).unwrap_err();
        assert!(e.to_string().contains("--listen"), "{e}");
        let f = file("listen = [1]\n");
        let e = load(args(&["--config", f.to_str().unwrap()]), None).unwrap_err();
        assert!(
            e.to_string().contains("must be a string or a number"),
            "{e}"
        );
        let e = load(args(&["--config", "/no/such/strata.toml"]), None).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn show_redacts_secrets_and_passwords() {
        let (cli, src) = load(
            args(&[
                "--database-url",
                "postgres://app:hunter2@db/strata",
                "--metrics-token",
                "s3cret",
            ]),
            None,
        )
        .unwrap();
        let text = show(&cli, &src);
        assert!(text.contains("postgres://app:***@db/strata"), "{text}");
        assert_eq!(
            redact_url("redis://s3cret@cache:6379"),
            "redis://***@cache:6379"
        );
        assert_eq!(
            redact_url("postgres://db/x?sslmode=require&password=p4ss"),
            "postgres://db/x?sslmode=require&password=***"
        );
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
        assert!(
            text.contains("metrics_token") && text.contains("***"),
            "{text}"
        );
        assert!(
            text.contains("(flag)") && text.contains("(default)"),
            "{text}"
        );
    }
}
