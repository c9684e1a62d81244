#!/usr/bin/env bash
# Installs what FlashCompile needs on Debian 12 (apt: MLIR/LLVM 22, build
# tools; pip: requirements.txt), configures and builds. Idempotent, and fast
# when everything is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
              libomp-22-dev cmake ninja-build ccache g++ python3-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-$(command -v python3)}"
if ! "$PYTHON" -c "import nanobind, numpy, pytest, hypothesis" 2>/dev/null; then
  echo "== pip install -r requirements.txt"
  "$PYTHON" -m pip install -q -r requirements.txt
fi

BUILD="${FLASH_BUILD_DIR:-$root/build}"
if [ ! -f "$BUILD/build.ninja" ]; then
  echo "== configure $BUILD"
  cmake -G Ninja -S "$root" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DPython_EXECUTABLE="$PYTHON" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
echo "== build"
ninja -C "$BUILD" -j2 | tail -n 1
