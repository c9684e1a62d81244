#!/usr/bin/env bash
# The model zoo vs PyTorch eager and ONNX Runtime (torch.compile with
# ZOO_TORCH_COMPILE=1): batch 1 and a serving batch, one thread (pinned) and
# all threads; writes benchmarks/results/zoo-b<batch>-<threads>t.json and
# regenerates the docs' tables.
#   bash benchmarks/run_zoo.sh                    # ZOO_BATCHES="1 8" ZOO_SIZE=224
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import torch, torchvision, onnxruntime, onnx, onnxscript" 2>/dev/null; then
  "$PYTHON" -m pip install -q -r "$root/requirements-test.txt"
fi
results="$root/benchmarks/results"
export PYTHONPATH="$root/build/python_packages"
# A crash in native code prints the Python stack it happened under.
export PYTHONFAULTHANDLER=1
threads=$(nproc)
extra=()
[ "${ZOO_TORCH_COMPILE:-0}" = 1 ] && extra+=(--torch-compile)
for batch in ${ZOO_BATCHES:-1 8}; do
  taskset -c 0 "$PYTHON" "$root/benchmarks/bench_zoo.py" --threads 1 --batch "$batch" \
    --size "${ZOO_SIZE:-224}" "${extra[@]}" --out "$results/zoo-b${batch}-1t.json"
  "$PYTHON" "$root/benchmarks/bench_zoo.py" --threads "$threads" --batch "$batch" \
    --size "${ZOO_SIZE:-224}" "${extra[@]}" --out "$results/zoo-b${batch}-${threads}t.json"
done
"$PYTHON" "$root/benchmarks/gen_docs.py" --write
