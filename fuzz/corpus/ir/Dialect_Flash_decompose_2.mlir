func.func @batch_norm(%x: tensor<2x3x5x5xf32>, %c: tensor<3xf32>) -> tensor<2x3x5x5xf32> {
  %0 = flash.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-5 : f32} : (tensor<2x3x5x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x5x5xf32>
  return %0 : tensor<2x3x5x5xf32>
}
