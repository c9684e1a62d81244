"""Pipeline parallelism: a model cut into one stage per device, micro-
batches streamed through them (GPipe's schedule, forward only).

Stage s starts micro-batch m when it has finished micro-batch m-1 and
stage s-1's result for m has crossed the link:

    start[s][m]  = max(finish[s][m-1], finish[s-1][m] + link[s])
    finish[s][m] = start[s][m] + t[s]

so with equal stage times t, no link time and M micro-batches over N
stages the run takes (M + N - 1) t and the devices idle for a fraction
(N - 1) / (M + N - 1) of it (the bubble). The cut is the one that
minimises the slowest stage (a linear partition over the segments of
partition.TraceGraph); stage times come from the simulator (any device in
the database) and, for devices that run here, from measured runs.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..importers.stablehlo_export import trace_of_program
from .devices import endpoint
from .partition import TraceGraph
from .placement import _priced_device, segment_costs
from ..sim.placement import _link_gbs, link_map_of


@dataclass
class Schedule:
    """A GPipe forward schedule: per stage and micro-batch (start, finish)."""
    stage_s: list
    link_s: list
    micro_batches: int
    times: list  # times[s][m] = (start_s, finish_s)

    @property
    def makespan_s(self) -> float:
        return self.times[-1][-1][1] if self.times else 0.0

    @property
    def bubble(self) -> float:
        """The fraction of device time spent idle within the makespan."""
        busy = sum(t * self.micro_batches for t in self.stage_s)
        span = self.makespan_s * len(self.stage_s)
        return 1.0 - busy / span if span else 0.0


def schedule(stage_s, link_s, micro_batches: int) -> Schedule:
    """The schedule above; link_s[s] is the time to bring stage s its input
    (link_s[0]: from the host)."""
    if micro_batches < 1:
        raise ValueError(f"pipeline: micro_batches must be >= 1, got {micro_batches}")
    times = []
    for s, t in enumerate(stage_s):
        row = []
        for m in range(micro_batches):
            ready = (times[s - 1][m][1] if s else 0.0) + link_s[s]
            start = max(ready, row[m - 1][1] if m else 0.0)
            row.append((start, start + t))
        times.append(row)
    return Schedule(list(stage_s), list(link_s), micro_batches, times)


def _balanced_cuts(costs, n_stages):
    """Segment boundaries splitting the segments into n_stages contiguous
    groups, group s on device s, minimising the slowest group (exact: a
    dynamic program over boundaries)."""
    n = len(costs[0])
    if n_stages > n:
        raise ValueError(f"pipeline: {n_stages} devices but the graph has only {n} segments "
                         f"to split")
    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(n_stages + 1)]
    back = [[0] * (n + 1) for _ in range(n_stages + 1)]
    best[0][0] = 0.0
    for s in range(1, n_stages + 1):
        for i in range(s, n + 1):
            for j in range(s - 1, i):
                c = max(best[s - 1][j], sum(costs[s - 1][j:i]))
                if c < best[s][i]:
                    best[s][i], back[s][i] = c, j
    cuts, i = [], n
    for s in range(n_stages, 0, -1):
        i = back[s][i]
        cuts.append(i)
    return sorted(cuts)[1:]  # drop the leading 0


class Pipeline:
    """A model in stages over devices (one stage each, in list order)."""

    def __init__(self, graph, stages, endpoints, micro_batches, predicted_stage_s,
                 predicted_link_s, micro_batch_size):
        self.graph, self.stages, self.endpoints = graph, stages, endpoints
        self.micro_batches = micro_batches
        self.micro_batch_size = micro_batch_size
        self.predicted = schedule(predicted_stage_s, predicted_link_s, micro_batches)
        self.compiled = None
        self.measured: Schedule | None = None      # the last run's real times
        self.measured_model: Schedule | None = None  # the formula on measured stage times

    @property
    def runnable(self) -> bool:
        return all(ep.runs_here for ep in self.endpoints)

    def memory_bytes(self) -> list:
        """Per device: the stage's weights plus a double-buffered input and
        output micro-batch (forward only: nothing is kept for a backward)."""
        out = []
        for st in self.stages:
            weights = sum(np.asarray(self.graph.constants[h]).nbytes
                          for _, _, operands, _ in self.graph.ops[st.first:st.end]
                          for h in set(operands) if h in self.graph.constants)
            io = sum(v.nbytes for v in st.inputs) + sum(v.nbytes for v in st.outputs)
            out.append(weights + 2 * io)
        return out

    def compile(self):
        """Each stage compiled for its device's target."""
        if self.compiled is None:
            self.compiled = [st.compile(ep.target or "host") if ep.target else None
                             for st, ep in zip(self.stages, self.endpoints)]
        return self

    def run(self, *batch):
        """Runs the inputs (micro_batches x the traced batch along axis 0)
        through the stages, one thread per device; returns the outputs
        concatenated along axis 0 and records `.measured`."""
        if not self.runnable:
            away = [ep.name for ep in self.endpoints if not ep.runs_here]
            raise ValueError(f"pipeline: {', '.join(away)} cannot run in this process; "
                             f".predicted has the simulated schedule")
        self.compile()
        g, M, b = self.graph, self.micro_batches, self.micro_batch_size
        arrays = [np.asarray(a) for a in batch]
        for a, h in zip(arrays, g.inputs):
            want = (M * b, *g.values[h].shape[1:])
            if a.shape != want:
                raise ValueError(f"pipeline: input of shape {a.shape}; expected {want} "
                                 f"({M} micro-batches of {b})")
        N = len(self.stages)
        queues = [queue.Queue() for _ in range(N + 1)]
        times = [[None] * M for _ in range(N)]
        errors = []
        start = time.perf_counter()

        def worker(s):
            stage, fn = self.stages[s], self.compiled[s]
            for m in range(M):
                values = queues[s].get()
                if values is None:  # an earlier stage failed
                    queues[s + 1].put(None)
                    return
                t0 = time.perf_counter() - start
                try:
                    out = fn(*[values[v.handle] for v in stage.inputs])
                except Exception as e:  # noqa: BLE001 - reported after the join
                    errors.append(e)
                    queues[s + 1].put(None)
                    return
                out = out if isinstance(out, tuple) else (out,)
                values = dict(values)
                values.update({v.handle: o for v, o in zip(stage.outputs, out)})
                times[s][m] = (t0, time.perf_counter() - start)
                queues[s + 1].put(values)

        threads = [threading.Thread(target=worker, args=(s,), name=f"flash-stage{s}")
                   for s in range(N)]
        for t in threads:
            t.start()
        for m in range(M):
            queues[0].put({h: np.ascontiguousarray(a[m * b:(m + 1) * b])
                           for h, a in zip(g.inputs, arrays)})
        results = [queues[N].get() for _ in range(M)]
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        stage_s = [float(np.median([f - s for s, f in row])) for row in times]
        self.measured = _Measured(stage_s, times, M)
        self.measured_model = schedule(stage_s, [0.0] * N, M)
        outs = [np.concatenate([r[h] for r in results], axis=0) for h in g.results]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def table(self) -> str:
        mem = self.memory_bytes()
        rows = [f"pipeline: {len(self.stages)} stages, {self.micro_batches} micro-batches of "
                f"{self.micro_batch_size}",
                f"{'stage':<6} {'ops':<10} {'device':<18} {'predicted ms':>13} "
                f"{'measured ms':>12} {'memory MB':>10}"]
        for s, (st, ep) in enumerate(zip(self.stages, self.endpoints)):
            got = f"{self.measured.stage_s[s] * 1e3:12.4f}" if self.measured else f"{'-':>12}"
            rows.append(f"{s:<6} {f'{st.first}..{st.end - 1}':<10} {ep.name:<18} "
                        f"{self.predicted.stage_s[s] * 1e3:13.4f} {got} {mem[s] / 1e6:10.3f}")
        p = self.predicted
        rows.append(f"predicted: {p.makespan_s * 1e3:.4f} ms for the batch, bubble "
                    f"{p.bubble:.1%}, {self.throughput(p):.1f} samples/s")
        if self.measured:
            m, f = self.measured, self.measured_model
            rows.append(f"measured:  {m.makespan_s * 1e3:.4f} ms for the batch, bubble "
                        f"{m.bubble:.1%}, {self.throughput(m):.1f} samples/s "
                        f"(the schedule on the measured stage times: "
                        f"{f.makespan_s * 1e3:.4f} ms)")
        return "\n".join(rows)

    def throughput(self, sched) -> float:
        span = sched.makespan_s
        return self.micro_batches * self.micro_batch_size / span if span else 0.0


class _Measured(Schedule):
    def __init__(self, stage_s, times, micro_batches):
        super().__init__(stage_s, [0.0] * len(stage_s), micro_batches, times)

    @property
    def makespan_s(self) -> float:
        return max(f for row in self.times for _, f in row)

    @property
    def bubble(self) -> float:
        busy = sum(f - s for row in self.times for s, f in row)
        return 1.0 - busy / (self.makespan_s * len(self.times))


def pipeline(program, devices, micro_batches: int = 4, links=None, dtype: str = "fp32",
             cuts=None, max_segments: int = 16) -> Pipeline:
    """`program` (traced at one micro-batch: axis 0 of every input) cut into
    one stage per entry of `devices` (targets or simulator devices, in
    order), balanced on the simulator's stage times (or at the op
    positions `cuts`). `.predicted` is the simulated schedule;
    `.run(*inputs)` streams micro_batches micro-batches through the stages
    where every device runs here (host, vulkan)."""
    endpoints = [endpoint(d) for d in devices]
    if not endpoints:
        raise ValueError("pipeline: no devices given")
    trace = trace_of_program(program, "pipeline")
    graph = TraceGraph(trace)
    link_map = link_map_of(links)
    if cuts is None:
        segments = graph.split(graph.candidate_cuts(max(max_segments, 2 * len(endpoints))))
        times, *_ = segment_costs(graph, segments, endpoints, dtype)
        if len(endpoints) == 1:
            cuts = []
        else:
            cut_segments = _balanced_cuts([times[ep.name] for ep in endpoints], len(endpoints))
            cuts = [segments[k].first for k in cut_segments]
    elif len(cuts) != len(endpoints) - 1:
        raise ValueError(f"pipeline: {len(endpoints)} devices need {len(endpoints) - 1} cuts, "
                         f"got {list(cuts)}")
    stages = graph.split(cuts)
    if len(stages) != len(endpoints):
        raise ValueError(f"pipeline: cuts {list(cuts)} give {len(stages)} stages for "
                         f"{len(endpoints)} devices")
    stage_s, *_ = segment_costs(graph, stages, endpoints, dtype)
    predicted = [stage_s[ep.name][s] for s, ep in enumerate(endpoints)]
    link_s = []
    for s, st in enumerate(stages):
        nbytes = sum(v.nbytes for v in st.inputs)
        if s == 0:
            gbs = float("inf") if endpoints[0].name == "host" else \
                (_priced_device(endpoints[0]).host_link_gbs or float("inf"))
        else:
            gbs = _link_gbs(_priced_device(endpoints[s - 1]), _priced_device(endpoints[s]),
                            link_map)
        link_s.append(nbytes / (gbs * 1e9))
    batch = graph.values[graph.inputs[0]].shape[0] if graph.inputs and \
        graph.values[graph.inputs[0]].shape else 1
    return Pipeline(graph, stages, endpoints, micro_batches, predicted, link_s, batch)
