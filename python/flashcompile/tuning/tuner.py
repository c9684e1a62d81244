"""fc.tune: per tunable op and shape, rank every candidate configuration
with the cost model, compile and measure only the most promising ones (in
worker processes or on a Ray cluster), keep the best in the tuning
database, and report.

The default configuration is always measured, and a candidate replaces it
only if a final, interleaved re-measurement of the two in this process
confirms it is faster by more than MARGIN: tuning never makes an op
slower than the untuned pipeline.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import _flashcompile as _native
from .. import tuned
from ..compiled import Compiled, compile_mlir
from ..jit import compile as fc_compile
from ..progress import progress as progress_bar
from .cost_model import HostModel, predict
from .database import TuningDatabase, shapes_key, use_database
from .measure import executor, inputs_for, program, time_call
from .space import (Problem, as_sgemm, candidates, default_config, is_default, problems_of,
                    problems_of_text)

MARGIN = 0.03     # a candidate must beat the default by 3% when re-measured
TOP_K = 24        # at most this many candidates measured per op
EXPLORE = 0.25    # share of them spread over the model's whole ranking
OP_SHARE = 0.7    # of the budget for the ops; the rest for program-wide options
CONFIRM_ROUNDS = 7  # alternate timings of a winner against the default


def measurement_order(predicted: list, top_k: int) -> list:
    """Candidate indices to measure, in order: the default (index 0) as
    the baseline, then the model's best, with every fourth slot taken by a
    candidate spread evenly over the rest of its ranking, so the rank
    correlation is checked over the whole range and a model blind spot
    still has a chance to be found."""
    ranked = sorted(range(1, len(predicted)), key=lambda i: predicted[i])
    slots = max(0, min(top_k, len(predicted)) - 1)
    n_explore = int(slots * EXPLORE)
    top, rest = ranked[:slots - n_explore], ranked[slots - n_explore:]
    explore = [rest[int(j * len(rest) / n_explore)] for j in range(n_explore)] if rest and \
        n_explore else []
    order = [0]
    while top or explore:
        order.extend(top[:3])
        top = top[3:]
        if explore:
            order.append(explore.pop(0))
    return order


def spearman(xs, ys) -> float | None:
    """Spearman's rank correlation (average ranks for ties)."""
    if len(xs) < 3:
        return None

    def ranks(v):
        v = np.asarray(v, float)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for value in np.unique(v):  # ties share their mean rank
            idx = v == value
            r[idx] = r[idx].mean()
        return r
    rx, ry = ranks(xs), ranks(ys)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


@dataclass
class OpResult:
    op: str
    shapes: str
    description: str
    candidates: int
    measured: int
    default_s: float
    best_s: float
    config: dict
    spearman: float | None
    points: list = field(default_factory=list)   # (predicted_s, measured_s)
    failures: list = field(default_factory=list)

    @property
    def speedup(self) -> float:
        return self.default_s / self.best_s if self.best_s else 1.0


@dataclass
class TuneReport:
    ops: list
    executor: str
    budget_s: float
    elapsed_s: float
    database: str
    model_default_s: float | None = None
    model_tuned_s: float | None = None
    program_options: str = ""     # the program-wide knobs chosen, if any

    @property
    def pruned_share(self) -> float:
        total = sum(o.candidates for o in self.ops)
        return 1 - sum(o.measured for o in self.ops) / total if total else 0.0

    @property
    def spearman_pooled(self) -> float | None:
        pts = [p for o in self.ops for p in o.points]
        return spearman([p[0] for p in pts], [p[1] for p in pts])

    @property
    def spearman_per_op(self) -> float | None:
        values = [o.spearman for o in self.ops if o.spearman is not None]
        return float(np.median(values)) if values else None

    def table(self) -> str:
        lines = [f"{'op':58s} {'default ms':>10s} {'best ms':>9s} {'speedup':>7s} "
                 f"{'measured':>9s} {'rho':>5s}  config"]
        for o in self.ops:
            rho = f"{o.spearman:.2f}" if o.spearman is not None else "  -"
            config = "default" if is_default(o.config) else \
                ("mc={mc} kc={kc} nc={nc} threads={threads} tile={tile} packB={packB}"
                 " batchParallel={batchParallel}").format(**(default_config() | o.config))
            lines.append(f"{o.description[:58]:58s} {o.default_s * 1e3:10.3f} "
                         f"{o.best_s * 1e3:9.3f} {o.speedup:6.2f}x "
                         f"{o.measured:4d}/{o.candidates:<4d} {rho:>5s}  {config}")
        sp, spo = self.spearman_pooled, self.spearman_per_op
        lines.append(f"pruned by the cost model: {self.pruned_share:.0%} of candidates; "
                     f"Spearman(model, measured): pooled {sp if sp is None else round(sp, 3)}, "
                     f"median per op {spo if spo is None else round(spo, 3)}")
        if self.model_default_s:
            lines.append(f"whole program: default {self.model_default_s * 1e3:.3f} ms, tuned "
                         f"{self.model_tuned_s * 1e3:.3f} ms "
                         f"({self.model_default_s / self.model_tuned_s:.2f}x)"
                         + (f" with {self.program_options}" if self.program_options else ""))
        lines.append(f"{self.elapsed_s:.1f} s of a {self.budget_s:.0f} s budget on "
                     f"{self.executor}; database {self.database}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"ops": [asdict(o) | {"speedup": o.speedup} for o in self.ops],
                "executor": self.executor, "budget_s": self.budget_s,
                "elapsed_s": self.elapsed_s, "database": self.database,
                "pruned_share": self.pruned_share, "spearman_pooled": self.spearman_pooled,
                "spearman_per_op": self.spearman_per_op,
                "model_default_s": self.model_default_s, "model_tuned_s": self.model_tuned_s,
                "program_options": self.program_options}

    def __str__(self):
        return self.table()


def _program(target, example_inputs):
    """(tunable Problems, compiled program) of a function or model with its
    example inputs, a compiled graph, an imported model, or a program
    compiled from Flash IR text (fc.compile_mlir)."""
    compiled = getattr(target, "compiled", target)   # ImportedModel -> CompiledGraph
    if isinstance(compiled, Compiled):
        return problems_of(compiled), compiled
    if example_inputs is None:
        raise TypeError("fc.tune: a function or model needs its example_inputs")
    compiled = fc_compile(target, example_inputs)
    return problems_of(compiled), compiled


def with_tuned_ops(text: str, database, entry: str = "") -> str:
    """Flash IR text with each tunable op's parameters from `database` as
    its flash.sgemm attribute (what compile_mlir does with the active
    database), for timing a program with and without them."""
    params = tuned.op_parameters(text, entry, database)
    return _native.with_sgemm(text, entry, params) if params else text


def _head_to_head(a, b, control, xs, rounds: int = CONFIRM_ROUNDS):
    """(a's s, b's s, noise): a, b and `control` (a second compile of a)
    re-timed alternately here, nothing else running. The best of many noisy
    measurements is optimistic (the winner's curse), so a winner is kept
    only after this fresh duel; the control measures what the duel cannot
    tell apart: the two copies of one program differ by `noise`."""
    ta = tb = tc = float("inf")
    for _ in range(rounds):
        ta = min(ta, time_call(lambda: a(*xs), 0.05))
        tb = min(tb, time_call(lambda: b(*xs), 0.05))
        tc = min(tc, time_call(lambda: control(*xs), 0.05))
    return min(ta, tc), tb, abs(ta - tc) / min(ta, tc)


def _duel_seconds(call_s: float | None) -> float:
    """About what _confirm takes: three one-op programs compiled (~1 s),
    then timed CONFIRM_ROUNDS times each (time_call runs at least 9 calls
    or 50 ms)."""
    return 1.0 + 3 * CONFIRM_ROUNDS * max(0.05, 9 * (call_s or 0.0))


def _wins(t_default: float, t_best: float, noise: float) -> bool:
    """A candidate is kept when it beats the default by MARGIN beyond the
    noise the control copy showed."""
    return t_best < t_default * (1 - MARGIN - noise)


def _confirm(p: Problem, best: dict, default: dict):
    """Default and best one-op programs, head to head."""
    return _head_to_head(program(p, default), program(p, best), program(p, default),
                         inputs_for(p))


def tune(target, example_inputs=None, budget: float = 60.0, db=None, workers: int | None = None,
         cluster=None, top_k: int = TOP_K, progress: bool = True, apply: bool = True,
         min_time: float = 0.1) -> TuneReport:
    """Tunes every matmul, batch_matmul and conv2d of `target` (a function
    with its example inputs, an fc model, a compiled graph or an imported
    model) within about `budget` seconds. `db` is a TuningDatabase or a path
    (default: the user's one, ~/.cache/flashcompile/tuning.db); `workers`
    local measurement processes (default: one per core; 0: in this
    process); `cluster` a Ray address (or "local") to measure on Ray
    instead. With `apply`, later compiles in this process use the database.
    """
    # The host's calibration (measured once per machine, ~15 s the first
    # time) is not part of the budget: the budget is for searching.
    host = HostModel()
    start = time.perf_counter()
    database = db if isinstance(db, TuningDatabase) else TuningDatabase(db)
    problems, compiled = _program(target, example_inputs)
    programs = problems or bool(getattr(compiled, "input_shapes", None))
    pool = executor(workers, cluster)
    results = []
    try:
        for index, p in enumerate(problems):
            op_start = time.perf_counter()
            # 70% of the budget for the ops; the rest for the program-wide
            # options (they matter for the generated loops around the ops:
            # im2col, elementwise, pooling) and the whole-program check.
            op_budget = max(0.0, OP_SHARE * budget - (op_start - start)) / (len(problems) - index)
            cands = candidates(p, host.cores)
            predicted = [predict(p, c, host) for c in cands]
            order = measurement_order(predicted, top_k)
            problem = {"op": p.op, "shapes": p.shapes, "attrs": p.attrs, "batch": p.batch,
                       "m": p.m, "n": p.n, "k": p.k}
            measured, failures, best_seen = [], [], 1.0
            default_s = None
            # Waves of one candidate per worker until the op's budget or top_k.
            wave = max(1, workers if workers else (os.cpu_count() or 1))
            cursor = 0
            with progress_bar(len(order), f"op {index + 1}/{len(problems)}", progress,
                              unit="config") as bar:
                while cursor < len(order):
                    # The winner's duel comes out of the op's share too.
                    if cursor > 0 and time.perf_counter() - op_start > \
                            op_budget - _duel_seconds(default_s):
                        break
                    chunk = order[cursor:cursor + wave]
                    cursor += len(chunk)
                    tasks = [{"problem": problem, "config": cands[i], "predicted_s": predicted[i],
                              "db": database.path, "min_time": min_time} for i in chunk]
                    for r in pool.map(tasks):
                        if r["ok"]:
                            measured.append(r)
                            if is_default(r["config"]):
                                default_s = r["seconds"]
                            if default_s:
                                best_seen = max(best_seen, default_s / r["seconds"])
                        else:
                            failures.append(f"{r['config']}: {r['note']}")
                        bar.update()
                        bar.set_postfix_str(f"best {best_seen:.2f}x")
            default = cands[0]
            best = min(measured, key=lambda r: r["seconds"]) if measured else None
            chosen, best_s = default, default_s
            if best is not None and not is_default(best["config"]) and default_s:
                t_default, t_best, noise = _confirm(p, best["config"], default)
                default_s = t_default
                if _wins(t_default, t_best, noise):
                    chosen, best_s = best["config"], t_best
                else:
                    best_s = t_default
            if default_s is None:  # the default itself failed: nothing to compare
                failures.append("the default configuration could not be measured")
                default_s = best_s = float("nan")
            sgemm = [0] * 7 if is_default(chosen) else as_sgemm(chosen)
            database.store(p.op, shapes_key(p.shapes, p.attrs), {"sgemm": sgemm}, default_s,
                           best_s, len(measured))
            points = [(r["predicted_s"], r["seconds"]) for r in measured]
            results.append(OpResult(p.op, shapes_key(p.shapes, p.attrs), p.describe(),
                                    len(cands), len(measured) + len(failures), default_s,
                                    best_s, chosen,
                                    spearman([x[0] for x in points], [x[1] for x in points]),
                                    points, failures))
    finally:
        pool.close()
    report = TuneReport(results, pool.name, budget, time.perf_counter() - start, database.path)
    if apply:
        use_database(database)
    if programs:
        remaining = max(0.0, budget - (time.perf_counter() - start))
        (report.model_default_s, report.model_tuned_s, report.program_options,
         ops_kept) = _tune_program(compiled, database, remaining)
        if not ops_kept:
            _back_to_defaults(results, database)
            if apply:
                use_database(database)  # and drop code compiled with them
    report.elapsed_s = time.perf_counter() - start
    return report


def _back_to_defaults(results: list, database: TuningDatabase):
    """The program as a whole was not faster with its ops' parameters (an op
    alone and among others differ: caches, the cores the other kernels
    use), so every tuned op goes back to the default, in the report and in
    the database."""
    for o in results:
        if not is_default(o.config):
            database.store(o.op, o.shapes, {"sgemm": [0] * 7}, o.default_s, o.default_s,
                           o.measured)
            o.config, o.best_s = default_config(), o.default_s


# The pipeline's program-wide knobs (generated loops: im2col, elementwise,
# reductions, pooling): LLVM's unrolling (off by default) and
# interleaving, the preferred vector width, the loop size from which
# generated loops run on all cores; and the fusion choice (elementwise
# chains and epilogues fused into one loop nest, or each op its own), as
# one more variant. Few enough to measure them all.
PROGRAM_OPTIONS = [f"{u} {v} {p}".strip() for u in ("", "unroll=true", "interleave=false")
                   for v in ("", "vector-width=256", "vector-width=512")
                   for p in ("", "parallel-min-iterations=8192")] + ["fuse-elementwise=false"]
# Programs with a convolution over a batch of images also try the
# lowering the default did not take for it (one matrix product over all
# images, or one per image; the default chooses per convolution by the
# runtime's rule, _flashcompile.conv_batch_as_columns).
BATCHED_CONV_OPTIONS = {True: "conv-batch-as-columns=true", False: "conv-batch-as-columns=false"}


def program_options_for(text: str) -> list:
    """PROGRAM_OPTIONS, with the batched-convolution lowerings the default
    did not choose second where the program has a convolution over more
    than one image."""
    # A convolution over several images runs as one product by default
    # exactly where its Problem has a batch of 1 (space.problem).
    defaults = {p.batch == 1 for p, _ in problems_of_text(text)
                if p.op == "flash.conv2d" and p.shapes[0][0] > 1}
    others = [BATCHED_CONV_OPTIONS[not d] for d in sorted(defaults, reverse=True)]
    return PROGRAM_OPTIONS[:1] + others + PROGRAM_OPTIONS[1:]


def _tune_program(compiled, database, budget: float):
    """The program with its ops' tuned parameters, under each of
    PROGRAM_OPTIONS, timed alternately (rounds over all of them) against the
    program as given; the best options, if they beat it by MARGIN, go into
    the database under the program's hash. Returns (default s, tuned s,
    options, whether the ops' parameters may stay: False when the program
    with them did not beat the program as given)."""
    rng = np.random.default_rng(0)
    # Index inputs (token ids) get 0, an index every gather takes.
    xs = [rng.standard_normal(s, dtype=np.float32) if d == np.float32 else np.zeros(s, d)
          for s, d in zip(compiled.input_shapes, compiled.input_dtypes)]
    text = compiled.original_source  # as given: without any database's parameters
    tuned_text = with_tuned_ops(text, database, compiled.entry)
    start = time.perf_counter()
    def as_given():
        # The baseline without the database: with it, compile_mlir would give
        # the program its tuned ops, and ops' gains would cancel out.
        return compile_mlir(text, options=compiled.options or "ukernels=true", tuned=False)

    given = as_given()
    t0 = time.perf_counter()
    time_call(lambda: given(*xs), 0.05)
    per_timing = time.perf_counter() - t0 + (t0 - start)  # one timing and one compile
    options = program_options_for(text)
    rounds = 5 if per_timing * 5 * (len(options) + 1) < budget else 3
    # As many variants as the remaining budget can time `rounds` times,
    # keeping time for the winner's head-to-head with the program as given.
    fits = int((budget - 3 * CONFIRM_ROUNDS * per_timing) / (rounds * per_timing + 1e-9)) - 1
    variants = {"as given": given}
    if not compiled.options:  # options a caller chose are theirs: not searched
        for opts in options[:max(0, fits)]:
            variants[opts or "default"] = compile_mlir(tuned_text, options=opts or "ukernels=true")
    else:
        variants["tuned ops"] = compile_mlir(tuned_text, options=compiled.options)
    times = {k: float("inf") for k in variants}
    for r in range(rounds):
        if r >= 2 and time.perf_counter() - start > budget:
            break  # two rounds at least; more only within the budget
        for k, c in variants.items():
            times[k] = min(times[k], time_call(lambda: c(*xs), 0.05))
    if len(times) == 1:  # no time left to try anything: the ops stay as measured alone
        return times["as given"], times["as given"], "", True
    # Tuned ops are kept only if the whole program with them wins too
    # (nothing to take back when the database changed none of them).
    keep_ops_if_lost = tuned_text == text
    default_s = times.pop("as given")
    best = min(times, key=times.get)
    if "default" in times and times[best] >= times["default"] * (1 - MARGIN):
        best = "default"  # options that win by less than the margin are noise
    if times[best] >= default_s * (1 - MARGIN):
        return default_s, default_s, "", keep_ops_if_lost
    default_s, best_s, noise = _head_to_head(given, variants[best], as_given(), xs)
    if not _wins(default_s, best_s, noise):
        return default_s, default_s, "", keep_ops_if_lost
    if not compiled.options:
        database.store("program", tuned.program_key(text),
                       {"options": "" if best == "default" else best}, default_s, best_s,
                       len(times))
    return default_s, best_s, "" if best in ("default", "tuned ops") else best, True


def tune_report_json(report: TuneReport, path: str):
    with open(path, "w") as f:
        json.dump(report.to_json(), f, indent=1)
