#!/bin/bash
# The qemu driver on real VMs: QEMU under TCG boots the lab guest (Debian's kernel and an
# initramfs running hax-guest, scripts/build-guest-image) with its disk on a LUN of a
# private tgtd, driven by tests/qemu/test_hv_qemu --vm; then hax-journal-check proves the
# LUNs' journals clean. At most two QEMUs run at once (a migration's two ends).
. "$HAX_SOURCE/tests/lib/common.sh"

need_root "tgtd and iSCSI LUNs"
need_tool qemu-system-x86_64 qemu-system-x86
need_tool tgtd tgt
need_tool ss iproute2
qemu_mods=$(dirname "$(readlink -f "$(command -v qemu-system-x86_64)")")/../lib/x86_64-linux-gnu/qemu
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so ] || [ -e "$qemu_mods/block-iscsi.so" ] ||
	skip "needs QEMU's iSCSI block driver (Debian package qemu-block-extra)"

img="$B/guest-image"
note "guest image in $img"
"$S/scripts/build-guest-image" "$img" "$B/hax-guest" >"$T/image.log" 2>&1 ||
	{ cat "$T/image.log"; fail "cannot build the guest image"; }

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
pick_ports() {
	local i
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ctl=$((7401 + i)) port=$((3471 + i))
		tgtadm -C "$ctl" --mode sys --op show >/dev/null 2>&1 && continue
		port_free "$port" && return 0
	done
	return 1
}
pick_ports || skip "no free tgtd control port / portal in 7401-7410 / 3471-3480"
iqn=iqn.2026-01.org.hax.test:qemu-driver
CLEANUPS+=("sleep 0.3; rm -f /var/run/tgtd/socket.$ctl /var/run/tgtd/socket.$ctl.lock")
tgt_start "$ctl" "$port" "$iqn" 2 16 || fail "tgtd did not start (see $T/tgtd.log)"
url="iscsi://127.0.0.1:$port/$iqn"

export HAX_QEMU_KERNEL=$img/vmlinuz HAX_QEMU_INITRD=$img/initrd.gz
export HAX_QEMU_LUN1=$url/1 HAX_QEMU_LUN2=$url/2 HAX_QEMU_BADLUN=$url/9
"$B/tests/qemu/test_hv_qemu" --vm || fail "driver tests on VMs"
for lun in 1 2; do
	"$B/hax-journal-check" --quiet --initiator iqn.2026-01.org.hax.test:check "$url/$lun" ||
		fail "journal of LUN $lun"
done
echo "qemu driver on real VMs: ok"
