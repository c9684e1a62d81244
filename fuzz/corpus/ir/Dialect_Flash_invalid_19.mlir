func.func @select_broadcast(%c: tensor<3xf32>, %a: tensor<4xf32>, %b: tensor<f32>) -> tensor<4xf32> {
  %0 = flash.select %c, %a, %b : (tensor<3xf32>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
