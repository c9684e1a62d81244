"""The simulator against measurements on this kind of machine: every case
of benchmarks/results/sim-validation-host.json (FlashCompile's own programs,
measured by benchmarks/validate_simulator.py) is predicted again with the
current model and the calibration stored with the measurements."""
import json
import math
import os

import numpy as np
import pytest

import flashcompile as fc
from flashcompile.sim import calibrate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "benchmarks", "results", "sim-validation-host.json")


@pytest.fixture(scope="module")
def validation():
    data = json.load(open(DATA))
    host = calibrate.host_device(data=data["calibration"])
    fc.set_num_threads(data["threads"])
    rows = []
    for case in data["cases"]:
        sim = fc.simulate(fc.compile_mlir(case["ir"], name=case["name"]), host)
        measured = case["measured_us"] * 1e-6
        terms = {"compute": sum(k.compute_s for k in sim.kernels),
                 "memory": sum(k.memory_s for k in sim.kernels),
                 "overhead": sum(k.overhead_s for k in sim.kernels) + sim.call_overhead_s}
        # The single term that best explains the measured time.
        observed = min(terms, key=lambda b: abs(math.log(measured / max(terms[b], 1e-12))))
        rows.append(dict(case, predicted_us=sim.time_s * 1e6,
                         error=(sim.time_s - measured) / measured, bound=sim.bound,
                         observed=observed))
    print(f"\n{'group':<6}{'case':<42}{'measured us':>12}{'predicted us':>13}{'error':>8}  bound")
    for r in rows:
        print(f"{r['group']:<6}{r['name']:<42}{r['measured_us']:>12.2f}{r['predicted_us']:>13.2f}"
              f"{r['error']:>+8.1%}  {r['bound']} (observed {r['observed']})")
    return rows


def test_per_op_error(validation):
    errors = np.abs([r["error"] for r in validation if r["group"] == "op"])
    print(f"per-op |error|: median {np.median(errors):.1%}, p90 {np.percentile(errors, 90):.1%}")
    assert len(errors) >= 15
    assert np.median(errors) <= 0.10
    assert np.percentile(errors, 90) <= 0.20


def test_end_to_end_model_error(validation):
    """Every whole model within the issue's 10% (MLPs, LeNet-5, a
    transformer block), the errors printed."""
    models = [r for r in validation if r["group"] == "model"]
    assert len(models) >= 3
    for r in models:
        print(f"model {r['name']}: {r['error']:+.1%}")
        assert abs(r["error"]) <= 0.10, r["name"]


def test_bound_labels_agree(validation):
    agree = [r["bound"] == r["observed"] for r in validation]
    print(f"bound labels agree on {sum(agree)} of {len(agree)}")
    assert sum(agree) >= 0.9 * len(agree)
