// RUN: flash-opt %s --convert-flash-to-linalg --split-input-file | FileCheck %s

// A gather is one linalg.generic over the result reading the indices; the
// body wraps a negative index, clamps it into [0, n) and extracts the
// element of `data` at it (the other coordinates are the loop's own).
// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-LABEL: func.func @gather_axis1
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%arg1 : tensor<2x3xi64>) outs(%{{.*}} : tensor<5x2x3x4xf32>)
// CHECK: %[[I:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-DAG: %[[N:.*]] = arith.constant 7 : index
// CHECK-DAG: %[[LAST:.*]] = arith.constant 6 : index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[I]]
// CHECK: %[[WRAPPED:.*]] = arith.addi %[[I]], %[[N]]
// CHECK: %[[SEL:.*]] = arith.select %[[NEG]], %[[WRAPPED]], %[[I]]
// CHECK: %[[LO:.*]] = arith.maxsi %[[SEL]]
// CHECK: %[[CLAMPED:.*]] = arith.minsi %[[LO]], %[[LAST]]
// CHECK: %[[D0:.*]] = linalg.index 0
// CHECK: %[[D3:.*]] = linalg.index 3
// CHECK: tensor.extract %arg0[%[[D0]], %[[CLAMPED]], %[[D3]]] : tensor<5x7x4xf32>
func.func @gather_axis1(%data: tensor<5x7x4xf32>, %ids: tensor<2x3xi64>) -> tensor<5x2x3x4xf32> {
  %0 = flash.gather %data, %ids {axis = 1 : i64} : (tensor<5x7x4xf32>, tensor<2x3xi64>) -> tensor<5x2x3x4xf32>
  return %0 : tensor<5x2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @cast_i32
// CHECK: linalg.generic
// CHECK: arith.sitofp %{{.*}} : i32 to f32
func.func @cast_i32(%x: tensor<3x5xi32>) -> tensor<3x5xf32> {
  %0 = flash.cast %x : (tensor<3x5xi32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Comparisons yield 1.0 or 0.0: not_equal is unordered (true for NaN,
// so not_equal(x, x) is isnan), the others ordered.
// CHECK-LABEL: func.func @compare_select
// CHECK: arith.cmpf une
// CHECK: arith.select %{{.*}}, %cst{{.*}}, %cst
// CHECK: arith.cmpf olt
// CHECK: arith.cmpf une, %{{.*}}, %{{.*}} : f32
// CHECK: arith.select
func.func @compare_select(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = flash.not_equal %a, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = flash.less %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %2 = flash.select %1, %0, %b : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %2 : tensor<4x8xf32>
}
