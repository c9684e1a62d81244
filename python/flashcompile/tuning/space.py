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
import re
import os
from dataclasses import dataclass, field

from .. import _flashcompile as _native

# The ukernel's own facts (Ukernels.h, read from the runtime): its register
# tiles in the order of sgemmTiles(), its default cache blocking, and the
# FLOPs under which a call runs on one thread.
_SGEMM = _native.sgemm_facts()
TILES = [tuple(t) for t in _SGEMM["tiles"]]
DEFAULT = {"mc": _SGEMM["mc"], "kc": _SGEMM["kc"], "nc": _SGEMM["nc"]}
UKERNEL_PARALLEL_FLOPS = float(_SGEMM["parallel_flops"])

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


def problem(op: str, shapes, attrs=None) -> Problem | None:
    """The Problem of one traced op, or None if it is not tunable."""
    attrs = {k: v for k, v in (attrs or {}).items() if k != "flash.sgemm"}
    shapes = [tuple(int(d) for d in s) for s in shapes]
    if op == "flash.matmul" and len(shapes) == 2:
        (m, k), (_, n) = shapes
        return Problem(op, shapes, attrs, 1, m, n, k)
    if op == "flash.batch_matmul" and len(shapes) == 2:
        (b, m, k), (_, _, n) = shapes
        return Problem(op, shapes, attrs, b, m, n, k)
    if op == "flash.conv2d" and len(shapes) >= 2 and attrs.get("groups", 1) == 1:
        # (grouped convolutions run as generated loops, not sgemm calls)
        (batch, c, h, w), (o, _, kh, kw) = shapes[:2]
        stride = list(attrs.get("stride", (1, 1)))
        pad = list(attrs.get("padding", (0, 0, 0, 0)))
        dil = list(attrs.get("dilation", (1, 1)))
        pad = pad * 2 if len(pad) == 2 else pad
        oh = (h + pad[0] + pad[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
        ow = (w + pad[1] + pad[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
        # im2col: per image, weights (O x C*KH*KW) times patches (C*KH*KW x
        # OH*OW), or one product with N*OH*OW columns where the default
        # pipeline takes that (the runtime's rule).
        if _native.conv_batch_as_columns(batch, oh * ow):
            return Problem(op, shapes, attrs, 1, o, batch * oh * ow, c * kh * kw)
        return Problem(op, shapes, attrs, batch, o, oh * ow, c * kh * kw)
    return None


def problems_of(trace) -> list:
    """The distinct tunable ops of a finished Trace (from its record)."""
    seen, out = set(), []
    for entry in trace.record:
        if entry[0] != "op":
            continue
        _, _, name, operands, attrs, _ = entry
        shapes = [tuple(trace.builder.shape(h)) for h in operands]
        p = problem(name, shapes, attrs)
        if p is None:
            continue
        if p.key() not in seen:
            seen.add(p.key())
            out.append(p)
    return out


def _round_up(v: int, to: int) -> int:
    return (v + to - 1) // to * to


def packs_b(rows: int, ldb: int, mc: int, choice: int) -> bool:
    """Whether the ukernel packs B's panels (SgemmConfig::packB; 0: when A
    has several row blocks or B's rows are a multiple of 4 KiB apart: the
    runtime's rule, Ukernels.h's sgemmPacksB)."""
    return _native.sgemm_packs_b(rows, ldb, mc, choice)


def runs_batch_in_parallel(p: Problem, choice: int, threads: int) -> bool:
    """MatmulToUkernel's batch loop: 1 parallel, 2 sequential, 0 as the
    runtime decides for `threads` (Ukernels.h's batchInParallel: calls too
    small to split spread over the threads when the batch is worth a fork;
    larger ones when the batch fills the threads, at most 1/8 idle)."""
    if p.batch < 2:
        return False
    if choice:
        return choice == 1
    return _native.batch_in_parallel(p.batch, 2.0 * p.m * p.n * p.k, threads)


def effective(p: Problem, config: dict, cores: int) -> tuple:
    """What the ukernel actually runs for `config` on this shape (Sgemm.cpp's
    rounding, clamping and equal K slices): equal tuples, equal programs."""
    tile = config["tile"]
    mr, nr = TILES[tile]
    mc = min(_round_up(config["mc"], mr), _round_up(p.m, mr))
    nc = min(_round_up(config["nc"], nr), _round_up(p.n, nr))
    slices = -(-p.k // config["kc"])
    threads = config["threads"] if config["threads"] > 0 else \
        (1 if 2.0 * p.m * p.n * p.k < UKERNEL_PARALLEL_FLOPS else cores)
    threads = min(threads, cores)
    few_rows = p.m < 6
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


_OP_LINE = re.compile(r"^\s*%\S+ = (flash\.(?:matmul|batch_matmul|conv2d)) [^:{]*"
                      r"(\{[^}]*\})? : \(([^)]*)\)")
_TENSOR = re.compile(r"tensor<([0-9x]+)xf32>")
_ARRAY_ATTR = re.compile(r"([\w.]+) = array<i64: ([-0-9, ]+)>")


def problems_of_text(text: str) -> list:
    """(Problem, source line) of every tunable op in printed Flash IR (a
    .mlir file, or a compiled program's source)."""
    out = []
    for line in text.splitlines():
        match = _OP_LINE.match(line)
        if not match:
            continue
        op, attr_text, operands = match.groups()
        shapes = [tuple(int(d) for d in t.split("x")) for t in _TENSOR.findall(operands)]
        attrs = {name: [int(v) for v in values.split(",")]
                 for name, values in _ARRAY_ATTR.findall(attr_text or "")
                 if name != "flash.sgemm"}
        p = problem(op, shapes, attrs)
        if p is not None:
            out.append((p, line))
    return out
