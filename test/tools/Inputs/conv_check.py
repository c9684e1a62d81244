"""Makes .npy inputs for conv-run.mlir, or checks flash-run's output
against a NumPy reference: conv_check.py make|check DIR."""
import sys

import numpy as np

d = sys.argv[2]
if sys.argv[1] == "make":
    rng = np.random.default_rng(0)
    np.save(f"{d}/x.npy", rng.standard_normal((1, 2, 5, 5), dtype=np.float32))
    np.save(f"{d}/w.npy", rng.standard_normal((3, 2, 3, 3), dtype=np.float32))
    np.save(f"{d}/b.npy", rng.standard_normal((3,), dtype=np.float32))
    np.save(f"{d}/bad.npy", np.zeros((2, 2), dtype=np.float64))
else:
    x, w, b = (np.load(f"{d}/{n}.npy") for n in "xwb")
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((1, 3, 5, 5), np.float32) + b[None, :, None, None]
    for i in range(5):
        for j in range(5):
            ref[0, :, i, j] += np.einsum("chw,ochw->o", xp[0, :, i:i + 3, j:j + 3], w)
    out = np.load(f"{d}/out/out0.npy")
    assert out.shape == ref.shape, out.shape
    np.testing.assert_allclose(out, np.maximum(ref, 0), rtol=1e-5, atol=1e-5)
    print("MATCHES NUMPY")
