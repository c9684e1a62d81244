"""ONNX's own backend node tests (generated in memory from the `onnx`
package's test-case definitions, onnx.backend.test.case.node: the same
models and data as onnx/backend/test/data/node), run through fc.from_onnx.

A case counts when every op type in it is in fc.onnx_support(): it then
either passes (outputs match ONNX's stored ones), is rejected with an
UnsupportedOnnx error naming the node and the reason (an attribute value,
dtype or dynamic shape we do not take), or fails (wrong result or any
other error).

The cases that pass are pinned, op by op, in onnx_node_suite_passing.json:
a case that stops passing (or turns into "rejected") fails the test, so a
regression cannot hide behind a total. After adding an op or attribute,
re-pin with `python3 test/python/onnx_node_suite.py --pin`."""
from __future__ import annotations

import collections
import json
import os
import sys
import warnings

import numpy as np

import flashcompile as fc


PINNED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx_node_suite_passing.json")
# Cases whose stored outputs were written rounded (ONNX generated them from
# literals with 4 decimals: 0.1511 for 0.151056), with the relative
# tolerance that rounding needs.
ROUNDED_REFERENCES = {"test_averagepool_2d_ceil_last_window_starts_on_pad": 1e-3}


def run_suite(rtol=1e-4, atol=1e-5):
    """(stats per op, failures, rejected, {op: [passing case names]},
    every case name the installed onnx package defines)."""
    from onnx.backend.test.case import node
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = node.collect_testcases(None)
    supported = set(fc.onnx_support())
    stats = collections.defaultdict(lambda: collections.Counter())
    failures, rejected = [], []
    passing = collections.defaultdict(list)
    for case in cases:
        ops = {n.op_type for n in case.model.graph.node}
        if not ops <= supported:
            continue
        key = case.model.graph.node[-1].op_type if len(ops) > 1 else next(iter(ops))
        for inputs, outputs in case.data_sets:
            try:
                names = [i.name for i in case.model.graph.input
                         if i.name not in {t.name for t in case.model.graph.initializer}]
                # Non-float inputs (shapes, axes, indices) are bound as
                # constants: FlashCompile compiles for static shapes.
                consts = {n: x for n, x in zip(names, inputs)
                          if isinstance(x, np.ndarray) and x.dtype != np.float32}
                runtime = [x for n, x in zip(names, inputs) if n not in consts]
                model = fc.from_onnx(case.model, name="node_test", constants=consts)
                got = model(*runtime)
                got = got if isinstance(got, list) else [got]
                for g, e in zip(got, outputs):
                    np.testing.assert_allclose(g, e, rtol=ROUNDED_REFERENCES.get(case.name, rtol),
                                               atol=atol)
                stats[key]["pass"] += 1
                passing[key].append(case.name)
            except fc.UnsupportedOnnx as e:
                stats[key]["unsupported"] += 1
                rejected.append((case.name, str(e)[:160]))
            except Exception as e:  # noqa: BLE001 - everything else is a failure
                stats[key]["fail"] += 1
                failures.append((case.name, f"{type(e).__name__}: {str(e)[:300]}"))
            break  # one data set per case
    return (stats, failures, rejected, {op: sorted(names) for op, names in passing.items()},
            {case.name for case in cases})


def pinned() -> dict:
    with open(PINNED) as f:
        return json.load(f)


if __name__ == "__main__":
    stats, failures, rejected, passing, _ = run_suite()
    if "--pin" in sys.argv:
        with open(PINNED, "w") as f:
            json.dump(dict(sorted(passing.items())), f, indent=1)
            f.write("\n")
        print(f"pinned {sum(map(len, passing.values()))} passing cases in {PINNED}")
    for op in sorted(stats):
        print(f"{op:<22} {dict(stats[op])}")
    for name, why in failures:
        print("FAIL", name, why)
    print(len(failures), "failures")
