#!/bin/bash
# The systemd unit passes systemd-analyze verify, and haxd speaks sd_notify: READY=1
# after its first sync, STATUS with its role and quorum, WATCHDOG=1 when asked.
. "$HAX_SOURCE/tests/lib/common.sh"
need_tool python3 python3

if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|^ExecStart=.*|ExecStart=$B/haxd -c $T/haxd.conf|" "$B/haxd.service" >"$T/haxd.service"
	# Documentation= names man pages, which verify looks up with man: the built ones.
	mkdir -p "$T/man/man5" "$T/man/man8"
	cp "$B"/man/*.5 "$T/man/man5/" && cp "$B"/man/*.8 "$T/man/man8/" || fail "man pages not built"
	out=$(MANPATH=$T/man systemd-analyze verify "$T/haxd.service" 2>&1) ||
		fail "systemd-analyze verify: $out"
	echo "$out" | grep -i "haxd.service" && fail "systemd-analyze complains about the unit"
	cp "$B/hax-metrics.service" "$S/systemd/hax-metrics.timer" "$T/" || fail "no hax-metrics units"
	out=$(MANPATH=$T/man systemd-analyze verify "$T/hax-metrics.service" "$T/hax-metrics.timer" 2>&1) ||
		fail "systemd-analyze verify hax-metrics: $out"
	echo "$out" | grep -i "hax-metrics" && fail "systemd-analyze complains about hax-metrics"
	grep -q "^KillMode=process" "$T/haxd.service" || fail "KillMode=process missing"
	grep -q "^Type=notify" "$T/haxd.service" || fail "Type=notify missing"
	note "systemd-analyze verify: clean"
else
	note "systemd-analyze not installed: unit not verified"
fi

export HAX_IPC="hax-it-systemd-$$"
cat >"$T/haxd.conf" <<CONF
[cluster]
name = sdtest
driver = sim
state_dir = $T/state
tick = 200ms
[host h1]
nodeid = 1
CONF
# A notification socket like systemd's; the listener records what arrives.
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(15)
end = time.time() + 15
with open(sys.argv[2], "w") as log:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        log.write(msg.replace("\n", " | ") + "\n")
        log.flush()
PY
PIDS+=($!)
wait_for 5 "notify socket" test -S "$T/notify.sock" || fail "no notify socket"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 WATCHDOG_PID= \
	"$B/haxd" -f -s -c "$T/haxd.conf" -H h1 >"$T/haxd.log" 2>&1 &
PIDS+=($!)
wait_for 10 "READY=1" grep -q "READY=1" "$T/notify.log" || { cat "$T/haxd.log"; fail "no READY=1"; }
grep "READY=1" "$T/notify.log" | grep -q "STATUS=leader, quorate" || fail "STATUS: $(cat "$T/notify.log")"
wait_for 5 "WATCHDOG=1" grep -q "WATCHDOG=1" "$T/notify.log" || fail "no watchdog ping: $(cat "$T/notify.log")"
note "sd_notify: $(head -1 "$T/notify.log")"
echo PASS
