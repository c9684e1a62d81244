// RUN: flash-opt %s --flash-conv-to-im2col --split-input-file | FileCheck %s --check-prefixes=CHECK,AUTO
// RUN: flash-opt %s --flash-conv-to-im2col="batch-as-columns=false" --split-input-file | FileCheck %s --check-prefixes=CHECK,NEVER
// RUN: flash-opt %s --flash-conv-to-im2col="batch-as-columns=true" --split-input-file | FileCheck %s --check-prefix=COLUMNS
// RUN: not flash-opt %s --flash-conv-to-im2col="batch-as-columns=maybe" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: flash-conv-to-im2col: batch-as-columns must be auto, true or false, got 'maybe'

// The convolution becomes a patch gather that keeps OH and OW as separate
// loops (the innermost loop is a plain copy along a row) and a contraction of
// the (F x C*KH*KW) filter with the (C*KH*KW x OH*OW) patches of each image.
// CHECK-DAG: #[[GATHER:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 floordiv 9, d2 + (d1 floordiv 3) mod 3, d3 + d1 mod 3)>
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[FILTER:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[PATCHES:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @conv
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[GATHER]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : tensor<2x3x8x8xf32>) outs(%{{.*}} : tensor<2x27x6x6xf32>)
// CHECK: %[[P3:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0], [1], [2, 3]] : tensor<2x27x6x6xf32> into tensor<2x27x36xf32>
// CHECK: %[[F:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0], [1, 2, 3]] : tensor<4x3x3x3xf32> into tensor<4x27xf32>
// CHECK: %[[I:.*]] = tensor.collapse_shape %arg2 {{\[\[}}0], [1], [2, 3]] : tensor<2x4x6x6xf32> into tensor<2x4x36xf32>
// CHECK: linalg.generic {indexing_maps = [#[[FILTER]], #[[PATCHES]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[F]], %[[P3]] : tensor<4x27xf32>, tensor<2x27x36xf32>) outs(%[[I]] : tensor<2x4x36xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.expand_shape {{.*}} into tensor<2x4x6x6xf32>
// CHECK-NOT: linalg.conv_2d
// With batch-as-columns, the patches of both images are the columns of
// one (27 x 72) matrix, the product starts from zero, and a generic adds
// it (read as [o, n, p]) to the output in NCHW order.
// The gather loops over (n, k, y, x), images outermost, into [k, n, y, x].
// COLUMNS-DAG: #[[GATHER:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 floordiv 9, d2 + (d1 floordiv 3) mod 3, d3 + d1 mod 3)>
// COLUMNS-DAG: #[[KN:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, d2, d3)>
// COLUMNS-DAG: #[[PRODUCT:.*]] = affine_map<(d0, d1, d2) -> (d1, d0, d2)>
// COLUMNS-LABEL: func.func @conv
// COLUMNS: %[[P:.*]] = linalg.generic {indexing_maps = [#[[GATHER]], #[[KN]]], {{.*}}} ins(%arg0 : tensor<2x3x8x8xf32>) outs(%{{.*}} : tensor<27x2x6x6xf32>)
// COLUMNS: %[[P2:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0], [1, 2, 3]] : tensor<27x2x6x6xf32> into tensor<27x72xf32>
// COLUMNS: %[[ZERO:.*]] = linalg.fill
// COLUMNS: %[[PROD:.*]] = linalg.matmul ins(%{{.*}}, %[[P2]] : tensor<4x27xf32>, tensor<27x72xf32>) outs(%[[ZERO]] : tensor<4x72xf32>)
// COLUMNS: %[[PROD3:.*]] = tensor.expand_shape %[[PROD]] {{\[\[}}0], [1, 2]] {{.*}} into tensor<4x2x36xf32>
// COLUMNS: linalg.generic {indexing_maps = [#[[PRODUCT]], {{.*}}} ins(%[[PROD3]] : tensor<4x2x36xf32>) outs(%{{.*}} : tensor<2x4x36xf32>)
// COLUMNS: arith.addf
// COLUMNS: tensor.expand_shape {{.*}} into tensor<2x4x6x6xf32>
// COLUMNS-NOT: linalg.conv_2d
func.func @conv(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %init: tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  return %0 : tensor<2x4x6x6xf32>
}

// -----

// Strides and dilations scale the row and column of the gather.
// CHECK-DAG: #[[GATHER:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 floordiv 6, d2 * 2 + ((d1 floordiv 3) mod 2) * 3, d3 * 3 + (d1 mod 3) * 2)>
// CHECK-LABEL: func.func @strided_dilated
// CHECK: linalg.generic {indexing_maps = [#[[GATHER]], {{.*}} outs(%{{.*}} : tensor<1x12x4x3xf32>)
func.func @strided_dilated(%x: tensor<1x2x11x11xf32>, %w: tensor<5x2x2x3xf32>, %init: tensor<1x5x4x3xf32>) -> tensor<1x5x4x3xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<[3, 2]> : tensor<2xi64>, strides = dense<[2, 3]> : tensor<2xi64>} ins(%x, %w : tensor<1x2x11x11xf32>, tensor<5x2x2x3xf32>) outs(%init : tensor<1x5x4x3xf32>) -> tensor<1x5x4x3xf32>
  return %0 : tensor<1x5x4x3xf32>
}

// -----

// By default (auto), 16 small images (36 pixels each, 576 columns in all)
// are one product: per-image products would re-pack the filter for 36
// columns each (Ukernels.h's convBatchAsColumns); batch-as-columns=false
// keeps one product per image.
// CHECK-LABEL: func.func @small_images
// AUTO: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x27xf32>, tensor<27x576xf32>)
// NEVER-NOT: linalg.matmul
// NEVER: ins(%{{.*}}, %{{.*}} : tensor<4x27xf32>, tensor<16x27x36xf32>) outs(%{{.*}} : tensor<16x4x36xf32>)
// CHECK-NOT: linalg.conv_2d
func.func @small_images(%x: tensor<16x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %init: tensor<16x4x6x6xf32>) -> tensor<16x4x6x6xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<16x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<16x4x6x6xf32>) -> tensor<16x4x6x6xf32>
  return %0 : tensor<16x4x6x6xf32>
}

// -----

// A 1x1 convolution with unit strides is a matrix product over the input
// itself: no gather, the input collapsed to (N, C, H*W).
// CHECK-LABEL: func.func @pointwise
// CHECK-NOT: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0], [1], [2, 3]] : tensor<1x8x5x7xf32> into tensor<1x8x35xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
func.func @pointwise(%x: tensor<1x8x5x7xf32>, %w: tensor<6x8x1x1xf32>, %init: tensor<1x6x5x7xf32>) -> tensor<1x6x5x7xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x5x7xf32>, tensor<6x8x1x1xf32>) outs(%init : tensor<1x6x5x7xf32>) -> tensor<1x6x5x7xf32>
  return %0 : tensor<1x6x5x7xf32>
}

// -----

// A strided 1x1 convolution still gathers (every other pixel).
// CHECK-LABEL: func.func @pointwise_strided
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<1x8x6x6xf32>) outs(%{{.*}} : tensor<1x8x3x3xf32>)
func.func @pointwise_strided(%x: tensor<1x8x6x6xf32>, %w: tensor<6x8x1x1xf32>, %init: tensor<1x6x3x3xf32>) -> tensor<1x6x3x3xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x8x6x6xf32>, tensor<6x8x1x1xf32>) outs(%init : tensor<1x6x3x3xf32>) -> tensor<1x6x3x3xf32>
  return %0 : tensor<1x6x3x3xf32>
}

// -----

// A grouped convolution (FlashToLinalg's generic: 2 images, 3 groups of 2
// channels, 4 outputs per group) is a batch of 6 products over b = n*3 + g:
// the input read as 6 images of 2 channels, the filter of group b mod 3.
#gin = affine_map<(n, g, f, c, y, i, j, x) -> (n, g, c, y + i, x + j)>
#gw = affine_map<(n, g, f, c, y, i, j, x) -> (g, f, c, i, j)>
#gout = affine_map<(n, g, f, c, y, i, j, x) -> (n, g, f, y, x)>
// CHECK-DAG: #[[GFILTER:.*]] = affine_map<(d0, d1, d2, d3) -> (d0 mod 3, d1, d3)>
// CHECK-LABEL: func.func @grouped_images
// CHECK: %[[IMAGES:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3], [4]] : tensor<2x3x2x8x8xf32> into tensor<6x2x8x8xf32>
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[IMAGES]] : tensor<6x2x8x8xf32>) outs(%{{.*}} : tensor<6x18x6x6xf32>)
// CHECK-SAME: flash.im2col = array<i64: 3, 3, 1, 1, 1, 1>
// CHECK: %[[F:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0], [1], [2, 3, 4]] : tensor<3x4x2x3x3xf32> into tensor<3x4x18xf32>
// CHECK: linalg.generic {indexing_maps = [#[[GFILTER]], {{.*}}} ins(%[[F]], %{{.*}} : tensor<3x4x18xf32>, tensor<6x18x36xf32>) outs(%{{.*}} : tensor<6x4x36xf32>)
// CHECK: tensor.expand_shape {{.*}} into tensor<2x3x4x6x6xf32>
func.func @grouped_images(%x: tensor<2x3x2x8x8xf32>, %w: tensor<3x4x2x3x3xf32>, %init: tensor<2x3x4x6x6xf32>) -> tensor<2x3x4x6x6xf32> {
  %0 = linalg.generic {indexing_maps = [#gin, #gw, #gout], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : tensor<2x3x2x8x8xf32>, tensor<3x4x2x3x3xf32>) outs(%init : tensor<2x3x4x6x6xf32>) attrs = {flash.grouped_conv = array<i64: 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x3x4x6x6xf32>
  return %0 : tensor<2x3x4x6x6xf32>
}
