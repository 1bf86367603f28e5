#!/bin/bash
# hax-fence-peer (DRBD's fence-peer handler) against a real standalone haxd: h1 is this
# host, h2 has "fence = power", a level whose device is a fake fence agent written here
# (off -> 0, status -> 2 "off"; told to fail, every action fails). Checks: exit 7 only
# once haxd shows h2 fenced by a fence newer than the request (DRBD 9's environment,
# DRBD 8.4's, --map); a failing fence -> exit 1 at --timeout, never 7, even though h2
# was "fenced" by an earlier fence; unknown host, this host, no peer, no haxd, usage
# errors -> failure codes, quickly.
# Usage: fence_peer_test.sh HAX-FENCE-PEER HAXD HAXCTL
. "$HAX_SOURCE/tests/lib/common.sh"
PEER=${1:?hax-fence-peer}
need_tool python3 python3

export HAX_IPC="hax-it-fencepeer-$$"

# run_peer CODE PATTERN MAXSECS [VAR=VALUE...] -- [ARGS...]: run hax-fence-peer with
# exactly these DRBD variables; check its exit code, a line of its output and that it
# took at most MAXSECS. Sets $out and $secs.
run_peer() {
	local code=$1 pat=$2 max=$3 vars=() t0 rc
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
	shift
	t0=$(date +%s%N)
	out=$(env -u DRBD_PEER -u DRBD_PEERS -u DRBD_PEER_NODE_ID "${vars[@]}" "$PEER" "$@" 2>&1)
	rc=$?
	secs=$(( ($(date +%s%N) - t0) / 1000000000 ))
	echo "$out" | sed 's/^/    /'
	[ "$rc" = "$code" ] || fail "hax-fence-peer ${vars[*]} $* exited $rc, expected $code"
	echo "$out" | grep -q -- "$pat" || fail "hax-fence-peer ${vars[*]} $*: no line /$pat/"
	[ "$secs" -le "$max" ] || fail "hax-fence-peer ${vars[*]} $* took ${secs}s (at most ${max}s)"
}

# The field of host $1's status ("state", or "last_fence.ok" and the like).
host_field() {
	"$B/haxctl" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
h = [x for x in s["hosts"] if x["name"] == sys.argv[1]]
v = h[0] if h else None
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print(json.dumps(v))' "$1" "$2"
}

# ---- without haxd: usage and environment errors ------------------------------------
run_peer 0 "Usage: hax-fence-peer" 2 -- --help
run_peer 2 "unknown option" 2 -- --bogus
run_peer 2 "expected a duration" 2 -- --timeout soon
run_peer 2 "expected DRBDNAME=HAXHOST" 2 -- --map h2
run_peer 2 "not a valid hax host name" 2 -- --map drbd2=-bad
run_peer 2 "unexpected argument" 2 -- h2
run_peer 1 "no peer" 2 DRBD_RESOURCE=r0 --
run_peer 1 "not a valid hax host name" 2 DRBD_RESOURCE=r0 DRBD_PEER=-x --
run_peer 1 "haxd is not running" 4 DRBD_RESOURCE=r0 DRBD_PEER=h2 -- --timeout 1s
echo "$out" | grep -q "exit 1: not fenced" || fail "no final line"
note "usage errors exit 2; no peer, a bad name, no haxd exit 1"

# ---- a standalone haxd that fences h2 through a fake power switch --------------------
cat >"$T/fence_fake" <<AGENT
#!/bin/sh
in=\$(cat)
action=\$(printf '%s\n' "\$in" | sed -n 's/^action=//p')
echo "\$action" >>"$T/agent.log"
[ -e "$T/agent.fail" ] && { echo "Failed: power switch unreachable"; exit 1; }
case \$action in
off) echo "Success: Powered OFF"; exit 0 ;;
status) echo "Status: OFF"; exit 2 ;;
esac
exit 1
AGENT
chmod 755 "$T/fence_fake"
cat >"$T/haxd.conf" <<CONF
[cluster]
name = fencepeer
driver = sim
state_dir = $T/state
client_group = $(id -gn)
tick = 500ms
stop_timeout = 5s
fence_retry = 1m

[host h1]
nodeid = 1
memory = 1G
vcpus = 2

[host h2]
nodeid = 2
memory = 1G
vcpus = 2
fence = power

[fence power]
driver = agent
agent = $T/fence_fake
timeout = 5s
CONF
if ! haxd_start haxd "$T/haxd.conf" h1; then
	[ "$(id -u)" = 0 ] && fail "a standalone haxd did not start (see above)"
	skip "a standalone haxd did not start as $(id -un); it may need root (see above)"
fi

# DRBD 9: the kernel names the peer by node-id, drbdadm maps node-ids to host names.
run_peer 7 "exit 7: peer fenced, confirmed by haxd" 20 DRBD_RESOURCE=r0 DRBD_MY_NODE_ID=0 \
	DRBD_PEER_NODE_ID=1 DRBD_NODE_ID_0=h1 DRBD_NODE_ID_1=h2 DRBD_CSTATE=Connecting --
echo "$out" | grep -q "DRBD peer h2 (from DRBD_NODE_ID_<DRBD_PEER_NODE_ID>) is hax host h2" ||
	fail "peer not taken from the node-id map"
echo "$out" | grep -q "haxd confirms h2 fenced (power: confirmed)" || fail "no confirmation line"
[ "$(host_field h2 state)" = '"fenced"' ] || fail "haxd does not show h2 fenced"
[ "$(host_field h2 last_fence.ok)" = true ] || fail "h2's last fence is not ok"
[ "$(host_field h2 last_fence.method)" = '"power"' ] || fail "h2 not fenced by power"
[ "$(tr '\n' ' ' <"$T/agent.log")" = "off status " ] || fail "agent calls: $(cat "$T/agent.log")"
note "DRBD 9 environment: exit 7, h2 fenced by power"

# DRBD 8.4's DRBD_PEER: h2 is "fenced" already, yet only a new fence counts.
run_peer 7 "exit 7" 20 DRBD_RESOURCE=r0 DRBD_PEER=h2 --
[ "$(grep -c off "$T/agent.log")" = 2 ] || fail "no new fence for the second request"
# --map from the DRBD host name, DRBD_PEERS (8.4).
run_peer 7 "DRBD peer xen-two (from DRBD_PEERS) is hax host h2" 20 DRBD_RESOURCE=r0 \
	DRBD_PEERS=xen-two -- --map xen-two=h2 --map other=h1
[ "$(grep -c off "$T/agent.log")" = 3 ] || fail "no fence for the mapped request"
note "DRBD_PEER and --map with DRBD_PEERS: exit 7, each after its own fence"

# The power switch fails: h2 stays in "fencing"; the stale "fenced" must not count.
touch "$T/agent.fail"
run_peer 1 "fence of h2 failed (all levels" 15 DRBD_RESOURCE=r0 DRBD_PEER=h2 -- --timeout 5s
[ "$secs" -ge 5 ] || fail "gave up after ${secs}s, before --timeout 5s"
echo "$out" | grep -q "no confirmation that h2 is fenced within 5000 ms" || fail "no timeout line"
echo "$out" | grep -q "exit 7" && fail "exit 7 reported for a failed fence"
[ "$(host_field h2 last_fence.ok)" = false ] || fail "haxd does not show the failed fence"
note "failing fence: exit 1 after ${secs}s, never 7"
rm -f "$T/agent.fail"

# Hosts haxd refuses: unknown (at once), this host itself (never asked).
run_peer 1 "no such host: nosuch" 3 DRBD_RESOURCE=r0 DRBD_PEER=nosuch --
run_peer 1 "h1 is this host: refusing to fence it" 3 DRBD_RESOURCE=r0 DRBD_PEER=h1 --
grep -q "fencing h1" "$T/haxd.log" && fail "haxd was asked to fence itself"
note "unknown host and this host: exit 1 at once"
echo "PASS"
