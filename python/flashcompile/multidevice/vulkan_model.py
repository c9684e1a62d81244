"""The time of a Vulkan program here: a roofline measured on the Vulkan
device itself.

The simulator's database describes hardware from its published numbers;
the Vulkan device here is Mesa's lavapipe, software that runs SPIR-V on
this CPU, whose speed no datasheet gives and which the host CPU's model
overestimates by orders of magnitude (our GPU kernels -- 16x16 tiles with
barriers, a thread per element -- are written for GPUs). So it is measured:
three small programs on first use (a one-kernel call: the dispatch cost; a
large elementwise add: bandwidth; a 256^3 matrix product: the tiled
kernel's FLOP rate), stored in the cache folder per Vulkan device and
FlashCompile version. A program's predicted time is then, per kernel it
launches (FlashCompile's own kernels, with the FLOPs and bytes the GPU
pipeline counted for each; FLOPs as issued, so a tiled product's padding
counts):

    max(issued flops / matmul rate, bytes / bandwidth) + dispatch
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import _flashcompile as _native
from .._version import __version__
from ..host import cache_folder
from ..jit import compile as _compile
from ..ops import relu


@dataclass(frozen=True)
class VulkanRates:
    device: str
    dispatch_s: float       # one launch, submit to fence
    bytes_per_s: float      # an elementwise kernel's traffic
    flops_per_s: float      # the tiled matrix-product kernel

    def kernel_s(self, flops: float, nbytes: float) -> float:
        return max(flops / self.flops_per_s, nbytes / self.bytes_per_s) + self.dispatch_s

    def program_s(self, compiled) -> float:
        """Predicted seconds of one call of a program compiled for Vulkan."""
        return sum(self.kernel_s(max(k["flops"], k.get("issued_flops", -1)), k["bytes"])
                   for k in compiled.gpu.launches)


_RATES: VulkanRates | None = None


def _median_s(fn, reps: int = 5) -> float:
    fn()  # first call: lavapipe compiles the pipelines
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def measure() -> VulkanRates:
    """The three measurements (about two seconds here)."""
    device = _native.vulkan_info()["device"]
    rng = np.random.default_rng(0)
    tiny = rng.standard_normal(64).astype(np.float32)
    one = _compile(relu, tiny, target="vulkan")
    dispatch = _median_s(lambda: one(tiny), reps=20)
    n = 1 << 21
    a, b = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
    add = _compile(lambda x, y: x + y, (a, b), target="vulkan")
    add_bytes = sum(k["bytes"] for k in add.gpu.launches)
    bandwidth = add_bytes / max(_median_s(lambda: add(a, b)) - dispatch, 1e-9)
    m = 256
    x, w = (rng.standard_normal((m, m)).astype(np.float32) for _ in range(2))
    mm = _compile(lambda p, q: p @ q, (x, w), target="vulkan")
    mm_flops = sum(k["issued_flops"] for k in mm.gpu.launches)
    flops = mm_flops / max(_median_s(lambda: mm(x, w)) - dispatch, 1e-9)
    return VulkanRates(device, dispatch, bandwidth, flops)


def rates() -> VulkanRates:
    """This Vulkan device's rates: measured once, then from the cache folder."""
    global _RATES
    if _RATES is not None:
        return _RATES
    device = _native.vulkan_info()["device"]
    path = os.path.join(cache_folder(), "vulkan-rates.json")
    try:
        with open(path) as f:
            stored = json.load(f)
        if stored.get("version") == __version__ and stored["rates"]["device"] == device:
            _RATES = VulkanRates(**stored["rates"])
            return _RATES
    except (OSError, ValueError, KeyError, TypeError):
        pass
    _RATES = measure()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump({"version": __version__, "rates": asdict(_RATES)}, f, indent=1)
    except OSError:
        pass  # a read-only cache folder: measure again next process
    return _RATES
