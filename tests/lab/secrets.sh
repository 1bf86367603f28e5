#!/bin/bash
# The cluster link and fence secrets. corosync runs with crypto and a 0400 authkey;
# messages of another version or an unknown shape from a member are dropped and counted
# (dropped_messages) without disturbing the cluster. The lab's BMC password (a
# password_file) is used by every fence, including by a careless agent that echoes it in
# its error, and yet it appears in no log, no file of the lab but its own, no status JSON
# or event, and in no process's argv or environment (sampled while fences run: the agent
# gets it on stdin only).
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 3 --fence power >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
secret=$(cat "$HAX_LAB_DIR/bmc.secret") || fail "the lab has no BMC password file"
[ ${#secret} -ge 20 ] || fail "the lab's BMC password is too short to search for: $secret"
[ "$(stat -c %a "$HAX_LAB_DIR/bmc.secret")" = 400 ] || fail "bmc.secret is not mode 0400"
[ "$(stat -c %a "$HAX_LAB_DIR/authkey")" = 400 ] || fail "the corosync authkey is not mode 0400"
grep -q "crypto_cipher: aes256" "$HAX_LAB_DIR/h1/corosync.conf" || fail "corosync runs without crypto"

before=$(st h1 "s['cluster']['dropped_messages']") || fail "no dropped_messages in the status"
lab exec h2 "$B/tests/lab/cpg_inject" '{"v":2,"type":"change","seq":1,"change":{}}' \
	'{"v":1,"type":"gossip"}' '{"v":1,"type":"command","to":7,"cmd":{}}' 'not json' ||
	fail "cpg_inject could not send"
wait_for 10 "4 more dropped on h1" holds h1 "s['cluster']['dropped_messages'] == $before + 4" ||
	fail "h1 dropped $(st h1 "s['cluster']['dropped_messages']") messages, expected $before + 4; h1's log: $(tail -20 "$HAX_LAB_DIR/h1/haxd.log")"
grep -q "dropped: unsupported protocol version" "$HAX_LAB_DIR/h1/haxd.log" ||
	fail "the drop is not logged on h1"
wait_for 20 "one leader, all running" holds h1 \
	"s['cluster']['leader'] == 'h1' and all(d['state'] == 'running' for d in s['domains'])" ||
	fail "the injected messages disturbed the cluster: $(st h1 "s['cluster']")"
note "4 malformed messages from a member: dropped, logged and counted, the cluster unmoved"

# Every process of the lab, argv and environment, while fences run.
sample() {
	local h p
	for h in h1 h2 h3; do
		for p in $(ip netns pids "${HAX_LAB_NS}$h" 2>/dev/null); do
			{ tr '\0' ' ' <"/proc/$p/cmdline"; echo; tr '\0' '\n' <"/proc/$p/environ"; } \
				>>"$T/procs.txt" 2>/dev/null
		done
	done
}
echo careless >"$HAX_LAB_DIR/fence_lab.fail.bmc1"
lab power-off h3 >/dev/null
wait_for 30 "a failed fence of h3" holds h1 "s['cluster']['fence_failures'] >= 1" ||
	fail "no fence failure: $(st h1 "hosts['h3']")"
for i in 1 2 3 4 5 6 7 8 9 10; do sample; sleep 0.3; done
lab exec h1 haxctl events | grep -q "fence.*told to fail: login admin/" ||
	fail "the careless agent's line did not reach the events: $(lab exec h1 haxctl events | tail -3)"
rm -f "$HAX_LAB_DIR/fence_lab.fail.bmc1"
wait_for 60 "h3 fenced" holds h1 "hosts['h3']['state'] == 'fenced'" || fail "h3 not fenced"
for i in 1 2 3 4 5; do sample; sleep 0.2; done
note "fences ran: one failed by an agent that echoed its password, one confirmed"

for h in h1 h2; do
	lab exec $h haxctl status --json >"$T/status-$h.json"
	lab exec $h haxctl events >"$T/events-$h.txt"
	lab exec $h haxctl status >"$T/status-$h.txt"
done
lab journal-check >"$T/journal.txt" 2>&1
# Every output: our captures and every file the lab wrote (logs, corosync logs, state,
# configurations), but the password file itself.
hits=$(grep -rlaF --exclude=bmc.secret -- "$secret" "$T" 2>/dev/null)
[ -z "$hits" ] || fail "the BMC password appears in: $hits"
[ -s "$T/procs.txt" ] || fail "no process was sampled"
grep -q "fence_lab\|haxd" "$T/procs.txt" || fail "the samples saw no haxd"
note "the password is in no log, state, status, event, argv or environment ($(wc -l <"$T/procs.txt") lines sampled)"
lab down
echo "PASS"
