// Round trip of every kind of kdrt op: printing and re-parsing gives the
// same module.
// RUN: kd-opt %s | kd-opt | FileCheck %s

// CHECK: kdrt.dataset @fmnist attributes {class_names = [], classes = 10 : i64
kdrt.dataset @fmnist attributes {kind = "idx", path = "fashion-mnist",
    image_shape = array<i64: 1, 28, 28>, mean = array<f64: 0.286>, std = array<f64: 0.353>,
    classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
// CHECK: kdrt.parameter "S/conv.weight" "weight" "kaiming_normal" [4, 1, 3, 3] {fan = "fan_in", gain = 1.414
kdrt.parameter "S/conv.weight" "weight" "kaiming_normal" [4, 1, 3, 3] {fan = "fan_in", gain = 1.4142135623730951 : f64}
kdrt.parameter "S/conv.bias" "bias" "zeros" [4]
kdrt.parameter "S/fc.weight" "weight" "xavier_uniform" [10, 16]
// CHECK: kdrt.parameter "T/fc.weight" "weight" "zeros" [10, 16] {value = dense<
kdrt.parameter "T/fc.weight" "weight" "zeros" [10, 16] {value = dense<0.5> : tensor<10x16xf32>}

// CHECK-LABEL: kdrt.stage @train attributes
// CHECK-SAME: arena_bytes = 8192 : i64
kdrt.stage @train attributes {kind = "distill", data = "fmnist", split = "train", epochs = 1 : i64,
    batch = 2 : i64, trained = ["S"], frozen = ["T"], arena_bytes = 8192 : i64} {
  // CHECK: %[[X:.*]] = kdrt.buffer 0 offset 0 : memref<2x1x4x4xf32>
  %x = kdrt.buffer 0 offset 0 : memref<2x1x4x4xf32>
  %y = kdrt.buffer 1 offset 128 : memref<2xf32>
  // CHECK: kdrt.load_batch "image" %[[X]] {transform = {h = 4 : i64, op = "resize", w = 4 : i64}}
  kdrt.load_batch "image" %x {transform = {op = "resize", h = 4 : i64, w = 4 : i64}} : memref<2x1x4x4xf32>
  kdrt.load_batch "label" %y : memref<2xf32>
  %w = kdrt.param "S/conv.weight" : memref<4x1x3x3xf32>
  %b = kdrt.param "S/conv.bias" : memref<4xf32>
  %c = kdrt.buffer 2 offset 192 : memref<2x4x2x2xf32>
  // CHECK: kdrt.conv2d.fwd ins(%[[X]], %{{.*}}, %{{.*}} : memref<2x1x4x4xf32>, memref<4x1x3x3xf32>, memref<4xf32>) outs(%{{.*}} : memref<2x4x2x2xf32>) {dilation = array<i64: 1, 1>, groups = 1 : i64, pad = array<i64: 0, 0>, post_ops = [{kind = "relu"}], stride = array<i64: 1, 1>}
  kdrt.conv2d.fwd ins(%x, %w, %b : memref<2x1x4x4xf32>, memref<4x1x3x3xf32>, memref<4xf32>)
      outs(%c : memref<2x4x2x2xf32>) {stride = array<i64: 1, 1>, pad = array<i64: 0, 0>,
      dilation = array<i64: 1, 1>, groups = 1 : i64, post_ops = [{kind = "relu"}]}
  // An inference batch norm as post-op operands: the scale and shift do
  // not follow the batch; the conv reads them, and a residual, after its
  // bias, in chain order.
  // CHECK: %[[S:.*]] = kdrt.buffer 20 offset 2048 {unbatched} : memref<4xf32>
  %scale = kdrt.buffer 20 offset 2048 {unbatched} : memref<4xf32>
  %shift = kdrt.buffer 21 offset 2112 {unbatched} : memref<4xf32>
  // CHECK: kdrt.batch_norm_scale_shift ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>) outs(%[[S]], %{{.*}} : memref<4xf32>, memref<4xf32>) {eps = 1.000000e-05 : f64}
  kdrt.batch_norm_scale_shift ins(%b, %b, %b, %b : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>)
      outs(%scale, %shift : memref<4xf32>, memref<4xf32>) {eps = 1.0e-05 : f64}
  %c2 = kdrt.buffer 22 offset 2176 : memref<2x4x2x2xf32>
  // CHECK: kdrt.conv2d.fwd ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[S]], %{{.*}}, %{{.*}} : memref<2x4x4x4xf32>, memref<4x4x3x3xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<2x4x2x2xf32>)
  // CHECK-SAME: post_ops = [{kind = "scale_shift"}, {kind = "sum"}, {kind = "relu"}]
  %x4 = kdrt.buffer 23 offset 2304 : memref<2x4x4x4xf32>
  %w4 = kdrt.param "S/conv.weight" : memref<4x4x3x3xf32>
  kdrt.conv2d.fwd ins(%x4, %w4, %b, %scale, %shift, %c : memref<2x4x4x4xf32>, memref<4x4x3x3xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<2x4x2x2xf32>)
      outs(%c2 : memref<2x4x2x2xf32>) {stride = array<i64: 1, 1>, pad = array<i64: 0, 0>,
      dilation = array<i64: 1, 1>, groups = 1 : i64,
      post_ops = [{kind = "scale_shift"}, {kind = "sum"}, {kind = "relu"}]}
  %f = kdrt.buffer 3 offset 320 : memref<2x16xf32>
  kdrt.reshape.fwd ins(%c : memref<2x4x2x2xf32>) outs(%f : memref<2x16xf32>)
  %fw = kdrt.param "S/fc.weight" : memref<10x16xf32>
  %none = kdrt.null
  %s = kdrt.buffer 4 offset 512 : memref<2x10xf32>
  // CHECK: kdrt.linear.fwd ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x16xf32>, memref<10x16xf32>, none)
  kdrt.linear.fwd ins(%f, %fw, %none : memref<2x16xf32>, memref<10x16xf32>, none) outs(%s : memref<2x10xf32>)
  %t = kdrt.buffer 5 offset 640 : memref<2x10xf32>
  %ce = kdrt.buffer 6 offset 768 : memref<f32>
  %kl = kdrt.buffer 7 offset 832 : memref<f32>
  %gs1 = kdrt.buffer 8 offset 896 : memref<2x10xf32>
  %gs2 = kdrt.buffer 9 offset 1024 : memref<2x10xf32>
  // CHECK: kdrt.cross_entropy_loss ins
  // CHECK-SAME: {grad_scale = 1.000000e-01 : f64, label_smoothing = 0.000000e+00 : f64, soft_targets = false}
  kdrt.cross_entropy_loss ins(%s, %y : memref<2x10xf32>, memref<2xf32>) outs(%ce, %gs1 : memref<f32>, memref<2x10xf32>)
      {label_smoothing = 0.0 : f64, soft_targets = false, grad_scale = 0.1 : f64}
  // CHECK: kdrt.kl_div_loss
  kdrt.kl_div_loss ins(%s, %t : memref<2x10xf32>, memref<2x10xf32>) outs(%kl, %gs2, %none : memref<f32>, memref<2x10xf32>, none)
      {temperature = 4.0 : f64, scale_by_temperature_squared = true, reduction = "batchmean", grad_scale = 0.9 : f64}
  %loss = kdrt.buffer 10 offset 1152 : memref<f32>
  // CHECK: kdrt.scale_add ins(%{{.*}}, %{{.*}} : memref<f32>, memref<f32>) outs(%{{.*}} : memref<f32>) {scales = array<f64: 1.000000e-01, 9.000000e-01>}
  kdrt.scale_add ins(%ce, %kl : memref<f32>, memref<f32>) outs(%loss : memref<f32>) {scales = array<f64: 0.1, 0.9>}
  %gs = kdrt.buffer 11 offset 1216 : memref<2x10xf32>
  kdrt.scale_add ins(%gs1, %gs2 : memref<2x10xf32>, memref<2x10xf32>) outs(%gs : memref<2x10xf32>) {scales = array<f64: 1.0, 1.0>}
  // CHECK: %[[GW:.*]] = kdrt.grad "S/fc.weight" : memref<10x16xf32>
  %gw = kdrt.grad "S/fc.weight" : memref<10x16xf32>
  // CHECK: kdrt.linear.bwd ins({{.*}}) outs(%{{.*}}, %[[GW]], %{{.*}} : none, memref<10x16xf32>, none)
  kdrt.linear.bwd ins(%f, %fw, %gs : memref<2x16xf32>, memref<10x16xf32>, memref<2x10xf32>)
      outs(%none, %gw, %none : none, memref<10x16xf32>, none)
  %m = kdrt.buffer 12 offset 1344 : memref<2x16xf32>
  %d = kdrt.buffer 13 offset 1472 : memref<2x16xf32>
  // CHECK: kdrt.dropout.fwd ins(%{{.*}} : memref<2x16xf32>) outs(%{{.*}}, %{{.*}} : memref<2x16xf32>, memref<2x16xf32>) {p = 5.000000e-01 : f64, seed = 3 : i64}
  kdrt.dropout.fwd ins(%f : memref<2x16xf32>) outs(%d, %m : memref<2x16xf32>, memref<2x16xf32>) {p = 0.5 : f64, seed = 3 : i64}
  %p = kdrt.buffer 14 offset 1600 : memref<2x4x1x1xf32>
  kdrt.max_pool2d.fwd ins(%c : memref<2x4x2x2xf32>) outs(%p : memref<2x4x1x1xf32>)
      {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0>, count_include_pad = false}
  kdrt.global_avg_pool.fwd ins(%c : memref<2x4x2x2xf32>) outs(%p : memref<2x4x1x1xf32>)
  %cat = kdrt.buffer 15 offset 1664 : memref<2x32xf32>
  kdrt.concat.fwd ins(%f, %d : memref<2x16xf32>, memref<2x16xf32>) outs(%cat : memref<2x32xf32>) {axis = 1 : i64}
  // CHECK: kdrt.teacher_cache "T" key "sha256:abc" outputs(%{{.*}} : memref<2x10xf32>) names ["T/logits"] {
  kdrt.teacher_cache "T" key "sha256:abc" outputs(%t : memref<2x10xf32>) names ["T/logits"] {
    %tw = kdrt.param "T/fc.weight" : memref<10x16xf32>
    kdrt.linear.fwd ins(%f, %tw, %none : memref<2x16xf32>, memref<10x16xf32>, none) outs(%t : memref<2x10xf32>)
  }
  // CHECK: kdrt.update loss(%{{.*}} : memref<f32>) {groups = [{lr = 5.000000e-02 : f64, params = ["S/fc.weight"]}], optimizer = {kind = "sgd", momentum = 9.000000e-01 : f64}, schedule = {kind = "cosine"}}
  kdrt.update loss(%loss : memref<f32>) {optimizer = {kind = "sgd", momentum = 0.9 : f64},
      groups = [{lr = 0.05 : f64, params = ["S/fc.weight"]}], schedule = {kind = "cosine"}}
}

// CHECK: kdrt.evaluate attributes {after_stage = "train"
kdrt.evaluate attributes {model = "S", data = "fmnist", split = "test", batch = 4 : i64,
    metrics = ["accuracy"], after_stage = "train", arena_bytes = 256 : i64} {
  %x = kdrt.buffer 0 offset 0 : memref<4x16xf32>
  %w = kdrt.param "S/fc.weight" : memref<10x16xf32>
  %none = kdrt.null
  %y = kdrt.buffer 1 offset 64 : memref<4x10xf32>
  kdrt.linear.fwd ins(%x, %w, %none : memref<4x16xf32>, memref<10x16xf32>, none) outs(%y : memref<4x10xf32>)
  // CHECK: kdrt.output %{{.*}} : memref<4x10xf32>
  kdrt.output %y : memref<4x10xf32>
}
// CHECK: kdrt.export "S" to "s.safetensors" format "safetensors" params ["S/fc.weight"] after "train"
kdrt.export "S" to "s.safetensors" format "safetensors" params ["S/fc.weight"] after "train"
