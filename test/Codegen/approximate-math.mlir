// RUN: flash-opt %s --flash-approximate-math | FileCheck %s

// exp as a polynomial (arith only); pow with a constant exponent as
// multiplications or sqrt; any other exponent stays a powf call.
// CHECK-LABEL: func.func @math
// CHECK-NOT: math.exp
// CHECK: %[[SQ:.*]] = arith.mulf %[[X:arg0]], %[[X]] : f32
// CHECK: %[[CUBE:.*]] = arith.mulf %[[X]], %[[SQ]] : f32
// CHECK: %[[ROOT:.*]] = math.sqrt %[[X]] : f32
// CHECK: math.powf %[[X]], %{{.*}} : f32
func.func @math(%x: f32) -> (f32, f32, f32, f32) {
  %three = arith.constant 3.0 : f32
  %half = arith.constant 0.5 : f32
  %other = arith.constant 2.7 : f32
  %e = math.exp %x : f32
  %cube = math.powf %x, %three : f32
  %root = math.powf %x, %half : f32
  %p = math.powf %x, %other : f32
  return %e, %cube, %root, %p : f32, f32, f32, f32
}
