// Malformed IR: a located diagnostic and a non-zero exit, never a crash.
// RUN: not flash-opt %s 2>&1 | FileCheck %s
// RUN: not flash-run %s 2>&1 | FileCheck %s --check-prefixes=CHECK,COMPILE
// RUN: not flash-opt %S/Inputs/bad_shapes.mlir 2>&1 | FileCheck %s --check-prefix=SHAPES
// RUN: not flash-run %S/Inputs/bad_shapes.mlir 2>&1 | FileCheck %s --check-prefix=SHAPES
// RUN: not flash-run %S/Inputs/no_such_file.mlir 2>&1 | FileCheck %s --check-prefix=MISSING

// COMPILE: flash-run: compilation failed:
// CHECK: malformed.mlir:[[@LINE+5]]:{{[0-9]+}}: error: {{.*}}
// SHAPES: bad_shapes.mlir:3:8: error: 'flash.matmul' op contracting dimensions differ
// MISSING: flash-run: cannot read '{{.*}}no_such_file.mlir'
func.func @broken(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = flash.relu %a : tensor<4x4xf32>
  return %0 : tensor<4x4xf32
}
