#!/bin/bash
# Run one libFuzzer target of tests/fuzz for HAX_FUZZ_SECONDS (default 10) over its
# committed seeds, with ASan + UBSan: any crash, leak, UBSan report, input slower than
# HAX_FUZZ_INPUT_TIMEOUT (default 10 s: a hang or a quadratic blow-up) or more than 2 GiB
# fails the test and leaves the input in $HAX_BUILD/fuzz-artifacts/.
# Usage: run.sh TARGET [EXECUTABLE]   (no EXECUTABLE: build it with clang in BUILD-fuzz)
. "$HAX_SOURCE/tests/lib/common.sh"
t=${1:?target}
exe=${2:-}
secs=${HAX_FUZZ_SECONDS:-10}
corpus=$S/tests/fuzz/corpus/$t
[ -d "$corpus" ] || fail "no seed corpus $corpus"

if [ -z "$exe" ]; then
	command -v clang >/dev/null 2>&1 || skip "needs clang with libFuzzer (Debian packages clang, libclang-rt-14-dev)"
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}\n' >"$T/probe.c"
	clang -fsanitize=fuzzer,address,undefined "$T/probe.c" -o "$T/probe" >"$T/probe.log" 2>&1 ||
		skip "clang has no libFuzzer runtime here (Debian package libclang-rt-14-dev): $(head -1 "$T/probe.log")"
	fb=${HAX_FUZZ_BUILD:-$B-fuzz}
	# One configure and build at a time: the fuzz tests of a suite share the directory.
	(
		flock 9
		if [ ! -f "$fb/build.ninja" ]; then
			CC=clang meson setup "$fb" "$S" -Dfuzz=true -Db_sanitize=address,undefined \
				-Db_lundef=false >"$T/setup.log" 2>&1 || { cat "$T/setup.log"; exit 1; }
		fi
		ninja -C "$fb" "tests/fuzz/fuzz_$t" >"$T/ninja.log" 2>&1 || { tail -30 "$T/ninja.log"; exit 1; }
	) 9>"$B/fuzz-build.lock" || fail "cannot build the fuzz target $t with clang"
	exe=$fb/tests/fuzz/fuzz_$t
fi

art=$B/fuzz-artifacts/$t
mkdir -p "$art" "$T/corpus"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$exe" -max_total_time="$secs" -timeout="${HAX_FUZZ_INPUT_TIMEOUT:-10}" -rss_limit_mb=2048 \
	-max_len=65536 -print_final_stats=1 -artifact_prefix="$art/" \
	"$T/corpus" "$corpus" >"$T/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/fuzz.log")
cov=$(grep -o 'cov: [0-9]*' "$T/fuzz.log" | tail -1)
if [ "$rc" != 0 ]; then
	grep -E "ERROR|SUMMARY|runtime error|deadly signal|Test unit written|timeout" "$T/fuzz.log" | head -20
	tail -40 "$T/fuzz.log"
	fail "fuzz-$t: exit $rc after ${runs:-?} runs; the input is in $art/ (replay: $exe FILE)"
fi
note "fuzz-$t: $secs s, ${runs:-?} runs, $cov, $(ls "$T/corpus" | wc -l) new inputs, no crash, leak or timeout"
echo "PASS"
