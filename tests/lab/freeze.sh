#!/bin/bash
# The no-quorum policy "freeze": h3, cut off from the cluster (storage still reachable,
# scsi fencing), freezes its guests in place after no_quorum_timeout instead of stopping
# them; the majority fences it and restarts the domains elsewhere; after heal the rejoin
# rule destroys the frozen leftovers (they are never thawed, since h3 was fenced).
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 3 --fence scsi --no-quorum-policy freeze >"$T/up.log" 2>&1 ||
	{ cat "$T/up.log"; fail "lab up"; }
doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$doms" ] || fail "h3 runs no domain"
pids=$(for d in $doms; do pgrep -f -- "hax-guest --domain $d .*--nodeid 3 "; done)
lab isolate h3 >/dev/null
frozen() { local p; for p in $pids; do [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" = T ] || return 1; done; }
wait_for 40 "h3's guests frozen" frozen || fail "h3's guests were not frozen: $(for p in $pids; do awk '{print $3}' /proc/$p/stat; done)"
grep -q "applying the no-quorum policy (freeze)" "$HAX_LAB_DIR/h3/haxd.log" || fail "no freeze in h3's log"
note "h3 without quorum: its guests frozen in place ($pids)"
wait_for 60 "domains elsewhere" holds h1 \
	"hosts['h3']['state'] == 'fenced' and all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h3' for d in '$doms'.split())" ||
	fail "no failover: $(st h1 "hosts['h3']")"
lab heal h3 >/dev/null
gone() { local p; for p in $pids; do [ -d /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat)" != Z ] && return 1; done; return 0; }
wait_for 60 "frozen leftovers destroyed" gone || fail "frozen guests survived the rejoin"
wait_for 40 "h3 online" holds h1 "hosts['h3']['state'] == 'online'" || fail "h3 did not rejoin"
! grep -q "thawed" "$HAX_LAB_DIR/h3/haxd.log" || fail "a fenced host thawed its guests"
note "healed: h3 fenced meanwhile, so its frozen guests were destroyed, never thawed"
lab journal-check || fail "journal oracle"
echo PASS
