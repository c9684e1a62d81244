#!/usr/bin/env bash
# Sets everything up, then runs every test: the lit suite (flash-opt,
# flash-run, FileCheck) and the pytest suite (checked against NumPy).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"
echo "== lit"
/usr/lib/llvm-22/bin/lit -s build/test
echo "== pytest"
PYTHONPATH="$root/build/python_packages" "${PYTHON:-python3}" -m pytest -q test/python
