"""The benchmark harness: a wrong contender is reported and not timed, and
the workloads' inputs are not degenerate (no saturated softmax or one-hot
attention rows hiding numerical bugs)."""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench  # noqa: E402
import harness  # noqa: E402
import workloads  # noqa: E402


def test_check_accepts_right_and_rejects_wrong_outputs():
    ref = np.linspace(-1, 1, 12).reshape(3, 4)
    assert harness.check(lambda: ref.astype(np.float32), ref) is None
    assert harness.check(lambda: [ref + 1e-6], ref) is None  # one output in a list
    assert harness.check(lambda: ref * 1.01, ref).startswith("wrong")
    assert harness.check(lambda: ref.T, ref).startswith("wrong")  # shape
    assert harness.check(lambda: np.full_like(ref, np.nan), ref).startswith("wrong")
    assert harness.check(lambda: 1 / 0, ref).startswith("failed: ZeroDivisionError")


class _Baselines:
    """Two stand-in contenders: one right, one off by 1%."""
    why = {}

    def runners(self, w, inputs):
        expected = w.numpy(*inputs)
        return {"right": lambda: expected, "off by 1%": lambda: expected * 1.01}

    def versions(self):
        return {}


def test_a_wrong_contender_is_reported_and_not_timed():
    w = workloads.matmul(24, 40, 16)
    args = argparse.Namespace(threads=1, rounds=1)
    row = bench.measure(w, args, _Baselines(), fma_peak=None)
    assert row["fc_correct"] and row["fc_max_rel_error"] < 1e-5
    assert row["not_timed"]["off by 1%"].startswith("wrong: max relative error")
    assert "off by 1%" not in row["seconds"] and "off by 1%" not in row["speedup_vs"]
    assert row["seconds"]["right"] > 0 and row["seconds"]["flashcompile"] > 0


def test_lenet_softmax_is_not_saturated():
    w = workloads.lenet(16)
    probs = w.reference(w.inputs())
    assert probs.shape == (16, 10)
    np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-9)
    assert probs.max() < 0.9 and probs.min() > 1e-3  # not one-hot, not all 0 or 1


def test_transformer_attention_rows_are_spread():
    """The attention scores of the benchmark's encoder block: standard
    deviation near 1, no row with a single weight above 0.9."""
    batch, seq, e, heads = 1, 128, 256, 4
    w = workloads.transformer_block(batch, seq, e, heads)
    x, wq, bq, wk, bk = [a.astype(np.float64) for a in w.inputs()[:5]]

    def split(t):
        return t.reshape(batch, seq, heads, e // heads).transpose(0, 2, 1, 3)
    scores = split(x @ wq + bq) @ split(x @ wk + bk).transpose(0, 1, 3, 2) / np.sqrt(e // heads)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    assert 0.3 < scores.std() < 3
    assert (p.max(-1) > 0.9).mean() == 0
