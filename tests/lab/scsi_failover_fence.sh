#!/bin/bash
# Issue 17 (a): h3 is isolated with its storage link up and fenced by PREEMPT; before its
# domains are restarted (h1 and h2 are in maintenance, so they wait for room), the target
# fails over (hax-lab storage-failover) and comes back with no reservation: h3, alive,
# could write again. Maintenance ends while fencing is lost: no domain of h3's may start
# elsewhere until fencing is in force again (the leader's own check: reservation held,
# h3's key absent); then failover completes, h3's key never comes back, and the journal
# oracle finds no second writer.
. "$HAX_SOURCE/tests/lab/lib.sh"

IQN=iqn.2026-11.org.hax.lab:storage
KEY3=6861780000000003
keys() { ip netns exec "${HAX_LAB_NS}st" "$B/hax-fence-scsi" keys --portal 127.0.0.1:3260 --target $IQN \
	--initiator iqn.2026-11.org.hax.lab:checker --all-luns; }
registered() {
	local k n
	k=$(keys) || return 1
	for n in "$@"; do echo "$k" | grep -qi "686178000000000$n" || return 1; done
}
in_force_on() { holds "$1" "s['storage'][0]['fencing'] == 'in force'"; }

lab up --hosts 3 --domains 3 --fence scsi >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
wait_for 20 "every host registered" registered 1 2 3 || { keys; fail "host keys not registered"; }
wait_for 20 "h1 sees fencing in force" in_force_on h1 || fail "fencing not in force: $(st h1 "s['storage']")"
[ "$(leader_of h1)" = h1 ] || fail "h1 is not the leader"
doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$doms" ] || fail "h3 runs no domain"
lab exec h1 haxctl maintenance h1 on >/dev/null && lab exec h1 haxctl maintenance h2 on >/dev/null ||
	fail "maintenance on"
note "h3 runs $doms; h1 and h2 in maintenance"

lab isolate h3 >/dev/null
wait_for 60 "h3 fenced by scsi" holds h1 \
	"hosts['h3']['state'] == 'fenced' and hosts['h3']['last_fence']['method'] == 'scsi'" ||
	fail "h3 not fenced: $(st h1 "hosts['h3']")"
keys | grep -qi "$KEY3" && fail "h3's key still registered after the fence"
holds h1 "all(doms[d]['state'] != 'running' and doms[d]['state'] != 'starting' for d in '$doms'.split())" ||
	fail "h3's domains started before the failover: $(st h1 "s['domains']")"
note "h3 fenced by PREEMPT; $doms wait for room"

lab storage-failover 2 >"$T/failover.log" 2>&1 || { cat "$T/failover.log"; fail "storage failover"; }
t_back=$(awk '/serving again at/ { print $NF }' "$T/failover.log")
lost_on_h1() { holds h1 "s['storage'][0]['fencing'] in ('lost', 'unknown')"; }
wait_for 15 "the leader sees fencing lost" lost_on_h1 ||
	fail "the leader never saw fencing lost: $(st h1 "s['storage']")"
note "the leader sees fencing lost: $(st h1 "s['storage'][0]['detail']")"
lab exec h1 haxctl maintenance h1 off >/dev/null && lab exec h1 haxctl maintenance h2 off >/dev/null ||
	fail "maintenance off"

# Until h3's domains run elsewhere: one status snapshot of the leader at a time; no domain
# of h3's may be starting or running while the leader's fencing is not in force.
snap() { lab exec h1 haxctl status --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
doms = {d['name']: d for d in s['domains']}
f = s['storage'][0]['fencing']
moved = [d for d in '$doms'.split() if doms[d]['state'] in ('starting', 'running')]
if moved and f != 'in force':
    print('BAD %s while fencing %s' % (moved, f))
elif all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h3' for d in '$doms'.split()):
    print('DONE')
else:
    print('WAIT %s %s' % (f, [(d, doms[d]['state'], doms[d]['reason']) for d in '$doms'.split()]))
"; }
end=$(( $(date +%s) + 60 ))
while :; do
	r=$(snap 2>&1)
	case $r in
	BAD*) fail "a domain of h3's started while SCSI fencing was not in force: $r" ;;
	DONE) break ;;
	esac
	[ "$(date +%s)" -lt "$end" ] || fail "h3's domains not restarted: $r"
	echo "$r" >>"$T/waits.log"
	sleep 0.2
done
t_ok=$(date +%s.%N)
grep -m1 "SCSI fencing" "$T/waits.log" | sed 's/^/   seen while waiting: /'
note "$doms restarted on h1/h2 $(python3 -c "print(round(($t_ok - $t_back) * 1000))") ms after the target served again, once fencing was in force"
keys | grep -qi "$KEY3" && { keys; fail "h3's key came back after the failover"; }
registered 1 2 || fail "h1 and h2 not registered again"
grep -h -- '+scsi-fencing.*after it was found' "$HAX_LAB_DIR"/h1/haxd.log | sed 's/^/   /'

# h3, alive and without quorum, stops its own guests (no-quorum policy, 10 s).
no_guest_on_h3() { ! pgrep -f -- "hax-guest --domain $1 .*--nodeid 3 " >/dev/null; }
for d in $doms; do
	wait_for 30 "h3's $d guest stopped" no_guest_on_h3 "$d" || fail "h3's $d guest still runs"
done
lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
