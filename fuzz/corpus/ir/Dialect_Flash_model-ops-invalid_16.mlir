func.func @batch_norm_rank(%a: tensor<3xf32>, %c: tensor<3xf32>) -> tensor<3xf32> {
  %0 = flash.batch_norm %a, %c, %c, %c, %c {epsilon = 1.0e-5 : f32} : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
