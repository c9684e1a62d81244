func.func @bias_and_scalar(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = flash.constant dense<1.0> : tensor<2x1x3x3xf32>
  %b = flash.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = flash.constant dense<3.0> : tensor<f32>
  %0 = flash.conv2d %x, %w, %b {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %1 = flash.mul %s, %0 : (tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %1 : tensor<1x2x4x4xf32>
}
