#!/bin/bash
# hax-fence-redfish and the redfish fence driver against scripts/redfish_lab, the lab's
# stand-in BMC, on 127.0.0.1 with a fresh self-signed certificate. The "host" it powers
# is a throwaway network namespace haxr-h1 (its own prefix, never a lab's hax-* or
# another test's) with a sleep in it, found as hax-lab records it ($HAX_LAB_DIR/h1/
# netns.ino):
#   redfish_tool_test.sh HAX_FENCE_REDFISH REDFISH_DRIVER_RUN
# 1. usage errors exit 2, --help exits 0;
# 2. monitor, status (on: 0); a BMC of several systems needs --system; TLS verified by default: the self-signed certificate fails
#    without --cacert (the error names the certificate problem) or with another CA,
#    works with --cacert and with --insecure; a wrong password or none fails with 401;
#    a refused port fails at once, a silent one within --timeout, and meanwhile the
#    password shows in neither ps nor /proc/PID/cmdline or environ;
# 3. the driver's dry run (monitor + status, nothing powered off), and with ssl_verify on
#    it fails on the certificate;
# 4. a BMC that cannot power off (fence_lab told to fail): off fails, the host lives; a
#    BMC that accepts ForceOff but stays On: off fails at --timeout, the host lives;
# 5. off with the right password: exit 0, the sleep is gone, status says off (2), off
#    again succeeds (already off), the driver's dry run says off;
# 6. the driver fences for real through a BMC that powers off a second after answering
#    (the tool polls PowerState), and fails with 401 on a wrong password.
# The password never shows in any output or log. Needs root (network namespaces),
# openssl and python3; otherwise it says why and exits 77 (skipped).
set -u

tool=$1 drvrun=$2
# shellcheck source=tests/lib/common.sh
. "${HAX_SOURCE:?}/tests/lib/common.sh"

need_root "a network namespace for the lab host"
need_tool ip iproute2
need_tool openssl openssl
need_tool flock util-linux
[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3 (Debian package python3)"

fail() {
	echo "FAIL: $*"
	for f in "$T"/*.log "$T"/*/requests.log "$T"/*.out "$T"/*.err; do
		[ -f "$f" ] && { echo "--- $f"; cat "$f"; }
	done
	exit 1
}

LAB=$S/scripts/redfish_lab
NSNAME=haxr-h1
PW=hunter2-Rf.pw # never to be seen in any output
export HAX_LAB_NS=haxr- HAX_LAB_DIR=$T/lab HAX_FENCE_REDFISH=$tool

# One run at a time on this machine: the namespace name is fixed.
lockdir=/run/lock
[ -d "$lockdir" ] || lockdir=/tmp
exec 9>"$lockdir/hax-test-haxr-h1.lock"
flock -w 170 9 || skip "another run of this test holds $NSNAME"

drop_ns() {
	local pids
	pids=$(ip netns pids $NSNAME 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids
	ip netns del $NSNAME 2>/dev/null
	return 0
}
CLEANUPS+=("drop_ns")

alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }

# start_sleep: a process "running on" haxr-h1; sets SLEEP.
start_sleep() {
	ip netns exec $NSNAME sleep 600 &
	SLEEP=$!
	disown $SLEEP # its death is expected: no job notice
	PIDS+=("$SLEEP")
	wait_for 5 "sleep inside $NSNAME" sh -c "ip netns pids $NSNAME | grep -qx $SLEEP" ||
		fail "the sleep never showed up in $NSNAME"
}

# start_lab NAME [OPTIONS...]: a redfish_lab for h1 on a free port; sets port.
start_lab() {
	local name=$1
	shift
	"$LAB" --listen 127.0.0.1:0 --cert "$T/cert.pem" --key "$T/key.pem" --user admin \
		--password-file "$T/pw" --host h1 --state-dir "$T/$name" "$@" >"$T/$name.log" 2>&1 &
	LAB_PID=$!
	disown "$LAB_PID" # killed by cleanup: no job notice
	PIDS+=("$LAB_PID")
	wait_for 10 "redfish_lab $name" test -s "$T/$name/port" || fail "redfish_lab $name did not start"
	port=$(cat "$T/$name/port")
}

no_secret() {
	! grep -qF -- "$PW" "$T/$1.out" "$T/$1.err" 2>/dev/null || fail "$1: the password was printed"
}

# rt WANT NAME STDIN ARGS...: run the tool with STDIN as its first line; stdout in
# $T/NAME.out, stderr in $T/NAME.err.
rt() {
	local want=$1 name=$2 input=$3 rc
	shift 3
	printf '%s\n' "$input" | "$tool" "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	no_secret "$name"
	[ "$rc" = "$want" ] || fail "$name: '$*' exited $rc, expected $want: $(cat "$T/$name.err")"
	if [ -s "$T/$name.err" ]; then
		note "$name: exit $rc: $(head -1 "$T/$name.err")"
	else
		note "$name: exit $rc: $(tail -1 "$T/$name.out")"
	fi
}
has() { grep -Eq -- "$2" "$T/$1.$3" || fail "$1: no line matching '$2' on std$3"; }
one_err_line() {
	if [ "$(wc -l <"$T/$1.err")" != 1 ] || ! grep -q '^hax-fence-redfish: ' "$T/$1.err"; then
		fail "$1: expected one 'hax-fence-redfish: ' line on stderr"
	fi
}

# drv WANT NAME ARGS...: the driver through redfish_driver_run; output in $T/NAME.out.
drv() {
	local want=$1 name=$2 rc
	shift 2
	"$drvrun" --host h1 --username admin "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	no_secret "$name"
	[ "$rc" = "$want" ] || fail "$name: driver run exited $rc, expected $want: $(cat "$T/$name.out")"
	note "$name: $(cat "$T/$name.out")"
}
ms_of() { sed -n 's/^result -\{0,1\}[0-9]* in \([0-9]*\) ms:.*/\1/p' "$T/$1.out"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

drop_ns # a leftover of an interrupted run
ip netns add $NSNAME || fail "cannot create network namespace $NSNAME"
mkdir -p "$HAX_LAB_DIR/h1"
stat -L -c %i /run/netns/$NSNAME >"$HAX_LAB_DIR/h1/netns.ino"
start_sleep

printf '%s\n' "$PW" >"$T/pw"
printf 'not-the-password\n' >"$T/pw-wrong"
chmod 600 "$T/pw" "$T/pw-wrong"
for c in cert other; do
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -days 1 \
		-keyout "$T/${c/cert/}key.pem" -out "$T/$c.pem" >"$T/openssl.out" 2>&1 ||
		fail "openssl could not make a certificate"
done

# 1. usage
note "usage errors"
U=https://127.0.0.1:9
rt 2 u1 ""
rt 2 u2 "" frobnicate --url $U
rt 2 u3 "" status
rt 2 u4 "" status --url http://127.0.0.1:9
rt 2 u5 "" status --url "https://admin:$PW@127.0.0.1:9"
rt 2 u6 "" status --url $U/redfish/v1
rt 2 u7 "" status --url $U --timeout 0
rt 2 u8 "" status --url $U --insecure --cacert "$T/cert.pem"
rt 2 u9 "" status --url $U --system "a b"
rt 2 u10 "" status --url $U --username "ad:min"
rt 2 u11 "" off status --url $U
rt 0 help "" --help
has help '^usage: hax-fence-redfish off\|status\|monitor --url' out

start_lab bmc
A=https://127.0.0.1:$port
CA=(--cacert "$T/cert.pem")
LOGIN=(--username admin)

# 2. answers, TLS, logins
note "monitor and status through $A"
rt 0 monitor "" monitor --url "$A" "${CA[@]}"
has monitor '^Success: https://127.0.0.1:[0-9]+/redfish/v1 answers \(RedfishVersion 1.6.0\)' out
rt 0 status-on "$PW" status --url "$A" "${LOGIN[@]}" "${CA[@]}"
has status-on '^Status: ON \(/redfish/v1/Systems/h1: PowerState On\)' out
rt 0 status-system "$PW" status --url "$A/" "${LOGIN[@]}" "${CA[@]}" --system /redfish/v1/Systems/h1
rt 0 status-id "$PW" status --url "$A" "${LOGIN[@]}" "${CA[@]}" --system h1
rt 1 status-no-such "$PW" status --url "$A" "${LOGIN[@]}" "${CA[@]}" --system h9
has status-no-such 'Systems/h9: HTTP 404 Not Found' err

note "a BMC of several systems"
start_lab multi --extra-system h9
M=https://127.0.0.1:$port
rt 1 multi "$PW" status --url "$M" "${LOGIN[@]}" "${CA[@]}"
has multi '2 systems listed \(the first is /redfish/v1/Systems/h1\): name one with --system' err
rt 1 multi-off "$PW" off --url "$M" "${LOGIN[@]}" "${CA[@]}"
has multi-off '2 systems listed' err
rt 0 multi-named "$PW" status --url "$M" "${LOGIN[@]}" "${CA[@]}" --system h1
kill -9 "$LAB_PID"

note "TLS verification is on by default"
rt 1 tls-default "$PW" status --url "$A" "${LOGIN[@]}"
one_err_line tls-default
has tls-default 'certificate' err
rt 1 tls-other-ca "$PW" status --url "$A" "${LOGIN[@]}" --cacert "$T/other.pem"
has tls-other-ca 'certificate' err
rt 1 tls-monitor "" monitor --url "$A"
has tls-monitor 'certificate' err
rt 0 tls-insecure "$PW" status --url "$A" "${LOGIN[@]}" --insecure

note "logins"
rt 1 wrong-pw "not-the-password" status --url "$A" "${LOGIN[@]}" "${CA[@]}"
one_err_line wrong-pw
has wrong-pw 'HTTP 401 Unauthorized' err
rt 1 wrong-user "$PW" status --url "$A" --username root "${CA[@]}"
has wrong-user 'HTTP 401' err
rt 1 no-login "" status --url "$A" "${CA[@]}"
has no-login 'HTTP 401' err
rt 1 wrong-pw-off "not-the-password" off --url "$A" "${LOGIN[@]}" "${CA[@]}"
has wrong-pw-off 'HTTP 401' err
alive "$SLEEP" || fail "off with a wrong password powered the host off"

note "unreachable BMCs"
t0=$(now_ms)
rt 1 refused "$PW" status --url https://127.0.0.1:1 "${LOGIN[@]}" --timeout 5s
one_err_line refused
[ $(($(now_ms) - t0)) -lt 3000 ] || fail "refused: took $(($(now_ms) - t0)) ms"
# A port that accepts connections (the kernel's backlog) and never says a word.
python3 -c '
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)' "$T/silent.port" &
PIDS+=($!)
disown $!
wait_for 5 "silent listener" test -s "$T/silent.port" || fail "no silent listener"
t0=$(now_ms)
printf '%s\n' "$PW" | "$tool" off --url "https://127.0.0.1:$(cat "$T/silent.port")" \
	"${LOGIN[@]}" --insecure --timeout 3s >"$T/silent.out" 2>"$T/silent.err" &
tpid=$!
PIDS+=("$tpid")
running() { tr '\0' ' ' <"/proc/$tpid/cmdline" | grep -q "hax-fence-redfish off --url"; }
wait_for 5 "the tool running" running || fail "the tool did not start"
sleep 0.5
alive "$tpid" || fail "silent: the tool ended early: $(cat "$T/silent.err")"
grep -qF -- "$PW" "/proc/$tpid/cmdline" && fail "the password is in the tool's /proc/PID/cmdline"
grep -qF -- "$PW" "/proc/$tpid/environ" && fail "the password is in the tool's environment"
ps -eo pid,args >"$T/ps.out"
grep -q "hax-fence-redfish off --url" "$T/ps.out" || fail "ps does not show the tool"
no_secret ps
wait "$tpid"
rc=$?
el=$(($(now_ms) - t0))
no_secret silent
[ "$rc" = 1 ] || fail "silent: exit $rc, expected 1"
[ "$el" -ge 2500 ] && [ "$el" -lt 6000 ] || fail "silent: took $el ms with --timeout 3s"
one_err_line silent
grep -Eiq 'timed out|timeout' "$T/silent.err" || fail "silent: the error does not say it timed out"
note "silent: exit 1 after $el ms: $(cat "$T/silent.err")"

# 3. the driver's dry run
note "driver dry run"
drv 0 dry-on --url "$A" --password-file "$T/pw" --no-ssl-verify --timeout 10s --dry-run
has dry-on '^result 0 in [0-9]+ ms: redfish: the BMC answers; h1 is on \(Status: ON ' out
drv 1 dry-verify --url "$A" --password-file "$T/pw" --timeout 10s --dry-run
has dry-verify 'redfish monitor of h1: exit 1: hax-fence-redfish: monitor: .*certificate' out
grep -q '^POST' "$T/bmc/requests.log" && fail "a dry run or a refused off sent a POST"
alive "$SLEEP" || fail "the host died before any fence"

# 4. BMCs that do not power off
note "a BMC whose power switch fails"
touch "$HAX_LAB_DIR/fence_lab.fail.h1"
rt 1 bmc-fails "$PW" off --url "$A" "${LOGIN[@]}" "${CA[@]}"
has bmc-fails 'HTTP 500 Internal Server Error' err
rm -f "$HAX_LAB_DIR/fence_lab.fail.h1"
alive "$SLEEP" || fail "the host died although the BMC failed"

note "a BMC that accepts ForceOff and stays on"
start_lab stuck --off-delay 120
t0=$(now_ms)
rt 1 stays-on "$PW" off --url "https://127.0.0.1:$port" "${LOGIN[@]}" "${CA[@]}" --timeout 2s
el=$(($(now_ms) - t0))
kill -9 "$LAB_PID" # before its delayed off could happen
has stays-on '^ForceOff accepted \(HTTP 204\)' out
has stays-on 'PowerState still On after ForceOff' err
[ "$el" -lt 4000 ] || fail "stays-on: took $el ms with --timeout 2s"
alive "$SLEEP" || fail "the host died"

# 5. off
note "off"
rt 0 off "$PW" off --url "$A" "${LOGIN[@]}" "${CA[@]}"
has off '^ForceOff accepted \(HTTP 204\)' out
has off '^Success: Powered OFF \(/redfish/v1/Systems/h1: PowerState Off after' out
alive "$SLEEP" && fail "the sleep in $NSNAME survived off"
[ -z "$(ip netns pids $NSNAME)" ] || fail "$NSNAME still has processes after off"
rt 2 status-off "$PW" status --url "$A" "${LOGIN[@]}" "${CA[@]}"
has status-off '^Status: OFF \(/redfish/v1/Systems/h1: PowerState Off\)' out
rt 0 off-again "$PW" off --url "$A" "${LOGIN[@]}" "${CA[@]}"
has off-again '^Success: Already OFF' out
drv 0 dry-off --url "$A" --password-file "$T/pw" --no-ssl-verify --timeout 10s --dry-run
has dry-off 'redfish: the BMC answers; h1 is off \(Status: OFF ' out
[ "$(grep -c '^POST .*ComputerSystem.Reset 204' "$T/bmc/requests.log")" = 1 ] ||
	fail "expected exactly one successful ForceOff"

# 6. the driver fences, through a BMC that powers off a second after it answers
note "driver fence"
start_sleep
start_lab slow --off-delay 1
S1=https://127.0.0.1:$port
drv 1 fence-wrong-pw --url "$S1" --password-file "$T/pw-wrong" --no-ssl-verify --timeout 10s
has fence-wrong-pw '^result -[0-9]+ in [0-9]+ ms: redfish off of h1: exit 1: .*HTTP 401' out
alive "$SLEEP" || fail "a fence with a wrong password powered the host off"
drv 0 fence --url "$S1" --password-file "$T/pw" --plug /redfish/v1/Systems/h1 --no-ssl-verify \
	--timeout 10s
has fence '^result 0 in [0-9]+ ms: redfish: h1 is off \(Success: Powered OFF ' out
[ "$(ms_of fence)" -ge 1000 ] || fail "fence: confirmed before the BMC powered off"
alive "$SLEEP" && fail "the sleep in $NSNAME survived the fence"
[ "$(grep -c '^GET /redfish/v1/Systems/h1 200' "$T/slow/requests.log")" -ge 3 ] ||
	fail "the tool did not poll PowerState"

! grep -qF -- "$PW" "$T"/*.log "$T"/*/requests.log || fail "a BMC log holds the password"
note "all redfish checks passed"
