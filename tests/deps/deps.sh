#!/bin/bash
# The README's two commands each work on a fresh machine, in either order: every package
# meson needs to configure the build (its dependency() and find_program() calls, found by
# meson's own scan of meson.build) must come from the set that `scripts/hax-lab demo`
# installs (install-deps lab). Then the demo configures the very build that
# `scripts/test` would, and scripts/test's set holds the lab's set. Also: the README still
# says those commands, and CI (.ci/run) still runs the README's test command.
. "$HAX_SOURCE/tests/lib/common.sh"
need_tool dpkg-query dpkg
need_tool pkg-config pkg-config
need_tool meson meson

lab=$("$S/scripts/install-deps" --list lab) || fail "install-deps --list lab"
test=$("$S/scripts/install-deps" --list test) || fail "install-deps --list test"
in_set() { grep -qx "$1" <<<"$2"; }
# The package that owns a file (following symlinks), or that a set's package depends on.
owner() { dpkg-query -S "$1" 2>/dev/null | grep -v '^diversion by' | head -1 | cut -d: -f1; }
covered() {
	local pkg=$1 set=$2 p
	in_set "$pkg" "$set" && return 0
	for p in $set; do
		apt-cache depends --no-recommends --no-suggests "$p" 2>/dev/null |
			awk '$1 ~ /Depends:/ {print $2}' | grep -qx "$pkg" && return 0
	done
	return 1
}

bad=0
# judge WHAT PACKAGE REQUIRED: a required need must come from the lab set; an optional
# one that the test set installs must too, or a build configured after the demo would
# lack it after scripts/test (meson does not look again for what it did not find).
judge() {
	local what=$1 pkg=$2 required=$3
	if [ "$(dpkg-query -W -f='${Essential}' "$pkg" 2>/dev/null)" = yes ] || covered "$pkg" "$lab"; then
		note "$what: $pkg (in the lab set)"
	elif [ "$required" = yes ]; then
		note "$what: Debian package $pkg is NOT in install-deps' lab set"
		bad=1
	elif covered "$pkg" "$test"; then
		note "$what (optional): $pkg is in the test set but NOT the lab set: the build would differ by order"
		bad=1
	else
		note "$what (optional): $pkg, in neither set"
	fi
}
deps=$(meson introspect --scan-dependencies "$S/meson.build" | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    print(d["name"], "yes" if d["required"] else "no")') || fail "meson introspect --scan-dependencies"
[ -n "$deps" ] || fail "meson's scan found no dependency at all"
while read -r d req; do
	pc=$(pkg-config --path "$d" 2>/dev/null) || {
		[ "$req" = no ] && { note "dependency $d (optional): not installed here"; continue; }
		note "dependency $d: no pkg-config file here"; bad=1; continue; }
	pkg=$(owner "$(readlink -f "$pc")")
	[ -n "$pkg" ] || pkg=$(owner "$pc")
	judge "dependency $d" "$pkg" "$req"
done <<<"$deps"
# Programs meson looks for by name (scripts of the source tree are not packages).
progs=$(grep -rhoE "find_program\('[^']+'[^)]*\)" --include=meson.build "$S" | sort -u)
while read -r call; do
	p=$(sed "s/^find_program('//; s/'.*//" <<<"$call")
	req=yes
	[[ "$call" == *"required : false"* || "$call" == *"required: false"* ]] && req=no
	find "$S" -name "$p" -not -path "*/build*" | grep -q . && continue
	path=$(command -v "$p") || {
		[ "$req" = no ] && { note "program $p (optional): not installed here"; continue; }
		note "program $p: not found"; bad=1; continue; }
	# usrmerge: dpkg may know /bin/X for /usr/bin/X; a python from pyenv shadows Debian's.
	pkg=
	for f in "$(readlink -f "$path")" "$path" "/bin/$p" "/usr/bin/$p"; do
		[ -e "$f" ] && pkg=$(owner "$f") && [ -n "$pkg" ] && break
	done
	[ -n "$pkg" ] || { note "program $p: $path belongs to no Debian package"; continue; }
	judge "program $p" "$pkg" "$req"
done <<<"$progs"
for p in $lab; do
	in_set "$p" "$test" || { note "$p is in the lab set but not the test set"; bad=1; }
done
[ $bad = 0 ] || fail "a fresh machine running 'scripts/hax-lab demo' first cannot configure the build"

grep -q 'install-deps" lab' "$S/scripts/hax-lab" || fail "hax-lab no longer installs the lab set"
grep -qx 'sudo scripts/hax-lab demo .*' "$S/README.md" || fail "the README's first command changed"
grep -qx 'sudo scripts/test .*' "$S/README.md" || fail "the README's test command changed"
grep -q 'exec scripts/test$' "$S/.ci/run" || fail "CI no longer runs the README's test command"
echo "ok: every configure-time need of meson is installed by the demo's install step"
