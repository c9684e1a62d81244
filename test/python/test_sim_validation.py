"""The simulator against measurements on this kind of machine: every case
of benchmarks/results/sim-validation-host.json (FlashCompile's own programs,
measured by benchmarks/validate_simulator.py) is predicted again with the
current model and the calibration stored with the measurements."""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import sim_validation  # noqa: E402  (the predictions docs/simulator.md shows too)


@pytest.fixture(scope="module")
def validation():
    rows = sim_validation.host_rows()
    print("\n" + sim_validation.host_table())
    return rows


def test_per_op_error(validation):
    errors = np.abs([r["error"] for r in validation if r["group"] == "op"])
    print(f"per-op |error|: median {np.median(errors):.1%}, p90 {np.percentile(errors, 90):.1%}")
    assert len(errors) >= 15
    assert np.median(errors) <= 0.10
    assert np.percentile(errors, 90) <= 0.20


def test_end_to_end_model_error(validation):
    """Every whole model (MLPs, LeNet-5, a transformer block) within 20%,
    the errors printed. The simulator's target is 10%, and docs/simulator.md
    reports it met or not from the same file. Re-measured on 2026-12-04
    on a quiet machine, it was not met: every model was under-predicted
    by 8-17%. The earlier runs met it with a calibration whose all-core FMA
    peak had been measured while the second vCPU was busy (206 instead of
    231 GFLOP/s), and that error offset what the model misses. This bound
    guards against getting worse until the simulator's fidelity work
    closes the gap."""
    models = [r for r in validation if r["group"] == "model"]
    assert len(models) >= 3
    for r in models:
        print(f"model {r['name']}: {r['error']:+.1%}")
        assert abs(r["error"]) <= 0.20, r["name"]


def test_bound_labels_agree(validation):
    agree = [r["bound"] == r["observed"] for r in validation]
    print(f"bound labels agree on {sum(agree)} of {len(agree)}")
    assert sum(agree) >= 0.9 * len(agree)
