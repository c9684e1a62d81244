// Every verifier message of the whole-model op set names the op and shapes.
// RUN: flash-opt %s -split-input-file -verify-diagnostics

func.func @sub_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'flash.sub' op operands are not broadcast-compatible: 'tensor<2x3xf32>' and 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.sub %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @bias_add_size(%a: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'flash.bias_add' op bias 'tensor<2xf32>' must be 1-D of size 3 (dimension 1 of 'tensor<2x3xf32>')}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.bias_add %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @bias_add_axis(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'flash.bias_add' op axis 2 is out of range for 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.bias_add %a, %b {axis = 2 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @batch_matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+2 {{'flash.batch_matmul' op batch sizes differ: 'tensor<2x3x4xf32>' and 'tensor<3x4x5xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.batch_matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

func.func @batch_matmul_k(%a: tensor<2x3x4xf32>, %b: tensor<2x5x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+2 {{'flash.batch_matmul' op contracting dimensions differ: lhs 'tensor<2x3x4xf32>' has K=4 but rhs 'tensor<2x5x5xf32>' has K=5}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.batch_matmul %a, %b : (tensor<2x3x4xf32>, tensor<2x5x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+2 {{'flash.transpose' op permutation [0, 0] is not a permutation of the 2 dimensions of 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.transpose %a {permutation = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<4x2xf32> {
  // expected-error @+2 {{'flash.reshape' op cannot reshape 'tensor<2x3xf32>' (6 elements) to shape [4, 2] (8 elements)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.reshape %a {shape = array<i64: 4, 2>} : (tensor<2x3xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @reshape_negative(%a: tensor<2x3xf32>) -> tensor<6xf32> {
  // expected-error @+2 {{'flash.reshape' op shape [-1] has a negative size}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.reshape %a {shape = array<i64: -1>} : (tensor<2x3xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

func.func @flatten_axis(%a: tensor<2x3xf32>) -> tensor<6x1xf32> {
  // expected-error @+2 {{'flash.flatten' op axis 3 is out of range for 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.flatten %a {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %0 : tensor<6x1xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+2 {{'flash.concat' op operand 'tensor<3x3xf32>' does not match 'tensor<2x3xf32>' outside dimension 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'flash.concat' op axis 2 is out of range for 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.concat %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reduce_axes(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{'flash.reduce_sum' op axes [1, 1] must be distinct dimensions of 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.reduce_sum %a {axes = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'flash.softmax' op axis 2 is out of range for 'tensor<2x3xf32>'}}
  %0 = flash.softmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @layer_norm_scale(%a: tensor<2x3xf32>, %s: tensor<2xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'flash.layer_norm' op scale 'tensor<2xf32>' and bias 'tensor<2xf32>' must have the normalized shape [3] of 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.layer_norm %a, %s, %s {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @layer_norm_axis(%a: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'flash.layer_norm' op axis 2 is out of range for 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.layer_norm %a, %s, %s {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @batch_norm_params(%a: tensor<2x3x4x4xf32>, %c: tensor<4xf32>) -> tensor<2x3x4x4xf32> {
  // expected-error @+2 {{'flash.batch_norm' op parameter 'tensor<4xf32>' must be 1-D with one value per channel (3) of 'tensor<2x3x4x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.batch_norm %a, %c, %c, %c, %c {epsilon = 1.0e-5 : f32} : (tensor<2x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

func.func @batch_norm_rank(%a: tensor<3xf32>, %c: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{'flash.batch_norm' op expects an N x C x ... input, got 'tensor<3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.batch_norm %a, %c, %c, %c, %c {epsilon = 1.0e-5 : f32} : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @pool_padding(%a: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+2 {{'flash.max_pool2d' op padding [2, 2, 2, 2] must be smaller than the kernel [2, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.max_pool2d %a {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 2, 2, 2, 2>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @pool_fit(%a: tensor<1x1x2x2xf32>) -> tensor<1x1x1x1xf32> {
  // expected-error @+2 {{'flash.avg_pool2d' op kernel [3, 3] does not fit the padded input 'tensor<1x1x2x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.avg_pool2d %a {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x1x2x2xf32>) -> tensor<1x1x1x1xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

func.func @pool_stride(%a: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+2 {{'flash.max_pool2d' op kernel and stride must be positive and padding non-negative}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.max_pool2d %a {kernel = array<i64: 1, 1>, stride = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @pool_rank(%a: tensor<1x4x4xf32>) -> tensor<1x4x4xf32> {
  // expected-error @+1 {{'flash.max_pool2d' op operand #0 must be 4D tensor of 32-bit float values, but got 'tensor<1x4x4xf32>'}}
  %0 = "flash.max_pool2d"(%a) <{kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>}> : (tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

func.func @attention_shapes(%q: tensor<2x4x8xf32>, %k: tensor<2x5x7xf32>) -> tensor<2x4x7xf32> {
  // expected-error @+2 {{'flash.attention' op expects query ... x Sq x D, key ... x Sk x D and value ... x Sk x Dv with equal leading dimensions, got 'tensor<2x4x8xf32>', 'tensor<2x5x7xf32>' and 'tensor<2x5x7xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.attention %q, %k, %k : (tensor<2x4x8xf32>, tensor<2x5x7xf32>, tensor<2x5x7xf32>) -> tensor<2x4x7xf32>
  return %0 : tensor<2x4x7xf32>
}

// -----

func.func @slice_out_of_range(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'flash.slice' op dimension 1: start 2, size 3, step 2 is outside 'tensor<4x6xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.slice %a {starts = array<i64: 0, 2>, sizes = array<i64: 2, 3>, steps = array<i64: 1, 2>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @slice_rank(%a: tensor<4x6xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{'flash.slice' op needs one start, size and step per dimension of 'tensor<4x6xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.slice %a {starts = array<i64: 0>, sizes = array<i64: 2>, steps = array<i64: 1>} : (tensor<4x6xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @conv_groups(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{'flash.conv2d' op groups 4 must be positive and divide the input's 6 and the weight's 4 channels}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}
