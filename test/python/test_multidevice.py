"""Multi-device execution (docs/multi-device.md): StableHLO export run by a
real consumer (IREE) against FlashCompile's host output, placements that
run across host and Vulkan, pipeline parallelism (simulated schedule with
known answers, and a real host + Vulkan run)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import flashcompile as fc
from flashcompile.multidevice import schedule
from flashcompile.multidevice.partition import TraceGraph
from flashcompile.multidevice.pipeline import _balanced_cuts
from flashcompile.multidevice.stablehlo_run import StableHloProgram, run_stablehlo

rng = np.random.default_rng(7)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VULKAN = fc._flashcompile.vulkan_info()
# test_gpu.py's test_the_vulkan_device_is_there fails when the device is
# missing, so these never skip silently on the CI machine.
needs_vulkan = pytest.mark.skipif(not VULKAN["available"], reason=VULKAN["why"])


def test_the_stablehlo_consumer_is_installed():
    """requirements-test.txt installs IREE: the export is always checked."""
    import iree.compiler  # noqa: F401
    import iree.runtime  # noqa: F401


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def outputs(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def assert_close_to_host(compiled, args, rtol=1e-5):
    """The exported StableHLO, compiled and run by IREE, against the host."""
    text = fc.export_stablehlo(compiled)
    want = outputs(compiled(*args))
    got = outputs(run_stablehlo(text, *args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * max(1.0, np.abs(w).max()))
    return text


# --- StableHLO export: every op family ------------------------------------

W = f32(4, 3, 3, 3)
G = f32(6, 2, 3, 3)
TABLE = f32(11, 5)
OP_FAMILIES = {
    "elementwise_broadcast": (lambda x, y: (x + y, x - y, x * y, x / (fc.relu(y) + 1.0),
                                            fc.maximum(x, y), fc.pow(fc.relu(x) + 0.5, 1.5)),
                              (f32(5, 1, 7), f32(3, 1))),
    "unary": (lambda x: (fc.relu(x), fc.exp(x), fc.tanh(x), fc.sigmoid(x), fc.gelu(x),
                         fc.erf(x), fc.sqrt(fc.relu(x)), -x), (f32(3, 17),)),
    "matmul_odd": (lambda a, b: a @ b, (f32(37, 29), f32(29, 41))),
    "batch_matmul": (lambda a, b: fc.batch_matmul(a, b), (f32(3, 9, 5), f32(3, 5, 11))),
    "linear_bias": (lambda x: fc.linear(x, f32(7, 13), f32(7)), (f32(2, 4, 13),)),
    "conv_stride_pad_dilation": (lambda x: fc.conv2d(x, W, f32(4), stride=2, padding=(1, 2),
                                                     dilation=(1, 2)), (f32(2, 3, 17, 15),)),
    "conv_grouped": (lambda x: fc.conv2d(x, G, stride=1, padding=1, groups=2),
                     (f32(1, 4, 9, 9),)),
    "pooling": (lambda x: (fc.max_pool2d(x, 3, 2, 1), fc.max_pool2d(x, 3, 2, ceil_mode=True),
                           fc.avg_pool2d(x, 3, 2, 1), fc.avg_pool2d(x, 2, 2, 1,
                                                                  count_include_pad=False),
                           fc.avg_pool2d(x, 3, 2, ceil_mode=True)), (f32(2, 3, 10, 11),)),
    "reductions": (lambda x: (fc.reduce_sum(x, (0, 2)), fc.reduce_mean(x, 1, keepdims=True),
                              fc.reduce_max(x, -1), fc.reduce_sum(x)), (f32(4, 6, 5),)),
    "softmax_layer_norm": (lambda x, g, b: (fc.softmax(x, 1), fc.layer_norm(x, g, b, axis=1)),
                           (f32(3, 4, 6), f32(4, 6), f32(4, 6))),
    "batch_norm": (lambda x: fc.batch_norm(x, f32(3), f32(3), f32(3), np.abs(f32(3)) + 0.1),
                   (f32(2, 3, 5, 5),)),
    "layout": (lambda x: (fc.transpose(x, (2, 0, 1)), fc.reshape(x, (5, 12)),
                          fc.flatten(x, 1), fc.concat([x, x * 2], axis=1), x[1:, ::2, 1:4],
                          fc.pad(x, ((0, 0), (1, 2), (0, 1)))), (f32(3, 4, 5),)),
    "compare_select": (lambda x, y: (fc.equal(x, y), fc.not_equal(x, 0.0), fc.less(x, y),
                                     fc.less_equal(x, y), fc.greater(x, y),
                                     fc.where(fc.greater(x, 0.0), x, y)),
                       (np.round(f32(4, 6)), np.round(f32(1, 6)))),
    "gather_int64_negative": (lambda i: fc.embedding(i, TABLE),
                              (np.array([[0, 3, -1], [10, -11, 2]], np.int64),)),
    "gather_int32_axis1": (lambda x, i: fc.gather(x, i, axis=1),
                           (f32(3, 8, 2), np.array([7, 0, 3, 3], np.int32))),
    "cast": (lambda i: fc.cast(i) * 0.5, (np.array([[1, -2, 3]], np.int64),)),
    "attention": (lambda q, k, v: (fc.attention(q, k, v), fc.attention(q, k, v, causal=True,
                                                                      scale=0.3)),
                  (f32(2, 3, 6, 8), f32(2, 3, 6, 8), f32(2, 3, 6, 8))),
}


@pytest.mark.parametrize("name", sorted(OP_FAMILIES))
def test_every_op_family_exports_and_iree_matches_the_host(name):
    fn, args = OP_FAMILIES[name]
    assert_close_to_host(fc.compile(fn, args), args)


def test_the_export_is_stablehlo_with_weights_inline():
    model = fc.Sequential([fc.Conv2d(3, 4, 3, seed=1), fc.ReLU(), fc.Flatten(),
                           fc.Linear(4 * 6 * 6, 5, seed=2)])
    text = fc.export_stablehlo(fc.compile(model, f32(2, 3, 8, 8)))
    assert "func.func @main(%arg0: tensor<2x3x8x8xf32>) -> (tensor<2x5xf32>)" in text
    for op in ("stablehlo.convolution", "stablehlo.dot_general", "stablehlo.broadcast_in_dim",
               "stablehlo.maximum", "stablehlo.constant"):
        assert op in text
    # The weights are in the text, bit for bit: 4*3*3*3 + 4 + 5*144 + 5 f32 values.
    hex_digits = sum(len(part.split('"')[0]) - 2 for part in text.split('dense<"')[1:])
    assert hex_digits == 8 * (4 * 27 + 4 + 5 * 144 + 5)


def test_a_consumer_error_names_the_op():
    text = ('module {\n  func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n'
            '    %0 = "stablehlo.exponential"(%a) : (tensor<2xf32>) -> tensor<3xf32>\n'
            '    "func.return"(%0) : (tensor<2xf32>) -> ()\n  }\n}\n')
    with pytest.raises(ValueError, match="IREE cannot compile the StableHLO.*"):
        StableHloProgram(text)
    with pytest.raises(TypeError, match="traced program"):
        fc.export_stablehlo(fc.compile_mlir(
            "func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {\n"
            "  %0 = flash.relu %a : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}\n"))


def _reference_models():
    mlp = fc.Sequential([fc.Linear(784, 128, seed=0), fc.ReLU(), fc.Linear(128, 10, seed=1),
                         fc.Softmax()])
    lenet = fc.Sequential([fc.Conv2d(1, 6, 5, padding=2, seed=2), fc.ReLU(), fc.MaxPool2d(2),
                           fc.Conv2d(6, 16, 5, seed=3), fc.ReLU(), fc.MaxPool2d(2),
                           fc.Flatten(), fc.Linear(400, 120, seed=4), fc.ReLU(),
                           fc.Linear(120, 84, seed=5), fc.ReLU(), fc.Linear(84, 10, seed=6)])
    block = fc.TransformerEncoderLayer(64, 4, dim_feedforward=128, seed=3)
    return {"mlp": (mlp, f32(8, 784)), "lenet5": (lenet, f32(2, 1, 28, 28)),
            "transformer_block": (block, f32(2, 16, 64))}


MODELS = _reference_models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_models_export_and_iree_matches(name):
    model, x = MODELS[name]
    assert_close_to_host(fc.compile(model, x), (x,), rtol=1e-4)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_zoo_models_export_and_iree_matches_torch(name):
    """Two torchvision CNNs imported with fc.from_pytorch, exported, and run
    by IREE: the same numbers as torch and as FlashCompile's host code."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)().eval()
    x = torch.randn(1, 3, 64, 64)
    want = model(x).detach().numpy()
    imported = fc.from_pytorch(model, x)
    got = run_stablehlo(fc.export_stablehlo(imported), x.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    np.testing.assert_allclose(got, imported(x.numpy()), rtol=1e-4,
                               atol=1e-5 * np.abs(want).max())


def test_cli_exports_an_onnx_model_as_stablehlo(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    w = f32(16, 8)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
        "mm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [4, 8])],
        [onnx.numpy_helper.from_array(w, "w")])
    path = tmp_path / "mm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    out = tmp_path / "mm.mlir"
    r = subprocess.run([sys.executable, "-m", "flashcompile", "export", str(path), "--format",
                        "stablehlo", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    x = f32(4, 16)
    np.testing.assert_allclose(run_stablehlo(out.read_text(), x), np.maximum(x @ w, 0),
                               rtol=1e-5, atol=1e-5)
    mlir = tmp_path / "relu.mlir"
    mlir.write_text("func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {\n"
                    "  %0 = flash.relu %a : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}\n")
    r = subprocess.run([sys.executable, "-m", "flashcompile", "export", str(mlir), "--out",
                        str(tmp_path / "x.mlir")], capture_output=True, text=True)
    assert r.returncode == 1 and "must be an .onnx model" in r.stderr


# --- Partitioning ---------------------------------------------------------

def test_every_single_cut_recomposes_the_program():
    model, x = MODELS["transformer_block"]
    c = fc.compile(model, x)
    graph = TraceGraph(c.trace)
    want = c(x)
    for cut in range(1, len(graph.ops), 3):
        values = {graph.inputs[0]: x}
        for stage in graph.split([cut]):
            out = outputs(stage.compile()(*[values[v.handle] for v in stage.inputs]))
            values.update({v.handle: o for v, o in zip(stage.outputs, out)})
        np.testing.assert_allclose(values[graph.results[0]], want, rtol=1e-5, atol=1e-5)


def test_candidate_cuts_prefer_block_boundaries():
    """In LeNet-5 the cheapest cuts carry one tensor each."""
    model, x = MODELS["lenet5"]
    graph = TraceGraph(fc.compile(model, x).trace)
    for cut in graph.candidate_cuts(4):
        assert len([v for v in graph.live_at(cut) if v.handle in graph.producer]) == 1


# --- Placements that run --------------------------------------------------

@needs_vulkan
def test_a_host_and_vulkan_placement_runs_and_matches():
    model, x = MODELS["lenet5"]
    c = fc.compile(model, x)
    plan = fc.place(c, ["host", "vulkan"], max_segments=4,
                    assignment=["host", "vulkan", "vulkan", "host"])
    assert [dev for *_, dev in plan.stages] == ["host", "vulkan", "host"]
    program = plan.compile()
    got = program(x)
    np.testing.assert_allclose(got, c(x), rtol=1e-5, atol=1e-6)
    assert [p.target for p in program.compiled] == ["host", "vulkan", "host"]
    m = program.last
    assert len(m.stages) == 3 and all(t > 0 for t in m.stages) and m.total_s >= sum(m.stages)
    text = plan.timeline()
    assert "measured ms" in text and "transfer host -> vulkan" in text and "vulkan" in text
    assert "-" not in text.splitlines()[-1].split()[-1]  # the end-to-end time was measured


@needs_vulkan
def test_independent_stages_on_two_devices_overlap():
    """Two branches of one input, one per device: the Vulkan stage starts
    while the (much longer) host stage is still running."""
    big = f32(512, 512)

    def two_branches(x, y):
        a = x
        for _ in range(12):
            a = fc.tanh(a @ big)
        b = fc.relu(y) * 2.0
        return fc.reduce_sum(a, 1, keepdims=True) + fc.reduce_sum(b, 1, keepdims=True)
    x, y = f32(256, 512), f32(256, 8)
    c = fc.compile(two_branches, (x, y))
    graph = TraceGraph(c.trace)
    branch_b = next(i for i, op in enumerate(graph.ops) if op[1] == "flash.relu")
    plan = fc.place(c, ["host", "vulkan"], cuts=[branch_b, branch_b + 2],
                    assignment=["host", "vulkan", "host"])
    program = plan.compile()
    for _ in range(2):  # the first call builds lavapipe's pipelines
        got = program(x, y)
    np.testing.assert_allclose(got, c(x, y), rtol=1e-4, atol=1e-3)
    m = program.last
    assert m.starts[1] < m.starts[0] + m.stages[0]


def test_the_placement_search_returns_a_runnable_plan():
    model, x = MODELS["mlp"]
    c = fc.compile(model, x)
    plan = fc.place(c, ["host", "nvidia-a100-40gb"])
    assert plan.time_s <= plan.best_single[1] * (1 + 1e-12)
    assert set(plan.assignment) <= {"host", "nvidia-a100-40gb"}
    assert len(plan.assignment) == len(TraceGraph(c.trace).ops)
    assert plan.events[-1][2] == pytest.approx(plan.time_s)
    only_host = fc.place(c, ["host"]).compile()
    np.testing.assert_allclose(only_host(x), c(x), rtol=1e-6)


def test_a_placement_on_devices_not_here_builds_every_stage():
    model, x = MODELS["lenet5"]
    c = fc.compile(model, x)
    plan = fc.place(c, ["host", "nvidia-sm80", "google-tpu-v5e"], max_segments=3,
                    assignment=["host", "nvidia-sm80", "google-tpu-v5e"])
    program = plan.compile()
    assert program.compiled[1].target == "nvidia-sm80" and ".entry" in program.compiled[1].ptx()
    assert program.compiled[2] is None and "stablehlo." in program.stablehlo[2]
    assert "StableHLO" in plan.table()
    with pytest.raises(ValueError, match="google-tpu-v5e, nvidia-sm80.*cannot run"):
        program(x)
    # The TPU stage's StableHLO is a program of its own: IREE runs it.
    stage = program.stages[2]
    assert stage.inputs and run_stablehlo(program.stablehlo[2], *[
        f32(*v.shape) for v in stage.inputs]).shape == (2, 10)


def test_unknown_devices_are_named():
    model, x = MODELS["mlp"]
    with pytest.raises(ValueError, match="unknown device 'nvidia-a200'"):
        fc.place(fc.compile(model, x), ["host", "nvidia-a200"])


# --- Pipeline parallelism -------------------------------------------------

def test_the_schedule_of_equal_stages_has_the_known_bubble():
    for n, m in ((2, 4), (4, 8), (3, 1)):
        s = schedule([1.0] * n, [0.0] * n, m)
        assert s.makespan_s == pytest.approx(m + n - 1)
        assert s.bubble == pytest.approx((n - 1) / (m + n - 1))


def test_the_schedule_is_bound_by_the_slowest_stage_and_the_links():
    s = schedule([1.0, 3.0], [0.0, 0.0], 3)
    assert s.makespan_s == pytest.approx(1 + 3 * 3)
    assert [f for _, f in s.times[0]] == [1, 2, 3] and [f for _, f in s.times[1]] == [4, 7, 10]
    s = schedule([2.0, 2.0], [0.5, 1.0], 2)   # link in, then one link between the stages
    assert s.makespan_s == pytest.approx(0.5 + 2 + 1 + 2 + 2)


def test_balanced_cuts_minimise_the_slowest_stage():
    costs = [[1, 2, 3, 4, 5, 6]] * 3  # same device three times
    assert _balanced_cuts(costs, 3) == [3, 5]       # 6 | 9 | 6
    faster = [[1, 2, 3, 4, 5, 6], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]]
    assert _balanced_cuts(faster, 2) == [1]         # 1 | 2.0: the fast device takes the rest
    with pytest.raises(ValueError, match="only 2 segments"):
        _balanced_cuts([[1, 1]] * 3, 3)


def test_a_pipeline_over_database_devices_is_simulated():
    model, x = MODELS["transformer_block"]
    c = fc.compile(model, x)
    p = fc.pipeline(c, ["nvidia-a100-80gb", "nvidia-h100-sxm", "google-tpu-v5e"],
                    micro_batches=8)
    assert len(p.stages) == 3 and all(t > 0 for t in p.predicted.stage_s)
    assert p.predicted.makespan_s >= 8 * max(p.predicted.stage_s)
    assert 0 <= p.predicted.bubble < 1 and len(p.memory_bytes()) == 3
    assert "predicted:" in p.table()
    with pytest.raises(ValueError, match="cannot run in this process"):
        p.run(np.concatenate([x] * 8))


@needs_vulkan
def test_a_host_and_vulkan_pipeline_runs_and_matches():
    model, x = MODELS["lenet5"]
    c = fc.compile(model, x)
    p = fc.pipeline(c, ["host", "vulkan"], micro_batches=3)
    batch = f32(6, 1, 28, 28)
    for _ in range(2):  # the first run builds lavapipe's pipelines
        got = p.run(batch)
    want = np.concatenate([c(batch[i:i + 2]) for i in range(0, 6, 2)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    m = p.measured
    # Stage 1 of micro-batch m starts after stage 0 finished it; stage 0 of
    # m+1 does not wait for stage 1 of m.
    for k in range(3):
        assert m.times[1][k][0] >= m.times[0][k][1]
    assert m.makespan_s > 0 and "measured:" in p.table()
    with pytest.raises(ValueError, match="3 micro-batches of 2"):
        p.run(f32(4, 1, 28, 28))


# --- The docs' example ----------------------------------------------------

@needs_vulkan
def test_the_multi_device_doc_example_runs_as_written(tmp_path):
    text = open(os.path.join(ROOT, "docs", "multi-device.md")).read()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks
    script = tmp_path / "example.py"
    script.write_text("\n".join(blocks))
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("device,target", [("nvidia-a100-40gb", "nvidia-sm80"),
                                           ("nvidia-l4", "nvidia-sm80"),      # sm_89 runs sm_80 cubins
                                           ("nvidia-h200", "nvidia-sm90"),
                                           ("nvidia-b200", "nvidia-sm90"),    # PTX, JIT-compiled
                                           ("nvidia-t4", None),               # sm_75: older than ours
                                           ("amd-mi300x", "amd-gfx942"),
                                           ("google-tpu-v5e", None)])
def test_database_devices_map_to_the_targets_that_run_on_them(device, target):
    from flashcompile.multidevice.devices import endpoint
    ep = endpoint(device)
    assert ep.target == target and not ep.runs_here
    assert ("StableHLO" in ep.note) == (target is None)
