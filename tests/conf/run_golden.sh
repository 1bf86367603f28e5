#!/bin/sh
# Golden config test: run_golden.sh CONF_GOLDEN DIR CASE
# Runs CONF_GOLDEN on CASE (a path relative to DIR, so messages show it as written)
# and compares its output with CASE's .expected file, or with "configuration OK" for
# good-* cases and .example files. A bad case must also exit non-zero.
prog=$1
dir=$2
case=$3
case $prog in
/*) ;;
*) prog=$(pwd)/$prog ;; # meson may pass it relative to the build dir
esac
cd "$dir" || exit 1
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp" "$tmp.exp" "$tmp.diff"' EXIT
"$prog" "$case" >"$tmp" 2>&1
status=$?
base=$(basename "$case")
case $base in
bad-*)
	exp=${case%.conf}.expected
	if [ "$status" -eq 0 ]; then
		echo "FAIL $case: accepted, expected errors"
		cat "$tmp"
		exit 1
	fi
	;;
*)
	echo "configuration OK" >"$tmp.exp"
	exp=$tmp.exp
	if [ "$status" -ne 0 ]; then
		echo "FAIL $case: rejected"
		cat "$tmp"
		exit 1
	fi
	;;
esac
if ! diff -u "$exp" "$tmp" >"$tmp.diff" 2>&1; then
	echo "FAIL $case: output differs from $exp"
	cat "$tmp.diff"
	rm -f "$tmp.diff"
	exit 1
fi
rm -f "$tmp.diff"
echo "ok $case"
