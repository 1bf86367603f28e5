#!/bin/bash
# Storage fencing on the real lab: h3's cluster link is cut while its storage link stays
# up. The leader preempts h3's SCSI-3 key on the LUNs; h3's guests, still running, get
# RESERVATION CONFLICT and cannot write; the domains run elsewhere. After heal, the rejoin
# rule destroys h3's stale guests before h3 registers its key again and rejoins.
. "$HAX_SOURCE/tests/lab/lib.sh"

IQN=iqn.2026-11.org.hax.lab:storage
keys() { ip netns exec "${HAX_LAB_NS}st" "$B/hax-fence-scsi" keys --portal 127.0.0.1:3260 --target $IQN \
	--initiator iqn.2026-11.org.hax.lab:checker --all-luns; }
KEY3=0x6861780000000003
# registered N...: every host key N is listed on the LUNs.
registered() {
	local k n
	k=$(keys) || return 1
	for n in "$@"; do echo "$k" | grep -qi "686178000000000$n" || return 1; done
}

lab up --hosts 3 --domains 3 --fence scsi >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
wait_for 20 "every host registered" registered 1 2 3 ||
	{ keys; fail "host keys not registered"; }
doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$doms" ] || fail "h3 runs no domain"
note "3 hosts registered; h3 runs $doms"

lab isolate h3 >/dev/null
wait_for 60 "h3 fenced by scsi, its domains elsewhere" holds h1 \
	"hosts['h3']['state'] == 'fenced' and hosts['h3']['last_fence']['method'] == 'scsi' and all(doms[d]['state'] == 'running' and doms[d]['host'] != 'h3' for d in '$doms'.split())" ||
	fail "no scsi failover: $(st h1 "hosts['h3']")"
keys | grep -qi "${KEY3#0x}" && { keys; fail "h3's key still registered after the fence"; }
note "h3 isolated: its key preempted, $doms running elsewhere"
sleep 2
# The guests' console logs: the sim driver's, or the xl stand-in's (HAX_LAB_DRIVER=xl).
consoles="$HAX_LAB_DIR/h3/state/sim/*/console.log"
[ "${HAX_LAB_DRIVER:-sim}" = xl ] && consoles="$HAX_LAB_DIR/h3/console/*.log"
grep -qi "reservation conflict" $consoles ||
	fail "h3's guests never saw RESERVATION CONFLICT: $(tail -3 $consoles)"
note "h3's guests got RESERVATION CONFLICT"
# The isolated side's own layer: without quorum for no_quorum_timeout (10 s), h3 stops
# its domains (the no-quorum policy, default "stop").
wait_for 30 "h3 applies the no-quorum policy" sh -c \
	"grep -q 'applying the no-quorum policy (stop)' '$HAX_LAB_DIR/h3/haxd.log'" ||
	fail "h3 never applied its no-quorum policy"
# (a function, not sh -c: pgrep -f would match the pattern in that shell's own argv)
no_guest_on_h3() { ! pgrep -f -- "hax-guest --domain $1 .*--nodeid 3 " >/dev/null; }
for d in $doms; do
	wait_for 20 "h3's $d guest stopped" no_guest_on_h3 "$d" ||
		fail "h3's $d guest still runs after the no-quorum policy"
done
note "h3, without quorum for 10 s, stopped its own guests"

lab heal h3 >/dev/null
wait_for 60 "h3 back online" holds h1 "hosts['h3']['state'] == 'online'" ||
	fail "h3 did not rejoin: $(st h1 "hosts['h3']")"
wait_for 20 "h3 registered again" registered 3 || fail "h3 did not re-register"
for d in $doms; do
	[ -z "$(pgrep -f -- "hax-guest --domain $d .*--nodeid 3 ")" ] || fail "a stale $d guest survived on h3"
done
note "healed: stale guests destroyed, h3 registered again and online"

lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
