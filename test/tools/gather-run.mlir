// flash-run on an integer (index) input: .npy int64 ids, random in-range
// ids, and an out-of-range id rejected before the call.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/t.npy', np.arange(40, dtype=np.float32).reshape(10, 4)); np.save('%t/ids.npy', np.array([[9, 0, -1]])); np.save('%t/bad.npy', np.array([[1, 10, 2]])); np.save('%t/i32.npy', np.array([[1, 2, 3]], np.int32))"
// RUN: flash-run %s --input %t/t.npy --input %t/ids.npy --output-dir %t/out | FileCheck %s --check-prefix=RUNOUT
// RUN: %python -c "import numpy as np; y = np.load('%t/out/out0.npy'); t = np.load('%t/t.npy'); print('MATCH' if (y == t[[[9, 0, 9]]]).all() else 'DIFFER')" | FileCheck %s --check-prefix=CHECKED
// RUN: flash-run %s --repeat 2 | FileCheck %s --check-prefix=RANDOM
// RUN: not flash-run %s --input %t/t.npy --input %t/bad.npy 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not flash-run %s --input %t/t.npy --input %t/i32.npy 2>&1 | FileCheck %s --check-prefix=DTYPE

// RUNOUT: wrote {{.*}}out0.npy tensor<1x3x4xf32>
// CHECKED: MATCH
// RANDOM: time per call: {{[0-9.]+}} ms (median of 2)
// RANGE: 'embed': input 1 (tensor<1x3xi64>) holds the index 10 at flat position 1, outside [-10, 10) of the flash.gather it feeds
// DTYPE: i32.npy: tensor<1x3xi32> does not match input 1 of 'embed', tensor<1x3xi64>
func.func @embed(%table: tensor<10x4xf32>, %ids: tensor<1x3xi64>) -> tensor<1x3x4xf32> {
  %0 = flash.gather %table, %ids {axis = 0 : i64} : (tensor<10x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
  return %0 : tensor<1x3x4xf32>
}
