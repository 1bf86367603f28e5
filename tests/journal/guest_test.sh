#!/bin/bash
# Process tests of hax-guest and hax-journal-check on a file-backed disk.
#   guest_test.sh CASE HAX_GUEST HAX_JOURNAL_CHECK
# CASE: usage | restart | double-writer | twin
set -u

case_name=$1 guest=$2 check=$3
tmp=$(mktemp -d /tmp/hax-journal-test.XXXXXX)
disk=$tmp/disk
pids=()

cleanup() {
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL ($case_name): $*"
	for f in "$tmp"/*.log "$tmp"/*.out; do
		[ -f "$f" ] && { echo "--- $f"; cat "$f"; }
	done
	exit 1
}

# start_guest TAG INCARNATION NODEID: runs in the background, pid in pid_TAG.
start_guest() {
	"$guest" --domain web1 --incarnation "$2" --nodeid "$3" --disk "$disk" \
		--interval 20ms 2>"$tmp/$1.log" &
	pids+=($!)
	eval "pid_$1=$!"
}

# stop_guest TAG: SIGTERM unless it already left; its exit status lands in $rc.
# (Not in a $(...) subshell: only this shell can wait for its children.)
stop_guest() {
	local pid
	eval "pid=\$pid_$1"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
}

expect_rc() { # WANT CMD...: run CMD, compare its exit status
	local want=$1 rc
	shift
	"$@" >"$tmp/cmd.out" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want"
}

case_usage() {
	expect_rc 2 "$guest"
	expect_rc 2 "$guest" --domain web1 --incarnation 1 --nodeid 1
	expect_rc 2 "$guest" --domain web1 --incarnation 1 --nodeid 1 --disk "$disk" --bogus
	expect_rc 2 "$guest" --domain web1 --incarnation x --nodeid 1 --disk "$disk"
	expect_rc 2 "$guest" --domain web1 --incarnation 1 --nodeid 99999999999 --disk "$disk"
	expect_rc 2 "$guest" --domain web1 --incarnation 1 --nodeid 1 --disk "$disk" --interval 0
	expect_rc 2 "$guest" --domain web1 --incarnation 1 --nodeid 1 --disk "$disk" --interval 2q
	expect_rc 2 "$guest" --domain 'bad name' --incarnation 1 --nodeid 1 --disk "$disk"
	expect_rc 2 "$guest" --domain web1 --incarnation 1 --nodeid 1 --disk "$disk" extra
	expect_rc 0 "$guest" --help
	grep -q '^usage: hax-guest' "$tmp/cmd.out" || fail "--help prints no usage"
	expect_rc 1 "$guest" --domain web1 --incarnation 1 --nodeid 1 --disk "$tmp/missing"
	expect_rc 2 "$check"
	expect_rc 2 "$check" --bogus "$disk"
	expect_rc 2 "$check" "$disk" "$disk"
	expect_rc 2 "$check" "$tmp/missing"
	expect_rc 2 "$check" iscsi://127.0.0.1:1/iqn.2026-11.org.hax:none/1
	expect_rc 0 "$check" --help
	expect_rc 0 "$check" "$disk"
	grep -q '^0 records, 0 incarnations, 0 violations, max downtime 0 ms$' "$tmp/cmd.out" ||
		fail "empty disk summary"
}

case_restart() {
	local rc last first
	start_guest a 1 1
	sleep 1
	stop_guest a
	[ "$rc" = 0 ] || fail "guest a exited $rc after SIGTERM"
	grep -q '^hax-guest web1 incarnation 1 on node 1 resuming at seq 0$' "$tmp/a.log" ||
		fail "no start line"
	"$check" "$disk" >"$tmp/c1.out"
	rc=$?
	[ "$rc" = 0 ] || fail "check after one run exited $rc"
	grep -q ' 1 incarnations, 0 violations, max downtime 0 ms$' "$tmp/c1.out" ||
		fail "summary after one run"
	last=$(sed -n 's/^incarnation 1 on node 1: seq 0\.\.\([0-9]*\) .*/\1/p' "$tmp/c1.out")
	[ -n "$last" ] && [ "$last" -ge 10 ] || fail "too few records in 1 s: '$last'"
	grep -q "stopping at seq $((last + 1)) after $((last + 1)) records" "$tmp/a.log" ||
		fail "stop line does not match the journal"

	start_guest b 2 2
	sleep 1
	stop_guest b
	[ "$rc" = 0 ] || fail "guest b exited $rc after SIGTERM"
	first=$((last + 1))
	grep -q "^hax-guest web1 incarnation 2 on node 2 resuming at seq $first\$" "$tmp/b.log" ||
		fail "guest b did not resume at $first"
	"$check" "$disk" >"$tmp/c2.out"
	rc=$?
	[ "$rc" = 0 ] || fail "check after restart exited $rc"
	grep -q "^incarnation 2 on node 2: seq $first\.\." "$tmp/c2.out" || fail "incarnation 2 line"
	grep -Eq '^downtime [0-9]+ ms between incarnation 1 and 2$' "$tmp/c2.out" ||
		fail "no downtime line"
	[ "$(grep -c '^downtime' "$tmp/c2.out")" = 1 ] || fail "not exactly one downtime"
	grep -Eq ' 2 incarnations, 0 violations, max downtime [0-9]+ ms$' "$tmp/c2.out" ||
		fail "summary after restart"
	"$check" --quiet "$disk" >"$tmp/q.out" || fail "--quiet exit"
	[ "$(wc -l <"$tmp/q.out")" = 1 ] || fail "--quiet prints more than the summary"
	"$check" --json "$disk" >"$tmp/j.out" || fail "--json exit"
	grep -q '"downtimes_ms":\[[0-9]*\]' "$tmp/j.out" || fail "json downtimes"
	grep -q '"violations":\[\]' "$tmp/j.out" || fail "json violations"
	if command -v jq >/dev/null; then
		[ "$(jq '.incarnations | length' "$tmp/j.out")" = 2 ] || fail "json incarnations"
		[ "$(jq '.incarnations[1].first_seq' "$tmp/j.out")" = "$first" ] ||
			fail "json first_seq"
	fi
}

# Two guests on one disk must never go unnoticed: a guest exits 3 on its verify, or the
# oracle reports the journal.
double_writer() { # INC_B NODE_B INC_C NODE_C
	local rc rcb rcc rck
	start_guest b "$1" "$2"
	start_guest c "$3" "$4"
	sleep 1.5
	stop_guest b
	rcb=$rc
	stop_guest c
	rcc=$rc
	"$check" "$disk" >"$tmp/check.out"
	rck=$?
	echo "guest b: $rcb, guest c: $rcc, check: $rck"
	for r in $rcb $rcc; do
		[ "$r" = 0 ] || [ "$r" = 3 ] || fail "a guest exited $r"
	done
	[ "$rck" = 0 ] || [ "$rck" = 1 ] || fail "check exited $rck"
	[ "$rcb" = 3 ] || [ "$rcc" = 3 ] || [ "$rck" = 1 ] || fail "double writer not detected"
	if [ "$rcb" = 3 ]; then
		grep -q "journal conflict at seq" "$tmp/b.log" || fail "no conflict line"
	fi
	if [ "$rcc" = 3 ]; then
		grep -q "journal conflict at seq" "$tmp/c.log" || fail "no conflict line"
	fi
	cat "$tmp"/b.log "$tmp"/c.log
}

case_double_writer() {
	double_writer 1 1 2 2
}

case_twin() {
	double_writer 5 1 5 2
	grep -q "twin: same incarnation 5" "$tmp"/b.log "$tmp"/c.log ||
		grep -q "^VIOLATION.*two hosts" "$tmp/check.out" || fail "twin not named"
}

truncate -s 1M "$disk"
case "$case_name" in
usage) case_usage ;;
restart) case_restart ;;
double-writer) case_double_writer ;;
twin) case_twin ;;
*) fail "unknown case" ;;
esac
echo "ok ($case_name)"
