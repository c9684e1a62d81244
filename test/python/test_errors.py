"""Bad input raises ValueError/TypeError naming the op and the shapes."""
import numpy as np
import pytest

import flashcompile as fc

f32 = np.float32


def test_matmul_contracting_mismatch():
    with pytest.raises(ValueError, match=r"flash\.matmul.*tensor<3x4xf32>.*tensor<5x6xf32>"):
        fc.matmul(np.ones((3, 4), f32), np.ones((5, 6), f32))


def test_matmul_wrong_rank():
    # N-D operands follow np.matmul; below 2-D is an error naming the shapes.
    with pytest.raises(ValueError, match=r"flash\.matmul.*\(5,\).*\(5, 6\)"):
        fc.matmul(np.ones((5,), f32), np.ones((5, 6), f32))


def test_add_not_broadcastable():
    with pytest.raises(ValueError, match=r"flash\.add.*not broadcast-compatible.*tensor<3x4xf32>.*tensor<5xf32>"):
        fc.add(np.ones((3, 4), f32), np.ones((5,), f32))


def test_conv2d_channel_mismatch():
    with pytest.raises(ValueError, match=r"flash\.conv2d.*3 channels.*tensor<4x2x3x3xf32>"):
        fc.conv2d(np.ones((1, 3, 8, 8), f32), np.ones((4, 2, 3, 3), f32))


def test_conv2d_kernel_too_large():
    with pytest.raises(ValueError, match=r"flash\.conv2d.*does not fit"):
        fc.conv2d(np.ones((1, 1, 2, 2), f32), np.ones((1, 1, 3, 3), f32))


def test_conv2d_bad_bias():
    with pytest.raises(ValueError, match=r"flash\.conv2d.*bias 'tensor<3xf32>'"):
        fc.conv2d(np.ones((1, 1, 4, 4), f32), np.ones((2, 1, 3, 3), f32), np.ones(3, f32))


def test_conv2d_bad_stride():
    with pytest.raises(ValueError, match=r"flash\.conv2d.*must be positive"):
        fc.conv2d(np.ones((1, 1, 4, 4), f32), np.ones((2, 1, 3, 3), f32), stride=0)
    with pytest.raises(ValueError, match=r"flash\.conv2d.*non-negative"):
        fc.conv2d(np.ones((1, 1, 4, 4), f32), np.ones((2, 1, 3, 3), f32), padding=-1)


def test_conv2d_bad_attribute_types():
    x, w = np.ones((1, 1, 4, 4), f32), np.ones((2, 1, 3, 3), f32)
    with pytest.raises(TypeError, match=r"flash\.conv2d: stride"):
        fc.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(TypeError, match=r"flash\.conv2d: padding"):
        fc.conv2d(x, w, padding="same")


def test_conv2d_wrong_rank():
    with pytest.raises(ValueError, match=r"flash\.conv2d.*tensor<3x8x8xf32>"):
        fc.conv2d(np.ones((3, 8, 8), f32), np.ones((4, 3, 3, 3), f32))


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.bool_])
def test_wrong_dtype(dtype):
    with pytest.raises(TypeError, match=r"flash\.relu: argument 0 has dtype .* float32"):
        fc.relu(np.ones((2, 2), dtype))


def test_wrong_argument_type():
    with pytest.raises(TypeError, match=r"flash\.matmul: argument 1 must be a NumPy array"):
        fc.matmul(np.ones((2, 2), f32), object())


def test_compiled_call_wrong_shape():
    c = fc.lower(fc.relu, np.ones((2, 3), f32))
    with pytest.raises(ValueError, match=r"shape tensor<3x2xf32>, expected tensor<2x3xf32>"):
        c(np.ones((3, 2), f32))
    with pytest.raises(ValueError, match=r"expected 1 inputs, got 2"):
        c(np.ones((2, 3), f32), np.ones((2, 3), f32))


def test_malformed_ir_has_location():
    with pytest.raises(ValueError, match=r"<bad>:2:\d+: error"):
        fc.compile_mlir("func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
                        "  %0 = flash.relu %a : tensor<2xf32\n}\n", name="<bad>")


def test_unsupported_signature():
    with pytest.raises(ValueError, match=r"argument 0 has type f32; expected a statically "
                                         r"shaped f32, i64 or i32 tensor"):
        fc.compile_mlir("func.func @f(%a: f32) -> f32 { return %a : f32 }")


def test_ambiguous_entry():
    src = ("func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> { return %a : tensor<2xf32> }\n"
           "func.func @g(%a: tensor<2xf32>) -> tensor<2xf32> { return %a : tensor<2xf32> }\n")
    with pytest.raises(ValueError, match=r"2 public functions"):
        fc.compile_mlir(src)
    assert fc.compile_mlir(src, entry="g").entry == "g"
    with pytest.raises(ValueError, match=r"no function named 'h'"):
        fc.compile_mlir(src, entry="h")


def test_unknown_stage():
    c = fc.lower(fc.relu, np.ones(3, f32))
    with pytest.raises(ValueError, match=r"unknown stage 'bogus'"):
        c.ir("bogus")


def test_lower_rejects_non_ops():
    with pytest.raises(TypeError, match=r"not a flashcompile op"):
        fc.lower(np.add, np.ones(2, f32), np.ones(2, f32))


@pytest.mark.parametrize("op,args", [(fc.add, 1), (fc.add, 3), (fc.matmul, 0), (fc.relu, 2)])
def test_wrong_argument_count(op, args):
    with pytest.raises(TypeError, match=rf"{op.op} takes \d array\(s\), got {args}"):
        op(*[np.ones((2, 2), f32)] * args)


@pytest.mark.parametrize("name,count", [("flash.add", 1), ("flash.matmul", 3), ("flash.conv2d", 1),
                                        ("flash.relu", 2), ("flash.relu", 0)])
def test_builder_wrong_operand_count_is_an_error_not_a_crash(name, count):
    from flashcompile import _flashcompile as native
    b = native.GraphBuilder()
    args = [b.add_input([2, 2]) for _ in range(count)]
    with pytest.raises(ValueError, match=rf"'{name}'"):
        b.add_op(name, args, {})


def test_builder_unknown_op():
    from flashcompile import _flashcompile as native
    b = native.GraphBuilder()
    with pytest.raises(ValueError, match=r"unknown op 'flash.nope'"):
        b.add_op("flash.nope", [b.add_input([2])], {})


def test_non_contiguous_and_scalar_inputs_take_the_checked_path(rng=np.random.default_rng(0)):
    x = rng.standard_normal((6, 8)).astype(f32)
    np.testing.assert_array_equal(fc.relu(x[:, ::2]), np.maximum(x[:, ::2], 0))
    np.testing.assert_array_equal(fc.relu(x[:, ::2]), np.maximum(x[:, ::2], 0))  # cached now
    swapped = x.astype(">f4")  # big-endian float32: converted, not misread
    with pytest.raises(TypeError, match="dtype >f4"):
        fc.relu(swapped)


def test_builder_refuses_attributes_the_op_does_not_define():
    # (They were kept on the op without a word; found by fuzz/FuzzGraphBuilder.cpp,
    # whose case also gave a key twice, which printed a module that does not parse.)
    from flashcompile import _flashcompile as native
    b = native.GraphBuilder()
    x = b.add_input([7])
    with pytest.raises(ValueError, match=r"'flash.less_equal' has no attribute 'axis'"):
        b.add_op("flash.less_equal", [x, x], {"axis": -2})
    assert b.add_op("flash.less_equal", [x, x], {}) >= 0
