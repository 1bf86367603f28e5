#!/bin/bash
# DRBD-backed domains on the real lab (drbdadm is the lab stand-in): each domain's
# resource is promoted on the host that starts it; after a power-off, the new host
# promotes it again only once the lost host is fenced, then starts the domain.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 3 --fence power --drbd >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
log=$HAX_LAB_DIR/drbdadm.log
for i in 1 2 3; do
	[ "$(grep -c "^primary r$i\$" "$log")" = 1 ] || fail "r$i not promoted once at start: $(cat "$log")"
done
note "each domain's resource promoted once on its first host"
doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$doms" ] || fail "h3 runs no domain"
lab power-off h3 >/dev/null
wait_for 60 "h3 fenced, its domains elsewhere" holds h1 \
	"hosts['h3']['state'] == 'fenced' and all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h3' for d in '$doms'.split())" ||
	fail "failover: $(st h1 "[(d['name'], d['state'], d['host'], d['reason']) for d in s['domains']]")"
for d in $doms; do
	[ "$(grep -c "^primary r${d#d}\$" "$log")" = 2 ] || fail "r${d#d} not promoted on the new host"
	new=$(st h1 "doms['$d']['host']")
	grep -q "$d: DRBD resource r${d#d} promoted" "$HAX_LAB_DIR/$new/haxd.log" ||
		fail "$new's haxd did not promote r${d#d}"
done
note "after the fence of h3, $doms promoted and started on their new hosts"

# A migration promotes the resource on the target before it receives the domain, and
# makes it Secondary on the source once the domain left; a stop does too.
d=d1
r=r1
from=$(st h1 "doms['$d']['host']")
to=$(st h1 "[h for h in ('h1', 'h2') if h != '$from'][0]")
np=$(grep -c "^primary $r\$" "$log")
out=$(lab exec h1 haxctl migrate $d "$to" --wait) || fail "migrate $d to $to: $out"
[ "$(grep -c "^primary $r\$" "$log")" = $((np + 1)) ] || fail "$r not promoted on $to: $(cat "$log")"
wait_for 10 "$r Secondary on $from" grep -q "agent: $d left: drbd $r: Secondary" "$HAX_LAB_DIR/$from/haxd.log" ||
	fail "$from did not make $r Secondary: $(grep -c "^secondary $r\$" "$log") secondary calls"
note "$d migrated $from -> $to: $r promoted there first, made Secondary on $from after"
lab exec h1 haxctl domain disable $d >/dev/null || fail "disable $d"
wait_for 30 "$d stopped and $r Secondary on $to" grep -q "agent: $d left: drbd $r: Secondary" "$HAX_LAB_DIR/$to/haxd.log" ||
	fail "stopping $d did not make $r Secondary on $to"
note "$d disabled: $r made Secondary on $to"
lab journal-check || fail "journal oracle"
echo PASS
