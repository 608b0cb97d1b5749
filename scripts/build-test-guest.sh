#!/bin/sh
# Builds Strata's small test guest from Debian packages, with no other download:
#   OUT/vmlinuz     the kernel of Debian's linux-image-cloud-amd64
#   OUT/initrd.img  a busybox-static initramfs whose /init loads the virtio, button, evdev
#                   and fw_cfg modules, starts acpid (the power button runs `poweroff -f`),
#                   prints the configuration QEMU passed in fw_cfg (opt/strata/config); with a
#                   network card, asks DHCP for an address (printing `STRATA-NET: eth0 <address>
#                   <hostname>`, or `STRATA-NET: eth0 none`), takes the hostname and DNS server
#                   it is given and serves HTTP on port 80 (`/` says the hostname and the
#                   configuration); prints the boot marker STRATA-GUEST-READY on the serial
#                   console, then runs a shell there (prompt `strata-guest# `).
#                   With `strata.noacpi` on the kernel command line it ignores the button.
# Idempotent: does nothing when OUT holds a guest built by this version of the script.
# Usage: scripts/build-test-guest.sh [OUT]   (default: target/guest)
set -eu

OUT=${1:-target/guest}
# The work below happens in a temporary directory: make OUT absolute first.
case "$OUT" in /*) ;; *) OUT="$(pwd)/$OUT" ;; esac
VERSION=8
if [ -f "$OUT/version" ] && [ "$(cat "$OUT/version")" = "$VERSION" ] \
   && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.img" ]; then
  exit 0
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "build-test-guest: $1 is required" >&2; exit 1; }; }
need apt-get; need dpkg-deb; need gzip

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
chmod 755 "$WORK"   # apt's sandbox user must be able to write the downloads

download() {
  apt-get download "$@" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get download "$@" >/dev/null; }
}
download linux-image-cloud-amd64 busybox-static
KPKG=$(dpkg-deb -f linux-image-cloud-amd64_*.deb Depends | sed -n 's/.*\(linux-image-[0-9][^ ,]*-cloud-amd64\).*/\1/p')
[ -n "$KPKG" ] || { echo "build-test-guest: cannot find the kernel package" >&2; exit 1; }
download "$KPKG"
mkdir kernel busybox root
dpkg-deb -x "$KPKG"_*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox

MODS=$(echo kernel/lib/modules/*)
mkdir -p root/bin root/lib/modules root/proc root/sys root/dev root/etc/acpi/PWRF root/tmp root/www
cp busybox/bin/busybox root/bin/busybox
for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
         drivers/acpi/button drivers/input/evdev drivers/firmware/qemu_fw_cfg \
         net/core/failover drivers/net/net_failover drivers/net/virtio_net; do
  f="$MODS/kernel/$m.ko"
  if [ -f "$f" ]; then cp "$f" root/lib/modules/; fi
done

cat > root/etc/acpi/PWRF/00000080 <<'SH'
#!/bin/sh
echo "STRATA-GUEST-POWEROFF" > /dev/console
poweroff -f
SH
chmod 755 root/etc/acpi/PWRF/00000080

# udhcpc's hook: takes the lease's address, route, name and DNS server.
cat > root/etc/udhcpc.sh <<'SH'
#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    [ -n "$router" ] && ip route replace default via "$router" dev "$interface"
    [ -n "$hostname" ] && hostname "$hostname"
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "STRATA-NET: $interface $ip ${hostname:-unnamed}" > /dev/console
    ;;
esac
exit 0
SH
chmod 755 root/etc/udhcpc.sh

cat > root/init <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk button evdev qemu_fw_cfg failover net_failover virtio_net; do
  [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko 2>/dev/null
done
# acpid stops at start without somewhere to log; its handler powers off on the button.
# `strata.noacpi` on the kernel command line makes a guest that ignores the button, for tests
# of the forced stop.
mkdir -p /var/log /var/run
acpid_ready() {
  for p in $(pidof acpid); do
    ls -l /proc/$p/fd 2>/dev/null | grep -q input/event && return 0
  done
  return 1
}
if ! grep -q strata.noacpi /proc/cmdline; then
  acpid -c /etc/acpi -l /dev/null
  # The marker promises that the power button works: wait until acpid holds the input
  # devices (it daemonizes, and a press before that is lost).
  n=0
  until acpid_ready || [ $n -ge 200 ]; do usleep 50000; n=$((n+1)); done
fi
CONFIG=/sys/firmware/qemu_fw_cfg/by_name/opt/strata/config/raw
if [ -f "$CONFIG" ]; then
  echo "STRATA-CONFIG: $(cat "$CONFIG")"
fi
# A network card: an address from the network's DHCP server (only a pinned lease is offered),
# and a web page saying who this is and what it was configured with.
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up
  udhcpc -i eth0 -s /etc/udhcpc.sh -O mtu -n -q -t 20 -T 1 -A 1 >/dev/null 2>&1 || echo "STRATA-NET: eth0 none"
  { echo "strata-guest $(hostname)"; [ -f "$CONFIG" ] && cat "$CONFIG"; } > /www/index.html
  httpd -p 80 -h /www
fi
echo "STRATA-GUEST-READY"
# An interactive shell on the serial console, so a person (or a test) can type into the guest.
export PS1='strata-guest# '
while true; do setsid cttyhack /bin/sh; done
SH
chmod 755 root/init

mkdir -p "$OUT"
# busybox's own cpio writes the archive, so no cpio package is needed.
BB="$WORK/busybox/bin/busybox"
(cd root && find . | "$BB" cpio -o -H newc 2>/dev/null | gzip -9) > "$OUT/initrd.img.tmp.$$"
cp "kernel/boot/"vmlinuz-* "$OUT/vmlinuz.tmp.$$"
mv "$OUT/vmlinuz.tmp.$$" "$OUT/vmlinuz"
mv "$OUT/initrd.img.tmp.$$" "$OUT/initrd.img"
echo "$VERSION" > "$OUT/version"
echo "test guest: $OUT/vmlinuz $OUT/initrd.img"
