#!/bin/bash
# hax-guest and hax-journal-check over iSCSI, against a private tgtd on loopback:
#   iscsi_test.sh HAX_GUEST HAX_JOURNAL_CHECK JOURNAL_PR_TOOL
# 1. a guest writes for a second over iSCSI; the checker reads the LUN over iSCSI and
#    agrees with the backing file;
# 2. a second incarnation registers a PR key, a fencer reserves the LUN and then preempts
#    that key: the guest must stay up, log the RESERVATION CONFLICT once, keep retrying
#    and recover when the reservation is cleared; the journal stays clean.
# Needs root and tgt (tgtd, tgtadm); otherwise it says why and exits 77 (skipped).
set -u

guest=$1 check=$2 prtool=$3

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root to run a private tgtd"
	exit 77
fi
if ! command -v tgtd >/dev/null || ! command -v tgtadm >/dev/null; then
	echo "SKIP: tgtd/tgtadm not found (Debian package tgt)"
	exit 77
fi

tmp=$(mktemp -d /tmp/hax-journal-iscsi.XXXXXX)
iqn=iqn.2026-11.org.hax:journal-test
ctl= port= tgtd_pid= guest_pid= fencer_pid=

tgt() { tgtadm -C "$ctl" "$@"; }

# tgtd ignores SIGTERM: delete the target, then ask it to exit (LAB-NOTES).
cleanup() {
	[ -n "$guest_pid" ] && kill -KILL "$guest_pid" 2>/dev/null
	[ -n "$fencer_pid" ] && kill -KILL "$fencer_pid" 2>/dev/null
	if [ -n "$tgtd_pid" ]; then
		tgt --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1
		tgt --mode sys --op delete >/dev/null 2>&1
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$tgtd_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$tgtd_pid" 2>/dev/null
		wait "$tgtd_pid" 2>/dev/null
		rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.log "$tmp"/*.out; do
		[ -f "$f" ] && { echo "--- $f"; cat "$f"; }
	done
	exit 1
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# A control port and portal nobody else uses (other tests may run their own tgtd).
pick_ports() {
	local base=$(($$ % 100))
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ctl=$((7700 + (base + i) % 100))
		port=$((13260 + (base + i) % 100))
		[ -e "/var/run/tgtd/socket.$ctl" ] && continue
		port_free "$port" && return 0
	done
	return 1
}

start_tgtd() {
	pick_ports || fail "no free tgtd control port / portal"
	tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:$port" >"$tmp/tgtd.log" 2>&1 &
	tgtd_pid=$!
	for _ in $(seq 50); do
		tgt --mode sys --op show >/dev/null 2>&1 && return 0
		kill -0 "$tgtd_pid" 2>/dev/null || fail "tgtd exited"
		sleep 0.1
	done
	fail "tgtd did not come up"
}

export_lun() {
	truncate -s 4M "$tmp/lun"
	tgt --lld iscsi --op new --mode target --tid 1 -T "$iqn" || fail "new target"
	tgt --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$tmp/lun" ||
		fail "new lun"
	tgt --lld iscsi --op bind --mode target --tid 1 -I ALL || fail "bind"
}

start_tgtd
export_lun
url="iscsi://127.0.0.1:$port/$iqn/1"

# 1. plain run over iSCSI
"$guest" --domain db1 --incarnation 1 --nodeid 1 --disk "$url" \
	--initiator iqn.2026-11.org.hax:h1 --interval 20ms 2>"$tmp/g1.log" &
guest_pid=$!
sleep 1
kill -TERM "$guest_pid"
wait "$guest_pid"
rc=$?
guest_pid=
[ "$rc" = 0 ] || fail "guest 1 exited $rc"
"$check" --initiator iqn.2026-11.org.hax:checker "$url" >"$tmp/c1.out"
rc=$?
[ "$rc" = 0 ] || fail "check over iSCSI exited $rc"
grep -Eq '^[1-9][0-9]* records, 1 incarnations, 0 violations' "$tmp/c1.out" ||
	fail "summary over iSCSI"
"$check" "$tmp/lun" >"$tmp/c1file.out" || fail "check of the backing file"
cmp -s "$tmp/c1.out" "$tmp/c1file.out" || fail "iSCSI and file disagree"

# 2. a registered guest gets fenced, stays up, and recovers when the fence is lifted. Its
# host's key is registered first, as haxd does (the rejoin rule's last step): a guest
# joins the reservation only while its host's key is listed (issue 12 item 12).
"$prtool" "$url" iqn.2026-11.org.hax:h2 register 0xa2 >"$tmp/hostkey.log" 2>&1 ||
	fail "registering the host's key: $(cat "$tmp/hostkey.log")"
"$guest" --domain db1 --incarnation 2 --nodeid 2 --disk "$url" --pr-key 0xa2 \
	--initiator iqn.2026-11.org.hax:h2 --interval 20ms 2>"$tmp/g2.log" &
guest_pid=$!
sleep 0.3
"$prtool" "$url" iqn.2026-11.org.hax:fencer register 0xf1 reserve 0xf1 sleep 400 \
	preempt 0xf1 0xa2 sleep 1000 clear 0xf1 >"$tmp/fencer.log" 2>&1 &
fencer_pid=$!
wait "$fencer_pid"
rc=$?
fencer_pid=
[ "$rc" = 0 ] || fail "fencer exited $rc"
sleep 0.5
kill -0 "$guest_pid" 2>/dev/null || fail "the fenced guest died"
kill -TERM "$guest_pid"
wait "$guest_pid"
rc=$?
guest_pid=
[ "$rc" = 0 ] || fail "guest 2 exited $rc"
[ "$(grep -c 'failed: .*RESERVATION CONFLICT' "$tmp/g2.log")" = 1 ] ||
	fail "expected exactly one RESERVATION CONFLICT line"
ms=$(sed -n 's/.*I\/O recovered after [0-9]* failed attempts in \([0-9]*\) ms/\1/p' "$tmp/g2.log")
[ -n "$ms" ] && [ "$ms" -ge 700 ] || fail "no recovery after a ~1 s fence: '$ms'"
"$check" "$url" >"$tmp/c2.out"
rc=$?
[ "$rc" = 0 ] || fail "check after the fence exited $rc"
grep -Eq ' 2 incarnations, 0 violations' "$tmp/c2.out" || fail "summary after the fence"
cat "$tmp/g1.log" "$tmp/g2.log" "$tmp/fencer.log" "$tmp/c2.out"
echo "ok (iscsi)"
