"""GPU code generation (docs/gpu.md): Vulkan runs here (Mesa's lavapipe) and
must match NumPy / the host; NVIDIA and AMD kernels are built with the
vendors' assemblers and must build with no spills; every SPIR-V module is
valid. Shapes include ones that do not divide the 256-thread workgroup."""
import os
import subprocess
import sys

import numpy as np
import pytest

import flashcompile as fc

rng = np.random.default_rng(7)
VULKAN = fc._flashcompile.vulkan_info()
needs_vulkan = pytest.mark.skipif(not VULKAN["available"], reason=VULKAN["why"])


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def test_the_vulkan_device_is_there():
    """scripts/setup.sh installs Mesa's lavapipe: the Vulkan tests must not
    silently skip on the CI machine."""
    assert VULKAN["available"], VULKAN["why"]


def test_targets_table():
    names = [t["name"] for t in fc.targets()]
    assert names == ["host", "vulkan", "nvidia-sm80", "nvidia-sm90", "amd-gfx90a", "amd-gfx942"]
    runs = {t["name"]: t["runs_here"] for t in fc.targets()}
    assert runs["vulkan"] and not runs["nvidia-sm90"]


def test_unknown_target_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown target 'tpu'.*vulkan"):
        fc.compile(lambda x: fc.relu(x), f32(3), target="tpu")


# Elementwise with broadcasting, matmuls of awkward sizes, a convolution
# with padding and stride, pooling, reductions, softmax/layer norm,
# transpose, concat, slice, gather on int64 ids: each op family on Vulkan
# against NumPy. (fn, args, numpy reference, relative tolerance)
W = f32(33, 17)
CASES = {
    "add_broadcast": (lambda x, y: x + y, (f32(5, 1, 7), f32(3, 1)),
                      lambda x, y: x + y),
    "relu_gelu_tanh": (lambda x: fc.tanh(fc.gelu(fc.relu(x))), (f32(1000),), None),
    "matmul_odd": (lambda a, b: a @ b, (f32(37, 29), f32(29, 41)), lambda a, b: a @ b),
    "matmul_tile": (lambda a, b: a @ b, (f32(64, 64), f32(64, 256)), lambda a, b: a @ b),
    "batch_matmul": (lambda a, b: fc.batch_matmul(a, b), (f32(3, 9, 5), f32(3, 5, 11)),
                     lambda a, b: a @ b),
    "linear_const": (lambda x: x @ W, (f32(6, 33),), lambda x: x @ W),
    "conv_stride_pad": (lambda x, w: fc.conv2d(x, w, stride=2, padding=1),
                        (f32(2, 3, 17, 15), f32(8, 3, 3, 3)), None),
    "maxpool": (lambda x: fc.max_pool2d(x, 3, stride=2), (f32(1, 4, 13, 13),), None),
    "reduce_sum_all": (lambda x: fc.reduce_sum(x, axis=(0, 1)), (f32(300, 7),),
                       lambda x: x.sum(axis=(0, 1))),
    "reduce_mean_axis": (lambda x: fc.reduce_mean(x, axis=1), (f32(4, 257, 3),),
                         lambda x: x.mean(axis=1)),
    "softmax": (lambda x: fc.softmax(x, axis=-1), (f32(5, 130),), None),
    "layer_norm": (lambda x, g, b: fc.layer_norm(x, g, b), (f32(4, 96), f32(96), f32(96)),
                   None),
    "transpose": (lambda x: fc.transpose(x, [2, 0, 1]), (f32(3, 5, 7),),
                  lambda x: x.transpose(2, 0, 1)),
    "concat_slice": (lambda x, y: fc.slice(fc.concat([x, y], axis=1), [0, 2], [3, 9]),
                     (f32(3, 4), f32(3, 6)),
                     lambda x, y: np.concatenate([x, y], 1)[0:3, 2:9]),
}


@needs_vulkan
@pytest.mark.parametrize("name", sorted(CASES))
def test_op_families_on_vulkan_match(name):
    fn, args, ref = CASES[name]
    vulkan = fc.compile(fn, args, target="vulkan")
    got = vulkan(*args)
    want = ref(*args) if ref else fc.compile(fn, args)(*args)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5 * np.abs(want).max())
    vulkan.gpu.validate_spirv()  # spirv-val, Vulkan 1.1 rules


@needs_vulkan
def test_gather_with_int64_ids_on_vulkan():
    table = f32(50, 16)
    ids = rng.integers(0, 50, size=(4, 9)).astype(np.int64)
    c = fc.compile(lambda i: fc.embedding(i, table), ids, target="vulkan")
    np.testing.assert_array_equal(c(ids), table[ids])


def _reference_models():
    mlp = fc.Sequential([fc.Linear(784, 128), fc.ReLU(), fc.Linear(128, 10)])
    lenet = fc.Sequential([fc.Conv2d(1, 6, 5, padding=2), fc.ReLU(), fc.MaxPool2d(2),
                           fc.Conv2d(6, 16, 5), fc.ReLU(), fc.MaxPool2d(2), fc.Flatten(),
                           fc.Linear(400, 120), fc.ReLU(), fc.Linear(120, 84), fc.ReLU(),
                           fc.Linear(84, 10)])
    block = fc.TransformerEncoderLayer(64, 4, 128)
    return {"mlp": (mlp, f32(8, 784)), "lenet5": (lenet, f32(2, 1, 28, 28)),
            "transformer_block": (block, f32(2, 16, 64))}


MODELS = _reference_models()


@needs_vulkan
@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_models_on_vulkan_match_the_host(name):
    model, x = MODELS[name]
    want = fc.compile(model, x)(x)
    fc._flashcompile.vulkan_reset_stats()
    vulkan = fc.compile(model, x, target="vulkan")
    got = vulkan(x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    vulkan.gpu.validate_spirv()
    stats = fc._flashcompile.vulkan_stats()
    assert stats["launches"] > 0 and stats["bytes_to_device"] >= x.nbytes


@pytest.mark.parametrize("target", ["nvidia-sm80", "nvidia-sm90"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_nvidia_kernels_build_without_spills(name, target):
    model, x = MODELS[name]
    c = fc.compile(model, x, target=target)
    kernels = c.kernels
    assert kernels and len(kernels) == len(c.gpu.launches)
    for k in kernels:
        assert k.spill_bytes == 0, (k.name, c.gpu.ptxas_report())
        assert 0 < k.registers <= 255
        assert 0 < k.occupancy <= 1
    chip = target.split("-")[1].replace("sm", "sm_")
    assert f".target {chip}" in c.ptx()
    sass = c.sass()
    assert "FFMA" in sass or "FMUL" in sass
    with pytest.raises(ValueError, match=f"compiled for {target}"):
        c(x)


@pytest.mark.parametrize("target", ["amd-gfx90a", "amd-gfx942"])
def test_amd_kernels_build_as_hsaco(target):
    model, x = MODELS["lenet5"]
    c = fc.compile(model, x, target=target)
    binaries = c.binary()
    assert binaries and all(b[:4] == b"\x7fELF" for b in binaries.values())
    for k in c.kernels:
        assert k.registers and k.spill_bytes == 0 and 0 < k.occupancy <= 1
    isa = c.isa()  # llvm-objdump of the code objects
    assert "elf64-amdgpu" in isa and "v_fma" in isa or "v_mul" in isa


def test_occupancy_arithmetic():
    from flashcompile.gpu.occupancy import occupancy
    # A100: 256 threads (8 warps) at 64 registers -> 64*32 = 2048 per warp,
    # 32 warps fit in 64K registers -> 4 blocks -> 32 of 64 warps.
    occ = occupancy("nvidia-a100-80gb", 256, 64, 0)
    assert (occ.blocks, occ.fraction, occ.limited_by) == (4, 0.5, "registers")
    # 48 KB of shared memory (+1 KB reserved) per block: 3 blocks in 164 KB.
    assert occupancy("nvidia-a100-80gb", 128, 16, 48 * 1024).blocks == 3
    # MI300X: 128 VGPRs -> 4 waves per SIMD of 8 -> 50%.
    assert occupancy("amd-mi300x", 256, 128, 0).fraction == 0.5


def test_cli_compiles_an_onnx_model_for_nvidia(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import helper, TensorProto, numpy_helper
    w = numpy_helper.from_array(f32(16, 8), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [4, 8])], [w])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph), path)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "flashcompile", "compile", str(path),
                             "--target", "nvidia-sm90", "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "occupancy" in result.stdout and "kernel launches" in result.stdout
    files = os.listdir(out)
    for suffix in (".ptx", ".sass", ".kernels.txt", ".kernels.json", ".host.s",
                   "_launcher.cpp"):
        assert any(f.endswith(suffix) for f in files), (suffix, files)
    assert any(f.endswith(".cubin") for f in files)
    # The launcher compiles against CUDA's header (from the nvidia wheels).
    import glob
    import nvidia
    include = next((p for root in nvidia.__path__ for p in glob.glob(f"{root}/cu*/include")
                    if os.path.exists(f"{p}/cuda.h")), None)
    assert include, "cuda.h missing: scripts/setup.sh installs requirements-gpu.txt"
    launcher = next(f for f in files if f.endswith("_launcher.cpp"))
    subprocess.run(["g++", "-fsyntax-only", f"-I{include}", str(out / launcher)], check=True)


def test_stages_of_a_gpu_target_are_inspectable():
    c = fc.compile(lambda x: fc.relu(x), f32(10), target="vulkan")
    assert c.stages == ["flash", "graph", "linalg", "bufferized", "gpu", "spirv", "llvm",
                        "llvm-ir", "asm"]
    assert "gpu.launch_func" in c.ir("gpu")
    assert "spirv.module" in c.ir("spirv")


@needs_vulkan
def test_check_devices_reports_every_target():
    model, x = MODELS["mlp"]
    report = fc.check_devices(model, x)
    rows = {r.target: r for r in report.rows}
    assert set(rows) == {t["name"] for t in fc.targets()} | {"stablehlo"}
    assert rows["vulkan"].ran and rows["vulkan"].max_rel[0] < 1e-5
    assert rows["stablehlo"].ran and rows["stablehlo"].max_rel[0] < 1e-5  # IREE
    assert not rows["nvidia-sm90"].ran and "kernel launches" in rows["nvidia-sm90"].note
    assert report.worst < 1e-5
    assert "vulkan" in report.table()


@needs_vulkan
def test_check_devices_sees_a_wrong_device_result(monkeypatch):
    """The check can fail: a Vulkan result perturbed after the fact shows."""
    from flashcompile.compiled import Compiled
    model, x = MODELS["mlp"]
    real = Compiled.__call__

    def perturbed(self, *arrays):
        out = real(self, *arrays)
        return out + 1.0 if self.target == "vulkan" else out
    monkeypatch.setattr(Compiled, "__call__", perturbed)
    report = fc.check_devices(model, x, targets=["vulkan"])
    assert report.worst > 0.01


def test_simulate_prices_the_emitted_kernels_and_the_vendor_stack():
    x = f32(64, 1024)
    model = fc.Sequential([fc.Linear(1024, 512), fc.ReLU(), fc.Linear(512, 256)])
    c = fc.compile(model, x, target="nvidia-sm80")
    r = fc.simulate(c)  # the target's device, both predictions
    assert r.device.name == "nvidia-a100-80gb" and r.prediction == "FlashCompile's kernels"
    assert r.vendor.prediction == "vendor stack" and "[vendor stack]" in r.vendor.table()
    assert len(r.kernels) == len(c.kernels)
    products = [k for k in c.kernels if k.shared_bytes]
    assert len(products) == 2
    # The compiler's count of each matrix product's work: 2*M*N*K.
    assert sorted(k.flops for k in products) == [2 * 64 * 512 * 256, 2 * 64 * 1024 * 512]
    # The emitted SIMT kernels (no tensor cores) are predicted slower than the vendor stack.
    assert r.time_s > r.vendor.time_s
    # A kernel that fills the GPU beats the wave-quantized one of the same work per FLOP.
    assert all(k.time_s > 0 for k in r.kernels)
    with pytest.raises(ValueError, match="needs a program compiled for an NVIDIA or AMD"):
        fc.simulate(fc.compile(model, x), "nvidia-a100-80gb", kernels="emitted")


def test_emitted_model_waves_and_latency():
    """The per-kernel model on cases with known answers: one more
    workgroup than the GPU holds costs a second wave; a tiny kernel is
    latency-bound, not bandwidth-bound."""
    from flashcompile.gpu.kernels import Kernel
    from flashcompile.sim import devices
    from flashcompile.sim.emitted import predict_emitted
    a100 = devices["nvidia-a100-80gb"]
    slots = a100.compute_units * 8

    def kernel(blocks, flops, nbytes):
        return Kernel("k", (blocks, 1, 1), (256, 1, 1), 2, registers=16, spill_bytes=0,
                      shared_bytes=0, occupancy=1.0, limited_by="warps", blocks_per_sm=8,
                      flops=flops, bytes=nbytes)
    full, over = predict_emitted([kernel(slots, 10**9, 0), kernel(slots + 1, 10**9, 0)], a100)
    assert over.compute_s / full.compute_s == pytest.approx(2 * slots / (slots + 1))
    tiny, = predict_emitted([kernel(1, 0, 1 << 20)], a100)
    assert tiny.memory_s > (1 << 20) / (a100.memory_gbs * 1e9) * 10


@needs_vulkan
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_zoo_models_on_vulkan_match_torch(name):
    """Two torchvision models (residual blocks; depthwise and grouped
    convolutions, ReLU6) imported with target="vulkan" match torch. Small
    images: lavapipe compiles every pipeline on first use and runs SPIR-V
    on the CPU (about ten seconds each here)."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)().eval()
    x = torch.randn(1, 3, 32, 32)
    want = model(x).detach().numpy()
    got = fc.from_pytorch(model, x, target="vulkan")(x.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("target", ["nvidia-sm80", "nvidia-sm90"])
def test_allow_tf32_uses_tensor_cores(target):
    """allow_tf32=True: products whose sizes are multiples of 16x8x4 become
    one warp per 16x8 tile issuing mma.sync m16n8k4 TF32 (HMMA in the
    SASS), with no spills; without it the SASS has no HMMA."""
    x = f32(64, 256)
    model = fc.Sequential([fc.Linear(256, 128), fc.ReLU(), fc.Linear(128, 64)])
    c = fc.compile(model, x, target=target, allow_tf32=True)
    assert "mma.sync.aligned.m16n8k4.row.col.f32.tf32.tf32.f32" in c.ptx()
    assert "HMMA.1684.F32.TF32" in c.sass()
    assert all(k.spill_bytes == 0 for k in c.kernels)
    warps = [k for k in c.kernels if k.block == (32, 1, 1)]
    assert sorted(k.flops for k in warps) == [2 * 64 * 128 * 64, 2 * 64 * 256 * 128]
    assert "HMMA" not in fc.compile(model, x, target=target).sass()
    # A product whose sizes do not divide keeps the SIMT kernel.
    odd = fc.compile(lambda a, b: a @ b, (f32(30, 20), f32(20, 12)), target=target,
                     allow_tf32=True)
    assert "HMMA" not in odd.sass()


def test_allow_tf32_is_for_nvidia_only():
    with pytest.raises(ValueError, match="allow_tf32 is for NVIDIA targets"):
        fc.compile(lambda a: a @ a, f32(16, 16), target="vulkan", allow_tf32=True)
