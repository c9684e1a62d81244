// Lowering of the whole-model primitives to Linalg on tensors.
// RUN: flash-opt %s --convert-flash-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @unary
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK: math.erf
// CHECK: linalg.generic
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
func.func @unary(%x: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
  %0 = flash.exp %x : tensor<4x5xf32>
  %1 = flash.gelu %x : tensor<4x5xf32>
  %2 = flash.sigmoid %x : tensor<4x5xf32>
  return %0, %1, %2 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[AXIS:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @bias_add
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[AXIS]], #[[ID]]]
// CHECK: arith.addf
func.func @bias_add(%x: tensor<2x3x4xf32>, %b: tensor<3xf32>) -> tensor<2x3x4xf32> {
  %0 = flash.bias_add %x, %b {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.fill
// CHECK: linalg.batch_matmul ins(%arg0, %arg1 : tensor<2x3x4xf32>, tensor<2x4x5xf32>)
func.func @batch_matmul(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = flash.batch_matmul %a, %b : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// CHECK-LABEL: func.func @layout
// CHECK: linalg.transpose ins(%arg0 : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<4x2x3xf32>) permutation = [2, 0, 1]
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [6, 4] : tensor<24xf32> into tensor<6x4xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x9xf32>
// CHECK: %[[I0:.*]] = tensor.insert_slice %arg0 into %[[E]][0, 0, 0] [2, 3, 4] [1, 1, 1]
// CHECK: tensor.insert_slice %arg1 into %[[I0]][0, 0, 4] [2, 3, 5] [1, 1, 1]
func.func @layout(%x: tensor<2x3x4xf32>, %y: tensor<2x3x5xf32>) -> (tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<2x3x9xf32>) {
  %0 = flash.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = flash.reshape %x {shape = array<i64: 6, 4>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %2 = flash.concat %x, %y {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x3x9xf32>
  return %0, %1, %2 : tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<2x3x9xf32>
}

// -----

// An empty piece of a concatenation inserts nothing (its offset, the end of
// the result, would be out of bounds).
// CHECK-LABEL: func.func @concat_empty
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0] [2, 8] [1, 1]
// CHECK-NOT: tensor.insert_slice
// CHECK: return
func.func @concat_empty(%x: tensor<2x8xf32>, %e: tensor<2x0xf32>) -> tensor<2x8xf32> {
  %0 = flash.concat %x, %e {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2x0xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// A slice is a strided extract_slice copied into a tensor of its own.
// CHECK-LABEL: func.func @slice
// CHECK: %[[V:.*]] = tensor.extract_slice %arg0[1, 0, 2] [2, 3, 2] [2, 1, 3] : tensor<5x3x9xf32> to tensor<2x3x2xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x2xf32>
// CHECK: linalg.copy ins(%[[V]] : tensor<2x3x2xf32>) outs(%[[E]] : tensor<2x3x2xf32>)
func.func @slice(%x: tensor<5x3x9xf32>) -> tensor<2x3x2xf32> {
  %0 = flash.slice %x {starts = array<i64: 1, 0, 2>, sizes = array<i64: 2, 3, 2>, steps = array<i64: 2, 1, 3>} : (tensor<5x3x9xf32>) -> tensor<2x3x2xf32>
  return %0 : tensor<2x3x2xf32>
}

// -----

// A reduction is one generic with reduction iterators into an identity
// fill; the mean divides afterwards; keepdims expands the unit dims back.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @reduce_mean
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ZERO]]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["reduction", "parallel", "reduction"]}
// CHECK: arith.addf
// CHECK: arith.constant 1.000000e+01 : f32
// CHECK: arith.divf
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2]] output_shape [1, 3, 1] : tensor<3xf32> into tensor<1x3x1xf32>
func.func @reduce_mean(%x: tensor<2x3x5xf32>) -> tensor<1x3x1xf32> {
  %0 = flash.reduce_mean %x {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x5xf32>) -> tensor<1x3x1xf32>
  return %0 : tensor<1x3x1xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_max
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: linalg.generic
// CHECK: arith.maximumf
func.func @reduce_max(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = flash.reduce_max %x {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// `ignore_nan` (softmax's maximum): IEEE maxNum, which skips NaNs.
// CHECK-LABEL: func.func @reduce_max_ignoring_nan
// CHECK: linalg.generic
// CHECK: arith.maxnumf
// CHECK-NOT: arith.maximumf
func.func @reduce_max_ignoring_nan(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = flash.reduce_max %x {axes = array<i64: 1>, ignore_nan} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Max pooling pads with -inf; average pooling without counting the padding
// divides by a constant of per-window element counts. Both are generics
// whose innermost loop runs along an output row (n, c, oh, kh, kw, ow).
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d3, d5 * 2 + d4)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>
// CHECK-LABEL: func.func @pools
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[NINF]]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #{{.*}}, #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.maximumf
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #{{.*}}, #[[OUT]]]
// CHECK: arith.addf
// CHECK: arith.constant dense<{{\[\[}}4.000000e+00, 6.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00
// CHECK: arith.divf
func.func @pools(%x: tensor<1x2x7x7xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %0 = flash.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  %1 = flash.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = false} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Stride 1: each channel's padded plane (9 wide, one extra row below) as one
// flat row; output j reads input j + 9*kh + kw, and the two columns past
// each 7-wide output row are dropped by an extract_slice.
// CHECK-DAG: #[[FIN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4 + d2 * 9 + d3)>
// CHECK-DAG: #[[FOUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>
// CHECK-LABEL: func.func @pools_stride_one
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 2, 1]
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x2x10x9xf32> into tensor<1x2x90xf32>
// CHECK: linalg.generic {indexing_maps = [#[[FIN]], #{{.*}}, #[[FOUT]]], iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.maximumf {{.*}} fastmath<nsz>
// CHECK: tensor.extract_slice {{.*}}[0, 0, 0, 0] [1, 2, 7, 7] [1, 1, 1, 1] : tensor<1x2x7x9xf32> to tensor<1x2x7x7xf32>
// CHECK: linalg.generic {indexing_maps = [#[[FIN]], #{{.*}}, #[[FOUT]]]
// CHECK: arith.addf
// CHECK: arith.divf
func.func @pools_stride_one(%x: tensor<1x2x7x7xf32>) -> (tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>) {
  %0 = flash.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x7x7xf32>) -> tensor<1x2x7x7xf32>
  %1 = flash.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = false} : (tensor<1x2x7x7xf32>) -> tensor<1x2x7x7xf32>
  return %0, %1 : tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>
}

// -----

// Every remaining elementwise op: one generic each, with its scalar body.
// CHECK-LABEL: func.func @elementwise_bodies
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.divf
// CHECK: math.powf
// CHECK: arith.maximumf
// CHECK: math.tanh
// CHECK: math.erf
// CHECK: math.sqrt
// CHECK: arith.negf
func.func @elementwise_bodies(%x: tensor<4x5xf32>, %y: tensor<5xf32>) -> tensor<4x5xf32> {
  %0 = flash.sub %x, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %1 = flash.mul %0, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %2 = flash.div %1, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %3 = flash.pow %2, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %4 = flash.max %3, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %5 = flash.tanh %4 : tensor<4x5xf32>
  %6 = flash.erf %5 : tensor<4x5xf32>
  %7 = flash.sqrt %6 : tensor<4x5xf32>
  %8 = flash.neg %7 : tensor<4x5xf32>
  return %8 : tensor<4x5xf32>
}
