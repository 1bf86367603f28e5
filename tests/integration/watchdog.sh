#!/bin/bash
# Watchdog fencing's assumptions on a standalone haxd (issue 12 item 4). The device is a
# file with the lab stand-in's interface (scripts/watchdog_lab: a write feeds it, a final
# 'V' disarms it, FILE.timeout holds the timeout it enforces); no stand-in process runs,
# so nothing is reset here: the test reads what haxd did to the file.
#  1. haxd reports the timeout the device accepted (status hosts[].watchdog_ms).
#  2. haxd stopping while a domain runs leaves the device armed (no 'V');
#     stopping with nothing running disarms it.
#  3. a device that cannot be opened: a start is refused with the reason, and the host
#     is recorded as not armed (so a watchdog wait would not count as its fence).
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "tgtd and detached guests"
need_tool tgtd tgt

export HAX_IPC="hax-it-watchdog-$$"
IQN=iqn.2026-11.org.hax.test:watchdog
# Not HAX_TEST_TGT_CTL itself: that is the lab's tgtd, whose control socket (a path in
# /var/run/tgtd) this test would share and, at cleanup, shut down.
ctl=$(( ${HAX_TEST_TGT_CTL:-7005} + 100 ))
tgt_start "$ctl" $((3300 + ctl % 100)) "$IQN" 1 4 || fail "tgtd setup"

conf() {
	cat >"$T/haxd.conf" <<CONF
[cluster]
name = itest
driver = sim
state_dir = $T/state
tick = 500ms
stop_timeout = 5s

[fence wd]
driver = watchdog
device = $1
watchdog_timeout = 5s

[host h1]
nodeid = 1
memory = 4G
vcpus = 8
fence = wd
CONF
}
host_field() {
	"$B/haxctl" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print([h for h in s["hosts"] if h["name"] == "h1"][0].get(sys.argv[1]))' "$1"
}
stop_haxd() { kill -TERM "$HAXD_PID"; wait "$HAXD_PID" 2>/dev/null; }
CLEANUPS+=('for f in $T/state/sim/*/pid; do kill -9 $(cat $f); done')

: >"$T/wd"
echo 3000 >"$T/wd.timeout"
conf "$T/wd"
haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not start"
wait_for 20 "watchdog_ms reported" sh -c "[ \"\$(HAX_IPC=$HAX_IPC '$B/haxctl' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"hosts\"][0].get(\"watchdog_ms\"))')\" = 3000 ]" ||
	fail "h1 did not report its watchdog armed with 3000 ms: $(host_field watchdog_ms)"
note "armed; the accepted timeout (3000 ms, not the 5000 asked) is in the state"

printf 'disk = iscsi://127.0.0.1:%d/%s/1\ninterval = 50ms\n' $((3300 + ctl % 100)) "$IQN" >"$T/d1.cfg"
"$B/haxctl" domain add d1 --config "$T/d1.cfg" --memory 128 || fail "domain add d1"
wait_for 30 "d1 running" dom_is d1 running || { cat "$T/haxd.log"; fail "d1 not running"; }
size=$(stat -c %s "$T/wd")
sleep 2
[ "$(stat -c %s "$T/wd")" -gt "$size" ] || fail "haxd does not feed its watchdog"
stop_haxd
[ "$(tail -c1 "$T/wd")" != V ] || fail "haxd disarmed its watchdog on stop while d1 runs"
grep -q "stays armed" "$T/haxd.log" || fail "no word of the armed watchdog in the log"
note "stopped with d1 running: the watchdog stays armed"

haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not restart"
wait_for 20 "d1 running again" dom_is d1 running || fail "d1 not adopted"
"$B/haxctl" domain disable d1 || fail "disable d1"
wait_for 20 "d1 disabled" dom_is d1 disabled || fail "d1 not disabled"
stop_haxd
[ "$(tail -c1 "$T/wd")" = V ] || fail "haxd left its watchdog armed with nothing to guard"
note "stopped with nothing running: the watchdog is disarmed"

conf "$T/absent/wd"
haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not start without its device"
wait_for 20 "h1 online" sh -c "HAX_IPC=$HAX_IPC '$B/haxctl' status --json | grep -q '\"online\"'" || fail "h1 not online"
[ "$(host_field watchdog_ms)" = 0 ] || fail "h1 still recorded armed: $(host_field watchdog_ms)"
grep -q "cannot be armed" "$T/haxd.log" || fail "no word of the failed arming"
"$B/haxctl" domain enable d1 || fail "enable d1"
sleep 4
dom_is d1 running && fail "d1 started on a host whose watchdog is not armed"
grep -q "refused: this host's watchdog" "$T/haxd.log" || fail "no refusal logged: $(tail -5 "$T/haxd.log")"
[ "$(grep -c "cannot be armed" "$T/haxd.log")" -le 2 ] || fail "the arming failure is logged at every try"
note "device missing: d1 is not started ($(dom_field d1 state): $(dom_field d1 reason))"
echo PASS
