# Helpers for scenarios on the real lab (scripts/hax-lab): each test gets its own lab
# directory, namespace prefix and tgtd control port, so it never touches a user's lab,
# and tears the lab down on exit whatever happened.
. "$HAX_SOURCE/tests/lib/common.sh"
need_root "network namespaces, corosync and tgtd"
need_tool corosync corosync
need_tool tgtd tgt

export HAX_BUILD_DIR=$B
export HAX_LAB_DIR=$T/lab
# HAX_TEST_LAB_NS / HAX_TEST_TGT_CTL let two checkouts run their suites side by side.
export HAX_LAB_NS=${HAX_TEST_LAB_NS:-haxt-}
export HAX_LAB_TGT_CTL=${HAX_TEST_TGT_CTL:-4343}
LAB="$S/scripts/hax-lab"
CLEANUPS+=("\"$LAB\" down")
lab() { "$LAB" "$@"; }
# HAX_TEST_KEEP=DIR keeps the lab's files (haxd logs, guest consoles) for a post-mortem.
[ -n "${HAX_TEST_KEEP:-}" ] && CLEANUPS+=("d='$HAX_TEST_KEEP/$(basename "$0" .sh)'; mkdir -p \"\$d\" && cp -a '$HAX_LAB_DIR'/h* '$HAX_LAB_DIR'/storage \"\$d\"/")

# A field of haxctl status --json on HOST, through a Python expression over s.
st() { lab exec "$1" haxctl status --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
hosts = {h['name']: h for h in s['hosts']}
doms = {d['name']: d for d in s['domains']}
print($2)"; }
# True when the expression holds on HOST.
holds() { [ "$(st "$1" "bool($2)" 2>/dev/null)" = True ]; }

leader_of() { st "$1" "s['cluster']['leader']"; }
version_of() { st "$1" "'%d,%d' % (s['cluster']['epoch'], s['cluster']['seq'])"; }

# The guest processes of every domain: "d1:PID, ..." (what must not change when nothing
# is restarted). Every domain must have one, or the comparison would prove nothing: a
# guest is found by its own domain name and a path of this lab on its command line (the
# sim driver's --control directory, xl_lab's guests likewise).
guests() {
	local d pids
	for d in $(st h1 "' '.join(sorted(doms))" 2>/dev/null || st h2 "' '.join(sorted(doms))"); do
		pids=$(pgrep -f -- "hax-guest --domain $d .*$HAX_LAB_DIR" | sort | tr '\n' ',')
		[ -n "$pids" ] || fail "no guest process found for $d"
		echo "$d:$pids"
	done
}
