"""The simulator against published measurements of other devices (see the
data file for sources and for what this does and does not validate)."""
import json
import os

import numpy as np

import flashcompile as fc
from test_simulator import matmul_ir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "benchmarks", "results", "sim-validation-published.json")


def test_max_achievable_matmul_flops():
    data = json.load(open(DATA))
    errors = []
    print(f"\n{'device':<20}{'shape MxNxK':>22}{'measured':>10}{'predicted':>11}{'error':>8}")
    for case in data["cases"]:
        m, n, k = case["m"], case["n"], case["k"]
        r = fc.simulate(matmul_ir(m, k, n), case["device"], case["dtype"])
        predicted = 2 * m * n * k / r.time_s / 1e12
        err = (predicted - case["measured_tflops"]) / case["measured_tflops"]
        errors.append(abs(err))
        print(f"{case['device']:<20}{f'{m}x{n}x{k}':>22}{case['measured_tflops']:>10.1f}"
              f"{predicted:>11.1f}{err:>+8.1%}")
    assert np.median(errors) <= 0.10
