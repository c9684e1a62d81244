"""Multi-device execution, measured (docs/multi-device.md):

- StableHLO export: each reference model (and two torchvision CNNs)
  exported with fc.export_stablehlo, compiled by IREE for this CPU
  (llvm-cpu, target-cpu=host) and timed next to FlashCompile's host code,
  alternated in rotated rounds; the largest relative difference.
- A host + Vulkan placement (LeNet-5: the convolutions on the host, the
  classifier on Vulkan) and a host + Vulkan pipeline over micro-batches:
  the simulator's prediction next to the measured run, per stage.

    python3 benchmarks/bench_multidevice.py --out benchmarks/results/multidevice.json
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_gpu import models  # noqa: E402  (the same reference models)
from harness import in_rotated_rounds, provenance, relative_error, write_result  # noqa: E402

import flashcompile as fc  # noqa: E402
from flashcompile.multidevice.stablehlo_run import StableHloProgram  # noqa: E402


def zoo_models():
    import torch
    import torchvision
    torch.manual_seed(0)
    out = {}
    for name in ("resnet18", "mobilenet_v2"):
        model = getattr(torchvision.models, name)().eval()
        x = torch.randn(1, 3, 224, 224)
        out[name] = (fc.from_pytorch(model, x), x.numpy())
    return out


def stablehlo_rows(rounds):
    rows = []
    programs = {name: (fc.compile(m, x), x) for name, (m, x) in models().items()}
    programs.update(zoo_models())
    for name, (ours, x) in programs.items():
        text = fc.export_stablehlo(ours)
        iree = StableHloProgram(text)
        err = relative_error(iree(x), ours(x))
        best = in_rotated_rounds({"flashcompile": lambda: ours(x), "iree": lambda: iree(x)},
                                 rounds)
        rows.append({"name": name, "stablehlo_ops": text.count('"stablehlo.'),
                     "max_rel_diff": err, "seconds": best})
        print(f"{name:18} IREE {best['iree'] * 1e3:8.3f} ms  ours {best['flashcompile'] * 1e3:8.3f}"
              f" ms  diff {err:.2g}")
    return rows


def placement_row():
    model, x = models()["lenet5"]
    c = fc.compile(model, x)
    plan = fc.place(c, ["host", "vulkan"], max_segments=4,
                    assignment=["host", "vulkan", "vulkan", "host"])
    program = plan.compile()
    for _ in range(3):
        program(x)
    runs = []
    for _ in range(20):
        program(x)
        runs.append(program.last)
    best = min(runs, key=lambda m: m.total_s)
    stages = []
    for k, (first, end, dev) in enumerate(plan.op_stages()):
        a, b, _ = plan.stages[k]
        stages.append({"ops": [first, end], "device": dev,
                       "predicted_s": sum(plan.kernel_times[dev][a:b]),
                       "measured_s": best.stages[k], "transfer_s": best.transfers[k]})
    print(plan.timeline())
    return {"model": "lenet5", "predicted_s": plan.time_s, "measured_s": best.total_s,
            "stages": stages}


def pipeline_row(micro_batches=4):
    model, x = models()["lenet5"]
    c = fc.compile(model, x)
    p = fc.pipeline(c, ["host", "vulkan"], micro_batches=micro_batches)
    batch = np.concatenate([x] * micro_batches)
    for _ in range(2):
        p.run(batch)
    best = None
    for _ in range(10):
        p.run(batch)
        if best is None or p.measured.makespan_s < best[0].makespan_s:
            best = (p.measured, p.measured_model)
    measured, model_on_measured = best
    print(p.table())
    return {"model": "lenet5", "micro_batches": micro_batches,
            "stages": [{"ops": [s.first, s.end], "device": ep.name,
                        "predicted_s": p.predicted.stage_s[k], "measured_s": measured.stage_s[k]}
                       for k, (s, ep) in enumerate(zip(p.stages, p.endpoints))],
            "predicted": {"makespan_s": p.predicted.makespan_s, "bubble": p.predicted.bubble},
            "measured": {"makespan_s": measured.makespan_s, "bubble": measured.bubble},
            "schedule_on_measured_stages_s": model_on_measured.makespan_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    data = {"provenance": provenance(), "stablehlo": stablehlo_rows(args.rounds),
            "placement": placement_row(), "pipeline": pipeline_row()}
    write_result(args.out, data)


if __name__ == "__main__":
    main()
