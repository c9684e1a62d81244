"""FlashCompile's matmul right after NumPy's in the same process, and the
other way round (issue 21, "threads that live next to NumPy").

OpenBLAS's worker threads (NumPy's) busy-wait for about 0.1 s after each
call; FlashCompile's idle OpenMP workers wait 1 ms (KMP_BLOCKTIME, set in
HostTarget.cpp). A call made in that window shares a core with a spinning
thread. Conditions, each timed per call (median), alternated in rounds
(the least median over the rounds):

  fc alone        after a 0.3 s pause
  fc after numpy  each fc.matmul right after an untimed NumPy matmul
  numpy alone     after a 0.3 s pause
  numpy after fc  each NumPy matmul right after an untimed fc.matmul

Each configuration runs in its own process (thread counts and
OPENBLAS_THREAD_TIMEOUT are read when the libraries load): two threads;
two threads with OPENBLAS_THREAD_TIMEOUT=4 (OpenBLAS's workers sleep after
2^4 cycles, the remedy a user can set); one thread.

    PYTHONPATH=build/python_packages python3 benchmarks/bench_next_to_numpy.py \
        --out benchmarks/results/next-to-numpy.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

SIZES = (256, 512, 1024, 2048)
CONFIGS = {  # name -> (threads, extra environment)
    "2 threads": (2, {}),
    "2 threads, OPENBLAS_THREAD_TIMEOUT=4": (2, {"OPENBLAS_THREAD_TIMEOUT": "4"}),
    "1 thread": (1, {}),
}


def child(sizes, rounds: int) -> dict:
    """Every condition at every size, in this process."""
    import numpy as np

    import flashcompile as fc
    rng = np.random.default_rng(0)
    out = {}
    for n in sizes:
        a = rng.standard_normal((n, n), np.float32)
        b = rng.standard_normal((n, n), np.float32)
        c = np.empty((n, n), np.float32)
        expected = a.astype(np.float64) @ b
        err = harness.relative_error(fc.matmul(a, b), expected)
        if not err <= harness.RELATIVE_TOLERANCE:
            raise SystemExit(f"fc.matmul {n}: max relative error {err:.3g}")
        ours = lambda: fc.matmul(a, b)  # noqa: E731
        numpy = lambda: np.matmul(a, b, out=c)  # noqa: E731
        reps = max(5, min(60, int(2e9 / (2 * n**3))))

        def per_call(fn, before=None):
            fn()
            times = []
            for _ in range(reps):
                if before:
                    before()
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        conditions = {
            "fc alone": lambda: per_call(ours),
            "fc after numpy": lambda: per_call(ours, numpy),
            "numpy alone": lambda: per_call(numpy),
            "numpy after fc": lambda: per_call(numpy, ours),
        }
        best = {}
        for _ in range(rounds):
            for name, run in conditions.items():
                time.sleep(0.3)  # every earlier spinner goes idle
                best[name] = min(best.get(name, float("inf")), run())
        out[str(n)] = {name: 2 * n**3 / s / 1e9 for name, s in best.items()}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", help="result file (JSON)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        threads, _ = CONFIGS[args.child]
        harness.set_threads(threads)
        json.dump(child(args.sizes, args.rounds), sys.stdout)
        return
    data = {"unit": "GFLOP/s", "sizes": args.sizes, "rounds": args.rounds, "configs": {}}
    for name, (_, extra) in CONFIGS.items():
        env = {**os.environ, **extra}
        run = subprocess.run([sys.executable, __file__, "--child", name, "--rounds",
                              str(args.rounds), "--sizes", *map(str, args.sizes)],
                             env=env, capture_output=True, text=True, check=False)
        if run.returncode:
            raise SystemExit(f"{name}: {run.stderr.strip()[-2000:]}")
        data["configs"][name] = json.loads(run.stdout)
        for n, row in data["configs"][name].items():
            cells = "  ".join(f"{k} {v:6.1f}" for k, v in row.items())
            print(f"{name:38s} {n:>5s}: {cells}", flush=True)
    data["provenance"] = harness.provenance()
    harness.write_result(args.out, data)


if __name__ == "__main__":
    main()
