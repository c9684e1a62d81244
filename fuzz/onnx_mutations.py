"""The ONNX importer under mutated models: ONNX's own node tests (the
models of onnx.backend.test.case.node, the same as
onnx/backend/test/data/node) are the seed corpus; Hypothesis picks one and
applies a few structural mutations -- an attribute's value or type, a
node's input, output or op type, a declared dimension or element type, an
initializer's dimensions (its data then no longer fits) or its removal, a
dropped node, a node reading its own output -- then `fc.from_onnx` must
either import the model (which then runs, or refuses its inputs with a
ValueError/TypeError) or raise ValueError/TypeError (`fc.UnsupportedOnnx`
is a ValueError). Any other exception is a finding, reported with the
seed's name and the mutations, shrunk by Hypothesis; a crash ends the
process (run a case alone with --case to see it).

    python3 fuzz/onnx_mutations.py --cases 5000 --seed 1   # a long run
    python3 fuzz/onnx_mutations.py --cases 200             # a quick one

The README's test command runs a bounded slice (test_reliability.py).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flashcompile as fc

ALLOWED = (ValueError, TypeError)  # fc.UnsupportedOnnx is a ValueError
MUTATIONS = ("attribute value", "attribute type", "node input", "node output", "op type",
             "input dimension", "input element type", "initializer dimensions",
             "drop initializer", "drop node", "self loop")
ODD_INTS = [-(1 << 40), -3, -1, 0, 1, 2, 7, 1 << 31, 1 << 40]


_SEEDS = None


def seeds():
    """(name, model, float32 inputs) of every node test whose ops the
    importer lists (fc.onnx_support()), non-float inputs bound as constants
    as the node suite does."""
    global _SEEDS
    if _SEEDS is None:
        from onnx.backend.test.case import node
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cases = node.collect_testcases(None)
        supported = set(fc.onnx_support())
        _SEEDS = []
        for case in cases:
            if not {n.op_type for n in case.model.graph.node} <= supported or not case.data_sets:
                continue
            inputs = case.data_sets[0][0]
            initialized = {t.name for t in case.model.graph.initializer}
            names = [i.name for i in case.model.graph.input if i.name not in initialized]
            consts = {n: x for n, x in zip(names, inputs)
                      if isinstance(x, np.ndarray) and x.dtype != np.float32}
            runtime = [x for n, x in zip(names, inputs) if n not in consts]
            _SEEDS.append((case.name, case.model, consts, runtime))
    return _SEEDS


def mutate(model, kind: str, rnd: random.Random):
    """A copy of `model` with one mutation of `kind` (a no-op where the
    model has nothing of that kind)."""
    import onnx
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    node = g.node[rnd.randrange(len(g.node))] if len(g.node) else None
    names = [v.name for v in g.input] + [o for n in g.node for o in n.output] + ["", "missing"]
    if kind == "attribute value" and node is not None and node.attribute:
        a = node.attribute[rnd.randrange(len(node.attribute))]
        if a.ints:
            a.ints[rnd.randrange(len(a.ints))] = rnd.choice(ODD_INTS)
        elif a.floats:
            a.floats[rnd.randrange(len(a.floats))] = rnd.choice([float("nan"), -1e30, 0.0])
        elif a.type == onnx.AttributeProto.FLOAT:
            a.f = rnd.choice([float("nan"), float("inf"), -1.0, 0.0])
        elif a.type == onnx.AttributeProto.STRING:
            a.s = rnd.choice([b"", b"bogus", b"\xff" * 3])
        else:
            a.i = rnd.choice(ODD_INTS)
    elif kind == "attribute type" and node is not None and node.attribute:
        a = node.attribute[rnd.randrange(len(node.attribute))]
        a.type = rnd.choice([onnx.AttributeProto.INT, onnx.AttributeProto.FLOATS,
                             onnx.AttributeProto.STRING, onnx.AttributeProto.TENSOR,
                             onnx.AttributeProto.GRAPH])
    elif kind == "node input" and node is not None and len(node.input):
        node.input[rnd.randrange(len(node.input))] = rnd.choice(names)
    elif kind == "node output" and node is not None and len(node.output):
        node.output[rnd.randrange(len(node.output))] = rnd.choice(names)
    elif kind == "op type" and node is not None:
        node.op_type = rnd.choice(sorted(fc.onnx_support()) + ["Bogus"])
    elif kind == "input dimension" and len(g.input):
        dims = g.input[rnd.randrange(len(g.input))].type.tensor_type.shape.dim
        if len(dims):
            d = dims[rnd.randrange(len(dims))]
            if rnd.random() < 0.2:
                d.dim_param = "N"
            else:
                d.dim_value = rnd.choice([0, 1, 3, 1 << 31])
    elif kind == "input element type" and len(g.input):
        g.input[rnd.randrange(len(g.input))].type.tensor_type.elem_type = rnd.choice(
            [onnx.TensorProto.INT8, onnx.TensorProto.DOUBLE, onnx.TensorProto.STRING,
             onnx.TensorProto.BOOL, onnx.TensorProto.UNDEFINED])
    elif kind == "initializer dimensions" and len(g.initializer):
        t = g.initializer[rnd.randrange(len(g.initializer))]
        if len(t.dims):
            t.dims[rnd.randrange(len(t.dims))] = rnd.choice([0, 1, 5, 1 << 40])
        else:
            t.dims.append(rnd.choice([0, 2, 1 << 40]))
    elif kind == "drop initializer" and len(g.initializer):
        del g.initializer[rnd.randrange(len(g.initializer))]
    elif kind == "drop node" and len(g.node) > 1:
        del g.node[rnd.randrange(len(g.node))]
    elif kind == "self loop" and node is not None and len(node.input) and len(node.output):
        node.input[rnd.randrange(len(node.input))] = node.output[0]
    return m


def check(seed_index: int, kinds, rnd: random.Random) -> str:
    """Imports (and runs) one mutated seed; returns what happened:
    'imported', 'refused' or 'ran'. Raises AssertionError on any other
    exception, naming the seed and the mutations."""
    name, model, consts, runtime = seeds()[seed_index]
    for kind in kinds:
        model = mutate(model, kind, rnd)
    where = f"seed {name}, mutations {list(kinds)}"
    try:
        imported = fc.from_onnx(model, name="mutated", constants=consts)
    except ALLOWED:
        return "refused"
    except Exception as e:  # noqa: BLE001 - the finding
        raise AssertionError(f"{where}: from_onnx raised {type(e).__name__}: {e}") from e
    try:
        imported(*runtime)
    except ALLOWED:
        return "imported"
    except Exception as e:  # noqa: BLE001 - the finding
        raise AssertionError(f"{where}: the call raised {type(e).__name__}: {e}") from e
    return "ran"


def cases():
    return st.tuples(st.integers(0, len(seeds()) - 1),
                     st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3),
                     st.randoms(use_true_random=False))


def run_cases(count: int, seed: int | None = None) -> dict:
    """Checks `count` drawn cases; returns how many ended which way."""
    import hypothesis
    outcomes = {"refused": 0, "imported": 0, "ran": 0}

    @settings(max_examples=count, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(cases())
    def one(case):
        index, kinds, rnd = case
        outcomes[check(index, kinds, rnd)] += 1

    if seed is not None:
        one = hypothesis.seed(seed)(one)
    one()
    return outcomes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    t0 = time.time()
    outcomes = run_cases(args.cases, args.seed)
    print(f"{sum(outcomes.values())} mutated ONNX node tests from {len(seeds())} seeds: "
          f"{outcomes} ({time.time() - t0:.0f} s), no other exception")
    return 0


if __name__ == "__main__":
    sys.exit(main())
