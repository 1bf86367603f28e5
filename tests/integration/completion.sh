#!/bin/bash
# bash completion for haxctl (completion/haxctl.bash, installed by meson and the
# package): every command of haxctl --help completes, and no command that haxctl lacks;
# options complete per command; with root, host names come from a real standalone haxd.
. "$HAX_SOURCE/tests/lib/common.sh"

# complete WORDS...: what completing the last word of "haxctl WORDS..." offers.
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=(haxctl "$@")
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		_haxctl
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$S/completion/haxctl.bash" "$@"
}
export PATH="$B:$PATH"

help_cmds=$("$B/haxctl" --help | awk '/^Commands:/ {f = 1; next} f && /^  [a-z]/ {print $1}' | sort -u)
[ -n "$help_cmds" ] || fail "no commands in haxctl --help"
offered=$(complete_words "" | grep -v '^--')
[ "$offered" = "$help_cmds" ] ||
	fail "completion offers [$(echo $offered)] but haxctl --help lists [$(echo $help_cmds)]"
note "commands: $(echo $offered)"
[ "$(complete_words ev)" = "$(printf 'events\nevacuate')" ] ||
	[ "$(complete_words ev)" = "$(printf 'evacuate\nevents')" ] || fail "'ev' completes to: $(complete_words ev)"
complete_words status -- | grep -qx -- --json || fail "status --json not offered"
complete_words domain "" | grep -qx add || fail "domain sub-commands not offered"
complete_words evacuate h1 -- | grep -qx -- --concurrency || fail "evacuate options not offered"
# Every option the completion offers is one haxctl --help documents.
for o in $(grep -oE -- '--[a-z-]+' "$S/completion/haxctl.bash" | sort -u); do
	"$B/haxctl" --help | grep -q -- "$o" || fail "completion offers $o, which haxctl --help does not know"
done

if [ "$(id -u)" = 0 ]; then
	export HAX_IPC="hax-it-compl-$$"
	cat >"$T/haxd.conf" <<CONF
[cluster]
name = compl
driver = sim
state_dir = $T/state

[host alpha]
nodeid = 1
memory = 1G
vcpus = 2
CONF
	haxd_start haxd "$T/haxd.conf" alpha || fail "haxd did not start"
	[ "$(complete_words fence "")" = alpha ] || fail "fence HOST completes to: $(complete_words fence "")"
	[ "$(complete_words maintenance a)" = alpha ] || fail "maintenance a completes to: $(complete_words maintenance a)"
	[ "$(complete_words fence alpha "")" = "$(printf -- '--dry-run\n--json')" ] ||
		fail "fence alpha completes to: $(complete_words fence alpha "")"
	[ "$(complete_words plan --lose "")" = alpha ] || fail "plan --lose completes to: $(complete_words plan --lose "")"
	[ "$(complete_words plan --lose x,a)" = x,alpha ] || fail "plan --lose x,a completes to: $(complete_words plan --lose x,a)"
	note "host names from a live haxd"
else
	note "not root: host names from a live haxd not checked"
fi
echo "PASS"
