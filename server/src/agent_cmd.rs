//! `strata agent`: join once with the pasted token, then keep the link up until SIGINT or
//! SIGTERM. A refusal (the node was removed) ends it with the reason; a lost control plane
//! never does. Its VMs outlive it; only its service replicas stop, when the control plane has
//! been silent for `agent::fence::FENCE_AFTER`, because they are replaced elsewhere.

use std::path::PathBuf;
use std::sync::Arc;

use agent::fence::Lease;
use agent::identity::Identity;
use agent::link::Host;
use agent::proto::{Inventory, JoinToken};
use hypervisor::driver::Driver;
use hypervisor::qemu_driver::QemuDriver;

use crate::config::{AgentArgs, Config};
use crate::serve::RunError;

/// This host as the link reports it.
struct ThisHost {
    vm_dir: PathBuf,
    driver: Arc<QemuDriver>,
    region: String,
    labels: std::collections::BTreeMap<String, String>,
    lease: Arc<Lease>,
}

impl Host for ThisHost {
    fn inventory(&self) -> Inventory {
        agent::inventory::gather(&self.vm_dir, &self.region, self.labels.clone())
    }

    fn running(&self) -> Vec<String> {
        self.driver.running_ids()
    }

    fn driver(&self) -> Arc<dyn Driver> {
        self.driver.clone()
    }

    fn heard(&self) {
        self.lease.renew();
    }
}

fn failed(e: agent::AgentError) -> RunError {
    RunError::Agent(e.to_string())
}

pub async fn run(
    config: &Config,
    args: AgentArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    agent::raise_fd_limit();
    tokio::pin!(shutdown);
    let labels = agent::inventory::parse_labels(&args.labels).map_err(RunError::Agent)?;
    let data_dir = std::path::absolute(&config.data_dir)?;
    let identity = match (Identity::load(&data_dir).map_err(failed)?, args.token) {
        (Some(identity), token) => {
            if token.is_some() {
                tracing::warn!(node = %identity.name, "this host has already joined; the token is not used");
            }
            identity
        }
        (None, Some(token)) => {
            let token = JoinToken::decode(&token).map_err(failed)?;
            tracing::info!(url = %token.url, "joining the control plane");
            let identity = tokio::select! {
                joined = agent::join::join_patiently(&token, &data_dir) => joined.map_err(failed)?,
                () = &mut shutdown => return Ok(()),
            };
            tracing::info!(node = %identity.node_id, name = %identity.name, "joined");
            identity
        }
        (None, None) => {
            return Err(RunError::Agent(format!(
                "{} holds no node identity: pass --token with the join token from the Nodes page",
                data_dir.display()
            )))
        }
    };
    let vm_dir = data_dir.join("vms");
    let host = ThisHost {
        // The host's VM networks: bridges and taps in the host's namespace (an agent a test
        // starts runs inside the namespace that is its host).
        driver: Arc::new(QemuDriver::new(vm_dir.clone()).with_network(Arc::new(
            hypervisor::NetPlane::at(data_dir.join("networks"), None),
        ))),
        vm_dir,
        region: args.region,
        labels,
        lease: Lease::new(),
    };
    // Replicas stop here when the control plane stays silent (it replaces them elsewhere).
    let fencing = tokio::spawn(agent::fence::watch(host.lease.clone(), host.driver.clone()));
    let linked = agent::link::run(&identity, &host, shutdown).await;
    fencing.abort();
    linked.map_err(failed)?;
    tracing::info!("agent stopped");
    Ok(())
}
