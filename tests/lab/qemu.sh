#!/bin/bash
# Real VMs (QEMU under TCG, a Debian kernel and an initramfs running hax-guest on the
# VM's disk, the iSCSI LUN through QEMU's libiscsi driver): 2 VMs on h1, "haxctl evacuate
# h1 --wait" live-migrates both (same incarnation, journal continuous, the downtime QEMU
# reported logged); then the host of one VM is powered off: fenced, and the VM restarted
# elsewhere with a new incarnation. The journal oracle stays clean throughout.
. "$HAX_SOURCE/tests/lab/lib.sh"
need_tool qemu-system-x86_64 qemu-system-x86

lab up --driver qemu --hosts 3 --domains 2 --prefer h1 >"$T/up.log" 2>&1 ||
	{ tail -20 "$T/up.log"; fail "lab up"; }
holds h2 "all(d['host'] == 'h1' for d in doms.values())" || fail "the VMs should start on h1"

# records DOMAIN: journal records on its LUN so far (the guests boot for ~15 s under TCG).
records() { lab journal-check 2>/dev/null | sed -n "s/^$1: \([0-9]*\) records.*/\1/p"; }
booted() { sleep 2; [ "$(records d1)" -gt 20 ] 2>/dev/null && [ "$(records d2)" -gt 20 ] 2>/dev/null; }
wait_for 120 "both VMs writing their journals" booted || fail "the VMs did not boot: $(tail -3 "$HAX_LAB_DIR"/h1/state/qemu/d*/console.log)"
note "2 VMs booted on h1 and writing (d1: $(records d1) records)"

incs=$(st h2 "sorted((n, d['incarnation']) for n, d in doms.items())")
out=$(lab exec h2 haxctl evacuate h1 --wait) || fail "evacuate: $out"
echo "$out" | grep -q "2 of 2 moved" || fail "evacuate: $out"
holds h2 "hosts['h1']['domains'] == [] and all(d['state'] == 'running' and d['host'] in ('h2', 'h3') for d in doms.values()) and str(sorted((n, d['incarnation']) for n, d in doms.items())) == \"$incs\"" ||
	fail "after the evacuation: $(st h2 "[(d['name'], d['state'], d['host'], d['incarnation']) for d in s['domains']]")"
before=$(records d1)
sleep 3
[ "$(records d1)" -gt "$before" ] || fail "d1 does not write after its migration"
lab journal-check >"$T/jc" || { cat "$T/jc"; fail "journal oracle after the live migrations"; }
grep -q "^d1: .* 1 incarnations, 0 violations" "$T/jc" && grep -q "^d2: .* 1 incarnations, 0 violations" "$T/jc" ||
	fail "a live migration must keep the incarnation: $(cat "$T/jc")"
grep -h "migrated to h[23] in" "$HAX_LAB_DIR"/h1/haxd.log | sed 's/^.*agent: /-- /'
note "evacuated by live migration: both VMs kept their incarnation, journals continuous"

victim=$(st h1 "doms['d1']['host']")
lab power-off "$victim" >/dev/null
watcher=$( [ "$victim" = h2 ] && echo h3 || echo h2 )
# h1 is still in maintenance: the VM goes to the other surviving host.
wait_for 90 "$victim fenced and d1 running elsewhere" holds "$watcher" \
	"hosts['$victim']['state'] == 'fenced' and doms['d1']['state'] == 'running' and doms['d1']['host'] != '$victim'" ||
	fail "failover of d1: $(st "$watcher" "[(d['name'], d['state'], d['host'], d['reason']) for d in s['domains']]")"
old_inc=$(echo "$incs" | python3 -c "import ast, sys; print(dict(ast.literal_eval(sys.stdin.read()))['d1'])")
inc=$(st "$watcher" "doms['d1']['incarnation']")
[ "$inc" -gt "$old_inc" ] || fail "d1 restarted with incarnation $inc, expected a new one (above $old_inc)"
reboot() { sleep 2; lab journal-check 2>/dev/null | grep -q "^d1: .* 2 incarnations"; }
wait_for 120 "d1's new incarnation writing" reboot || fail "d1 did not boot again: $(lab journal-check)"
note "$victim powered off: fenced, d1 restarted on $(st "$watcher" "doms['d1']['host']") as incarnation $inc"

lab journal-check >"$T/jc2" || { cat "$T/jc2"; fail "journal oracle after the failover"; }
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
