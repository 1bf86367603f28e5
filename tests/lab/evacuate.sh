#!/bin/bash
# Evacuation on the real lab (sim driver, stop-and-copy over the cluster network):
# 6 domains on h1, "haxctl evacuate h1 --concurrency 2 --wait" leaves h1 empty and in
# maintenance, never more than 2 migrations at once, each domain's journal showing one
# short gap (one new incarnation). Then a target whose incoming migrations break halfway
# (the sim hypervisor's fault hook): the migration fails, the domain keeps running on its
# source (same incarnation, journal continuous), and it is retried on another target.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 6 --prefer h1 >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
holds h2 "all(d['host'] == 'h1' for d in doms.values())" || fail "the domains should start on h1"
note "lab up: d1..d6 on h1"

out=$(lab exec h2 haxctl evacuate h1 --dry-run) || fail "dry run: $out"
[ "$(echo "$out" | grep -c -- '-> h[23]')" = 6 ] || fail "dry run should place 6 domains: $out"
echo "$out" | grep -q "It fits" || fail "dry run: $out"
holds h2 "not hosts['h1']['maintenance']" || fail "a dry run changed something"
note "dry run: 6 domains -> h2/h3, fits, nothing changed"

out=$(lab exec h2 haxctl evacuate h1 --concurrency 2 --wait) || fail "evacuate: $out"
echo "$out" | grep -q "6 of 6 moved" || fail "evacuate output: $out"
holds h2 "hosts['h1']['domains'] == [] and hosts['h1']['maintenance'] and not hosts['h1']['evacuating']" ||
	fail "h1 after the evacuation: $(st h2 "hosts['h1']")"
holds h2 "all(d['state'] == 'running' and d['host'] in ('h2', 'h3') for d in doms.values())" ||
	fail "domains: $(st h2 "[(d['name'], d['state'], d['host']) for d in s['domains']]")"
# The events, in order: never more than 2 migrations under way.
lab exec h2 haxctl events >"$T/events"
max=$(awk '/\+migrating/ {n++; if (n > m) m = n} /\+migrated|migration to .* failed/ {n--} END {print m+0}' "$T/events")
[ "$max" -ge 1 ] && [ "$max" -le 2 ] || fail "up to $max migrations at once (bound 2): $(cat "$T/events")"
note "evacuated h1: 6 domains moved, at most $max at once, h1 in maintenance"

lab journal-check >"$T/jc" || { cat "$T/jc"; fail "journal oracle after the evacuation"; }
# sim's migration is stop-and-copy (a new incarnation); xl's is live (the same one).
nincs=2
[ "${HAX_LAB_DRIVER:-sim}" = xl ] && nincs=1
for i in 1 2 3 4 5 6; do
	grep -q "^d$i: .* $nincs incarnations, 0 violations" "$T/jc" ||
		fail "d$i: expected $nincs incarnation(s): $(cat "$T/jc")"
done
note "journal: one gap per domain ($(grep -o 'max downtime [0-9]* ms' "$T/jc" | sort -t' ' -k3 -n | tail -1))"

# A target that fails: h1 is preferred again (maintenance off) but breaks every incoming
# migration halfway; h2's domains must end on h3, never stopping on h2 meanwhile.
lab migrate-fail h1 on >/dev/null
lab exec h2 haxctl maintenance h1 off >/dev/null || fail "maintenance off"
doms=$(st h2 "' '.join(sorted(hosts['h2']['domains']))")
declare -A inc
for d in $doms; do inc[$d]=$(st h2 "doms['$d']['incarnation']"); done
out=$(lab exec h2 haxctl evacuate h2 --wait) || fail "evacuate h2 with a failing target: $out"
holds h2 "hosts['h2']['domains'] == [] and all(doms[d]['host'] == 'h3' and doms[d]['state'] == 'running' for d in '$doms'.split())" ||
	fail "after the retries: $(st h2 "[(d['name'], d['state'], d['host'], d['reason']) for d in s['domains']]")"
lab exec h2 haxctl events | sed -n '/+evacuating *host h2/,$p' >"$T/events2"
for d in $doms; do
	grep -q "+running .*$d on h2 incarnation ${inc[$d]}: migration to h1 failed" "$T/events2" ||
		fail "$d: no failed migration to h1 back on h2 with incarnation ${inc[$d]}: $(grep " $d " "$T/events2")"
	! grep -E "\+(stopped|recovering|starting) +$d " "$T/events2" | grep -q . ||
		fail "$d stopped or restarted during the failed migration: $(grep " $d " "$T/events2")"
done
lab migrate-fail h1 off >/dev/null
note "a target breaking migrations halfway: $doms stayed on h2 (same incarnations), then moved to h3"

sleep 1
lab journal-check >"$T/jc2" || { cat "$T/jc2"; fail "journal oracle after the failed migrations"; }
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
