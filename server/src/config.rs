//! Command line and environment: every setting has a flag, an environment variable and a default.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Strata: a self-hosted private cloud control plane"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A TOML file of settings (keys as in `strata config show`); default: ./strata.toml if
    /// it exists. Order: defaults, then this file, then environment, then flags.
    #[arg(
        long = "config",
        env = "STRATA_CONFIG",
        global = true,
        value_name = "FILE"
    )]
    pub config_file: Option<PathBuf>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the control plane (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Permission schema tools: validation files, and questions about real grants.
    #[command(subcommand)]
    Authz(AuthzCommand),
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run this host as a node of a control plane: join it once with a token, then keep a
    /// link to it (dialing out over TLS) and report this host's inventory and heartbeats.
    Agent(AgentArgs),
    /// Remember a server and an API token for the client commands below (stored in your
    /// config directory, readable by you alone).
    Login(crate::client::args::LoginArgs),
    /// Virtual machines on a running Strata (through its REST API).
    #[command(subcommand)]
    Vm(crate::client::args::VmCommand),
    /// Services on a running Strata.
    #[command(subcommand)]
    Service(crate::client::args::ServiceCommand),
    /// Follow operations on a running Strata.
    #[command(subcommand)]
    Operation(crate::client::args::OperationCommand),
    /// Your API tokens on a running Strata.
    #[command(subcommand)]
    Token(crate::client::args::TokenCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

/// `strata agent ...`
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct AgentArgs {
    /// The join token from the control plane's Nodes page (needed only the first time; the
    /// node's identity is kept in `<data-dir>/agent`).
    #[arg(long, env = "STRATA_JOIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The region this node serves (VMs and services ask for one).
    #[arg(long, env = "STRATA_REGION", default_value = "default")]
    pub region: String,
    /// A label for placement, `key=value`; repeat for more.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
}

/// Where `strata authz` asks: this installation's database (the default), or a running
/// server as a platform administrator.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Remote {
    /// Ask this server (e.g. https://cloud.example.com) instead of reading the database.
    #[arg(long, env = "STRATA_SERVER")]
    pub server: Option<String>,
    /// A platform administrator's API token (`strata_...`, made under Settings) for
    /// `--server`.
    #[arg(
        long,
        env = "STRATA_API_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
}

/// `strata config ...`
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting's effective value (secrets redacted) and where it came from.
    Show,
}

/// `strata authz ...`
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AuthzCommand {
    /// Run validation files (Permify's YAML shape) against the engine in memory; no server or
    /// database needed. Exits 1 when any assertion fails or a file cannot be run.
    Validate {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Does SUBJECT (user:alice) hold PERMISSION on ENTITY (vm:ID)? Reads this installation's
    /// database, never writes.
    Check {
        subject: String,
        permission: String,
        entity: String,

        #[command(flatten)]
        remote: Remote,
    },
    /// Every object of ENTITY_TYPE on which SUBJECT holds PERMISSION.
    LookupResources {
        subject: String,
        permission: String,
        entity_type: String,

        #[command(flatten)]
        remote: Remote,
    },
    /// Every subject of SUBJECT_TYPE (`user`, or `type#relation`) holding PERMISSION on ENTITY.
    LookupSubjects {
        entity: String,
        permission: String,
        subject_type: String,

        #[command(flatten)]
        remote: Remote,
    },
    /// Why SUBJECT does or does not hold PERMISSION on ENTITY: every step the engine took.
    Explain {
        subject: String,
        permission: String,
        entity: String,

        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Clone, Args, serde::Serialize)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "STRATA_LISTEN",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub listen: SocketAddr,
    /// The URL people open in their browser; passkeys are bound to its host.
    #[arg(long, env = "STRATA_PUBLIC_URL", default_value = "http://localhost:3000", global = true, value_parser = parse_public_url)]
    pub public_url: String,
    /// Where Strata keeps its SQLite database, disks and sockets.
    #[arg(long, env = "STRATA_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL; default: a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Redis URL for sharing live events between several instances (optional).
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,
    /// The built site (CSS, JS, WASM) made by `cargo xtask build` (tools/site).
    #[arg(
        long,
        env = "STRATA_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,
    /// Who may sign up once an admin exists: `invite` (admin-made links) or `open`.
    #[arg(
        long,
        env = "STRATA_SIGNUP_POLICY",
        default_value = "invite",
        global = true
    )]
    pub signup_policy: model::auth::SignupPolicy,
    /// A session unused for this many minutes ends.
    #[arg(long, env = "STRATA_SESSION_IDLE_MINUTES", default_value_t = 720, global = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub session_idle_minutes: u32,
    /// A session ends this many hours after sign-in, however active.
    #[arg(long, env = "STRATA_SESSION_ABSOLUTE_HOURS", default_value_t = 168, global = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub session_absolute_hours: u32,
    /// Sign-in and sign-up requests allowed per client address per minute.
    #[arg(
        long,
        env = "STRATA_AUTH_RATE_PER_MINUTE",
        default_value_t = 30,
        global = true
    )]
    pub auth_rate_per_minute: u32,
    /// REST API (`/api/v1`) requests allowed per token per minute (0 turns the limit off).
    #[arg(
        long,
        env = "STRATA_API_RATE_PER_MINUTE",
        default_value_t = 600,
        global = true
    )]
    pub api_rate_per_minute: u32,
    /// The longest a personal API token may live, in days.
    #[arg(long, env = "STRATA_TOKEN_MAX_DAYS", default_value_t = 90, global = true, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub token_max_days: u32,
    /// Load balancers or reverse proxies (comma-separated IPs or CIDRs) whose
    /// `X-Forwarded-For` names the client; default none: the socket peer is the client.
    #[arg(long, env = "STRATA_TRUSTED_PROXIES", global = true, value_parser = crate::client_ip::TrustedProxies::parse)]
    pub trusted_proxies: Option<crate::client_ip::TrustedProxies>,
    /// Log filter, e.g. `info` or `strata=debug,tower_http=info`.
    #[arg(long, env = "STRATA_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Bearer token that `/metrics` requires (`Authorization: Bearer TOKEN`).
    #[arg(long, env = "STRATA_METRICS_TOKEN", global = true)]
    pub metrics_token: Option<String>,
    /// Serve `/metrics` on this separate address, without a token (e.g. 127.0.0.1:9100).
    #[arg(long, env = "STRATA_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// Export traces over OTLP/HTTP to this collector (e.g. http://collector:4318); off when unset.
    #[arg(long, env = "STRATA_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
    /// A built test guest (vmlinuz + initrd.img) offered as the ready image on first run.
    #[arg(
        long,
        env = "STRATA_READY_IMAGE",
        default_value = "target/guest",
        global = true
    )]
    pub ready_image: PathBuf,
    /// Where agents of other hosts dial in (TLS); `off` to take no agents.
    #[arg(long, env = "STRATA_AGENT_LISTEN", default_value = "127.0.0.1:7443", global = true, value_parser = AgentListen::parse)]
    pub agent_listen: AgentListen,
    /// The address agents are told to dial, `wss://host:port` (default: the agent listener's
    /// address, or the public URL's host with its port when it listens on every address).
    #[arg(long, env = "STRATA_AGENT_URL", global = true, value_parser = parse_agent_url)]
    pub agent_url: Option<String>,
    /// The network namespace the local node's VM bridges and taps live in, made when a VM
    /// first needs a network; `host` for the host's own. Default: one of the node's own,
    /// `<tag>-node` (the tag comes from the data directory), so VM networks touch nothing of
    /// the host's.
    #[arg(long, env = "STRATA_NODE_NETNS", global = true)]
    pub node_netns: Option<String>,
    /// Delete audit rows older than this many days; unset keeps them forever.
    #[arg(long, env = "STRATA_AUDIT_RETENTION_DAYS", global = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub audit_retention_days: Option<u32>,
}

impl Config {
    /// Where the embedded node keeps VMs and images: under the data directory.
    pub fn compute(&self) -> control::ComputeConfig {
        let data = std::path::absolute(&self.data_dir).unwrap_or_else(|_| self.data_dir.clone());
        control::ComputeConfig {
            vm_dir: data.join("vms"),
            image_dir: data.join("images"),
            ready_image: Some(self.ready_image.clone()),
            net_dir: data.join("networks"),
            node_netns: match self.node_netns.as_deref() {
                Some("host") => None,
                Some(ns) if !ns.is_empty() => Some(ns.to_owned()),
                _ => Some(format!(
                    "{}-node",
                    hypervisor::net::tag_for(&data.join("networks"))
                )),
            },
        }
    }

    /// Identity settings derived from the flags.
    pub fn auth(&self) -> control::auth::AuthConfig {
        let mut auth = control::auth::AuthConfig::new(self.public_url.clone());
        auth.signup_policy = self.signup_policy;
        auth.idle_timeout = chrono::Duration::minutes(i64::from(self.session_idle_minutes));
        auth.absolute_timeout = chrono::Duration::hours(i64::from(self.session_absolute_hours));
        auth.token_max_days = self.token_max_days;
        auth
    }

    /// The database URL to use: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> std::io::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir)?;
                let file = std::path::absolute(self.data_dir.join("strata.db"))?;
                Ok(format!("sqlite://{}?mode=rwc", file.display()))
            }
        }
    }
}

/// The agent listener's address, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(into = "String")]
pub struct AgentListen(pub Option<SocketAddr>);

impl AgentListen {
    fn parse(value: &str) -> Result<Self, String> {
        if value == "off" {
            return Ok(Self(None));
        }
        value
            .parse()
            .map(|addr| Self(Some(addr)))
            .map_err(|_| format!("{value:?} is not an address such as 0.0.0.0:7443, nor `off`"))
    }
}

impl std::fmt::Display for AgentListen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => write!(f, "{addr}"),
            None => f.write_str("off"),
        }
    }
}

impl From<AgentListen> for String {
    fn from(listen: AgentListen) -> Self {
        listen.to_string()
    }
}

fn parse_agent_url(value: &str) -> Result<String, String> {
    agent::proto::host_port(value)
        .map(|_| value.trim_end_matches('/').to_owned())
        .map_err(|_| format!("{value:?} is not a wss://host:port address"))
}

/// Accepts `http(s)://host[:port]` with no path, and drops a trailing slash.
fn parse_public_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim_end_matches('/');
    let uri: http::Uri = trimmed
        .parse()
        .map_err(|_| format!("{value:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err("the public URL must start with http:// or https://".into()),
    }
    if uri.authority().is_none() {
        return Err("the public URL must name a host, e.g. http://localhost:3000".into());
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err("the public URL must not have a path or query".into());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("strata").chain(args.iter().copied()))
    }

    #[test]
    fn a_token_may_begin_with_a_hyphen() {
        let cli = parse(&[
            "authz", "check", "user:a", "read", "vm:b", "--server", "http://x", "--token", "-J0k",
        ])
        .unwrap();
        let Some(Command::Authz(cmd)) = cli.command else {
            panic!("an authz command");
        };
        assert!(format!("{cmd:?}").contains("\"-J0k\""), "{cmd:?}");
    }

    #[test]
    fn defaults_serve_on_localhost_with_sqlite_in_the_data_dir() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.command, None);
        assert_eq!(cli.config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.config.public_url, "http://localhost:3000");
        let dir = std::env::temp_dir().join(format!("strata-cfg-{}", std::process::id()));
        let cli = parse(&["--data-dir", dir.to_str().unwrap()]).unwrap();
        let url = cli.config.database_url().unwrap();
        assert!(
            url.starts_with("sqlite://") && url.ends_with("strata.db?mode=rwc"),
            "{url}"
        );
        assert!(dir.is_dir(), "the data directory is created");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn flags_work_before_and_after_the_subcommand() {
        let cli = parse(&["migrate", "--database-url", "postgres://x/y"]).unwrap();
        assert_eq!(cli.command, Some(Command::Migrate));
        assert_eq!(cli.config.database_url().unwrap(), "postgres://x/y");
        let cli = parse(&["--listen", "0.0.0.0:8080", "serve"]).unwrap();
        assert_eq!(cli.config.listen.port(), 8080);
    }

    #[test]
    fn the_agent_listener_has_an_address_or_is_off() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.config.agent_listen.to_string(), "127.0.0.1:7443");
        let cli = parse(&["--agent-listen", "off"]).unwrap();
        assert_eq!(cli.config.agent_listen, AgentListen(None));
        assert!(parse(&["--agent-listen", "nowhere"]).is_err());
        assert!(parse(&["--agent-url", "https://x"]).is_err());
        let cli = parse(&["agent", "--label", "rack=a", "--region", "eu"]).unwrap();
        let Some(Command::Agent(args)) = cli.command else {
            panic!("the agent command");
        };
        assert_eq!(args.labels, ["rack=a"]);
        assert_eq!(args.region, "eu");
    }

    #[test]
    fn trusted_proxies_are_a_list_of_networks() {
        assert_eq!(parse(&[]).unwrap().config.trusted_proxies, None);
        let cli = parse(&["--trusted-proxies", "10.0.0.0/8, 192.168.1.5"]).unwrap();
        let proxies = cli.config.trusted_proxies.unwrap();
        assert_eq!(proxies.to_string(), "10.0.0.0/8,192.168.1.5");
        assert!(parse(&["--trusted-proxies", "10.0.0.0/40"]).is_err());
    }

    #[test]
    fn public_url_is_validated() {
        assert_eq!(
            parse_public_url("https://cloud.example.com/").unwrap(),
            "https://cloud.example.com"
        );
        assert!(parse_public_url("localhost:3000").is_err());
        assert!(parse_public_url("ftp://x").is_err());
        assert!(parse_public_url("http://x/app").is_err());
        assert!(parse(&["--public-url", "nope"]).is_err());
    }
}
