"""Where a zoo model's time goes, op by op: every op of the imported graph
compiled alone (its operands as arguments, random values) and timed, summed
by op and listed slowest first, beside the whole model. What found
EfficientNet-B0's sigmoids (35% of its ops' time: an elementwise loop over
14-wide rows LLVM did not vectorize). Views (reshapes, flattens) are left
out: alone they are copies, in the graph they are free. The ops run
separately, so fusion is not counted: a fused pair shows as two.

    PYTHONPATH=build/python_packages taskset -c 0 python3 benchmarks/profile_zoo_ops.py efficientnet_b0 1
"""
import collections
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flashcompile as fc  # noqa: E402
import zoo  # noqa: E402
from harness import timeit  # noqa: E402

VIEWS = {"flash.constant", "flash.reshape", "flash.flatten", "flash.expand_dims", "flash.squeeze"}
# `%5 = flash.op %a, %b {attributes} : (types) -> type loc(...)`, as printed
# (this is a measurement script reading printed IR, not the compiler).
OP = re.compile(r"\s*(%\S+) = (flash\.\w+)(.*?)( loc\(.*)?$")


def one_op_programs(source: str):
    """(op, signature, program) for every non-view op of `source`."""
    for line in source.splitlines():
        m = OP.match(line)
        if not m or m.group(2) in VIEWS or " : " not in m.group(3):
            continue
        op, rest = m.group(2), m.group(3).strip()
        signature, body = rest[rest.rindex(" : ") + 3:], rest[:rest.rindex(" : ")]
        operands = re.findall(r"%[\w#]+", body.split("{")[0])
        if signature.startswith("("):
            ins, out = signature[1:].split(") -> ")
            ins = re.findall(r"tensor<[^>]*>", ins)
        else:
            ins, out = [signature] * len(operands), signature
        if len(ins) != len(operands):
            continue
        for i, name in enumerate(operands):
            body = re.sub(re.escape(name) + r"(?![\w#])", f"%a{i}", body, count=1)
        args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(ins))
        yield op, signature, (f"func.func @f({args}) -> {out} {{\n  %r = {op} {body} : {signature}\n"
                              f"  return %r : {out}\n}}")


def main():
    name = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    fc.set_num_threads(threads)
    model, x = zoo.build(name, 224)
    imported = fc.from_pytorch(model, (x,))
    whole = timeit(lambda: imported(x.numpy()))
    rng = np.random.default_rng(0)
    rows = []
    for op, signature, program in one_op_programs(imported.compiled.source):
        compiled = fc.compile_mlir(program)
        args = [rng.standard_normal(s).astype(np.float32) * 0.1 for s in compiled.input_shapes]
        rows.append((timeit(lambda: compiled(*args), min_time=0.05), op, signature))
    total = sum(r[0] for r in rows)
    by_op = collections.defaultdict(float)
    for seconds, op, _ in rows:
        by_op[op] += seconds
    print(f"{name} ({threads} thread(s)): whole model {whole * 1e3:.2f} ms; its {len(rows)} ops "
          f"alone {total * 1e3:.2f} ms")
    for op, seconds in sorted(by_op.items(), key=lambda kv: -kv[1]):
        print(f"  {op:<24}{seconds * 1e3:8.2f} ms {seconds / total:6.1%}")
    print("slowest:")
    for seconds, op, signature in sorted(rows, reverse=True)[:20]:
        print(f"  {seconds * 1e6:8.1f} us  {op:<20} {signature[:120]}")


if __name__ == "__main__":
    main()
