#!/bin/bash
# haxctl fence HOST --dry-run: a standalone haxd asks each fence device of h2 (two
# levels, each the lab's power-switch stand-in scripts/fence_lab, "BMCs" bmc1 and bmc2)
# whether it could fence h2. Both answer: exit 0, every level ok, and h2 (a throwaway
# network namespace with a process in it) is still running: a dry run changes nothing.
# bmc2 told to fail: exit 1, level 2 FAILED, h2 still fenceable by level 1. Both fail:
# "CANNOT be fenced". A host without levels, an unknown host and bad arguments are
# answered with clear messages.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "fence_lab needs root; network namespaces"
need_tool ip iproute2

export HAX_IPC="hax-it-dryrun-$$"
export HAX_LAB_NS=haxk- HAX_LAB_DIR=$T/lab
NSNAME=haxk-h2
mkdir -p "$HAX_LAB_DIR"
ip netns add $NSNAME || fail "cannot make namespace $NSNAME"
CLEANUPS+=("ip netns del $NSNAME")
ip netns exec $NSNAME sleep 600 </dev/null >/dev/null 2>&1 &
victim=$!
PIDS+=($victim)

cat >"$T/haxd.conf" <<CONF
[cluster]
name = dryrun
driver = sim
state_dir = $T/state
tick = 500ms

[fence power]
driver = agent
agent = $S/scripts/fence_lab
ip = bmc1
timeout = 20s

[fence backup]
driver = agent
agent = $S/scripts/fence_lab
ip = bmc2
timeout = 20s

[host h1]
nodeid = 1
memory = 1G
vcpus = 2

[host h2]
nodeid = 2
memory = 1G
vcpus = 2
fence = power backup
CONF
haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not start"

out=$("$B/haxctl" fence h2 --dry-run 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || fail "dry run with both BMCs working: exit $rc"
echo "$out" | grep -q "level 1 (power): ok" || fail "level 1 not reported ok"
echo "$out" | grep -q "level 2 (backup): ok" || fail "level 2 not reported ok"
echo "$out" | grep -q "h2 can be fenced: every device of every level answers" || fail "no verdict"
kill -0 $victim || fail "the dry run powered h2 off"
[ -n "$(ip netns pids $NSNAME)" ] || fail "h2's namespace lost its processes"
"$B/haxctl" fence h2 --dry-run --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["fenceable"] and r["all_ok"], r
assert [d["device"] for l in r["levels"] for d in l["devices"]] == ["power", "backup"], r
assert all(d["driver"] == "agent" for l in r["levels"] for d in l["devices"]), r' ||
	fail "--json reply"
note "both levels answer; h2 still runs"

touch "$HAX_LAB_DIR/fence_lab.fail.bmc2"
out=$("$B/haxctl" fence h2 --dry-run 2>&1)
rc=$?
echo "$out"
[ $rc = 1 ] || fail "dry run with bmc2 failing: exit $rc, expected 1"
echo "$out" | grep -q "level 2 (backup): FAILED" || fail "level 2 not reported FAILED"
echo "$out" | grep -q "told to fail" || fail "the device's reason is not shown"
echo "$out" | grep -q "h2 can be fenced, but a level FAILED" || fail "wrong verdict with one level failing"

touch "$HAX_LAB_DIR/fence_lab.fail.bmc1"
out=$("$B/haxctl" fence h2 --dry-run 2>&1)
rc=$?
echo "$out"
[ $rc = 1 ] || fail "dry run with both failing: exit $rc, expected 1"
echo "$out" | grep -q "h2 CANNOT be fenced from here" || fail "wrong verdict with every level failing"
kill -0 $victim || fail "h2 was powered off"

out=$("$B/haxctl" fence h1 --dry-run 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "h1 has no fence level" || fail "host without levels: $out"
out=$("$B/haxctl" fence h9 --dry-run 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "no such host" || fail "unknown host: $out"
out=$("$B/haxctl" fence h2 --dry-run --bogus 2>&1)
[ $? = 2 ] || fail "bad argument not a usage error: $out"
kill -0 "$HAXD_PID" || fail "haxd died"
grep -q "fencing h2" "$T/haxd.log" && fail "haxd started a real fence of h2"
echo "PASS"
