#!/usr/bin/env bash
# Sets everything up, then runs the main demo (examples/demo.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
# shellcheck source=scripts/python.sh
source "$root/scripts/python.sh"
exec "$PYTHON" "$root/examples/demo.py" "$@"
