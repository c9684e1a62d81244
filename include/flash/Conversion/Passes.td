//===- Passes.td - Flash conversion passes -----------------*- tablegen -*-===//
#ifndef FLASH_CONVERSION_PASSES_TD
#define FLASH_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertFlashToLinalg : Pass<"convert-flash-to-linalg", "ModuleOp"> {
  let summary = "Lower Flash ops to Linalg on tensors.";
  let description = [{
    Rewrites every `flash` op into Linalg named or generic ops on tensors
    (plus `tensor.pad`, `tensor.empty` and `arith.constant`). After this pass
    no `flash` op is left; an op without a lowering is an error.
  }];
  let options = [
    Option<"poolFlatRows", "pool-flat-rows", "bool", /*default=*/"true",
           "Stride-1 pooling over each channel's padded plane as one flat "
           "row (vectorizes in generated loops); off, the plain window "
           "generic that flash-pool-to-ukernel replaces">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // FLASH_CONVERSION_PASSES_TD
