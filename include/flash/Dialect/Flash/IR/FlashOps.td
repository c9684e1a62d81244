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
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Flash_Tensor:$result);
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
    weight `O x C x KH x KW` the result is `N x O x OH x OW` where
    `OH = (H + top + bottom - dilation_h * (KH - 1) - 1) / stride_h + 1`.

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
                   ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>:$dilation);
  let results = (outs Flash_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

#endif // FLASH_OPS_TD
