func.func @elementwise(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = flash.sub %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = flash.mul %0, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = flash.div %1, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = flash.pow %2, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = flash.max %3, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = flash.exp %4 : tensor<2x3xf32>
  %6 = flash.tanh %5 : tensor<2x3xf32>
  %7 = flash.sigmoid %6 : tensor<2x3xf32>
  %8 = flash.gelu %7 : tensor<2x3xf32>
  %9 = flash.erf %8 : tensor<2x3xf32>
  %10 = flash.sqrt %9 : tensor<2x3xf32>
  %11 = flash.neg %10 : tensor<2x3xf32>
  %12 = flash.bias_add %11, %y {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %12 : tensor<2x3xf32>
}

func.func @structure(%a: tensor<2x4x8xf32>, %b: tensor<2x8x5xf32>) -> (tensor<5x8xf32>, tensor<2x4xf32>, tensor<8x5xf32>) {
  %0 = flash.batch_matmul %a, %b : (tensor<2x4x8xf32>, tensor<2x8x5xf32>) -> tensor<2x4x5xf32>
  %1 = flash.transpose %0 {permutation = array<i64: 2, 0, 1>} : (tensor<2x4x5xf32>) -> tensor<5x2x4xf32>
  %2 = flash.reshape %1 {shape = array<i64: 5, 8>} : (tensor<5x2x4xf32>) -> tensor<5x8xf32>
  %3 = flash.reduce_sum %a {axes = array<i64: 2>} : (tensor<2x4x8xf32>) -> tensor<2x4xf32>
  %4 = flash.reduce_mean %a {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x4x8xf32>) -> tensor<1x4x1xf32>
  %5 = flash.reduce_max %4 {axes = array<i64: 0>} : (tensor<1x4x1xf32>) -> tensor<4x1xf32>
  %6 = flash.flatten %a {axis = 2 : i64} : (tensor<2x4x8xf32>) -> tensor<8x8xf32>
  %7 = flash.concat %2, %6 {axis = 0 : i64} : (tensor<5x8xf32>, tensor<8x8xf32>) -> tensor<13x8xf32>
  %8 = flash.reshape %b {shape = array<i64: 16, 5>} : (tensor<2x8x5xf32>) -> tensor<16x5xf32>
  %9 = flash.concat %6, %6 {axis = 1 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x16xf32>
  %10 = flash.matmul %9, %8 : (tensor<8x16xf32>, tensor<16x5xf32>) -> tensor<8x5xf32>
  return %2, %3, %10 : tensor<5x8xf32>, tensor<2x4xf32>, tensor<8x5xf32>
}

func.func @normalization(%x: tensor<2x3x6x6xf32>, %c: tensor<3xf32>, %g: tensor<6xf32>) -> (tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>) {
  %0 = flash.softmax %x {axis = 3 : i64} : tensor<2x3x6x6xf32>
  %1 = flash.layer_norm %x, %g, %g {axis = 3 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x6x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<2x3x6x6xf32>
  %2 = flash.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-3 : f32} : (tensor<2x3x6x6xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x6x6xf32>
  return %0, %1, %2 : tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>
}

func.func @pooling_attention(%x: tensor<1x2x7x7xf32>, %q: tensor<2x4x16x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>, tensor<2x4x16x8xf32>) {
  %0 = flash.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  %1 = flash.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = false} : (tensor<1x2x7x7xf32>) -> tensor<1x2x3x3xf32>
  %2 = flash.attention %q, %q, %q {causal = true, scale = 0.5 : f32} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %0, %1, %2 : tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>, tensor<2x4x16x8xf32>
}
