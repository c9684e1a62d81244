"""The simulator's predictions of every validation case, computed once for
the tests that hold them to their bounds (test/python/test_sim_*.py) and
for the tables in docs/simulator.md (benchmarks/gen_docs.py).

Measured data: benchmarks/results/sim-validation-host/ (this kind of
machine, one file per run of benchmarks/validate_simulator.py) and the published measurements of other
devices in sim-validation-{published,independent,edge-tpu}.json (each file
names its sources)."""
from __future__ import annotations

import functools
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def _load(name):
    return json.load(open(os.path.join(RESULTS, f"sim-validation-{name}.json")))


def matmul_ir(m: int, k: int, n: int) -> str:
    a, b, c = f"tensor<{m}x{k}xf32>", f"tensor<{k}x{n}xf32>", f"tensor<{m}x{n}xf32>"
    return f"""func.func @mm(%a: {a}, %b: {b}) -> {c} {{
  %0 = flash.matmul %a, %b : ({a}, {b}) -> {c}
  return %0 : {c}
}}"""


def copy_ir(n: int) -> str:
    """A float32 copy as the simulator sees it: one streaming kernel that
    reads and writes n elements (relu: no arithmetic to speak of)."""
    return f"""func.func @copy(%x: tensor<{n}xf32>) -> tensor<{n}xf32> {{
  %0 = flash.relu %x : tensor<{n}xf32>
  return %0 : tensor<{n}xf32>
}}"""


def triad_ir(n: int) -> str:
    """STREAM's triad a = b + s c on n float32 elements: one kernel
    reading two arrays and writing one."""
    t = f"tensor<{n}xf32>"
    return f"""func.func @triad(%b: {t}, %c: {t}) -> {t} {{
  %s = flash.constant dense<3.0> : tensor<f32>
  %0 = flash.mul %c, %s : ({t}, tensor<f32>) -> {t}
  %1 = flash.add %b, %0 : ({t}, {t}) -> {t}
  return %1 : {t}
}}"""


def attention_ir(bh: int, s: int, d: int) -> str:
    q, kt, sc = f"tensor<{bh}x{s}x{d}xf32>", f"tensor<{bh}x{d}x{s}xf32>", f"tensor<{bh}x{s}x{s}xf32>"
    return f"""func.func @attention(%q: {q}, %kt: {kt}, %v: {q}) -> {q} {{
  %s = flash.batch_matmul %q, %kt : ({q}, {kt}) -> {sc}
  %c = flash.constant dense<0.0625> : tensor<f32>
  %t = flash.mul %s, %c : ({sc}, tensor<f32>) -> {sc}
  %p = flash.softmax %t {{axis = 2 : i64}} : {sc}
  %o = flash.batch_matmul %p, %v : ({sc}, {q}) -> {q}
  return %o : {q}
}}"""


@functools.lru_cache(maxsize=None)
def kernel_rows() -> tuple:
    """The kernel check set of shared/SIM-DATA.md (sim-validation-kernels.json):
    triad bandwidth, GEMMs and a fused attention, each as its own measure
    (GB/s or TFLOP/s the way its source counts it)."""
    import flashcompile as fc
    rows = []
    for case in _load("kernels")["cases"]:
        if case["kind"] == "triad":
            n = 3 * case["array_bytes"] // 4 // 3  # float32 elements per array, same bytes
            r = fc.simulate(fc.compile_mlir(triad_ir(n)), case["device"])
            what, measured = "triad GB/s", case["measured_gbs"]
            predicted = 3 * case["array_bytes"] / r.time_s / 1e9
        elif case["kind"] == "matmul":
            n = case["n"]
            r = fc.simulate(fc.compile_mlir(matmul_ir(n, n, n)), case["device"], case["dtype"])
            what, measured = f"{case['dtype']} matmul {n}^3 TFLOPS", case["measured_tflops"]
            predicted = 2 * n ** 3 / r.time_s / 1e12
        else:  # attention, FLOPs of its two products (the paper's count)
            bh, s, d = case["batch_heads"], case["seq"], case["head_dim"]
            r = fc.simulate(fc.compile_mlir(attention_ir(bh, s, d)), case["device"],
                            case["dtype"])
            what, measured = f"{case['dtype']} attention {bh}x{s}x{d} TFLOPS", \
                case["measured_tflops"]
            predicted = 4 * bh * s * s * d / r.time_s / 1e12
        rows.append(dict(case, what=what, measured=measured, predicted=predicted,
                         error=(predicted - measured) / measured))
    return tuple(rows)


HOST_RUNS = os.path.join(RESULTS, "sim-validation-host")
# The methods the host targets are held to (benchmarks/validate_simulator.py):
# "in-process" (now: each case's calibration taken in the case's own
# process) and "interleaved" (before: calibration processes between
# batches of cases). Runs of the earliest method (one calibration for the
# whole run, the best of each term) are reported, not held.
CURRENT_METHOD = "in-process"
HELD_METHODS = ("interleaved", "in-process")


def host_runs() -> list:
    """Every stored host validation run, oldest first: its id (the file
    name) and data."""
    names = sorted(f[:-5] for f in os.listdir(HOST_RUNS) if f.endswith(".json"))
    return [(name, json.load(open(os.path.join(HOST_RUNS, f"{name}.json")))) for name in names]


# The ukernel's edge tiles landed at daf3e8d (2026-12-06 08:44 UTC);
# calibrations record how edges run since 2026-12-06 (`sgemm_edge_column_
# blocks`), those measured before by the code of their run.
EDGE_TILES_SINCE = "2026-12-06T08:44"


def _with_edge_tiles(calibration: dict, provenance: dict) -> dict:
    """`calibration` with the edge tiles its run's code had; where they
    ran but the calibration took whole tiles' padding out of its per-size
    rates (before it recorded them), the rates with the edges' padding."""
    from flashcompile import sgemm
    if "sgemm_edge_column_blocks" in calibration:
        return calibration
    if calibration.get("sgemm_isa") != "avx512" or provenance["date"] < EDGE_TILES_SINCE:
        return dict(calibration, sgemm_edge_column_blocks=[])
    edges, mr = sgemm.AVX512_EDGE_COLUMN_BLOCKS, sgemm.PANEL_ROWS
    by_size = []
    for flops, rate in calibration.get("ukernel_gflops_by_size") or []:
        n = round((flops / 2) ** (1 / 3))
        by_size.append([flops, rate * sgemm.tile_efficiency(n, n, mr, 32) /
                        sgemm.tile_efficiency(n, n, mr, 32, edges)])
    return dict(calibration, sgemm_edge_column_blocks=edges, ukernel_gflops_by_size=by_size)


def case_calibration(data: dict, index: int) -> dict:
    """The calibration case `index` of a host run is priced with. "in-
    process": the best of each term over the calibrations taken in the
    case's own processes (one per pass), as its time is the least over
    them: noise on this VM only adds time, to a case and to a calibration
    term alike, and one process's single calibration could read a 2-thread
    hiccup (scaling 0.5) that its case's timing did not see. Earlier
    methods: the case's window calibration, or the run's one calibration."""
    from flashcompile.sim import calibrate
    if data.get("method") == "in-process":
        n = len(data["cases"])
        return calibrate.best_of([data["calibration_runs"][p * n + index]
                                  for p in range(data["passes"])])
    case = data["cases"][index]
    return case.get("calibration") or data["calibration"]


@functools.lru_cache(maxsize=None)
def host_rows(run: str | None = None) -> tuple:
    """Every case of a host run (default: the latest) predicted again with
    the current model and the case's calibration (case_calibration);
    `observed` is the single term that best explains the measured time."""
    import flashcompile as fc
    from flashcompile.sim import calibrate
    runs = dict(host_runs())
    data = runs[run or max(runs)]
    threads = fc.get_num_threads()
    fc.set_num_threads(data["threads"])
    try:
        rows = []
        for index, case in enumerate(data["cases"]):
            host = calibrate.host_device(data=_with_edge_tiles(
                case_calibration(data, index), data["provenance"]))
            sim = fc.simulate(fc.compile_mlir(case["ir"], name=case["name"]), host)
            measured = case["measured_us"] * 1e-6
            terms = {"compute": sum(k.compute_s for k in sim.kernels),
                     "memory": sum(k.memory_s for k in sim.kernels),
                     "overhead": sum(k.overhead_s for k in sim.kernels) + sim.call_overhead_s}
            observed = min(terms, key=lambda b: abs(math.log(measured / max(terms[b], 1e-12))))
            row = {k: v for k, v in case.items() if k != "calibration"}
            rows.append(dict(row, predicted_us=sim.time_s * 1e6,
                             error=(sim.time_s - measured) / measured, bound=sim.bound,
                             observed=observed))
    finally:
        fc.set_num_threads(threads)
    return tuple(rows)


def host_errors(run: str | None = None) -> dict:
    """Per-op median and 90th percentile |error|, the worst whole model."""
    rows = host_rows(run)
    ops = np.abs([r["error"] for r in rows if r["group"] == "op"])
    models = [abs(r["error"]) for r in rows if r["group"] == "model"]
    return {"median": float(np.median(ops)), "p90": float(np.percentile(ops, 90)),
            "worst_model": max(models), "ops": len(ops), "models": len(models)}


def host_table(run: str | None = None) -> str:
    lines = ["| group | case | measured us | predicted us | error | bound (observed) |",
             "|---|---|---:|---:|---:|---|"]
    for r in host_rows(run):
        lines.append(f"| {r['group']} | {r['name']} | {r['measured_us']:.1f} | "
                     f"{r['predicted_us']:.1f} | {r['error']:+.1%} | {r['bound']} ({r['observed']}) |")
    return "\n".join(lines)


def host_summary(run: str | None = None) -> str:
    rows = host_rows(run)
    e = host_errors(run)
    models = [r for r in rows if r["group"] == "model"]
    agree = sum(r["bound"] == r["observed"] for r in rows)
    return (f"Per-op median |error| {e['median']:.1%}, 90th percentile "
            f"{e['p90']:.1%} (targets 10% / 20%: "
            f"{'met' if e['median'] <= 0.1 and e['p90'] <= 0.2 else '**not met**'}); "
            f"whole models " + ", ".join(f"{r['name']} {r['error']:+.1%}" for r in models)
            + f" (target 10%: {'met' if e['worst_model'] <= 0.1 else '**not met**'}); bound labels agree on "
            f"{agree} of {len(rows)}.")


def host_runs_table() -> str:
    """One line per stored run: where, how, and the errors with the current
    model."""
    lines = ["| run | machine | commit | method | per-op median | per-op p90 | worst whole model |",
             "|---|---|---|---|---:|---:|---:|"]
    for name, data in host_runs():
        p, e = data["provenance"], host_errors(name)
        ok = lambda v, t: f"{v:.1%}" + ("" if v <= t else " (**>**" + f"{t:.0%})")
        lines.append(f"| `{name}` | {p['machine']['cpu']} | `{p['commit'][:10]}`"
                     f"{' +dirty' if p.get('dirty') else ''} | {data.get('method', 'spread passes')} | "
                     f"{ok(e['median'], 0.1)} | {ok(e['p90'], 0.2)} | {ok(e['worst_model'], 0.1)} |")
    return "\n".join(lines)


@functools.lru_cache(maxsize=None)
def consistency_rows() -> tuple:
    """The maximum achievable matmul FLOPS the GPU model's efficiencies come
    from, predicted back (a consistency check, not a validation)."""
    import flashcompile as fc
    rows = []
    for case in _load("published")["cases"]:
        m, n, k = case["m"], case["n"], case["k"]
        r = fc.simulate(matmul_ir(m, k, n), case["device"], case["dtype"])
        predicted = 2 * m * n * k / r.time_s / 1e12
        rows.append(dict(case, predicted=predicted,
                         error=(predicted - case["measured_tflops"]) / case["measured_tflops"]))
    return tuple(rows)


def consistency_line() -> str:
    return ", ".join(f"{r['device']} {r['error']:+.1%}" for r in consistency_rows())


@functools.lru_cache(maxsize=None)
def independent_rows() -> tuple:
    """Copy bandwidth and large fp32 matmuls on six GPUs, measured by others
    with PyTorch; no constant of the model came from them."""
    import flashcompile as fc
    rows = []
    for case in _load("independent")["cases"]:
        if case["kind"] == "copy_bandwidth":
            n = case["elements"]
            r = fc.simulate(copy_ir(n), case["device"], "fp32")
            predicted, measured, what = 2 * 4 * n / r.time_s / 1e9, case["measured_gbs"], "copy GB/s"
        else:
            n = case["n"]
            r = fc.simulate(matmul_ir(n, n, n), case["device"], "fp32")
            predicted, measured = 2 * n ** 3 / r.time_s / 1e12, case["measured_tflops"]
            what = f"fp32 matmul {n}^3 TFLOPS"
        rows.append(dict(case, what=what, measured=measured, predicted=predicted,
                         error=(predicted - measured) / measured))
    return tuple(rows)


@functools.lru_cache(maxsize=None)
def edge_tpu_rows() -> tuple:
    """Coral's published Edge TPU latencies of MobileNet v1 and v2, and
    ResNet-50 (a consistency check: see its case)."""
    import flashcompile as fc
    rows = []
    for case in _load("edge-tpu")["cases"]:
        r = fc.simulate(_published_model(case["model"], 1), case["device"], case["dtype"])
        rows.append(dict(case, predicted_ms=r.time_ms, notes=tuple(r.notes),
                         error=(r.time_ms - case["measured_ms"]) / case["measured_ms"]))
    return tuple(rows)


@functools.lru_cache(maxsize=None)
def _published_model(name: str, batch: int):
    """A published architecture (benchmarks/published_models.py), compiled once."""
    import flashcompile as fc
    sys.path.insert(0, HERE)
    from published_models import MODELS
    return fc.compile_mlir(MODELS[name](batch), name=name)


@functools.lru_cache(maxsize=None)
def mlperf_rows() -> tuple:
    """Whole models on GPUs against MLPerf Inference throughput (a check
    set: sim-validation-mlperf.json), priced as each device's vendor stack
    runs them (sim/stacks.toml)."""
    import flashcompile as fc
    rows = []
    for case in _load("mlperf")["cases"]:
        r = fc.simulate(_published_model(case["model"], case["batch"]), case["device"],
                        case["dtype"])
        predicted = case["batch"] / r.time_s
        rows.append(dict(case, predicted_per_s=predicted, stack=r.device.stack_summary(),
                         error=(predicted - case["measured_per_s"]) / case["measured_per_s"]))
    return tuple(rows)


def mlperf_table() -> str:
    lines = ["| device | model, batch, dtype | measured /s | predicted /s | error |",
             "|---|---|---:|---:|---:|"]
    for r in mlperf_rows():
        lines.append(f"| {r['device']} | {r['model']}, {r['batch']}, {r['dtype']} | "
                     f"{r['measured_per_s']:,.0f} | {r['predicted_per_s']:,.0f} | "
                     f"{r['error']:+.1%} |")
    errors = [abs(r["error"]) for r in mlperf_rows()]
    worst = max(max(r["predicted_per_s"] / r["measured_per_s"],
                    r["measured_per_s"] / r["predicted_per_s"]) for r in mlperf_rows())
    lines.append("")
    lines.append(f"Median |error| {np.median(errors):.1%} (target 15%: "
                 f"{'met' if np.median(errors) <= 0.15 else '**not met**'}), worst "
                 f"{worst:.2f}x off (target: none worse than 2x: "
                 f"{'met' if worst <= 2 else '**not met**'}).")
    return "\n".join(lines)


def kernel_check_rows() -> tuple:
    """Every kernel of the check set: chsasank/device-benchmarks' copies and
    fp32 matmuls (sim-validation-independent.json) and shared/SIM-DATA.md's
    triads, GEMMs and attention (sim-validation-kernels.json)."""
    return independent_rows() + kernel_rows()


def _family(row) -> str:
    return {"copy_bandwidth": "bandwidth", "triad": "bandwidth",
            "attention": "attention"}.get(row["kind"], "GEMM")


def independent_errors() -> dict:
    """Median |error| of the kernel check set, by family and over all."""
    rows = kernel_check_rows()
    errors = {f: float(np.median([abs(r["error"]) for r in rows if _family(r) == f]))
              for f in ("bandwidth", "GEMM", "attention")}
    errors["all"] = float(np.median([abs(r["error"]) for r in rows]))
    return errors


def kernel_check_table() -> str:
    lines = ["| device | case | measured | predicted | error |", "|---|---|---:|---:|---:|"]
    for r in kernel_check_rows():
        lines.append(f"| {r['device']} | {r['what']} | {r['measured']:.2f} | "
                     f"{r['predicted']:.2f} | {r['error']:+.1%} |")
    errors = independent_errors()
    lines.append("")
    lines.append(f"Median |error| over the {len(kernel_check_rows())} kernels "
                 f"{errors['all']:.1%} (target 10%: "
                 f"{'met' if errors['all'] <= 0.1 else '**not met**'}): bandwidth "
                 f"{errors['bandwidth']:.1%}, GEMM {errors['GEMM']:.1%}, attention "
                 f"{errors['attention']:.1%}.")
    return "\n".join(lines)


def edge_tpu_table() -> str:
    lines = ["| device | model | measured ms | predicted ms | error |", "|---|---|---:|---:|---:|"]
    for r in edge_tpu_rows():
        role = " (consistency check)" if r.get("role") == "consistency" else ""
        lines.append(f"| {r['device']} | {r['model']}{role} | {r['measured_ms']:.2f} | "
                     f"{r['predicted_ms']:.2f} | {r['error']:+.1%} |")
    return "\n".join(lines)
