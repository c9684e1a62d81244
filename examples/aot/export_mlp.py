"""Compiles an MLP 784-128-10 ahead of time into DIR/libmlp.so + DIR/mlp.h,
and writes a test input and the expected output (from NumPy) next to them
for examples/aot/main.c:

    python3 examples/aot/export_mlp.py /tmp/aot
    cc examples/aot/main.c -I/tmp/aot -L/tmp/aot -lmlp -Wl,-rpath,/tmp/aot -lm -o /tmp/aot/mlp
    /tmp/aot/mlp /tmp/aot
"""
import sys

import numpy as np

import flashcompile as fc


def main(folder: str) -> None:
    model = fc.Sequential([fc.Linear(784, 128, seed=0), fc.ReLU(), fc.Linear(128, 10, seed=1)])
    x = np.random.default_rng(0).standard_normal((4, 784)).astype(np.float32)
    compiled = fc.compile(model, x)
    paths = compiled.export_library(folder, name="mlp")
    l1, l2 = model[0], model[2]
    expected = np.maximum(x @ l1.weight.T + l1.bias, 0) @ l2.weight.T + l2.bias
    x.tofile(f"{folder}/input.bin")
    expected.astype(np.float32).tofile(f"{folder}/expected.bin")
    for kind, path in paths.items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/aot")
