// The kdrt verifiers: one expected error per rule.
// RUN: kd-opt %s -split-input-file -verify-diagnostics

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x4xf32>
  %none = kdrt.null
  // expected-error @+1 {{'kdrt.relu.fwd' op takes 1 'outs' operands, got 2}}
  kdrt.relu.fwd ins(%x : memref<2x4xf32>) outs(%x, %x : memref<2x4xf32>, memref<2x4xf32>)
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x4xf32>
  %w = kdrt.param "S/w" : memref<4x4xf32>
  %none = kdrt.null
  // expected-error @+1 {{'kdrt.linear.fwd' op ins operand #1 is required and must not be null}}
  kdrt.linear.fwd ins(%x, %none, %none : memref<2x4xf32>, none, none) outs(%x : memref<2x4xf32>)
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x4xf32>
  %w = kdrt.param "S/w" : memref<4x4xf32>
  %none = kdrt.null
  // expected-error @+1 {{writes the parameter 'S/w'; outputs are buffers or gradients}}
  kdrt.linear.fwd ins(%x, %w, %none : memref<2x4xf32>, memref<4x4xf32>, none) outs(%w : memref<4x4xf32>)
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

// A convolution's precision is fp32 or bf16 (--kd-teacher-precision).
kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x1x4x4xf32>
  %w = kdrt.param "T/w" : memref<4x1x3x3xf32>
  %none = kdrt.null
  %y = kdrt.buffer 1 offset 128 : memref<2x4x2x2xf32>
  // expected-error @+1 {{'precision' must be "fp32" or "bf16", got "fp16"}}
  kdrt.conv2d.fwd ins(%x, %w, %none : memref<2x1x4x4xf32>, memref<4x1x3x3xf32>, none) outs(%y : memref<2x4x2x2xf32>)
      {stride = array<i64: 1, 1>, pad = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64, precision = "fp16"}
  %l = kdrt.buffer 2 offset 256 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x1x4x4xf32>
  %y = kdrt.buffer 1 offset 128 : memref<2x1x2x2xf32>
  // expected-error @+1 {{'kernel' must be a pair [h, w], got 3 values}}
  kdrt.max_pool2d.fwd ins(%x : memref<2x1x4x4xf32>) outs(%y : memref<2x1x2x2xf32>)
      {kernel = array<i64: 2, 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0>, count_include_pad = false}
  %l = kdrt.buffer 2 offset 192 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 64 : i64} {
  // expected-error @+1 {{ends at byte 96, past the arena of 64 bytes}}
  %x = kdrt.buffer 0 offset 64 : memref<2x4xf32>
  %l = kdrt.buffer 1 offset 0 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  // expected-error @+1 {{offset 32 is not a non-negative multiple of 64}}
  %x = kdrt.buffer 0 offset 32 : memref<2x4xf32>
  %l = kdrt.buffer 1 offset 128 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

// expected-error @+1 {{body must end in kdrt.update}}
kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x4xf32>
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %l = kdrt.buffer 1 offset 0 : memref<f32>
  // expected-error @+1 {{schedule kind must be constant, step, cosine or one_cycle}}
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "onecycle"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %s = kdrt.buffer 0 offset 0 : memref<2x10xf32>
  %t = kdrt.buffer 1 offset 128 : memref<2x10xf32>
  %l = kdrt.buffer 2 offset 256 : memref<f32>
  %none = kdrt.null
  // expected-error @+1 {{unknown reduction 'avg' (expected batchmean, sum or mean)}}
  kdrt.kl_div_loss ins(%s, %t : memref<2x10xf32>, memref<2x10xf32>) outs(%l, %none, %none : memref<f32>, none, none)
      {temperature = 4.0 : f64, scale_by_temperature_squared = true, reduction = "avg", grad_scale = 1.0 : f64}
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %a = kdrt.buffer 0 offset 0 : memref<f32>
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  // expected-error @+1 {{needs one scale per input (2), got 1}}
  kdrt.scale_add ins(%a, %a : memref<f32>, memref<f32>) outs(%l : memref<f32>) {scales = array<f64: 1.0>}
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x4xf32>
  // expected-error @+1 {{'kdrt.load_batch' op unknown role 'mask' (expected image or label)}}
  kdrt.load_batch "mask" %x : memref<2x4xf32>
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x1x4x4xf32>
  kdrt.load_batch "image" %x {transform = {op = "crop", h = 4 : i64, w = 4 : i64}} : memref<2x1x4x4xf32>
  // expected-error @+1 {{'kdrt.load_batch' op the transform is {op = "resize" or "crop", h = H, w = W}}}
  kdrt.load_batch "image" %x {transform = {op = "rotate", h = 4 : i64, w = 4 : i64}} : memref<2x1x4x4xf32>
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

// expected-error @+1 {{'kdrt.parameter' op unknown role 'gain' (expected weight, bias or state)}}
kdrt.parameter "S/w" "gain" "zeros" [4]

// -----

// expected-error @+1 {{'kdrt.dataset' op unknown data set kind 'csv' (expected idx, folder or npz)}}
kdrt.dataset @d attributes {kind = "csv", path = "p", image_shape = array<i64: 1, 2, 2>,
    mean = array<f64>, std = array<f64>, classes = 2 : i64, class_names = [], splits = []}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x4xf32>
  %w = kdrt.param "S/w" : memref<4x4xf32>
  %none = kdrt.null
  // expected-error @+1 {{post-ops read 1 tensors after input, weight and bias; 0 given}}
  kdrt.linear.fwd ins(%x, %w, %none : memref<2x4xf32>, memref<4x4xf32>, none) outs(%x : memref<2x4xf32>) {post_ops = [{kind = "sum"}]}
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}

// -----

kdrt.stage @s attributes {kind = "train", data = "d", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = [], frozen = [], arena_bytes = 1024 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<2x4xf32>
  %w = kdrt.param "S/w" : memref<4x4xf32>
  %none = kdrt.null
  // expected-error @+1 {{post-ops are {kind = "relu|gelu|sigmoid|tanh|sum|scale_shift"}}}
  kdrt.linear.fwd ins(%x, %w, %none : memref<2x4xf32>, memref<4x4xf32>, none) outs(%x : memref<2x4xf32>) {post_ops = [{kind = "softmax"}]}
  %l = kdrt.buffer 1 offset 64 : memref<f32>
  kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [], schedule = {kind = "constant"}}
}
