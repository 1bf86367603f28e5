#!/bin/bash
# haxd under valgrind, standalone with domains: two sim guests on real iSCSI LUNs start,
# one is disabled, the status, events and a reload are served, then SIGTERM. Any memory
# error, or a leak valgrind calls definite, fails the test.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "tgtd and detached guests"
need_tool tgtd tgt
need_tool valgrind valgrind
ldd "$B/haxd" | grep -q libasan &&
	skip "haxd is built with AddressSanitizer here, which valgrind cannot run (the sanitizers check it instead)"

export HAX_IPC="hax-it-valgrind-$$"
IQN=iqn.2026-12.org.hax.test:valgrind
tgt_start 7102 3302 "$IQN" 2 4 || fail "tgtd setup"
cat >"$T/haxd.conf" <<CONF
[cluster]
name = vgtest
driver = sim
state_dir = $T/state
tick = 500ms
stop_timeout = 5s
[host h1]
nodeid = 1
memory = 4G
vcpus = 8
CONF
CLEANUPS+=('for f in $T/state/sim/*/pid; do kill -9 $(cat $f); done')
valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--error-exitcode=99 --log-file="$T/valgrind.log" \
	"$B/haxd" -f -s -c "$T/haxd.conf" -H h1 >>"$T/haxd.log" 2>&1 &
HAXD_PID=$!
PIDS+=($HAXD_PID)
wait_for 60 "haxd under valgrind answers" "$B/haxctl" status || { cat "$T/haxd.log"; fail "haxd did not start"; }
for i in 1 2; do
	printf 'disk = iscsi://127.0.0.1:3302/%s/%d\ninterval = 20ms\n' "$IQN" "$i" >"$T/d$i.cfg"
	"$B/haxctl" domain add "d$i" --config "$T/d$i.cfg" --memory 128 >/dev/null || fail "domain add d$i"
done
for i in 1 2; do
	wait_for 60 "d$i running" dom_is "d$i" running || { tail "$T/haxd.log"; fail "d$i not running"; }
done
"$B/haxctl" domain disable d2 >/dev/null || fail "disable d2"
wait_for 60 "d2 disabled" dom_is d2 disabled || fail "d2 not disabled"
"$B/haxctl" events >/dev/null && "$B/haxctl" explain-failover >/dev/null &&
	"$B/haxctl" reload >/dev/null && "$B/haxctl" status --json >/dev/null || fail "requests"
"$B/haxctl" domain add d1 --config "$T/d1.cfg" >/dev/null 2>&1 # refused: exists
kill -TERM "$HAXD_PID"
wait "$HAXD_PID"
rc=$?
grep -E "ERROR SUMMARY|definitely lost" "$T/valgrind.log" | sed 's/^==[0-9]*== /-- valgrind: /'
[ "$rc" != 99 ] || { cat "$T/valgrind.log"; fail "valgrind found errors"; }
grep -q "ERROR SUMMARY: 0 errors" "$T/valgrind.log" || { cat "$T/valgrind.log"; fail "valgrind: errors"; }
note "haxd valgrind-clean: 2 domains started, 1 disabled, requests served, SIGTERM (exit $rc)"
echo "PASS"
