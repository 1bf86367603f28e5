#!/bin/bash
# Daemons dying on live hosts: haxd killed and restarted (a non-leader, then the leader)
# -> no guest is restarted; corosync killed on a live host -> the host is lost, fenced,
# and its domains run elsewhere, never twice. The journal oracle is clean throughout.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 6 --fence power >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
before=$(guests) || fail "$before"
for h in h2 h1; do
	lab kill $h haxd >/dev/null
	sleep 3
	lab start $h haxd >/dev/null
	wait_for 40 "$h's haxd back" holds $h "hosts['$h']['state'] == 'online' and s['cluster']['leader'] == 'h1' and all(d['state'] == 'running' for d in s['domains'])" ||
		fail "$h's haxd did not come back"
done
sleep 2
after=$(guests) || fail "$after"
[ "$after" = "$before" ] || fail "a guest was restarted: [$before] -> [$after]"
note "haxd killed and restarted on h2 and on the leader h1: no guest restarted"

doms=$(st h1 "' '.join(sorted(hosts['h2']['domains']))")
lab kill h2 corosync >/dev/null
wait_for 60 "h2 fenced, its domains elsewhere" holds h1 \
	"hosts['h2']['state'] == 'fenced' and all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h2' for d in '$doms'.split())" ||
	fail "corosync death on h2: $(st h1 "[(h['name'], h['state']) for h in s['hosts']]")"
note "corosync killed on h2: h2 lost, fenced, $doms running elsewhere"
lab power-on h2 >/dev/null
wait_for 40 "h2 online" holds h1 "hosts['h2']['state'] == 'online'" || fail "h2 did not rejoin"
lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
