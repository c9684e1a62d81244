"""ONNX's own backend node tests (generated in memory from the `onnx`
package's test-case definitions, onnx.backend.test.case.node: the same
models and data as onnx/backend/test/data/node), run through fc.from_onnx.

A case counts when every op type in it is in fc.onnx_support(): it then
either passes (outputs match ONNX's stored ones), is rejected with an
UnsupportedOnnx error naming the node and the reason (an attribute value,
dtype or dynamic shape we do not take), or fails (wrong result or any
other error)."""
from __future__ import annotations

import collections
import warnings

import numpy as np

import flashcompile as fc


def run_suite(rtol=1e-4, atol=1e-5):
    from onnx.backend.test.case import node
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = node.collect_testcases(None)
    supported = set(fc.onnx_support())
    stats = collections.defaultdict(lambda: collections.Counter())
    failures, rejected = [], []
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
                    np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
                stats[key]["pass"] += 1
            except fc.UnsupportedOnnx as e:
                stats[key]["unsupported"] += 1
                rejected.append((case.name, str(e)[:160]))
            except Exception as e:  # noqa: BLE001 - everything else is a failure
                stats[key]["fail"] += 1
                failures.append((case.name, f"{type(e).__name__}: {str(e)[:300]}"))
            break  # one data set per case
    return stats, failures, rejected


if __name__ == "__main__":
    stats, failures, rejected = run_suite()
    for op in sorted(stats):
        print(f"{op:<22} {dict(stats[op])}")
    for name, why in failures:
        print("FAIL", name, why)
    print(len(failures), "failures")
