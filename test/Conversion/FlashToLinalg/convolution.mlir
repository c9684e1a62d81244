// RUN: flash-opt %s --convert-flash-to-linalg --split-input-file | FileCheck %s

// Padding becomes tensor.pad with zeros ([top, left, bottom, right] ->
// low [0, 0, top, left], high [0, 0, bottom, right]); the bias is broadcast
// into the accumulator.
// CHECK-LABEL: func.func @conv_bias_pad
// CHECK: %[[PAD:.*]] = tensor.pad %arg0 low[0, 0, 1, 2] high[0, 0, 3, 0]
// CHECK: tensor<1x3x8x8xf32> to tensor<1x3x12x10xf32>
// CHECK: %[[BIAS:.*]] = linalg.broadcast ins(%arg2 : tensor<4xf32>) outs(%{{.*}} : tensor<1x4x5x8xf32>) dimensions = [0, 2, 3]
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>}
// CHECK-SAME: ins(%[[PAD]], %arg1 : tensor<1x3x12x10xf32>, tensor<4x3x3x3xf32>) outs(%[[BIAS]] : tensor<1x4x5x8xf32>)
func.func @conv_bias_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x5x8xf32> {
  %0 = flash.conv2d %x, %w, %b {stride = array<i64: 2, 1>, padding = array<i64: 1, 2, 3, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x8xf32>
  return %0 : tensor<1x4x5x8xf32>
}

// -----

// No padding, no bias: zero-filled accumulator, dilations kept.
// CHECK-LABEL: func.func @conv_dilated
// CHECK-NOT: tensor.pad
// CHECK: %[[FILL:.*]] = linalg.fill
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
// CHECK-SAME: ins(%arg0, %arg1 : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%[[FILL]] : tensor<2x4x5x5xf32>)
func.func @conv_dilated(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x5x5xf32> {
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x5x5xf32>
  return %0 : tensor<2x4x5x5xf32>
}

// -----

// A grouped (here depthwise) convolution: channels split into (groups,
// per group), a generic whose loops run (n, g, f, c, oh, kh, kw, ow): the
// output row innermost, vectorizable; the result collapsed back.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d3, d4 + d5, d6 + d7)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d3, d5, d6)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d4, d7)>
// CHECK-LABEL: func.func @depthwise
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] output_shape [2, 6, 1, 11, 11]
// CHECK: tensor.expand_shape %arg1 {{\[\[}}0, 1], [2], [3], [4]] output_shape [6, 1, 1, 3, 3]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<2x6x1x9x9xf32> into tensor<2x6x9x9xf32>
func.func @depthwise(%x: tensor<2x6x9x9xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<2x6x9x9xf32> {
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 6 : i64} : (tensor<2x6x9x9xf32>, tensor<6x1x3x3xf32>) -> tensor<2x6x9x9xf32>
  return %0 : tensor<2x6x9x9xf32>
}
