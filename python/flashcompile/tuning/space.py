"""What fc.tune searches: the tunable ops of a program and, per op, the
candidate ukernel parameters.

Every tunable op (matmul, batch_matmul, conv2d through im2col) runs as
sgemm calls whose parameters the pipeline exposes per op (the flash.sgemm
attribute): cache blocking per level (mc rows of A for L2, kc depth for L1,
nc columns of B for L3), the task count, the register tile, whether B
is packed, and, for batched products, whether the batch loop itself runs
in parallel. Candidates
that the ukernel would run identically on this shape (a block larger than
the matrix, say) are merged, so each candidate is a distinct program.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

from .. import _flashcompile as _native
from .. import sgemm
from ..tuned import TUNABLE_OPS

# The ukernel's own facts (Ukernels.h, read from the runtime): its register
# tiles in the order of sgemmTiles(), its default cache blocking, and the
# FLOPs under which a call runs on one thread.
TILES = sgemm.TILES
DEFAULT = sgemm.DEFAULT_BLOCKING
UKERNEL_PARALLEL_FLOPS = sgemm.PARALLEL_FLOPS

MC = (48, 96, 144, 288)
KC = (128, 256, 512)
NC = (512, 1024, 3072)


@dataclass
class Problem:
    """One tunable op: its Flash name, operand shapes and attributes, and
    the GEMMs it runs as (`batch` calls of m x k by k x n)."""
    op: str
    shapes: list
    attrs: dict = field(default_factory=dict)
    batch: int = 1
    m: int = 0
    n: int = 0
    k: int = 0

    @property
    def flops(self) -> int:
        return 2 * self.batch * self.m * self.n * self.k

    def key(self) -> tuple:
        """Identity of the op: name, operand shapes and attributes."""
        attrs = tuple(sorted((k, str(v)) for k, v in self.attrs.items()))
        return (self.op, tuple(self.shapes), attrs)

    def describe(self) -> str:
        dims = f"{self.m}x{self.k} @ {self.k}x{self.n}"
        return f"{self.op} {' '.join('x'.join(map(str, s)) for s in self.shapes)}" + \
            (f" ({self.batch} x {dims})" if self.batch > 1 else f" ({dims})")


def _problem(op: dict) -> Problem:
    """A Problem from the native analysis' record of one tunable op."""
    return Problem(op["op"], [tuple(s) for s in op["shapes"]],
                   {k: list(v) for k, v in op["attrs"].items()},
                   op["batch"], op["m"], op["n"], op["k"])


def problems_of_text(text: str, entry: str = "") -> list:
    """(Problem, native record) of every tunable op of a Flash function,
    in order, as the native analysis lists them (_flashcompile.tunable_ops:
    the GEMM sizes are the shared cost analysis', not recomputed here)."""
    return [(_problem(op), op) for op in _native.tunable_ops(text, entry)]


def problems_of(compiled) -> list:
    """The distinct tunable ops of a compiled program (a Compiled, or
    anything with one as `.compiled`), as given to the compiler."""
    compiled = getattr(compiled, "compiled", compiled)
    seen, out = set(), []
    for p, _ in problems_of_text(compiled.original_source, compiled.entry):
        if p.key() not in seen:
            seen.add(p.key())
            out.append(p)
    return out


def problem(op: str, shapes, attrs=None) -> Problem | None:
    """The Problem of one op on operands of `shapes`, or None if it is not
    tunable: the op is built alone and analyzed natively."""
    if op not in TUNABLE_OPS:
        return None
    attrs = {k: v for k, v in (attrs or {}).items() if k != "flash.sgemm"}
    builder = _native.GraphBuilder()
    args = [builder.add_input([int(d) for d in s]) for s in shapes]
    result = builder.add_op(op, args, attrs)
    found = problems_of_text(builder.finish("op", [result]))
    return found[0][0] if found else None


def _round_up(v: int, to: int) -> int:
    return (v + to - 1) // to * to


packs_b = sgemm.packs_b


def runs_batch_in_parallel(p: Problem, choice: int, threads: int) -> bool:
    """MatmulToUkernel's batch loop: 1 parallel, 2 sequential, 0 as the
    runtime decides for `threads` (Ukernels.h's batchInParallel: calls too
    small to split spread over the threads when the batch is worth a fork;
    larger ones when the batch fills the threads, at most 1/8 idle)."""
    if p.batch < 2:
        return False
    if choice:
        return choice == 1
    return sgemm.batch_in_parallel(p.batch, 2.0 * p.m * p.n * p.k, threads)


def effective(p: Problem, config: dict, cores: int) -> tuple:
    """What the ukernel actually runs for `config` on this shape (Sgemm.cpp's
    rounding, clamping and equal K slices): equal tuples, equal programs."""
    tile = config["tile"]
    mr, nr = TILES[tile]
    mc = min(_round_up(config["mc"], mr), _round_up(p.m, mr))
    nc = min(_round_up(config["nc"], nr), _round_up(p.n, nr))
    slices = -(-p.k // config["kc"])
    threads = sgemm.split(p.m, p.n, p.k, config["threads"], cores, mr, nr).tasks
    few_rows = p.m < sgemm.PANEL_ROWS
    batch_parallel = runs_batch_in_parallel(p, config.get("batchParallel", 0), cores)
    if batch_parallel:  # every call on one thread, the calls spread over the cores
        threads = 1
    if few_rows:  # the streaming path: only the task count matters
        return ("few", threads, batch_parallel)
    return (tile, mc, nc, slices, threads, packs_b(p.m, p.n, mc, config.get("packB", 0)),
            batch_parallel)


def candidates(p: Problem, cores: int | None = None) -> list:
    """Every distinct configuration for `p`; the default comes first.
    A config is {"mc", "kc", "nc", "threads", "tile"} (threads 0: the
    ukernel's own choice, as in the default)."""
    cores = cores or os.cpu_count() or 1
    default = default_config()
    out, seen = [default], {effective(p, default, cores)}
    thread_choices = sorted({1, cores})
    batch_choices = (1, 2) if p.batch > 1 else (0,)
    for tile, mc, kc, nc, threads, pack, spread in itertools.product(
            range(len(TILES)), MC, KC, NC, thread_choices, (0, 1), batch_choices):
        config = {"mc": mc, "kc": kc, "nc": nc, "threads": threads, "tile": tile, "packB": pack,
                  "batchParallel": spread}
        key = effective(p, config, cores)
        if key not in seen:
            seen.add(key)
            out.append(config)
    return out


def default_config() -> dict:
    return {"mc": DEFAULT["mc"], "kc": DEFAULT["kc"], "nc": DEFAULT["nc"], "threads": 0,
            "tile": 0, "packB": 0, "batchParallel": 0}


def as_sgemm(config: dict) -> list:
    """The flash.sgemm attribute: the runtime's SgemmConfig order, then
    whether the batch loop runs in parallel (MatmulToUkernel)."""
    return [config["mc"], config["kc"], config["nc"], config["threads"], config["tile"],
            config.get("packB", 0), config.get("batchParallel", 0)]


def is_default(config: dict) -> bool:
    return default_config() | config == default_config()
