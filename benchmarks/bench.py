"""FlashCompile vs NumPy, PyTorch (eager, torch.compile), JAX (jit) and ONNX
Runtime on the workloads of workloads.py, in one process, with every
framework set to the same thread count.

    python3 benchmarks/bench.py --threads 1 --out benchmarks/results/bench-1t.json

Usually run through benchmarks/run.sh, which installs the baselines, measures
the machine's peak and runs 1 and all threads. A baseline that is not
installed is reported as such, not silently dropped.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time


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


class Baselines:
    """Each framework's version of a workload; None where unavailable."""

    def __init__(self, threads, skip):
        self.threads = threads
        self.available = {}
        self.why = {}
        import numpy
        self.available["numpy"] = numpy
        for name, importer in [("torch", self._torch), ("jax", self._jax),
                               ("onnxruntime", self._ort)]:
            if name in skip:
                self.why[name] = "skipped (--skip)"
                continue
            try:
                self.available[name] = importer()
            except Exception as e:  # not installed, or fails to import
                self.why[name] = f"unavailable: {type(e).__name__}: {e}"[:200]

    def _torch(self):
        import torch
        torch.set_num_threads(self.threads)
        return torch

    def _jax(self):
        import jax
        jax.config.update("jax_platforms", "cpu")
        return jax

    def _ort(self):
        import onnx  # noqa: F401
        import onnxruntime
        return onnxruntime

    def runners(self, w, inputs):
        """name -> zero-argument callable running the workload."""
        out = {"numpy": lambda: w.numpy(*inputs)}
        if "torch" in self.available and w.torch:
            torch = self.available["torch"]
            tin = [torch.from_numpy(x) for x in inputs]
            fn = w.torch(torch)
            out["torch"] = lambda: fn(*tin)
        if "jax" in self.available and w.jax:
            jax = self.available["jax"]
            jin = [jax.device_put(x) for x in inputs]
            jitted = jax.jit(w.jax(jax.numpy))
            out["jax.jit"] = lambda: jitted(*jin).block_until_ready()
        if "onnxruntime" in self.available and w.onnx:
            ort = self.available["onnxruntime"]
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            sess = ort.InferenceSession(w.onnx().SerializeToString(), opts,
                                        providers=["CPUExecutionProvider"])
            names = [i.name for i in sess.get_inputs()]
            feed = dict(zip(names, inputs))
            out["onnxruntime"] = lambda: sess.run(None, feed)
        return out


ABLATIONS = {"no ukernels": "ukernels=false", "no fusion": "fuse-elementwise=false",
             "no im2col": "conv-im2col=false"}
NAIVE_FLOP_LIMIT = 3e8  # naive loops run ~1 GFLOP/s: skip ablations beyond ~0.3 s


def torch_compile_only(args, workloads):
    """torch.compile in a process of its own: Inductor loads Triton, whose
    embedded LLVM crashes next to jaxlib's in one process."""
    import torch
    torch.set_num_threads(args.threads)
    result = {}
    for w in workloads:
        tin = [torch.from_numpy(x) for x in w.inputs()]
        compiled = torch.compile(w.torch(torch))
        result[w.name] = timeit(lambda: compiled(*tin))
    return result


def run_torch_compile_subprocess(args):
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        cmd = [sys.executable, __file__, "--threads", str(args.threads), "--only-torch-compile",
               "--out", tmp.name] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return None, f"torch.compile run failed: {proc.stderr.strip()[-300:]}"
        return json.load(open(tmp.name)), None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only-torch-compile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip", default="", help="comma-separated: torch,jax,onnxruntime,torch.compile")
    parser.add_argument("--peak", default=os.path.join(os.path.dirname(__file__), "results", "peak.json"))
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    set_threads(args.threads)
    skip = set(filter(None, args.skip.split(",")))
    # A fresh compile cache: "compile s" is a cold compile, and the second
    # compile of the same module measures the cached path.
    import tempfile
    os.environ["FLASH_CACHE_DIR"] = tempfile.mkdtemp(prefix="flash-bench-cache-")

    import numpy as np
    sys.path.insert(0, os.path.dirname(__file__))
    from workloads import all_workloads
    if args.only_torch_compile:
        json.dump(torch_compile_only(args, all_workloads(args.quick)), open(args.out, "w"))
        return
    import flashcompile as fc

    fc.set_num_threads(args.threads)
    peak = json.load(open(args.peak)) if os.path.exists(args.peak) else {}
    fma_peak = peak.get("fma_gflops_avx2_1thread" if args.threads == 1 else "fma_gflops_avx2_allthreads")
    base = Baselines(args.threads, skip)
    rows = []
    for w in all_workloads(args.quick):
        inputs = w.inputs()
        row = {"workload": w.name, "kind": w.kind, "unit": w.unit, "threads": args.threads}
        t0 = time.perf_counter()
        compiled = fc.compile_mlir(w.flash)
        row["fc_compile_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        fc.compile_mlir(w.flash)
        row["fc_compile_cached_s"] = time.perf_counter() - t0
        expected = w.numpy(*inputs)
        got = compiled(*inputs)
        scale = float(np.max(np.abs(expected))) or 1.0
        row["fc_max_rel_error"] = float(np.max(np.abs(got - expected))) / scale
        row["fc_correct"] = bool(row["fc_max_rel_error"] < 1e-3)
        seconds = {"flashcompile": timeit(lambda: compiled(*inputs))}
        for name, options in ABLATIONS.items():
            if options.startswith("conv-im2col") and w.kind != "conv":
                continue  # no convolution: the same code as the default
            if options.startswith("ukernels") and w.kind in ("matmul", "mlp") and w.flops > NAIVE_FLOP_LIMIT:
                row[f"ablation {name}"] = "skipped: naive loops would take seconds per call"
                continue
            variant = fc.compile_mlir(w.flash, options=options)
            seconds[f"flashcompile ({name})"] = timeit(lambda: variant(*inputs))
        for name, fn in base.runners(w, inputs).items():
            try:
                seconds[name] = timeit(fn)
            except Exception as e:
                row[f"{name} error"] = f"{type(e).__name__}: {e}"[:200]
        row["seconds"] = seconds
        row["rate"] = {k: w.flops / s / 1e9 for k, s in seconds.items()}
        ours = row["rate"]["flashcompile"]
        row["speedup_vs"] = {k: ours / r for k, r in row["rate"].items() if not k.startswith("flashcompile")}
        if w.unit == "GFLOP/s" and fma_peak:
            row["fraction_of_peak"] = ours / fma_peak
        rows.append(row)
        vs = "  ".join(f"{k} {v:.2f}x" for k, v in row["speedup_vs"].items())
        print(f"[{args.threads}t] {w.name:<36} fc {ours:8.2f} {w.unit:<8} "
              f"compile {row['fc_compile_s']:.2f}s  {'OK ' if row['fc_correct'] else 'BAD'} {vs}", flush=True)

    # Per-call overhead of a cached eager op on a small array.
    x = np.random.default_rng(0).standard_normal(1024, dtype=np.float32)
    overhead = {"fc.add": timeit(lambda: fc.add(x, x), min_time=0.5),
                "np.add": timeit(lambda: np.add(x, x), min_time=0.5)}
    overhead["ratio"] = overhead["fc.add"] / overhead["np.add"]
    print(f"[{args.threads}t] per-call overhead, add on 1024 floats: fc.add "
          f"{overhead['fc.add'] * 1e6:.2f} us, np.add {overhead['np.add'] * 1e6:.2f} us "
          f"({overhead['ratio']:.2f}x)", flush=True)
    if "torch.compile" not in skip and "torch" in base.available:
        compiled_seconds, why = run_torch_compile_subprocess(args)
        if why:
            base.why["torch.compile"] = why
        for row in rows:
            if compiled_seconds and row["workload"] in compiled_seconds:
                w_flops = row["rate"]["flashcompile"] * row["seconds"]["flashcompile"]
                row["seconds"]["torch.compile"] = compiled_seconds[row["workload"]]
                row["rate"]["torch.compile"] = w_flops / compiled_seconds[row["workload"]]
                row["speedup_vs"]["torch.compile"] = (row["rate"]["flashcompile"]
                                                      / row["rate"]["torch.compile"])
                print(f"[{args.threads}t] {row['workload']:<36} vs torch.compile "
                      f"{row['speedup_vs']['torch.compile']:.2f}x", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"threads": args.threads, "machine": platform.processor() or platform.machine(),
                   "python": platform.python_version(), "peak": peak,
                   "baselines_missing": base.why, "overhead_add_1024": overhead,
                   "rows": rows}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
