#!/bin/bash
# Standalone haxd + sim driver + guests writing their journals to real iSCSI LUNs (tgtd):
# add 3 domains -> running; kill -9 haxd and restart it -> the same 3 guests still run,
# none started twice; haxctl plan --lose h1 strands all three and changes nothing;
# haxctl status --openmetrics shows them running (parsed by a real parser);
# disable one -> stopped; the journal oracle is clean on every LUN.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "tgtd and detached guests"
need_tool tgtd tgt

export HAX_IPC="hax-it-standalone-$$"
IQN=iqn.2026-11.org.hax.test:standalone
tgt_start 7101 3301 "$IQN" 3 4 || fail "tgtd setup"

cat >"$T/haxd.conf" <<CONF
[cluster]
name = itest
driver = sim
state_dir = $T/state
tick = 500ms
stop_timeout = 5s

[host h1]
nodeid = 1
memory = 4G
vcpus = 8
CONF
# Guests are detached from haxd on purpose; the test stops them by their pidfiles.
CLEANUPS+=('for f in $T/state/sim/*/pid; do kill -9 $(cat $f); done')

haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not start"
for i in 1 2 3; do
	printf 'disk = iscsi://127.0.0.1:3301/%s/%d\ninterval = 20ms\n' "$IQN" "$i" >"$T/d$i.cfg"
	"$B/haxctl" domain add "d$i" --config "$T/d$i.cfg" --memory 128 || fail "domain add d$i"
done
for i in 1 2 3; do
	wait_for 30 "d$i running" dom_is "d$i" running || { cat "$T/haxd.log"; fail "d$i not running"; }
done
note "3 domains running"
# What-if through the real IPC path: losing the only host strands all three, in the
# leader's order, with the policy's reason and no quorum left; nothing changes.
"$B/haxctl" plan --lose h1 --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["ok"] and not r["fits"] and r["stranded"] == 3, r
assert [d["name"] for d in r["domains"]] == ["d1", "d2", "d3"], r
assert all(d["to"] is None and d["from"] == "h1" and "no host available" in d["reason"] for d in r["domains"]), r
assert r["quorum"] == {"hosts_total": 1, "hosts_left": 0, "majority": 1, "quorate": False}, r
assert r["timeline"]["host"] == "h1" and r["timeline"]["worst_case_ms"] > 0, r' ||
	fail "haxctl plan --lose h1"
"$B/haxctl" plan --lose h1 | grep -q "^d1 .* h1 .* NOWHERE .*no host available" || fail "plan's table"
"$B/haxctl" plan --lose h7 2>&1 | grep -q "no such host: h7" || fail "plan of an unknown host"
for i in 1 2 3; do dom_is "d$i" running || fail "plan changed d$i"; done
# The per-domain gauges of haxctl status --openmetrics, read by a real parser.
if /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
	"$B/haxctl" status --openmetrics | /usr/bin/python3 "$S/tests/lib/om_check.py" \
		hax_domains_running=3 "hax_domain_state{domain=d1,state=running}=1" \
		"hax_domain_state{domain=d1,state=failed}=0" "hax_domain_memory_bytes{domain=d2}=134217728" \
		"hax_domain_enabled{domain=d3}=1" "hax_host_domains{host=h1}=3" "hax_domain_restarts{domain=d1}=0" ||
		fail "status --openmetrics with 3 running domains"
else
	note "python3-prometheus-client missing: the OpenMetrics check was not run"
fi
before=$(for i in 1 2 3; do guest_pids "d$i" "$IQN"; done)
[ "$(echo "$before" | wc -l)" = 3 ] || fail "expected 3 guests, found: $before"
inc_before=$(for i in 1 2 3; do dom_field "d$i" incarnation; done | tr '\n' ' ')

kill -9 "$HAXD_PID"
sleep 1
still=$(for i in 1 2 3; do guest_pids "d$i" "$IQN"; done)
[ "$still" = "$before" ] || fail "guests did not survive haxd's death: $still vs $before"
note "haxd killed; guests still running"

haxd_start haxd "$T/haxd.conf" h1 || fail "haxd did not restart"
for i in 1 2 3; do
	wait_for 30 "d$i running after restart" dom_is "d$i" running || fail "d$i not running after restart"
done
sleep 3 # a few leader ticks: a wrong restart would show up now
after=$(for i in 1 2 3; do guest_pids "d$i" "$IQN"; done)
[ "$after" = "$before" ] || fail "guests changed across the restart: [$before] -> [$after]"
inc_after=$(for i in 1 2 3; do dom_field "d$i" incarnation; done | tr '\n' ' ')
[ "$inc_after" = "$inc_before" ] || fail "incarnations changed: $inc_before -> $inc_after"
note "restarted haxd adopted the same guests ($inc_after)"

"$B/haxctl" domain disable d2 || fail "disable d2"
wait_for 20 "d2 disabled" dom_is d2 disabled || fail "d2 not disabled"
[ -z "$(guest_pids d2 "$IQN")" ] || fail "d2's guest still runs"
sleep 2
dom_is d2 disabled || fail "d2 restarted after disable"
note "d2 disabled and stopped"

for i in 1 2 3; do
	out=$("$B/hax-journal-check" --initiator iqn.2026-11.org.hax.test:checker \
		"iscsi://127.0.0.1:3301/$IQN/$i") || { echo "$out"; fail "journal d$i"; }
	echo "d$i: ${out##*$'\n'}"
	case $i in 1|3) echo "$out" | grep -q "^[0-9]* records, 1 incarnations, 0 violations" ||
		fail "d$i: expected exactly one incarnation: $out" ;;
	esac
done
echo "PASS"
