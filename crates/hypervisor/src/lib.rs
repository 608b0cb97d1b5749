//! The node side of Strata: one `qemu-system-x86_64` process per VM, driven over QMP.
//!
//! [`qmp`] speaks the QEMU Machine Protocol on a unix socket (events may arrive before the
//! reply to a command; they are kept, never dropped). [`qemu`] builds a VM's command line from
//! its spec, launches it detached (so it outlives the control plane and can be adopted after a
//! restart) and stops it gracefully with the ACPI power button, falling back to `quit` and then
//! a kill. [`accel`] picks KVM only where it really works.
//!
//! This crate never panics on input from QEMU or a guest: everything is an error value.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod accel;
pub mod qemu;
pub mod qmp;
