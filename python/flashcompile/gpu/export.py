"""A GPU-compiled function written out for a machine with the hardware:
each kernel module's device code and listings, the kernel table, the host
code (assembly for x86-64 Linux: allocates temporaries, launches the kernels
in order through the `mgpu*` functions) and, for NVIDIA, a launcher source
that implements those functions on the CUDA driver API and runs the
function once on random inputs.

Not run here (no GPU): the launcher is compiled against CUDA's headers in
the tests when they are installed (`nvidia-cuda-runtime` wheel), not
executed."""
from __future__ import annotations

import json
import os
from dataclasses import asdict

from .kernels import format_table

_LISTINGS = {"nvidia": (".ptx", ".cubin", ".sass"), "amd": (".s", ".hsaco", None),
             "vulkan": (".spvasm", ".spv", None)}


def export(compiled, folder: str, name: str | None = None) -> dict:
    """Writes `compiled` (a GPU target) to `folder`; returns {kind: path}."""
    program = compiled.gpu
    name = name or compiled.entry
    os.makedirs(folder, exist_ok=True)
    written = {}

    def write(kind, filename, data):
        path = os.path.join(folder, filename)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        written[kind] = path

    listing, binary, machine = _LISTINGS[program.kind]
    if program.kind == "nvidia":
        write("ptx", f"{name}{listing}", program.ptx())
        write("sass", f"{name}{machine}", program.sass())
        write("ptxas", f"{name}.ptxas.txt", program.ptxas_report())
    else:
        write("isa", f"{name}{listing}", program.isa())
    try:
        for module, data in program.binary().items():
            write(f"binary:{module}", f"{name}.{module}{binary}", data)
    except RuntimeError as e:  # AMD without the device libraries
        written["binary"] = str(e)
    kernels = program.kernels
    write("kernels", f"{name}.kernels.txt", format_table(kernels) + "\n")
    write("kernels.json", f"{name}.kernels.json", json.dumps(
        {"target": compiled.target, "entry": compiled.entry,
         "inputs": [list(s) for s in compiled.input_shapes],
         "outputs": [list(s) for s in compiled.output_shapes],
         "kernels": [asdict(k) for k in kernels]}, indent=1))
    write("host", f"{name}.host.s", compiled.asm())
    if program.kind == "nvidia":
        write("launcher", f"{name}_launcher.cpp", launcher_source(compiled, name))
    return written


def launcher_source(compiled, name: str) -> str:
    """C++ for the CUDA driver API: the mgpu* functions the host code calls,
    and a main that runs `name` once. Build on a machine with a GPU:
    `g++ -O2 <name>_launcher.cpp <name>.host.s -lcuda -o run`."""
    specs = [(f"in{i}", s) for i, s in enumerate(compiled.input_shapes)] + \
            [(f"out{i}", s) for i, s in enumerate(compiled.output_shapes)]
    params, args, allocs = [], [], []
    for var, shape in specs:
        rank = len(shape)
        params.append("void *, void *, int64_t" + ", int64_t" * (2 * rank))
        strides, acc = [], 1
        for d in reversed(shape):
            strides.insert(0, acc)
            acc *= d
        dims = ", ".join(str(d) for d in list(shape) + strides)
        args.append(f"{var}, {var}, 0" + (f", {dims}" if dims else ""))
        allocs.append(f"  float *{var} = managed({max(acc, 1)});")
        if var.startswith("in"):  # 0.5 everywhere (0x3f000000)
            allocs.append(f"  check(cuMemsetD32(reinterpret_cast<CUdeviceptr>({var}), "
                          f"0x3f000000, {max(acc, 1)}), \"cuMemsetD32\");")
    entry = compiled.entry
    return f'''// Runs {entry} (exported by FlashCompile for {compiled.target}) once.
// Build: g++ -O2 {name}_launcher.cpp {name}.host.s -I$CUDA/include -lcuda -o {name}
// The host code ({name}.host.s) embeds the PTX and calls the mgpu* functions
// below. Buffers are CUDA managed memory; the model's weights are host
// constants, which the GPU reads through unified addressing (this needs a
// system with heterogeneous memory management, e.g. CUDA 12.2+ with the
// open kernel modules) -- or copy them to managed memory first.
#include <cuda.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

static void check(CUresult r, const char *what) {{
  if (r != CUDA_SUCCESS) {{
    const char *msg = nullptr;
    cuGetErrorString(r, &msg);
    std::fprintf(stderr, "%s failed: %s\\n", what, msg ? msg : "?");
    std::exit(1);
  }}
}}

static float *managed(int64_t n) {{
  CUdeviceptr p;
  check(cuMemAllocManaged(&p, n * sizeof(float), CU_MEM_ATTACH_GLOBAL), "cuMemAllocManaged");
  return reinterpret_cast<float *>(p);
}}

extern "C" {{
// Temporaries of the host code (MLIR's generic allocation functions).
void *_mlir_memref_to_llvm_alloc(size_t size) {{
  CUdeviceptr p;
  check(cuMemAllocManaged(&p, size ? size : 1, CU_MEM_ATTACH_GLOBAL), "cuMemAllocManaged");
  return reinterpret_cast<void *>(p);
}}
void *_mlir_memref_to_llvm_aligned_alloc(size_t, size_t size) {{
  return _mlir_memref_to_llvm_alloc(size);
}}
void _mlir_memref_to_llvm_free(void *p) {{ cuMemFree(reinterpret_cast<CUdeviceptr>(p)); }}

void *mgpuModuleLoad(const void *data, size_t) {{
  CUmodule m;
  check(cuModuleLoadData(&m, data), "cuModuleLoadData (PTX)");
  return m;
}}
void mgpuModuleUnload(void *m) {{ cuModuleUnload(static_cast<CUmodule>(m)); }}
void *mgpuModuleGetFunction(void *m, const char *name) {{
  CUfunction f;
  check(cuModuleGetFunction(&f, static_cast<CUmodule>(m), name), "cuModuleGetFunction");
  return f;
}}
void *mgpuStreamCreate() {{
  CUstream s;
  check(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  return s;
}}
void mgpuStreamDestroy(void *s) {{ cuStreamDestroy(static_cast<CUstream>(s)); }}
void mgpuStreamSynchronize(void *s) {{
  check(cuStreamSynchronize(static_cast<CUstream>(s)), "cuStreamSynchronize");
}}
void mgpuLaunchKernel(void *f, intptr_t gx, intptr_t gy, intptr_t gz, intptr_t bx,
                      intptr_t by, intptr_t bz, int32_t smem, void *stream,
                      void **params, void **extra, size_t) {{
  check(cuLaunchKernel(static_cast<CUfunction>(f), gx, gy, gz, bx, by, bz, smem,
                       static_cast<CUstream>(stream), params, extra),
        "cuLaunchKernel");
}}

void {entry}({", ".join(params)});
}}

int main() {{
  check(cuInit(0), "cuInit");
  CUdevice device;
  check(cuDeviceGet(&device, 0), "cuDeviceGet");
  CUcontext context;
  check(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
  check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
{chr(10).join(allocs)}
  {entry}({", ".join(args)});
  check(cuCtxSynchronize(), "cuCtxSynchronize");
  std::printf("{entry}: ran; out0[0] = %g\\n", out0[0]);
  return 0;
}}
'''
