"""FlashCompile vs NumPy, PyTorch (eager, torch.compile), JAX (jit) and ONNX
Runtime on the workloads of workloads.py, in one process, with every
framework set to the same thread count.

    python3 benchmarks/bench.py --threads 1 --out benchmarks/results/bench-1t.json

Usually run through benchmarks/run.sh, which installs the baselines, measures
the machine's peak and runs 1 and all threads. A baseline that is not
installed is reported as such, not silently dropped. Every contender's
output is checked against the float64 NumPy reference first; a wrong one is
reported as wrong and not timed. The contenders of a workload are timed in
turn over --rounds rounds (the least of each one's medians), so the VM's
slow phases hit all of them alike.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RELATIVE_TOLERANCE, check, in_rounds, onnxruntime_session,  # noqa: E402
                     provenance, relative_error,
                     scratch_dir, set_threads, timeit)


class Baselines:
    """Each framework's version of a workload; None where unavailable."""

    def __init__(self, threads, skip):
        self.threads = threads
        self.available = {}
        self.why = {}
        import numpy
        self.available["numpy"] = numpy
        for name, importer in [("torch", self._torch), ("jax", self._jax),
                               ("onnxruntime", self._ort), ("iree", self._iree)]:
            if name in skip:
                self.why[name] = "skipped (--skip)"
                continue
            try:
                self.available[name] = importer()
            except Exception as e:  # not installed, or fails to import
                self.why[name] = f"unavailable: {type(e).__name__}: {e}"[:200]

    def versions(self) -> dict:
        out = {}
        for name, module in self.available.items():
            out[name] = getattr(module, "__version__", None) or getattr(
                getattr(module, "version", None), "VERSION", "?")
        return out

    def _torch(self):
        import torch
        torch.set_num_threads(self.threads)
        return torch

    def _jax(self):
        import jax
        jax.config.update("jax_platforms", "cpu")
        return jax

    def _iree(self):
        import shutil

        import onnx  # noqa: F401
        import iree.runtime as rt
        for tool in ("iree-import-onnx", "iree-compile"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} not on PATH")
        if self.threads > 1:
            rt.flags.parse_flags(f"--task_topology_group_count={self.threads}")
        return rt

    def _iree_runner(self, w, inputs):
        """IREE's own path: ONNX -> iree-import-onnx -> iree-compile
        (llvm-cpu, host CPU) -> the IREE runtime (local-sync on one thread,
        local-task on several)."""
        import subprocess

        import onnx
        rt = self.available["iree"]
        d = scratch_dir(prefix="flash-bench-iree-")
        onnx.save(w.onnx(), f"{d}/m.onnx")
        subprocess.run(["iree-import-onnx", f"{d}/m.onnx", "-o", f"{d}/m.mlir"],
                       check=True, capture_output=True)
        subprocess.run(["iree-compile", f"{d}/m.mlir", "--iree-hal-target-device=local",
                        "--iree-hal-local-target-device-backends=llvm-cpu",
                        "--iree-llvmcpu-target-cpu=host", "-o", f"{d}/m.vmfb"],
                       check=True, capture_output=True)
        ctx = rt.SystemContext(config=rt.Config("local-sync" if self.threads == 1 else "local-task"))
        vm = rt.VmModule.copy_buffer(ctx.instance, open(f"{d}/m.vmfb", "rb").read())
        ctx.add_vm_module(vm)
        name = [n for n in vm.function_names if not n.startswith("__") and not n.endswith("$async")][0]
        fn = ctx.modules.module[name]
        return lambda: fn(*inputs).to_host()

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
            sess = onnxruntime_session(w.onnx().SerializeToString(), self.threads)
            names = [i.name for i in sess.get_inputs()]
            feed = dict(zip(names, inputs))
            out["onnxruntime"] = lambda: sess.run(None, feed)
        if "iree" in self.available and w.onnx:
            try:
                out["iree"] = self._iree_runner(w, inputs)
            except Exception as e:  # a model IREE cannot compile: say so
                self.why.setdefault("iree", f"failed on {w.name}: {e}"[:200])
        return out


ABLATIONS = {"no ukernels": "ukernels=false", "no fusion": "fuse-elementwise=false",
             "no im2col": "conv-im2col=false"}
NAIVE_FLOP_LIMIT = 3e8  # naive loops run ~1 GFLOP/s: skip ablations beyond ~0.3 s


def torch_compile_runner(args, w):
    import torch
    torch.set_num_threads(args.threads)
    tin = [torch.from_numpy(x) for x in w.inputs()]
    compiled = torch.compile(w.torch(torch))
    return lambda: compiled(*tin)


def tvm_runner(args, w):
    """TVM's Relax path from ONNX with its default schedules (no
    MetaSchedule tuning: that takes hours per model), for the host CPU."""
    import tvm
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx
    from tvm.target import codegen
    target = tvm.target.Target({"kind": "llvm", "mtriple": "x86_64-linux-gnu",
                                "mcpu": codegen.llvm_get_system_cpu(),
                                "num-cores": args.threads})
    executable = tvm.compile(from_onnx(w.onnx(), keep_params_in_input=False), target=target)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    make = tvm.runtime.tensor if hasattr(tvm.runtime, "tensor") else tvm.nd.array
    inputs = [make(x) for x in w.inputs()]
    main = vm["main"]
    return lambda: main(*inputs).numpy()


# Baselines that load their own LLVM (Triton for torch.compile, libtvm) run in
# a child process each: in one process with jaxlib's LLVM they crash.
ISOLATED = {"torch.compile": ("torch", torch_compile_runner),
            "tvm": ("tvm", tvm_runner)}


def isolated_only(args, name, workloads):
    """Seconds per call of one isolated baseline on every workload."""
    module, make_runner = ISOLATED[name]
    __import__(module)
    if module == "tvm":
        os.environ.setdefault("TVM_NUM_THREADS", str(args.threads))
    result = {}
    for w in workloads:
        try:
            fn = make_runner(args, w)
        except Exception as e:  # a model it cannot take: say so
            result[w.name] = f"failed: {type(e).__name__}: {e}"[:200]
            continue
        why = check(fn, w.reference(w.inputs()))
        result[w.name] = why or in_rounds({name: fn}, rounds=args.rounds)[name]
    return result


def run_isolated_subprocess(args, name):
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        cmd = [sys.executable, __file__, "--threads", str(args.threads), "--only", name,
               "--rounds", str(args.rounds), "--only-workloads", args.only_workloads,
               "--out", tmp.name] + (["--quick"] if args.quick else [])
        env = dict(os.environ, TVM_NUM_THREADS=str(args.threads))
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return None, f"{name} run failed: {proc.stderr.strip()[-300:]}"
        return json.load(open(tmp.name)), None


def select(workloads, names):
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    return [w for w in workloads if not wanted or w.name in wanted]


def measure(w, args, base, fma_peak) -> dict:
    """One workload: compile ours (cold, then from the cache), check every
    contender against the float64 reference, time the correct ones in turn."""
    import flashcompile as fc
    inputs = w.inputs()
    expected = w.reference(inputs)
    row = {"workload": w.name, "kind": w.kind, "unit": w.unit, "threads": args.threads,
           "work": w.flops, "not_timed": {}}
    t0 = time.perf_counter()
    compiled = fc.compile_mlir(w.flash)
    row["fc_compile_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fc.compile_mlir(w.flash)
    row["fc_compile_cached_s"] = time.perf_counter() - t0
    row["fc_max_rel_error"] = relative_error(compiled(*inputs), expected)
    row["fc_correct"] = bool(row["fc_max_rel_error"] <= RELATIVE_TOLERANCE)
    contenders = {"flashcompile": lambda: compiled(*inputs)}
    for name, options in ABLATIONS.items():
        if options.startswith("conv-im2col") and w.kind != "conv":
            continue  # no convolution: the same code as the default
        if options.startswith("ukernels") and w.kind in ("matmul", "mlp") and w.flops > NAIVE_FLOP_LIMIT:
            row["not_timed"][f"flashcompile ({name})"] = "skipped: naive loops would take seconds per call"
            continue
        variant = fc.compile_mlir(w.flash, options=options)
        contenders[f"flashcompile ({name})"] = (lambda v: lambda: v(*inputs))(variant)
    contenders.update(base.runners(w, inputs))
    for name in list(contenders):
        why = check(contenders[name], expected)
        if why:
            row["not_timed"][name] = why
            del contenders[name]
    seconds = in_rounds(contenders, rounds=args.rounds)
    row["seconds"] = seconds
    row["rate"] = {k: w.flops / s / 1e9 for k, s in seconds.items()}
    ours = row["rate"].get("flashcompile")
    row["speedup_vs"] = {k: ours / r for k, r in row["rate"].items()
                         if ours and not k.startswith("flashcompile")}
    if ours and w.unit == "GFLOP/s" and fma_peak:
        row["fraction_of_peak"] = ours / fma_peak
    vs = "  ".join(f"{k} {v:.2f}x" for k, v in row["speedup_vs"].items())
    bad = "  ".join(f"{k}: {v}" for k, v in row["not_timed"].items() if not v.startswith("skipped"))
    print(f"[{args.threads}t] {w.name:<36} fc {ours or float('nan'):8.2f} {w.unit:<8} "
          f"compile {row['fc_compile_s']:.2f}s  {'OK ' if row['fc_correct'] else 'WRONG'} {vs}"
          + (f"\n    not timed: {bad}" if bad else ""), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=sorted(ISOLATED), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds, contenders in turn")
    parser.add_argument("--only-workloads", default="", help="comma-separated workload names")
    parser.add_argument("--skip", default="", help="comma-separated: torch,jax,onnxruntime,torch.compile")
    parser.add_argument("--peak", default=os.path.join(os.path.dirname(__file__), "results", "peak.json"))
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    set_threads(args.threads)
    measured_with = provenance()  # the code as it is when the run starts
    skip = set(filter(None, args.skip.split(",")))
    # A fresh compile cache: "compile s" is a cold compile, and the second
    # compile of the same module measures the cached path.
    os.environ["FLASH_CACHE_DIR"] = scratch_dir(prefix="flash-bench-cache-")

    import numpy as np
    from workloads import all_workloads
    if args.only:
        workloads = select(all_workloads(args.quick), args.only_workloads)
        json.dump(isolated_only(args, args.only, workloads), open(args.out, "w"))
        return
    import flashcompile as fc

    fc.set_num_threads(args.threads)
    peak = json.load(open(args.peak)) if os.path.exists(args.peak) else {}
    fma_peak = peak.get("fma_gflops_avx2_1thread" if args.threads == 1 else "fma_gflops_avx2_allthreads")
    base = Baselines(args.threads, skip)
    rows = []
    for w in select(all_workloads(args.quick), args.only_workloads):
        rows.append(measure(w, args, base, fma_peak))

    # Per-call overhead of a cached eager op on a small array.
    x = np.random.default_rng(0).standard_normal(1024, dtype=np.float32)
    overhead = in_rounds({"fc.add": lambda: fc.add(x, x), "np.add": lambda: np.add(x, x)},
                         rounds=args.rounds, min_time=0.5)
    overhead["ratio"] = overhead["fc.add"] / overhead["np.add"]
    print(f"[{args.threads}t] per-call overhead, add on 1024 floats: fc.add "
          f"{overhead['fc.add'] * 1e6:.2f} us, np.add {overhead['np.add'] * 1e6:.2f} us "
          f"({overhead['ratio']:.2f}x)", flush=True)
    for name, (module, _) in ISOLATED.items():
        if name in skip:
            base.why[name] = "skipped (--skip)"
            continue
        if importlib.util.find_spec(module) is None:
            base.why[name] = f"unavailable: no module named '{module}'"
            continue
        isolated, why = run_isolated_subprocess(args, name)
        if why:
            base.why[name] = why
            continue
        for row in rows:
            value = isolated.get(row["workload"])
            if isinstance(value, str):
                row["not_timed"][name] = value
            elif value:
                row["seconds"][name] = value
                row["rate"][name] = row["work"] / value / 1e9
                if "flashcompile" in row["rate"]:
                    row["speedup_vs"][name] = row["rate"]["flashcompile"] / row["rate"][name]
                    print(f"[{args.threads}t] {row['workload']:<36} vs {name} "
                          f"{row['speedup_vs'][name]:.2f}x", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"threads": args.threads, "provenance": measured_with, "rounds": args.rounds,
                   "tolerance": f"max |out - ref| / max |ref| <= {RELATIVE_TOLERANCE:g} against float64 NumPy",
                   "versions": base.versions(), "peak": peak,
                   "baselines_missing": base.why, "overhead_add_1024": overhead,
                   "rows": rows}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
