//! The integration tests of the control plane: use cases on a real database, and real QEMU VMs.
//!
//! Each module was once its own test binary; as modules of one they link once.
// Allowed here: tests build their worlds at today's time and wait for real VMs.
#![allow(clippy::disallowed_methods)]

mod agents;
mod audit;
mod dashboard;
mod errors_qemu;
mod networks;
mod networks_qemu;
mod operations;
mod orgs;
mod permissions;
mod placement;
mod services_limits;
mod services_qemu;
mod tokens;
mod vm_list;
mod vms_qemu;
