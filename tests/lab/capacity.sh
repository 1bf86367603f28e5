#!/bin/bash
# Not enough capacity: 4 hosts of 1 GiB, 8 domains of 384 MiB (two per host). Two hosts
# powered off at once: both are fenced, but their 4 domains fit nowhere (256 MiB free per
# survivor) and stay "recovering" with the reason; capacity back (the hosts powered on)
# -> they start. No domain ever has two writers.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 4 --domains 8 --domain-memory 384 --fence power >"$T/up.log" 2>&1 ||
	{ cat "$T/up.log"; fail "lab up"; }
doms=$(st h1 "' '.join(sorted(d for d in doms if doms[d]['host'] in ('h3', 'h4')))")
[ "$(echo $doms | wc -w)" = 4 ] || fail "expected 4 domains on h3+h4, got: $doms"
lab power-off h3 >/dev/null
lab power-off h4 >/dev/null
wait_for 60 "h3 and h4 fenced" holds h1 "hosts['h3']['state'] == 'fenced' and hosts['h4']['state'] == 'fenced'" ||
	fail "not fenced: $(st h1 "[(h['name'], h['state']) for h in s['hosts']]")"
wait_for 20 "their domains recovering for lack of room" holds h1 \
	"all(doms[d]['state'] == 'recovering' and 'fits nowhere' in doms[d]['reason'] for d in '$doms'.split())" ||
	fail "expected 'fits nowhere': $(st h1 "[(d['name'], d['state'], d['reason']) for d in s['domains']]")"
holds h1 "s['cluster']['tolerates_host_failures'] == 0" || fail "N+k should be 0 now"
lab exec h1 haxctl status | grep -q "fits nowhere" || fail "haxctl status does not show the reason"
note "h3+h4 off and fenced: $doms recovering, 'fits nowhere'"

lab power-on h3 >/dev/null
wait_for 60 "two of them start on h3" holds h1 \
	"sum(doms[d]['state'] == 'running' for d in '$doms'.split()) == 2" ||
	fail "capacity back (h3): $(st h1 "[(d['name'], d['state'], d['host']) for d in s['domains']]")"
lab power-on h4 >/dev/null
wait_for 60 "all running" holds h1 "all(d['state'] == 'running' for d in s['domains'])" ||
	fail "capacity back (h4): $(st h1 "[(d['name'], d['state'], d['host']) for d in s['domains']]")"
note "capacity back: every domain runs"
lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
