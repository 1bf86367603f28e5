#!/bin/bash
# A burst of state changes is saved once, not once per change (issue 12 item 13): the
# state is written and fsynced whole, on the loop. haxd starts standalone on a state
# with 40 domains disabled by the operator but recorded "stopped": its first leader tick
# proposes 40 changes at once. Every rename of the state file under strace is one save;
# there must be far fewer saves than changes (one save per change before the fix).
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "strace of haxd"
need_tool strace strace

export HAX_IPC="hax-it-persist-$$"
mkdir -p "$T/state"
cat >"$T/haxd.conf" <<CONF
[cluster]
name = itest
driver = sim
state_dir = $T/state
tick = 500ms

[host h1]
nodeid = 1
memory = 4G
vcpus = 8
CONF
python3 - "$T/state/state.json" <<'PY'
import json, sys
doms = [{"name": "d%d" % i, "definition": "disk = /nonexistent/d%d\n" % i,
         "memory_mib": 64, "vcpus": 1, "enabled": False, "state": "stopped"}
        for i in range(40)]
json.dump({"format": 1, "epoch": 1, "seq": 1, "cluster": "itest", "last_incarnation": 0,
           "hosts": [{"name": "h1", "nodeid": 1, "state": "online"}], "domains": doms},
          open(sys.argv[1], "w"))
PY
strace -f -qq -e trace=rename,renameat,renameat2 -o "$T/strace" \
	"$B/haxd" -f -s -c "$T/haxd.conf" -H h1 >>"$T/haxd.log" 2>&1 &
HAXD_PID=$!
PIDS+=($HAXD_PID)
wait_for 20 "haxd answers" "$B/haxctl" status || { cat "$T/haxd.log"; fail "haxd did not start"; }
all_disabled() {
	[ "$("$B/haxctl" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(d["state"] == "disabled" for d in s["domains"]))')" = 40 ]
}
wait_for 20 "40 domains disabled" all_disabled || { tail "$T/haxd.log"; fail "domains not disabled"; }
sleep 1
seq=$("$B/haxctl" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster"]["seq"])')
# Stop haxd itself (strace's child), then strace ends with it.
haxd=$(pgrep -P $HAXD_PID -x haxd)
PIDS+=($haxd)
kill -TERM $haxd
wait $HAXD_PID 2>/dev/null
saves=$(grep -c 'state.json' "$T/strace")
changes=$((seq - 1))
note "$changes changes applied, $saves saves of the state"
[ "$changes" -ge 40 ] || fail "expected at least 40 changes, saw $changes"
[ "$saves" -ge 1 ] || fail "the state was never saved (strace: $(head -3 "$T/strace"))"
[ "$saves" -le $((changes / 4)) ] || fail "$saves saves for $changes changes: not coalesced"
python3 -c "
import json, sys
s = json.load(open('$T/state/state.json'))
assert s['seq'] == $seq, (s['seq'], $seq)
assert all(d['state'] == 'disabled' for d in s['domains'])" || fail "the saved state is not the last one"
echo PASS
