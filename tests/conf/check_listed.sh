#!/bin/sh
# check_listed.sh DIR CASE...: every bad-*.conf and good-*.conf in DIR has a test in
# meson.build, and every bad-*.conf its .expected file.
dir=$1
shift
listed=" $* "
rc=0
for f in "$dir"/bad-*.conf "$dir"/good-*.conf; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .conf)
	case $listed in
	*" $name "*) ;;
	*) echo "FAIL $name.conf has no test in tests/conf/meson.build"; rc=1 ;;
	esac
	case $name in
	bad-*) [ -e "$dir/$name.expected" ] || { echo "FAIL $name.expected missing"; rc=1; } ;;
	esac
done
exit $rc
