# shellcheck shell=bash
# (sourced, with $root set to the repository.)
# Sourced by setup.sh, test.sh and demo.sh: sets PYTHON, the interpreter
# FlashCompile is installed into (pip install -e, editable).
#
# $PYTHON if set. Else the user's python3, so that the package and the test
# suite's heavy peers (torch, ~5 GB) live where the user already works; but
# a python3 that is "externally managed" (PEP 668: Debian's own
# /usr/bin/python3, which refuses pip) gets the project's own virtual
# environment, .venv, instead.
if [ -z "${PYTHON:-}" ]; then
  PYTHON="$(command -v python3)"
  if "$PYTHON" - <<'PY'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)
PY
  then
    if [ ! -x "${root:?}/.venv/bin/python" ]; then
      echo "== $PYTHON is externally managed (PEP 668): creating $root/.venv"
      "$PYTHON" -m venv "$root/.venv"
    fi
    PYTHON="$root/.venv/bin/python"
  fi
fi
# The interpreter itself, not a shim (pyenv) or a link: CMake caches it.
PYTHON="$("$PYTHON" -c 'import sys; print(sys.executable)')"
export PYTHON
