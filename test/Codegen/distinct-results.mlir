// RUN: flash-opt %s --flash-distinct-results | FileCheck %s
// RUN: flash-opt %s --flash-to-llvm -o /dev/null
// RUN: flash-run %s | FileCheck %s --check-prefix=RAN

// A value returned twice (found by fuzz/FuzzFlashIR.cpp: upstream's
// buffer-results-to-out-params crashed on it) gets a copy per repeat.
// CHECK-LABEL: func.func @twice
// CHECK: %[[Y:.*]] = flash.gelu
// CHECK: %[[S:.*]] = flash.sigmoid
// CHECK: %[[C1:.*]] = bufferization.alloc_tensor() copy(%[[Y]])
// CHECK: %[[C2:.*]] = bufferization.alloc_tensor() copy(%[[Y]])
// CHECK: return %[[Y]], %[[C1]], %[[S]], %[[C2]]
// RAN-COUNT-4: wrote {{.*}} tensor<4x5xf32>
func.func @twice(%x: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
  %0 = flash.gelu %x : tensor<4x5xf32>
  %1 = flash.sigmoid %x : tensor<4x5xf32>
  return %0, %0, %1, %0 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>
}
