"""Where a zoo model's time goes, measured: each convolution of the graph
stage run alone (its shapes, stride, padding and groups, random weights)
and timed, summed by kind; the rest is the whole model less the sum.

    PYTHONPATH=build/python_packages taskset -c 0 python3 benchmarks/profile_zoo_convs.py resnet18 1
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flashcompile as fc  # noqa: E402
import zoo  # noqa: E402
from harness import timeit  # noqa: E402
name = sys.argv[1]; threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
fc.set_num_threads(threads)
model, x = zoo.build(name, 224)
m = fc.from_pytorch(model, (x,))
xn = x.numpy()
whole = timeit(lambda: m(xn))
# Each convolution of the graph stage (read from its printed IR: this is a
# measurement script, not the compiler) as a one-op program.
graph = m.compiled.ir("graph")
lines = [l for l in graph.splitlines() if "flash.conv2d" in l]
tot = {}
for l in lines:
    shapes = re.findall(r"tensor<([0-9x]+)xf32>", l)
    xs = tuple(int(v) for v in shapes[0].split("x")); ws = tuple(int(v) for v in shapes[1].split("x"))
    stride = [int(v) for v in re.search(r"stride = array<i64: ([0-9, ]+)>", l).group(1).split(",")]
    pad = [int(v) for v in re.search(r"padding = array<i64: ([0-9, ]+)>", l).group(1).split(",")]
    g = re.search(r"groups = (\d+)", l); groups = int(g.group(1)) if g else 1
    bias = len(shapes) > 3
    a = np.random.rand(*xs).astype(np.float32); wt = np.random.rand(*ws).astype(np.float32)
    b = np.random.rand(ws[0]).astype(np.float32) if bias else None
    t = timeit(lambda: fc.conv2d(a, wt, b, stride=tuple(stride), padding=tuple(pad), groups=groups), min_time=0.05)
    kind = "depthwise" if groups == xs[1] and groups > 1 else ("grouped" if groups > 1 else ("1x1" if ws[2] == ws[3] == 1 else f"{ws[2]}x{ws[3]}"))
    tot[kind] = tot.get(kind, 0) + t
print(f"{name} {threads}t whole {whole*1e3:.2f} ms; convolutions alone: " + ", ".join(f"{k} {v*1e3:.2f} ms" for k, v in sorted(tot.items(), key=lambda kv: -kv[1])) + f"; rest {max(0, whole - sum(tot.values()))*1e3:.2f} ms")
