#!/bin/bash
# Failover on the real lab with power fencing (scripts/fence_lab): a host powered off is
# fenced, then its domains run elsewhere with new incarnations; the same for the leader's
# host; powered on again, the fenced host rejoins empty. The journal oracle stays clean.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 6 --fence power >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
note "lab up"

# fail_over VICTIM WATCHER: power VICTIM off, wait until its domains run elsewhere.
fail_over() {
	local victim=$1 watcher=$2 doms d
	doms=$(st "$watcher" "' '.join(sorted(hosts['$victim']['domains']))")
	[ -n "$doms" ] || fail "$victim runs no domain"
	lab power-off "$victim" >/dev/null
	wait_for 60 "$victim fenced and its domains running elsewhere" holds "$watcher" \
		"hosts['$victim']['state'] == 'fenced' and all(doms[d]['state'] == 'running' and doms[d]['host'] != '$victim' for d in '$doms'.split())" ||
		fail "failover of $victim: $(st "$watcher" "[(d['name'], d['state'], d['host'], d['reason']) for d in s['domains']]")"
	holds "$watcher" "hosts['$victim']['last_fence']['ok'] and hosts['$victim']['last_fence']['method'] == 'power'" ||
		fail "no confirmed fence recorded for $victim: $(st "$watcher" "hosts['$victim']['last_fence']")"
	note "$victim powered off: fenced by power, $doms running elsewhere"
}

# The worst-case timeline from the live configuration: corosync's detection, then the
# power level's timeout (20 s in the lab), then placement and start.
out=$(lab exec h1 haxctl explain-failover h3) || fail "explain-failover"
echo "$out" | grep -q "detection .* corosync token" || fail "no detection phase: $out"
echo "$out" | grep -q "fence level 1 .*20000 ms.*power" || fail "no fence phase: $out"
note "explain-failover: $(echo "$out" | tail -1 | tr -s ' ')"

fail_over h3 h1
lab exec h1 haxctl events | grep -q "+fence-ok .*h3" || fail "no +fence-ok event"
lab power-on h3 >/dev/null
wait_for 40 "h3 online again" holds h1 "hosts['h3']['state'] == 'online'" || fail "h3 did not rejoin"
note "h3 powered on: online again"

leader=$(leader_of h2)
[ "$leader" = h1 ] || fail "expected h1 to lead, got $leader"
fail_over h1 h2
holds h2 "s['cluster']['leader'] == 'h2'" || fail "h2 should lead now"
lab power-on h1 >/dev/null
wait_for 40 "h1 online again" holds h2 "hosts['h1']['state'] == 'online'" || fail "h1 did not rejoin"
note "leader's host powered off: h2 took over, fenced h1, restarted its domains"

sleep 2
lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
