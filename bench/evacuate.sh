#!/bin/bash
# Benchmark: how long "haxctl evacuate h1 --wait" takes to move 12 sim domains off h1 in
# the 3-host lab, at concurrency 1, 2 and 4, and the downtime each guest saw (the gap
# in its own journal). Each sim domain carries STATE bytes (default 32M) at a bandwidth
# limit of SPEED bytes/s (default 64M), so the copy has a realistic weight; the numbers
# are wall-clock times of the evacuation as haxctl reports them.
# Usage: bench/evacuate.sh [STATE] [SPEED]     (root; builds and runs the lab)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
state=${1:-32M}
speed=${2:-64M}
export HAX_LAB_DIR=${HAX_LAB_DIR:-/tmp/hax-bench-lab}
export HAX_LAB_NS=haxb-
export HAX_LAB_TGT_CTL=4545
lab="$top/scripts/hax-lab"
trap '"$lab" down >/dev/null 2>&1' EXIT
"$lab" down >/dev/null 2>&1

echo "12 sim domains on h1, state $state each, migration bandwidth $speed/s"
echo "concurrency  evacuation_s  per_domain_s  downtime_ms(median)  downtime_ms(max)  speedup"
base=
for c in 1 2 4; do
	"$lab" up --hosts 3 --domains 12 --prefer h1 --domain-memory 64 --state-size "$state" \
		--migrate-speed "$speed" >/dev/null || exit 1
	# The cluster-wide and per-target bounds must not be what limits concurrency 4.
	out=$("$lab" exec h2 haxctl evacuate h1 --concurrency "$c" --wait) || { echo "$out"; exit 1; }
	secs=$(echo "$out" | sed -n 's/^12 of 12 moved in \([0-9.]*\) s$/\1/p')
	[ -n "$secs" ] || { echo "evacuation incomplete: $out"; exit 1; }
	sleep 1
	"$lab" journal-check >/tmp/hax-bench-jc || { cat /tmp/hax-bench-jc; exit 1; }
	read -r med max < <(python3 -c "
import re, statistics
v = [int(x) for x in re.findall(r'max downtime (\d+) ms', open('/tmp/hax-bench-jc').read())]
print(int(statistics.median(v)), max(v))")
	[ -z "$base" ] && base=$secs
	python3 -c "print('%11d  %12.1f  %12.2f  %19d  %16d  %7.2f' % ($c, $secs, $secs / 12, $med, $max, $base / $secs))"
	"$lab" down >/dev/null
done
