//! Compute: virtual machines, their images, the nodes they run on and what they use.
//!
//! [`create`] and [`requests`] turn a person's request (create; start, stop, restart, pause,
//! resume, delete) into a VM row, a durable operation and an audit row in one transaction; [`reconcile`] is those
//! operations, driving the hypervisor until the VM is what was asked; [`catalog`] is what pages
//! read (lists, detail, shares, history); [`console`] opens a VM's serial console for someone
//! allowed to; [`images`] registers the disk images VMs boot from; [`nodes`] is the registry of
//! hypervisor nodes; [`placement`] picks a node with room for a VM inside the transaction that
//! creates or starts it; [`usage`] samples running VMs' CPU and
//! memory; [`shown`] is what a VM on an unreachable node shows instead of a stale state;
//! [`drain`] moves a node's service replicas off before maintenance.

pub mod catalog;
pub mod console;
mod create;
mod drain;
pub mod images;
pub mod nodes;
pub(crate) mod placement;
pub(crate) mod reconcile;
pub mod requests;
mod shown;
pub mod usage;

pub(crate) use shown::Unreachable;
