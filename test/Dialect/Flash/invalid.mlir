// RUN: flash-opt %s -split-input-file -verify-diagnostics

func.func @matmul_contracting(%a: tensor<4x8xf32>, %b: tensor<7x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+2 {{'flash.matmul' op contracting dimensions differ: lhs 'tensor<4x8xf32>' has K=8 but rhs 'tensor<7x16xf32>' has K=7}}
  // expected-error @+1 {{'flash.matmul' op failed to infer returned types}}
  %0 = flash.matmul %a, %b : (tensor<4x8xf32>, tensor<7x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @matmul_rank(%a: tensor<4x8x2xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'flash.matmul' op operand #0 must be 2D tensor of 32-bit float values, but got 'tensor<4x8x2xf32>'}}
  %0 = flash.matmul %a, %b : (tensor<4x8x2xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @matmul_result(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x15xf32> {
  // expected-error @+2 {{'flash.matmul' op inferred type(s) 'tensor<4x16xf32>' are incompatible with return type(s) of operation 'tensor<4x15xf32>'}}
  // expected-error @+1 {{'flash.matmul' op failed to infer returned types}}
  %0 = flash.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x15xf32>
  return %0 : tensor<4x15xf32>
}

// -----

func.func @matmul_dtype(%a: tensor<4x8xf16>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'flash.matmul' op operand #0 must be 2D tensor of 32-bit float values, but got 'tensor<4x8xf16>'}}
  %0 = flash.matmul %a, %b : (tensor<4x8xf16>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @add_broadcast(%a: tensor<3x4xf32>, %b: tensor<5xf32>) -> tensor<3x4xf32> {
  // expected-error @+2 {{'flash.add' op operands are not broadcast-compatible: 'tensor<3x4xf32>' and 'tensor<5xf32>'}}
  // expected-error @+1 {{'flash.add' op failed to infer returned types}}
  %0 = flash.add %a, %b : (tensor<3x4xf32>, tensor<5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @add_dynamic(%a: tensor<?x4xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{'flash.add' op operand #0 must be statically shaped tensor of 32-bit float values, but got 'tensor<?x4xf32>'}}
  %0 = flash.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @relu_type(%a: tensor<3x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'flash.relu' op requires the same type for all operands and results}}
  %0 = "flash.relu"(%a) : (tensor<3x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{'flash.conv2d' op input 'tensor<1x3x8x8xf32>' has 3 channels but weight 'tensor<4x2x3x3xf32>' expects 2}}
  // expected-error @+1 {{'flash.conv2d' op failed to infer returned types}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<5xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{'flash.conv2d' op bias 'tensor<5xf32>' must have one value per output channel of weight 'tensor<4x3x3x3xf32>'}}
  // expected-error @+1 {{'flash.conv2d' op failed to infer returned types}}
  %0 = flash.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<5xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_window(%x: tensor<1x3x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+2 {{'flash.conv2d' op dilated kernel of weight 'tensor<4x3x3x3xf32>' does not fit the padded input 'tensor<1x3x4x4xf32>' in dimension H}}
  // expected-error @+1 {{'flash.conv2d' op failed to infer returned types}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>} : (tensor<1x3x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @conv_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{'flash.conv2d' op stride [0, 1] and dilation [1, 1] must be positive}}
  // expected-error @+1 {{'flash.conv2d' op failed to infer returned types}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{'flash.conv2d' op padding must be non-negative}}
  // expected-error @+1 {{'flash.conv2d' op failed to infer returned types}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: -1, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_padding_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'flash.conv2d' op attribute 'padding' failed to satisfy constraint: i64 dense array attribute with exactly 4 elements}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'flash.conv2d' op operand #0 must be 4D tensor of 32-bit float values, but got 'tensor<3x8x8xf32>'}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_missing_attr(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'flash.conv2d' op requires attribute 'dilation'}}
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @constant_dtype() -> tensor<2xi8> {
  // expected-error @+1 {{'flash.constant' op result #0 must be statically shaped tensor of 32-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2xi8>'}}
  %0 = flash.constant dense<1> : tensor<2xi8>
  return %0 : tensor<2xi8>
}

// -----

func.func @gather_axis(%t: tensor<10x4xf32>, %i: tensor<3xi64>) -> tensor<3xf32> {
  // expected-error @+2 {{'flash.gather' op axis 2 is out of range for data 'tensor<10x4xf32>'}}
  // expected-error @+1 {{'flash.gather' op failed to infer returned types}}
  %0 = flash.gather %t, %i {axis = 2 : i64} : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @gather_float_indices(%t: tensor<10x4xf32>, %i: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'flash.gather' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = flash.gather %t, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @integer_arithmetic(%a: tensor<3xi64>) -> tensor<3xi64> {
  // expected-error @+1 {{'flash.add' op operand #0 must be statically shaped tensor of 32-bit float values, but got 'tensor<3xi64>'}}
  %0 = flash.add %a, %a : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

func.func @select_broadcast(%c: tensor<3xf32>, %a: tensor<4xf32>, %b: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+2 {{'flash.select' op operands are not broadcast-compatible: 'tensor<3xf32>', 'tensor<4xf32>' and 'tensor<f32>'}}
  // expected-error @+1 {{'flash.select' op failed to infer returned types}}
  %0 = flash.select %c, %a, %b : (tensor<3xf32>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Shapes past 64-bit sizes: 2^32 * 2^32 * 16 elements wraps an int64.
func.func @too_many_elements(%a: tensor<4294967296x4294967296x16xf32>) -> tensor<4294967296x4294967296x16xf32> {
  // expected-error @+1 {{'flash.relu' op has a 'tensor<4294967296x4294967296x16xf32>' value: its element count exceeds 64-bit sizes}}
  %0 = flash.relu %a : tensor<4294967296x4294967296x16xf32>
  return %0 : tensor<4294967296x4294967296x16xf32>
}

// -----

// 2^61 f32 elements fit in int64; their 2^63 bytes do not.
func.func @too_many_bytes(%a: tensor<2305843009213693952xf32>) -> tensor<2305843009213693952xf32> {
  // expected-error @+1 {{'flash.relu' op has a 'tensor<2305843009213693952xf32>' value of 2305843009213693952 elements: its byte size exceeds 64-bit sizes}}
  %0 = flash.relu %a : tensor<2305843009213693952xf32>
  return %0 : tensor<2305843009213693952xf32>
}
