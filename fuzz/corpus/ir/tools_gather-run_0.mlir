func.func @embed(%table: tensor<10x4xf32>, %ids: tensor<1x3xi64>) -> tensor<1x3x4xf32> {
  %0 = flash.gather %table, %ids {axis = 0 : i64} : (tensor<10x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
  return %0 : tensor<1x3x4xf32>
}
