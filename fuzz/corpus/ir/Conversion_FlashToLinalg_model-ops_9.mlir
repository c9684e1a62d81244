func.func @elementwise_bodies(%x: tensor<4x5xf32>, %y: tensor<5xf32>) -> tensor<4x5xf32> {
  %0 = flash.sub %x, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %1 = flash.mul %0, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %2 = flash.div %1, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %3 = flash.pow %2, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %4 = flash.max %3, %y : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %5 = flash.tanh %4 : tensor<4x5xf32>
  %6 = flash.erf %5 : tensor<4x5xf32>
  %7 = flash.sqrt %6 : tensor<4x5xf32>
  %8 = flash.neg %7 : tensor<4x5xf32>
  return %8 : tensor<4x5xf32>
}
