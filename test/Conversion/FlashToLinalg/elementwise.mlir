// RUN: flash-opt %s --convert-flash-to-linalg --split-input-file | FileCheck %s

// Broadcast dimensions read index 0; missing leading dimensions are dropped.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<3x4x5xf32>
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%arg0, %arg1 : tensor<3x1x5xf32>, tensor<4x1xf32>) outs(%[[EMPTY]] : tensor<3x4x5xf32>)
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<3x1x5xf32>, %b: tensor<4x1xf32>) -> tensor<3x4x5xf32> {
  %0 = flash.add %a, %b : (tensor<3x1x5xf32>, tensor<4x1xf32>) -> tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}

// -----

// A size-1 dimension that is not broadcast keeps its index.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @add_same
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]]]
func.func @add_same(%a: tensor<1x6xf32>, %b: tensor<1x6xf32>) -> tensor<1x6xf32> {
  %0 = flash.add %a, %b : (tensor<1x6xf32>, tensor<1x6xf32>) -> tensor<1x6xf32>
  return %0 : tensor<1x6xf32>
}

// -----

// CHECK-LABEL: func.func @relu
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: arith.maximumf %{{.*}}, %[[ZERO]] : f32
func.func @relu(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = flash.relu %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
