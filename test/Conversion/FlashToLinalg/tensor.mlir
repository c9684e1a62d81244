// RUN: flash-opt %s --convert-flash-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @constant
// CHECK: %[[C:.*]] = arith.constant dense<[1.000000e+00, -2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2xf32> {
  %0 = flash.constant dense<[1.0, -2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}
