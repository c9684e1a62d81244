func.func @relu_relu(%a: tensor<7xf32>) -> tensor<7xf32> {
  %0 = flash.relu %a : tensor<7xf32>
  %1 = flash.relu %0 : tensor<7xf32>
  return %1 : tensor<7xf32>
}

func.func @dead(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = flash.matmul %a, %a : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %a : tensor<4x4xf32>
}

func.func @fold_constants() -> tensor<2x2xf32> {
  %a = flash.constant dense<[[1.0, -2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b = flash.constant dense<[10.0, -2.0]> : tensor<2xf32>
  %0 = flash.add %a, %b : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = flash.relu %0 : tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @fold_slice(%x: tensor<2x3xf32>) -> (tensor<2x1xf32>, tensor<2x3xf32>) {
  %c = flash.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %0 = flash.slice %c {starts = array<i64: 0, 1>, sizes = array<i64: 2, 1>, steps = array<i64: 1, 2>} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  %1 = flash.slice %x {starts = array<i64: 0, 0>, sizes = array<i64: 2, 3>, steps = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x1xf32>, tensor<2x3xf32>
}

func.func @no_fold(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = flash.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %0 = flash.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

func.func @duplicates(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = flash.relu %x : tensor<3xf32>
  %1 = flash.relu %x : tensor<3xf32>
  %2 = flash.add %0, %1 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}

func.func @fold_compare() -> (tensor<3xf32>, tensor<3xf32>) {
  %a = flash.constant dense<[1.0, 0x7FC00000, 3.0]> : tensor<3xf32>
  %b = flash.constant dense<[1.0, 0x7FC00000, 2.0]> : tensor<3xf32>
  %0 = flash.equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = flash.not_equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}
