"""Fits the simulator's two costs of the implicit GEMM's packing (im2col
gathered while B's panels are packed, lib/Runtime/Ukernels/Im2colPack.cpp)
on convolutions that are not in the simulator's validation set.

    PYTHONPATH=build/python_packages python3 benchmarks/fit_conv_packing.py

Per convolution, on one thread, with six filters (one register tile of
rows, so that the products are small beside the packing and run at the
microkernel's rate): the convolution's time minus the call's fixed cost
and its products' FLOPs at the calibrated ukernel rate is the packing's. Packing a panel of nr
output pixels crosses `runs` output rows; per K slice it first works out,
for every tap and run, where the run reads and which pixels are inside
the image, then copies each of the slice's k rows run by run. Two forms
were fitted by least squares: (tap entries, row runs) and (panel slices,
row runs); the first leaves the smaller worst residual over this set, and
the model uses it: IM2COL_TAP_CYCLES per tap, K slice and row crossed,
IM2COL_ROW_RUN_CYCLES per k row and row crossed. The result file records
both fits and their residuals; python/flashcompile/sim/model.py carries the
two numbers, per packing path (the AVX-512 one, or AVX2's on CPUs without
AVX-512: results/conv-packing-fit-avx2.json).
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np

import flashcompile as fc
from flashcompile import sgemm
from flashcompile.sim import calibrate
from flashcompile.sim.model import im2col_panels, implicit_packing_counts

HERE = os.path.dirname(os.path.abspath(__file__))
# One fit per packing path (Im2colPack.cpp): AVX-512's masked copies, or
# AVX2's chunk lists (CPUs without AVX-512, or FLASH_NO_AVX512=1).
OUT = {"avx512": os.path.join(HERE, "results", "conv-packing-fit.json"),
       "avx2": os.path.join(HERE, "results", "conv-packing-fit-avx2.json")}

# (images, channels, size, kernel, padding), six filters each: per-image
# convolutions (the implicit path) of the channel counts, kernels and
# widths CNNs have, none a validation case.
FIT_SET = [(1, 1, 32, 5, 2), (1, 3, 64, 3, 1), (1, 16, 28, 3, 1), (1, 64, 14, 3, 1),
           (2, 8, 20, 3, 0), (1, 128, 7, 3, 1), (1, 4, 112, 3, 1), (1, 32, 56, 3, 1),
           (1, 8, 40, 7, 3), (1, 256, 14, 3, 1)]
FILTERS = 6
# Convolutions of small images that run as one product over all images'
# pixels (Ukernels.h convBatchAsColumns): their patches are copied first,
# row by row (ROW_COPY_CYCLES per row of OW elements). Six filters each;
# none a validation case.
COLUMNS_FIT_SET = [(8, 16, 10, 3, 1), (4, 32, 12, 3, 1), (16, 8, 9, 3, 0), (8, 4, 15, 5, 2),
                   (32, 16, 7, 3, 1), (16, 3, 12, 5, 0)]


def t(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def conv_ir(n, c, h, o, k, pad):
    x, w, y = (n, c, h, h), (o, c, k, k), (n, o, h + 2 * pad - k + 1, h + 2 * pad - k + 1)
    return f"""func.func @conv(%x: {t(x)}, %w: {t(w)}) -> {t(y)} {{
  %0 = flash.conv2d %x, %w {{stride = array<i64: 1, 1>, padding = array<i64: {pad}, {pad}, {pad}, {pad}>, dilation = array<i64: 1, 1>}} : ({t(x)}, {t(w)}) -> {t(y)}
  return %0 : {t(y)}
}}"""


def least_time(compiled, rounds=7):
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s).astype(np.float32) for s in compiled.input_shapes]
    for _ in range(3):
        compiled(*args)
    start = time.perf_counter()
    compiled(*args)
    reps = max(10, int(0.1 / max(time.perf_counter() - start, 1e-6)))
    best = float("inf")
    for _ in range(rounds):
        ts = []
        for _ in range(reps):
            s = time.perf_counter()
            compiled(*args)
            ts.append(time.perf_counter() - s)
        best = min(best, float(np.median(ts)))
    return best


def packing_counts(n, c, h, o, k, pad, nr, kc=sgemm.DEFAULT_BLOCKING["kc"]):
    """(tap entries, row runs, panel slices) the implicit packing of one
    convolution works through on one thread: per image, ceil(P/nr) panels,
    each over ceil(K/kc) slices, each panel's k rows copied once per output
    row it crosses (model.im2col_panels)."""
    oh = h + 2 * pad - k + 1
    panels, _ = im2col_panels(oh * oh, oh, nr)
    avx512 = sgemm.TILE_ISA[0] == "avx512"
    flat = avx512 and sgemm.im2col_packs_flat(1, 1, h, oh)
    taps, row_runs = implicit_packing_counts(n, c, h, k, pad, nr, kc,
                                             cached=not avx512, flat=flat)
    return taps, row_runs, n * panels * math.ceil(c * k * k / kc)


def main():
    fc.set_num_threads(1)
    cal = calibrate.load_or_measure()
    peak = calibrate.kernel_peak(cal["peak"], sgemm.TILE_ISA[0]) * 1e9
    # The measured clock (before flash-peak measured one: the FMA peak over
    # two FMA pipes' FLOPs per cycle, right on the Xeon the stored fit ran on).
    clock = float(cal["peak"].get("clock_ghz_1thread") or 0) * 1e9 or \
        peak / (64 if sgemm.TILE_ISA[0] == "avx512" else 32)
    nr = 32 if sgemm.TILE_ISA[0] == "avx512" else 16
    flops_per_cycle = peak / clock
    rows = []
    for n, c, h, k, pad in FIT_SET:
        shape = (n, c, h, FILTERS, k, pad)
        oh = h + 2 * pad - k + 1
        conv = fc.compile_mlir(conv_ir(*shape))
        if "flash_conv_im2col_f32" not in conv.ir("loops"):
            print(f"{shape}: not the implicit path, left out")
            continue
        tc = least_time(conv)
        flops = 2 * n * FILTERS * c * k * k * oh * oh
        products = flops / (flops_per_cycle * cal["ukernel_efficiency"])
        fixed = (cal["call_overhead_us"] + n * cal["ukernel_call_us"]) * 1e-6 * clock
        taps, row_runs, panel_slices = packing_counts(*shape, nr)
        rows.append({"shape": shape, "conv_us": tc * 1e6, "product_cycles": products,
                     "packing_cycles": tc * clock - products - fixed,
                     "tap_entries": taps, "row_runs": row_runs, "panel_slices": panel_slices})
        print(f"{shape}: conv {tc * 1e6:.1f} us, products {products / clock * 1e6:.1f} us, "
              f"packing {rows[-1]['packing_cycles'] / clock * 1e6:.1f} us", flush=True)
    gathers = []
    for n, c, h, k, pad in COLUMNS_FIT_SET:
        shape = (n, c, h, FILTERS, k, pad)
        oh = h + 2 * pad - k + 1
        conv = fc.compile_mlir(conv_ir(*shape))
        if "flash_conv_im2col_f32" in conv.ir("loops"):
            print(f"{shape}: the implicit path, left out")
            continue
        tc = least_time(conv)
        flops = 2 * n * FILTERS * c * k * k * oh * oh
        products = flops / (flops_per_cycle * cal["ukernel_efficiency"])
        fixed = (cal["call_overhead_us"] + cal["ukernel_call_us"]) * 1e-6 * clock
        copy_rows = n * c * k * k * oh
        gathers.append({"shape": shape, "conv_us": tc * 1e6, "product_cycles": products,
                        "gather_cycles": tc * clock - products - fixed, "rows": copy_rows})
        print(f"{shape}: conv {tc * 1e6:.1f} us, gather {gathers[-1]['gather_cycles'] / copy_rows:.1f} "
              f"cycles per row", flush=True)
    per_row = float(np.sum([g["gather_cycles"] for g in gathers]) / np.sum([g["rows"] for g in gathers]))
    print(f"ROW_COPY_CYCLES {per_row:.2f} (per-convolution: "
          f"{[round(g['gather_cycles'] / g['rows'], 1) for g in gathers]})")
    y = np.array([r["packing_cycles"] for r in rows])
    fits = {}
    for form in (("tap_entries", "row_runs"), ("panel_slices", "row_runs")):
        a = np.array([[r[f] for f in form] for r in rows], float)
        coef, *_ = np.linalg.lstsq(a, y, rcond=None)
        ratios = (a @ coef) / y
        fits[" + ".join(form)] = {"cycles": dict(zip(form, coef.tolist())),
                                  "fit_over_measured": ratios.round(3).tolist(),
                                  "worst": float(max(ratios.max(), 1 / ratios.min()))}
        print(f"{' + '.join(form)}: cycles {np.round(coef, 2).tolist()}, fit/measured "
              f"{np.round(ratios, 2).tolist()}")
    best = min(fits, key=lambda f: fits[f]["worst"])
    print(f"smallest worst residual: {best} {fits[best]['cycles']}")
    sys.path.insert(0, HERE)
    from harness import provenance
    json.dump({"provenance": provenance(), "clock_ghz": clock / 1e9, "nr": nr,
               "fits": fits, "chosen": best, "rows": rows,
               "row_copy_cycles": per_row, "gathers": gathers},
              open(OUT[sgemm.TILE_ISA[0]], "w"), indent=1)
    print(f"wrote {OUT[sgemm.TILE_ISA[0]]}")


if __name__ == "__main__":
    main()
