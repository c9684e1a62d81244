//===- Passes.td - Graph-level Flash passes ----------------*- tablegen -*-===//
#ifndef FLASH_TRANSFORMS_PASSES_TD
#define FLASH_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FlashDecompose : Pass<"flash-decompose"> {
  let summary = "Rewrite composite Flash ops into primitive Flash ops.";
  let description = [{
    softmax, layer_norm, batch_norm, attention and flatten are expressed in
    the primitive ops (reductions, elementwise ops, batch_matmul, reshape,
    transpose), at the graph level, so that constant folding, CSE and
    elementwise fusion see through them and every backend only lowers the
    primitives. Softmax subtracts the row maximum first (stable); layer_norm
    takes the variance of `x - mean` (two passes); batch_norm with constant
    statistics folds to one multiply-add per channel; attention builds its
    causal mask as a constant.
  }];
  let dependentDialects = ["::mlir::flash::FlashDialect"];
}

def FlashFoldBatchNorm : Pass<"flash-fold-batch-norm"> {
  let summary = "Fold per-channel constant scales and shifts (batch norms) "
                "into the preceding convolution's weights and bias.";
  let description = [{
    After flash-decompose a batch norm is `mul` by a per-channel constant
    and `add` of one. When the multiply's or add's other operand is a
    convolution with constant weight (and bias) used nowhere else, the scale
    is multiplied into each output channel's filter and bias, the shift
    added to the bias: `conv(x, W, b) * s + t = conv(x, W * s, b * s + t)`.
    The normalization then costs nothing at run time.

    ```mlir
    %y = flash.conv2d %x, %w, %b ...
    %z = flash.mul %y, %s : (tensor<1x8x4x4xf32>, tensor<8x1x1xf32>) -> ...
    // becomes
    %z = flash.conv2d %x, %w_scaled, %b_scaled ...
    ```
  }];
  let dependentDialects = ["::mlir::flash::FlashDialect"];
}

def FlashCheckConstantSizes : Pass<"flash-check-constant-sizes", "::mlir::ModuleOp"> {
  let summary = "Refuse programs whose constants hold more than a limit.";
  let description = [{
    A compile's memory is bounded by what its constants hold: folding
    makes constants of at most 2^16 elements, and every later stage keeps
    a constant's bytes a few times over (LLVM's global, the object's data:
    a 1.6 GB constant took 8.1 GB and 54 s to JIT-compile here, so the
    default 2 GiB keeps a compile near 10 GB).
    A splat constant is a few bytes of text but as many bytes as its type
    once it is laid out in memory (packed into the sgemm panels, or the
    data of a global), so it counts at its full size. Past the limit the
    compile stops here, with an error on the constant that crossed it,
    instead of exhausting the machine's memory later.
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"int64_t(2) << 30",
           "The most bytes all constants of the program may hold together">
  ];
}

#endif // FLASH_TRANSFORMS_PASSES_TD
