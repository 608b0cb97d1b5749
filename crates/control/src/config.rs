//! What the control plane needs to know at start, independent of how it was configured.

use std::path::PathBuf;

use model::EventTransport;

use crate::auth::AuthConfig;

#[derive(Clone, Debug)]
pub struct ControlConfig {
    /// A SeaORM URL: `sqlite://…?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// How live events travel between instances.
    pub events: EventTransport,
    /// Redis for sharing live events between instances (when `events` is Redis).
    pub redis_url: Option<String>,
    /// Passkeys, sessions and sign-up.
    pub auth: AuthConfig,
    /// Where this node keeps VMs and images.
    pub compute: ComputeConfig,
}

/// The embedded node's files.
#[derive(Clone, Debug)]
pub struct ComputeConfig {
    /// One directory per VM: disk, QMP and console sockets, serial log, pid file.
    pub vm_dir: PathBuf,
    /// Image files Strata keeps (the ready image is copied here).
    pub image_dir: PathBuf,
    /// A built test guest (vmlinuz + initrd.img) to offer as the ready image on first run.
    pub ready_image: Option<PathBuf>,
    /// The node's VM networks: dnsmasq's files, one directory per network.
    pub net_dir: PathBuf,
    /// The network namespace the node's bridges and taps live in (made when first needed);
    /// None: the host's own.
    pub node_netns: Option<String>,
}
