#!/usr/bin/env bash
# The whole benchmark in one command: installs the baselines (optional
# extras, benchmarks/requirements.txt), builds FlashCompile, measures the
# machine's peak, runs every workload against every baseline on one thread
# and on all threads, and writes benchmarks/results/{peak,bench-*t}.json,
# bench.png and the table in benchmarks/results/summary.md.
#   bash benchmarks/run.sh [--quick] [--rounds N] [--skip torch.compile,...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import torch, jax, onnxruntime, onnx, matplotlib, threadpoolctl, iree.runtime, iree.compiler, tvm" 2>/dev/null; then
  echo "== pip install -r benchmarks/requirements.txt"
  "$PYTHON" -m pip install -q -r "$root/benchmarks/requirements.txt"
fi
results="$root/benchmarks/results"
mkdir -p "$results"
echo "== peak"
"$root/build/bin/flash-peak" | "$PYTHON" "$root/benchmarks/harness.py" --stamp | tee "$results/peak.json"
export PYTHONPATH="$root/build/python_packages"
# Older-OpenBLAS workarounds that slow a current NumPy (see the env notes).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
threads=$(nproc)
echo "== 1 thread (the process pinned to one core, so every framework is)"
taskset -c 0 "$PYTHON" "$root/benchmarks/bench.py" --threads 1 --out "$results/bench-1t.json" "$@"
echo "== $threads threads"
"$PYTHON" "$root/benchmarks/bench.py" --threads "$threads" --out "$results/bench-${threads}t.json" "$@"
"$PYTHON" "$root/benchmarks/report.py" "$results"/bench-*t.json --png "$results/bench.png" --md "$results/summary.md"
# The docs' tables and figures come from these files (benchmarks/gen_docs.py).
"$PYTHON" "$root/benchmarks/gen_docs.py" --write
