#!/usr/bin/env bash
# The core's standing rules, checked on the source and on the built library:
#  - no libc allocator call anywhere in libftcp/;
#  - no header from outside the project except the freestanding ones;
#  - no mutable global state (no .data/.bss symbols), so stacks are
#    independent and one process can run several.
# usage: scripts/check-core.sh <build-dir>
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
fail=0

hits=$(grep -rnE '\b(malloc|calloc|realloc|free|strdup|aligned_alloc|posix_memalign)[[:space:]]*\(' \
        "$top/libftcp" --include='*.[ch]' || true)
if [ -n "$hits" ]; then echo "check-core: allocator call in libftcp/:"; echo "$hits"; fail=1; fi

hits=$(grep -rnE '#[[:space:]]*include[[:space:]]*<' "$top/libftcp" --include='*.[ch]' |
       grep -vE '<(stdint|stddef|stdbool|stdalign|limits|stdarg)\.h>' || true)
if [ -n "$hits" ]; then echo "check-core: non-freestanding include in libftcp/:"; echo "$hits"; fail=1; fi

lib="$build/libftcp/libftcp.a"
if [ ! -f "$lib" ]; then echo "check-core: $lib not built"; exit 1; fi
# Objects in writable sections; .data.rel.ro holds relocated constants
# (const tables of pointers under -fPIC) and is read-only at run time.
hits=$(objdump -t "$lib" | awk '$0 ~ / O / {for (i = 1; i <= NF; i++) if ($i ~ /^\.(data|bss|sdata|sbss)/ && $i !~ /^\.data\.rel\.ro/) print}' || true)
if [ -n "$hits" ]; then echo "check-core: mutable global state in the core:"; echo "$hits"; fail=1; fi

[ $fail -eq 0 ] && echo "check-core: no allocation, freestanding includes only, no mutable globals"
exit $fail
