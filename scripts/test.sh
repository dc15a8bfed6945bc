#!/usr/bin/env bash
# Install what is missing, build, and run every test:
#  1. the normal build (gcc, -O2 -g): unit and network test suites, and the
#     fuzz target replaying its corpus (tests/fuzz/corpus, one test);
#  2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. a clang build (a second compiler's warnings, -Werror);
#  4. the core's standing rules (scripts/check-core.sh);
#  5. libftcp on DPDK (ftcp-echo) against Linux TCP over net_af_xdp,
#     net_af_packet and net_tap, in private network namespaces, and bulk
#     transfers through nftables drops, tbf and libftcp's fault injector;
#     two libftcp processes over net_memif;
#  6. the freestanding Cortex-M4 build of the core and its size;
#  7. 30 s of libFuzzer on the stack (scripts/fuzz.sh, clang, build-fuzz):
#     fails on any crash or invariant violation.
# Ends with "N passed, N failed" over all test cases; exit 0 only if all held.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

scripts/deps.sh

passed=0
failed=0
steps_failed=()

setup() { # dir, meson options...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null
}

run_suites() { # build dir, label
  local dir=$1 label=$2 exe out line p f
  for exe in "$dir"/tests/ftcp-test-*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    echo "== $label: $(basename "$exe")"
    set +e
    out=$(timeout 600 "$exe" 2>&1)
    local rc=$?
    set -e
    line=$(echo "$out" | grep -E '^.*: [0-9]+ passed, [0-9]+ failed$' | tail -1 || true)
    if [ -z "$line" ]; then
      echo "$out" | tail -30
      echo "   no summary (exit $rc)"
      failed=$((failed + 1))
      steps_failed+=("$label $(basename "$exe")")
      continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
      echo "$out" | grep -vE '^\s*$' | tail -40 || true
      steps_failed+=("$label $(basename "$exe")")
    fi
    echo "   $p passed, $f failed"
  done
}

# A script that ends with "<label>: N passed, N failed".
run_counted() { # label, command...
  local label=$1 out line p f rc; shift
  echo "== $label"
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  echo "$out" | grep -vE '^(libbpf|libxdp):' | sed 's/^/   /'
  line=$(echo "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -1 || true)
  if [ -z "$line" ]; then
    failed=$((failed + 1)); steps_failed+=("$label"); return
  fi
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
  f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
  passed=$((passed + p)); failed=$((failed + f))
  [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || steps_failed+=("$label")
}

# The fuzz target on its corpus: one test; any input that breaks an
# invariant aborts it.
run_replay() { # build dir, label
  local dir=$1 label=$2 out
  echo "== $label: ftcp-fuzz-replay tests/fuzz/corpus"
  if out=$(timeout 600 "$dir/tests/fuzz/ftcp-fuzz-replay" tests/fuzz/corpus 2>&1); then
    echo "   $(echo "$out" | tail -1)"
    passed=$((passed + 1))
  else
    echo "$out" | tail -30
    failed=$((failed + 1))
    steps_failed+=("$label ftcp-fuzz-replay")
  fi
}

step() { # label, command...
  local label=$1; shift
  echo "== $label"
  if "$@"; then :; else steps_failed+=("$label"); fi
}

setup build
run_suites build "gcc"
run_replay build "gcc"
setup build-san -Db_sanitize=address,undefined -Db_lundef=false
run_suites build-san "gcc asan+ubsan"
run_replay build-san "gcc asan+ubsan"
clang_build() { CC=clang setup build-clang; }
step "clang build" clang_build
# The scripted TCP cases once more on a device with checksum offloads,
# which takes the fast paths (one-step receive, receive runs, bulk send).
step "tcp suite, offloading device" env FTCP_TF_CAPS=0xf build/tests/ftcp-test-tcp
step "tcp suite, offloading device, asan+ubsan" env FTCP_TF_CAPS=0xf build-san/tests/ftcp-test-tcp
step "core rules" scripts/check-core.sh build
# libftcp on DPDK against Linux TCP in private network namespaces.
if [ -x build/tools/ftcp-echo ]; then
  run_counted "interop af_xdp" env BULK_MB=256 tests/interop/interop.sh af_xdp
  run_counted "interop af_packet" env BULK_MB=64 tests/interop/interop.sh af_packet
  run_counted "interop tap" env BULK_MB=16 tests/interop/interop.sh tap
  run_counted "interop faults" tests/interop/faults.sh
  run_counted "interop memif" env BULK_MB=64 tests/interop/memif.sh
  # Unmodified programs under libftcp.so against kernel peers.
  run_counted "preload mixed_wait" tests/preload/mixed_wait.sh af_xdp
  run_counted "preload mixed_wait asan+ubsan" env BUILD=build-san tests/preload/mixed_wait.sh af_xdp
  run_counted "preload dump" tests/preload/dump.sh
  run_counted "preload config" tests/preload/config.sh
  run_counted "preload programs af_xdp" tests/preload/programs.sh all
  run_counted "preload iperf3 tap" env DEV=tap tests/preload/programs.sh iperf3
  run_counted "preload stack_to_stack memif" tests/preload/stack_to_stack.sh
else
  steps_failed+=("interop: ftcp-echo not built (libdpdk missing?)")
fi
step "Cortex-M4 freestanding build" scripts/mcu-size.sh
step "fuzz (30 s)" env FTCP_FUZZ_BUILD=build-fuzz scripts/fuzz.sh 30

echo
if [ ${#steps_failed[@]} -ne 0 ]; then
  echo "failed steps: ${steps_failed[*]}"
fi
echo "libftcp tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#steps_failed[@]} -eq 0 ]
