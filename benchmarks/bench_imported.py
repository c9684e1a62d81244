"""Imported models: torch.nn models with random weights, run by PyTorch
eager, torch.compile and ONNX Runtime (on torch.onnx.export's model), and
by FlashCompile imported both ways (fc.from_pytorch, and fc.from_onnx on
the same ONNX file), every output checked against torch's.

    python3 benchmarks/bench_imported.py --threads 1 --out benchmarks/results/imported-1t.json

benchmarks/run_imported.sh runs 1 thread (pinned) and all threads and writes
benchmarks/results/imported.md. torch.compile runs in a child process (it
loads its own LLVM through Triton); everything else in this one.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RELATIVE_TOLERANCE, check, in_rounds, onnxruntime_session,  # noqa: E402
                     provenance, scratch_dir, set_threads, timeit)


def models():
    """name -> (module builder, input shape); weights from a fixed seed so
    a child process builds the same model."""
    from torch import nn

    def mlp():
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))

    def cnn():
        def block(i, o, stride):
            return [nn.Conv2d(i, o, 3, stride=stride, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
        return nn.Sequential(*block(3, 32, 1), *block(32, 64, 2), *block(64, 128, 2),
                             nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(128, 10))

    def encoder():
        return nn.TransformerEncoderLayer(256, 4, dim_feedforward=1024, dropout=0.0,
                                          batch_first=True)

    return {"torch_mlp_b64": (mlp, (64, 784)), "torch_cnn_b8": (cnn, (8, 3, 32, 32)),
            "torch_encoder_layer_s128": (encoder, (1, 128, 256))}


def build(name):
    import torch
    torch.manual_seed(0)
    make, shape = models()[name]
    model = make().eval()
    x = torch.randn(*shape)
    return model, x


def torch_compile_times(threads):
    """Run in a child process: seconds per call of torch.compile per model."""
    import torch
    torch.set_num_threads(threads)
    out = {}
    for name in models():
        model, x = build(name)
        compiled = torch.compile(model)
        with torch.no_grad():
            why = check(lambda: compiled(x), model(x).numpy())
            out[name] = why or timeit(lambda: compiled(x))
    return out


def table(paths) -> str:
    """A markdown table of one or more result files (also docs/importers.md's,
    through benchmarks/gen_docs.py)."""
    lines = ["| model | threads | torch eager ms | torch.compile ms | ONNX Runtime ms | "
             "fc.from_onnx ms | fc.from_pytorch ms | vs eager | vs torch.compile | vs ORT |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    not_timed = []
    for path in paths:
        result = json.load(open(path))
        for row in result["rows"]:
            t, s = row["seconds"], row["speedup"]

            def ms(k):
                return f"{t[k] * 1e3:.3f}" if t.get(k) else row.get("not_timed", {}).get(k, "n/a").split(":")[0]

            def x(k):
                return f"{s[k]:.2f}x" if s.get(k) else "n/a"
            lines.append(f"| {row['name']} | {result['threads']} | {ms('torch')} | "
                         f"{ms('torch.compile')} | {ms('onnxruntime')} | {ms('flash.from_onnx')} | "
                         f"{ms('flash.from_pytorch')} | {x('torch')} | {x('torch.compile')} | "
                         f"{x('onnxruntime')} |")
            not_timed += [f"- {row['name']}, {result['threads']} thread(s), {k}: {v}"
                          for k, v in row.get("not_timed", {}).items()]
    return ("\n".join(lines) + "\n\nvs X = X's time / fc.from_pytorch's time (above 1: ours faster). "
            "Every output was checked against torch eager's before timing"
            + (":\n\n" + "\n".join(not_timed) if not_timed else "; all matched."))


def report(paths, md_path):
    text = table(paths) + "\n"
    with open(md_path, "w") as f:
        f.write(text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out")
    parser.add_argument("--report", nargs="+", help="result files to tabulate into --md")
    parser.add_argument("--md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report:
        report(args.report, args.md)
        return
    set_threads(args.threads)
    measured_with = provenance()  # the code as it is when the run starts
    if args.child:
        print(json.dumps(torch_compile_times(args.threads)))
        return
    import numpy as np
    import onnxruntime as ort
    import torch

    import flashcompile as fc
    torch.set_num_threads(args.threads)
    fc.set_num_threads(args.threads)

    child = subprocess.run([sys.executable, __file__, "--child", "--threads", str(args.threads)],
                           capture_output=True, text=True)
    compiled_times = json.loads(child.stdout.splitlines()[-1]) if child.returncode == 0 else {}
    if child.returncode != 0:
        print("torch.compile failed:", child.stderr[-400:], file=sys.stderr)

    rows = []
    tmp = scratch_dir(prefix="flash-bench-imported-")
    for name in models():
        model, x = build(name)
        xn = x.numpy()
        with torch.no_grad():
            expected = model(x).numpy()
        path = f"{tmp}/{name}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x,), path, dynamo=True, opset_version=18)
        sess = onnxruntime_session(path, args.threads)
        feed = {sess.get_inputs()[0].name: xn}
        ours_torch = fc.from_pytorch(model, (x,))
        ours_onnx = fc.from_onnx(path)
        contenders = {"torch": lambda: model(x),
                      "onnxruntime": lambda: sess.run(None, feed),
                      "flash.from_onnx": lambda: ours_onnx(xn),
                      "flash.from_pytorch": lambda: ours_torch(xn)}
        not_timed = {}
        with torch.no_grad():
            for label in list(contenders):
                why = check(contenders[label], expected)
                if why:  # reported as wrong, not timed
                    not_timed[label] = why
                    del contenders[label]
            times = in_rounds(contenders)
        compiled = compiled_times.get(name)
        if isinstance(compiled, str):
            not_timed["torch.compile"] = compiled
            compiled = None
        times["torch.compile"] = compiled
        flash = times.get("flash.from_pytorch")
        row = {"name": name, "seconds": times, "not_timed": not_timed,
               "speedup": {k: (v / flash if v and flash else None) for k, v in times.items()}}
        rows.append(row)
        print(f"{name:28s} " + "  ".join(
            f"{k} {v * 1e3:.3f} ms" if v else f"{k} n/a" for k, v in times.items()), flush=True)
    result = {"threads": args.threads, "provenance": measured_with,
              "check": "every contender's output against torch eager's, max |out - ref| / max |ref| "
                       f"<= {RELATIVE_TOLERANCE:g}",
              "torch": torch.__version__, "onnxruntime": ort.__version__, "rows": rows,
              "note": "speedup = baseline seconds / fc.from_pytorch seconds (above 1: ours faster)"}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
