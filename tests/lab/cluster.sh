#!/bin/bash
# The cluster core on the real lab: 3 hosts, one leader; the leader's haxd killed -> a new
# leader, a fence-ack of that host (corosync still up) refused,
# the old haxd rejoins without restarting any guest; a non-leader powered off ->
# lost, its domains await a fence; partition 2+1 -> the single host has no quorum, the pair
# keeps a leader; heal -> one cluster with identical (epoch, seq); everything stopped and
# started -> the domain list survives; the journal oracle is clean throughout. No fence
# device is configured here, so lost hosts stay lost (fencing: failover.sh).
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 6 --fence "" >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
note "lab up"

# One leader, the same on every host.
l1=$(leader_of h1); l2=$(leader_of h2); l3=$(leader_of h3)
[ -n "$l1" ] && [ "$l1" = "$l2" ] && [ "$l2" = "$l3" ] || fail "leaders disagree: $l1 $l2 $l3"
[ "$l1" = h1 ] || fail "leader should be the lowest nodeid (h1), is $l1"
note "one leader: $l1"

# Kill -9 the leader's haxd: a new leader after one sync; guests untouched.
before=$(guests) || fail "$before"
lab kill h1 haxd >/dev/null
wait_for 30 "h2 leads" holds h2 "s['cluster']['leader'] == 'h2' and hosts['h1']['state'] == 'agent-lost'" ||
	fail "no new leader after the leader's haxd died: $(leader_of h2)"
note "h1's haxd killed: h2 leads, h1 agent-lost"
# corosync on h1 still runs: an operator's fence-ack of h1 is refused, h1 stays agent-lost.
out=$(lab exec h2 haxctl fence-ack h1 --yes-i-checked-it-is-off 2>&1) &&
	fail "fence-ack of a host corosync still sees was accepted: $out"
echo "$out" | grep -q "still a member of corosync's membership" || fail "fence-ack refusal: $out"
holds h2 "hosts['h1']['state'] == 'agent-lost'" || fail "h1 left agent-lost: $(st h2 "hosts['h1']")"
note "fence-ack of agent-lost h1 (corosync up) refused"
lab start h1 haxd >/dev/null
wait_for 30 "h1 back and leading" holds h1 \
	"s['cluster']['leader'] == 'h1' and all(h['state'] == 'online' for h in s['hosts']) and all(d['state'] == 'running' for d in s['domains'])" ||
	fail "h1 did not rejoin"
sleep 2
after=$(guests) || fail "$after"
[ "$after" = "$before" ] || fail "a guest was restarted: [$before] -> [$after]"
note "h1's haxd rejoined; no guest restarted"

# Power off a non-leader: lost, its domains recovering "awaiting fence".
victim_doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$victim_doms" ] || fail "h3 runs no domain"
lab power-off h3 >/dev/null
wait_for 30 "h3 suspect" holds h1 "hosts['h3']['state'] == 'suspect'" || fail "h3 not seen as lost"
for d in $victim_doms; do
	wait_for 10 "$d awaiting fence" holds h1 "doms['$d']['state'] == 'recovering' and 'awaiting fence of h3' in doms['$d']['reason']" ||
		fail "$d: $(st h1 "doms['$d']")"
done
sleep 3
for d in $victim_doms; do
	holds h1 "doms['$d']['state'] == 'recovering'" || fail "$d was started elsewhere without a fence"
done
note "h3 powered off: suspect; $victim_doms await a fence (not restarted)"
lab power-on h3 >/dev/null
wait_for 40 "h3 back, all running" holds h1 \
	"all(h['state'] == 'online' for h in s['hosts']) and all(d['state'] == 'running' for d in s['domains'])" ||
	fail "h3 did not come back"
note "h3 powered on: rebooted host reported empty, its domains restarted"

# Partition 2+1.
lab isolate h3 >/dev/null
wait_for 30 "h3 without quorum" holds h3 "not s['cluster']['quorate'] and s['cluster']['leader'] == ''" ||
	fail "isolated h3 still claims quorum: $(st h3 "s['cluster']")"
wait_for 30 "pair quorate" holds h1 "s['cluster']['quorate'] and s['cluster']['leader'] == 'h1' and hosts['h3']['state'] == 'suspect'" ||
	fail "the pair lost its leader: $(st h1 "s['cluster']")"
h3_doms=$(st h1 "' '.join(d for d in sorted(doms) if doms[d]['host'] == 'h3')")
for d in $h3_doms; do
	holds h1 "doms['$d']['state'] == 'recovering'" || fail "$d on isolated h3 moved without a fence"
done
note "partition: h3 alone has no quorum; h1+h2 quorate with leader h1"
lab heal h3 >/dev/null
wait_for 40 "one cluster again" holds h3 "s['cluster']['quorate'] and s['cluster']['leader'] == 'h1' and all(h['state'] == 'online' for h in s['hosts']) and all(d['state'] == 'running' for d in s['domains'])" ||
	fail "no single cluster after heal"
sleep 2
v1=$(version_of h1); v2=$(version_of h2); v3=$(version_of h3)
[ "$v1" = "$v2" ] && [ "$v2" = "$v3" ] || fail "versions differ after heal: $v1 $v2 $v3"
note "healed: one cluster, one leader, (epoch, seq) = ($v1) everywhere"

# Stop everything, start everything: the domain list survives (persistence).
doms_before=$(st h1 "' '.join(sorted(doms))")
for h in h1 h2 h3; do lab power-off $h >/dev/null; done
for h in h1 h2 h3; do lab power-on $h >/dev/null; done
wait_for 60 "cluster back with its domains" holds h1 \
	"s['cluster']['leader'] and all(d['state'] == 'running' for d in s['domains']) and len(doms) == 6" ||
	fail "after a full restart: $(st h1 "s['domains']")"
[ "$(st h1 "' '.join(sorted(doms))")" = "$doms_before" ] || fail "domain list changed"
note "full stop/start: the 6 domains survived and run again"

lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice (see above)"
echo PASS
