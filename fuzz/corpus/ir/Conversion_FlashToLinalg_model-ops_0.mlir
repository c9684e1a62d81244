func.func @unary(%x: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
  %0 = flash.exp %x : tensor<4x5xf32>
  %1 = flash.gelu %x : tensor<4x5xf32>
  %2 = flash.sigmoid %x : tensor<4x5xf32>
  return %0, %1, %2 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>
}
