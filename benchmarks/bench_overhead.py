"""Compile time and per-call overhead of two builds of the package, side by
side: the current one and a baseline (another build's python_packages
folder, e.g. a copy made before a restructuring).

Each measurement runs in a fresh interpreter with an empty compile cache
(cold compiles, then the same programs again from the on-disk cache), and
the two builds alternate over several rounds (this VM's speed changes by
phases); each metric keeps its least value over the rounds.

    cp -rL build/python_packages /tmp/before      # before the change
    python3 benchmarks/bench_overhead.py --baseline /tmp/before --baseline-commit REV
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPEATS = 5
ROOT = os.path.dirname(HERE)


def _best(fn, reps: int) -> float:
    """Seconds per call: the least of 5 batch means of `reps` calls."""
    for _ in range(3):
        fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def child() -> dict:
    """Every measurement, in this process (run with an empty cache folder)."""
    t0 = time.perf_counter()
    import numpy as np

    import flashcompile as fc
    out = {"import_s": time.perf_counter() - t0}
    rng = np.random.default_rng(0)
    f32 = np.float32
    w1 = rng.standard_normal((784, 256), dtype=f32) / 28
    w2 = rng.standard_normal((256, 10), dtype=f32) / 16
    b1 = np.zeros(256, f32)

    def mlp(x):
        return fc.softmax(fc.relu(x @ w1 + b1) @ w2, axis=-1)

    lenet = fc.Sequential([fc.Conv2d(1, 6, 5, padding=2), fc.ReLU(), fc.MaxPool2d(2),
                           fc.Conv2d(6, 16, 5), fc.ReLU(), fc.MaxPool2d(2), fc.Flatten(),
                           fc.Linear(400, 120), fc.ReLU(), fc.Linear(120, 10)])
    wc = rng.standard_normal((8, 3, 3, 3), dtype=f32)
    xc = rng.standard_normal((1, 3, 16, 16), dtype=f32)
    # Each program in REPEATS sizes (distinct programs): the least time of
    # each, compiled cold (a fresh cache folder, nothing in memory), then
    # again with their code in the on-disk cache (traced and built again).
    programs = {
        "eager_matmul": lambda i: fc.matmul(np.ones((37 + i, 53), f32), np.ones((53, 29), f32)),
        "eager_conv2d": lambda i: fc.conv2d(np.ones((1, 3, 16 + i, 16), f32), wc, padding=1),
        "mlp": lambda i: fc.compile(mlp, np.ones((32 + i, 784), f32)),
        "lenet": lambda i: fc.compile(lenet, np.ones((4 + i, 1, 28, 28), f32)),
    }
    for name, build in programs.items():
        out[f"compile_{name}_s"] = min(_once(lambda: build(i)) for i in range(REPEATS))
    fc.clear_cache()
    for name, build in programs.items():
        out[f"cached_{name}_s"] = min(_once(lambda: build(i)) for i in range(REPEATS))

    # Per-call overhead of cached calls on small arrays.
    x = rng.standard_normal(1024, dtype=f32)
    s = rng.standard_normal((4, 16), dtype=f32)
    relu = fc.compile(lambda v: fc.relu(v), x)
    jitted = fc.jit(lambda v: fc.relu(v))
    jitted(x)
    fc.softmax(s)
    fc.conv2d(xc, wc, padding=1)
    out["call_add_us"] = _best(lambda: fc.add(x, x), 2000) * 1e6
    out["call_softmax_us"] = _best(lambda: fc.softmax(s), 2000) * 1e6
    out["call_conv2d_us"] = _best(lambda: fc.conv2d(xc, wc, padding=1), 500) * 1e6
    out["call_compiled_us"] = _best(lambda: relu(x), 2000) * 1e6
    out["call_jit_us"] = _best(lambda: jitted(x), 2000) * 1e6
    return out


def run_child(package: str) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTHONPATH=package, FLASH_CACHE_DIR=cache,
                   FLASH_TUNING_DB="off")
        done = subprocess.run([sys.executable, __file__, "--child"], env=env,
                              capture_output=True, text=True, cwd=HERE)
    if done.returncode:
        raise RuntimeError(f"{package}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help="another build's python_packages folder")
    parser.add_argument("--baseline-commit", default="",
                        help="the commit the baseline was built from, for the record")
    parser.add_argument("--current", default=os.path.join(ROOT, "build", "python_packages"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "overhead.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child()))
        return
    if not args.baseline:
        parser.error("--baseline is required")
    builds = {"baseline": os.path.abspath(args.baseline), "current": os.path.abspath(args.current)}
    best = {label: {} for label in builds}
    for r in range(args.rounds):
        order = list(builds.items())
        for label, package in order if r % 2 == 0 else order[::-1]:  # ABBA: one fresh process each
            for key, value in run_child(package).items():
                best[label][key] = min(value, best[label].get(key, float("inf")))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    ratio = {k: best["current"][k] / best["baseline"][k] for k in best["current"]}
    print(f"{'metric':26} {'baseline':>10} {'current':>10} {'current/baseline':>17}")
    for k in best["current"]:
        print(f"{k:26} {best['baseline'][k]:10.4g} {best['current'][k]:10.4g} {ratio[k]:17.3f}")
    sys.path.insert(0, HERE)
    from harness import provenance
    result = {"provenance": provenance(), "rounds": args.rounds,
              "baseline": args.baseline,
              "baseline_commit": args.baseline_commit, "best": best, "ratio_current_over_baseline": ratio}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
