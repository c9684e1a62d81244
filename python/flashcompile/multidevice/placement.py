"""fc.place on a traced program: a plan that runs.

The traced graph is cut into segments at block boundaries (where the
fewest bytes cross, partition.TraceGraph.candidate_cuts); every segment is
priced by the simulator on every device; the placement dynamic program of
sim.placement (exact for "stage times + transfers") assigns segments to
devices. `.compile()` turns the plan into one callable: each run of
consecutive segments on one device becomes a stage compiled for that
device's target, stages run on one worker thread per device as soon as
their inputs exist (so independent stages on different devices overlap),
and every call is measured stage by stage for `.timeline()`.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .. import _flashcompile as _native
from ..importers.stablehlo_export import export_stablehlo, trace_of_program
from ..sim import placement as _kernel_placement
from ..sim.placement import Placement, link_map_of, solve
from ..sim.simulate import simulate
from . import vulkan_model
from .devices import Endpoint, endpoint
from .partition import TraceGraph


def _priced_device(ep: Endpoint):
    """The endpoint's simulator device under the endpoint's name (the
    dynamic program keys devices by name)."""
    return ep.device if ep.device.name == ep.name else dataclasses.replace(ep.device, name=ep.name)


def segment_costs(graph: TraceGraph, segments, endpoints, dtype="fp32"):
    """Predicted seconds of each segment on each endpoint, and the bytes
    crossing each segment boundary / first read from the program inputs /
    returned: the dynamic program's inputs."""
    times = {ep.name: [] for ep in endpoints}
    for seg in segments:
        compiled = seg.compile("host")  # the graph the simulator prices
        for ep in endpoints:
            if ep.target == "vulkan" and ep.runs_here:  # lavapipe: measured rates
                times[ep.name].append(vulkan_model.rates().program_s(seg.compile("vulkan")))
            else:
                times[ep.name].append(simulate(compiled, _priced_device(ep), dtype).time_s)
    live = [0.0] + [sum(v.nbytes for v in graph.live_at(s.first) if v.handle in graph.producer)
                    for s in segments[1:]]
    seen, inputs = set(), []
    for seg in segments:
        fresh = [v for v in seg.inputs if v.handle in graph.inputs and v.handle not in seen]
        seen.update(v.handle for v in fresh)
        inputs.append(float(sum(v.nbytes for v in fresh)))
    outputs = float(sum(graph.values[h].nbytes for h in graph.results))
    return times, live, inputs, outputs


class ExecutablePlacement:
    """A placement over segments of a traced graph (the predicted plan,
    `.predicted`, is sim.placement's Placement over segments), with what it
    takes to run it: `.compile()`, then `.timeline()` after calls."""

    def __init__(self, predicted: Placement, graph: TraceGraph, segments, endpoints,
                 link_map, searched_segments: int = 0):
        self.predicted = predicted
        self.searched_segments = searched_segments or len(segments)
        self.graph, self.segments = graph, segments
        self.endpoints, self.link_map = endpoints, link_map
        self.program: PlacedProgram | None = None

    # The plan's numbers, as a Placement's.
    devices = property(lambda self: self.predicted.devices)
    stages = property(lambda self: self.predicted.stages)
    time_s = property(lambda self: self.predicted.time_s)
    best_single = property(lambda self: self.predicted.best_single)
    speedup = property(lambda self: self.predicted.speedup)
    kernel_times = property(lambda self: self.predicted.kernel_times)
    @property
    def events(self) -> list:
        """The predicted timeline: (device or link, start_s, end_s, label)."""
        return [(where, a, b, label.replace("kernel", "segment"))
                for where, a, b, label in self.predicted.timeline]

    @property
    def assignment(self) -> list:
        """The device of each op of the traced graph."""
        return [dev for first, end, dev in self.op_stages() for _ in range(first, end)]

    def table(self) -> str:
        rows = [f"placement of {len(self.graph.ops)} ops (searched over "
                f"{self.searched_segments} segments): "
                f"{self.time_s * 1e3:.4f} ms end to end predicted; best single device "
                f"{self.best_single[0]} {self.best_single[1] * 1e3:.4f} ms "
                f"(speedup {self.speedup:.2f}x)"]
        for first, end, dev in self.stages:
            ops = (self.segments[first].first, self.segments[end - 1].end)
            ep = self.endpoints[dev]
            how = "runs here" if ep.runs_here else (ep.note or "not here")
            rows.append(f"  ops {ops[0]}..{ops[1] - 1} on {dev} [{how}]")
        return "\n".join(rows)

    def op_stages(self) -> list:
        """(first op, end op, device) per stage of the plan."""
        return [(self.segments[a].first, self.segments[b - 1].end, dev)
                for a, b, dev in self.stages]

    def compile(self) -> "PlacedProgram":
        """Every stage compiled for its device's target (StableHLO for a
        device FlashCompile has no code generator for)."""
        if self.program is None:
            self.program = PlacedProgram(self)
        return self.program

    def timeline(self) -> str:
        """Predicted and (after a call of .compile()'s program) measured
        times per stage and transfer."""
        measured = self.program.last if self.program is not None else None
        rows = [f"{'stage / transfer':<44} {'predicted ms':>13} {'measured ms':>12}"]
        for k, (first, end, dev) in enumerate(self.stages):
            predicted = sum(self.kernel_times[dev][first:end])
            if k:
                prev = self.stages[k - 1][2]
                link = self.link_s(self.segments[first].first, prev, dev)
                # A Vulkan stage's measured copies (in and out) show on the
                # transfer into it; copies out of it are counted there.
                got = measured.transfers[k] if measured and dev == "vulkan" else \
                    (None if prev == "vulkan" or not measured else 0.0)
                rows.append(_row(f"  transfer {prev} -> {dev}", link, got))
            got = measured.stages[k] if measured else None
            ops = self.op_stages()[k]
            rows.append(_row(f"stage {k}: ops {ops[0]}..{ops[1] - 1} on {dev}", predicted, got))
        total_measured = measured.total_s if measured else None
        rows.append(_row("end to end", self.time_s, total_measured))
        if measured and "vulkan" in [dev for *_, dev in self.stages[1:]]:
            rows.append("(measured transfers into Vulkan include its copies back out)")
        return "\n".join(rows)

    def link_s(self, op: int, a: str, b: str) -> float:
        if a == b:
            return 0.0
        crossing = sum(v.nbytes for v in self.graph.live_at(op) if v.handle in self.graph.producer)
        gbs = _kernel_placement._link_gbs(_priced_device(self.endpoints[a]),
                                          _priced_device(self.endpoints[b]), self.link_map)
        return crossing / (gbs * 1e9)


def _row(label, predicted, measured) -> str:
    m = f"{measured * 1e3:12.4f}" if measured is not None else f"{'-':>12}"
    return f"{label:<44} {predicted * 1e3:13.4f} {m}"


def place(program, device_list, links=None, dtype: str = "fp32", *, max_segments: int = 8,
          cuts=None, assignment=None):
    """The fastest assignment of `program` to `device_list`: compile targets
    (host, vulkan, nvidia-sm80, ...) or simulator devices (nvidia-a100-80gb,
    google-tpu-v5e, ...). `links`: {(a, b): GB/s} or fc.Link objects
    (unlisted pairs go through the host at the slower host link).

    A traced program (fc.compile, fc.from_onnx, fc.from_pytorch) is cut into
    at most `max_segments` segments (or at the op positions `cuts`) and the
    result can be compiled and run (`.compile()`); `assignment` (a device
    per segment) fixes the placement instead of searching for it. A
    program given as IR text is placed kernel by kernel, as a prediction."""
    endpoints = [endpoint(d) for d in device_list]
    if not endpoints:
        raise ValueError("place: no devices given")
    names = [ep.name for ep in endpoints]
    if len(set(names)) != len(names):
        raise ValueError(f"place: a device is listed twice in {names}")
    link_map = link_map_of(links)
    try:
        trace = trace_of_program(program, "place")
    except TypeError:
        if cuts is not None or assignment is not None:
            raise TypeError("place: cuts and assignment need a traced program (fc.compile, "
                            "fc.from_onnx, fc.from_pytorch)") from None
        return _kernel_placement.place(program, [_priced_device(ep) for ep in endpoints],
                                       link_map, dtype)
    graph = TraceGraph(trace)
    if cuts is None:
        cuts = graph.candidate_cuts(max_segments)
    segments = graph.split(cuts)
    times, live, inputs, outputs = segment_costs(graph, segments, endpoints, dtype)
    devs = [_priced_device(ep) for ep in endpoints]
    if assignment is not None:
        if len(assignment) != len(segments) or not set(assignment) <= set(names):
            raise ValueError(f"place: assignment {list(assignment)} must name one of {names} "
                             f"for each of the {len(segments)} segments")
        # Only the fixed assignment's device may run each segment.
        times = {n: [t if assignment[i] == n else float("inf") for i, t in enumerate(ts)]
                 for n, ts in times.items()}
    searched = solve(devs, times, live, inputs, outputs, link_map)
    # The search adds segment times, so it cannot see fusion across a cut
    # inside one stage: re-price the stages it chose, each as one program,
    # and every device's whole program; keep the single device when it wins.
    stage_graphs = graph.split([segments[a].first for a, _, _ in searched.stages[1:]])
    chosen = [dev for _, _, dev in searched.stages]
    plan = _fixed(devs, graph, stage_graphs, endpoints, chosen, dtype, link_map)
    whole = [graph.stage(0, 0, len(graph.ops))]
    singles = {ep.name: _fixed(devs, graph, whole, [ep], [ep.name], dtype, link_map)
               for ep in endpoints}
    best = min(singles.values(), key=lambda p: p.time_s)
    if assignment is None and best.time_s < plan.time_s:
        plan, stage_graphs = best, whole
    plan.best_single = (best.stages[0][2], best.time_s)
    return ExecutablePlacement(plan, graph, stage_graphs, {ep.name: ep for ep in endpoints},
                               link_map, searched_segments=len(segments))


def _fixed(devs, graph, units, endpoints, chosen, dtype, link_map) -> Placement:
    """The placement of `units` on the `chosen` device each (priced, with
    the transfers between them)."""
    times, live, inputs, outputs = segment_costs(graph, units, endpoints, dtype)
    names = {ep.name for ep in endpoints}
    fixed = {d.name: [times[d.name][k] if d.name in names and chosen[k] == d.name
                      else float("inf") for k in range(len(units))] for d in devs}
    return solve(devs, fixed, live, inputs, outputs, link_map)


@dataclass
class Measured:
    """One call of a PlacedProgram, in seconds."""
    stages: list      # per stage: time inside its compiled call
    transfers: list   # per stage: time moving its inputs onto its device (0 for the first)
    starts: list      # per stage: start, from the call's start
    total_s: float


class PlacedProgram:
    """A placement compiled: call it like the original program."""

    def __init__(self, plan: ExecutablePlacement):
        self.plan = plan
        graph = plan.graph
        self.stages = graph.split([first for first, _, _ in plan.op_stages()[1:]])
        self.devices = [dev for _, _, dev in plan.op_stages()]
        self.compiled, self.stablehlo = [], []
        for stage, dev in zip(self.stages, self.devices):
            ep = plan.endpoints[dev]
            if ep.target is None:   # a TPU, an NPU: XLA's input
                self.compiled.append(None)
                self.stablehlo.append(export_stablehlo(stage.traced()))
            else:
                self.compiled.append(stage.compile(ep.target))
                self.stablehlo.append(None)
        self.runnable = all(plan.endpoints[d].runs_here for d in self.devices)
        self.last: Measured | None = None
        self._lock = threading.Lock()

    def __call__(self, *args):
        if not self.runnable:
            away = sorted({d for d in self.devices if not self.plan.endpoints[d].runs_here})
            raise ValueError(f"this placement has stages on {', '.join(away)}, which this "
                             f"process cannot run; the stages are built (.compiled, "
                             f".stablehlo) for inspection and export")
        graph = self.plan.graph
        if len(args) != len(graph.inputs):
            raise TypeError(f"{graph.trace.name}: expected {len(graph.inputs)} inputs, "
                            f"got {len(args)}")
        values = {h: np.asarray(a) for h, a in zip(graph.inputs, args)}
        done = {h: None for h in graph.inputs}  # handle -> future (None: ready)
        n = len(self.stages)
        stage_s, transfer_s, starts = [0.0] * n, [0.0] * n, [0.0] * n
        start = time.perf_counter()
        workers = {d: ThreadPoolExecutor(1, thread_name_prefix=f"flash-{d}")
                   for d in set(self.devices)}

        def run(k):
            stage, dev = self.stages[k], self.devices[k]
            for v in stage.inputs:
                if done[v.handle] is not None:
                    done[v.handle].result()
            t0 = time.perf_counter()
            starts[k] = t0 - start
            ins = [values[v.handle] for v in stage.inputs]
            out = self.compiled[k](*ins) if dev != "vulkan" else self._vulkan(k, ins, transfer_s)
            out = out if isinstance(out, tuple) else (out,)
            stage_s[k] = time.perf_counter() - t0 - transfer_s[k]
            for v, o in zip(stage.outputs, out):
                values[v.handle] = o

        try:
            with self._lock:  # one call at a time: the measurements are per call
                for k, stage in enumerate(self.stages):
                    future = workers[self.devices[k]].submit(run, k)
                    for v in stage.outputs:
                        done[v.handle] = future
                for k in range(n):
                    for v in self.stages[k].outputs:
                        done[v.handle].result()
                total = time.perf_counter() - start
        finally:
            for w in workers.values():
                w.shutdown(wait=True)
        self.last = Measured(stage_s, transfer_s, starts, total)
        results = tuple(values[h] for h in graph.results)
        return results if len(results) > 1 else results[0]

    def _vulkan(self, k, ins, transfer_s):
        """A Vulkan stage: the runtime's own counters split its time into
        copies (host <-> device buffers) and the rest."""
        before = _native.vulkan_stats()
        out = self.compiled[k](*ins)
        after = _native.vulkan_stats()
        transfer_s[k] = (after["copy_ms"] - before["copy_ms"]) * 1e-3
        return out
