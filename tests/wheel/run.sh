#!/usr/bin/env bash
# Builds the wheel the way `pip install rcrop` would, in a fresh virtual
# environment (maturin comes from PyPI), installs it, imports the package,
# and runs the `rcrop` command it puts on the environment's PATH: `rcrop
# --version` and one crop, compared byte for byte with its golden file. Not part of `cargo test` (it needs
# Python and PyPI, and builds in release mode): run it as
#
#     bash tests/wheel/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "maturin>=1.7,<2"
"$work/venv/bin/maturin" build --release --out "$work/dist"
wheels=("$work"/dist/rcrop-*.whl)
[ "${#wheels[@]}" -eq 1 ] || { echo "expected one wheel, found: ${wheels[*]}"; exit 1; }

"$python" -m venv "$work/user"
"$work/user/bin/pip" install --quiet "${wheels[0]}"
rcrop="$work/user/bin/rcrop"
[ -x "$rcrop" ] || { echo "the wheel put no rcrop in the environment's bin/"; exit 1; }

"$work/user/bin/python" -c "import rcrop; print('import rcrop', rcrop.__version__)"
version="$("$rcrop" --version)"
expected="rcrop $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
[ "$version" = "$expected" ] || { echo "rcrop --version says '$version', expected '$expected'"; exit 1; }

(cd "$work" && PATH="$work/user/bin:$PATH" rcrop --crop 2 "$OLDPWD/fixtures/npy/demo_f4_c.npy" out.npy)
cmp "$work/out.npy" fixtures/npy/demo_f4_c_crop2_expected.npy
echo "wheel: ${wheels[0]##*/}: $version; crop matches its golden"
echo "1 passed, 0 failed"
