#!/bin/bash
# A start that fails is retried on another host: domain "only2" has its disk in h2's
# private /run, so it can start on h2 only; it prefers h1. The leader tries h1, then
# another host, until it runs on h2 — within start_retries. A domain that can start
# nowhere ends "failed" with the reason, and stays failed (no retry loop).
. "$HAX_SOURCE/tests/lab/lib.sh"

# def NAME DISK: a definition for the lab's driver (sim, or xl.cfg for HAX_LAB_DRIVER=xl).
def() {
	if [ "${HAX_LAB_DRIVER:-sim}" = xl ]; then
		printf 'memory = 64\ndisk = [ '"'%s,xvda,w'"' ]\nextra = "hax.interval=20ms"\n' "$2" \
			>"$T/$1.def"
	else
		printf 'disk = %s\ninterval = 20ms\n' "$2" >"$T/$1.def"
	fi
}

lab up --hosts 3 --domains 0 --fence power >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "lab up"; }
lab exec h2 truncate -s 1M /run/only2.img || fail "disk on h2"
def only2 /run/only2.img
lab exec h1 haxctl domain add only2 --config "$T/only2.def" --memory 64 --prefer h1 >/dev/null ||
	fail "domain add"
wait_for 60 "only2 running on h2" holds h1 "doms['only2']['state'] == 'running' and doms['only2']['host'] == 'h2'" ||
	fail "only2: $(st h1 "doms['only2']")"
lab exec h1 haxctl events | grep -q "start on h1 failed" || fail "no failed start on h1 was recorded"
note "only2 failed on h1, was retried elsewhere and runs on h2"

def nowhere /run/nowhere.img
lab exec h1 haxctl domain add nowhere --config "$T/nowhere.def" --memory 64 >/dev/null || fail "add"
wait_for 60 "nowhere failed" holds h1 "doms['nowhere']['state'] == 'failed' and 'start failed 4 times' in doms['nowhere']['reason']" ||
	fail "nowhere: $(st h1 "doms['nowhere']")"
inc=$(st h1 "doms['nowhere']['incarnation']")
sleep 4
holds h1 "doms['nowhere']['state'] == 'failed' and doms['nowhere']['incarnation'] == $inc" ||
	fail "a failed domain was retried again: $(st h1 "doms['nowhere']")"
note "nowhere: failed after 4 starts (start_retries = 3) and stays failed"
echo PASS
