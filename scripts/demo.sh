#!/usr/bin/env bash
# The main job: install what is missing, build, and run the demonstration.
# Today that is ftcp-linkdemo (libftcp stacks exchanging ARP, ICMP and UDP on
# an in-memory link, clean and through the fault injector); it becomes an
# unmodified iperf3 server under libftcp on a virtual NIC, with a kernel
# client, once the DPDK port and the preload shim exist.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec build/tools/ftcp-linkdemo "$@"
