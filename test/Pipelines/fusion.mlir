// Elementwise chains fuse into one loop nest in the flash-to-linalg stage.
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg | FileCheck %s
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg="fuse-elementwise=false" | FileCheck %s --check-prefix=NOFUSE

// add + add + relu with a broadcast bias: one linalg.generic.
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %arg1, %arg2 : tensor<64x128xf32>, tensor<128xf32>, tensor<64x128xf32>)
// CHECK: arith.addf
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// NOFUSE-LABEL: func.func @chain
// NOFUSE-COUNT-3: linalg.generic
func.func @chain(%x: tensor<64x128xf32>, %b: tensor<128xf32>, %r: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %0 = flash.add %x, %b : (tensor<64x128xf32>, tensor<128xf32>) -> tensor<64x128xf32>
  %1 = flash.add %0, %r : (tensor<64x128xf32>, tensor<64x128xf32>) -> tensor<64x128xf32>
  %2 = flash.relu %1 : tensor<64x128xf32>
  return %2 : tensor<64x128xf32>
}

// The bias-add and relu epilogue of a matmul fuse into one loop over the
// matmul's result.
// CHECK-LABEL: func.func @dense_relu
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[MM]], %arg2 : tensor<8x16xf32>, tensor<16xf32>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
func.func @dense_relu(%x: tensor<8x32xf32>, %w: tensor<32x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = flash.matmul %x, %w : (tensor<8x32xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
  %1 = flash.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = flash.relu %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}
