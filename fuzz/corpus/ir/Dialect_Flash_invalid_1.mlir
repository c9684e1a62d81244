func.func @matmul_rank(%a: tensor<4x8x2xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = flash.matmul %a, %b : (tensor<4x8x2xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
