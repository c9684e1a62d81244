#!/usr/bin/env bash
# Imported torch models vs PyTorch eager, torch.compile and ONNX Runtime, on
# one thread (pinned) and all threads; writes benchmarks/results/imported-*t.json
# and imported.md.
#   bash benchmarks/run_imported.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import torch, onnxruntime, onnx" 2>/dev/null; then
  "$PYTHON" -m pip install -q -r "$root/requirements-test.txt"
fi
results="$root/benchmarks/results"
export PYTHONPATH="$root/build/python_packages"
threads=$(nproc)
taskset -c 0 "$PYTHON" "$root/benchmarks/bench_imported.py" --threads 1 --out "$results/imported-1t.json"
"$PYTHON" "$root/benchmarks/bench_imported.py" --threads "$threads" --out "$results/imported-${threads}t.json"
"$PYTHON" "$root/benchmarks/bench_imported.py" --report "$results"/imported-1t.json \
  "$results/imported-${threads}t.json" --md "$results/imported.md"
