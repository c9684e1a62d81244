func.func @matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = flash.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

func.func @add_broadcast(%a: tensor<3x1x5xf32>, %b: tensor<4x1xf32>) -> tensor<3x4x5xf32> {
  %0 = flash.add %a, %b : (tensor<3x1x5xf32>, tensor<4x1xf32>) -> tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}

func.func @relu(%a: tensor<7xf32>) -> tensor<7xf32> {
  %0 = flash.relu %a : tensor<7xf32>
  return %0 : tensor<7xf32>
}

func.func @conv2d(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> (tensor<2x4x5x5xf32>, tensor<2x4x5x4xf32>) {
  %0 = flash.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  %1 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 1, 0, 0>, dilation = array<i64: 2, 3>} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x5x4xf32>
  return %0, %1 : tensor<2x4x5x5xf32>, tensor<2x4x5x4xf32>
}

func.func @constant() -> tensor<2x2xf32> {
  %0 = flash.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

func.func @indexing(%table: tensor<10x4xf32>, %ids: tensor<1x6xi64>, %mask: tensor<1x6xi32>) -> (tensor<2x3x4xf32>, tensor<1x6xf32>, tensor<10x2xf32>) {
  %r = flash.reshape %ids {shape = array<i64: 2, 3>} : (tensor<1x6xi64>) -> tensor<2x3xi64>
  %e = flash.gather %table, %r {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %m = flash.cast %mask : (tensor<1x6xi32>) -> tensor<1x6xf32>
  %c = flash.constant dense<[3, 1]> : tensor<2xi64>
  %g = flash.gather %table, %c {axis = 1 : i64} : (tensor<10x4xf32>, tensor<2xi64>) -> tensor<10x2xf32>
  return %e, %m, %g : tensor<2x3x4xf32>, tensor<1x6xf32>, tensor<10x2xf32>
}

func.func @compare_and_select(%a: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %0 = flash.equal %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %1 = flash.not_equal %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %2 = flash.less %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %3 = flash.less_equal %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %4 = flash.select %0, %1, %b : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %5 = flash.add %4, %2 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %6 = flash.add %5, %3 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %6 : tensor<3x4xf32>
}
