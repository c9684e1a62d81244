"""fc vs NumPy, same process, same inputs: matmul, add, relu, conv2d.

    PYTHONPATH=build/python_packages python3 benchmarks/bench_ops.py [--quick]

Prints a table (GFLOP/s or GB/s, and fc / NumPy speed ratio; > 1 means fc is
faster) and writes benchmarks/results/ops.json. Timing: warm-up, then the
median of repeated calls; the compile happens in the warm-up (cached after).
Threads: whatever NumPy's BLAS uses by default; fc is single-threaded here.
"""
import argparse
import json
import os
import platform
import time

import numpy as np

import flashcompile as fc


def median_time(fn, min_time=0.2, min_reps=5):
    fn()  # warm-up (and compile)
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 1000:
            break
    return float(np.median(times))


def conv_numpy(x, w, b, pad):
    """NumPy conv2d baseline: im2col + one BLAS matmul (the fast NumPy way)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    cols = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = cols @ w.reshape(o, -1).T + b
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer sizes")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "ops.json"))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    sizes = [64, 128, 256] if args.quick else [64, 128, 256, 512, 1024]
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        t_fc = median_time(lambda: fc.matmul(a, b))
        t_np = median_time(lambda: a @ b)
        flops = 2 * n ** 3
        rows.append(dict(workload=f"matmul {n}x{n}x{n}", unit="GFLOP/s",
                         fc=flops / t_fc / 1e9, numpy=flops / t_np / 1e9,
                         fc_ms=t_fc * 1e3, numpy_ms=t_np * 1e3))

    counts = [1 << 10, 1 << 14, 1 << 17, 1 << 20]
    for n in counts:
        x = rng.standard_normal(n, dtype=np.float32)
        y = rng.standard_normal(n, dtype=np.float32)
        for name, f_fc, f_np, nbytes in [
                ("add", lambda: fc.add(x, y), lambda: np.add(x, y), 12 * n),
                ("relu", lambda: fc.relu(x), lambda: np.maximum(x, 0), 8 * n)]:
            t_fc, t_np = median_time(f_fc), median_time(f_np)
            rows.append(dict(workload=f"{name} {n} floats", unit="GB/s",
                             fc=nbytes / t_fc / 1e9, numpy=nbytes / t_np / 1e9,
                             fc_ms=t_fc * 1e3, numpy_ms=t_np * 1e3))

    x = rng.standard_normal((1, 64, 56, 56), dtype=np.float32)
    w = rng.standard_normal((64, 64, 3, 3), dtype=np.float32)
    b = rng.standard_normal(64, dtype=np.float32)
    np.testing.assert_allclose(fc.conv2d(x, w, b, padding=1), conv_numpy(x, w, b, 1),
                               rtol=1e-3, atol=1e-2)
    t_fc = median_time(lambda: fc.conv2d(x, w, b, padding=1), min_reps=3)
    t_np = median_time(lambda: conv_numpy(x, w, b, 1), min_reps=3)
    flops = 2 * 64 * 56 * 56 * 64 * 9
    rows.append(dict(workload="conv2d 1x64x56x56, 64x3x3, pad 1, bias", unit="GFLOP/s",
                     fc=flops / t_fc / 1e9, numpy=flops / t_np / 1e9,
                     fc_ms=t_fc * 1e3, numpy_ms=t_np * 1e3))

    print(f"{'workload':<42} {'unit':<8} {'fc':>9} {'numpy':>9} {'fc/numpy':>9}")
    for r in rows:
        r["ratio"] = r["fc"] / r["numpy"]
        print(f"{r['workload']:<42} {r['unit']:<8} {r['fc']:>9.2f} {r['numpy']:>9.2f} {r['ratio']:>9.2f}x")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(dict(machine=platform.processor() or platform.machine(),
                       cpus=os.cpu_count(), numpy=np.__version__,
                       note="fc/numpy > 1 means FlashCompile is faster",
                       rows=rows), f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
