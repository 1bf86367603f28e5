#!/bin/bash
# Benchmark: the leader's own work per tick (leader_tick with fresh inventories from 4
# hosts, every domain running where it was started) against the number of domains, with
# the real haxd/leader.c in tests/unit/test_leader's in-process world. No root, no lab.
# Issue 12 item 5: a tick was quadratic in domains (every inventory scanned per domain,
# an insertion sort of all domains per tick) and leaked a JSON string per domain and
# inventory entry.
#   before (73f4e2c): 500 domains 37.5 ms, 2000 domains 1560 ms per tick
#   after:            500 domains  0.20 ms, 2000 domains  1.23 ms per tick
# (best of 20 ticks, this 2-core machine shared with other work, 2026-12-04.)
# Usage: bench/leader_tick.sh [N...]     (default: 500 2000)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HAX_BUILD:-$top/build}
[ -x "$build/tests/unit/test_leader" ] || { echo "build first: scripts/build" >&2; exit 1; }
for n in "${@:-500 2000}"; do
	for k in $n; do
		"$build/tests/unit/test_leader" --bench "$k"
	done
done
