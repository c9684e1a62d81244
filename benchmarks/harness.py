"""What every benchmark here shares: thread settings, timing in alternating
rounds, the check a contender must pass before it is timed, and the
provenance each result file records (commit, date, machine)."""
from __future__ import annotations

import atexit
import datetime
import os
import platform
import shutil
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A contender's output may differ from the float64 reference by this much,
# relative to the reference's largest magnitude (float32 sums of up to 4096
# products stay near 1e-5; a wrong result is off by far more).
RELATIVE_TOLERANCE = 1e-3


def scratch_dir(prefix: str) -> str:
    """A temporary folder removed when the process exits: a benchmark's
    compile caches and exported models are 0.5-2 GB a run, and folders left
    in /tmp filled this machine's disk (LLVM then fails writing an object)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def set_threads(threads: int):
    """Before any framework is imported: they read these at start-up."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "FLASH_NUM_THREADS"):
        os.environ[var] = str(threads)

    if threads == 1:
        os.environ["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")


def timeit(fn, min_time=0.25, min_reps=5, max_reps=2000):
    """Median seconds per call after a warm-up.

    Each framework keeps its default thread-pool behaviour; the pause first
    lets the previous framework's spinning workers go idle, so they do not
    steal cores from this measurement."""
    time.sleep(0.3)
    fn()
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < min_time and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def onnxruntime_session(model, threads: int):
    """ONNX Runtime on the CPU for `model` (a path or a serialized model)
    with `threads` intra-op threads (one inter-op), as every benchmark runs
    it."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def in_rounds(fns: dict, rounds: int = 3, **timeit_args) -> dict:
    """name -> seconds per call: the least of `rounds` medians, the
    contenders timed in turn each round, so a minute-long change in what
    this VM's second core gets hits all of them, not one."""
    best = {}
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = min(best.get(name, float("inf")), timeit(fn, **timeit_args))
    return best


def in_rotated_rounds(fns: dict, rounds: int, **timeit_args) -> dict:
    """As in_rounds, with the order rotated every round: the contender timed
    first after a pause measurably ran differently (the zoo ablation), so
    no contender is always first."""
    names, best = list(fns), {}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            best[name] = min(best.get(name, float("inf")), timeit(fns[name], **timeit_args))
    return best


def write_result(path, data: dict):
    """A result file as every benchmark here writes it (when `path` is set)."""
    if not path:
        return
    import json
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def to_numpy(value):
    """A contender's output as one float64 NumPy array (frameworks return
    their own tensor types, or a list with one output)."""
    import numpy as np
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"expected one output, got {len(value)}")
        value = value[0]
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach()
    if not isinstance(value, np.ndarray) and hasattr(value, "numpy"):  # torch, TVM
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def relative_error(got, expected) -> float:
    """max |got - expected| / max |expected|; inf on a shape mismatch or
    a non-finite output."""
    import numpy as np
    got, expected = to_numpy(got), to_numpy(expected)
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return float("inf")
    scale = float(np.max(np.abs(expected))) or 1.0
    return float(np.max(np.abs(got - expected))) / scale


def check(fn, expected, tolerance=RELATIVE_TOLERANCE):
    """None when `fn()` matches `expected`, else why not (a contender that
    is wrong is reported as wrong and not timed)."""
    try:
        err = relative_error(fn(), expected)
    except Exception as e:  # noqa: BLE001 - a contender's failure is a result
        return f"failed: {type(e).__name__}: {e}"[:200]
    if not err <= tolerance:
        return f"wrong: max relative error {err:.3g} > {tolerance:g}"
    return None


def _git(*args) -> str:
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model() -> str:
    """The host CPU's name as the simulator's calibration records it (one
    reader of /proc/cpuinfo). Imported here, not at the top: set_threads
    must run before the package loads its runtime."""
    import sys
    sys.path.append(os.path.join(ROOT, "build", "python_packages"))
    from flashcompile.host import cpu_model
    return cpu_model()


def provenance() -> dict:
    """Which code, when and where a result was measured. `dirty` lists the
    changed files of the compiler, package and benchmarks at that moment
    (a result from uncommitted code says so)."""
    dirty = _git("status", "--porcelain", "--", "lib", "include", "python", "tools", "benchmarks")
    dirty = [line[3:] for line in dirty.splitlines()
             if line[3:] and not line[3:].startswith("benchmarks/results/")]
    return {"commit": _git("rev-parse", "HEAD").strip() or "unknown",
            "dirty": dirty,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                        "system": f"{platform.system()} {platform.release()}",
                        "python": platform.python_version()}}


if __name__ == "__main__":
    # `flash-peak | python3 harness.py --stamp > peak.json`: a tool's JSON
    # with this run's provenance added.
    import json
    import sys
    if sys.argv[1:] != ["--stamp"]:
        raise SystemExit("usage: ... | python3 benchmarks/harness.py --stamp > out.json")
    data = json.load(sys.stdin)
    data["provenance"] = provenance()
    json.dump(data, sys.stdout, indent=1)
    print()
