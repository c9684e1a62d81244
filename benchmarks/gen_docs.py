"""The numbers in README.md and docs/ from the committed result files.

A doc marks each generated piece with an expression over the results:

    <!-- gen: bench_table() -->          (a block: the lines in between)
    ...
    <!-- /gen -->
    ... at <!-- gen: fig("bench-1t", "overhead_add_1024.ratio", "{:.2f}x") -->1.28x<!-- /gen --> ...

    python3 benchmarks/gen_docs.py --write   # regenerate every marked piece
    python3 benchmarks/gen_docs.py --check   # exit 1 and list what differs

test/python/test_docs_from_results.py runs the check, and fails on a number
about performance, compile time, tuning or simulator accuracy written in a
doc outside such a marker, outside a `<!-- history -->` block (design notes
measured when a choice was made, labelled as such in the text) and outside
an `<!-- example -->` block (worked examples with computed figures) and
outside `<!-- setting -->` (a configured threshold, not a measurement).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)
# The simulator's tables are predicted afresh: the package from the build
# when it is not installed.
sys.path.append(os.path.join(ROOT, "build", "python_packages"))

DOCS = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                              if f.endswith(".md"))
MARK = re.compile(r"<!-- gen: (.*?) -->(.*?)<!-- /gen -->", re.S)
# Exempt blocks: design notes measured when a choice was made (history),
# worked examples whose figures are computed, not measured (example), and
# a configured threshold or share, such as the tuner's 3% margin (setting).
HISTORY = re.compile(r"<!-- (history|example|setting) -->.*?<!-- /\1 -->", re.S)
# A figure about speed, time, tuning or accuracy: a ratio (1.2x), a rate,
# a time, a percentage.
NUMBER = re.compile(r"(?<![\w.^-])[-+]?\d+(?:\.\d+)?(?:x\b|\s?(?:GFLOP/s|GB/s|TFLOPS|ms\b|us\b|µs\b|s\b)|%)")


@functools.lru_cache(maxsize=None)
def result(name: str) -> dict:
    """A committed result file, e.g. result("bench-1t")."""
    return json.load(open(os.path.join(RESULTS, name + ".json")))


def _path(data, dotted: str):
    for key in dotted.split("."):
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


def fig(name: str, dotted: str, fmt: str = "{}") -> str:
    """One value of a result file: fig("peak", "fma_gflops_avx2_1thread", "{:.1f}")."""
    return fmt.format(_path(result(name), dotted))


def measured(name: str) -> str:
    """Where and when a result file was measured."""
    p = result(name).get("provenance")
    if not p:
        return f"`benchmarks/results/{name}.json` (no provenance recorded)"
    dirty = " plus uncommitted changes" if p.get("dirty") else ""
    return (f"`benchmarks/results/{name}.json`, measured {p['date'][:10]} at commit "
            f"`{p['commit'][:10]}`{dirty} on {p['machine']['cpu']} ({p['machine']['cores']} cores)")


# ---- benchmarks/bench_zoo.py ------------------------------------------------

def _zoo_runs():
    return sorted((result(f[:-5]) for f in os.listdir(RESULTS)
                   if re.fullmatch(r"zoo-b\d+-\d+t\.json", f)),
                  key=lambda r: (r["batch"], r["threads"]))


def zoo_measured() -> str:
    runs = [f"zoo-b{r['batch']}-{r['threads']}t" for r in _zoo_runs()]
    return "; ".join(measured(name) for name in runs)


def zoo_table() -> str:
    """Per model, batch and thread count: times and FlashCompile's speedup."""
    rows = ["| model | batch | threads | FlashCompile ms | torch eager ms | ONNX Runtime ms | "
            "torch.compile ms | vs eager | vs ORT | vs torch.compile | import s (cached) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in _zoo_runs():
        for row in run["rows"]:
            t, s = row["seconds"], row["speedup"]

            def ms(k):
                return f"{t[k] * 1e3:.2f}" if t.get(k) else "n/a"

            def x(k):
                return f"{s[k]:.2f}x" if s.get(k) else "n/a"
            rows.append(f"| {row['name']} | {run['batch']} | {run['threads']} | {ms('flash')} | "
                        f"{ms('torch')} | {ms('onnxruntime')} | {ms('torch.compile')} | "
                        f"{x('torch')} | {x('onnxruntime')} | {x('torch.compile')} | "
                        f"{row['import_s']['cold']:.1f} ({row['import_s']['cached']:.1f}) |")
    return "\n".join(rows)


def zoo_summary() -> str:
    """Geo-mean speedups over ONNX Runtime per batch and thread count, and
    how many models reach 1.0x."""
    import math
    parts = []
    for run in _zoo_runs():
        ratios = [r["speedup"]["onnxruntime"] for r in run["rows"]
                  if r["speedup"].get("onnxruntime")]
        if not ratios:
            continue
        geo = math.exp(sum(math.log(v) for v in ratios) / len(ratios))
        parts.append(f"batch {run['batch']}, {run['threads']} thread(s): geo-mean "
                     f"{geo:.2f}x ONNX Runtime, {sum(v >= 1.0 for v in ratios)} of "
                     f"{len(ratios)} models at 1.0x or better")
    return "; ".join(parts)


def import_table() -> str:
    """Per model: import-to-ready seconds (fresh processes) on both paths,
    torch.onnx.export's time and ONNX Runtime's session + first run."""
    rows = ["| model | from_pytorch cold s | cached s | of which torch.export (cached) s | "
            "from_onnx cold s | cached s | torch.onnx.export s | ONNX Runtime s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def s(d, key="seconds"):
        return f"{d[key]:.2f}" if isinstance(d, dict) and key in d else "failed"
    for row in result("import")["rows"]:
        fp, fo = row["from_pytorch"], row.get("from_onnx", {})
        rows.append(f"| {row['name']} | {s(fp['cold'])} | {s(fp['cached'])} | "
                    f"{s(fp['cached'], 'torch_export_s')} | {s(fo.get('cold'))} | "
                    f"{s(fo.get('cached'))} | {s(row['export_s'])} | {s(row.get('onnxruntime'))} |")
    return "\n".join(rows)


def import_resnet18() -> str:
    """ResNet-18's import-to-ready against the issue's targets."""
    row = next(r for r in result("import")["rows"] if r["name"] == "resnet18")
    fp, fo = row["from_pytorch"], row["from_onnx"]
    return (f"{fp['cold']['seconds']:.2f} s cold and {fp['cached']['seconds']:.2f} s cached "
            f"through fc.from_pytorch (torch.export {fp['cached']['torch_export_s']:.2f} s of "
            f"that), {fo['cold']['seconds']:.2f} s and {fo['cached']['seconds']:.2f} s through "
            f"fc.from_onnx")


def zoo_ablation_table() -> str:
    """Per model and thread count: the default time and each switch's
    effect (seconds off / seconds on)."""
    data = result("ablation-zoo")
    labels = list(data["switches"])
    rows = ["| model | threads | default ms | " + " | ".join(f"{l} off" for l in labels) + " |",
            "|---|---:|---:|" + "---:|" * len(labels)]
    for row in data["rows"]:
        rows.append(f"| {row['name']} | {row['threads']} | {row['seconds']['default'] * 1e3:.2f} | "
                    + " | ".join(f"{row['speedup'][l]:.2f}x" for l in labels) + " |")
    return "\n".join(rows)


# ---- benchmarks/bench_depthwise.py ------------------------------------------

def depthwise_measured() -> str:
    """The depthwise layers table with where it was measured."""
    data = result("depthwise")
    rows = [measured("depthwise") + ", each layer with its bias and ReLU6 "
            "(`python3 benchmarks/bench_depthwise.py`; a cell is the contender's time over "
            "the ukernel's: above 1.0x the ukernel is faster):", "",
            "| layer | from | threads | ukernel us | vs generated loops | vs ONNX Runtime | vs torch |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for r in data["rows"]:
        s = r["speedup"]
        rows.append(f"| {r['channels']}x{r['size']}x{r['size']} {r['kernel']}x{r['kernel']} "
                    f"s{r['stride']} | {r['where']} | {r['threads']} | "
                    f"{r['seconds']['ukernel'] * 1e6:.0f} | {s['loops']:.2f}x | "
                    f"{s['onnxruntime']:.2f}x | {s['torch']:.2f}x |")
    return "\n".join(rows)


# ---- benchmarks/bench_overhead.py -------------------------------------------

OVERHEAD_LABELS = {
    "import_s": ("import flashcompile", "s"),
    "compile_eager_matmul_s": ("first call of fc.matmul (compile)", "s"),
    "compile_eager_conv2d_s": ("first call of fc.conv2d (compile)", "s"),
    "compile_mlp_s": ("fc.compile of an MLP", "s"),
    "compile_lenet_s": ("fc.compile of LeNet-5", "s"),
    "cached_eager_matmul_s": ("fc.matmul again, code from the disk cache", "s"),
    "cached_eager_conv2d_s": ("fc.conv2d again, code from the disk cache", "s"),
    "cached_mlp_s": ("the MLP again, code from the disk cache", "s"),
    "cached_lenet_s": ("LeNet-5 again, code from the disk cache", "s"),
    "call_add_us": ("cached call: fc.add, 1024 floats", "us"),
    "call_softmax_us": ("cached call: fc.softmax, 4x16", "us"),
    "call_conv2d_us": ("cached call: fc.conv2d, 1x3x16x16", "us"),
    "call_compiled_us": ("call of a Compiled (relu, 1024 floats)", "us"),
    "call_jit_us": ("call of an fc.jit function (relu, 1024 floats)", "us"),
}


def structure_overhead_table() -> str:
    """Compile times and call overheads of two builds side by side."""
    data = result("overhead")
    best, ratio = data["best"], data["ratio_current_over_baseline"]

    def show(value, unit):
        return f"{value * 1e3:.2f} ms" if unit == "s" else f"{value:.2f} us"
    rows = ["| measurement | before | after | after / before |", "|---|---:|---:|---:|"]
    for key, (label, unit) in OVERHEAD_LABELS.items():
        rows.append(f"| {label} | {show(best['baseline'][key], unit)} | "
                    f"{show(best['current'][key], unit)} | {ratio[key]:.2f}x |")
    return "\n".join(rows)


# ---- benchmarks/bench.py ---------------------------------------------------

def _bench_runs():
    return sorted((result(f[:-5]) for f in os.listdir(RESULTS)
                   if re.fullmatch(r"bench-\d+t\.json", f)), key=lambda r: r["threads"])


def bench_table() -> str:
    import report
    return report.table(_bench_runs())


def ablation_table() -> str:
    import report
    return report.ablation_table(_bench_runs())


def overhead_table() -> str:
    import report
    return report.overhead_table(_bench_runs())


def not_timed() -> str:
    import report
    return report.not_timed_list(_bench_runs())


def _rows(threads, kind=None, names=None):
    for run in _bench_runs():
        if run["threads"] != threads:
            continue
        for r in run["rows"]:
            if (kind is None or r["kind"] == kind) and (names is None or r["workload"] in names):
                yield r


def _span(values, fmt="{:.2f}x"):
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "n/a"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}-{fmt.format(hi)}"


def _target(what, values, ok, fmt="{:.2f}x"):
    """A row of the target table: the measured span and whether every value
    meets the bar (a missing value is not met)."""
    vals = [v for v in values if v is not None]
    met = bool(vals) and len(vals) == len(values) and all(ok(v) for v in vals)
    return f"| {what} | {_span(vals, fmt)} | {'met' if met else '**not met**'} |"


def targets_table() -> str:
    """The CPU-performance targets, each judged on the committed results."""
    square = [f"matmul {n}x{n}x{n}" for n in (256, 512, 1024, 2048)]
    all_threads = max(r["threads"] for r in _bench_runs())

    def vs(rows, name):
        return [r["speedup_vs"].get(name) for r in rows]
    lines = ["| target | measured | status |", "|---|---:|---|"]
    lines.append(_target("matmul 256-2048, 1 thread: >= 1.0x NumPy",
                         vs(_rows(1, names=square), "numpy"), lambda v: v >= 1.0))
    lines.append(_target("matmul 1024 and 2048, 1 thread: >= 90% of the FMA peak",
                         [r.get("fraction_of_peak") for r in _rows(1, names=square[2:])],
                         lambda v: v >= 0.9, "{:.0%}"))
    lines.append(_target(f"matmul 256-2048, {all_threads} threads: >= 1.0x NumPy",
                         vs(_rows(all_threads, names=square), "numpy"), lambda v: v >= 1.0))
    for t in sorted({1, all_threads}):
        mlp = list(_rows(t, kind="mlp"))
        lines.append(_target(f"MLP as one graph, {t} thread(s): >= 1.5x NumPy at every batch",
                             vs(mlp, "numpy"), lambda v: v >= 1.5))
        lines.append(_target(f"MLP, {t} thread(s): faster than PyTorch eager",
                             vs(mlp, "torch"), lambda v: v > 1.0))
        lines.append(_target(f"MLP, {t} thread(s): faster than ONNX Runtime",
                             vs(mlp, "onnxruntime"), lambda v: v > 1.0))
        chains = [r for r in _rows(t, kind="elementwise") if int(r["workload"].split()[-1]) >= 1 << 20]
        lines.append(_target(f"elementwise chains of 1M+ elements, {t} thread(s): >= 1.5x NumPy",
                             vs(chains, "numpy"), lambda v: v >= 1.5))
    ratios = [run["overhead_add_1024"]["ratio"] for run in _bench_runs()]
    lines.append(_target("per-call overhead of a cached fc.add on 1024 floats: <= 1.5x np.add",
                         ratios, lambda v: v <= 1.5))
    every = [r for run in _bench_runs() for r in run["rows"]]
    lines.append(_target("cold compile of the MLP: < 0.5 s",
                         [r["fc_compile_s"] for r in every if r["kind"] == "mlp"],
                         lambda v: v < 0.5, "{:.3f} s"))
    lines.append(_target("cold compile of every workload: < 2 s",
                         [r["fc_compile_s"] for r in every], lambda v: v < 2.0, "{:.3f} s"))
    lines.append(_target("a repeated compile (on-disk cache): < 10 ms",
                         [r["fc_compile_cached_s"] for r in every], lambda v: v < 0.01, "{:.3f} s"))
    return "\n".join(lines)


def speedups(threads: int, baseline: str, kind: str | None = None, names=None) -> str:
    """The span of FlashCompile's speedup over a baseline, e.g. in prose."""
    return _span([r["speedup_vs"].get(baseline) for r in _rows(threads, kind, names)])


def faster_on(threads: int, baseline: str, kind: str | None = None) -> str:
    """How many workloads FlashCompile is faster on than a baseline, in
    words ("12 of 20"), so that prose never claims "most" by hand."""
    values = [r["speedup_vs"].get(baseline) for r in _rows(threads, kind)]
    values = [v for v in values if v is not None and math.isfinite(v)]
    return f"{sum(v > 1 for v in values)} of {len(values)}"


def avx512_ratio() -> str:
    """One core's AVX-512 FMA peak over its AVX2 peak, from peak.json: about
    2 where the CPU has two 512-bit FMA units, about 1 where it splits a
    512-bit FMA in halves."""
    p = result("peak")
    if not p.get("fma_gflops_avx512_1thread"):
        return "no AVX-512 on this machine"
    return f"{p['fma_gflops_avx512_1thread'] / p['fma_gflops_avx2_1thread']:.2f}x"


def peak_line() -> str:
    p = result("peak")
    t = p["triad_gbs"]
    return (f"{p['fma_gflops_avx2_1thread']:.1f} GFLOP/s on one core, "
            f"{p['fma_gflops_avx2_allthreads']:.1f} GFLOP/s on all {p['cores']} "
            f"(AVX-512: {p['fma_gflops_avx512_1thread']:.1f} GFLOP/s on one core); triad "
            f"bandwidth {t['262144KiB_1thread']:.1f} GB/s from DRAM on one core, "
            f"{t['16384KiB_1thread']:.1f} GB/s from a 16 MiB working set")


# ---- benchmarks/bench_next_to_numpy.py ------------------------------------

def next_to_numpy_table() -> str:
    """Matmul GFLOP/s alone and right after the other library, per
    configuration and size; ours over NumPy's in both situations."""
    data = result("next-to-numpy")
    lines = ["| configuration | n | fc alone | fc right after NumPy | NumPy alone | "
             "NumPy right after fc | fc / NumPy, alone | fc after NumPy / NumPy after fc |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, rows in data["configs"].items():
        for n, r in rows.items():
            lines.append(
                f"| {name} | {n} | {r['fc alone']:.1f} | {r['fc after numpy']:.1f} | "
                f"{r['numpy alone']:.1f} | {r['numpy after fc']:.1f} | "
                f"{r['fc alone'] / r['numpy alone']:.2f}x | "
                f"{r['fc after numpy'] / r['numpy after fc']:.2f}x |")
    return "\n".join(lines) + "\n\n" + measured("next-to-numpy")


# ---- benchmarks/bench_imported.py ----------------------------------------

def imported_table() -> str:
    import bench_imported
    paths = sorted(os.path.join(RESULTS, f) for f in os.listdir(RESULTS)
                   if re.fullmatch(r"imported-\d+t\.json", f))
    return bench_imported.table(paths)


# ---- benchmarks/tune_bench.py --------------------------------------------

def tuning_table() -> str:
    import tune_bench
    r = result("tuning")
    return tune_bench.write_md(r, None, r["rows"][0]["budget_s"], 24).rstrip("\n")


# ---- the simulator's validation ------------------------------------------

def sim_host_table() -> str:
    import sim_validation
    return sim_validation.host_table()


def sim_host_latest() -> str:
    """Where and when the latest host validation run was measured."""
    import sim_validation
    name = sim_validation.host_runs()[-1][0]
    return measured(f"sim-validation-host/{name}")


def sim_host_runs_table() -> str:
    import sim_validation
    return sim_validation.host_runs_table()


def sim_host_summary() -> str:
    import sim_validation
    return sim_validation.host_summary()


def sim_kernel_check_table() -> str:
    import sim_validation
    return sim_validation.kernel_check_table()


def sim_stacks_table() -> str:
    """Each device kind's stack rules (sim/stacks.toml) and the device
    files that override one."""
    from flashcompile import devices
    from flashcompile.sim.device import KINDS, STACK_RULES, STACKS
    lines = ["| rule | " + " | ".join(KINDS) + " |", "|---|" + "---|" * len(KINDS)]
    lines.append("| stack | " + " | ".join(STACKS[k]["stack"] for k in KINDS) + " |")
    for rule in STACK_RULES:
        cells = []
        for kind in KINDS:
            off = [d.name for d in devices if d.kind == kind and
                   d.stack.get(rule) != STACKS[kind][rule]]
            cells.append(("yes" if STACKS[kind][rule] else "no") +
                         (f" (not {', '.join(off)})" if off else ""))
        lines.append(f"| `{rule}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sim_mlperf_table() -> str:
    import sim_validation
    return sim_validation.mlperf_table()


def sim_edge_tpu_table() -> str:
    import sim_validation
    return sim_validation.edge_tpu_table()


def sim_consistency() -> str:
    import sim_validation
    return sim_validation.consistency_line()


# ---- benchmarks/bench_gpu.py ----------------------------------------------

def gpu_kernel_table() -> str:
    """Per reference model and GPU target: kernels, the most registers any
    uses, spills, and the lowest theoretical occupancy (with its limit)."""
    rows = ["| model | target | kernels | most registers | spill bytes | "
            "lowest occupancy (limited by) |", "|---|---|---:|---:|---:|---|"]
    for model, targets in result("gpu")["kernels"].items():
        for target, kernels in targets.items():
            low = min(kernels, key=lambda k: k["occupancy"])
            rows.append(f"| {model} | {target} | {len(kernels)} | "
                        f"{max(k['registers'] for k in kernels)} | "
                        f"{sum(k['spill_bytes'] for k in kernels)} | "
                        f"{low['occupancy']:.0%} ({low['limited_by']}) |")
    return "\n".join(rows)


def gpu_vulkan_table() -> str:
    """Per reference model: Vulkan (lavapipe) and host times, and where a
    Vulkan call's time goes."""
    data = result("gpu")
    rows = ["| model | launches | Vulkan ms | host ms | dispatch ms | setup ms | "
            "copies ms | bytes copied |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in data["vulkan"]:
        t, p = r["seconds"], r["per_call_ms"]
        rows.append(f"| {r['name']} | {r['kernels']} | {t['vulkan'] * 1e3:.2f} | "
                    f"{t['host'] * 1e3:.3f} | {p['dispatch_ms']:.2f} | {p['setup_ms']:.2f} | "
                    f"{p['copy_ms']:.2f} | {r['bytes_per_call']} |")
    return "\n".join(rows) + f"\n\nDevice: {data['vulkan_device']}."


# ---- benchmarks/bench_multidevice.py -------------------------------------

def stablehlo_table() -> str:
    """Per model: the exported StableHLO run by IREE next to FlashCompile's
    host code, and the largest difference."""
    data = result("multidevice")
    rows = ["| model | StableHLO ops | IREE ms | FlashCompile ms | IREE / FlashCompile time | "
            "max rel. diff |", "|---|---:|---:|---:|---:|---:|"]
    for r in data["stablehlo"]:
        t = r["seconds"]
        rows.append(f"| {r['name']} | {r['stablehlo_ops']} | {t['iree'] * 1e3:.3f} | "
                    f"{t['flashcompile'] * 1e3:.3f} | {t['iree'] / t['flashcompile']:.2f}x | "
                    f"{r['max_rel_diff']:.1e} |")
    return "\n".join(rows) + f"\n\n{measured('multidevice')}"


def placement_table() -> str:
    """The host + Vulkan placement: predicted and measured per stage."""
    r = result("multidevice")["placement"]
    rows = ["| stage | ops | device | predicted ms | measured ms | of which copies ms |",
            "|---|---|---|---:|---:|---:|"]
    for k, s in enumerate(r["stages"]):
        rows.append(f"| {k} | {s['ops'][0]}..{s['ops'][1] - 1} | {s['device']} | "
                    f"{s['predicted_s'] * 1e3:.3f} | {s['measured_s'] * 1e3:.3f} | "
                    f"{s['transfer_s'] * 1e3:.3f} |")
    rows.append(f"| end to end | | | {r['predicted_s'] * 1e3:.3f} | {r['measured_s'] * 1e3:.3f} "
                f"| |")
    return "\n".join(rows)


def pipeline_table() -> str:
    """The host + Vulkan pipeline: stage times, makespan and bubble,
    predicted and measured."""
    r = result("multidevice")["pipeline"]
    rows = ["| | predicted | measured |", "|---|---:|---:|"]
    for k, s in enumerate(r["stages"]):
        rows.append(f"| stage {k} ({s['device']}, ops {s['ops'][0]}..{s['ops'][1] - 1}) ms | "
                    f"{s['predicted_s'] * 1e3:.3f} | {s['measured_s'] * 1e3:.3f} |")
    p, m = r["predicted"], r["measured"]
    rows.append(f"| {r['micro_batches']} micro-batches, ms | {p['makespan_s'] * 1e3:.3f} | "
                f"{m['makespan_s'] * 1e3:.3f} |")
    rows.append(f"| bubble | {p['bubble']:.0%} | {m['bubble']:.0%} |")
    return "\n".join(rows) + (f"\n\nThe schedule's formula on the measured stage times gives "
                              f"{r['schedule_on_measured_stages_s'] * 1e3:.3f} ms.")


# ---- fuzz/differential.py -------------------------------------------------

def differential_line() -> str:
    """The latest differential run: cases, mismatches, time, where."""
    r = result("differential")
    return (f"Latest run: {r['cases']} random programs (seed {r['seed']}), "
            f"{r['compiles_per_case'] * r['cases']} compiles, {r['mismatches']} mismatches, "
            f"{r['seconds'] / 60:.0f} min; {measured('differential')}.")


def fuzz_table() -> str:
    """The recorded libFuzzer runs per target: all runs' executions (none
    crashed: a crash stops fuzz.sh before it records), the latest run."""
    r = result("fuzz")
    rows = ["| target | runs | executions, all runs | latest run: executions | seconds | "
            "peak RSS MB | corpus |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, t in r["targets"].items():
        last = t["runs"][-1]
        rows.append(f"| flash-fuzz-{name} | {len(t['runs'])} | "
                    f"{sum(run['executions'] for run in t['runs']):,} | {last['executions']:,} | "
                    f"{last['seconds']} | {last['peak_rss_mb']} | {last['corpus']} |")
    return "\n".join(rows) + f"\n\n{measured('fuzz')}."


NAMESPACE = {k: v for k, v in globals().items() if callable(v) and not k.startswith("_")}


def render(text: str) -> str:
    def one(m):
        value = eval(m.group(1), NAMESPACE)  # noqa: S307 - our own docs' expressions
        block = m.group(2).startswith("\n")
        return f"<!-- gen: {m.group(1)} -->" + (f"\n{value}\n" if block else value) + "<!-- /gen -->"
    return MARK.sub(one, text)


def unmarked_numbers(text: str) -> list:
    """(line number, line) of figures written by hand: outside every marker
    and every history block."""
    masked = HISTORY.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    masked = MARK.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), masked)
    masked = re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)), masked)  # code spans
    found = []
    in_code = False
    for i, line in enumerate(masked.split("\n"), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code and NUMBER.search(line):
            found.append((i, text.split("\n")[i - 1].strip()))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for doc in DOCS:
        path = os.path.join(ROOT, doc)
        text = open(path).read()
        new = render(text)
        if new != text:
            stale.append(doc)
            if args.write:
                open(path, "w").write(new)
    for doc in stale:
        print(f"{doc}: {'regenerated' if args.write else 'differs from its result files'}")
    if args.check and stale:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
