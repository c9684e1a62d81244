#!/usr/bin/env bash
# Sets everything up, then runs every test: the lit suite (flash-opt,
# flash-run, FileCheck) and the pytest suite (checked against NumPy).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import matplotlib, onnx, onnxruntime, torch, torchvision, transformers, expecttest, onnxscript, ray" 2>/dev/null; then
  echo "== pip install -r requirements-test.txt"
  "$PYTHON" -m pip install -q -r requirements-test.txt
fi
echo "== lit"
/usr/lib/llvm-22/bin/lit -s build/test
echo "== pytest"
PYTHONPATH="$root/build/python_packages" "$PYTHON" -m pytest -q test/python
