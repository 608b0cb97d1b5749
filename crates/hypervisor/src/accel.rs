//! Which accelerator to use: KVM only where it really runs a stock kernel, TCG otherwise.
//!
//! Measured on these machines (ENVIRONMENT.md): `/dev/kvm` exists but is a nested "PVM" that
//! emulates for minutes and then fails, and `-accel kvm -accel tcg` does not fall back because
//! KVM starts first. So the choice is made here, explicitly, before launch.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn as_arg(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// KVM when `/dev/kvm` is there and the host is not the PVM nested hypervisor.
pub fn detect() -> Accel {
    choose(
        Path::new("/dev/kvm").exists(),
        Path::new("/sys/module/kvm_pvm").exists(),
    )
}

fn choose(dev_kvm: bool, pvm: bool) -> Accel {
    if dev_kvm && !pvm {
        Accel::Kvm
    } else {
        Accel::Tcg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvm_only_where_it_really_works() {
        assert_eq!(choose(true, false), Accel::Kvm);
        assert_eq!(choose(true, true), Accel::Tcg);
        assert_eq!(choose(false, false), Accel::Tcg);
    }
}
