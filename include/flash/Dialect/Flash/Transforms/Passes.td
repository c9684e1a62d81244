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

#endif // FLASH_TRANSFORMS_PASSES_TD
