"""Ablation of the graph-level optimizations on real models: each zoo model
(benchmarks/zoo.py) imported with the default pipeline and with one switch
off at a time, the variants timed in turn over several rounds
on 1 and 2 threads, the order rotated every round (the first timed after a
pause ran measurably differently), the least median of each kept. Every
variant's output is checked against torch's first. Variants that compile
to the same program (BERT has no batch norm to fold) show the noise floor.

    python3 benchmarks/bench_ablation.py --out benchmarks/results/ablation-zoo.json

The speedup of a switch is (seconds with it off) / (seconds with everything
on): above 1.0x the optimization pays on that model.
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import check, in_rotated_rounds, provenance, write_result  # noqa: E402
import zoo  # noqa: E402

# (label, pipeline options): each optimization switched off on its own.
SWITCHES = [
    ("batch-norm folding", "fold-batch-norm=false"),
    ("epilogue fusion", "fuse-epilogue=false"),
    ("elementwise fusion", "fuse-elementwise=false"),
    ("implicit GEMM", "implicit-gemm=false"),
    ("Winograd", "winograd=false"),
    ("early deallocation", "early-dealloc=false"),
]
MODELS = ["resnet18", "mobilenet_v2", "hf_bert"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--out")
    args = parser.parse_args()
    import torch
    import flashcompile as fc
    rows = []
    for name in args.models:
        model, x = zoo.build(name, args.size)
        with torch.no_grad():
            ref = model(x).numpy()
        xn = x.numpy()
        variants = {"default": fc.from_pytorch(model, (x,))}
        for label, options in SWITCHES:
            variants[label] = fc.from_pytorch(model, (x,), options=options)
        for label, f in variants.items():
            why = check(lambda: f(xn), ref)
            if why:
                raise SystemExit(f"{name} ({label}): {why}")
        for threads in (1, 2):
            fc.set_num_threads(threads)
            seconds = in_rotated_rounds({k: (lambda f=f: f(xn)) for k, f in variants.items()},
                                        args.rounds)
            row = {"name": name, "threads": threads, "seconds": seconds,
                   "speedup": {label: seconds[label] / seconds["default"]
                               for label, _ in SWITCHES}}
            rows.append(row)
            print(f"{name} {threads}t: default {seconds['default'] * 1e3:.2f} ms; " +
                  ", ".join(f"{k} off {v:.3f}x" for k, v in row["speedup"].items()),
                  flush=True)
    data = {"provenance": provenance(), "image_size": args.size, "batch": 1,
            "switches": dict(SWITCHES), "rounds": args.rounds,
            "note": "speedup = seconds with the switch off / seconds with everything on",
            "rows": rows}
    write_result(args.out, data)


if __name__ == "__main__":
    main()
