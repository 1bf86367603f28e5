#!/bin/bash
# Evacuation meets failure (sim driver, slow migrations: 16 MiB at 4 MiB/s, about 4 s
# each). The leader's haxd killed mid-evacuation: the next leader finishes the job from
# the replicated intent and the agents' inventories. Then the source host powered off
# mid-migration: ordinary failover, fence first. The journal oracle stays clean.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 4 --prefer h2 --state-size 16M --migrate-speed 4M \
	>"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
holds h1 "all(d['host'] == 'h2' for d in doms.values())" || fail "the domains should start on h2"
[ "$(leader_of h1)" = h1 ] || fail "h1 should lead"
note "lab up: d1..d4 on h2, h1 leads"

lab exec h3 haxctl evacuate h2 --concurrency 1 >/dev/null || fail "evacuate h2"
wait_for 20 "a migration under way" holds h3 "any(d['state'] == 'migrating' for d in doms.values())" ||
	fail "no migration started"
lab kill h1 haxd >/dev/null
note "h1's haxd (the leader) killed during $(st h3 "[d['name'] for d in doms.values() if d['state'] == 'migrating']")"
wait_for 30 "h2 leads" holds h3 "s['cluster']['leader'] == 'h2'" || fail "no new leader"
lab start h1 haxd >/dev/null
wait_for 120 "h2 evacuated by the new leader" holds h3 \
	"hosts['h2']['domains'] == [] and not hosts['h2']['evacuating'] and all(d['state'] == 'running' for d in doms.values())" ||
	fail "evacuation not finished: $(st h3 "[(d['name'], d['state'], d['host'], d['target'], d['reason']) for d in s['domains']]")"
holds h3 "hosts['h1']['state'] == 'online'" || fail "h1 should be online again (haxd restarted, never fenced)"
lab journal-check >"$T/jc" || { cat "$T/jc"; fail "journal oracle after the leader change"; }
note "evacuation finished under the new leader; journal clean"

# The source dies mid-migration: its domains must wait for its fence, then restart.
lab exec h3 haxctl maintenance h2 off >/dev/null || fail "maintenance off"
src=$(st h3 "max(('h1', 'h3'), key=lambda h: len(hosts[h]['domains']))")
doms=$(st h3 "' '.join(sorted(hosts['$src']['domains']))")
lab exec h2 haxctl evacuate "$src" --concurrency 1 >/dev/null || fail "evacuate $src"
wait_for 20 "a migration off $src under way" holds h2 "any(d['state'] == 'migrating' for d in doms.values())" ||
	fail "no migration started"
moving=$(st h2 "[d['name'] for d in doms.values() if d['state'] == 'migrating'][0]")
lab power-off "$src" >/dev/null
note "$src powered off while $moving migrates off it"
watcher=$( [ "$src" = h1 ] && echo h2 || echo h1 )
wait_for 90 "$src fenced and every domain running" holds "$watcher" \
	"hosts['$src']['state'] == 'fenced' and all(d['state'] == 'running' and d['host'] != '$src' for d in doms.values())" ||
	fail "failover of $src: $(st "$watcher" "[(d['name'], d['state'], d['host'], d['reason']) for d in s['domains']]")"
lab exec "$watcher" haxctl events >"$T/events"
fence_line=$(grep -n "+fence-ok .*host $src" "$T/events" | head -1 | cut -d: -f1)
[ -n "$fence_line" ] || fail "no confirmed fence of $src"
for d in $doms; do
	# Whatever was still on the source restarts only after the fence.
	start=$(grep -n "+starting *$d " "$T/events" | tail -1 | cut -d: -f1)
	[ -z "$start" ] || [ "$start" -gt "$fence_line" ] || fail "$d started before $src was fenced"
done
note "$src fenced, then its domains ran elsewhere"

sleep 1
lab journal-check >"$T/jc2" || { cat "$T/jc2"; fail "journal oracle after the failover"; }
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
