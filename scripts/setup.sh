#!/usr/bin/env bash
# Installs what FlashCompile needs on Debian 12 (apt: MLIR/LLVM 22, build
# tools; pip: requirements.txt), configures and builds build/, then installs
# the package from it into $PYTHON (scripts/python.sh) with `pip install .`,
# as users get it. Idempotent, and fast when everything is already there
# (the install is skipped when nothing it would install changed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
              libomp-22-dev cmake ninja-build ccache g++ python3-dev python3-venv
              # GPU targets (docs/gpu.md): Vulkan loader + headers and Mesa's
              # lavapipe (runs SPIR-V here), spirv-val/spirv-dis, AMD's device
              # libraries and linker for HSACO.
              libvulkan-dev mesa-vulkan-drivers spirv-tools rocm-device-libs lld-22)
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

# shellcheck source=scripts/python.sh
source "$root/scripts/python.sh"
if ! "$PYTHON" -c "import nanobind, numpy, pytest, hypothesis, scikit_build_core" 2>/dev/null; then
  echo "== pip install -r requirements.txt"
  "$PYTHON" -m pip install -q -r requirements.txt
fi
# NVIDIA's assembler and disassemblers for the nvidia-* targets (PTX ->
# cubin, registers and spills, SASS); no driver, nothing runs.
if ! "$PYTHON" - 2>/dev/null <<'PY'
import glob, sys
import nvidia
tools = ("ptxas", "cuobjdump", "nvdisasm")
found = [any(glob.glob(f"{p}/cu*/bin/{t}") for p in nvidia.__path__) for t in tools]
sys.exit(0 if all(found) and any(glob.glob(f"{p}/cu*/include/cuda.h") for p in nvidia.__path__) else 1)
PY
then
  echo "== pip install -r requirements-gpu.txt"
  "$PYTHON" -m pip install -q -r requirements-gpu.txt
fi

BUILD="${FLASH_BUILD_DIR:-$root/build}"
if [ ! -f "$BUILD/build.ninja" ]; then
  echo "== configure $BUILD"
  cmake -G Ninja -S "$root" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DPython_EXECUTABLE="$PYTHON" >/dev/null
fi
echo "== build"
ninja -C "$BUILD" -j2 | tail -n 1

# The package, installed from the same build folder (scikit-build-core runs
# CMake there again: nothing is compiled twice). A regular install, not an
# editable one: an editable install's import hook comes before PYTHONPATH,
# which the seeded-bug and mutation campaigns and the overhead benchmark
# use to run another tree (PYTHONPATH=build/python_packages still gives the
# live build tree, Python edits included). Skipped when the installed
# package is byte for byte what this tree would install
# (scripts/package_is_current.py) and pyproject.toml is unchanged.
stamp="$BUILD/.pip-install-stamp"
state="$(sha256sum < pyproject.toml | cut -d' ' -f1) $PYTHON"
if [ "$(cat "$stamp" 2>/dev/null)" != "$state" ] || \
   ! (cd / && env -u PYTHONPATH "$PYTHON" "$root/scripts/package_is_current.py" "$root" "$BUILD"); then
  echo "== pip install . (into $PYTHON)"
  "$PYTHON" -m pip install -q --no-build-isolation --no-deps "$root" \
    -C build-dir="$BUILD" 2>&1 | grep -v "Running pip as the 'root' user" || true
  (cd / && "$PYTHON" -c "import flashcompile") || { echo "pip install . failed" >&2; exit 1; }
  (cd / && env -u PYTHONPATH "$PYTHON" "$root/scripts/package_is_current.py" "$root" "$BUILD" --record)
  echo "$state" > "$stamp"
fi
