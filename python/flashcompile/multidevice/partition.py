"""Cutting a traced graph into stages that run on their own.

A stage is a contiguous run of the trace's ops (the record is in program
order, a topological order). Its inputs are the values it reads that an
earlier stage or the caller produced; its outputs the values a later stage
or the caller reads. Each stage is replayed into a Trace of its own, so it
compiles for any target like any traced function, and exports to
StableHLO like one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..tracing import Trace, compile_trace


@dataclass
class Value:
    """What a stage boundary knows of a value of the original trace."""
    handle: int
    shape: tuple
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass
class StageGraph:
    """Ops [first, end) of the trace's op list, as a function of `inputs`
    returning `outputs` (handles of the original trace)."""
    index: int
    first: int
    end: int
    inputs: list
    outputs: list
    graph: "TraceGraph" = field(repr=False, default=None)

    @property
    def ops(self) -> int:
        return self.end - self.first

    @property
    def name(self) -> str:
        return f"{self.graph.trace.name}_stage{self.index}"

    def compile(self, target: str = "host", options: str = ""):
        """The stage compiled for `target` (replayed into a Trace of its own;
        its arguments are `inputs`, its results `outputs`, in order)."""
        trace, results = self.graph.replay(self)
        return compile_trace(trace, results, self.name, options=options, target=target)

    def traced(self) -> Trace:
        """The stage as a finished record (for the exporters), not compiled."""
        trace, results = self.graph.replay(self)
        trace.results = [r.handle for r in results]
        return trace


class TraceGraph:
    """The op list of a finished trace, and what is live between its ops."""

    def __init__(self, trace: Trace):
        if not trace.results:
            raise ValueError(f"{trace.name}: the trace is not finished (no results)")
        self.trace = trace
        self.values: dict = {}     # handle -> Value (inputs and op results)
        self.constants: dict = {}  # handle -> array
        self.inputs: list = []     # program input handles, in order
        self.ops: list = []        # (handle, name, operands, attrs)
        for entry in trace.record:
            kind, handle = entry[0], entry[1]
            if kind == "input":
                self.values[handle] = Value(handle, tuple(entry[2]), np.dtype(entry[3]))
                self.inputs.append(handle)
            elif kind == "constant":
                self.constants[handle] = entry[2]
            else:
                dtype = entry[6] if len(entry) > 6 else np.dtype(np.float32)
                self.values[handle] = Value(handle, tuple(entry[5]), np.dtype(dtype))
                self.ops.append((handle, entry[2], list(entry[3]), entry[4]))
        self.results = list(trace.results)
        self.producer = {h: i for i, (h, *_rest) in enumerate(self.ops)}
        self.last_use: dict = {}
        for i, (_, _, operands, _) in enumerate(self.ops):
            for h in operands:
                if h in self.values:
                    self.last_use[h] = i
        for h in self.results:
            self.last_use[h] = len(self.ops)  # read by the caller

    def live_at(self, cut: int) -> list:
        """Values made by ops before `cut` (or program inputs) that ops at or
        after it, or the caller, read: what crosses a cut before op `cut`."""
        live = []
        for h, last in self.last_use.items():
            made = self.producer.get(h, -1)
            if made < cut <= last:
                live.append(self.values[h])
        return live

    def candidate_cuts(self, max_segments: int) -> list:
        """Up to max_segments - 1 cut positions where the fewest op-made
        bytes cross (block boundaries: one tensor, the residual stream),
        spread evenly over the op list."""
        n = len(self.ops)
        if n <= 1 or max_segments <= 1:
            return []
        crossing = {c: sum(v.nbytes for v in self.live_at(c) if v.handle in self.producer)
                    for c in range(1, n)}
        wanted = min(max_segments, n) - 1
        cuts = []
        for k in range(1, wanted + 1):  # the cheapest cut near each even split
            centre = round(k * n / (wanted + 1))
            window = range(max(1, centre - n // (2 * (wanted + 1)) - 1),
                           min(n - 1, centre + n // (2 * (wanted + 1)) + 1) + 1)
            best = min((c for c in window if c not in cuts),
                       key=lambda c: (crossing[c], abs(c - centre)), default=None)
            if best is not None:
                cuts.append(best)
        return sorted(set(cuts))

    def split(self, cuts) -> list:
        """The stages between `cuts` (op positions), each replayed."""
        bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(self.ops))), len(self.ops)]
        return [self.stage(i, a, b) for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]

    def stage(self, index: int, first: int, end: int) -> StageGraph:
        inner = {h for h, *_ in self.ops[first:end]}
        inputs, seen = [], set()
        for _, _, operands, _ in self.ops[first:end]:
            for h in operands:
                if h in self.values and h not in inner and h not in seen:
                    seen.add(h)
                    inputs.append(self.values[h])
        outputs = [self.values[h] for h, *_ in self.ops[first:end]
                   if self.last_use.get(h, -1) >= end]
        if not outputs:  # nothing leaves: keep the stage's last value
            outputs = [self.values[self.ops[end - 1][0]]]
        # Program results made earlier and read by nobody later pass through
        # no stage; results are collected from whichever stage made them.
        return StageGraph(index, first, end, inputs, outputs, self)

    def replay(self, stage: StageGraph):
        """A new Trace of the stage's ops and its result tracers."""
        t = Trace(stage.name)
        local = {}
        for v in stage.inputs:
            local[v.handle] = t.input(v.shape, v.dtype)
        for handle, name, operands, attrs in self.ops[stage.first:stage.end]:
            args = []
            for h in operands:
                if h in local:
                    args.append(local[h])
                elif h in self.constants:
                    c = self.constants[h]
                    local[h] = t.index_constant(c) if c.dtype == np.int64 else c
                    args.append(local[h])
                else:
                    raise ValueError(f"{name}: operand {h} is not available in stage "
                                     f"{stage.index}")
            local[handle] = t.op(name, args, attrs)
        return t, [local[v.handle] for v in stage.outputs]
