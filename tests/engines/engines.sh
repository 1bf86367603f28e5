#!/bin/bash
# check_haxd under the monitoring engines of Debian 12, headless (no web UI): nagios4 and
# icinga2 run side by side as root, every path of theirs (configuration, state, spool,
# command pipe, logs, perfdata) in this test's private directory, and watch one lab
# (3 hosts, 3 domains). The plugin talks to the local haxd over libqb IPC, so both
# engines run it inside lab host h2 through `scripts/hax-lab exec h2`.
#
# What is asserted comes from the engines' own records: Nagios's status.dat, its perfdata
# file and its log (SERVICE ALERT lines), with checks forced through its command file;
# Icinga 2's PerfdataWriter files, and what its GraphiteWriter sent to a loopback
# listener (Icinga parses every perfdata label into a metric there). The story:
#   all hosts up                                           OK
#   BMC told to fail, leader h1 powered off: fencing fails CRITICAL (fence_failures)
#   BMC works again: h1 fenced, its domains recovered      WARNING  (hosts_fenced)
#   h1 powered on and online again                         OK
# and leader_changes has grown by 2 on h2 (h1 -> h2 -> h1).
. "$HAX_SOURCE/tests/lab/lib.sh"
need_tool nagios4 nagios4-core
need_tool icinga2 icinga2-bin
need_tool setsid util-linux
# This test's own lab: namespaces and tgtd port apart from tests/lab's (lib.sh's values).
export HAX_LAB_NS=hxe- HAX_LAB_TGT_CTL=4545
case "$S$B$T" in *[[:space:]]*) fail "paths with blanks are not supported: $S $B $T" ;; esac

R="$S/tests/engines/records.py"
NG=$T/nagios
IC=$T/icinga
mkdir -p "$NG/checkresults" "$NG/tmp" "$IC"/{lib,log,cache,spool,run}
# The plugin inside h2, with the lab's settings spelled out: engines do not promise to pass
# their own environment on to checks.
PLUGIN="/usr/bin/env HAX_LAB_DIR=$HAX_LAB_DIR HAX_LAB_NS=$HAX_LAB_NS HAX_LAB_TGT_CTL=$HAX_LAB_TGT_CTL HAX_BUILD_DIR=$B $S/scripts/hax-lab exec h2 $B/check_haxd"
# One result line per check, the same in both engines: TIMET, state, perfdata, output.
NG_TEMPLATE='$TIMET$\t$SERVICESTATE$\t$SERVICEPERFDATA$\t$SERVICEOUTPUT$'
IC_TEMPLATE='$icinga.timet$\t$service.state$\t$service.perfdata$\t$service.output$'

# stop_engine PID: TERM (icinga2's umbrella process forwards it to its worker), up to
# 10 s to exit, then KILL what is left of its process group (setsid made it its own).
stop_engine() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- "-$pid" 2>/dev/null
	return 0
}

# ---- Nagios ---------------------------------------------------------------------------

nagios_config() {
	cat >"$NG/nagios.cfg" <<EOF
cfg_file=$NG/objects.cfg
log_file=$NG/nagios.log
log_rotation_method=n
use_syslog=0
object_cache_file=$NG/objects.cache
precached_object_file=$NG/objects.precache
status_file=$NG/status.dat
status_update_interval=1
lock_file=$NG/nagios.pid
temp_file=$NG/nagios.tmp
temp_path=$NG/tmp
check_result_path=$NG/checkresults
query_socket=$NG/nagios.qh
command_file=$NG/nagios.cmd
check_external_commands=1
nagios_user=root
nagios_group=root
retain_state_information=0
state_retention_file=$NG/retention.dat
interval_length=1
enable_notifications=0
enable_flap_detection=0
process_performance_data=1
service_perfdata_file=$NG/service-perfdata
service_perfdata_file_template=$NG_TEMPLATE
service_perfdata_file_mode=a
service_perfdata_file_processing_interval=0
illegal_macro_output_chars=\`
debug_level=0
debug_file=$NG/debug.log
EOF
	cat >"$NG/objects.cfg" <<EOF
define timeperiod {
	timeperiod_name always
	alias always
	sunday 00:00-24:00
	monday 00:00-24:00
	tuesday 00:00-24:00
	wednesday 00:00-24:00
	thursday 00:00-24:00
	friday 00:00-24:00
	saturday 00:00-24:00
}
define command {
	command_name true
	command_line /bin/true
}
define command {
	command_name check_haxd
	command_line $PLUGIN \$ARG1\$
}
define contact {
	contact_name nobody
	host_notifications_enabled 0
	service_notifications_enabled 0
	host_notification_period always
	service_notification_period always
	host_notification_options n
	service_notification_options n
	host_notification_commands true
	service_notification_commands true
}
define host {
	host_name hax-lab
	address 127.0.0.1
	check_command true
	max_check_attempts 1
	check_period always
	notification_period always
	notifications_enabled 0
	notification_interval 0
	contacts nobody
}
define service {
	host_name hax-lab
	service_description haxd
	check_command check_haxd!-t 10
	max_check_attempts 1
	check_interval 5
	retry_interval 5
	check_period always
	notification_period always
	notifications_enabled 0
	notification_interval 0
	contacts nobody
}
EOF
}

NG_PID=
start_nagios() {
	local out
	nagios_config
	out=$(nagios4 -v "$NG/nagios.cfg" 2>&1) || fail "nagios4 -v rejects the configuration: $out"
	setsid nagios4 "$NG/nagios.cfg" </dev/null >"$NG/nagios.out" 2>&1 &
	NG_PID=$!
	CLEANUPS+=("stop_engine $NG_PID")
	wait_for 20 "nagios4's command file" test -p "$NG/nagios.cmd" ||
		fail "nagios4 did not start: $(tail -5 "$NG/nagios.out")"
}

NG_FORCED=0
# nagios_has STATE SINCE: status.dat shows STATE from a check started at or after SINCE.
# If not, force a check through the command file, unless the last one is still pending.
nagios_has() {
	local want=$1 since=$2 st last now
	read -r st last _ < <(python3 "$R" nagios-status "$NG/status.dat" hax-lab haxd 2>/dev/null)
	[ "$st" = "$want" ] && [ "${last:-0}" -ge "$since" ] && return 0
	now=$(date +%s)
	if [ "${last:-0}" -ge "$NG_FORCED" ] || [ $((now - NG_FORCED)) -ge 5 ]; then
		NG_FORCED=$now
		printf '[%s] SCHEDULE_FORCED_SVC_CHECK;hax-lab;haxd;%s\n' "$now" "$now" |
			timeout 5 tee -a "$NG/nagios.cmd" >/dev/null
	fi
	return 1
}

# ---- Icinga 2 -------------------------------------------------------------------------

icinga_config() {
	local port=$1
	cat >"$IC/icinga2.conf" <<EOF
include <itl>

object FileLogger "main-log" {
	severity = "information"
	path = "$IC/log/icinga2.log"
}
object CheckerComponent "checker" { }
object PerfdataWriter "perfdata" {
	host_perfdata_path = "$IC/spool/host-perfdata"
	service_perfdata_path = "$IC/spool/service-perfdata"
	host_temp_path = "$IC/spool/host-perfdata.tmp"
	service_temp_path = "$IC/spool/service-perfdata.tmp"
	service_format_template = "$IC_TEMPLATE"
	rotation_interval = 1s
}
object GraphiteWriter "graphite" {
	host = "127.0.0.1"
	port = $port
	enable_send_thresholds = true
	enable_send_metadata = true
}

object CheckCommand "check_haxd" {
	command = [ "${PLUGIN// /\", \"}" ]
	arguments = { "-t" = "\$haxd_timeout\$" }
	vars.haxd_timeout = 10
	timeout = 30s
}
object Host "hax-lab" {
	check_command = "dummy"
	check_interval = 60s
}
object Service "haxd" {
	host_name = "hax-lab"
	check_command = "check_haxd"
	check_interval = 1s
	retry_interval = 1s
	max_check_attempts = 1
}
EOF
}

# Icinga's directories, and its own user: root, because the plugin enters h2's namespaces.
IC_DEFS=(-DDataDir="$IC/lib" -DLogDir="$IC/log" -DCacheDir="$IC/cache" -DSpoolDir="$IC/spool"
	-DInitRunDir="$IC/run" -DRunAsUser=root -DRunAsGroup=root)
IC_PID=
SINK_PID=
start_icinga() {
	local out
	setsid python3 "$S/tests/engines/sink.py" "$IC/graphite.txt" "$IC/graphite.port" \
		</dev/null >"$IC/sink.log" 2>&1 &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	wait_for 10 "the Graphite listener" test -s "$IC/graphite.port" || fail "sink.py: $(cat "$IC/sink.log")"
	icinga_config "$(cat "$IC/graphite.port")"
	out=$(icinga2 daemon -C -c "$IC/icinga2.conf" "${IC_DEFS[@]}" 2>&1) ||
		fail "icinga2 daemon -C rejects the configuration: $(echo "$out" | tail -5)"
	setsid icinga2 daemon -c "$IC/icinga2.conf" "${IC_DEFS[@]}" </dev/null >"$IC/icinga2.out" 2>&1 &
	IC_PID=$!
	CLEANUPS+=("stop_engine $IC_PID")
	wait_for 30 "icinga2's checker" grep -q "'checker' started" "$IC/log/icinga2.log" ||
		fail "icinga2 did not start: $(tail -5 "$IC/icinga2.out")"
}

# icinga_has STATE SINCE: Icinga's PerfdataWriter wrote a STATE result at or after SINCE.
icinga_has() { python3 "$R" recorded --since "$2" --state "$1" "$IC"/spool/service-perfdata.*; }

# ---- the story ------------------------------------------------------------------------

diag() {
	echo "nagios: $(python3 "$R" nagios-status "$NG/status.dat" hax-lab haxd 2>&1)"
	echo "icinga: $(cat "$IC"/spool/service-perfdata.* 2>/dev/null | sort -n | tail -1)"
	echo "h2 says: $(lab exec h2 "$B/check_haxd" 2>&1 | head -3)"
	echo "haxd's events and errors on h2 and h3:"
	grep -hE "notice [+-]|err|warning" "$HAX_LAB_DIR"/h[23]/haxd.log 2>/dev/null | sort -s -k3,3 | tail -25
	find "$HAX_LAB_DIR" -name console.log -newer "$NG/nagios.cfg" 2>/dev/null | while read -r f; do
		echo "$f:"
		tail -3 "$f"
	done
}

# both_record STATE SINCE BUDGET WHY: Nagios records STATE within BUDGET seconds (its
# checks are forced), then Icinga 2 within 20 s (it checks every second by itself).
both_record() {
	local want=$1 since=$2 budget=$3 why=$4
	wait_for "$budget" "Nagios records $want" nagios_has "$want" "$since" ||
		fail "Nagios did not record $want ($why): $(diag)"
	wait_for 20 "Icinga records $want" icinga_has "$want" "$since" ||
		fail "Icinga 2 did not record $want ($why): $(diag)"
	note "$why: Nagios and Icinga 2 recorded $want"
}

lab up --hosts 3 --domains 3 --fence power >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
[ "$(leader_of h2)" = h1 ] || fail "expected h1 to lead, got $(leader_of h2)"
note "lab up: 3 hosts, 3 domains, h1 leads"
start_nagios
start_icinga
note "nagios4 $(nagios4 --version 2>/dev/null | grep -o 'Nagios Core [0-9.]*' | head -1) and $(icinga2 --version | head -1 | grep -o 'r[0-9][0-9.]*') running"

both_record OK "$(date +%s)" 30 "all hosts up"
# GraphiteWriter drops metrics until it is connected, and it may connect only at its
# first reconnect tick (10 s): the story starts once metrics flow.
wait_for 30 "Icinga 2's metrics at the Graphite listener" \
	grep -q 'perfdata\.hosts_online\.value 3 ' "$IC/graphite.txt" ||
	fail "Icinga 2 sends no metrics: $(grep GraphiteWriter "$IC/log/icinga2.log")"
base=$(python3 "$R" nagios-status "$NG/status.dat" hax-lab haxd | grep -o 'leader_changes=[0-9]*c' | tr -dc 0-9)
[ -n "$base" ] || fail "no leader_changes in Nagios's perfdata: $(diag)"

lab fence-fail bmc1 on >/dev/null
t0=$(date +%s)
lab power-off h1 >/dev/null
both_record CRITICAL "$t0" 30 "h1 (the leader) powered off, its fence failing"

t0=$(date +%s)
lab fence-fail bmc1 off >/dev/null
# the retry comes after the fence backoff (2 s in the lab, doubled per failure)
both_record WARNING "$t0" 60 "the BMC back: h1 fenced"
wait_for 60 "h1's domains running elsewhere" holds h2 \
	"hosts['h1']['state'] == 'fenced' and all(d['state'] == 'running' for d in s['domains'])" ||
	fail "no recovery: $(st h2 "[(d['name'], d['state'], d['host'], d['reason']) for d in s['domains']]")
$(diag)"
t0=$(date +%s)
both_record WARNING "$t0" 30 "h1 fenced, its domains running on h2 and h3"

t0=$(date +%s)
lab power-on h1 >/dev/null
wait_for 60 "h1 online again" holds h2 "hosts['h1']['state'] == 'online'" ||
	fail "h1 did not rejoin: $(st h2 "hosts['h1']")"
both_record OK "$t0" 60 "h1 powered on and online"
# One more fresh result from each engine after h1 leads again, for the counter below
wait_for 30 "h1 leads again" holds h2 "s['cluster']['leader'] == 'h1'" || fail "h1 does not lead"
t0=$(( $(date +%s) + 1 ))
sleep 1
both_record OK "$t0" 30 "h1 leads again"

# ---- what the engines recorded ----------------------------------------------------------

story='^OK (WARNING )?CRITICAL WARNING OK$'
seq=$(python3 "$R" sequence "$NG/service-perfdata")
[[ "$seq" =~ $story ]] || fail "Nagios's perfdata file records the states \"$seq\""
alerts=$(python3 "$R" alerts "$NG/nagios.log" hax-lab haxd)
[[ "OK $alerts" =~ $story ]] || fail "Nagios's log alerts: \"$alerts\""
note "Nagios: results $seq; SERVICE ALERTs $alerts"
seq=$(python3 "$R" sequence "$IC"/spool/service-perfdata.*)
[[ "$seq" =~ $story ]] || fail "Icinga's PerfdataWriter records the states \"$seq\""
note "Icinga 2: results $seq"

want=$((base + 2))
read -r _ _ perf < <(python3 "$R" nagios-status "$NG/status.dat" hax-lab haxd)
for l in hosts_online=3 hosts_total=3 quorate=1 hosts_fenced=0 fence_failures=0 "leader_changes=${want}c"; do
	[[ " $perf" == *" $l;"* ]] || fail "Nagios's status.dat perfdata lacks $l: $perf"
done
note "Nagios status.dat: perfdata $perf"

# Icinga parsed each label on its own: every one reached Graphite as LABEL.value with the
# right number (Icinga drops a label it cannot parse, with a warning in its log), the
# counter with unit c included.
labels="domains_failed domains_recovering domains_running domains_stranded fence_failures hosts_fenced hosts_lost hosts_maintenance hosts_online hosts_total leader_changes quorate storage_unfenced tolerates_host_failures"
got=$(python3 "$R" graphite "$IC/graphite.txt")
[ "$(echo "$got" | awk '{print $1}' | tr '\n' ' ')" = "$labels " ] ||
	fail "Icinga's parsed perfdata labels: $(echo "$got" | tr '\n' ' ')"
for l in "hosts_online 3" "hosts_total 3" "quorate 1" "hosts_fenced 0" "fence_failures 0" "leader_changes $want"; do
	grep -qx "$l" <<<"$got" || fail "Icinga's last parsed $l: $(echo "$got" | tr '\n' ' ')"
done
graphite_diag() {
	echo "Icinga's results:"
	cat "$IC"/spool/service-perfdata.* | sort -n | cut -f1-3 | uniq -f1 -c
	echo "sent to Graphite:"
	grep -E 'metadata\.state |fence_failures\.value|hosts_fenced\.value' "$IC/graphite.txt" | uniq -c -f1 | tail -40
	grep GraphiteWriter "$IC/log/icinga2.log"
}
grep -q 'perfdata\.fence_failures\.value 1 ' "$IC/graphite.txt" ||
	fail "Icinga never parsed fence_failures=1: $(graphite_diag)"
grep -q 'perfdata\.hosts_fenced\.value 1 ' "$IC/graphite.txt" ||
	fail "Icinga never parsed hosts_fenced=1: $(graphite_diag)"
! grep -Ei "invalid perfdata|Ignoring" "$IC/log/icinga2.log" || fail "Icinga 2 rejected perfdata"
note "Icinga 2 parsed $(echo "$got" | wc -l) labels: $(echo "$got" | tr '\n' ' ')"
note "leader_changes on h2: $base -> $want in both engines"
echo PASS
