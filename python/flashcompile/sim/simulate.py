"""fc.simulate, fc.compare_devices and the plots."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .. import _flashcompile as _native
from ..compiled import Compiled, compile_mlir
from .device import Device
from .registry import devices
from .emitted import predict_emitted
from .memory import cache_traffic, last_level_cache
from .model import DTYPE_BYTES, predict


@dataclass
class SimResult:
    """A predicted run of one program on one device."""
    device: Device
    dtype: str
    program: str
    kernels: list                     # KernelPrediction, in program order
    ops: list                         # the cost analysis of every op
    call_overhead_s: float = 0.0
    transfer_s: float = 0.0           # inputs in and outputs out over the host link
    transfer_in_total: bool = False   # whole-graph devices: every call carries its data
    notes: list = field(default_factory=list)
    footprint_bytes: float = 0.0      # weights + peak live values (an upper bound)
    # Which prediction: "vendor stack" (the device's own libraries and
    # compiler, sim.model) or "FlashCompile's kernels" (sim.emitted).
    prediction: str = "vendor stack"

    @property
    def fits(self) -> bool:
        """Whether the footprint fits the device's memory (devices without
        memory of their own, capacity 0, use the host's: always true)."""
        cap = self.device.memory_gb * 1e9
        return not cap or self.footprint_bytes <= cap

    @property
    def time_s(self) -> float:
        return sum(k.time_s for k in self.kernels) + self.call_overhead_s + \
            (self.transfer_s if self.transfer_in_total else 0.0)

    @property
    def time_ms(self) -> float:
        return self.time_s * 1e3

    @property
    def flops(self) -> float:
        return sum(k.flops for k in self.kernels)

    @property
    def bytes(self) -> float:
        return sum(k.bytes for k in self.kernels)

    @property
    def utilization(self) -> float:
        """Achieved FLOP/s over the device's peak for the dtype."""
        return self.flops / self.time_s / self.device.peak(self.dtype) if self.time_s else 0.0

    @property
    def bound(self) -> str:
        """compute, memory or overhead: whichever accounts for most time."""
        share = {"compute": 0.0, "memory": self.transfer_s if self.transfer_in_total else 0.0,
                 "overhead": self.call_overhead_s}
        for k in self.kernels:
            share[k.bound] += max(k.compute_s, k.memory_s) if k.bound != "overhead" else k.time_s
            if k.bound != "overhead":
                share["overhead"] += k.overhead_s
        return max(share, key=share.get)

    def table(self) -> str:
        rows = [f"{self.program} on {self.device.display} ({self.dtype}): {self.time_ms:.4f} ms, "
                f"{self.utilization:.1%} of peak, {self.bound}-bound [{self.prediction}]",
                f"{'kernel':>6} {'ops':<40} {'GFLOP':>9} {'MB':>9} {'us':>10} {'bound':>8} {'util':>6}"]
        if self.prediction == "vendor stack":  # which grouping of the graph was priced
            rows.insert(1, f"kernels as grouped by {self.device.stack_summary()}")
        for k in self.kernels:
            ops = "+".join(o.replace("flash.", "") for o in k.ops)
            rows.append(f"{k.kernel:>6} {ops[:40]:<40} {k.flops / 1e9:>9.4f} {k.bytes / 1e6:>9.3f} "
                        f"{k.time_s * 1e6:>10.2f} {k.bound:>8} {k.utilization:>6.1%}")
        if self.call_overhead_s:
            rows.append(f"{'':>6} {'(call overhead)':<40} {'':>9} {'':>9} "
                        f"{self.call_overhead_s * 1e6:>10.2f} {'overhead':>8}")
        if self.transfer_s:
            rows.append(f"host link transfers ({'in' if self.transfer_in_total else 'not in'} "
                        f"the total): {self.transfer_s * 1e3:.4f} ms over {self.device.host_link}")
        if self.device.memory_gb:
            rows.append(f"memory: needs at most {self.footprint_bytes / 1e9:.3f} GB of "
                        f"{self.device.memory_gb:g} GB"
                        + ("" if self.fits else " -- DOES NOT FIT"))
        return "\n".join(rows)

    def to_dict(self) -> dict:
        return {"device": self.device.name, "dtype": self.dtype, "program": self.program,
                "prediction": self.prediction, "stack": self.device.stack_summary(),
                "time_ms": self.time_ms, "utilization": self.utilization, "bound": self.bound,
                "transfer_ms": self.transfer_s * 1e3,
                "footprint_gb": self.footprint_bytes / 1e9, "fits": self.fits,
                "kernels": [dict(kernel=k.kernel, ops=k.ops, kind=k.kind, flops=k.flops,
                                 bytes=k.bytes, time_us=k.time_s * 1e6, bound=k.bound,
                                 utilization=k.utilization, notes=k.notes)
                            for k in self.kernels]}

    def __repr__(self):
        return (f"<SimResult {self.program} on {self.device.name}: {self.time_ms:.4f} ms, "
                f"{self.utilization:.1%} util, {self.bound}-bound>")


def as_compiled(program, what: str = "simulate"):
    """The Compiled object of a program: itself, an imported model's
    (fc.from_onnx, fc.from_pytorch), or IR text / a .mlir path compiled."""
    if isinstance(getattr(program, "compiled", None), Compiled):  # an imported model
        return program.compiled
    if isinstance(program, Compiled):
        return program
    if isinstance(program, str):
        text, name = program, "<ir>"
        if "\n" not in program and program.endswith(".mlir"):
            try:
                text, name = open(program).read(), program
            except OSError as e:
                raise ValueError(f"{what}: cannot read {program}: {e.strerror}") from None
        return compile_mlir(text, name=name)
    raise TypeError(f"{what}: expected a compiled program, an imported model, Flash IR text "
                    f"or a .mlir path, got {type(program).__name__}")


def cost_analysis(program, device=None) -> dict:
    """The shared cost analysis (ops and fused kernels) of a program, its
    kernels grouped as the host compiler runs them or, given a `device`
    (a Device or a name from fc.devices), as that device's stack does
    (sim/stacks.toml)."""
    compiled = as_compiled(program)
    if device is None:
        return _native.graph_cost(compiled.ir("graph"), compiled.entry)
    device = devices[device] if not isinstance(device, Device) else device
    return _graph_cost_as_run_by(compiled, device)


def _graph_cost_as_run_by(compiled, device: Device) -> dict:
    return _native.graph_cost(compiled.ir("graph"), compiled.entry,
                              elementwise_epilogues=bool(device.stack.get("elementwise_epilogues")),
                              fused_attention=bool(device.stack.get("fused_attention")))


def simulate(program, device="host", dtype: str = "fp32", threads: int | None = None,
             kernels: str | None = None) -> SimResult:
    """Predicts the run time of `program` (fc.compile/fc.jit result,
    fc.compile_mlir result, Flash IR text or a .mlir path) on `device` (a
    Device or a name from fc.devices).

    `kernels`: "vendor" prices the graph as the device's own stack would
    run it (sim.model); "emitted" prices the kernels FlashCompile's GPU
    pipeline emitted for it (sim.emitted: needs a program compiled for an
    NVIDIA or AMD target). By default a program compiled for such a target
    is priced both ways: the result is the emitted one, with the vendor
    estimate in `.vendor`; its device is the target's (device="host")."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"simulate: dtype {dtype!r} is not one of {sorted(DTYPE_BYTES)}")
    compiled = as_compiled(program)
    target = getattr(compiled, "target", "host")
    gpu_target = target not in ("host", "vulkan")
    if kernels not in (None, "vendor", "emitted"):
        raise ValueError(f"simulate: kernels must be 'vendor' or 'emitted', got {kernels!r}")
    if kernels == "emitted" and not gpu_target:
        raise ValueError(f"simulate: kernels='emitted' needs a program compiled for an NVIDIA "
                         f"or AMD target (this one is for {target})")
    if gpu_target and device == "host":
        device = compiled.gpu.info["device"]
    device = devices[device] if not isinstance(device, Device) else device
    if gpu_target and kernels != "vendor":
        return _simulate_emitted(compiled, device, dtype, threads)
    return _simulate_vendor(compiled, device, dtype, threads)


def _simulate_emitted(compiled, device, dtype, threads) -> SimResult:
    if dtype != "fp32":
        raise ValueError(f"simulate: the emitted kernels compute in fp32, not {dtype}")
    vendor = _simulate_vendor(compiled, device, dtype, threads)
    kernels = predict_emitted(compiled.kernels, device)
    notes = [f"the {len(kernels)} kernels FlashCompile emitted for {compiled.target}; "
             f"the vendor stack's estimate: {vendor.time_ms:.4f} ms (r.vendor)"]
    if device.name != compiled.gpu.info["device"]:
        notes.append(f"compiled for {compiled.target} ({compiled.gpu.info['device']}), "
                     f"priced on {device.name}")
    result = SimResult(device, dtype, compiled.entry, kernels, vendor.ops, 0.0,
                       vendor.transfer_s, False, notes, vendor.footprint_bytes,
                       prediction="FlashCompile's kernels")
    result.vendor = vendor
    return result


def _simulate_vendor(compiled, device, dtype, threads) -> SimResult:
    name = compiled.entry
    # The graph as the device's production stack groups it (stacks.toml),
    # by the compiler's own cost analysis.
    cost = _graph_cost_as_run_by(compiled, device)
    notes = [f"stack: {device.stack_summary()}"]
    if device.run_dtype(dtype) != dtype:
        notes.append(f"{device.name} has no {dtype}: predicted as {device.run_dtype(dtype)}")
        dtype = device.run_dtype(dtype)
    footprint = footprint_bytes(cost["ops"], compiled.input_shapes) * DTYPE_BYTES[dtype] / 4
    onchip_bytes = sum(o.size_mb for o in device.onchip) * 2**20
    on_chip = device.whole_graph and footprint <= onchip_bytes
    streams_parameters = device.whole_graph and not on_chip and \
        footprint - _weight_bytes(cost["ops"]) * DTYPE_BYTES[dtype] / 4 <= onchip_bytes
    if streams_parameters:
        # As the Edge TPU compiler does: parameters cached on chip in
        # program order until it is full, the rest fetched from memory on
        # every call; activations stay on chip when they fit (assumed a
        # budget of their own: the vendor calls the SRAM a parameter cache).
        left = onchip_bytes * 4 / DTYPE_BYTES[dtype]  # in the analysis' f32 bytes
        for k in cost["kernels"]:
            kernel_weights = _constant_operand_bytes(k, cost["ops"])
            k["streamed_bytes"] = max(0.0, kernel_weights - left)
            left = max(0.0, left - kernel_weights)
        on_chip = True
    llc = last_level_cache(device) if device.kind == "gpu" else None
    if llc:  # which bytes the kernels exchange through the cache (sim/memory.py)
        capacity = llc.size_mb * 2**20 * 4 / DTYPE_BYTES[dtype]  # in the analysis' f32 bytes
        for k, split in zip(cost["kernels"], cache_traffic(cost["ops"], cost["kernels"],
                                                           capacity)):
            k["cached_bytes"], k["memory_bytes"] = split["cached"], split["memory"]
        notes.append(f"tensors exchanged through the {llc.size_mb:g} MB {llc.name} where "
                     f"their reuse distance fits it")
    kernels = [predict(k, cost["ops"], device, dtype, threads, on_chip)
               for k in cost["kernels"]]
    if device.whole_graph:
        # The vendor's compiler turns the program into one op (the Edge TPU
        # compiler's edgetpu-custom-op): one invocation, no launch per kernel.
        for k in kernels:
            k.overhead_s = 0.0
            k.finish(device.peak(dtype))
        streamed = sum(k.get("streamed_bytes", 0) for k in cost["kernels"]) * \
            DTYPE_BYTES[dtype] / 4
        needs = f"needs {footprint / 2**20:.1f} MiB, more than the on-chip memory: "
        notes.append("one invocation for the whole program; " + (
            f"{needs}{streamed / 2**20:.1f} MiB of parameters fetched from memory every call"
            if streams_parameters else "weights and activations fit on chip" if on_chip else
            f"{needs}activations too: streamed from memory"))
    # The program's inputs and outputs cross the host link once (reported
    # apart: a model that stays on the device does not pay it per call).
    boundary = sum(4 * _count(s) for s in compiled.input_shapes + compiled.output_shapes) \
        * DTYPE_BYTES[dtype] / 4
    transfer = boundary / (device.host_link_gbs * 1e9) if device.host_link_gbs and \
        device.name != "host" else 0.0
    call = device.launch_overhead_us * 1e-6 if device.name == "host" or device.whole_graph \
        else 0.0
    if device.memory_gb and footprint > device.memory_gb * 1e9:
        notes.append(f"needs up to {footprint / 1e9:.2f} GB; {device.name} has "
                     f"{device.memory_gb:g} GB: does not fit")
    return SimResult(device, dtype, name, kernels, cost["ops"], call, transfer,
                     device.whole_graph, notes, footprint)


def _weight_bytes(ops: list) -> float:
    """float32 bytes of all the program's constants, each counted once."""
    return float(sum(op["bytes_out"] for op in ops if op["kind"] == "constant"))


def _constant_operand_bytes(kernel: dict, ops: list) -> float:
    """float32 bytes of the constants (weights) a kernel reads."""
    seen = {i for j in kernel["ops"] for i in ops[j]["operands"]
            if i >= 0 and ops[i]["kind"] == "constant"}
    return float(sum(ops[i]["bytes_out"] for i in seen))


def footprint_bytes(ops: list, input_shapes) -> float:
    """float32 bytes the program needs on the device at its peak: inputs
    and weights for the whole run, and each op's result from the op until
    its last use (returned results to the end). Results of fused ops never
    materialize, so this is an upper bound."""
    last_use = {}
    for j, op in enumerate(ops):
        for i in op["operands"]:
            last_use[i] = j
    live = sum(4 * _count(s) for s in input_shapes) + \
        sum(op["bytes_out"] for op in ops if op["kind"] == "constant")
    peak = live
    for j, op in enumerate(ops):
        if op["kind"] == "constant":
            continue
        live += op["bytes_out"]
        peak = max(peak, live)
        for i in set(op["operands"]):
            if i >= 0 and last_use.get(i) == j and ops[i]["kind"] != "constant" and \
                    not ops[i]["returned"]:
                live -= ops[i]["bytes_out"]
    return peak


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def compare_devices(program, device_list=None, dtype: str = "fp32") -> list:
    """simulate() on every device (default: all), fastest first."""
    device_list = list(devices) if device_list is None else [devices[d] for d in device_list]
    results = []
    for d in device_list:
        try:
            results.append(simulate(program, d, dtype))
        except ValueError as e:  # a dtype the device lacks: say so, skip it
            results.append(e)
    ok = sorted((r for r in results if isinstance(r, SimResult)), key=lambda r: r.time_s)
    return ok


def comparison_table(results: list) -> str:
    rows = [f"{'device':<22} {'ms':>10} {'util':>7} {'bound':>9}  {'x fastest':>9}"]
    best = results[0].time_s if results else 1.0
    for r in results:
        rows.append(f"{r.device.name:<22} {r.time_ms:>10.4f} {r.utilization:>7.1%} "
                    f"{r.bound:>9}  {r.time_s / best:>9.2f}")
    return "\n".join(rows)


BOUND_COLORS = {"compute": "#1f77b4", "memory": "#ff7f0e", "overhead": "#7f7f7f"}


def plot_comparison(results: list, path: str) -> str:
    """A horizontal bar chart of predicted time per device, colored by bound
    (one colour per bound, the legend beside the bars, never over them)."""
    fig = comparison_figure(results)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def comparison_figure(results: list):
    """The figure plot_comparison saves (for tests and notebooks)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(results) + 1.2), dpi=110)
    names = [r.device.name for r in results]
    ax.barh(names, [r.time_ms for r in results],
            color=[BOUND_COLORS[r.bound] for r in results])
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("predicted time per call (ms, log)")
    title = results[0].program if results else ""
    ax.set_title(f"{title}: predicted time by device ({results[0].dtype if results else ''})")
    # Patches, not empty bar containers (whose legend swatch is the default
    # colour); outside the axes, so no bar is hidden.
    present = [b for b in BOUND_COLORS if any(r.bound == b for r in results)]
    ax.legend(handles=[Patch(color=BOUND_COLORS[b], label=f"{b}-bound") for b in present],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    fig.tight_layout()
    return fig


def _spread_labels(fig, labels):
    """Moves roofline labels up, one at a time, until none overlaps a label
    placed before it (in display space, after a draw)."""
    renderer = fig.canvas.get_renderer()
    placed = []
    for label in labels:
        box = label.get_window_extent(renderer)
        for _ in range(50):
            if not any(box.overlaps(other) for other in placed):
                break
            x, y = label.xyann
            label.xyann = (x, y + box.height * 72 / fig.dpi + 1)
            box = label.get_window_extent(renderer)
        placed.append(box)


def plot_roofline(result: SimResult, path: str) -> str:
    """The device's roofline with every kernel placed at its arithmetic
    intensity and predicted throughput."""
    import matplotlib.pyplot as plt
    fig = roofline_figure(result)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def roofline_figure(result: SimResult):
    """The figure plot_roofline saves, labels spread so none overlaps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    peak = result.device.peak(result.dtype) / 1e9
    bw = result.device.memory_gbs
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    xs = np.logspace(-3, 4, 200)
    ax.plot(xs, np.minimum(peak, bw * xs), "k-", lw=1.5, label=f"roofline ({peak:.0f} GFLOP/s, {bw:.0f} GB/s)")
    labels = []
    for k in result.kernels:
        if not k.flops or not k.bytes:
            continue
        ai = k.flops / k.bytes
        ax.scatter(ai, k.flops / k.time_s / 1e9, s=25, color=BOUND_COLORS[k.bound])
        labels.append(ax.annotate("+".join(o.replace("flash.", "") for o in k.ops)[:18],
                                  (ai, k.flops / k.time_s / 1e9), xytext=(3, 3),
                                  textcoords="offset points", fontsize=6, alpha=0.7))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("GFLOP/s")
    ax.set_title(f"{result.program} on {result.device.name}")
    for b in BOUND_COLORS:  # one legend entry per bound colour used
        if any(k.bound == b and k.flops and k.bytes for k in result.kernels):
            ax.scatter([], [], s=25, color=BOUND_COLORS[b], label=f"{b}-bound kernel")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _spread_labels(fig, labels)
    return fig
