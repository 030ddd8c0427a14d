#!/usr/bin/env bash
# Time and peak memory of a change of memory order: `rcrop --order C` on a
# 1 GiB Fortran-ordered float32 (256, 512, 512, 4) file, into a file (boxes
# written at their places) and to standard output (written front to back),
# against `cat` of the same file into a file (the floor) and `rcrop --order
# keep` (the sequential crop). Not part of CI. Needs Debian's `time`
# (/usr/bin/time) and Python 3 (for nothing but writing the input's header).
#
#   bash bench/order.sh [--runs N]     # N timed runs each, default 3
#   RCROP=path/to/rcrop bash bench/order.sh   # another build, not built here
set -euo pipefail
export LC_ALL=C

RUNS=3
if [[ ${1:-} == --runs ]]; then RUNS=$2; fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=bench/work
mkdir -p "$WORK"
INPUT=$WORK/fortran_1gib.npy
OUT=$WORK/order_out.npy
FILE_OUT=$WORK/order_file.npy

if [[ -z ${RCROP:-} ]]; then
    cargo build --release --quiet
    RCROP=${CARGO_TARGET_DIR:-target}/release/rcrop
fi

if [[ ! -s $INPUT ]]; then
    echo "order: writing $INPUT" >&2
    python3 - "$INPUT" <<'EOF'
import sys
header = "{'descr': '<f4', 'fortran_order': True, 'shape': (256, 512, 512, 4), }"
header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    chunk = bytes(range(256)) * (1 << 14)
    for _ in range((1 << 30) // len(chunk)):
        f.write(chunk)
EOF
fi
cat "$INPUT" > /dev/null # warm the page cache

run() { # label, standard output's file, command...
    local label=$1 stdout=$2; shift 2
    for ((i = 0; i < RUNS; i++)); do
        # Every run starts alike: no earlier output to replace (the shell
        # truncates `cat`'s before the clock starts, rcrop replaces its own
        # while timed) and none of it still being written back.
        rm -f "$OUT" "$FILE_OUT"
        sync
        /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$stdout"
        read -r secs kib < "$WORK/time.txt"
        printf '%s\t%s s\t%s MiB peak RSS\n' "$label" "$secs" "$((kib / 1024))"
    done
}

run "cat" "$OUT" cat "$INPUT"
run "rcrop --order keep" "$OUT" "$RCROP" --crop 16 "$INPUT" -
run "rcrop --order C, file" /dev/null "$RCROP" -q --crop 16 --order C "$INPUT" "$FILE_OUT"
run "rcrop --order C, stdout" "$OUT" "$RCROP" --crop 16 --order C "$INPUT" -
rm -f "$OUT" "$FILE_OUT"
