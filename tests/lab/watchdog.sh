#!/bin/bash
# Watchdog self-fencing on the real lab: h3 is cut off from the cluster with domains
# running; it stops feeding its watchdog, which resets it; the leader, which cannot
# confirm anything, waits the watchdog timeout plus a margin, then restarts the domains
# elsewhere. The journal proves the old copies had stopped writing first.
# Then h2's corosync stalls (SIGSTOP): its haxd sees no new view, so the last one still
# says quorate, but no message of its own comes back: it must stop feeding its watchdog
# (issue 12 item 4), which resets h2 before the leader's wait ends. A haxd that fed on
# the last view alone would keep h2's domains running while they restart elsewhere.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 3 --fence wd >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$doms" ] || fail "h3 runs no domain"
wait_for 10 "h3's watchdog armed" sh -c "grep -q armed '$HAX_LAB_DIR/h3/haxd.log'" ||
	fail "h3 never armed its watchdog"
lab isolate h3 >/dev/null
wait_for 60 "h3 reset by its watchdog" sh -c "grep -q 'resetting the host' '$HAX_LAB_DIR/h3/watchdog.log'" ||
	fail "h3's watchdog did not fire: $(tail -3 "$HAX_LAB_DIR/h3/watchdog.log")"
wait_for 60 "h3 fenced by watchdog, its domains elsewhere" holds h1 \
	"hosts['h3']['state'] == 'fenced' and hosts['h3']['last_fence']['method'] == 'wd' and all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h3' for d in '$doms'.split())" ||
	fail "no watchdog failover: $(st h1 "hosts['h3']")"
note "h3 isolated: reset by its watchdog; after timeout + margin $doms run elsewhere"
lab heal h3 >/dev/null
lab power-on h3 >/dev/null
wait_for 60 "h3 back online" holds h1 "hosts['h3']['state'] == 'online'" || fail "h3 did not rejoin"

doms2=$(st h1 "' '.join(sorted(hosts['h2']['domains']))")
[ -n "$doms2" ] || fail "h2 runs no domain"
[ "$(st h1 "hosts['h2']['watchdog_ms']")" = 5000 ] || fail "h2's watchdog not recorded armed: $(st h1 "hosts['h2']")"
corosync2=$(for pid in $(ip netns pids "${HAX_LAB_NS}h2"); do
	[ "$(cat /proc/$pid/comm 2>/dev/null)" = corosync ] && echo "$pid"; done)
[ -n "$corosync2" ] || fail "no corosync found on h2"
kill -STOP $corosync2
wait_for 60 "h2 reset by its watchdog" sh -c "grep -q 'resetting the host' '$HAX_LAB_DIR/h2/watchdog.log'" ||
	{ kill -CONT $corosync2; fail "h2's watchdog did not fire with its corosync stalled: $(tail -3 "$HAX_LAB_DIR/h2/haxd.log")"; }
wait_for 60 "h2 fenced by watchdog, its domains elsewhere" holds h1 \
	"hosts['h2']['state'] == 'fenced' and all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h2' for d in '$doms2'.split())" ||
	fail "no watchdog failover from h2: $(st h1 "hosts['h2']")"
note "h2's corosync stalled: reset by its watchdog; $doms2 run elsewhere"
lab power-on h2 >/dev/null
wait_for 60 "h2 back online" holds h1 "hosts['h2']['state'] == 'online'" || fail "h2 did not rejoin"
lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
