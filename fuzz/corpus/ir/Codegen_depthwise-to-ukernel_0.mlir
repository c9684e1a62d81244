func.func @padded_relu6(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x5x5xf32> {
  %w = flash.constant dense<0.5> : tensor<8x1x3x3xf32>
  %b = flash.constant dense<0.25> : tensor<8xf32>
  %zero = flash.constant dense<0.0> : tensor<f32>
  %m6 = flash.constant dense<-6.0> : tensor<f32>
  %0 = flash.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 8} : (tensor<1x8x10x10xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x5x5xf32>
  %1 = flash.max %0, %zero : (tensor<1x8x5x5xf32>, tensor<f32>) -> tensor<1x8x5x5xf32>
  %2 = flash.neg %1 : tensor<1x8x5x5xf32>
  %3 = flash.max %2, %m6 : (tensor<1x8x5x5xf32>, tensor<f32>) -> tensor<1x8x5x5xf32>
  %4 = flash.neg %3 : tensor<1x8x5x5xf32>
  return %4 : tensor<1x8x5x5xf32>
}
