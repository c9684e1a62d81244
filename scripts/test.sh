#!/usr/bin/env bash
# Sets everything up, then runs every test: the lit suite (flash-opt,
# flash-run, FileCheck) and the pytest suite (checked against NumPy) on the
# package setup.sh installed, the wheel check among them; then the
# sanitizer step (scripts/sanitize.sh: an ASan+UBSan build running the fuzz
# targets on their corpus, the lit suite and a pytest subset).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"
# shellcheck source=scripts/python.sh
source "$root/scripts/python.sh"
if ! "$PYTHON" -c "import matplotlib, onnx, onnxruntime, torch, torchvision, transformers, expecttest, onnxscript, ray, tqdm, check_jsonschema, yaml" 2>/dev/null \
     || [ ! -x "$(dirname "$PYTHON")/hadolint" ] || [ ! -x "$(dirname "$PYTHON")/shellcheck" ]; then
  echo "== pip install -r requirements-test.txt"
  "$PYTHON" -m pip install -q -r requirements-test.txt
fi
echo "== lit"
/usr/lib/llvm-22/bin/lit -s build/test
echo "== pytest (the installed package: $PYTHON)"
"$PYTHON" -m pytest -q test/python
echo "== sanitizers (scripts/sanitize.sh)"
bash "$root/scripts/sanitize.sh"
