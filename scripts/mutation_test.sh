#!/usr/bin/env bash
# Mutation testing of the Python package with mutmut (PyPI): seeded bugs in
# the importers, tracing, the functional ops and the simulator's model,
# each run against the fast tests that reach the mutated function. The
# score and the surviving mutants go to build/mutation/; docs/testing.md
# records the last campaign and the triage of its survivors.
#   bash scripts/mutation_test.sh [--max-children N] [mutant name globs]
#   bash scripts/mutation_test.sh "flashcompile.ops*"   # one module
#   MUTATION_TIME_LIMIT=30m bash scripts/mutation_test.sh   # a bounded slice
# (takes tens of minutes: not part of the test command.) Stopped by the
# time limit, the mutants already run keep their verdicts and the rest are
# reported as "not checked".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c "import mutmut" 2>/dev/null || "$PYTHON" -m pip install -q "mutmut>=3.3,<4"
stage="$root/build/mutation"
# A staging copy laid out as mutmut expects (the package at the top, tests
# under test/python as in the repository, so their paths to benchmarks/
# resolve), with the native module beside the package's sources.
rm -rf "$stage"
mkdir -p "$stage/test"
cp -r "$root/python/flashcompile" "$stage/flashcompile"
find "$stage/flashcompile" -name __pycache__ -prune -exec rm -rf {} +
cp "$root"/build/python_packages/flashcompile/_flashcompile*.so "$stage/flashcompile/"
cp -r "$root/test/python" "$stage/test/python"
cp -r "$root/benchmarks" "$stage/benchmarks"
cat > "$stage/pyproject.toml" <<'TOML'
[tool.mutmut]
source_paths = ["flashcompile"]
only_mutate = ["flashcompile/ops.py", "flashcompile/tracing.py",
               "flashcompile/importers/pytorch.py", "flashcompile/importers/onnx.py",
               "flashcompile/sim/model.py"]
also_copy = ["benchmarks/"]
pytest_add_cli_args_test_selection = [
  "test/python/test_op_set.py", "test/python/test_tracing.py", "test/python/test_ops.py",
  "test/python/test_pytorch_import.py", "test/python/test_onnx_import.py",
  "test/python/test_simulator.py"]
# Deselected: tests that cannot run under mutmut's trampolines. The first
# checks that an error names the user's line (the trampoline's frame comes
# first); the others run the package in a subprocess, which does not see
# the mutants' folder.
pytest_add_cli_args = ["-x", "-q", "-p", "no:cacheprovider",
  "--deselect", "test/python/test_tracing.py::test_shape_errors_name_op_shapes_and_line",
  "--deselect", "test/python/test_simulator.py::test_host_calibration_is_measured_and_stored",
  "--deselect", "test/python/test_simulator.py::test_copies_by_rows_or_elements",
  "--deselect", "test/python/test_simulator.py::test_imported_models_simulate_and_analyze",
  "--deselect", "test/python/test_simulator.py::test_constant_b_is_not_packed_per_call_on_the_host",
  "--deselect", "test/python/test_simulator.py::test_constant_filter_is_not_packed_per_call_on_the_host"]
# Workers fork from a server that has only collected the tests: the main
# process has run the suite, and a fork of it inherits the runtime's
# thread pool and OpenMP's threads without the threads.
process_isolation = "forkserver"
TOML
cd "$stage"
export FLASH_CACHE_DIR="$stage/cache"
if [ -n "${MUTATION_TIME_LIMIT:-}" ]; then
  timeout --signal=INT --kill-after=60 "$MUTATION_TIME_LIMIT" "$PYTHON" -m mutmut run "$@" || true
else
  "$PYTHON" -m mutmut run "$@" || true
fi
"$PYTHON" -m mutmut export-cicd-stats || true
"$PYTHON" -m mutmut results > "$stage/survivors.txt" || true
echo "== score"
cat "$stage/mutants/mutmut-cicd-stats.json"
echo "survivors: $stage/survivors.txt ($(grep -c ': survived' "$stage/survivors.txt" || true))"
