#!/usr/bin/env bash
# The sanitizer step of the test command (docs/reliability.md): the compiler
# and runtime built with clang-22, AddressSanitizer and UndefinedBehavior-
# Sanitizer (build-fuzz/, shared with scripts/fuzz.sh), then
#   1. each fuzz target for SANITIZE_FUZZ_SECONDS (20) on the committed
#      corpus, regression inputs included (scripts/fuzz.sh);
#   2. the lit suite with the instrumented flash-opt and flash-run;
#   3. a pytest subset (op set, threads, cache, errors, models) with the
#      instrumented Python module, the sanitizer runtime preloaded.
# Any report fails the step. `bash scripts/sanitize.sh` alone works too,
# after scripts/setup.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FLASH_FUZZ_BUILD:-$root/build-fuzz}"
cd "$root"
# shellcheck source=scripts/python.sh
source "$root/scripts/python.sh"

echo "== sanitizers: fuzz targets on the committed corpus"
FUZZ_SECONDS="${SANITIZE_FUZZ_SECONDS:-20}" bash "$root/scripts/fuzz.sh"

echo "== sanitizers: build flash-opt, flash-run and the Python module"
ninja -C "$build" -j2 flash-opt flash-run _flashcompile

# Leaks: MLIR's registries live to exit. A failed malloc returns NULL, as C
# says (the out-of-memory tests need it; ASan would abort instead).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
echo "== sanitizers: lit"
/usr/lib/llvm-22/bin/lit -s "$build/test"

echo "== sanitizers: pytest subset"
# Python itself is not instrumented: the runtime comes first, preloaded.
# (Its allocator is plain malloc so ASan sees every object.)
# An empty compile cache: every program is compiled by the instrumented code.
runtime="$(clang++-22 -print-file-name=libclang_rt.asan-x86_64.so)"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
FLASH_CACHE_DIR="$cache" LD_PRELOAD="$runtime" PYTHONMALLOC=malloc PYTHONPATH="$build/python_packages" \
  "$PYTHON" -m pytest -q -p no:cacheprovider \
  test/python/test_op_set.py test/python/test_ops.py test/python/test_compile_cache.py \
  test/python/test_errors.py test/python/test_reliability.py test/python/test_depthwise.py \
  "test/python/test_models.py"
