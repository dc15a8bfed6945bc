#!/usr/bin/env bash
# Build the portable core for a Cortex-M4 with arm-none-eabi-gcc, freestanding
# and with no include path but the compiler's own (so a stray libc or OS
# header fails the build), check that it needs nothing from outside except
# what GCC requires of any freestanding target (memcpy, memmove, memset,
# memcmp) and its own runtime helpers, and print its text/data/bss size.
#
# usage: scripts/mcu-size.sh [build-dir]     (default: build-m4)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-m4}
cc=arm-none-eabi-gcc

command -v "$cc" >/dev/null || { echo "mcu-size: $cc not found (apt-get install gcc-arm-none-eabi)" >&2; exit 1; }
gcc_inc=$("$cc" -print-file-name=include)
mkdir -p "$out"
cat > "$out/cortex-m4.ini" <<INI
[binaries]
c = '$cc'
ar = 'arm-none-eabi-ar'
strip = 'arm-none-eabi-strip'

[built-in options]
c_args = ['-ffreestanding', '-nostdinc', '-idirafter', '$gcc_inc', '-mcpu=cortex-m4', '-mthumb', '-Os', '-ffunction-sections', '-fdata-sections']
b_staticpic = false

[host_machine]
system = 'none'
cpu_family = 'arm'
cpu = 'cortex-m4'
endian = 'little'
INI

if [ ! -f "$out/build.ninja" ]; then
  meson setup "$out/meson" "$top" --cross-file "$out/cortex-m4.ini" \
    -Dcore_only=true -Dtests=false -Dbuildtype=plain >/dev/null
fi
ninja -C "$out/meson" >/dev/null
lib="$out/meson/libftcp/libftcp.a"

# Undefined symbols the archive does not define itself.
defined=$(arm-none-eabi-nm -g --defined-only "$lib" | awk 'NF==3{print $3}' | sort -u)
undef=$(arm-none-eabi-nm -u "$lib" | awk 'NF==2{print $2}' | sort -u)
extern=$(comm -23 <(echo "$undef") <(echo "$defined") | grep -v '^$' || true)
bad=$(echo "$extern" | grep -vE '^(memcpy|memmove|memset|memcmp|__aeabi_[a-z0-9_]+|__popcountsi2|__ctzsi2|__clzsi2)$' | grep -v '^$' || true)
if [ -n "$bad" ]; then
  echo "mcu-size: the core needs symbols a freestanding target does not provide:" >&2
  echo "$bad" >&2
  exit 1
fi

echo "libftcp core for Cortex-M4 (arm-none-eabi-gcc -ffreestanding -mcpu=cortex-m4 -mthumb -Os)"
echo "external symbols: $(echo $extern)"
arm-none-eabi-size -t "$lib" | awk '
  NR==1 {printf "%-28s %8s %8s %8s\n", "object", "text", "data", "bss"; next}
  /\(TOTALS\)/ {printf "%-28s %8s %8s %8s\n", "TOTAL", $1, $2, $3; next}
  {n=$6; sub(/.*\//, "", n); sub(/\.c\.o$/, "", n); printf "%-28s %8s %8s %8s\n", n, $1, $2, $3}'
