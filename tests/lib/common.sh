# Shared shell helpers for hax's process tests. Source it; it sets $B (build dir) and $S
# (source dir) and provides skip/fail/wait_for and a private tgtd with real iSCSI LUNs.
# Every process a test starts is recorded and stopped by PID in cleanup (trap EXIT).

B=${HAX_BUILD:?HAX_BUILD must name the build directory}
S=${HAX_SOURCE:?HAX_SOURCE must name the source directory}
T=$(mktemp -d "${TMPDIR:-/tmp}/hax-test.XXXXXX")
PIDS=()
CLEANUPS=()

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
note() { echo "-- $*"; }

need_root() { [ "$(id -u)" = 0 ] || skip "needs root ($1)"; }
need_tool() { command -v "$1" >/dev/null 2>&1 || skip "needs $1 (Debian package $2)"; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.2 s until COMMAND succeeds.
wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$(( $(date +%s%N) + secs * 1000000000 ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || { echo "timed out after ${secs}s waiting for: $what"; return 1; }
		sleep 0.2
	done
}

cleanup() {
	local i p
	for (( i=${#CLEANUPS[@]}-1; i>=0; i-- )); do eval "${CLEANUPS[$i]}" >/dev/null 2>&1; done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
# meson stops a test that overruns with SIGTERM: clean up then too.
trap 'exit 143' TERM INT

# tgt_start CTLPORT PORT IQN NLUNS MIB: a private tgtd exporting NLUNS file-backed LUNs
# (LUN 1..NLUNS) of MIB MiB each on 127.0.0.1:PORT. tgtd ignores SIGTERM (LAB-NOTES):
# cleanup deletes the target and asks tgtd to exit through its control port.
tgt_start() {
	local ctl=$1 port=$2 iqn=$3 n=$4 mib=$5 i
	need_tool tgtd tgt
	tgtd -f -C "$ctl" --iscsi portal="127.0.0.1:$port" >"$T/tgtd.log" 2>&1 &
	PIDS+=($!)
	CLEANUPS+=("tgtadm -C $ctl --mode sys --op delete")
	CLEANUPS+=("tgtadm -C $ctl --lld iscsi --mode target --op delete --force --tid 1")
	wait_for 10 "tgtd control port $ctl" tgtadm -C "$ctl" --mode sys --op show || return 1
	tgtadm -C "$ctl" --lld iscsi --mode target --op new --tid 1 --targetname "$iqn" || return 1
	for i in $(seq 1 "$n"); do
		truncate -s "${mib}M" "$T/lun$i.img"
		tgtadm -C "$ctl" --lld iscsi --mode logicalunit --op new --tid 1 --lun "$i" \
			-b "$T/lun$i.img" || return 1
	done
	tgtadm -C "$ctl" --lld iscsi --mode target --op bind --tid 1 -I ALL || return 1
}

# haxd_start NAME CONF HOST: a standalone haxd in the foreground, logging to $T/NAME.log.
haxd_start() {
	"$B/haxd" -f -s -c "$2" -H "$3" >>"$T/$1.log" 2>&1 &
	HAXD_PID=$!
	PIDS+=($HAXD_PID)
	wait_for 10 "haxd answers" "$B/haxctl" status || { cat "$T/$1.log"; return 1; }
}

# The state of domain $1 (or "absent") from haxctl status --json.
dom_field() {
	"$B/haxctl" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
d = [x for x in s["domains"] if x["name"] == sys.argv[1]]
print(d[0][sys.argv[2]] if d else "absent")' "$1" "$2"
}
dom_is() { [ "$(dom_field "$1" state)" = "$2" ]; }

# Pids of hax-guest processes for domain $1 whose disk argument contains $2.
guest_pids() { pgrep -f -- "hax-guest --domain $1 .*--disk [^ ]*$2" | sort; }
