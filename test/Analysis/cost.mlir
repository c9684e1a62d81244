// The shared cost analysis: FLOPs, bytes and fused kernels per op.
// RUN: flash-opt %s --flash-print-cost -o /dev/null | FileCheck %s

// A matmul is a kernel of its own; bias add, relu and mul fuse into one
// elementwise kernel reading x once and writing once; the reshape is a view.
// CHECK-LABEL: cost of @layer
// CHECK: op flash.matmul kind=contraction kernel=0 flops=4096 in=1536 out=512
// CHECK: op flash.add kind=elementwise kernel=1 flops=128 in=576 out=512
// CHECK: op flash.relu kind=elementwise kernel=1 flops=128 in=512 out=512
// CHECK: op flash.mul kind=elementwise kernel=1 flops=128 in=1024 out=512
// CHECK: op flash.reshape kind=view kernel=-1 flops=0 in=0 out=0
// CHECK: kernel 0 kind=contraction ops=1 flops=4096 in=1536 out=512
// CHECK: kernel 1 kind=elementwise ops=3 flops=384 in=1088 out=512
func.func @layer(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<128xf32> {
  %0 = flash.matmul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = flash.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = flash.relu %1 : tensor<8x16xf32>
  %3 = flash.mul %2, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %4 = flash.reshape %3 {shape = array<i64: 128>} : (tensor<8x16xf32>) -> tensor<128xf32>
  return %4 : tensor<128xf32>
}

// A bias add and ReLU alone on a matmul's result are its epilogue (the
// sgemm ukernel applies them tile by tile): one contraction kernel.
// CHECK-LABEL: cost of @epilogue
// CHECK: op flash.add kind=elementwise kernel=0
// CHECK: op flash.relu kind=elementwise kernel=0
// CHECK: kernel 0 kind=contraction ops=3 flops=4352 in=1600 out=512
// CHECK-NOT: kernel 1
func.func @epilogue(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = flash.matmul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = flash.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = flash.relu %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}
