//! The command line of the client commands (`strata login`, `vm`, `operation`, `token`,
//! `completions`): they talk to a running Strata over its REST API.

use clap::{Args, Subcommand, ValueEnum};

/// How results are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for scripts (progress still goes to stderr).
    Json,
}

/// Which server and token; each falls back to what `strata login` stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ApiArgs {
    /// The server, e.g. https://cloud.example.com (default: the one `strata login` stored).
    #[arg(long, env = "STRATA_SERVER")]
    pub server: Option<String>,
    /// An API token (default: the one `strata login` stored).
    #[arg(long, env = "STRATA_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// `table` or `json`.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// `strata login`
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct LoginArgs {
    /// The server, e.g. https://cloud.example.com.
    #[arg(long, env = "STRATA_SERVER")]
    pub server: String,
    /// The API token (made under Settings); read from standard input when left out.
    #[arg(long, env = "STRATA_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `strata vm ...`
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum VmCommand {
    /// The VMs you may see.
    List {
        /// Only this organization's (name or id).
        #[arg(long)]
        organization: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Create a VM from an image; waits until it exists (and runs, with --start).
    Create {
        /// The VM's name (lowercase letters, digits and hyphens).
        name: String,
        /// The organization (name or id).
        #[arg(long)]
        organization: String,
        #[arg(long, default_value_t = 1)]
        cpus: u32,
        /// Memory in MiB.
        #[arg(long, default_value_t = 128)]
        memory: u32,
        /// Disk in GiB.
        #[arg(long, default_value_t = 1)]
        disk: u32,
        /// The image's id (default: the first image of the catalog).
        #[arg(long)]
        image: Option<String>,
        /// Boot it once created.
        #[arg(long)]
        start: bool,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// One VM in detail.
    Show {
        /// The VM (name or id).
        vm: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The VM's serial console: prints what the guest writes, types each line of standard
    /// input into it. Ends at the end of input, or with --wait-for once that text appeared.
    Console {
        /// The VM (name or id).
        vm: String,
        /// End (exit 0) once the output holds this text, e.g. a login prompt.
        #[arg(long)]
        wait_for: Option<String>,
        /// Give up after this many seconds (exit code 7).
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Start a VM and wait until it runs.
    Start(VmTarget),
    /// Stop a VM and wait until it has stopped.
    Stop(VmTarget),
    /// Restart a VM and wait until it runs again.
    Restart(VmTarget),
    /// Delete a VM with its disk and wait until it is gone.
    Delete(VmTarget),
}

/// The VM an action is for.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct VmTarget {
    /// The VM (name or id).
    pub vm: String,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Whether and how long to wait for the operation a request starts.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct WaitArgs {
    /// Answer at once with the operation's id instead of waiting for it.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting after this many seconds (exit code 7).
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
}

/// `strata service ...`
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ServiceCommand {
    /// The services you may see.
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Roll out a configuration version, an image or a version label; waits for the rollout.
    Deploy {
        /// The service (name or id).
        service: String,
        /// A saved configuration version (default: the current one).
        #[arg(long)]
        config_version: Option<i64>,
        /// An image id.
        #[arg(long)]
        image: Option<String>,
        /// A version label, e.g. 1.4.2.
        #[arg(long)]
        version: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Change how many replicas run; waits for the rollout.
    Scale {
        /// The service (name or id).
        service: String,
        replicas: u32,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// `strata operation ...`
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum OperationCommand {
    /// Follow an operation to its end, showing its steps; fails when it fails.
    Wait {
        id: String,
        /// Give up after this many seconds (exit code 7).
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// `strata token ...`
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum TokenCommand {
    /// Make a token (only with an unrestricted token); its secret is printed once.
    Create {
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = model::tokens::DEFAULT_EXPIRY_DAYS)]
        days: u32,
        /// A permission it may use (`read`, `start`, ...); repeat for more; none: all.
        #[arg(long = "action")]
        actions: Vec<String>,
        /// Limit it to one organization (name or id).
        #[arg(long)]
        organization: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Your tokens (everyone's with --all, for platform admins).
    List {
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Revoke a token.
    Revoke {
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
}
