#!/bin/bash
# haxctl over libqb IPC against a standalone haxd: permissions (root, the client group,
# anyone else refused), clear errors with exit 1, usage errors with exit 2, --json shape.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "to run haxctl as another user and to create a group"
need_tool setpriv util-linux

export HAX_IPC="hax-it-ipc-$$"
expect() { # expect CODE PATTERN CMD...: exit status and a line of output (stdout+stderr)
	local code=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code: $out"
	echo "$out" | grep -q -- "$pat" || fail "'$*' printed [$out], expected /$pat/"
}

expect 1 "haxd is not running" "$B/haxctl" status

# Two roles, each a group with a real non-root member (as /etc/group lists it): the
# operators (client_group) and the monitors (monitor_group).
group=haxtest$$ mgroup=haxmon$$ ouser=haxop$$ muser=haxmo$$ luser=haxla$$
for g in "$group" "$mgroup"; do
	groupadd "$g" || fail "groupadd $g"
	CLEANUPS+=("groupdel $g")
done
for u in "$ouser" "$muser" "$luser"; do
	useradd -M -N -g nogroup -s /usr/sbin/nologin "$u" || fail "useradd $u"
	CLEANUPS=("userdel $u" "${CLEANUPS[@]}")
done
usermod -a -G "$group" "$ouser" && usermod -a -G "$mgroup" "$muser" || fail "usermod"
gid=$(getent group "$group" | cut -d: -f3)
mgid=$(getent group "$mgroup" | cut -d: -f3)
cat >"$T/haxd.conf" <<CONF
[cluster]
name = ipctest
driver = sim
state_dir = $T/state
client_group = $group
monitor_group = $mgroup
tick = 500ms
stop_timeout = 5s
[host h1]
nodeid = 1
memory = 1G
vcpus = 4
CONF
CLEANUPS+=('for f in $T/state/sim/*/pid; do kill -9 $(cat $f); done')
haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not start"
as() { # as USER CMD...: run as that user with the groups the group database gives it
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups "$@"
}

expect 0 "Cluster ipctest" "$B/haxctl" status
expect 1 "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups "$B/haxctl" status
expect 0 "Cluster ipctest" setpriv --reuid=65534 --regid="$gid" --clear-groups "$B/haxctl" status
# The role comes from the connection's credentials and the group database, not from
# /proc/PID: a supplementary group the database does not list gives nothing.
expect 1 "permission denied" setpriv --reuid=65534 --regid=65534 --groups="$gid" "$B/haxctl" status
expect 0 "Cluster ipctest" as "$ouser" "$B/haxctl" status
expect 0 "Cluster ipctest" as "$muser" "$B/haxctl" status
expect 0 "Worst-case failover" as "$muser" "$B/haxctl" explain-failover
expect 0 "" as "$muser" "$B/haxctl" events
for c in "reload" "fence h1" "fence-ack h1 --yes-i-checked-it-is-off" "maintenance h1 on" \
	"evacuate h1" "migrate web1 h1" "domain enable web1" "domain disable web1" "domain remove web1"; do
	# shellcheck disable=SC2086
	expect 1 "permission denied: .* needs the operator role" as "$muser" "$B/haxctl" $c
done
expect 1 "permission denied" as "$luser" "$B/haxctl" status
# Membership is cached: a user added to a group is served after a reload, not before.
usermod -a -G "$mgroup" "$luser" || fail "usermod $luser"
expect 1 "permission denied" as "$luser" "$B/haxctl" status
expect 0 "configuration reloaded" "$B/haxctl" reload
expect 0 "Cluster ipctest" as "$luser" "$B/haxctl" status
expect 1 "permission denied: reload needs the operator role" as "$luser" "$B/haxctl" reload
note "permissions: root and operators all, monitors read only, nobody refused, membership read at reload"

# Checking a client consults neither the user and group databases (NSS: files, LDAP...)
# on haxd's loop, where a slow directory would stall the whole daemon, nor /proc/PID
# after the fact (a client can exit and its pid be reused): the connection's credentials
# (SO_PEERCRED) and the member lists read at start and reload decide (issue 12 item 13,
# issue 14 item 4).
if command -v strace >/dev/null; then
	strace -f -qq -p "$HAXD_PID" -e trace=openat,open,connect -o "$T/nss.strace" &
	spid=$!
	sleep 0.5
	setpriv --reuid=65534 --regid="$gid" --clear-groups "$B/haxctl" status >/dev/null ||
		fail "nobody with effective group $group not served under strace"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$B/haxctl" status >/dev/null 2>&1
	kill -INT $spid; wait $spid 2>/dev/null
	! grep -q "/proc/[0-9]*/status" "$T/nss.strace" || fail "haxd read a client's /proc/PID/status"
	! grep -E '/etc/(passwd|group|nsswitch.conf)|nscd|libnss_' "$T/nss.strace" ||
		fail "haxd consulted NSS on its loop to check a client"
	note "client checks read the connection's credentials only: no NSS lookup, no /proc"
else
	echo "strace not installed: NSS check skipped"
fi

expect 2 "unknown command" "$B/haxctl" frobnicate
expect 2 "missing command" "$B/haxctl"
expect 2 "--config FILE is required" "$B/haxctl" domain add web1
expect 2 "invalid domain name" "$B/haxctl" domain add "a b" --config /dev/null
expect 2 "not a number" "$B/haxctl" domain add web1 --config /dev/null --memory lots
expect 2 "No such file" "$B/haxctl" domain add web1 --config "$T/missing.cfg"
expect 2 "unexpected argument" "$B/haxctl" status --jsn
expect 0 "Usage: haxctl" "$B/haxctl" --help

echo "interval = 20ms" >"$T/nodisk.cfg"
expect 1 "invalid definition" "$B/haxctl" domain add web1 --config "$T/nodisk.cfg"
truncate -s 1M "$T/web1.img"
printf 'disk = %s\n' "$T/web1.img" >"$T/web1.cfg"
expect 0 "added" "$B/haxctl" domain add web1 --config "$T/web1.cfg" --memory 64 --priority 5 \
	--anti-affinity db --prefer h1
expect 1 "already exists" "$B/haxctl" domain add web1 --config "$T/web1.cfg"
expect 1 "no such domain: nope" "$B/haxctl" domain enable nope
wait_for 20 "web1 running" dom_is web1 running || fail "web1 not running"
expect 1 "disable it" "$B/haxctl" domain remove web1
expect 0 "web1 .*running" "$B/haxctl" domain list
# Migration commands: usage errors (2) and refusals (1) that lose nothing.
expect 2 "evacuate HOST" "$B/haxctl" evacuate
expect 2 "concurrency nine: expected 1..64" "$B/haxctl" evacuate h1 --concurrency nine
expect 2 "do not go together" "$B/haxctl" evacuate h1 --dry-run --wait
expect 2 "takes no other option" "$B/haxctl" evacuate --abort h1 --wait
expect 2 "maintenance HOST on" "$B/haxctl" maintenance h1 maybe
expect 2 "migrate DOMAIN HOST" "$B/haxctl" migrate web1
expect 1 "no such host: h9" "$B/haxctl" evacuate h9
expect 1 "no such host: h9" "$B/haxctl" migrate web1 h9
expect 1 "no evacuation of h1 is under way" "$B/haxctl" evacuate --abort h1
expect 1 "already runs on that host" "$B/haxctl" migrate web1 h1
expect 1 "It does not fit: 1 domain" "$B/haxctl" evacuate h1 --dry-run
expect 0 "maintenance on" "$B/haxctl" maintenance h1 on
expect 0 "web1 .*running" "$B/haxctl" domain list
expect 0 "maintenance off" "$B/haxctl" maintenance h1 off
note "migrate/evacuate/maintenance: usage errors, refusals, a lone host's plan does not fit"

# The documented --json shape.
"$B/haxctl" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
for k in ("name", "quorate", "leader", "epoch"): assert k in s["cluster"], k
h = s["hosts"][0]
for k in ("name", "nodeid", "state", "maintenance", "mem_total_mib", "mem_free_mib", "domains"): assert k in h, k
d = s["domains"][0]
for k in ("name", "state", "host", "priority", "incarnation", "memory_mib", "vcpus"): assert k in d, k
assert d["priority"] == 5 and d["memory_mib"] == 64 and d["host"] == "h1", d
assert h["mem_total_mib"] == 1024 and h["mem_free_mib"] == 960 and h["domains"] == ["web1"], h
' || fail "status --json shape"

# Reload: an invalid file is refused line by line and the running configuration kept;
# SIGHUP does the same; a valid file is applied.
cp "$T/haxd.conf" "$T/haxd.conf.good"
printf '[cluster]\nname = ipctest\nbogus = 1\n' >"$T/haxd.conf"
expect 1 "$T/haxd.conf:3: unknown key" "$B/haxctl" reload
kill -HUP "$HAXD_PID"
wait_for 5 "SIGHUP logged" grep -q "haxd.conf:3: unknown key" "$T/haxd.log" || fail "SIGHUP reload did not log file:line"
expect 0 "Cluster ipctest" "$B/haxctl" status
sed 's/^tick = 500ms/tick = 300ms/' "$T/haxd.conf.good" >"$T/haxd.conf"
out=$("$B/haxctl" reload) || fail "valid reload refused: $out"
[ "$out" = "configuration reloaded" ] || fail "a reload of [cluster] keys only should need no restart: $out"
grep -q "reload: .* applied" "$T/haxd.log" || fail "no reload line in the log"
# What only a restart applies is named, in the reply and the log, and nothing else.
sed 's/^tick = 500ms/tick = 300ms/; s/^vcpus = 4/vcpus = 6/' "$T/haxd.conf.good" >"$T/haxd.conf"
printf '[storage san]\nportal = 10.0.0.9\ntarget = iqn.2026-11.org.example:san\n' >>"$T/haxd.conf"
expect 0 "^\[host h1\] changed: takes effect when haxd restarts" "$B/haxctl" reload
expect 0 "^\[storage san\] added: takes effect when haxd restarts" "$B/haxctl" reload
grep -q "reload: \[host h1\] changed: takes effect when haxd restarts" "$T/haxd.log" ||
	fail "the restart-needed change was not logged"
cp "$T/haxd.conf.good" "$T/haxd.conf"
note "reload: invalid file refused with file:line (haxctl and SIGHUP), valid one applied, what needs a restart named"

expect 1 "permission denied" as "$muser" "$B/haxctl" domain disable web1
expect 0 "disabled" as "$ouser" "$B/haxctl" domain disable web1
wait_for 20 "web1 disabled" dom_is web1 disabled || fail "web1 not disabled"
expect 0 "removed" "$B/haxctl" domain remove web1
expect 1 "no such domain" "$B/haxctl" domain remove web1
echo "PASS"
