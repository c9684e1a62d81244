func.func @grouped(%x: tensor<1x8x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %w = flash.constant dense<0.5> : tensor<4x2x3x3xf32>
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 4} : (tensor<1x8x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}
