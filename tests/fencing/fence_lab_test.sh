#!/bin/bash
# scripts/fence_lab speaks the fence-agents protocol: on a throwaway network namespace
# haxf-h1 (its own prefix, never a lab's hax-* or another test's haxt-*) with sleep
# processes in it, status says on (0), off kills them, status says off (2), a fail file
# makes every action fail (1), metadata is XML, a bad action is an error, credentials are
# never printed. Also as haxd runs it in the lab: from a private mount namespace whose
# /run hides /run/netns, finding the host by the inode hax-lab records in
# $HAX_LAB_DIR/hN/netns.ino. Needs root (network namespaces); skipped otherwise.
set -u
. "$HAX_SOURCE/tests/lib/common.sh"

need_root "network namespaces"
need_tool ip iproute2
need_tool unshare util-linux

export HAX_LAB_NS=haxf- HAX_LAB_DIR=$T/lab
NSNAME=haxf-h1
AGENT=$S/scripts/fence_lab
mkdir -p "$HAX_LAB_DIR"

drop_ns() {
	local pids
	pids=$(ip netns pids $NSNAME 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids
	ip netns del $NSNAME 2>/dev/null
	return 0
}
CLEANUPS+=("drop_ns")

# A pid that exists and is not a zombie (a killed child of this shell may wait to be reaped).
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }

# agent STDIN-TEXT: run fence_lab with that stdin; sets rc and out (stdout+stderr).
agent() {
	out=$(printf '%s' "$1" | "$AGENT" 2>&1)
	rc=$?
}
expect() {
	local want=$1 what=$2
	[ "$rc" = "$want" ] || fail "$what: exit $rc, expected $want; output: $out"
	case $out in *hunter2*) fail "$what: the password was printed: $out" ;; esac
	note "$what: exit $rc ($(echo "$out" | tail -1))"
}

# start_sleep: a process "running on" haxf-h1; sets SLEEP.
start_sleep() {
	ip netns exec $NSNAME sleep 600 &
	SLEEP=$!
	disown $SLEEP # its death is expected: no job notice
	PIDS+=("$SLEEP")
	wait_for 5 "sleep inside $NSNAME" sh -c "ip netns pids $NSNAME | grep -qx $SLEEP" ||
		fail "the sleep never showed up in $NSNAME"
}

# As haxd runs it inside a lab host: /run is private there, /run/netns invisible.
agent_in_host() {
	out=$(printf '%s' "$1" | unshare -m --propagation private -- \
		sh -c 'mount -t tmpfs tmpfs /run && exec "$0"' "$AGENT" 2>&1)
	rc=$?
}

drop_ns # a leftover of an interrupted run of this very test
ip netns add $NSNAME || fail "cannot create network namespace $NSNAME"
start_sleep

CRED=$'ip=10.0.0.1\nusername=admin\npassword=hunter2\n'

agent "action=status"$'\n'"plug=h1"$'\n'"$CRED"
expect 0 "status of a host with processes"
[[ "$out" == *"Status: ON"* ]] || fail "status: no \"Status: ON\" in: $out"

"$AGENT" --action=status --plug=h1 --password=hunter2 >"$T/out" 2>&1
rc=$? out=$(cat "$T/out")
expect 0 "status as --key=value options"

"$AGENT" -o status -n h1 >"$T/out" 2>&1
rc=$? out=$(cat "$T/out")
expect 0 "status as -o/-n options"

agent "action=monitor"$'\n'"port=h1"$'\n'"$CRED"
expect 0 "monitor (plug as the old port= key)"

agent "action=list"$'\n'
expect 0 "list"
[ "$out" = "h1,h1" ] || fail "list: expected \"h1,h1\", got: $out"

agent "action=off"$'\n'"plug=h1"$'\n'"$CRED"$'\n'"unknown_key=hunter2"
expect 0 "off"
alive $SLEEP && fail "off returned but the sleep ($SLEEP) still runs"
[ -z "$(ip netns pids $NSNAME)" ] || fail "off returned but $NSNAME still has processes"
[[ "$out" == *"ignoring unknown option \"unknown_key\""* ]] ||
	fail "off: no warning for the unknown key: $out"

agent "action=status"$'\n'"plug=h1"$'\n'
expect 2 "status of a powered-off host"
[[ "$out" == *"Status: OFF"* ]] || fail "status: no \"Status: OFF\" in: $out"

agent "action=off"$'\n'"plug=h1"$'\n'
expect 0 "off of a host already off"

touch "$HAX_LAB_DIR/fence_lab.fail"
for a in status off monitor metadata; do
	agent "action=$a"$'\n'"plug=h1"$'\n'"$CRED"
	expect 1 "$a while told to fail"
	[[ "$out" == *"fence_lab: told to fail"* ]] || fail "$a: no \"told to fail\" in: $out"
done
rm -f "$HAX_LAB_DIR/fence_lab.fail"
touch "$HAX_LAB_DIR/fence_lab.fail.h1"
agent "action=status"$'\n'"plug=h1"$'\n'
expect 1 "status while h1 alone is told to fail"
agent "action=status"$'\n'"plug=h2"$'\n'
expect 1 "status of a host that does not exist"
[[ "$out" == *"no lab host h2"* ]] || fail "status of h2: unexpected message: $out"
rm -f "$HAX_LAB_DIR/fence_lab.fail.h1"

agent "action=metadata"$'\n'
expect 0 "metadata"
[[ "$out" == '<?xml version="1.0" ?>'* ]] || fail "metadata is not XML: $out"
[[ "$out" == *'<resource-agent name="fence_lab"'* ]] || fail "metadata: no agent name: $out"
[[ "$out" == *'<parameter name="plug"'* ]] || fail "metadata: no plug parameter: $out"
[[ "$out" == *'</resource-agent>' ]] || fail "metadata: not closed: $out"
if command -v xmllint >/dev/null 2>&1; then
	echo "$out" | xmllint --noout - || fail "metadata is not well-formed XML"
fi

agent "action=explode"$'\n'"plug=h1"$'\n'
expect 1 "an unknown action"
agent "action=status"$'\n'"plug=sw"$'\n'
expect 1 "a plug that is not a lab host"
agent "action=status"$'\n'
expect 1 "status without a plug"

note "as in the lab: inside a host's mount namespace, by netns.ino"
start_sleep
agent_in_host "action=status"$'\n'"plug=h1"$'\n'
expect 1 "status with /run/netns hidden and no netns.ino"
mkdir -p "$HAX_LAB_DIR/h1"
stat -L -c %i /run/netns/$NSNAME >"$HAX_LAB_DIR/h1/netns.ino"
agent_in_host "action=status"$'\n'"ip=bmc1"$'\n'"plug=h1"$'\n'"$CRED"
expect 0 "status by netns.ino"
agent_in_host "action=list"$'\n'
expect 0 "list by netns.ino"
[ "$out" = "h1,h1" ] || fail "list: expected \"h1,h1\", got: $out"
touch "$HAX_LAB_DIR/fence_lab.fail.bmc1"
agent_in_host "action=off"$'\n'"ip=bmc1"$'\n'"plug=h1"$'\n'
expect 1 "off through BMC bmc1, told to fail"
[[ "$out" == *"fence_lab: told to fail"* ]] || fail "bmc1: no \"told to fail\" in: $out"
alive $SLEEP || fail "a BMC told to fail powered the host off anyway"
agent_in_host "action=off"$'\n'"ip=bmc2"$'\n'"plug=h1"$'\n'"$CRED"
expect 0 "off through BMC bmc2"
alive $SLEEP && fail "off by netns.ino returned but the sleep ($SLEEP) still runs"
agent_in_host "action=status"$'\n'"ip=bmc2"$'\n'"plug=h1"$'\n'
expect 2 "status by netns.ino after off"
agent_in_host "action=on"$'\n'"ip=bmc2"$'\n'"plug=h1"$'\n'
expect 1 "on from inside a host (needs the machine's namespaces)"
rm -f "$HAX_LAB_DIR/fence_lab.fail.bmc1"

"$AGENT" --help >"$T/out" 2>&1
rc=$? out=$(cat "$T/out")
expect 0 "--help"
[[ "$out" == *"STAND-IN"* ]] || fail "--help does not say it is a stand-in"

echo "fence_lab: protocol OK"
