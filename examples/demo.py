"""FlashCompile demo: compile and run matmul, relu and conv2d on NumPy arrays,
check each against NumPy, and print the IR of a matmul at every stage."""
import sys

import numpy as np

import flashcompile as fc

rng = np.random.default_rng(0)
ok = True


def check(name, got, want, tol=1e-4):
    global ok
    err = float(np.max(np.abs(got - want))) if got.size else 0.0
    good = np.allclose(got, want, rtol=tol, atol=tol)
    ok &= good
    print(f"  {name:<46} shape={str(got.shape):<16} max|fc - numpy| = {err:.2e}  "
          f"{'OK' if good else 'MISMATCH'}")


print("== Eager ops, compiled on first use, checked against NumPy")
a = rng.standard_normal((64, 100), dtype=np.float32)
b = rng.standard_normal((100, 33), dtype=np.float32)
check("fc.matmul(a[64x100], b[100x33])", fc.matmul(a, b), a @ b)
x = rng.standard_normal((5, 7), dtype=np.float32)
check("fc.relu(x[5x7])", fc.relu(x), np.maximum(x, 0))
check("fc.add(x[5x7], row[7]) (broadcast)", fc.add(x, x[0]), x + x[0])

img = rng.standard_normal((2, 3, 16, 16), dtype=np.float32)
w = rng.standard_normal((8, 3, 3, 3), dtype=np.float32)
bias = rng.standard_normal(8, dtype=np.float32)
y = fc.conv2d(img, w, bias, stride=2, padding=1)
# NumPy reference: zero-pad, then sum over the 3x3 window positions.
xp = np.pad(img, ((0, 0), (0, 0), (1, 1), (1, 1)))
ref = np.zeros((2, 8, 8, 8), np.float32) + bias[None, :, None, None]
for i in range(3):
    for j in range(3):
        ref += np.einsum("nchw,oc->nohw", xp[:, :, i:i + 15:2, j:j + 15:2], w[:, :, i, j])
check("fc.conv2d(x[2x3x16x16], w[8x3x3x3], b, s=2, p=1)", y, ref)
check("fc.relu(fc.conv2d(...))", fc.relu(y), np.maximum(ref, 0))

print(f"\n== Compile cache: {fc.cache_info()}")

print("\n== The IR of fc.matmul(2x3, 3x4) at every stage")
c = fc.lower(fc.matmul, np.ones((2, 3), np.float32), np.ones((3, 4), np.float32))
for stage in c.stages:
    text = c.ir(stage)
    lines = text.strip().splitlines()
    if stage in ("llvm", "llvm-ir", "asm"):
        shown = lines[:40]
    else:
        shown = lines
    print(f"\n---- stage '{stage}' ({len(lines)} lines{', first 40 shown' if len(shown) < len(lines) else ''})")
    print("\n".join(shown))

print("\n== A whole model as one graph: fc.compile(Sequential), then the simulator")
model = fc.Sequential([fc.Linear(784, 128, seed=0), fc.ReLU(), fc.Linear(128, 10, seed=1)])
x = rng.standard_normal((64, 784)).astype(np.float32)
compiled = fc.compile(model, x)
l1, l2 = model[0], model[2]
check("mlp 784-128-10 (fc.compile)", compiled(x),
            np.maximum(x.astype(np.float64) @ l1.weight.T + l1.bias, 0) @ l2.weight.T + l2.bias,
            tol=1e-3)
print(f"  graph after optimization: {compiled.ir('graph').count('flash.')} Flash ops, "
      f"weights folded into constants")
for device in ("nvidia-a100-40gb", "google-tpu-v4", "apple-m1-gpu"):
    r = fc.simulate(compiled, device, dtype="bf16" if device != "apple-m1-gpu" else "fp16")
    print(f"  predicted on {r.device.display:<28} {r.time_ms * 1e3:8.1f} us  "
          f"({r.bound}-bound, {r.utilization:.1%} of peak)")

print("\nAll results match NumPy." if ok else "\nSOME RESULTS DIFFER FROM NUMPY.")
sys.exit(0 if ok else 1)
