#!/bin/bash
# Benchmark (issue 17): the time from a storage failover to SCSI fencing restored, in the
# 3-host lab (sim driver, fence = scsi, [storage] check_interval 2s, tick 500 ms). The
# failover is hax-lab storage-failover (tgtd stopped, started again on the same LUN files
# after DOWN seconds, with no reservation state). "Restored" = every host key listed on
# every LUN, a type 5 reservation on every LUN, and every haxd's status saying "in force".
# Measured from the moment tgtd serves again (printed by hax-lab), by polling.
# Usage: bench/scsi_failover.sh [ROUNDS] [DOWN_SECONDS]     (root; runs the lab)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
down=${2:-2}
export HAX_LAB_DIR=${HAX_LAB_DIR:-/tmp/hax-bench-lab}
export HAX_LAB_NS=${HAX_LAB_NS:-haxb-}
export HAX_LAB_TGT_CTL=${HAX_LAB_TGT_CTL:-4545}
lab="$top/scripts/hax-lab"
B=${HAX_BUILD_DIR:-$top/build}
trap '"$lab" down >/dev/null 2>&1' EXIT
IQN=iqn.2026-11.org.hax.lab:storage

keys() { ip netns exec "${HAX_LAB_NS}st" "$B/hax-fence-scsi" keys --portal 127.0.0.1:3260 \
	--target $IQN --initiator iqn.2026-11.org.hax.lab:bench --all-luns 2>/dev/null; }
in_force() { "$lab" exec "$1" haxctl status --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if all(x["fencing"] == "in force" for x in s["storage"]) else 1)'; }
restored() {
	local k l n
	k=$(keys) || return 1
	for l in 1 2 3; do
		echo "$k" | grep -q "^lun $l: reservation type 5 " || return 1
		for n in 1 2 3; do
			echo "$k" | grep "^lun $l: generation" | grep -qi "686178000000000$n" || return 1
		done
	done
	in_force h1 && in_force h2 && in_force h3
}

echo "round  down_s  restored_ms"
all=()
for r in $(seq 1 "$rounds"); do
	"$lab" up --hosts 3 --domains 3 --fence scsi >/dev/null || exit 1
	until restored; do sleep 0.2; done
	out=$("$lab" storage-failover "$down") || exit 1
	t_back=$(echo "$out" | awk '/serving again at/ { print $NF }')
	until restored; do sleep 0.1; done
	ms=$(python3 -c "import time; print(round((time.time() - $t_back) * 1000))")
	all+=("$ms")
	printf "%5d  %6s  %11d\n" "$r" "$down" "$ms"
	"$lab" down >/dev/null
done
printf '%s\n' "${all[@]}" | sort -n | awk '{ a[NR] = $1 } END { print "median restored_ms " a[int((NR + 1) / 2)] }'
