"""fc.tune on a set of matmul, conv and MLP shapes: the default pipeline vs
the tuned one per op and per program, the share of candidates the cost
model pruned, and its rank correlation with the measurements.

    python3 benchmarks/tune_bench.py --budget 20 --out benchmarks/results/tuning.json \
        --md benchmarks/results/tuning.md

Each workload is tuned into a fresh database of its own (so no result
carries over), with local worker processes. The tuner's own whole-program
check times the workload without and with the database alternately in one
process; the speedup reported is then re-measured independently: the
workload's Flash IR compiled without the database and with it in a fresh
process, timed alternately (7 rounds, the least of each: a shared VM's
noise only ever adds time), in three processes, the median ratio kept.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

VERIFY_PROCESSES = 3
VERIFY_ROUNDS = 7


def time_pair(source_path: str, db_path: str) -> tuple:
    """(default s, tuned s) per call of the program in `source_path`,
    compiled in this process without the tuning database and with
    `db_path`, timed alternately (a phase of the shared VM slows both)."""
    import numpy as np

    import flashcompile as fc
    from flashcompile.tuning.measure import time_call
    text = open(source_path).read()
    fc.tuning.use_database(None)
    default = fc.compile_mlir(text, tuned=False)
    fc.tuning.use_database(db_path)
    tuned = fc.compile_mlir(text)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s, dtype=np.float32) for s in default.input_shapes]
    best = [float("inf"), float("inf")]
    for _ in range(VERIFY_ROUNDS):
        for i, c in enumerate((default, tuned)):
            best[i] = min(best[i], time_call(lambda: c(*xs), 0.05))
    return best[0], best[1]


def verify(source: str, db_path: str, folder: str) -> tuple:
    """(default s, tuned s) from fresh processes of their own (none of the
    tuner's state): the process with the median ratio of three."""
    path = os.path.join(folder, "program.mlir")
    open(path, "w").write(source)
    pairs = []
    for _ in range(VERIFY_PROCESSES):
        out = subprocess.run([sys.executable, __file__, "--time-pair", path, db_path],
                             capture_output=True, text=True, check=True).stdout
        pairs.append(tuple(float(v) for v in out.strip().splitlines()[-1].split()))
    pairs.sort(key=lambda p: p[0] / p[1])
    return pairs[len(pairs) // 2]


def workloads():
    import numpy as np

    import flashcompile as fc
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    def matmul(m, k, n):
        return f"matmul {m}x{k}x{n}", (lambda a, b: fc.matmul(a, b)), (arr(m, k), arr(k, n))

    def conv(n, c, h, o, k, pad, stride=1):
        w = arr(o, c, k, k)
        return (f"conv {n}x{c}x{h}x{h} * {o}x{c}x{k}x{k} p{pad} s{stride}",
                (lambda x: fc.conv2d(x, w, padding=pad, stride=stride)), (arr(n, c, h, h),))

    def bmm(b, m, k, n):
        return (f"batch_matmul {b}x{m}x{k}x{n}", (lambda x, y: fc.batch_matmul(x, y)),
                (arr(b, m, k), arr(b, k, n)))

    def lenet(batch):
        model = fc.Sequential([fc.Conv2d(1, 6, 5, padding=2, seed=0), fc.ReLU(), fc.MaxPool2d(2),
                               fc.Conv2d(6, 16, 5, seed=1), fc.ReLU(), fc.MaxPool2d(2),
                               fc.Flatten(), fc.Linear(400, 120, seed=2), fc.ReLU(),
                               fc.Linear(120, 84, seed=3), fc.ReLU(), fc.Linear(84, 10, seed=4)])
        return f"LeNet-5 batch {batch}", model, (arr(batch, 1, 28, 28),)

    def mlp(batch):
        model = fc.Sequential([fc.Linear(784, 512, seed=0), fc.ReLU(),
                               fc.Linear(512, 512, seed=1), fc.ReLU(), fc.Linear(512, 10, seed=2)])
        return f"MLP 784-512-512-10 batch {batch}", model, (arr(batch, 784),)

    return [
        matmul(1024, 1024, 1024), matmul(512, 512, 512), matmul(256, 256, 256),
        matmul(64, 512, 256), matmul(128, 784, 512), matmul(37, 300, 1000),
        matmul(500, 64, 500), matmul(2048, 256, 64), matmul(96, 96, 96),
        conv(8, 3, 32, 32, 3, 1), conv(4, 32, 16, 64, 3, 1), conv(1, 64, 56, 64, 3, 1),
        conv(16, 1, 28, 6, 5, 2), conv(16, 6, 14, 16, 5, 0),
        bmm(8, 128, 64, 128), bmm(8, 128, 128, 64),
        mlp(64), mlp(8), lenet(16),
    ]


def write_md(result: dict, path: str | None, budget: float, top_k: int) -> str:
    """The benchmark's table (benchmarks/results/tuning.md) from its JSON;
    also what docs/tuning.md shows (benchmarks/gen_docs.py)."""
    from flashcompile.tuning.space import default_config, is_default
    rows, rho = result["rows"], result["spearman_pooled"]
    lines = ["| workload | default ms | tuned ms | speedup | tuner's check | ops: best config "
             "(op speedup) | program options | pruned | rho/op |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cfgs = "; ".join(
            ("default" if is_default(o["config"])
             else ("mc={mc} kc={kc} nc={nc} t={threads} tile={tile} packB={packB}"
                   " batch-parallel={batchParallel}").format(**(default_config() | o["config"])))
            + f" ({o['speedup']:.2f}x)" for o in r["ops"])
        rho_op = f"{r['spearman_per_op']:.2f}" if r["spearman_per_op"] is not None else "-"
        lines.append(f"| {r['name']} | {r['program_default_s'] * 1e3:.3f} | "
                     f"{r['program_tuned_s'] * 1e3:.3f} | {r['program_speedup']:.2f}x"
                     f"{'' if r.get('changed', True) else ' (unchanged)'} | "
                     f"{r['tuner_default_s'] / r['tuner_tuned_s']:.2f}x | {cfgs} | "
                     f"{r['program_options'] or '-'} | "
                     f"{r['pruned_share']:.0%} | {rho_op} |")
    lines.append("")
    lines.append("Default and tuned ms: each program compiled without and with the "
                 "database in a fresh process, alternately, least of 7 each; median ratio "
                 "of 3 processes; the tuner's "
                 "check is its own in-process comparison.")
    lines.append("")
    slower = [r["name"] for r in rows if r["program_speedup"] < 0.97]
    lines.append(f"{result['workloads_at_1_1x']} of {len(rows)} workloads at 1.1x or better; "
                 f"re-measured more than 3% slower than the default: {len(slower)}"
                 f"{' (' + ', '.join(slower) + ')' if slower else ''}; "
                 f"ops slower than their default (the tuner's measurement): "
                 f"{result['ops_slower_than_default']}; "
                 f"Spearman(cost model, measured) over all measured candidates: {rho:.3f} "
                 f"(median per op {result['spearman_per_op_median']:.3f}); candidates pruned "
                 f"by the model: {result['pruned_share']:.0%}. Budget {budget:.0f} s per "
                 f"workload, top {top_k} candidates per op.")
    text = "\n".join(lines) + "\n"
    if path:
        open(path, "w").write(text)
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per workload")
    parser.add_argument("--top-k", type=int, default=24)
    parser.add_argument("--out")
    parser.add_argument("--md")
    parser.add_argument("--only", default=None, help="substring of the workloads to run")
    parser.add_argument("--report", help="only write --md from this JSON result")
    args = parser.parse_args()
    if args.report:
        result = json.load(open(args.report))
        write_md(result, args.md, result["rows"][0]["budget_s"], args.top_k)
        return
    import flashcompile as fc
    from flashcompile.tuning import TuningDatabase, spearman
    from flashcompile.tuning.space import is_default
    from flashcompile.tuning.tuner import _program
    from harness import scratch_dir
    fc.tuning.use_database(None)  # the default pipeline, not the user's tuning database
    rows, points, folder = [], [], scratch_dir(prefix="flash-tune-bench-")
    start = time.time()
    for i, (name, target, inputs) in enumerate(workloads()):
        if args.only and args.only not in name:
            continue
        db = TuningDatabase(os.path.join(folder, f"w{i}.db"))
        source = _program(target, inputs)[1].source  # the program as the tuner sees it
        report = fc.tune(target, inputs, budget=args.budget, db=db, top_k=args.top_k,
                         progress=False)
        fc.tuning.use_database(None)
        for o in report.ops:
            points.extend(o.points)
        # A workload the tuner left as it was runs the same program: 1.00x
        # by construction (re-measuring it would only measure noise).
        changed = bool(report.program_options) or \
            any(not is_default(o.config) for o in report.ops)
        if changed:
            default_s, tuned_s = verify(source, db.path, folder)
        else:
            default_s = tuned_s = report.model_default_s
        row = {"name": name, "budget_s": args.budget, "elapsed_s": report.elapsed_s,
               "changed": changed,
               "tuner_default_s": report.model_default_s, "tuner_tuned_s": report.model_tuned_s,
               "program_options": report.program_options,
               "program_default_s": default_s, "program_tuned_s": tuned_s,
               "program_speedup": default_s / tuned_s,
               "pruned_share": report.pruned_share, "spearman_per_op": report.spearman_per_op,
               "ops": [{"op": o.description, "default_s": o.default_s, "best_s": o.best_s,
                        "speedup": o.speedup, "config": o.config, "measured": o.measured,
                        "candidates": o.candidates, "spearman": o.spearman} for o in report.ops]}
        rows.append(row)
        print(f"{name:44s} default {row['program_default_s'] * 1e3:8.3f} ms  tuned "
              f"{row['program_tuned_s'] * 1e3:8.3f} ms  {row['program_speedup']:.2f}x  "
              f"(tuner's check {report.model_default_s / report.model_tuned_s:.2f}x"
              f"{' with ' + report.program_options if report.program_options else ''}; "
              f"{report.elapsed_s:.0f} s, pruned {report.pruned_share:.0%}, "
              f"rho/op {report.spearman_per_op})", flush=True)
    rho = spearman([p[0] for p in points], [p[1] for p in points])
    per_op = sorted(o["spearman"] for r in rows for o in r["ops"] if o["spearman"] is not None)
    ops = [o for r in rows for o in r["ops"]]
    from harness import provenance
    result = {"provenance": provenance(), "rows": rows, "spearman_pooled": rho,
              "spearman_per_op_median": per_op[len(per_op) // 2] if per_op else None,
              "workloads_at_1_1x": sum(r["program_speedup"] >= 1.1 for r in rows),
              "workloads": len(rows),
              "ops_slower_than_default": sum(o["best_s"] > o["default_s"] for o in ops),
              "pruned_share": 1 - sum(o["measured"] for o in ops) / sum(o["candidates"] for o in ops),
              "elapsed_s": time.time() - start}
    print(f"\n{result['workloads_at_1_1x']}/{len(rows)} workloads at >= 1.1x; Spearman pooled "
          f"{rho:.3f}, median per op {result['spearman_per_op_median']}; pruned "
          f"{result['pruned_share']:.0%}; ops slower than default: "
          f"{result['ops_slower_than_default']}")
    if args.out:
        json.dump(result, open(args.out, "w"), indent=1)
    if args.md:
        write_md(result, args.md, args.budget, args.top_k)



if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if len(sys.argv) == 4 and sys.argv[1] == "--time-pair":
        print(*time_pair(sys.argv[2], sys.argv[3]))
    else:
        main()
