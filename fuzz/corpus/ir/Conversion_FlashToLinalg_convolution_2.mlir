func.func @depthwise(%x: tensor<2x6x9x9xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<2x6x9x9xf32> {
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 6 : i64} : (tensor<2x6x9x9xf32>, tensor<6x1x3x3xf32>) -> tensor<2x6x9x9xf32>
  return %0 : tensor<2x6x9x9xf32>
}
