//===- FlashOps.td - Flash operations ----------------------*- tablegen -*-===//
#ifndef FLASH_OPS_TD
#define FLASH_OPS_TD

include "flash/Dialect/Flash/IR/FlashDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

//===----------------------------------------------------------------------===//
// flash.constant
//===----------------------------------------------------------------------===//

def Flash_ConstantOp : Flash_Op<"constant",
    [ConstantLike, Pure, InferTypeOpAdaptor]> {
  let summary = "A dense tensor constant (weights, biases).";
  let description = [{
    Produces a tensor from a dense elements attribute; the result type is the
    attribute's type.

    ```mlir
    %w = flash.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
    %i = flash.constant dense<[0, 2]> : tensor<2xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Flash_AnyTensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// flash.matmul
//===----------------------------------------------------------------------===//

def Flash_MatmulOp : Flash_Op<"matmul", [Pure, InferTypeOpAdaptor]> {
  let summary = "Matrix product of an MxK and a KxN tensor.";
  let description = [{
    `result[m, n] = sum_k lhs[m, k] * rhs[k, n]`. The contracting dimensions
    must agree; the result is MxN.

    ```mlir
    %c = flash.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor2D:$lhs, Flash_Tensor2D:$rhs);
  let results = (outs Flash_Tensor2D:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// flash.add
//===----------------------------------------------------------------------===//

def Flash_AddOp : Flash_Op<"add", [Pure, Commutative, InferTypeOpAdaptor]> {
  let summary = "Elementwise addition with NumPy broadcasting.";
  let description = [{
    Shapes are aligned from the trailing dimension; a dimension of size 1 (or
    a missing leading dimension) is broadcast, exactly as in NumPy. The sum
    of two constants folds to a constant.

    ```mlir
    %y = flash.add %x, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$lhs, Flash_Tensor:$rhs);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// flash.relu
//===----------------------------------------------------------------------===//

def Flash_ReluOp : Flash_Op<"relu",
    [Pure, Idempotent, SameOperandsAndResultType]> {
  let summary = "Elementwise max(x, 0).";
  let description = [{
    NaN inputs stay NaN (as `np.maximum(x, 0)`). relu(relu(x)) folds to
    relu(x); relu of a constant folds to a constant.

    ```mlir
    %y = flash.relu %x : tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$input);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// flash.conv2d
//===----------------------------------------------------------------------===//

def Flash_Conv2DOp : Flash_Op<"conv2d",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "2-D convolution, NCHW input, OIHW weight, optional bias.";
  let description = [{
    The layout and semantics of `torch.nn.functional.conv2d` (a
    cross-correlation). `stride` and `dilation` are `[h, w]`; `padding` is
    `[top, left, bottom, right]` (the ONNX order) with zeros. `bias`, when
    present, has one value per output channel. With input `N x C x H x W` and
    weight `O x C/groups x KH x KW` the result is `N x O x OH x OW` where
    `OH = (H + top + bottom - dilation_h * (KH - 1) - 1) / stride_h + 1`.
    `groups` (default 1) splits the channels as torch's `groups`: group g
    convolves input channels [g*C/groups, (g+1)*C/groups) into output
    channels [g*O/groups, (g+1)*O/groups); groups = C is a depthwise
    convolution. C and O must be multiples of groups.

    ```mlir
    %y = flash.conv2d %x, %w, %b {stride = array<i64: 1, 1>,
           padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>}
         : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>)
         -> tensor<1x16x32x32xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor4D:$input, Flash_Tensor4D:$weight,
                   Optional<Flash_Tensor1D>:$bias,
                   ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>:$stride,
                   ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<4>]>:$padding,
                   ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>:$dilation,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Flash_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}


//===----------------------------------------------------------------------===//
// Elementwise binary ops (NumPy broadcasting) and unary ops
//===----------------------------------------------------------------------===//

class Flash_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Flash_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor], traits)> {
  let summary = "Elementwise " # what # " with NumPy broadcasting.";
  let description = [{
    Shapes broadcast as in NumPy (see `flash.add`). Constant operands fold.
  }];
  let arguments = (ins Flash_Tensor:$lhs, Flash_Tensor:$rhs);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Flash_SubOp : Flash_BinaryOp<"sub", "subtraction lhs - rhs">;
def Flash_MulOp : Flash_BinaryOp<"mul", "multiplication", [Commutative]>;
def Flash_DivOp : Flash_BinaryOp<"div", "division lhs / rhs">;
def Flash_PowOp : Flash_BinaryOp<"pow", "power lhs ** rhs">;
def Flash_MaxOp : Flash_BinaryOp<"max", "maximum (NaN propagating)", [Commutative]>;

// Comparisons give 1.0 where true and 0.0 elsewhere (masks are f32 0/1
// tensors in Flash); greater-than is less-than with the operands swapped.
// A NaN compares unequal to everything, itself included, as in NumPy.
def Flash_EqualOp : Flash_BinaryOp<"equal", "comparison lhs == rhs (1.0 or 0.0)", [Commutative]>;
def Flash_NotEqualOp : Flash_BinaryOp<"not_equal", "comparison lhs != rhs (1.0 or 0.0)", [Commutative]>;
def Flash_LessOp : Flash_BinaryOp<"less", "comparison lhs < rhs (1.0 or 0.0)">;
def Flash_LessEqualOp : Flash_BinaryOp<"less_equal", "comparison lhs <= rhs (1.0 or 0.0)">;

def Flash_SelectOp : Flash_Op<"select", [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise `cond != 0 ? lhs : rhs` with NumPy broadcasting.";
  let description = [{
    As `np.where(cond != 0, lhs, rhs)` over the broadcast shape of all
    three operands; `cond` is a 0/1 mask as the comparisons give (a NaN
    condition selects `lhs`).

    ```mlir
    %y = flash.select %mask, %x, %zero : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$cond, Flash_Tensor:$lhs, Flash_Tensor:$rhs);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$cond `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

class Flash_UnaryOp<string mnemonic, string formula>
    : Flash_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise " # formula # ".";
  let description = [{
    Applied to every element; a constant operand folds.
  }];
  let arguments = (ins Flash_Tensor:$input);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Flash_ExpOp : Flash_UnaryOp<"exp", "exp(x)">;
def Flash_TanhOp : Flash_UnaryOp<"tanh", "tanh(x)">;
def Flash_SigmoidOp : Flash_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Flash_GeluOp : Flash_UnaryOp<"gelu",
    "GELU, x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))) (the exact form)">;
def Flash_ErfOp : Flash_UnaryOp<"erf", "the error function erf(x)">;
def Flash_SqrtOp : Flash_UnaryOp<"sqrt", "sqrt(x)">;
def Flash_NegOp : Flash_UnaryOp<"neg", "-x">;

//===----------------------------------------------------------------------===//
// flash.bias_add
//===----------------------------------------------------------------------===//

def Flash_BiasAddOp : Flash_Op<"bias_add", [Pure, InferTypeOpAdaptor]> {
  let summary = "Adds a 1-D bias along one dimension.";
  let description = [{
    `result[..., i, ...] = input[..., i, ...] + bias[i]` where `i` indexes
    dimension `axis` (1 for NCHW channels, the last for a Linear layer).

    ```mlir
    %y = flash.bias_add %x, %b {axis = 1 : i64}
         : (tensor<1x16x8x8xf32>, tensor<16xf32>) -> tensor<1x16x8x8xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$input, Flash_Tensor1D:$bias, I64Attr:$axis);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input `,` $bias attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// flash.batch_matmul
//===----------------------------------------------------------------------===//

def Flash_BatchMatmulOp : Flash_Op<"batch_matmul", [Pure, InferTypeOpAdaptor]> {
  let summary = "Batched matrix product: BxMxK @ BxKxN -> BxMxN.";
  let description = [{
    `result[b, m, n] = sum_k lhs[b, m, k] * rhs[b, k, n]`.

    ```mlir
    %c = flash.batch_matmul %a, %b : (tensor<2x4x8xf32>, tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
    ```
  }];
  let arguments = (ins 3DTensorOf<[F32]>:$lhs, 3DTensorOf<[F32]>:$rhs);
  let results = (outs 3DTensorOf<[F32]>:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Layout ops: transpose, reshape, flatten, concat
//===----------------------------------------------------------------------===//

def Flash_TransposeOp : Flash_Op<"transpose", [Pure, InferTypeOpAdaptor]> {
  let summary = "Permutes dimensions: result dim i is input dim perm[i].";
  let description = [{
    As `np.transpose(x, perm)`. A constant operand folds.

    ```mlir
    %y = flash.transpose %x {permutation = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<8x4xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Flash_ReshapeOp : Flash_Op<"reshape", [Pure, InferTypeOpAdaptor]> {
  let summary = "Reinterprets the row-major elements with a new static shape.";
  let description = [{
    As `np.reshape(x, shape)` with every size given (no -1): the element
    counts must agree; the element type is kept (f32 or integer indices).
    A constant operand folds.

    ```mlir
    %y = flash.reshape %x {shape = array<i64: 2, 16>} : (tensor<4x8xf32>) -> tensor<2x16xf32>
    ```
  }];
  let arguments = (ins Flash_AnyTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Flash_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Flash_FlattenOp : Flash_Op<"flatten", [Pure, InferTypeOpAdaptor]> {
  let summary = "Collapses to 2-D: dims before `axis` and from `axis` on.";
  let description = [{
    As ONNX Flatten: `d0 x ... x d(axis-1)` by `d(axis) x ... x d(n-1)`
    (axis 1 turns NCHW into N x CHW). Decomposed into `flash.reshape`.
  }];
  let arguments = (ins Flash_Tensor:$input, I64Attr:$axis);
  let results = (outs Flash_Tensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Flash_ConcatOp : Flash_Op<"concat", [Pure, InferTypeOpAdaptor]> {
  let summary = "Joins tensors along `axis`; other dimensions must agree.";
  let description = [{
    As `np.concatenate(inputs, axis)`.

    ```mlir
    %y = flash.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Flash_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def Flash_SliceOp : Flash_Op<"slice", [Pure, InferTypeOpAdaptor]> {
  let summary = "A strided box of the input: `sizes[d]` elements from "
                "`starts[d]` every `steps[d]`.";
  let description = [{
    As NumPy basic slicing `x[s0:s0+n0*k0:k0, ...]` with the bounds already
    resolved (no negative or out-of-range indices): result dim d has
    `sizes[d]` elements, input index `starts[d] + i * steps[d]`. It is how
    importers express torch's `select`/`slice`/`split` and ONNX Slice/Split.
    A constant operand folds.

    ```mlir
    %y = flash.slice %x {starts = array<i64: 0, 8>, sizes = array<i64: 4, 8>, steps = array<i64: 1, 1>} : (tensor<4x24xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$steps);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Indexing: gather on run-time indices, integer to f32
//===----------------------------------------------------------------------===//

def Flash_GatherOp : Flash_Op<"gather", [Pure, InferTypeOpAdaptor]> {
  let summary = "The slices of `data` at integer `indices` along `axis`.";
  let description = [{
    As ONNX Gather and `np.take(data, indices, axis)`: the result has shape
    `data[:axis] + indices.shape + data[axis+1:]`. An embedding lookup is a
    gather along axis 0 of the table. An index in `[-n, n)` (n is data's
    size along `axis`) selects that slice, negative ones from the end.
    Where the indices are a function argument, the runtime rejects values
    outside that range before the call; inside the kernel an index is
    clamped to `[0, n)`, so no index can read outside `data`.

    ```mlir
    %e = flash.gather %table, %ids {axis = 0 : i64}
         : (tensor<1000x256xf32>, tensor<1x128xi64>) -> tensor<1x128x256xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$data, Flash_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Flash_CastOp : Flash_Op<"cast", [Pure, InferTypeOpAdaptor]> {
  let summary = "Integer tensor to f32, elementwise (as `x.astype(np.float32)`).";
  let description = [{
    Rounds to the nearest f32 (exact up to 2^24), as NumPy and torch do.
    How an integer input (an attention mask, a position) joins arithmetic.

    ```mlir
    %m = flash.cast %mask : (tensor<1x128xi64>) -> tensor<1x128xf32>
    ```
  }];
  let arguments = (ins Flash_IndexTensor:$input);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Flash_ReduceOp<string mnemonic, string what>
    : Flash_Op<mnemonic, [Pure, InferTypeOpAdaptor]> {
  let summary = "The " # what # " over `axes`.";
  let description = [{
    As NumPy's reduction with `axis=tuple(axes)` and `keepdims`: the reduced
    dimensions are removed, or kept with size 1. `axes` are distinct and in
    range; an empty list reduces nothing.
  }];
  let arguments = (ins Flash_Tensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Flash_ReduceSumOp : Flash_ReduceOp<"reduce_sum", "sum">;
def Flash_ReduceMeanOp : Flash_ReduceOp<"reduce_mean", "mean">;
def Flash_ReduceMaxOp : Flash_ReduceOp<"reduce_max", "maximum"> {
  let description = [{
    As NumPy's `np.max` with `axis=tuple(axes)` and `keepdims`: a NaN
    propagates. With `ignore_nan`, NaNs are skipped instead (IEEE maxNum),
    which is cheaper on CPUs without a NaN-propagating vector max; only a
    consumer whose result is NaN wherever the input had one anyway may ask
    for it (softmax: exp(x - max) turns the NaN back into the sum).
  }];
  let arguments = (ins Flash_Tensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims,
                   UnitAttr:$ignore_nan);
}

//===----------------------------------------------------------------------===//
// Normalizations (decomposed into the ops above by flash-decompose)
//===----------------------------------------------------------------------===//

def Flash_SoftmaxOp : Flash_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "exp(x - max) / sum(exp(x - max)) along `axis`.";
  let description = [{
    Numerically stable: the maximum along `axis` is subtracted first, so
    large inputs do not overflow.

    ```mlir
    %p = flash.softmax %x {axis = 1 : i64} : tensor<4x10xf32>
    ```
  }];
  let arguments = (ins Flash_Tensor:$input, I64Attr:$axis);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Flash_LayerNormOp : Flash_Op<"layer_norm", [Pure, InferTypeOpAdaptor]> {
  let summary = "Normalizes over the dimensions from `axis` on, then scales and shifts.";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + bias`, mean and (biased)
    variance over dimensions `axis..rank-1` (ONNX LayerNormalization, and
    torch.nn.LayerNorm with `normalized_shape` = those dimensions). `scale`
    and `bias` have the normalized shape. The variance is computed from
    `x - mean` (two passes), not as E[x^2] - E[x]^2, which cancels.
  }];
  let arguments = (ins Flash_Tensor:$input, Flash_Tensor:$scale,
                   Flash_Tensor:$bias, I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$input `,` $scale `,` $bias attr-dict `:` functional-type(operands, results)";
}

def Flash_BatchNormOp : Flash_Op<"batch_norm", [Pure, InferTypeOpAdaptor]> {
  let summary = "Inference batch normalization over channel dimension 1.";
  let description = [{
    `(x - mean[c]) / sqrt(variance[c] + epsilon) * scale[c] + bias[c]` with
    `c` the index in dimension 1 (NCHW, or NC). With constant statistics
    (a trained model) it folds to one multiply and one add per channel.
  }];
  let arguments = (ins Flash_Tensor:$input, Flash_Tensor1D:$scale,
                   Flash_Tensor1D:$bias, Flash_Tensor1D:$mean,
                   Flash_Tensor1D:$variance, F32Attr:$epsilon);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

class Flash_Pool2DOp<string mnemonic, string what, dag extra>
    : Flash_Op<mnemonic, [Pure, InferTypeOpAdaptor]> {
  let summary = "2-D " # what # " pooling of an NCHW tensor.";
  let description = [{
    Windows of `kernel` = [kh, kw] every `stride` = [sh, sw], after padding
    `[top, left, bottom, right]` (ONNX order): the result is
    `N x C x ((H + top + bottom - kh) / sh + 1) x (...)`. Max pooling pads
    with -inf; average pooling divides by the window size including padding
    when `count_include_pad` (PyTorch's default), else by the number of
    input elements in the window (ONNX's default).
  }];
  let arguments = !con((ins Flash_Tensor4D:$input,
                   ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>:$kernel,
                   ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>:$stride,
                   ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<4>]>:$padding), extra);
  let results = (outs Flash_Tensor4D:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Flash_MaxPool2DOp : Flash_Pool2DOp<"max_pool2d", "max", (ins)>;
def Flash_AvgPool2DOp : Flash_Pool2DOp<"avg_pool2d", "average",
    (ins DefaultValuedAttr<BoolAttr, "true">:$count_include_pad)>;

//===----------------------------------------------------------------------===//
// flash.attention
//===----------------------------------------------------------------------===//

def Flash_AttentionOp : Flash_Op<"attention", [Pure, InferTypeOpAdaptor]> {
  let summary = "Scaled dot-product attention softmax(q k^T * scale [+ mask]) v.";
  let description = [{
    `q` is `... x Sq x D`, `k` is `... x Sk x D`, `v` is `... x Sk x Dv`
    with the same leading (batch, head) dimensions; the result is
    `... x Sq x Dv`. `scale` defaults to 1/sqrt(D). With `causal`, query i
    attends to keys 0..i only (PyTorch's `is_causal`, top-left aligned).
    Decomposed by flash-decompose into batch_matmul, a stable softmax and
    batch_matmul.
  }];
  let arguments = (ins Flash_Tensor:$query, Flash_Tensor:$key, Flash_Tensor:$value,
                   DefaultValuedAttr<BoolAttr, "false">:$causal,
                   OptionalAttr<F32Attr>:$scale);
  let results = (outs Flash_Tensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value attr-dict `:` functional-type(operands, results)";
}

#endif // FLASH_OPS_TD
