"""Depthwise convolutions of the zoo's models, alone: the depthwise ukernel
(the default pipeline) against the generated loops it replaced
(`ukernels=false`), ONNX Runtime and torch eager, each layer with its bias
and ReLU6, on 1 and 2 threads, the contenders timed in turn over several
rounds (the order rotated each round), the least median kept. Every output
is checked against torch's first.

    python3 benchmarks/bench_depthwise.py --out benchmarks/results/depthwise.json
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import (check, in_rotated_rounds, onnxruntime_session, provenance,  # noqa: E402
                     write_result)

# (channels, size, kernel, stride, which model has it)
LAYERS = [
    (32, 112, 3, 1, "MobileNetV2 block 1"),
    (96, 112, 3, 2, "MobileNetV2 block 2"),
    (144, 56, 3, 2, "MobileNetV2 block 4"),
    (192, 28, 3, 1, "MobileNetV2 block 6"),
    (384, 14, 3, 1, "MobileNetV2 block 8"),
    (960, 7, 3, 1, "MobileNetV2 block 17"),
    (240, 28, 5, 1, "EfficientNet-B0 stage 4"),
    (576, 14, 5, 1, "MobileNetV3-small block 9"),
    (96, 56, 7, 1, "ConvNeXt-Tiny stage 1"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out")
    args = parser.parse_args()
    import numpy as np
    import torch
    import flashcompile as fc
    rows = []
    rng = np.random.default_rng(0)
    for channels, size, k, stride, where in LAYERS:
        conv = torch.nn.Conv2d(channels, channels, k, stride, k // 2, groups=channels)
        model = torch.nn.Sequential(conv, torch.nn.ReLU6()).eval()
        x = torch.from_numpy(rng.standard_normal((1, channels, size, size), dtype=np.float32))
        xn = x.numpy()
        with torch.no_grad():
            ref = model(x).numpy()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dw.onnx")
            torch.onnx.export(model, (x,), path, dynamo=False)
            sessions = {t: onnxruntime_session(path, t) for t in (1, 2)}
        name = sessions[1].get_inputs()[0].name
        ukernel = fc.from_pytorch(model, (x,))
        loops = fc.from_pytorch(model, (x,), options="ukernels=false")
        for threads in (1, 2):
            fc.set_num_threads(threads)
            torch.set_num_threads(threads)
            sess = sessions[threads]
            contenders = {"ukernel": lambda: ukernel(xn), "loops": lambda: loops(xn),
                          "onnxruntime": lambda: sess.run(None, {name: xn})[0],
                          "torch": lambda: model(x).numpy()}
            for label, fn in contenders.items():
                with torch.no_grad():
                    why = check(fn, ref)
                if why:
                    raise SystemExit(f"depthwise {channels}x{size} k{k} s{stride} ({label}): {why}")
            with torch.no_grad():
                seconds = in_rotated_rounds(contenders, args.rounds, min_time=0.1)
            row = {"channels": channels, "size": size, "kernel": k, "stride": stride,
                   "where": where, "threads": threads, "seconds": seconds,
                   "speedup": {label: seconds[label] / seconds["ukernel"]
                               for label in contenders if label != "ukernel"}}
            rows.append(row)
            print(f"{channels}x{size}x{size} k{k} s{stride} {threads}t: ukernel "
                  f"{seconds['ukernel'] * 1e6:.0f} us; " +
                  ", ".join(f"vs {k} {v:.2f}x" for k, v in row["speedup"].items()), flush=True)
    data = {"provenance": provenance(), "rounds": args.rounds,
            "note": "speedup = the contender's seconds / the ukernel's (above 1: the ukernel is faster)",
            "rows": rows}
    write_result(args.out, data)


if __name__ == "__main__":
    main()
