"""The model zoo (benchmarks/zoo.py: torchvision architectures with random
weights) run by FlashCompile (fc.from_pytorch), PyTorch eager, ONNX Runtime
(on torch.onnx.export's model) and, with --torch-compile, torch.compile (in
a child process: it loads its own LLVM through Triton). Every contender's
output is checked against torch eager's before it is timed; contenders of a
model are timed in turn over several rounds (harness.in_rounds).

Also per model: FlashCompile's import-to-ready time (fc.from_pytorch and the
first call) with an empty compile cache, and again with the cache filled.

    python3 benchmarks/bench_zoo.py --threads 1 --out benchmarks/results/zoo-1t.json
    bash benchmarks/run_zoo.sh        # 1 and 2 threads, batch 1 and 8, the table
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import (RELATIVE_TOLERANCE, check, in_rounds, onnxruntime_session,  # noqa: E402
                     provenance, scratch_dir, set_threads, timeit)
import zoo  # noqa: E402


def torch_compile_times(names, size, batch, threads):
    """In a child process: seconds per call of torch.compile per model."""
    import torch
    torch.set_num_threads(threads)
    out = {}
    for name in names:
        model, x = zoo.build(name, size, batch)
        try:
            compiled = torch.compile(model)
            with torch.no_grad():
                why = check(lambda: compiled(x), model(x).numpy())
                out[name] = why or timeit(lambda: compiled(x))
        except Exception as e:  # noqa: BLE001 - reported, not timed
            out[name] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=224, help="image size (ViT: a multiple of 16)")
    parser.add_argument("--models", nargs="+", default=zoo.NAMES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time torch.compile (minutes per model on 2 cores)")
    parser.add_argument("--out")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    set_threads(args.threads)
    if args.child:
        print(json.dumps(torch_compile_times(args.models, args.size, args.batch, args.threads)))
        return
    measured_with = provenance()
    # Import times from an empty compile cache, then from a filled one.
    cache = scratch_dir(prefix="flash-zoo-cache-")
    os.environ["FLASH_CACHE_DIR"] = cache
    os.environ["FLASH_TUNING_DB"] = "off"
    import numpy as np
    import onnxruntime as ort
    import torch

    import flashcompile as fc
    torch.set_num_threads(args.threads)
    fc.set_num_threads(args.threads)

    compiled_times = {}
    if args.torch_compile:
        child = subprocess.run([sys.executable, __file__, "--child", "--threads",
                                str(args.threads), "--size", str(args.size), "--batch",
                                str(args.batch), "--models", *args.models],
                               capture_output=True, text=True)
        if child.returncode == 0:
            compiled_times = json.loads(child.stdout.splitlines()[-1])
        else:
            print("torch.compile failed:", child.stderr[-400:], file=sys.stderr)

    rows, tmp = [], scratch_dir(prefix="flash-bench-zoo-")
    for name in args.models:
        model, x = zoo.build(name, args.size, args.batch)
        xn = x.numpy()
        with torch.no_grad():
            expected = model(x).numpy()
        not_timed = {}
        t0 = time.perf_counter()
        ours = fc.from_pytorch(model, (x,))
        ours(xn)
        cold = time.perf_counter() - t0
        fc.clear_cache()
        t0 = time.perf_counter()
        fc.from_pytorch(model, (x,))(xn)
        cached = time.perf_counter() - t0
        path = f"{tmp}/{name}.onnx"
        contenders = {"torch": lambda: model(x), "flash": lambda: ours(xn)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (x,), dynamo=True, verbose=False).save(path)
            sess = onnxruntime_session(path, args.threads)
            feed = {sess.get_inputs()[0].name: xn}
            contenders["onnxruntime"] = lambda: sess.run(None, feed)
        except Exception as e:  # noqa: BLE001 - reported, not timed
            not_timed["onnxruntime"] = f"export or session failed: {type(e).__name__}: {e}"[:300]
        with torch.no_grad():
            for label in list(contenders):
                why = check(contenders[label], expected)
                if why:
                    not_timed[label] = why
                    del contenders[label]
            times = in_rounds(contenders, rounds=args.rounds)
        compiled = compiled_times.get(name)
        if isinstance(compiled, str):
            not_timed["torch.compile"] = compiled
            compiled = None
        times["torch.compile"] = compiled
        flash = times.get("flash")
        row = {"name": name, "seconds": times, "not_timed": not_timed,
               "import_s": {"cold": cold, "cached": cached},
               "speedup": {k: (v / flash if v and flash else None) for k, v in times.items()
                           if k != "flash"}}
        rows.append(row)
        print(f"{name:22s} import {cold:5.1f} s (cached {cached:4.1f} s)  " + "  ".join(
            f"{k} {v * 1e3:.2f} ms" if v else f"{k} n/a" for k, v in times.items()), flush=True)
    result = {"threads": args.threads, "batch": args.batch, "image_size": args.size,
              "provenance": measured_with,
              "check": "every contender's output against torch eager's, max |out - ref| / max |ref| "
                       f"<= {RELATIVE_TOLERANCE:g}",
              "torch": torch.__version__, "onnxruntime": ort.__version__, "rows": rows,
              "note": "speedup = contender seconds / FlashCompile seconds (above 1: ours faster)"}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
