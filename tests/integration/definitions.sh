#!/bin/bash
# Definitions cannot escalate, end to end: haxctl domain add through a standalone haxd on
# the qemu and xl drivers (nothing is started: every definition here is refused or never
# enabled on a host that could run it). A refusal names the key; domain_paths is the
# allow-list of host paths, and a reload changes it.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "haxd's IPC and state directory"
export HAX_IPC="hax-it-defs-$$"

expect() { # expect CODE PATTERN CMD...
	local code=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code: $out"
	echo "$out" | grep -q -- "$pat" || fail "'$*' printed [$out], expected /$pat/"
}
conf() { # conf DRIVER PATHS
	cat >"$T/haxd.conf" <<CONF
[cluster]
name = defs
driver = $1
state_dir = $T/state-$1
xl = $S/scripts/xl_lab
domain_paths = $2
[host h1]
nodeid = 1
memory = 1G
vcpus = 2
CONF
}
add() { # add NAME DEFINITION-TEXT
	printf '%b' "$2" >"$T/$1.def"
	"$B/haxctl" domain add "$1" --config "$T/$1.def" --memory 64
}

# qemu: host files only under domain_paths, no machine properties.
export HAX_QEMU=/bin/true
conf qemu "/boot $T/images"
haxd_start qemu "$T/haxd.conf" h1 || fail "haxd (qemu) did not start"
expect 1 "kernel: /etc/passwd is outside domain_paths" add q1 'kernel = /etc/passwd\ndisk = iscsi://127.0.0.1/iqn.x:y/1\n'
expect 1 "disk: /dev/sda is outside domain_paths" add q2 'kernel = /boot/vmlinuz\ndisk = /dev/sda\n'
expect 1 "bad value for machine" add q3 'kernel = /boot/vmlinuz\ndisk = iscsi://127.0.0.1/iqn.x:y/1\nmachine = pc,dumpdtb=x\n'
expect 0 "added" add q4 "kernel = /boot/vmlinuz\\ndisk = $T/images/q4.img\\n"
# A reload narrows the list: the same definition is then refused.
conf qemu "/boot"
expect 0 "reloaded" "$B/haxctl" reload
expect 1 "disk: $T/images/q5.img is outside domain_paths (/boot)" add q5 "kernel = /boot/vmlinuz\\ndisk = $T/images/q5.img\\n"
kill "$HAXD_PID"; wait "$HAXD_PID" 2>/dev/null
note "qemu: kernel, disk outside domain_paths and machine properties refused by name; reload applies"

# xl: the key allow-list.
conf xl "/boot /dev/disk/by-path"
haxd_start xl "$T/haxd.conf" h1 || fail "haxd (xl) did not start"
expect 1 "bootloader: not allowed" add x1 'memory = 64\nbootloader = "/bin/sh"\n'
expect 1 "device_model_override: not allowed" add x2 'memory = 64\ndevice_model_override = "/tmp/q"\n'
expect 1 "vif: setting \"script\" is not allowed" add x3 "memory = 64\\nvif = [ 'bridge=br0,script=/tmp/evil' ]\\n"
expect 1 "disk: /etc/shadow is outside domain_paths" add x4 "memory = 64\\ndisk = [ 'phy:/etc/shadow,xvda,r' ]\\n"
expect 1 "pci: not allowed" add x5 "memory = 64\\npci = [ '01:00.0' ]\\n"
expect 0 "added" add x6 "memory = 64\\nkernel = '/boot/vmlinuz'\\ndisk = [ 'format=raw, vdev=xvda, target=/dev/disk/by-path/ip-1' ]\\n"
"$B/haxctl" status --json | python3 -c '
import json, sys
names = sorted(d["name"] for d in json.load(sys.stdin)["domains"])
assert names == ["x6"], names' || fail "only x6 should have been added (the xl state is its own)"
note "xl: bootloader, device_model_override, vif script, disk outside domain_paths, pci refused by name"
echo "PASS"
