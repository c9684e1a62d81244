func.func @batch_norm_params(%a: tensor<2x3x4x4xf32>, %c: tensor<4xf32>) -> tensor<2x3x4x4xf32> {
  %0 = flash.batch_norm %a, %c, %c, %c, %c {epsilon = 1.0e-5 : f32} : (tensor<2x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}
