#!/usr/bin/env bash
# Sets everything up, then runs the main demo (examples/demo.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
PYTHONPATH="$root/build/python_packages" exec "${PYTHON:-python3}" "$root/examples/demo.py" "$@"
