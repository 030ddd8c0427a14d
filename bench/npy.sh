#!/usr/bin/env bash
# Benchmark rcrop against its peers (cat, cp, NumPy, NumPy with mmap) on .npy
# files, in one run, and print medians, ratios and PASS/FAIL verdicts.
# Not part of CI. See bench/README.md.
#
#   bash bench/npy.sh --setup            # once: Debian's time, bench/work/venv with numpy
#   bash bench/npy.sh [--runs N]         # N timed runs per peer, default 5
#   bash bench/npy.sh --no-prime ...     # skip the untimed memory priming before each run
#   bash bench/npy.sh --rcrop BIN ...    # time this rcrop binary instead of building one
#
# The report goes to standard output; progress and build logs to standard error.
set -euo pipefail
export LC_ALL=C # '.' as decimal point, in $EPOCHREALTIME too

NUMPY_PIN=2.4.6
CROP=16
RUNS=5
SETUP=0
PRIME=1
GIVEN=

usage() {
    sed -n '2,11s/^# \{0,1\}//p' "$0"
}

while (($#)); do
    case $1 in
        --setup) SETUP=1 ;;
        --no-prime) PRIME=0 ;;
        --runs) RUNS=${2:-}; shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        --rcrop) GIVEN=${2:-}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if ! [[ $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "bench: --runs needs a positive integer, got '${RUNS}'" >&2
    exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=bench/work
OUT=$WORK/out
VENV=$WORK/venv
PY=$VENV/bin/python
RCROP=$WORK/rcrop # a copy of target/release/rcrop, taken right after the build
RESULTS=$WORK/results.tsv # raw per-run numbers of the last run
TIMEF=$WORK/time.txt

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- setup / checks

as_root() {
    if ((EUID == 0)); then "$@"; elif command -v sudo > /dev/null; then sudo "$@"; else
        die "need root (or sudo) to run: $*"
    fi
}

venv_ok() {
    [[ -x $PY ]] && "$PY" -c "import numpy, sys; sys.exit(numpy.__version__ != '$NUMPY_PIN')" 2> /dev/null
}

gnu_time_ok() {
    [[ -x /usr/bin/time ]] && /usr/bin/time -o /dev/null -f '%U %S %M' true 2> /dev/null
}

if ((SETUP)); then
    mkdir -p "$WORK"
    if ! gnu_time_ok; then
        log "installing Debian's time package (for /usr/bin/time -v)"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y time
    else
        log "/usr/bin/time (GNU time) already there"
    fi
    if ! venv_ok; then
        if [[ ! -x $PY ]]; then
            log "creating the venv $VENV"
            if ! python3 -m venv "$VENV"; then
                log "python3 -m venv failed; installing Debian's python3-venv"
                rm -rf "$VENV"
                as_root apt-get update
                as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
                /usr/bin/python3 -m venv "$VENV"
            fi
        fi
        log "installing numpy==$NUMPY_PIN into $VENV"
        "$PY" -m pip install --disable-pip-version-check -q "numpy==$NUMPY_PIN"
    else
        log "$VENV already has numpy $NUMPY_PIN"
    fi
fi

missing=()
gnu_time_ok || missing+=("GNU /usr/bin/time (Debian package 'time')")
venv_ok || missing+=("$PY with numpy==$NUMPY_PIN")
command -v cargo > /dev/null || missing+=("cargo (https://rustup.rs)")
command -v cmp > /dev/null || missing+=("cmp (Debian package 'diffutils')")
if ((${#missing[@]})); then
    for m in "${missing[@]}"; do log "missing: $m"; done
    die "run 'bash bench/npy.sh --setup' first (installs Debian's time and a venv at $VENV with numpy==$NUMPY_PIN)"
fi

# ---------------------------------------------------------------- build

BUILT=${CARGO_TARGET_DIR:-target}/release/rcrop
FROM="cargo build --release"
if [[ -z $GIVEN ]]; then
    log "cargo build --release"
    cargo build --release >&2 || die "cargo build --release failed"
    [[ -x $BUILT ]] || die "$BUILT not found after the build"
    GIVEN=$BUILT
else
    FROM="given: $GIVEN"
fi
[[ -x $GIVEN ]] || die "no rcrop binary at $GIVEN"
# Time a snapshot: another build (by someone else, in the same tree) must not
# swap the binary in the middle of the benchmark.
mkdir -p "$WORK"
cp "$GIVEN" "$RCROP"
# Which source that was (read-only git calls: no index refresh).
head_rev=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
if [[ -n $(git --no-optional-locks status --porcelain -- src Cargo.toml Cargo.lock 2> /dev/null) ]]; then
    head_rev+=" + uncommitted changes to src/ or Cargo.*"
fi

# ---------------------------------------------------------------- data

mkdir -p "$WORK" "$OUT"
rm -f "$OUT"/*

BIG_LAST=$WORK/f32_256x512x512x4.npy
BIG_FIRST=$WORK/f32_256x4x512x512.npy
SMALL=$WORK/u8_64x224x224x3.npy

# Space: the inputs still to make, plus room for two outputs at once.
need_kib=$((2 * 1024 * 1024 + 64 * 1024))
for f in "$BIG_LAST" "$BIG_FIRST"; do [[ -f $f ]] || need_kib=$((need_kib + 1024 * 1024)); done
free_kib=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
((free_kib > need_kib)) || die "$WORK needs about $((need_kib / 1024 / 1024 + 1)) GiB free, has $((free_kib / 1024 / 1024)) GiB"

# make_npy PATH DTYPE SHAPE SEED: seeded random data, written in 64 MiB
# chunks (the generator stays far below the file's size in memory) under a
# temporary name; an existing file of the right dtype, shape and size is kept.
make_npy() {
    "$PY" - "$@" << 'EOF'
import os, sys
import numpy as np
path, dtype, shape, seed = sys.argv[1], np.dtype(sys.argv[2]), tuple(map(int, sys.argv[3].split(","))), int(sys.argv[4])

def usable(p):
    try:
        a = np.load(p, mmap_mode="r")
    except Exception:
        return False
    return a.shape == shape and a.dtype == dtype and os.path.getsize(p) == a.offset + a.nbytes

if usable(path):
    print(f"bench: reusing {path}", file=sys.stderr)
    sys.exit(0)
print(f"bench: making {path} {dtype} {shape}", file=sys.stderr)
rng = np.random.default_rng(seed)
per_item = int(np.prod(shape[1:])) * dtype.itemsize
step = max(1, (64 << 20) // max(1, per_item))
tmp = path + ".part"
with open(tmp, "wb") as f:
    np.lib.format.write_array_header_1_0(
        f, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    for start in range(0, shape[0], step):
        n = min(step, shape[0] - start)
        if dtype.kind == "f":
            chunk = rng.standard_normal((n,) + shape[1:], dtype=dtype)
        else:
            chunk = rng.integers(0, 256, size=(n,) + shape[1:], dtype=dtype)
        f.write(chunk.tobytes())
os.replace(tmp, path)
if not usable(path):
    sys.exit(f"bench: {path} came out wrong")
EOF
}

make_npy "$BIG_LAST" float32 256,512,512,4 1
make_npy "$BIG_FIRST" float32 256,4,512,512 2
make_npy "$SMALL" uint8 64,224,224,3 3

# ---------------------------------------------------------------- header

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_g=$(free -g | awk '/^Mem:/ { print $2 }')
cat << EOF
rcrop .npy benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')
machine: nproc $(nproc), ${model:-unknown CPU}, ${mem_g} GiB RAM (free -g total), kernel $(uname -r)
disk:    $(df -PT "$WORK" | awk 'NR == 2 { print $2 }') under $WORK
rcrop:   $("$RCROP" --version | awk '{ print $2 }') at $head_rev ($FROM; timed: a copy, $RCROP)
tools:   numpy $("$PY" -c 'import numpy; print(numpy.__version__)'), $("$PY" --version), coreutils $(cat --version | awk 'NR == 1 { print $NF }')
method:  $RUNS timed runs per peer, peers interleaved round-robin; medians shown.
         Page cache WARM: caches are not dropped; one untimed 'cat input > /dev/null'
         (and one 'import numpy') before each workload, so every peer reads from RAM.
         Wall = elapsed time around /usr/bin/time; CPU = user + sys; peak RSS = max RSS.
         Outputs go to $OUT/ and are deleted after every run.
EOF
if ((PRIME)); then
    cat << EOF
         Before every timed run, untimed: write and delete a zero-filled scratch file
         of 2x the input (+64 MiB), so the run gets RAM the kernel already holds.
         (On a VM whose balloon takes freed RAM back, a run that comes after a pause
         otherwise pays ~1-3 s per GiB it touches; on bare metal this changes nothing.)
EOF
else
    echo "         No priming (--no-prime): on a VM with free page reporting, expect noise."
fi

# The floor is cat doing plain read()/write() in user space. GNU cat >= 9.0
# copies regular file to regular file with copy_file_range (in-kernel, like cp)
# when it can; an O_APPEND output (>>) makes that call fail with EBADF and cat
# falls back to read/write. Shown with strace when strace is there.
cat_note="cat writes with '>>' to a fresh file: O_APPEND keeps GNU cat off
         copy_file_range, so it does read()/write()"
if command -v strace > /dev/null; then
    probe=$OUT/probe.npy trace=$OUT/probe.strace
    rm -f "$probe"
    strace -o "$trace" -e trace=write,copy_file_range cat "$SMALL" >> "$probe"
    if grep -q '^copy_file_range(.* = [0-9]' "$trace"; then
        cat_note+=" -- BUT strace shows cat still used copy_file_range
         here: the cat row is an in-kernel copy, not a user-space floor"
    else
        cat_note+=" (checked with strace: $(grep -c '^write(1,' "$trace") write() calls
         on the small input, no successful copy_file_range)"
    fi
    rm -f "$probe" "$trace"
fi
echo "note:    $cat_note"
echo

# ---------------------------------------------------------------- runs

# prime BYTES: write and delete BYTES of zeros (see the note printed above).
prime() {
    ((PRIME)) || return 0
    local scratch=$OUT/prime.tmp
    head -c "$1" /dev/zero > "$scratch"
    rm -f "$scratch"
}

# timed KIND SINK CMD...: runs CMD under /usr/bin/time with stdout to SINK
# (KIND '>>' appends, '>' truncates); sets WALL_US, CPU_S, RSS_KIB.
timed() {
    local kind=$1 sink=$2
    shift 2
    local t0 t1 status=0
    t0=$EPOCHREALTIME
    if [[ $kind == '>>' ]]; then
        /usr/bin/time -o "$TIMEF" -f '%U %S %M' "$@" >> "$sink" || status=$?
    else
        /usr/bin/time -o "$TIMEF" -f '%U %S %M' "$@" > "$sink" || status=$?
    fi
    t1=$EPOCHREALTIME
    ((status == 0)) || die "exit status $status from: $*"
    WALL_US=$((${t1/./} - ${t0/./}))
    read -r user sys RSS_KIB < <(tail -n 1 "$TIMEF")
    CPU_S=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
}

: > "$RESULTS"
VERDICTS=$WORK/verdicts.txt
: > "$VERDICTS"
PEERS=(cat cp rcrop numpy numpy-mmap)

# check_same A B WHAT: fails loudly unless A and B are byte-identical.
check_same() {
    if ! cmp "$1" "$2" >&2; then
        echo "CORRECTNESS FAILURE: $3: $1 and $2 differ" | tee /dev/stderr
        exit 1
    fi
}

# workload NAME INPUT FORMAT SLICE DESCRIPTION
workload() {
    local name=$1 in=$2 format=$3 slice=$4 desc=$5
    local np_code="import sys, numpy as np; np.save(sys.argv[2], np.load(sys.argv[1])$slice)"
    local mm_code="import sys, numpy as np; np.save(sys.argv[2], np.load(sys.argv[1], mmap_mode='r')$slice)"
    local in_bytes
    in_bytes=$(stat -c %s "$in")
    log "workload $name: warm-up"
    cat "$in" > /dev/null
    "$PY" -c 'import numpy' > /dev/null
    "$RCROP" --version > /dev/null

    local run peer out checked=""
    for ((run = 1; run <= RUNS; run++)); do
        for peer in "${PEERS[@]}"; do
            log "workload $name: run $run/$RUNS: $peer"
            out=$OUT/$peer.npy
            rm -f "$out"
            prime $((2 * in_bytes + 64 * 1024 * 1024))
            case $peer in
                cat) timed '>>' "$out" cat "$in" ;;
                cp) timed '>' /dev/null cp "$in" "$out" ;;
                rcrop) timed '>' /dev/null "$RCROP" --crop "$CROP" --format "$format" "$in" "$out" ;;
                numpy) timed '>' /dev/null "$PY" -c "$np_code" "$in" "$out" ;;
                numpy-mmap) timed '>' /dev/null "$PY" -c "$mm_code" "$in" "$out" ;;
            esac
            local out_bytes
            out_bytes=$(stat -c %s "$out")
            printf '%s\t%s\t%d\t%d\t%s\t%d\t%d\n' "$name" "$peer" "$run" "$WALL_US" "$CPU_S" "$RSS_KIB" "$out_bytes" >> "$RESULTS"
            # Correctness, once: keep rcrop's output until NumPy's is there,
            # and NumPy's until the mmap peer's is there.
            if ((run == 1)); then
                case $peer in
                    cat | cp) [[ $out_bytes == "$in_bytes" ]] || die "$peer wrote $out_bytes bytes, not $in_bytes" ;;
                    numpy)
                        check_same "$OUT/rcrop.npy" "$out" "$name: rcrop vs numpy np.save"
                        rm -f "$OUT/rcrop.npy"
                        checked="rcrop == numpy np.save" ;;
                    numpy-mmap)
                        check_same "$OUT/numpy.npy" "$out" "$name: numpy-mmap vs numpy np.save"
                        checked+=", numpy-mmap == numpy (cmp, $(mib "$out_bytes") MiB)" ;;
                esac
                [[ $peer == rcrop || $peer == numpy ]] && continue
            fi
            rm -f "$OUT"/*.npy
        done
    done
    rm -f "$OUT"/*.npy

    echo "== $name: $desc"
    echo "   input $(mib "$in_bytes") MiB; rcrop --crop $CROP --format $format IN OUT; numpy: np.save(OUT, np.load(IN)$slice)"
    echo "   check: $checked: OK"
    "$PY" - "$RESULTS" "$name" "$VERDICTS" << 'EOF'
import statistics, sys
results, name, verdicts = sys.argv[1:4]
peers = ["cat", "cp", "rcrop", "numpy", "numpy-mmap"]
runs = {p: [] for p in peers}
for line in open(results):
    w, peer, run, wall_us, cpu, rss, out = line.rstrip("\n").split("\t")
    if w == name:
        runs[peer].append((int(wall_us) / 1e6, float(cpu), int(rss) / 1024, int(out) / 2**20))
med = {}
for p in peers:
    rows = runs[p]
    med[p] = {
        "wall": statistics.median(r[0] for r in rows),
        "lo": min(r[0] for r in rows),
        "hi": max(r[0] for r in rows),
        "cpu": statistics.median(r[1] for r in rows),
        "rss": statistics.median(r[2] for r in rows),
        "out": rows[0][3],
    }
n = len(runs["rcrop"])
print(f"   medians of {n} runs:")
print(f"   {'tool':<11} {'wall s':>8} {'(min-max)':>17} {'CPU s':>7} {'peak RSS MiB':>13} {'output MiB':>11} {'wall/cat':>9}")
for p in peers:
    m = med[p]
    rng = f"{m['lo']:.3f}-{m['hi']:.3f}"
    print(f"   {p:<11} {m['wall']:>8.3f} {rng:>17} {m['cpu']:>7.2f} {m['rss']:>13.1f} {m['out']:>11.1f} {m['wall'] / med['cat']['wall']:>9.2f}")
r_cat = med["rcrop"]["wall"] / med["cat"]["wall"]
np_r = med["numpy"]["wall"] / med["rcrop"]["wall"]
mm_r = med["numpy-mmap"]["wall"] / med["rcrop"]["wall"]
rss = med["rcrop"]["rss"]
best = med["rcrop"]["lo"] / med["cat"]["lo"]
r_cp = med["rcrop"]["wall"] / med["cp"]["wall"]
# GNU time counts CPU in hundredths: a small input's copy can take none.
cpu_cp = f'{med["rcrop"]["cpu"] / med["cp"]["cpu"]:.2f}' if med["cp"]["cpu"] else "n/a"
print(f"   ratios: rcrop/cat wall {r_cat:.2f} (fastest runs: {best:.2f}); rcrop/cp wall {r_cp:.2f}, CPU {cpu_cp}; numpy/rcrop wall {np_r:.2f} (speed-up); numpy-mmap/rcrop wall {mm_r:.2f}")
checks = [
    ("rcrop/cat <= 1.3", f"{r_cat:.2f}", r_cat <= 1.3),
    ("rcrop/cp <= 1.0", f"{r_cp:.2f}", r_cp <= 1.0),
    ("numpy/rcrop >= 3", f"{np_r:.2f}", np_r >= 3),
    ("rcrop peak RSS < 32 MiB", f"{rss:.1f} MiB", rss < 32),
]
with open(verdicts, "a") as v:
    for target, value, ok in checks:
        line = f"{target:<24} {value:>10}  {'PASS' if ok else 'FAIL'}"
        print(f"   verdict: {line}")
        v.write(f"{name:<10} {line}\n")
print()
EOF
}

s=$CROP
workload f32-last "$BIG_LAST" channels_last "[:, $s:-$s, $s:-$s, :]" \
    "float32 (256, 512, 512, 4) channels_last, --crop $CROP"
workload f32-first "$BIG_FIRST" channels_first "[:, :, $s:-$s, $s:-$s]" \
    "float32 (256, 4, 512, 512) channels_first, --crop $CROP"
workload u8-last "$SMALL" channels_last "[:, $s:-$s, $s:-$s, :]" \
    "uint8 (64, 224, 224, 3) channels_last, --crop $CROP"

echo "== summary"
sed 's/^/   /' "$VERDICTS"
echo "   $(grep -c 'PASS$' "$VERDICTS") PASS, $(grep -c 'FAIL$' "$VERDICTS") FAIL; raw runs in $RESULTS"
rm -f "$TIMEF"
