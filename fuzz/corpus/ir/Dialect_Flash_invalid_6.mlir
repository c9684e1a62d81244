func.func @relu_type(%a: tensor<3x4xf32>) -> tensor<4x3xf32> {
  %0 = "flash.relu"(%a) : (tensor<3x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
