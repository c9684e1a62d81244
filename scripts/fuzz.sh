#!/usr/bin/env bash
# libFuzzer runs of the targets in fuzz/ (docs/reliability.md): builds
# build-fuzz/ with clang-22, ASan + UBSan and libFuzzer's coverage, then runs
# each target on the committed corpus (fuzz/corpus/<target>) plus what it
# finds (build-fuzz/corpus/<target>); crashes go to build-fuzz/crashes/.
#
#   bash scripts/fuzz.sh                      # each target for FUZZ_SECONDS (60)
#   FUZZ_RUNS=1000000 bash scripts/fuzz.sh    # a million executions each
#   bash scripts/fuzz.sh npy                  # one target
#   FUZZ_OUT=benchmarks/results/fuzz.json ...  # record executions per target
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FLASH_FUZZ_BUILD:-$root/build-fuzz}"
targets=("${@:-ir npy builder}")
read -r -a targets <<< "${targets[*]}"

# The compiler's own dependencies come from scripts/setup.sh (run it first;
# not from here: it reinstalls the package, which a test run in progress
# would notice). libFuzzer and the sanitizer runtimes:
if ! dpkg-query -W -f='${Status}' libclang-rt-22-dev 2>/dev/null | grep -q "ok installed"; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libclang-rt-22-dev >/dev/null
fi
for tool in cmake ninja clang++-22; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool is missing: bash scripts/setup.sh" >&2; exit 1; }
done

launcher=()  # ccache (scripts/setup.sh installs it): a rebuild is quick
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_FLAGS="-g1" -DFLASH_BUILD_FUZZERS=ON -DFLASH_SANITIZE=address,undefined \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir >/dev/null
fi
ninja -C "$build" -j2 "${targets[@]/#/flash-fuzz-}"

mkdir -p "$build/crashes"
# The code under test is this commit's (a long run may end after later commits).
started_at="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
# MLIR's registries live to exit: no leak checks. A long run may add, e.g.,
# malloc_context_size=1 (shorter allocation stacks in reports, ~15% faster).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1${FUZZ_ASAN_OPTIONS:+:$FUZZ_ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  limit=(-max_total_time="${FUZZ_SECONDS:-60}")
  [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
  echo "== flash-fuzz-$t ${limit[*]}"
  status=0
  "$build/bin/flash-fuzz-$t" "$build/corpus/$t" "$root/fuzz/corpus/$t" "${limit[@]}" \
    -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$t-" > "$build/fuzz-$t.log" 2>&1 || status=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" \
    "$build/fuzz-$t.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$build/fuzz-$t.log"
    echo "flash-fuzz-$t failed (status $status): $build/fuzz-$t.log, inputs in $build/crashes/" >&2
    exit 1
  fi
done

if [ -n "${FUZZ_OUT:-}" ]; then  # each run's executions, time and corpus, per target
  python3 - "$root" "$build" "$FUZZ_OUT" "$started_at" "${targets[@]}" <<'PY'
import json, os, re, sys
root, build, out, started_at, targets = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], \
    sys.argv[5:]
sys.path.insert(0, os.path.join(root, "benchmarks"))
from harness import provenance
data = json.load(open(out)) if os.path.exists(out) else {"targets": {}}
for entry in data["targets"].values():  # a file from before runs were kept: its one run
    if "runs" not in entry:
        one = dict(entry, commit=data["provenance"]["commit"], date=data["provenance"]["date"])
        entry.clear()
        entry["runs"] = [one]
run_of = provenance()
for t in targets:
    log = open(os.path.join(build, f"fuzz-{t}.log")).read()
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    rss = re.search(r"stat::peak_rss_mb:\s*(\d+)", log)
    runs = data["targets"].get(t, {}).get("runs", [])
    # A run reaches here only without a crash (the loop above exits first).
    runs.append({"executions": int(done.group(1)), "seconds": int(done.group(2)),
                 "peak_rss_mb": int(rss.group(1)) if rss else None, "crashes": 0,
                 "corpus": len(os.listdir(os.path.join(build, "corpus", t))),
                 "commit": started_at, "date": run_of["date"]})
    data["targets"][t] = {"runs": runs}
data["provenance"] = run_of
json.dump(data, open(out, "w"), indent=1)
print(f"wrote {out}")
PY
fi
