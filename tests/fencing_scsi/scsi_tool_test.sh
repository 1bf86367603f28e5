#!/bin/bash
# hax-fence-scsi and the scsi fence driver against a private tgtd on 127.0.0.1 that
# exports two LUNs (tgt's LUN 0 is its controller, which --all-luns must skip):
#   scsi_tool_test.sh HAX_FENCE_SCSI HAX_GUEST HAX_JOURNAL_CHECK SCSI_DRIVER_RUN
# 1. usage errors exit 2;
# 2. hosts A (key 1) and B (key 2) register; both keys and a type 5 reservation show;
#    verify says in force, or not in force while a key given as --absent is listed
#    (and, later, 3 for a preempted key and 4 once no reservation is held);
# 3. a guest writing with B's registration writes; an unregistered one cannot; a guest
#    whose session is reset is refused, its key stays listed (check says 0), and it
#    joins again on its new session;
# 4. A preempts B: exit 0, B's key gone from both LUNs, B's guest gets RESERVATION
#    CONFLICT and keeps running, the journal holds no record of B's from after the
#    preempt; check says 3 (fenced) for B and 0 for A; a guest of B's started after the
#    preempt does not join (its key is gone) and cannot write;
# 5. preempting a key nobody holds succeeds with a note; a bad portal, a silent portal
#    and a wrong target fail (exit 1) within the deadline;
# 6. the rejoin step (B registers again), the unregister guard, and a last unregister;
# 7. the driver (through the real child runner): dry run, fence confirmed, fence of a
#    host whose storage does not answer fails with the reason, within the device timeout.
# Needs root and tgt; otherwise it says why and exits 77 (skipped).
set -u

tool=$1 guest=$2 jcheck=$3 drvrun=$4
# shellcheck source=tests/lib/common.sh
. "${HAX_SOURCE:?}/tests/lib/common.sh"

need_root "a private tgtd"
need_tool tgtd tgt
need_tool tgtadm tgt
need_tool python3 python3

fail() {
	echo "FAIL: $*"
	for f in "$T"/*.log "$T"/*.out; do
		[ -f "$f" ] && { echo "--- $f"; cat "$f"; }
	done
	exit 1
}

iqn=iqn.2026-11.org.hax:fence-scsi-test
A=iqn.2026-11.org.hax:a
B=iqn.2026-11.org.hax:b
K1=0x0000000000000001
K2=0x0000000000000002

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# A control port and a portal of our own: the lab and other tests run their own tgtd.
# A control port counts as taken while a tgtd answers on it.
pick_ports() {
	local i
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ctl=$((7301 + i)) port=$((3371 + i))
		tgtadm -C "$ctl" --mode sys --op show >/dev/null 2>&1 && continue
		port_free "$port" && return 0
	done
	return 1
}

pick_ports || skip "no free tgtd control port / portal in 7301-7310 / 3371-3380"
# Runs last (cleanups run in reverse): tgtd leaves its socket files behind.
CLEANUPS+=("sleep 0.3; rm -f /var/run/tgtd/socket.$ctl /var/run/tgtd/socket.$ctl.lock")
tgt_start "$ctl" "$port" "$iqn" 2 4 || fail "tgtd did not start (see $T/tgtd.log)"
P=(--portal "127.0.0.1:$port" --target "$iqn")
url1="iscsi://127.0.0.1:$port/$iqn/1"
url2="iscsi://127.0.0.1:$port/$iqn/2"

# expect WANT NAME CMD...: run CMD with stdout in $T/NAME.out, stderr in $T/NAME.err.
expect() {
	local want=$1 name=$2 rc
	shift 2
	"$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	[ "$rc" = "$want" ] || { cat "$T/$name.err"; fail "$name: '$*' exited $rc, expected $want"; }
}
out_has() { grep -Eq -- "$2" "$T/$1.out" || fail "$1: no line matching '$2'"; }
out_lacks() { ! grep -Eq -- "$2" "$T/$1.out" || fail "$1: unexpected line matching '$2'"; }
one_err_line() {
	if [ "$(wc -l <"$T/$1.err")" != 1 ] || ! grep -q '^hax-fence-scsi: ' "$T/$1.err"; then
		fail "$1: expected one 'hax-fence-scsi: ' line on stderr"
	fi
}

# 1. usage
note "usage errors"
expect 2 u1 "$tool"
expect 2 u2 "$tool" frobnicate "${P[@]}" --lun 1
expect 2 u3 "$tool" register "${P[@]}" --lun 1 --initiator "$A"
expect 2 u4 "$tool" register "${P[@]}" --lun 1 --key 1
expect 2 u5 "$tool" preempt "${P[@]}" --lun 1 --key 1 --victim 1 --initiator "$A"
expect 2 u6 "$tool" preempt "${P[@]}" --lun 1 --key 1 --initiator "$A"
expect 2 u7 "$tool" keys "${P[@]}" --lun 1 --all-luns
expect 2 u8 "$tool" keys "${P[@]}"
expect 2 u9 "$tool" check "${P[@]}" --lun 1 --key 0
expect 2 u10 "$tool" check "${P[@]}" --lun x --key 1
expect 2 u11 "$tool" keys --target "$iqn" --lun 1
expect 2 u12 "$tool" keys "${P[@]}" --lun 1 --timeout 0
expect 2 u13 "$tool" check "${P[@]}" --lun 1 --key 1 --force
expect 2 u14 "$tool" keys check "${P[@]}" --lun 1
expect 0 help "$tool" --help
out_has help '^usage: hax-fence-scsi'

# 2. two hosts register
note "A and B register"
expect 0 regA "$tool" register "${P[@]}" --all-luns --key 1 --initiator "$A"
out_has regA '^lun 0: skipped'
out_has regA "^lun 1: registered $K1 .*reservation type 5 .* held by $K1"
out_has regA "^lun 2: registered $K1 .*reservation type 5 .* held by $K1"
expect 0 regB "$tool" register "${P[@]}" --lun 1 --lun 2 --key 2 --initiator "$B"
out_has regB "^lun 2: registered $K2 .*held by $K1"
expect 0 keys1 "$tool" keys "${P[@]}" --all-luns
for l in 1 2; do
	out_has keys1 "^lun $l: generation [0-9]+, 2 keys: .*$K1"
	out_has keys1 "^lun $l: generation [0-9]+, 2 keys: .*$K2"
	out_has keys1 "^lun $l: reservation type 5 \(Write Exclusive - Registrants Only\) held by $K1"
done
expect 0 chk1 "$tool" check "${P[@]}" --all-luns --key 2
# verify (issue 17): in force with both registered; a listed key of a "fenced" host
# (--absent) means not in force.
expect 0 ver1 "$tool" verify "${P[@]}" --all-luns --key 1
out_has ver1 "^lun 1: in force \(generation [0-9]+, 2 keys\); reservation type 5"
expect 4 ver2 "$tool" verify "${P[@]}" --all-luns --key 1 --absent 2
out_has ver2 "^lun 2: NOT IN FORCE: $K2 of a fenced host is registered"
expect 2 u15 "$tool" check "${P[@]}" --lun 1 --key 1 --absent 2

# 3. writers: B's registered guest writes; a guest without a key cannot
note "B's guest writes; an unregistered one cannot"
"$guest" --domain db1 --incarnation 1 --nodeid 2 --disk "$url1" --pr-key 2 \
	--initiator "$B" --interval 20ms 2>"$T/guestB.log" &
gB=$!
PIDS+=("$gB")
"$guest" --domain db2 --incarnation 1 --nodeid 3 --disk "$url2" \
	--initiator iqn.2026-11.org.hax:c --interval 20ms 2>"$T/guestC.log" &
gC=$!
PIDS+=("$gC")
wait_for 10 "guest C refused" grep -q 'RESERVATION CONFLICT' "$T/guestC.log" ||
	fail "an unregistered guest was not refused"
kill -TERM "$gC"
wait "$gC"
"$jcheck" --json "$url1" >"$T/j0.out" 2>&1 || fail "journal check before the preempt"
sleep 0.5
kill -0 "$gB" 2>/dev/null || fail "guest B died"
grep -q 'RESERVATION CONFLICT' "$T/guestB.log" && fail "guest B refused before any preempt"

# A session reset is not a fence: guest D (key 2, LUN 2) loses its session; its new
# session is unregistered and refused, but key 2 stays listed, so check says 0.
note "a session reset is not a fence"
D=iqn.2026-11.org.hax:d
"$guest" --domain db3 --incarnation 1 --nodeid 2 --disk "$url2" --pr-key 2 \
	--initiator "$D" --interval 20ms 2>"$T/guestD.log" &
gD=$!
PIDS+=("$gD")
sidD() {
	tgtadm -C "$ctl" --lld iscsi --mode target --op show |
		awk -v who="$D" '/I_T nexus:/ { n = $3 } $1 == "Initiator:" && $2 == who { print n; exit }'
}
has_sidD() { [ -n "$(sidD)" ]; }
wait_for 5 "guest D's session" has_sidD || fail "guest D has no session"
sleep 0.3
grep -q 'RESERVATION CONFLICT' "$T/guestD.log" && fail "guest D refused before its reset"
tgtadm -C "$ctl" --lld iscsi --op delete --mode connection --tid 1 --sid "$(sidD)" --cid 0 ||
	fail "cannot reset guest D's session"
wait_for 5 "guest D refused" grep -q 'RESERVATION CONFLICT' "$T/guestD.log" ||
	fail "guest D's new session was not refused"
expect 0 chkD "$tool" check "${P[@]}" --lun 2 --key 2
out_has chkD "^lun 2: $K2 is registered \([0-9]+ registrations"
# Key 2 is still listed (its host was not fenced): D joins again on its new session,
# through the generation guard, and its writes go on (issue 17: a target that drops a
# session's registration must not stop a healthy host's guests for good).
joinsD() { [ "$(grep -c 'joined the reservation' "$T/guestD.log")" -ge 2 ]; }
wait_for 5 "guest D joins again" joinsD || fail "guest D did not join again after its reset"
wait_for 5 "guest D writes again" grep -q 'I/O recovered' "$T/guestD.log" ||
	fail "guest D did not write again after joining"
kill -TERM "$gD"
wait "$gD"

# 4. the fence
note "A preempts B"
expect 0 pre1 "$tool" preempt "${P[@]}" --all-luns --key 1 --victim 2 --initiator "$A"
t_fenced=$(date +%s%N)
out_has pre1 "^lun 1: preempted $K2 \(2 registrations.*held by $K1"
out_has pre1 "^lun 2: preempted $K2 \([0-9]+ registrations.*held by $K1"
expect 0 keys2 "$tool" keys "${P[@]}" --all-luns
out_lacks keys2 "$K2"
out_has keys2 "^lun 1: reservation type 5 .* held by $K1"
out_has keys2 "^lun 2: reservation type 5 .* held by $K1"
expect 3 chk2 "$tool" check "${P[@]}" --all-luns --key 2
out_has chk2 "^lun 1: $K2 is NOT registered"
out_has chk2 "^lun 2: $K2 is NOT registered"
expect 0 chk3 "$tool" check "${P[@]}" --lun 1 --lun 2 --key 1
expect 0 ver3 "$tool" verify "${P[@]}" --all-luns --key 1 --absent 2
expect 3 ver4 "$tool" verify "${P[@]}" --all-luns --key 2
out_has ver4 "^lun 1: in force, but $K2 is not registered"
wait_for 5 "guest B refused" grep -q 'RESERVATION CONFLICT' "$T/guestB.log" ||
	fail "guest B was not refused after the preempt"
# Issue 12 item 12: a start of B's delivered before the partition and run after the
# preempt must not give B's key back. Guest E (key 2, LUN 2) starts now: it does not
# join, the key stays gone, and it cannot write.
"$guest" --domain db4 --incarnation 2 --nodeid 2 --disk "$url2" --pr-key 2 \
	--initiator iqn.2026-11.org.hax:e --interval 20ms 2>"$T/guestE.log" &
gE=$!
PIDS+=("$gE")
wait_for 5 "guest E refused" grep -q 'RESERVATION CONFLICT' "$T/guestE.log" ||
	fail "a guest of the fenced host started after the preempt was not refused"
grep -q 'cannot join with key 0x2 .*not registered' "$T/guestE.log" ||
	fail "guest E did not say why it did not join: $(cat "$T/guestE.log")"
sleep 1.2 # past the guest's join retry interval: it must keep refusing to join
expect 0 keysE "$tool" keys "${P[@]}" --all-luns
out_lacks keysE "$K2"
grep -q 'joined the reservation' "$T/guestE.log" && fail "the fenced host's guest joined"
kill -TERM "$gE"
wait "$gE"
sleep 0.5
kill -0 "$gB" 2>/dev/null || fail "the fenced guest died"
"$jcheck" --json "$url1" >"$T/j1.out" 2>&1 || fail "journal check after the preempt"
sleep 0.5
"$jcheck" --json "$url1" >"$T/j2.out" 2>&1 || fail "journal check later"
kill -TERM "$gB"
wait "$gB"
rc=$?
[ "$rc" = 0 ] || fail "guest B exited $rc"
python3 - "$T/j0.out" "$T/j1.out" "$T/j2.out" "$t_fenced" <<'EOF' || fail "journal oracle"
import json, sys
j0, j1, j2 = (json.load(open(p)) for p in sys.argv[1:4])
fenced = int(sys.argv[4])
assert not j1["violations"] and not j2["violations"], "violations"
inc = j1["incarnations"]
assert len(inc) == 1 and inc[0]["nodeid"] == 2, inc
assert inc[0]["records"] >= 10, "B wrote too little before the preempt: %d" % inc[0]["records"]
assert inc[0]["last_ns"] <= fenced, "a record of B's is dated after the preempt"
assert j1["incarnations"] == j2["incarnations"], "B wrote after the preempt"
print("journal: %d records of B's, none after the preempt" % inc[0]["records"])
EOF

# 5. no-op preempts and failures within the deadline
note "preempt of unregistered keys; bad portals"
expect 0 pre2 "$tool" preempt "${P[@]}" --all-luns --key 1 --victim 2 --initiator "$A"
out_has pre2 "^lun 1: $K2 was not registered: nothing can write with it"
expect 0 pre3 "$tool" preempt "${P[@]}" --lun 2 --key 1 --victim 0x77 --initiator "$A"
out_has pre3 "^lun 2: 0x0000000000000077 was not registered"
expect 1 bad1 timeout 10 "$tool" keys --portal 127.0.0.1:1 --target "$iqn" --lun 1
one_err_line bad1
python3 -c 'import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(600)' >"$T/silent.port" &
PIDS+=("$!")
disown $! # killed in cleanup; no job notice then
wait_for 5 "silent listener" test -s "$T/silent.port" || fail "no silent listener"
t0=$(date +%s%N)
expect 1 bad2 timeout 10 "$tool" preempt --portal "127.0.0.1:$(cat "$T/silent.port")" \
	--target "$iqn" --lun 1 --lun 2 --key 1 --victim 2 --initiator "$A" --timeout 700ms
ms=$((($(date +%s%N) - t0) / 1000000))
one_err_line bad2
grep -q 'no answer from .* within 700 ms' "$T/bad2.err" || fail "bad2: no deadline reason"
[ "$ms" -lt 3000 ] || fail "a silent portal took $ms ms with a 700 ms deadline"
expect 1 bad3 "$tool" keys --portal "127.0.0.1:$port" --target "$iqn.nope" --all-luns
one_err_line bad3

# 6. rejoin, the unregister guard, unregister
note "B registers again; unregister"
expect 0 regB2 "$tool" register "${P[@]}" --all-luns --key 2 --initiator "$B"
out_has regB2 "^lun 1: registered $K2 \(it was not listed before\)"
expect 1 unreg1 "$tool" unregister "${P[@]}" --all-luns --key 1 --initiator "$A"
grep -q 'holds the reservation .*--force' "$T/unreg1.err" || fail "unreg1: no guard reason"
expect 0 pre4 "$tool" preempt "${P[@]}" --all-luns --key 2 --victim 1 --initiator "$B"
out_has pre4 "^lun 1: preempted $K1 .*held by $K2"
expect 0 unreg2 "$tool" unregister "${P[@]}" --all-luns --key 2 --initiator "$B"
out_has unreg2 "^lun 1: removed $K2 .*; no reservation"
expect 0 keys3 "$tool" keys "${P[@]}" --all-luns
out_has keys3 "^lun 1: generation [0-9]+, 0 keys$"
out_has keys3 "^lun 2: no reservation"
expect 4 ver5 "$tool" verify "${P[@]}" --all-luns --key 2
out_has ver5 "^lun 1: NOT IN FORCE: no reservation \(generation [0-9]+, 0 keys\)"
out_has ver5 "^lun 1: $K2 is not registered either"

# 7. the driver, as haxd runs it: keys are fence_scsi_key(nodeid). A second target
# (another SAN, all of its LUNs) next to LUN 1 of the first.
note "the scsi fence driver"
iqn2=$iqn-2
CLEANUPS+=("tgtadm -C $ctl --lld iscsi --mode target --op delete --force --tid 2")
truncate -s 4M "$T/san2.img"
tgtadm -C "$ctl" --lld iscsi --mode target --op new --tid 2 --targetname "$iqn2" ||
	fail "second target"
tgtadm -C "$ctl" --lld iscsi --mode logicalunit --op new --tid 2 --lun 1 -b "$T/san2.img" ||
	fail "second target's LUN"
tgtadm -C "$ctl" --lld iscsi --mode target --op bind --tid 2 -I ALL || fail "second target bind"
P2=(--portal "127.0.0.1:$port" --target "$iqn2")
cat >"$T/haxd.conf" <<EOF
[cluster]
name = t
driver = sim
[host ha]
nodeid = 1
iqn = $A
fence = san
[host hb]
nodeid = 2
iqn = $B
fence = san
[fence san]
driver = scsi
timeout = 5s
storage = st1 st2
[fence dead]
driver = scsi
timeout = 2s
storage = st1 gone
[storage st1]
portal = 127.0.0.1:$port
target = $iqn
luns = 1
[storage st2]
portal = 127.0.0.1:$port
target = $iqn2
[storage gone]
portal = 127.0.0.1:$(cat "$T/silent.port")
target = $iqn
luns = 1
EOF
HA=0x6861780000000001 HB=0x6861780000000002
for tg in "$iqn" "$iqn2"; do
	tp=(--portal "127.0.0.1:$port" --target "$tg" --all-luns)
	expect 0 dregA "$tool" register "${tp[@]}" --key $HA --initiator "$A"
	expect 0 dregB "$tool" register "${tp[@]}" --key $HB --initiator "$B"
done
export HAX_FENCE_SCSI=$tool
expect 0 drv1 "$drvrun" "$T/haxd.conf" san hb ha dry-run
out_has drv1 '^result 0 in [0-9]+ ms: scsi: st1, st2 answer$'
expect 0 drv2 "$drvrun" "$T/haxd.conf" san hb ha
out_has drv2 "^result 0 in [0-9]+ ms: scsi preempt of hb \(key $HB\) on st1, st2: confirmed$"
expect 3 dchk "$tool" check "${P[@]}" --lun 1 --key $HB
expect 3 dchk1 "$tool" check "${P2[@]}" --all-luns --key $HB
expect 0 dchk1b "$tool" check "${P[@]}" --lun 2 --key $HB
expect 0 drv3 "$drvrun" "$T/haxd.conf" san hb ha
out_has drv3 "confirmed \(the key was not registered on st1, st2\)$"
expect 1 drv4 "$drvrun" "$T/haxd.conf" dead ha hb
out_has drv4 "^result -[0-9]+ in [0-9]+ ms: scsi preempt of ha \(key $HA\) failed: gone: .*; confirmed on st1$"
ms=$(sed -n 's/^result -[0-9]* in \([0-9]*\) ms.*/\1/p' "$T/drv4.out")
[ "$ms" -le 2500 ] || fail "the dead storage took $ms ms with a 2 s device timeout"
expect 3 dchk2 "$tool" check "${P[@]}" --lun 1 --key $HA
expect 0 dchk3 "$tool" check "${P[@]}" --lun 2 --key $HA

for f in pre1 chk2 pre2 bad2 drv2 drv4; do
	echo "--- $f"
	cat "$T/$f.out" "$T/$f.err"
done
echo "ok (fencing-scsi-tool)"
