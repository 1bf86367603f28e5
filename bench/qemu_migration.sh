#!/bin/bash
# Benchmark: the downtime a real VM (QEMU under TCG, 128 MiB, the lab's guest image)
# sees when haxctl live-migrates it between the lab's hosts, as QEMU reports it
# (query-migrate "downtime"), and how long each migration took. The guest's own journal
# cannot show it: under TCG the guest clock stops while the VM is paused.
# Usage: bench/qemu_migration.sh [ROUNDS]     (root; builds and runs the lab)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-6}
export HAX_LAB_DIR=${HAX_LAB_DIR:-/tmp/hax-bench-lab}
export HAX_LAB_NS=haxb-
export HAX_LAB_TGT_CTL=4545
lab="$top/scripts/hax-lab"
trap '"$lab" down >/dev/null 2>&1' EXIT
"$lab" down >/dev/null 2>&1
"$lab" up --driver qemu --hosts 3 --domains 1 --prefer h1 >/dev/null || exit 1
# Let the guest boot and write (about 15 s under TCG).
for i in $(seq 1 60); do
	"$lab" journal-check 2>/dev/null | grep -q "^d1: [1-9][0-9]* records" && break
	sleep 2
done
echo "round  from  to  migration_ms  downtime_ms"
all=()
for r in $(seq 1 "$rounds"); do
	from=$("$lab" exec h1 haxctl status --json | python3 -c 'import json,sys; print([d["host"] for d in json.load(sys.stdin)["domains"]][0])')
	to=h$(( ${from#h} % 3 + 1 ))
	"$lab" exec h1 haxctl migrate d1 "$to" --wait >/dev/null || { echo "migration $r failed"; exit 1; }
	line=$(grep -h "d1 migrated to $to in" "$HAX_LAB_DIR/$from/haxd.log" | tail -1)
	ms=$(echo "$line" | sed -n 's/.* in \([0-9]*\) ms, downtime \([0-9-]*\) ms.*/\1 \2/p')
	printf "%5d  %4s  %2s  %12s  %11s\n" "$r" "$from" "$to" ${ms% *} ${ms#* }
	all+=("${ms#* }")
done
"$lab" journal-check | tail -2
python3 -c "
import statistics
v = [int(x) for x in '${all[*]}'.split()]
print('QEMU-reported downtime ms: min %d, median %d, max %d over %d live migrations' % (min(v), statistics.median(v), max(v), len(v)))"
