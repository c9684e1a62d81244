func.func @tuned(%a: tensor<7x5xf32>, %b: tensor<5x3xf32>) -> tensor<7x3xf32> {
  %0 = flash.matmul %a, %b {flash.sgemm = array<i64: 48, 128, 512, 1, 3>} : (tensor<7x5xf32>, tensor<5x3xf32>) -> tensor<7x3xf32>
  return %0 : tensor<7x3xf32>
}
