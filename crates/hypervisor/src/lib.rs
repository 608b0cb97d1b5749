//! The node side of Strata: one `qemu-system-x86_64` process per VM, driven over QMP.
//!
//! [`driver`] is what the control plane uses: the [`Driver`] trait (create, start, stop,
//! pause, delete, status, usage and the serial console of a VM, by id) and its errors, which
//! say whether a retry can help. [`QemuDriver`] implements it with one directory per VM under
//! a root: `<root>/<id>/` holds `disk.qcow2`, `config.json`, `qemu.pid`, the QMP sockets,
//! `console.sock` and `serial.log`.
//!
//! Below it: [`qemu`] builds a VM's command line, launches it detached (so it outlives the
//! control plane and is adopted after a restart) and stops it gracefully with the ACPI power
//! button, falling back to `quit` and then a kill. [`qmp`] speaks the QEMU Machine Protocol
//! (events that arrive before a reply are kept, never dropped). [`console`] reads the serial
//! log (started afresh at each boot) and types into the console socket. [`disk`] makes qcow2
//! disks with `qemu-img`, blank or as overlays on a base image. [`procfs`] finds QEMU
//! processes and measures them. [`accel`] picks KVM only where it really works. [`net`] makes
//! the VM networks on the node: a bridge per network, a tap per card, dnsmasq for addresses
//! and names.
//!
//! This crate never panics on input from QEMU or a guest: everything is an error value.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod accel;
pub mod console;
pub mod disk;
pub mod driver;
pub mod net;
pub mod procfs;
pub mod qemu;
pub mod qemu_driver;
pub mod qmp;
#[doc(hidden)]
pub mod testing;

pub use driver::{Boot, Driver, DriverError, MachineSpec, PowerState, Stopped, Usage};
pub use net::{NetPlane, NetworkSpec, NicSpec};
pub use qemu_driver::QemuDriver;
