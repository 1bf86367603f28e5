# bash completion for haxctl(8). Host and domain names come from the local haxd
# (haxctl status / domain list); without an answer only commands and options complete.

_haxctl_hosts() {
	haxctl status 2>/dev/null | awk '/^Host +Nodeid/ {f = 1; next} f && NF == 0 {exit} f {print $1}'
}

_haxctl_domains() {
	haxctl domain list 2>/dev/null | awk 'NR > 1 && NF {print $1}'
}

_haxctl() {
	local cur prev cmd sub words
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]:-}
	sub=${COMP_WORDS[2]:-}
	local cmds="status events domain explain-failover plan reload fence fence-ack migrate evacuate maintenance --help --version"

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		return
	fi
	case $prev in
	--config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--prefer) COMPREPLY=($(compgen -W "$(_haxctl_hosts)" -- "$cur")); return ;;
	--lose)
		# A comma-separated list: complete its last element.
		local pre=${cur%"${cur##*,}"}
		COMPREPLY=($(compgen -P "$pre" -W "$(_haxctl_hosts)" -- "${cur##*,}"))
		return ;;
	--memory|--vcpus|--priority|--concurrency|--anti-affinity) return ;;
	esac
	case $cmd in
	status) words="--json --openmetrics" ;;
	events|explain-failover) words="--json"
		[ "$cmd" = explain-failover ] && [ "$COMP_CWORD" -eq 2 ] && words="$words $(_haxctl_hosts)" ;;
	plan) words="--lose --json" ;;
	fence)
		if [ "$COMP_CWORD" -eq 2 ]; then words=$(_haxctl_hosts); else words="--dry-run --json"; fi ;;
	fence-ack)
		if [ "$COMP_CWORD" -eq 2 ]; then words=$(_haxctl_hosts); else words="--yes-i-checked-it-is-off"; fi ;;
	maintenance)
		if [ "$COMP_CWORD" -eq 2 ]; then words=$(_haxctl_hosts); else words="on off"; fi ;;
	evacuate)
		if [ "$COMP_CWORD" -eq 2 ]; then words="--abort $(_haxctl_hosts)"
		elif [ "$sub" = --abort ] && [ "$COMP_CWORD" -eq 3 ]; then words=$(_haxctl_hosts)
		else words="--wait --concurrency --dry-run"; fi ;;
	migrate)
		case $COMP_CWORD in
		2) words=$(_haxctl_domains) ;;
		3) words=$(_haxctl_hosts) ;;
		*) words="--wait" ;;
		esac ;;
	domain)
		if [ "$COMP_CWORD" -eq 2 ]; then
			words="list add remove enable disable"
		else
			case $sub in
			list) words="--json" ;;
			add) [ "$COMP_CWORD" -gt 3 ] &&
				words="--config --memory --vcpus --priority --anti-affinity --prefer" ;;
			remove|enable|disable) [ "$COMP_CWORD" -eq 3 ] && words=$(_haxctl_domains) ;;
			esac
		fi ;;
	esac
	COMPREPLY=($(compgen -W "${words:-}" -- "$cur"))
}

complete -F _haxctl haxctl
