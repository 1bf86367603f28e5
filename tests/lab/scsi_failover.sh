#!/bin/bash
# Issue 17 (b): the storage fails over with every host healthy. The lab's stand-in for
# the passive node of a DRBD storage pair taking over (hax-lab storage-failover: tgtd
# stopped, then started again on the same LUN files) leaves no registration and no
# reservation. Every haxd notices it at its next check ([storage] check_interval, 2 s),
# the hosts, all members in good standing, register again (which takes the reservation
# back), their guests join again on their new sessions; no domain moves, no guest
# process changes, the journal oracle is clean. Prints the time from the target serving
# again to fencing restored.
. "$HAX_SOURCE/tests/lab/lib.sh"

IQN=iqn.2026-11.org.hax.lab:storage
keys() { ip netns exec "${HAX_LAB_NS}st" "$B/hax-fence-scsi" keys --portal 127.0.0.1:3260 --target $IQN \
	--initiator iqn.2026-11.org.hax.lab:checker --all-luns; }
# registered N...: every host key N is listed on every LUN, and every LUN is reserved.
registered() {
	local k n l
	k=$(keys) || return 1
	for l in 1 2 3; do
		echo "$k" | grep -q "^lun $l: reservation type 5 " || return 1
		for n in "$@"; do
			echo "$k" | grep "^lun $l: generation" | grep -qi "686178000000000$n" || return 1
		done
	done
}
in_force_on() { holds "$1" "s['storage'][0]['fencing'] == 'in force'"; }
all_in_force() { in_force_on h1 && in_force_on h2 && in_force_on h3; }
consoles() { cat "$HAX_LAB_DIR"/h*/state/sim/*/console.log 2>/dev/null; }

lab up --hosts 3 --domains 3 --fence scsi >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
wait_for 20 "every host registered" registered 1 2 3 || { keys; fail "host keys not registered"; }
wait_for 20 "every haxd sees fencing in force" all_in_force ||
	fail "fencing not in force before the failover: $(st h1 "s['storage']")"
before=$(guests)
where=$(st h1 "sorted((d, doms[d]['host']) for d in doms)")
note "3 hosts registered, fencing in force; placement $where"

lab storage-failover 2 >"$T/failover.log" 2>&1 || { cat "$T/failover.log"; fail "storage failover"; }
t_back=$(awk '/serving again at/ { print $NF }' "$T/failover.log")
keys >"$T/keys-after.txt" 2>&1
note "target failed over: $(grep -c 'no reservation' "$T/keys-after.txt") of 3 LUNs without a reservation right after"
wait_for 15 "the loss seen" sh -c "grep -q -- '-scsi-fencing' $HAX_LAB_DIR/h*/haxd.log" ||
	fail "no haxd noticed that fencing was lost"
restored() { registered 1 2 3 && all_in_force; }
wait_for 30 "fencing restored" restored ||
	{ keys; fail "fencing not restored: $(st h1 "s['storage']")"; }
t_ok=$(date +%s.%N)
ms=$(python3 -c "print(round(($t_ok - $t_back) * 1000))")
note "fencing restored (every key, every reservation, every haxd) $ms ms after tgtd served again"
grep -h -- '+scsi-fencing.*after it was found' "$HAX_LAB_DIR"/h*/haxd.log | sed 's/^/   /'
echo "metric: scsi_failover_restore_ms=$ms"

# The guests go on writing where they are: same processes, same hosts, and each one
# wrote again after the failover (its journal advanced, no write was lost: a lost or
# foreign record would have stopped the guest, which checks its previous block).
sleep 3
[ "$(guests)" = "$before" ] || fail "guest processes changed: before $before, after $(guests)"
[ "$(st h1 "sorted((d, doms[d]['host']) for d in doms)")" = "$where" ] || fail "a domain moved"
holds h1 "all(d['state'] == 'running' for d in s['domains'])" || fail "a domain is not running"
n=$(consoles | grep -c 'I/O recovered')
[ "$n" -ge 3 ] || fail "only $n guests wrote again after the failover: $(consoles | tail -20)"
consoles | grep -q 'journal conflict' && fail "a guest reported a foreign record"
lab journal-check || fail "journal oracle"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
