func.func @gather_axis1(%data: tensor<5x7x4xf32>, %ids: tensor<2x3xi64>) -> tensor<5x2x3x4xf32> {
  %0 = flash.gather %data, %ids {axis = 1 : i64} : (tensor<5x7x4xf32>, tensor<2x3xi64>) -> tensor<5x2x3x4xf32>
  return %0 : tensor<5x2x3x4xf32>
}
