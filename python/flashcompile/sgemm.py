"""The sgemm ukernel as the models see it: its facts and rules, read from
the runtime (Ukernels.h) so that the tuner's cost model and the
simulator's CPU model state them once and cannot drift from what compiled
code does.

    TILES, DEFAULT_BLOCKING, PARALLEL_FLOPS     register tiles, cache blocking, threading threshold
    split(m, n, k, ...)                          how one call splits over threads
    packs_b, batch_in_parallel, conv_batch_as_columns,
    conv_uses_winograd                           the runtime's other rules
"""
from __future__ import annotations

from dataclasses import dataclass

from . import _flashcompile as _native

_FACTS = _native.sgemm_facts()
# Register tiles (rows, columns) in the order of sgemmTiles() on this CPU; 0
# is the default (AVX-512 6x32 where the CPU has AVX-512, else AVX2 6x16).
TILES = [tuple(t) for t in _FACTS["tiles"]]
# Per tile: its microkernel's function name in Sgemm.cpp (as disassembled,
# up to the parameters) and the instruction set whose FMA peak bounds it.
TILE_KERNELS = [name for name, _ in _FACTS["tile_kernels"]]
TILE_ISA = [isa for _, isa in _FACTS["tile_kernels"]]
DEFAULT_BLOCKING = {"mc": _FACTS["mc"], "kc": _FACTS["kc"], "nc": _FACTS["nc"]}
# Products of fewer FLOPs run on one thread unless a config asks for more.
PARALLEL_FLOPS = float(_FACTS["parallel_flops"])
# The default register tile's rows: fewer rows take the streaming path.
PANEL_ROWS = int(_native.runtime_facts()["panel_rows"])
# The column blocks the default tile's edge tiles run in ([32, 16, 8] with
# AVX-512: a tile of fewer rows or columns does only their FMAs); empty
# where an edge runs the whole tile.
EDGE_COLUMN_BLOCKS = [int(w) for w in _FACTS["edge_column_blocks"]]
# The AVX-512 tile's edge blocks on any CPU (for pricing another one's).
AVX512_EDGE_COLUMN_BLOCKS = [int(w) for w in _FACTS["avx512_edge_column_blocks"]]
# Columns past the AVX-512 edge's 16-wide block that ride on it (17 or 18
# columns as one tile): each one 256-bit multiply-add per k step beside the
# block's six 512-bit ones, 4/3 of a column of the block.
EDGE_RIDING_COLUMNS = int(_FACTS["edge_riding_columns"])


def tile_efficiency(m: int, n: int, mr: int, nr: int, edge_blocks=(), riding: int = 0) -> float:
    """The share of the register tiles' FMAs an m x n product uses: whole
    mr x nr tiles, or with edge tiles (`edge_blocks`, Sgemm.cpp's edgeTile)
    the edge's own rows and its columns rounded up to the blocks, with up
    to `riding` columns past a 16-wide block carried on it
    (EDGE_RIDING_COLUMNS; 0 for code before that)."""
    if not m or not n:
        return 1.0
    pad = lambda x, to: -(-x // to) * to  # noqa: E731
    if not edge_blocks:
        return (m * n) / (pad(m, mr) * pad(n, nr))
    cols, left = n // nr * nr, n % nr
    if len(edge_blocks) == 2:  # AVX2's edgeKernelAvx2: one vector or two
        wide, narrow = edge_blocks
        return n / (cols + (0 if not left else wide if left > narrow else narrow))
    wide, half, narrow = edge_blocks
    if half < left <= half + riding:  # 16 + 1 or 2 as one tile
        return n / (cols + half + (left - half) * 4 / 3)
    while left > 0:  # edgeTile's choice of block
        width = wide if left > half + narrow else half if left > narrow else narrow
        cols, left = cols + width, left - min(width, left)
    return n / cols


@dataclass(frozen=True)
class Split:
    """How one sgemm call runs: `tasks` stripes of `stripe` columns (or
    rows), each a whole serial GEMM of `task_m` x `task_n`."""
    tasks: int
    columns: bool
    stripe: int
    task_m: int
    task_n: int


def split(m: int, n: int, k: int, requested: int, threads: int, mr: int, nr: int) -> Split:
    """The runtime's work split of one m x k by k x n call (Ukernels.h's
    sgemmSplit) with `requested` threads (0: by size) of `threads`."""
    tasks, columns, stripe = _native.sgemm_split(m, n, k, requested, threads, mr, nr)
    task_m, task_n = m, n
    if tasks > 1:
        if columns:
            task_n = min(n, stripe)
        else:
            task_m = min(m, stripe)
    return Split(tasks, columns, stripe, task_m, task_n)


def packs_b(rows: int, ldb: int, mc: int, choice: int) -> bool:
    """Whether the ukernel packs B's panels (SgemmConfig::packB; 0: when A
    has several row blocks or B's rows are a multiple of 4 KiB apart)."""
    return _native.sgemm_packs_b(rows, ldb, mc, choice)


def batch_in_parallel(batch: int, call_flops: float, threads: int) -> bool:
    """Whether a batch of sgemm calls spreads over the threads, each call
    on one, rather than running in turn, each split."""
    return _native.batch_in_parallel(batch, call_flops, threads)


def conv_batch_as_columns(images: int, pixels: int) -> bool:
    """Whether a convolution over `images` runs as one product over all of
    them (N*OH*OW columns) rather than one per image."""
    return _native.conv_batch_as_columns(images, pixels)


def conv_runs_direct(channels: int, sw: int, dw: int, ow: int, avx512: bool) -> bool:
    """Whether a convolution over `channels` input channels (column stride
    `sw`, dilation `dw`, `ow` output columns) runs by the direct kernel on
    a host with (`avx512`) or without AVX-512, not as an implicit GEMM."""
    return _native.conv_runs_direct(channels, sw, dw, ow, avx512)


def im2col_packs_flat(sh: int, sw: int, row_stride: int, ow: int) -> bool:
    """Whether the implicit GEMM's AVX-512 packing copies a panel's k row
    as one shifted run (unit strides, contiguous input rows as long as the
    output's) rather than one run per output row the panel crosses."""
    return _native.im2col_packs_flat(sh, sw, row_stride, ow)


def conv_direct_enabled() -> bool:
    """Whether this process takes the direct kernel where conv_runs_direct
    allows it (an AVX-512 CPU; FLASH_CONV_DIRECT=0 turns it off)."""
    return _native.conv_direct_enabled()


def conv_uses_winograd(channels: int, out_channels: int, oh: int, ow: int) -> bool:
    """Whether a 3x3 stride-1 convolution with a constant filter runs by
    Winograd F(4x4, 3x3) rather than as an implicit GEMM."""
    return _native.conv_uses_winograd(channels, out_channels, oh, ow)
