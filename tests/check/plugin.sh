#!/bin/bash
# check_haxd against a real standalone haxd (sim driver, a guest on a file disk): exit
# codes and the first line with all perfdata in the cluster, --host and --domain modes;
# UNKNOWN (3) when haxd is not running, refuses us, or is stopped past -t; -h, -V and
# usage errors exit 3 as the Monitoring Plugins guidelines ask.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "haxd's IPC serves root and its client group only"

export HAX_IPC="hax-it-check-$$"
C="$B/check_haxd"
OUT=
# run CODE CMD...: the exit status must be CODE; the output is left in $OUT.
run() {
	local code=$1 rc
	shift
	OUT=$("$@" 2>&1); rc=$?
	[ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code: $OUT"
}
# line1 PATTERN: the first line of $OUT matches PATTERN (grep -E).
line1() { head -n1 <<<"$OUT" | grep -qE -- "$1" || fail "first line of [$OUT] does not match /$1/"; }

run 3 "$C" --help
line1 '^check_haxd [0-9]'
grep -q -- "--domain NAME" <<<"$OUT" || fail "--help lacks --domain: $OUT"
run 3 "$C" -h
run 3 "$C" -V
line1 '^check_haxd [0-9]+\.[0-9]+'
run 3 "$C" --version
run 3 "$C" -w bogus=1
line1 '^HAXD UNKNOWN - -w bogus=1: unknown metric "bogus"'
run 3 "$C" -w domains_failed=5:1
line1 '^HAXD UNKNOWN - -w domains_failed=5:1: invalid range'
run 3 "$C" -c domains_failed
line1 '^HAXD UNKNOWN - .*expected METRIC=RANGE'
run 3 "$C" -t 0
line1 '^HAXD UNKNOWN - -t 0: expected whole seconds'
run 3 "$C" -t
line1 '^HAXD UNKNOWN - -t needs an argument'
run 3 "$C" --frob
line1 '^HAXD UNKNOWN - unknown option --frob'
run 3 "$C" --host h1 --domain d1
run 3 "$C" --host h1 -w quorate=1:
note "help, version and usage errors: exit 3"

run 3 "$C"
line1 '^HAXD UNKNOWN - haxd is not running'
[ "$(echo "$OUT" | wc -l)" = 1 ] || fail "more than one line: $OUT"
note "haxd not running: UNKNOWN"

cat >"$T/haxd.conf" <<CONF
[cluster]
name = chktest
driver = sim
state_dir = $T/state
tick = 500ms
stop_timeout = 5s
[host h1]
nodeid = 1
memory = 1G
vcpus = 4
CONF
CLEANUPS+=('for f in $T/state/sim/*/pid; do kill -9 $(cat $f); done')
haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not start"

run 0 "$C"
line1 '^HAXD OK - cluster chktest: 1/1 hosts online, quorate, 0 domains running \| '

truncate -s 1M "$T/web1.img"
printf 'disk = %s\ninterval = 20ms\n' "$T/web1.img" >"$T/web1.cfg"
"$B/haxctl" domain add web1 --config "$T/web1.cfg" --memory 64 >/dev/null || fail "domain add"
wait_for 20 "web1 running" dom_is web1 running || fail "web1 not running"

run 0 "$C"
line1 '^HAXD OK - cluster chktest: 1/1 hosts online, quorate, 1 domain running \| '
for l in hosts_online=1 hosts_total=1 quorate=1 domains_running=1 domains_recovering=0 \
	domains_failed=0 tolerates_host_failures=0 fence_failures=0 leader_changes=0c; do
	head -n1 <<<"$OUT" | grep -qE -- "[| ]$l(;|$| )" || fail "perfdata $l not on line 1: $OUT"
done
! tail -n +2 <<<"$OUT" | grep -q '|' || fail "perfdata after line 1: $OUT"
run 0 "$C" -v
line1 '^HAXD OK - '
grep -q '^host h1: online, domains web1$' <<<"$OUT" || fail "-v lacks the host line: $OUT"
grep -q '^domain web1: running on h1 since ' <<<"$OUT" || fail "-v lacks the domain line: $OUT"
note "cluster mode: OK, perfdata on line 1"

run 1 "$C" -w 'domains_running=~:0'
line1 '^HAXD WARNING - 1 domain running; cluster chktest: '
line1 ' domains_running=1;~:0;;0 '
run 2 "$C" -c quorate=@1
line1 '^HAXD CRITICAL - quorate; '
# no N+k default with one host, but asked for explicitly it applies
run 1 "$C" -w tolerates_host_failures=1: -c domains_recovering=2
line1 '^HAXD WARNING - tolerates 0 host failures; .* domains_recovering=0;;2;0 .*tolerates_host_failures=0;1:;;0 '
# the leader-change counter takes ranges too (standalone: always 0)
run 2 "$C" -c leader_changes=@0
line1 '^HAXD CRITICAL - leader changed 0 times \(now h1\); .* leader_changes=0c;;@0;0 storage_unfenced=0;;0;0 domains_stranded=1;;;0$'
note "-w/-c override the defaults"

run 0 "$C" --host h1
line1 '^HAXD OK - host h1 online, running 1 domain: web1 \| domains=1;;;0$'
run 3 "$C" --host h9
line1 '^HAXD UNKNOWN - no host h9 in cluster chktest$'
run 0 "$C" --domain web1
line1 '^HAXD OK - domain web1 running on h1 since [0-9T:-]+Z \([0-9]+s\) \| incarnation=[0-9]+;;;0 state_age=[0-9]+s;;;0$'
run 3 "$C" --domain nope
line1 '^HAXD UNKNOWN - no domain nope in cluster chktest$'
note "--host and --domain"

"$B/haxctl" domain disable web1 >/dev/null || fail "disable"
wait_for 20 "web1 disabled" dom_is web1 disabled || fail "web1 not disabled"
run 0 "$C" --domain web1
line1 '^HAXD OK - domain web1 disabled \(disabled: hax keeps it stopped\)'
note "a disabled domain is OK with a note"

if command -v setpriv >/dev/null; then
	run 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$C"
	line1 '^HAXD UNKNOWN - permission denied'
	note "permission denied: UNKNOWN"
else
	note "skipped the permission check: needs setpriv (util-linux)"
fi

# A stopped haxd: no answer; the plugin's own alarm gives UNKNOWN in time.
kill -STOP "$HAXD_PID"
CLEANUPS+=("kill -CONT $HAXD_PID")
t0=$(date +%s%N)
run 3 "$C" -t 2
t1=$(date +%s%N)
kill -CONT "$HAXD_PID"
line1 '^HAXD UNKNOWN - no answer from haxd within 2 s$'
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -ge 1900 ] && [ "$ms" -lt 4000 ] || fail "-t 2 took ${ms} ms"
note "-t 2 with haxd stopped: UNKNOWN after ${ms} ms"
run 0 "$C"
echo "PASS"
