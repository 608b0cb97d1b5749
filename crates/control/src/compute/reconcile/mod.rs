//! The reconciler: drives each VM from its observed state to its desired state on the node.
//!
//! [`vm`] runs one VM operation step by step ([`ended`]: what one that failed or was
//! cancelled leaves); every state it records is guarded by the VM's
//! generation, so a step of an older request never overwrites a newer one (the older operation
//! ends as superseded instead). [`sweep`] looks at the node every few seconds: a VM whose QEMU
//! died is marked with the reason, and a QEMU process no VM owns is stopped.

mod ended;
mod sweep;
mod vm;

pub(crate) use ended::{vm_cancelled, vm_failed};
pub(crate) use sweep::SWEEP_EVERY;
pub(crate) use vm::{
    db_error, driver_error, driver_public, event, forget_vm_in, BOOT_TIMEOUT, STOP_GRACE,
};
