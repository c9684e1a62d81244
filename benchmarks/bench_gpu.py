"""GPU code generation, measured: the kernel table of the reference models
for every GPU target (registers, spills, shared memory, theoretical
occupancy, from ptxas and the HSACO metadata), and their run time on Vulkan
(Mesa's lavapipe: a CPU implementation, so the numbers show the launch and
copy overheads of the Vulkan path, not a GPU's speed) next to the host's,
alternated in rotated rounds.

    python3 benchmarks/bench_gpu.py --out benchmarks/results/gpu.json
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, in_rotated_rounds, provenance, write_result  # noqa: E402

import flashcompile as fc  # noqa: E402

TARGETS = ["nvidia-sm80", "nvidia-sm90", "amd-gfx90a", "amd-gfx942"]


def models():
    rng = np.random.default_rng(0)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)
    mlp = fc.Sequential([fc.Linear(784, 128), fc.ReLU(), fc.Linear(128, 10)])
    lenet = fc.Sequential([fc.Conv2d(1, 6, 5, padding=2), fc.ReLU(), fc.MaxPool2d(2),
                           fc.Conv2d(6, 16, 5), fc.ReLU(), fc.MaxPool2d(2), fc.Flatten(),
                           fc.Linear(400, 120), fc.ReLU(), fc.Linear(120, 84), fc.ReLU(),
                           fc.Linear(84, 10)])
    block = fc.TransformerEncoderLayer(64, 4, 128)
    return {"mlp": (mlp, f32(8, 784)), "lenet5": (lenet, f32(2, 1, 28, 28)),
            "transformer_block": (block, f32(2, 16, 64))}


def kernel_rows(compiled) -> list:
    return [{"name": k.name, "grid": list(k.grid), "block": list(k.block),
             "registers": k.registers, "spill_bytes": k.spill_bytes,
             "shared_bytes": k.shared_bytes, "occupancy": k.occupancy,
             "limited_by": k.limited_by} for k in compiled.kernels]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    data = {"provenance": provenance(), "vulkan_device": fc._flashcompile.vulkan_info()["device"],
            "kernels": {}, "vulkan": []}
    for name, (model, x) in models().items():
        for target in TARGETS:
            rows = kernel_rows(fc.compile(model, x, target=target))
            data["kernels"].setdefault(name, {})[target] = rows
            print(f"{name:18} {target:12} {len(rows):3} kernels, max regs "
                  f"{max(r['registers'] for r in rows)}, spills "
                  f"{sum(r['spill_bytes'] for r in rows)} B, min occupancy "
                  f"{min(r['occupancy'] for r in rows):.0%}")
        host = fc.compile(model, x)
        vulkan = fc.compile(model, x, target="vulkan")
        check(lambda: vulkan(x), host(x))
        best = in_rotated_rounds({"host": lambda: host(x), "vulkan": lambda: vulkan(x)},
                                 args.rounds)
        fc._flashcompile.vulkan_reset_stats()
        calls = 20
        for _ in range(calls):
            vulkan(x)
        stats = fc._flashcompile.vulkan_stats()
        row = {"name": name, "kernels": len(vulkan.kernels), "seconds": best,
               "per_call_ms": {k: stats[k] / calls for k in ("dispatch_ms", "copy_ms", "setup_ms")},
               "bytes_per_call": (stats["bytes_to_device"] + stats["bytes_from_device"]) // calls}
        data["vulkan"].append(row)
        print(f"{name:18} vulkan {best['vulkan'] * 1e3:8.2f} ms  host {best['host'] * 1e3:7.3f} ms  "
              f"({len(vulkan.kernels)} launches; per call: dispatch "
              f"{row['per_call_ms']['dispatch_ms']:.2f} ms, setup {row['per_call_ms']['setup_ms']:.2f}"
              f" ms, copies {row['per_call_ms']['copy_ms']:.2f} ms)")
    write_result(args.out, data)


if __name__ == "__main__":
    main()
