func.func @transpose_perm(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = flash.transpose %a {permutation = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}
