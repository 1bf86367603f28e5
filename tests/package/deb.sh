#!/bin/bash
# The Debian package (debian/): dpkg-buildpackage -us -uc -b builds hax from a copy of the
# source tree; lintian finds no error; the package holds haxd, haxctl, check_haxd in
# Nagios's plugin directory, the helper tools, the man pages, the systemd units (haxd,
# and the metrics timer for node_exporter), the
# sysusers.d entry, the example configuration and bash completion, and depends on
# Debian's corosync, libqb, libiscsi, jansson and libcurl packages (recommending
# fence-agents and drbd-utils). Then dpkg -i installs it for real into a throwaway root
# (an overlay of / in a private mount namespace, so this machine is untouched): its
# maintainer scripts create the haxclient group and haxd -n runs from it.
. "$HAX_SOURCE/tests/lib/common.sh"
need_tool dpkg-buildpackage dpkg-dev
need_tool dh debhelper
need_tool lintian lintian

mkdir -p "$T/src"
if git -C "$S" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$S" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$T/src"
else
	tar -C "$S" --exclude='./build*' -cf - . | tar -xf - -C "$T/src"
fi
[ -f "$T/src/debian/control" ] || fail "no debian/ in the source tree"
note "dpkg-buildpackage -us -uc -b (the package's own unit tests are left to scripts/test)"
(cd "$T/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
	>"$T/build.log" 2>&1 || { tail -30 "$T/build.log"; fail "dpkg-buildpackage failed"; }
deb=$(ls "$T"/hax_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no hax_*.deb built"
note "built $(basename "$deb")"

lintian --fail-on error "$T"/hax_*.changes >"$T/lintian.log" 2>&1
rc=$?
cat "$T/lintian.log"
[ $rc = 0 ] || fail "lintian reports errors"
grep -q "^E:" "$T/lintian.log" && fail "lintian reports errors"

files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/sbin/haxd /usr/sbin/haxctl /usr/lib/nagios/plugins/check_haxd \
	/usr/sbin/hax-fence-scsi /usr/sbin/hax-fence-redfish /usr/sbin/hax-fence-peer \
	/usr/bin/hax-journal-check /usr/share/man/man8/haxd.8.gz /usr/share/man/man8/haxctl.8.gz \
	/usr/share/man/man8/check_haxd.8.gz /usr/share/man/man5/haxd.conf.5.gz \
	/lib/systemd/system/haxd.service /lib/systemd/system/hax-metrics.service \
	/lib/systemd/system/hax-metrics.timer /usr/lib/sysusers.d/hax.conf \
	/etc/hax/haxd.conf.example /usr/share/bash-completion/completions/haxctl; do
	grep -qx "$f" <<<"$files" || fail "the package lacks $f"
done
grep -q "^/etc/hax/haxd.conf.example$" <(dpkg-deb -f "$deb" Conffiles 2>/dev/null; dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles) ||
	fail "/etc/hax/haxd.conf.example is not a conffile"
depends=$(dpkg-deb -f "$deb" Depends)
for p in corosync libqb100 libiscsi7 libjansson4 libcurl4 libcpg4 libquorum5 libcmap4; do
	[[ ", $depends," == *", $p"[\ ,]* ]] || fail "Depends lacks $p: $depends"
done
recommends=$(dpkg-deb -f "$deb" Recommends)
for p in fence-agents drbd-utils; do
	[[ "$recommends" == *"$p"* ]] || fail "Recommends lacks $p: $recommends"
done
note "contents, Depends ($depends) and Recommends ($recommends) as promised"

# A real install, into a throwaway copy of this machine's root.
if [ "$(id -u)" != 0 ]; then
	echo "not root: the installation into a throwaway root was not tried"
	exit 0
fi
need_tool unshare util-linux
cp "$deb" "$T/hax.deb"
unshare -m --propagation private bash -c '
	set -e
	T=$1
	mkdir -p "$T/ovl"
	mount -t tmpfs tmpfs "$T/ovl"
	mkdir "$T/ovl/up" "$T/ovl/work" "$T/ovl/root"
	mount -t overlay overlay -o lowerdir=/,upperdir="$T/ovl/up",workdir="$T/ovl/work" "$T/ovl/root"
	R=$T/ovl/root
	mount --bind /proc "$R/proc"
	mount --bind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/tmp"
	mount -t tmpfs tmpfs "$R/run"
	cp "$T/hax.deb" "$R/tmp/"
	chroot "$R" dpkg -i /tmp/hax.deb
	chroot "$R" dpkg-query -W -f="\${Status}\n" hax | grep -qx "install ok installed"
	echo "-- haxd -n from the installed package:"
	chroot "$R" /usr/sbin/haxd -n -c /etc/hax/haxd.conf.example
	chroot "$R" /usr/sbin/haxctl --version
	chroot "$R" getent group haxclient
	chroot "$R" man -w haxctl
	chroot "$R" dpkg -r hax
	! chroot "$R" test -e /usr/sbin/haxd
' _ "$T" >"$T/install.log" 2>&1
rc=$?
cat "$T/install.log"
[ $rc = 0 ] || fail "installing the package into a throwaway root failed"
[ -e /usr/sbin/haxd ] && ! dpkg-query -W hax >/dev/null 2>&1 && fail "the throwaway install leaked into this machine"
echo "PASS"
