#!/bin/bash
# A hypervisor that does not list must not keep the cluster from syncing (issue 12 item
# 7): haxd's hello (here the standalone view's) goes without an inventory after 5 s, the
# sync completes and the host leads; the leader then waits for that host's report
# before deciding anything about domains. xl here is xl_lab with `xl list` hung.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "haxd's IPC and state directory"
export HAX_IPC="hax-it-hello-$$"

cat >"$T/xl" <<XL
#!/bin/bash
# xl_lab, but a listing never answers (a wedged toolstack).
case "\$1" in
list) exec -a "xl-hung $T" sleep 600 ;; # the cleanup finds it by this name
*) exec "$S/scripts/xl_lab" "\$@" ;;
esac
XL
chmod +x "$T/xl"
CLEANUPS+=("pkill -f 'xl-hung $T'")
cat >"$T/haxd.conf" <<CONF
[cluster]
name = hello
driver = xl
state_dir = $T/state
xl = $T/xl
[host h1]
nodeid = 1
memory = 1G
vcpus = 2
CONF
export XL_LAB_DIR=$T/xl-lab
"$B/haxd" -f -s -c "$T/haxd.conf" -H h1 >>"$T/haxd.log" 2>&1 &
HAXD_PID=$!
PIDS+=($HAXD_PID)
leads() { [ "$("$B/haxctl" status --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["cluster"]["leader"])' 2>/dev/null)" = h1 ]; }
wait_for 20 "h1 synced and leading with its listing hung" leads ||
	fail "no sync while the hypervisor does not list: $(tail -5 "$T/haxd.log")"
grep -q "no inventory after 5000 ms" "$T/haxd.log" || fail "no log line for the hello without an inventory"
note "listing hung: the hello went without an inventory after 5 s, h1 synced and leads"
echo "ok"
