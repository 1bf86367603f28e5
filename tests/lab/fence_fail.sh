#!/bin/bash
# Fencing that fails: with one level (power) told to fail, a lost host's domains stay
# down, the event and status say why, and no second writer ever appears; once the BMC
# works again the retry confirms the fence and recovery proceeds. With two levels
# (power, backup) and the first failing, the second confirms the fence.
. "$HAX_SOURCE/tests/lab/lib.sh"

lab up --hosts 3 --domains 3 --fence power >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
doms=$(st h1 "' '.join(sorted(hosts['h3']['domains']))")
[ -n "$doms" ] || fail "h3 runs no domain"
lab fence-fail bmc1 on >/dev/null
lab power-off h3 >/dev/null
wait_for 30 "a failed fence of h3" holds h1 "s['cluster']['fence_failures'] >= 1 and not hosts['h3']['last_fence']['ok']" ||
	fail "no fence failure recorded: $(st h1 "hosts['h3']")"
sleep 6 # several retries (fence_retry = 2s in the lab)
for d in $doms; do
	holds h1 "doms['$d']['state'] == 'recovering' and doms['$d']['host'] == 'h3'" ||
		fail "$d moved without a confirmed fence: $(st h1 "doms['$d']")"
done
lab exec h1 haxctl events | grep -q "+fence-failed .*h3" || fail "no +fence-failed event"
lab exec h1 haxctl status | grep -q "FAILED" || fail "haxctl status does not show the failure"
note "fence told to fail: $doms stay down, status and events say why"
lab fence-fail bmc1 off >/dev/null
wait_for 60 "recovery once the fence works" holds h1 \
	"hosts['h3']['state'] == 'fenced' and all(doms[d]['state'] == 'running' for d in '$doms'.split())" ||
	fail "no recovery after the BMC came back: $(st h1 "hosts['h3']")"
note "BMC back: fence confirmed on retry, $doms running elsewhere"
lab journal-check || fail "journal oracle (single level)"
lab down

lab up --hosts 3 --domains 3 --fence "power backup" >"$T/up2.log" 2>&1 || { cat "$T/up2.log"; fail "lab up (two levels)"; }
doms=$(st h1 "' '.join(sorted(hosts['h2']['domains']))")
lab fence-fail bmc1 on >/dev/null
lab power-off h2 >/dev/null
wait_for 60 "h2 fenced by the second level" holds h1 \
	"hosts['h2']['state'] == 'fenced' and hosts['h2']['last_fence']['method'] == 'backup' and all(doms[d]['state'] == 'running' for d in '$doms'.split())" ||
	fail "second level: $(st h1 "hosts['h2']")"
note "first level failing, second level (backup) confirmed the fence; $doms recovered"
lab journal-check || fail "journal oracle (two levels)"
! grep -h -- "+double-run" "$HAX_LAB_DIR"/h*/haxd.log || fail "a domain ran twice"
echo PASS
