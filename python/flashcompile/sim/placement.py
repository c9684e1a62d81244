"""Placement: which device runs which part of a program, links included.

The program's fused kernels, in program order (a topological order of the
graph), are cut into contiguous stages and each stage is assigned a
device. The objective is the end-to-end time of one call:

    sum over stages (predicted kernel times on the stage's device)
  + sum over cuts (bytes live across the cut / bandwidth of the link
                   between the two stages' devices)
  + program inputs from the host and results back to the host.

Algorithm (exact for this objective): dynamic programming over cut
positions, best[i][d] = the least time to run kernels [0, i) with the last
stage on device d; best[i][d] = min over j < i and d' of best[j][d'] +
stage(j, i, d) + transfer(j, d', d). O(n^2 D^2) for n kernels, D devices.
Values live across a cut are forwarded stage to stage (a value skipping a
stage travels through it), so every placement's cost is achievable.
Weights are constants of the program and are resident on every device.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from .device import Device
from .registry import devices
from .simulate import as_compiled, simulate
from .. import _flashcompile as _native


@dataclass(frozen=True)
class Link:
    """A link between two devices (either order)."""
    a: str
    b: str
    gbs: float
    name: str = ""


@dataclass
class Placement:
    devices: list               # the candidate devices
    assignment: list            # device name per kernel
    stages: list                # (first kernel, end kernel, device name)
    time_s: float
    timeline: list              # (device or link, start_s, end_s, label)
    best_single: tuple          # (device name, time_s)
    kernel_times: dict = field(default_factory=dict)

    @property
    def speedup(self) -> float:
        return self.best_single[1] / self.time_s if self.time_s else 1.0

    def table(self) -> str:
        rows = [f"placement: {self.time_s * 1e3:.4f} ms end to end; best single device "
                f"{self.best_single[0]} {self.best_single[1] * 1e3:.4f} ms "
                f"(speedup {self.speedup:.2f}x)"]
        for first, end, dev in self.stages:
            rows.append(f"  kernels {first}..{end - 1} on {dev}")
        rows.append("timeline:")
        for where, start, end, label in self.timeline:
            rows.append(f"  {start * 1e6:10.2f} - {end * 1e6:10.2f} us  {where:<28} {label}")
        return "\n".join(rows)


def _link_gbs(a: Device, b: Device, links: dict) -> float:
    if a.name == b.name:
        return float("inf")
    for key in ((a.name, b.name), (b.name, a.name)):
        if key in links:
            return links[key]
    # Default: through the host, at the slower of the two host links.
    rates = [d.host_link_gbs for d in (a, b) if d.name != "host"]
    return min(rates) if rates else float("inf")


def _dataflow(cost: dict):
    """Per kernel: bytes of values it needs from earlier kernels or program
    inputs, and the live bytes across every cut."""
    ops = cost["ops"]
    n = len(cost["kernels"])

    def home(i):  # the kernel that holds op i's value (views alias, consts everywhere)
        while i >= 0 and ops[i]["kind"] == "view":
            i = ops[i]["operands"][0]
        if i < 0:
            return ("input", i)
        if ops[i]["kind"] == "constant":
            return None
        return ("kernel", ops[i]["kernel"], i)

    live = [0.0] * (n + 1)   # live[j]: bytes produced before kernel j, used at or after
    inputs = [0.0] * n       # program-input bytes first needed by kernel k
    seen_inputs = set()
    last_use = {}
    for idx, op in enumerate(ops):
        if op["kernel"] < 0:
            continue
        for pos, src in enumerate(op["operands"]):
            h = home(src)
            if h is None:
                continue
            if h[0] == "input":
                if h[1] not in seen_inputs:
                    seen_inputs.add(h[1])
                    inputs[op["kernel"]] += _operand_bytes(op, pos)
                continue
            _, producer, pidx = h
            if producer != op["kernel"]:
                last_use[pidx] = max(last_use.get(pidx, -1), op["kernel"])
    outputs = 0.0
    for idx, op in enumerate(ops):
        if op["returned"]:
            outputs += op["bytes_out"]
            h = home(idx)
            if h and h[0] == "kernel":
                last_use[h[2]] = n  # results stay live to the end
    for pidx, last in last_use.items():
        producer = ops[pidx]["kernel"]
        for j in range(producer + 1, min(last, n - 1) + 1):
            live[j] += ops[pidx]["bytes_out"]
    return live, inputs, outputs


def _operand_bytes(op, pos):
    shapes = op["shapes"].split(") -> ")[0].lstrip("(")
    parts = [p for p in shapes.split(", ") if p]
    dims = parts[pos].split("x")[:-1]
    n = 1
    for d in dims:
        n *= int(d)
    return 4 * n


def link_map_of(links) -> dict:
    """{(a, b): GB/s} from a dict of that form or a list of Link objects."""
    if isinstance(links, dict):
        return dict(links)
    return {(link.a, link.b): link.gbs for link in links or [] if isinstance(link, Link)}


def place(program, device_list, links=None, dtype: str = "fp32") -> Placement:
    """The fastest assignment of `program`'s kernels to `device_list` (names
    or Devices) given `links` ({(a, b): GB/s} or Link objects; unlisted
    pairs go through the host at the slower host link)."""
    devs = [devices[d] if not isinstance(d, Device) else d for d in device_list]
    if not devs:
        raise ValueError("place: no devices given")
    link_map = link_map_of(links)
    compiled = as_compiled(program)
    cost = _native.graph_cost(compiled.ir("graph"), compiled.entry)
    times = {d.name: [k.time_s for k in simulate(compiled, d, dtype).kernels] for d in devs}
    live, inputs, outputs = _dataflow(cost)
    return solve(devs, times, live, inputs, outputs, link_map)


def solve(devs, times, live, inputs, outputs, link_map) -> Placement:
    """The dynamic program, on plain numbers (also used by the tests)."""
    n = len(next(iter(times.values())))
    D = len(devs)
    by_name = {d.name: d for d in devs}
    host_gbs = {d.name: (float("inf") if d.name == "host" else d.host_link_gbs) for d in devs}

    def stage_cost(j, i, d):
        t = sum(times[d.name][j:i])
        t += sum(inputs[j:i]) / (host_gbs[d.name] * 1e9)
        return t

    def transfer(j, a, b):
        if a.name == b.name:
            return 0.0
        return live[j] / (_link_gbs(a, b, link_map) * 1e9)

    INF = float("inf")
    best = [[INF] * D for _ in range(n + 1)]
    back = [[None] * D for _ in range(n + 1)]
    for i in range(1, n + 1):
        for di, d in enumerate(devs):
            c = stage_cost(0, i, d)
            if c < best[i][di]:
                best[i][di], back[i][di] = c, (0, None)
            for j in range(1, i):
                sc = stage_cost(j, i, d)
                for dj, dprev in enumerate(devs):
                    if dj == di or best[j][dj] == INF:
                        continue
                    c = best[j][dj] + transfer(j, dprev, d) + sc
                    if c < best[i][di]:
                        best[i][di], back[i][di] = c, (j, dj)
    finals = [best[n][di] + outputs / (host_gbs[d.name] * 1e9) for di, d in enumerate(devs)]
    di = min(range(D), key=lambda k: finals[k])
    total = finals[di]
    stages, i = [], n
    while i > 0:
        j, dj = back[i][di]
        stages.append((j, i, devs[di].name))
        i, di = j, (dj if dj is not None else di)
    stages.reverse()
    # Timeline: stages run one after the other, transfers between them.
    timeline, t, prev = [], 0.0, None
    for first, end, name in stages:
        d = by_name[name]
        if prev is not None and prev != name:
            dt = transfer(first, by_name[prev], d)
            timeline.append((f"link {prev}->{name}", t, t + dt, f"{live[first] / 1e6:.3f} MB"))
            t += dt
        t_in = sum(inputs[first:end]) / (host_gbs[name] * 1e9)
        if t_in:
            timeline.append((f"link host->{name}", t, t + t_in, "program inputs"))
            t += t_in
        for k in range(first, end):
            timeline.append((name, t, t + times[name][k], f"kernel {k}"))
            t += times[name][k]
        prev = name
    t_out = outputs / (host_gbs[stages[-1][2]] * 1e9) if stages else 0.0
    if t_out:
        timeline.append((f"link {stages[-1][2]}->host", t, t + t_out, "results"))
    singles = {d.name: stage_cost(0, n, d) + outputs / (host_gbs[d.name] * 1e9) for d in devs}
    best_single = min(singles.items(), key=lambda kv: kv[1])
    assignment = [name for first, end, name in stages for _ in range(first, end)]
    return Placement([d.name for d in devs], assignment, stages, total, timeline, best_single,
                     times)


def brute_force(devs, times, live, inputs, outputs, link_map) -> float:
    """Every contiguous staging and assignment (for tests on small cases)."""
    n = len(next(iter(times.values())))
    host_gbs = {d.name: (float("inf") if d.name == "host" else d.host_link_gbs) for d in devs}
    best = float("inf")
    for assign in itertools.product(devs, repeat=n):
        t = 0.0
        for k in range(n):
            d = assign[k]
            if k > 0 and assign[k - 1].name != d.name:
                t += live[k] / (_link_gbs(assign[k - 1], d, link_map) * 1e9)
            t += times[d.name][k] + inputs[k] / (host_gbs[d.name] * 1e9)
        t += outputs / (host_gbs[assign[-1].name] * 1e9)
        best = min(best, t)
    return best
