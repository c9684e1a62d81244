func.func @pool_stride(%a: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %0 = flash.max_pool2d %a {kernel = array<i64: 1, 1>, stride = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}
