#!/usr/bin/env bash
# Fuzz the stack with libFuzzer for a while (default 60 s):
#
#     scripts/fuzz.sh [seconds]
#
# Builds ftcp-fuzz-stack (tests/fuzz/fuzz_stack.c; clang, -Dfuzz=true,
# ASan+UBSan) in $FTCP_FUZZ_BUILD (default build-fuzz) and runs it on a copy
# of tests/fuzz/corpus (new inputs go to $dir/fuzz-corpus, kept between runs)
# with frames of at most 4096 bytes. Exit 0 if no crash was found; else
# non-zero, with the crashing input left in $dir/fuzz-artifacts/ (replay it
# with ftcp-fuzz-stack FILE or ftcp-fuzz-replay FILE, and once the bug is
# fixed add it to tests/fuzz/corpus, minimized with -minimize_crash=1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-60}
dir=${FTCP_FUZZ_BUILD:-build-fuzz}

if [ ! -f "$dir/build.ninja" ]; then
  CC=clang meson setup "$dir" -Dfuzz=true >/dev/null
fi
ninja -C "$dir" tests/fuzz/ftcp-fuzz-stack >/dev/null
fuzzer=$dir/tests/fuzz/ftcp-fuzz-stack
if [ ! -x "$fuzzer" ]; then
  echo "fuzz: $fuzzer was not built (is CC clang and -Dfuzz=true set in $dir?)" >&2
  exit 1
fi

corpus=$dir/fuzz-corpus
artifacts=$dir/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"
cp -n tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
before=$(find "$artifacts" -type f | wc -l)

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
log=$dir/fuzz.log
echo "fuzz: $secs s of ftcp-fuzz-stack on $(find "$corpus" -type f | wc -l) inputs (log: $log)"
set +e
"$fuzzer" -max_len=4096 -max_total_time="$secs" -timeout=20 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
rc=$?
set -e

grep -E '^Done [0-9]+ runs' "$log" | tail -1 || true
grep -E 'stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$log" || true
after=$(find "$artifacts" -type f | wc -l)
if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
  grep -E 'invariant violated|ERROR:|SUMMARY:|runtime error' "$log" | head -5 || true
  echo "fuzz: CRASH (exit $rc); inputs in $artifacts:"
  ls -t "$artifacts" | head -5
  exit 1
fi
echo "fuzz: no crash"
