#!/bin/bash
# docs/getting-started.md is true: its corosync.conf passes corosync -t, its haxd.conf
# haxd -n, its Nagios definitions nagios4 -v (with the templates Debian's nagios4 ships);
# then on a 3-host lab with the xl driver (over its stand-in) and the guide's two fence
# levels (power, then scsi), every command of its <!-- lab --> blocks runs as written
# inside h1 and succeeds, in order. Only the path of web1's xl.cfg is the lab's (a copy
# of d1's with its own new LUN). After "haxctl fence h3" the test checks what the guide
# says happens (h3 fenced, its domains running elsewhere) and powers h3 on again, as the
# guide does, before the monitoring commands.
. "$HAX_SOURCE/tests/lab/lib.sh"
GUIDE=$S/docs/getting-started.md
[ -f "$GUIDE" ] || fail "no $GUIDE"

# block MARK: the fenced blocks that follow a "<!-- MARK -->" line, one after another.
block() {
	awk -v mark="<!-- $1 -->" '
		$0 == mark { want = 1; next }
		want && /^```/ && !inside { inside = 1; next }
		inside && /^```/ { inside = 0; want = 0; print "#--"; next }
		inside { print }' "$GUIDE"
}

block "check: corosync" | sed '/^#--$/d' >"$T/corosync.conf"
[ -s "$T/corosync.conf" ] || fail "no corosync.conf in the guide"
# corosync -t reads the crypto key: one made by corosync-keygen, here in $T (keyfile:)
# rather than /etc/corosync/authkey, which belongs to this machine.
corosync-keygen -k "$T/authkey" >/dev/null 2>&1 || fail "corosync-keygen"
sed -i "s|^totem {|totem {\n  keyfile: $T/authkey|" "$T/corosync.conf"
# ... and wants an address of the nodelist on this host: h1's, on a throwaway namespace.
GNS=${HAX_LAB_NS}guide
ip netns add "$GNS" || fail "cannot make namespace $GNS"
CLEANUPS+=("ip netns del $GNS")
ip -n "$GNS" link add a0 type veth peer name a1 && ip -n "$GNS" link set a1 up &&
	ip -n "$GNS" addr add 192.0.2.11/24 dev a0 && ip -n "$GNS" link set a0 up || fail "$GNS's link"
out=$(ip netns exec "$GNS" corosync -t -c "$T/corosync.conf" 2>&1) ||
	fail "corosync -t rejects the guide's corosync.conf: $out"
grep -q "crypto_cipher: aes256" "$T/corosync.conf" || fail "the guide's corosync.conf has no crypto"
block "check: haxd" | sed '/^#--$/d' >"$T/haxd.conf"
out=$("$B/haxd" -n -c "$T/haxd.conf" 2>&1) || fail "haxd -n rejects the guide's haxd.conf: $out"
note "corosync -t and haxd -n accept the guide's configurations"

if command -v nagios4 >/dev/null 2>&1; then
	mkdir -p "$T/ng"
	block "check: nagios" | sed '/^#--$/d' >"$T/ng/guide.cfg"
	cat >"$T/ng/base.cfg" <<'CFG'
define timeperiod {
	timeperiod_name 24x7
	alias 24x7
	monday 00:00-24:00
}
define command {
	command_name notify-none
	command_line /bin/true
}
define contact {
	contact_name admin
	host_notification_period 24x7
	service_notification_period 24x7
	host_notification_options n
	service_notification_options n
	host_notification_commands notify-none
	service_notification_commands notify-none
}
define host {
	name generic-host
	check_command notify-none
	max_check_attempts 3
	check_period 24x7
	notification_period 24x7
	contacts admin
	register 0
}
define service {
	name generic-service
	max_check_attempts 3
	check_interval 5
	retry_interval 1
	check_period 24x7
	notification_period 24x7
	contacts admin
	register 0
}
define host {
	use generic-host
	host_name h1
	address 192.0.2.11
}
define host {
	use generic-host
	host_name h2
	address 192.0.2.12
}
define host {
	use generic-host
	host_name h3
	address 192.0.2.13
}
CFG
	cat >"$T/ng/nagios.cfg" <<CFG
cfg_file=$T/ng/base.cfg
cfg_file=$T/ng/guide.cfg
log_file=$T/ng/nagios.log
status_file=$T/ng/status.dat
lock_file=$T/ng/nagios.pid
temp_file=$T/ng/nagios.tmp
check_result_path=$T/ng
nagios_user=root
nagios_group=root
CFG
	out=$(nagios4 -v "$T/ng/nagios.cfg" 2>&1) || fail "nagios4 -v rejects the guide's definitions: $(echo "$out" | grep -iE 'error|warning' | head -5)"
	note "nagios4 -v accepts the guide's service definitions"
else
	note "nagios4 not installed: the Nagios definitions were not checked"
fi

block lab >"$T/commands"
grep -q "haxctl fence h3 --dry-run" "$T/commands" || fail "the guide lost its dry runs"
lab up --hosts 3 --domains 2 --driver xl --fence "power scsi" || fail "lab up"
# web1's disk: a new LUN 3 on the lab's target; its xl.cfg is d1's pointing there.
truncate -s 16M "$HAX_LAB_DIR/storage/web1.img"
tgtadm -C "$HAX_LAB_TGT_CTL" --lld iscsi --mode logicalunit --op new --tid 1 --lun 3 \
	-b "$HAX_LAB_DIR/storage/web1.img" || fail "cannot add LUN 3"
sed 's/-lun-1/-lun-3/; s/^# d1,.*/# web1, a lab domain/' "$HAX_LAB_DIR/storage/d1.cfg" >"$HAX_LAB_DIR/storage/web1.cfg"

n=0
while IFS= read -r line; do
	case $line in
	"#--"|"") continue ;;
	esac
	line=${line//\/etc\/xen\/web1.cfg/$HAX_LAB_DIR/storage/web1.cfg}
	n=$((n + 1))
	note "guide: $line"
	out=$(lab exec h1 sh -c "$line" 2>&1)
	rc=$?
	echo "$out" | head -25
	[ $rc = 0 ] || fail "the guide's \"$line\" exited $rc"
	case $line in
	"haxctl domain add web1"*)
		wait_for 60 "web1 running" holds h1 "doms['web1']['state'] == 'running'" ||
			fail "web1 does not run" ;;
	"haxctl fence h3")
		wait_for 90 "h3 fenced, every domain running" holds h1 \
			"hosts['h3']['state'] == 'fenced' and all(d['state'] == 'running' and d['host'] != 'h3' for d in doms.values())" ||
			fail "after haxctl fence h3: $(lab exec h1 haxctl status)"
		note "h3 fenced, its domains run elsewhere; powering h3 on again"
		lab power-on h3 || fail "power-on h3"
		wait_for 90 "h3 online" holds h1 "hosts['h3']['state'] == 'online'" || fail "h3 does not come back" ;;
	esac
done <"$T/commands"
[ $n -ge 14 ] || fail "only $n guide commands ran"
note "$n commands of the guide ran on the lab"
lab journal-check || fail "journal oracle"
echo "PASS"
