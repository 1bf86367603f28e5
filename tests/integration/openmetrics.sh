#!/bin/bash
# haxctl status --openmetrics, read by real parsers (tests/lib/om_check.py: Debian's
# python3-prometheus-client, its strict OpenMetrics parser and the Prometheus text parser
# that node_exporter's textfile collector also uses). With haxd unreachable: hax_up 0,
# exit 1, still a valid exposition. With a standalone haxd: every check_haxd metric and
# the per-host gauges with their values; the command of hax-metrics.service (the
# package's timer) writes the textfile collector's file, hax_up 0 once haxd is gone. (Per-domain gauges: tests/integration/standalone.sh,
# which runs real domains.)
. "$HAX_SOURCE/tests/lib/common.sh"
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
	skip "needs Debian's python3-prometheus-client (scripts/install-deps test)"
OM="/usr/bin/python3 $S/tests/lib/om_check.py"

out=$(HAX_IPC="hax-it-om-nobody-$$" "$B/haxctl" status --openmetrics 2>"$T/err")
rc=$?
[ $rc = 1 ] || fail "haxd unreachable: exit $rc, expected 1"
grep -q "haxd is not running" "$T/err" || fail "no reason on stderr: $(cat "$T/err")"
echo "$out" | $OM hax_up=0 || fail "the exposition without haxd: $out"

need_root "haxd's IPC is served to root and the client group"
export HAX_IPC="hax-it-om-$$"
cat >"$T/haxd.conf" <<CONF
[cluster]
name = omtest
driver = sim
state_dir = $T/state

[host h1]
nodeid = 1
memory = 2G
vcpus = 4
CONF
haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not start"
"$B/haxctl" status --openmetrics >"$T/om.txt" || fail "status --openmetrics: exit $?"
tail -n 1 "$T/om.txt" | grep -qx "# EOF" || fail "no # EOF at the end"
$OM hax_up=1 "hax_hosts_online{cluster=omtest}=1" hax_hosts_total=1 hax_quorate=1 \
	hax_domains_running=0 hax_tolerates_host_failures=0 hax_leader_changes_total=0 \
	hax_domains_stranded=0 "hax_host_state{host=h1,state=online}=1" \
	"hax_host_state{host=h1,state=fenced}=0" "hax_host_memory_bytes{host=h1}=2147483648" \
	"hax_host_vcpus{host=h1}=4" "hax_host_maintenance{host=h1}=0" <"$T/om.txt" ||
	{ cat "$T/om.txt"; fail "the exposition of a live haxd"; }
# Every metric check_haxd reports is there (check_haxd's perfdata labels).
for l in $("$B/check_haxd" | sed 's/.*| //' | tr ' ' '\n' | sed 's/=.*//'); do
	grep -q "^hax_${l}[{_]" "$T/om.txt" || fail "check_haxd's $l is not exposed"
done
# The package's timer runs hax-metrics.service: its own command, with haxctl from this
# build and the textfile directory in $T, writes hax.prom through a rename.
script=$(sed -n "s|^ExecStart=/bin/sh -c '\(.*\)'$|\1|p" "$B/hax-metrics.service" |
	sed "s|[^ ]*/haxctl |$B/haxctl |")
[ -n "$script" ] || fail "no ExecStart=/bin/sh -c '...' in hax-metrics.service"
HAX_METRICS_DIR=$T/textfile /bin/sh -c "$script" || fail "hax-metrics.service's command failed"
$OM hax_up=1 hax_hosts_total=1 <"$T/textfile/hax.prom" || fail "hax.prom from the unit's command"
[ -z "$(ls "$T/textfile" | grep -v '^hax.prom$')" ] || fail "left behind: $(ls "$T/textfile")"
kill "$HAXD_PID"
wait_for 10 "haxd gone" sh -c "! kill -0 $HAXD_PID"
HAX_METRICS_DIR=$T/textfile /bin/sh -c "$script" 2>/dev/null
$OM hax_up=0 <"$T/textfile/hax.prom" || fail "hax.prom without haxd"
note "hax-metrics.service writes hax.prom (hax_up 1, then 0 once haxd is gone)"
echo "PASS"
