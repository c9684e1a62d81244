"""PyTorch's own op test data: the OpInfo sample inputs
(torch.testing._internal.common_methods_invocations.op_db) of every op
fc.from_pytorch lists, each sample wrapped in a module and imported.

A sample either passes (matches torch: max |fc - torch| <= 1e-4 *
max(1, max |torch|)), is refused with UnsupportedTorch (or a ValueError
naming the torch node: a shape or value FlashCompile does not take), is
not applicable (its output is not float32 tensors, or an input has a
dtype an import cannot take), or fails: a wrong result, or any other
error (a crash of the wrong kind).

The passing samples are pinned per op in opinfo_suite_passing.json: a
sample that stops passing fails the test, as the ONNX node suite does. After
adding an op or a form of one, re-pin with
`python3 test/python/opinfo_suite.py --pin`."""
from __future__ import annotations

import collections
import json
import os
import sys
import warnings

import numpy as np

import flashcompile as fc

PINNED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opinfo_suite_passing.json")
# OpInfo names whose ATen op differs from the name (the functional form).
ALIASES = {"nn.functional.linear": "linear", "nn.functional.conv2d": "convolution",
           "nn.functional.relu": "relu", "nn.functional.gelu": "gelu",
           "nn.functional.hardtanh": "hardtanh", "nn.functional.pad": "constant_pad_nd",
           "nn.functional.layer_norm": "layer_norm", "nn.functional.batch_norm": "batch_norm",
           "nn.functional.max_pool2d": "max_pool2d", "nn.functional.avg_pool2d": "avg_pool2d",
           "nn.functional.embedding": "embedding", "nn.functional.softmax": "softmax",
           "nn.functional.scaled_dot_product_attention": "scaled_dot_product_attention",
           "nn.functional.adaptive_avg_pool2d": "adaptive_avg_pool2d",
           "nn.functional.dropout": "dropout"}
RTOL = 1e-4
# Samples per op: enough to cover its forms, bounded so the suite stays
# around a minute.
MAX_SAMPLES = 12


def _ops():
    """The OpInfos whose op fc.from_pytorch imports, by name."""
    from torch.testing._internal.common_methods_invocations import op_db
    supported = {s.split(".", 1)[1] for s in fc.pytorch_support()}
    return [o for o in op_db
            if ALIASES.get(o.name, o.name) in supported and not o.variant_test_name]


def _wrap(torch, op, sample):
    """(module, example inputs): the sample's tensors of importable dtypes
    become inputs; everything else is part of the module."""
    tensors, where = [], []

    def lift(v, path):
        if isinstance(v, torch.Tensor) and v.dtype in (torch.float32, torch.int64):
            where.append(path)
            tensors.append(v)
            return None
        return v

    args = [lift(sample.input, ("input",))] + \
        [lift(a, ("arg", i)) for i, a in enumerate(sample.args)]
    kwargs = {k: lift(v, ("kw", k)) for k, v in sample.kwargs.items()}

    class Sample(torch.nn.Module):
        def forward(self, *xs):
            a, kw = list(args), dict(kwargs)
            for path, x in zip(where, xs):
                if path[0] == "input":
                    a[0] = x
                elif path[0] == "arg":
                    a[1 + path[1]] = x
                else:
                    kw[path[1]] = x
            return op.op(*a, **kw)

    return Sample(), tuple(tensors)


def run_suite():
    """(stats per op, failures, {op: [passing sample indices]})."""
    import torch
    stats = collections.defaultdict(collections.Counter)
    failures, passing = [], collections.defaultdict(list)
    for op in _ops():
        samples = op.sample_inputs("cpu", torch.float32, requires_grad=False)
        for index, sample in enumerate(samples):
            if index >= MAX_SAMPLES:
                break
            module, xs = _wrap(torch, op, sample)
            try:
                with torch.no_grad():
                    ref = module(*xs)
            except Exception:  # noqa: BLE001 - torch itself refuses the sample
                continue
            refs = list(ref) if isinstance(ref, (tuple, list)) else [ref]
            if not xs or not all(isinstance(r, torch.Tensor) and r.dtype == torch.float32
                                 for r in refs):
                stats[op.name]["not applicable"] += 1
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = fc.from_pytorch(module, xs)(*[x.numpy() for x in xs])
            except fc.UnsupportedTorch:
                stats[op.name]["refused"] += 1
                continue
            except ValueError as e:
                kind = "refused" if "torch node" in str(e) else "error"
                stats[op.name][kind] += 1
                if kind == "error":
                    failures.append((op.name, index, f"ValueError: {str(e)[:200]}"))
                continue
            except Exception as e:  # noqa: BLE001 - a failure of the wrong kind
                stats[op.name]["error"] += 1
                failures.append((op.name, index, f"{type(e).__name__}: {str(e)[:200]}"))
                continue
            gots = list(got) if isinstance(got, (tuple, list)) else [got]
            ok = len(gots) == len(refs) and all(
                g.shape == tuple(r.shape) and np.allclose(
                    g, r.numpy(), rtol=0, atol=RTOL * max(1.0, float(np.abs(r.numpy()).max(
                        initial=0))), equal_nan=True)
                for g, r in zip(gots, refs))
            if ok:
                stats[op.name]["pass"] += 1
                passing[op.name].append(index)
            else:
                stats[op.name]["wrong"] += 1
                failures.append((op.name, index, "wrong result"))
    return stats, failures, dict(passing)


def pinned() -> dict:
    with open(PINNED) as f:
        return json.load(f)


def main():
    stats, failures, passing = run_suite()
    for name in sorted(stats):
        print(f"  {name:32s} {dict(stats[name])}")
    total = collections.Counter()
    for s in stats.values():
        total.update(s)
    print(f"  {dict(total)}")
    for f in failures:
        print("  FAIL", *f)
    if "--pin" in sys.argv:
        with open(PINNED, "w") as f:
            json.dump(passing, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"pinned {sum(map(len, passing.values()))} passing samples in {PINNED}")


if __name__ == "__main__":
    main()
