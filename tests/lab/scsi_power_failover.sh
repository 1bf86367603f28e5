#!/bin/bash
# Issue 17, what SCSI fencing cannot promise, and the level that closes it: tgt cannot
# keep reservations (no APTPL), so a target failover *after* a fenced host's domains were
# restarted elsewhere would let that host, if still alive, write again until its no-quorum
# policy stops its guests. With "fence = scsi+power" a fenced host is also off: here h3 is
# isolated (storage link up), fenced by scsi+power, its domains restart on h1/h2, then
# the target fails over: nothing of h3's runs to write, fencing is restored for h1 and h2
# only, the domains keep running, and the journal oracle is clean. The configuration
# warning about scsi-only hosts is absent with scsi+power.
. "$HAX_SOURCE/tests/lab/lib.sh"

IQN=iqn.2026-11.org.hax.lab:storage
KEY3=6861780000000003
keys() { ip netns exec "${HAX_LAB_NS}st" "$B/hax-fence-scsi" keys --portal 127.0.0.1:3260 --target $IQN \
	--initiator iqn.2026-11.org.hax.lab:checker --all-luns; }
registered() {
	local k n
	k=$(keys) || return 1
	for n in "$@"; do echo "$k" | grep -qi "686178000000000$n" || return 1; done
}
in_force_on() { holds "$1" "s['storage'][0]['fencing'] == 'in force'"; }

lab up --hosts 3 --domains 3 --fence scsi+power >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
wait_for 20 "every host registered" registered 1 2 3 || { keys; fail "host keys not registered"; }
holds h1 "s['warnings'] == []" || fail "a warning with scsi+power: $(st h1 "s['warnings']")"
doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$doms" ] || fail "h3 runs no domain"

lab isolate h3 >/dev/null
wait_for 60 "h3 fenced by scsi+power, its domains elsewhere" holds h1 \
	"hosts['h3']['state'] == 'fenced' and hosts['h3']['last_fence']['method'] == 'scsi+power' and all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h3' for d in '$doms'.split())" ||
	fail "no failover: $(st h1 "hosts['h3']")"
lab hosts | grep -q '^h3 off$' || fail "h3 still powered on after a power fence"
note "h3 fenced by scsi+power (off); $doms run elsewhere"

lab storage-failover 2 >"$T/failover.log" 2>&1 || { cat "$T/failover.log"; fail "storage failover"; }
restored() { registered 1 2 && in_force_on h1 && in_force_on h2; }
wait_for 30 "fencing restored for h1 and h2" restored || { keys; fail "fencing not restored"; }
keys | grep -qi "$KEY3" && fail "h3's key came back"
sleep 3
holds h1 "all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h3' for d in '$doms'.split())" ||
	fail "$doms stopped running: $(st h1 "s['domains']")"
note "target failed over after the restart: nothing of h3's could write, fencing restored"
lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
