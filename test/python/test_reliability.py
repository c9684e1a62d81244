"""Bad and untrusted input (docs/reliability.md): shapes past 64-bit sizes
are refused by the verifier; ONNX files cannot read data outside their
folder; a bounded campaign of mutated ONNX models raises only the
importer's documented errors (ValueError, TypeError, fc.UnsupportedOnnx),
never a crash or another exception type."""
import os
import random
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import flashcompile as fc

HUGE = """func.func @f(%a: tensor<4294967296x4294967296x16xf32>) -> tensor<4294967296x4294967296x16xf32> {
  %0 = flash.relu %a : tensor<4294967296x4294967296x16xf32>
  return %0 : tensor<4294967296x4294967296x16xf32>
}"""


def test_shapes_past_64_bit_sizes_are_refused():
    with pytest.raises(ValueError, match="element count exceeds 64-bit sizes"):
        fc.compile_mlir(HUGE)
    with pytest.raises(ValueError, match="byte size exceeds 64-bit sizes"):
        fc.compile_mlir(HUGE.replace("4294967296x4294967296x16", "2305843009213693952"))
    # The graph builder verifies each op as it is added: the traced path too.
    from flashcompile.tracing import Trace
    huge = Trace("huge").input((1 << 32, 1 << 32, 16))
    with pytest.raises(ValueError, match="exceeds 64-bit sizes"):
        fc.relu(huge)
    with pytest.raises(ValueError, match=r"shape \[4294967296, 4294967296, 16\]: its element "
                                         r"count exceeds 64-bit sizes"):
        fc.jit(lambda x: fc.reshape(x, (1 << 32, 1 << 32, 16)))(np.ones((4,), np.float32))


def _matmul_model(w):
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _with_location(model_path, out_path, location):
    model = onnx.load(model_path, load_external_data=False)
    for entry in model.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = location
    onnx.save(model, out_path)


SPLAT_WEIGHT = """func.func @f(%x: tensor<4x32768xf32>) -> tensor<4x32768xf32> {
  %w = flash.constant dense<0.5> : tensor<32768x32768xf32>
  %0 = flash.matmul %x, %w : (tensor<4x32768xf32>, tensor<32768x32768xf32>) -> tensor<4x32768xf32>
  return %0 : tensor<4x32768xf32>
}"""


def test_constants_past_the_compile_memory_bound_are_refused():
    # A few bytes of text that would be 4 GiB of panels and LLVM data.
    with pytest.raises(ValueError, match=r"constants hold more than 2147483648 bytes "
                       r"\(this one, 'tensor<32768x32768xf32>', 4294967296 bytes, a splat\)"
                       r".*max-constant-bytes"):
        fc.compile_mlir(SPLAT_WEIGHT, tuned=False)
    small = SPLAT_WEIGHT.replace("32768", "48")
    with pytest.raises(ValueError, match="max-constant-bytes"):
        fc.compile_mlir(small, tuned=False, options="max-constant-bytes=4096")
    x = np.ones((4, 48), np.float32)
    np.testing.assert_allclose(fc.compile_mlir(small, tuned=False)(x), np.full((4, 48), 24.0))


def test_external_data_stays_inside_the_models_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    w = np.arange(16, dtype=np.float32).reshape(4, 4)
    path = folder / "m.onnx"
    onnx.save(_matmul_model(w), path, save_as_external_data=True, location="w.bin",
              size_threshold=0)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(fc.from_onnx(str(path))(x), x @ w)  # its own folder: read
    (tmp_path / "secret.bin").write_bytes((folder / "w.bin").read_bytes())
    (folder / "link.bin").symlink_to(tmp_path / "secret.bin")
    for location, why in (("../secret.bin", "points outside"),
                          (str(tmp_path / "secret.bin"), "absolute path"),
                          ("link.bin", "symbolic link")):
        evil = folder / "evil.onnx"
        _with_location(path, evil, location)
        with pytest.raises(ValueError, match=why):
            fc.from_onnx(str(evil))
    # A model in memory whose tensors are still external: refused, not read
    # relative to the current folder.
    with pytest.raises(ValueError, match="initializer 'w' keeps its data in an external file"):
        fc.from_onnx(onnx.load(path, load_external_data=False))


def test_an_output_no_node_makes_is_a_value_error():
    model = _matmul_model(np.ones((4, 4), np.float32))
    model.graph.output[0].name = "nowhere"
    with pytest.raises(ValueError, match="'nowhere'"):
        fc.from_onnx(model)


def _base_model():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    m = rng.standard_normal((4 * 6 * 6, 5)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"], axis=1),
             helper.make_node("MatMul", ["f", "m"], ["y"]),
             helper.make_node("Softmax", ["y"], ["z"], axis=-1)]
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 12, 12])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 5])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(m, "m")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _mutate(model, rnd: random.Random):
    """One structural mutation: an attribute's value, an input's name, an
    op type, a declared dimension, a dropped initializer or node."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    kind = rnd.randrange(6)
    node = g.node[rnd.randrange(len(g.node))]
    if kind == 0 and node.attribute:
        attr = node.attribute[rnd.randrange(len(node.attribute))]
        if attr.ints:
            attr.ints[rnd.randrange(len(attr.ints))] = rnd.choice([-3, 0, 1, 7, 1 << 40])
        else:
            attr.i = rnd.choice([-5, 0, 3, 1 << 40])
    elif kind == 1:
        node.input[rnd.randrange(len(node.input))] = rnd.choice(["", "missing", "x", "w"])
    elif kind == 2:
        node.op_type = rnd.choice(["Relu", "Conv", "MatMul", "Gemm", "Bogus", "Reshape"])
    elif kind == 3:
        dims = g.input[0].type.tensor_type.shape.dim
        dims[rnd.randrange(len(dims))].dim_value = rnd.choice([0, 1, 5, 1 << 31])
    elif kind == 4 and g.initializer:
        del g.initializer[rnd.randrange(len(g.initializer))]
    else:
        del g.node[rnd.randrange(len(g.node))]
    return m


def test_mutated_onnx_models_raise_only_documented_errors():
    """200 mutated models: each imports (and then runs) or raises
    ValueError / TypeError (fc.UnsupportedOnnx is a ValueError)."""
    base = _base_model()
    rnd = random.Random(18)
    outcomes = {"imported": 0, "refused": 0}
    for _ in range(200):
        model = _mutate(base, rnd)
        try:
            imported = fc.from_onnx(model)
        except (ValueError, TypeError):
            outcomes["refused"] += 1
            continue
        outcomes["imported"] += 1
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        if np.prod(shape) < 1 << 20:
            imported(np.ones(shape, np.float32))
    assert outcomes["imported"] > 0 and outcomes["refused"] > 0, outcomes


def test_mutated_onnx_node_tests_raise_only_documented_errors():
    """fuzz/onnx_mutations.py's bounded slice: 200 of ONNX's node tests with
    random structural mutations import and run, or raise ValueError/TypeError
    (an input of element type UNDEFINED raised a bare KeyError)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "fuzz"))
    import onnx_mutations
    outcomes = onnx_mutations.run_cases(200, seed=18)
    assert sum(outcomes.values()) == 200
    assert outcomes["refused"] > 0 and outcomes["ran"] > 0, outcomes


CORRUPT = r"""
import sys, flashcompile as fc
try:
    fc.from_onnx(sys.argv[1])
except (ValueError, TypeError) as e:
    print("refused")
else:
    print("imported")
"""


def test_byte_flipped_onnx_files_never_crash_the_process(tmp_path):
    """Random bytes changed in the serialized file: every process exits
    normally with an import or a refusal (no signal, no other exception)."""
    data = bytearray(_base_model().SerializeToString())
    rnd = random.Random(7)
    for k in range(12):
        flipped = bytearray(data)
        for _ in range(rnd.randrange(1, 6)):
            flipped[rnd.randrange(len(flipped))] = rnd.randrange(256)
        path = tmp_path / f"m{k}.onnx"
        path.write_bytes(bytes(flipped))
        r = subprocess.run([sys.executable, "-c", CORRUPT, str(path)], capture_output=True,
                           text=True, timeout=300, env=dict(os.environ))
        assert r.returncode == 0 and r.stdout.strip() in ("refused", "imported"), r.stderr


# --- Differential testing (fuzz/differential.py) ----------------------------

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "fuzz"))


def test_random_programs_match_numpy_with_and_without_optimizations():
    """A bounded slice of the differential run (the nightly-sized one is
    `python3 fuzz/differential.py --cases 10000`): 300 random programs,
    each compiled with the default pipeline and with every optimization off,
    against NumPy in float64."""
    import differential
    assert differential.run_cases(300) == 300


def test_the_differential_check_sees_a_wrong_result(monkeypatch):
    import differential
    monkeypatch.setitem(differential.NUMPY_UNARY, "tanh", lambda x: np.tanh(x) * 0.999)
    with pytest.raises(AssertionError, match="differ"):
        differential.check(((7, 5), [("unary", "tanh")], 3))


OUT_OF_MEMORY = r"""
import resource, sys
import numpy as np
import flashcompile as fc

def vm_size():  # bytes of address space the process holds
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024

# Whatever the kernel's overcommit policy, a terabyte is refused.
resource.setrlimit(resource.RLIMIT_AS, (vm_size() + (8 << 30),) * 2)
rng = np.random.default_rng(0)
x = rng.standard_normal((2048, 2048), dtype=np.float32)
a = np.ones((1 << 20, 1), np.float32)
b = np.ones((1, 1 << 18), np.float32)
w = np.ones((1 << 18, 1), np.float32)
# A 16 MB product is made before the terabyte broadcast is asked for.
f = fc.jit(lambda x, a, b, w: fc.reduce_sum(fc.matmul(x, x)) + fc.matmul(fc.exp(a + b), w))
try:
    f(x, a, b, w)
    print("NO ERROR")
except MemoryError as e:
    print("MemoryError:", e)
before = vm_size()
for _ in range(20):  # the temporaries of a failed call are given back
    try:
        f(x, a, b, w)
    except MemoryError:
        pass
print("GROWTH", vm_size() - before)
g = fc.jit(lambda x: fc.relu(x) * 2.0)  # the process goes on
print("AFTER", np.array_equal(g(x), np.maximum(x, 0) * 2))
"""


def test_running_out_of_memory_is_a_memory_error():
    # In a child process: a crash there fails this test instead of the run.
    # (Under AddressSanitizer, scripts/sanitize.sh, its quarantine of freed
    # blocks would count as growth.)
    env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "")
               + ":quarantine_size_mb=0")
    out = subprocess.run([sys.executable, "-c", OUT_OF_MEMORY], capture_output=True,
                         text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert any(line.startswith("MemoryError:") and "out of memory" in line
               and "could not allocate" in line for line in lines), out.stdout
    growth = int(next(line.split()[1] for line in lines if line.startswith("GROWTH")))
    assert growth < (64 << 20), f"20 failed calls kept {growth} bytes"
    assert "AFTER True" in lines, out.stdout


def test_a_value_returned_twice_gets_buffers_of_its_own():
    # It crashed the process (upstream's buffer-results-to-out-params; found
    # by fuzz/FuzzFlashIR.cpp): each repeat is now a copy (flash-distinct-results).
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(3, 5)
    y, z, e, w = fc.jit(lambda x: (lambda r: (r, r, fc.exp(r), r))(fc.relu(x)))(x)
    for got in (y, z, w):
        np.testing.assert_array_equal(got, np.maximum(x, 0))
    np.testing.assert_allclose(e, np.exp(np.maximum(x, 0)), rtol=1e-6)
    assert len({a.ctypes.data for a in (y, z, e, w)}) == 4
    a, b = fc.jit(lambda x: (x, x))(x)
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(b, x)
