// RUN: flash-opt %s --flash-constants-as-bytes | FileCheck %s
// RUN: flash-opt %s --flash-constants-as-bytes="min-bytes=1024" | FileCheck %s --check-prefix=LARGE
// RUN: flash-opt %s --flash-loops-to-llvm | FileCheck %s --check-prefix=LLVM

// A 2-D f32 weight (4x16 floats = 256 bytes) becomes 256 bytes read through
// a view of its original type; the bytes are the floats' little-endian
// encoding (1.0 = 0x3F800000).
// CHECK-LABEL: memref.global "private" constant @w : memref<256xi8> = dense<"0x0000803F00000040
// CHECK-SAME: {alignment = 64 : i64}
// LLVM: llvm.mlir.global private constant @w(dense<"0x0000803F{{.*}}> : tensor<256xi8>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<256 x i8>
// LARGE: memref.global "private" constant @w : memref<4x16xf32>
memref.global "private" constant @w : memref<4x16xf32> = dense<[
  [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
  [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
  [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
  [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]]>

// A splat stores one element, a small table stays as it is (LLVM may fold
// loads from it), and a global that is written is not a constant.
// CHECK: memref.global "private" constant @zeros : memref<64x64xf32> = dense<0.0
// CHECK: memref.global "private" constant @small : memref<2x2xf32>
// CHECK: memref.global "private" @state : memref<8x16xf32>
memref.global "private" constant @zeros : memref<64x64xf32> = dense<0.0>
memref.global "private" constant @small : memref<2x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0]]>
memref.global "private" @state : memref<8x16xf32> = uninitialized

// CHECK-LABEL: func.func @reads
// CHECK: %[[RAW:.*]] = memref.get_global @w : memref<256xi8>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[W:.*]] = memref.view %[[RAW]][%[[C0]]][] : memref<256xi8> to memref<4x16xf32>
// CHECK: memref.load %[[W]]
// CHECK: memref.get_global @small : memref<2x2xf32>
func.func @reads(%i: index, %j: index) -> (f32, f32) {
  %w = memref.get_global @w : memref<4x16xf32>
  %a = memref.load %w[%i, %j] : memref<4x16xf32>
  %s = memref.get_global @small : memref<2x2xf32>
  %b = memref.load %s[%i, %j] : memref<2x2xf32>
  return %a, %b : f32, f32
}
