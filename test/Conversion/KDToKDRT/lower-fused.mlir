// Losses write their gradients in the same kernel (grad_scale = the loss's
// weight), fused layers keep a relu as a post-op and run its backward on
// the output. Inputs and loss gradients sit at their planned offsets (the
// memory plan keeps them alive from where the executor and the loss kernel
// write them); only scratch buffers go after the planned arena.
// RUN: kd-opt --kd-lower-to-runtime -split-input-file %s | FileCheck %s
// RUN: kd-opt --kd-lower-to-runtime=target=gpu -split-input-file %s | FileCheck %s --check-prefix=GPU

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>,
    mean = array<f64>, std = array<f64>, classes = 3 : i64, class_names = [], splits = []}
kd.model @S_model(%i: tensor<?x1x4x4xf32>) -> tensor<?x3xf32> {
  %w = kd.param "S/conv.weight" weight zeros : tensor<2x1x3x3xf32>
  %c = kd.conv2d %i, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x4x4xf32>
  %x = kd.reshape %c : tensor<?x2x4x4xf32> -> tensor<?x32xf32>
  %fw = kd.param "S/fc.weight" weight zeros : tensor<3x32xf32>
  %y = kd.linear %x, %fw : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.student @S untrained attributes {model = @S_model}
// CHECK-LABEL: kdrt.stage @train
kd.stage @train attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64,
    steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [],
    optimizer = {kind = "sgd", lr = 5.000000e-02 : f64}, groups = [], arena_bytes = 4096 : i64} {
  // CHECK: %[[I:.*]] = kdrt.buffer 0 offset 0 : memref<8x1x4x4xf32>
  // CHECK: kdrt.load_batch "image" %[[I]]
  %i = kd.batch_input {offsets = array<i64: 0>} : tensor<?x1x4x4xf32>
  %w = kd.param "S/conv.weight" weight zeros : tensor<2x1x3x3xf32>
  // CHECK: %[[W:.*]] = kdrt.param "S/conv.weight"
  // CHECK: %[[C:.*]] = kdrt.buffer 1 offset 0 : memref<8x2x4x4xf32>
  // CHECK: kdrt.conv2d.fwd ins(%[[I]], %[[W]], %{{.*}} : {{.*}}) outs(%[[C]] : memref<8x2x4x4xf32>)
  // CHECK-SAME: post_ops = [{kind = "relu"}]
  %c = kd.conv2d_fused %i, %w post_ops ["relu"] stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 {offsets = array<i64: 0>} : (tensor<?x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x4x4xf32>
  // CHECK: %[[X:.*]] = kdrt.buffer 2 offset 1024 : memref<8x32xf32>
  %x = kd.reshape %c {offsets = array<i64: 1024>} : tensor<?x2x4x4xf32> -> tensor<?x32xf32>
  %fw = kd.param "S/fc.weight" weight zeros : tensor<3x32xf32>
  // CHECK: %[[Y:.*]] = kdrt.buffer 3 offset 2048 : memref<8x3xf32>
  %y = kd.linear %x, %fw {offsets = array<i64: 2048>} : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  // CHECK: %[[LBL:.*]] = kdrt.buffer 4 offset 2176 : memref<8xf32>
  // CHECK: kdrt.load_batch "label" %[[LBL]]
  %lbl = kd.batch_labels {offsets = array<i64: 2176>} : tensor<?xi64>
  // CHECK: %[[CE:.*]] = kdrt.buffer 5 offset 2304 : memref<f32>
  // CHECK: %[[G:.*]] = kdrt.buffer 6 offset 2432 : memref<8x3xf32>
  // CHECK: kdrt.cross_entropy_loss ins(%[[Y]], %[[LBL]] : memref<8x3xf32>, memref<8xf32>) outs(%[[CE]], %[[G]] : memref<f32>, memref<8x3xf32>)
  // CHECK-SAME: grad_scale = 5.000000e-01
  %ce = kd.loss.ce %y, %lbl smoothing 0.0 {offsets = array<i64: 2304>} : tensor<?x3xf32>, tensor<?xi64>
  %l = kd.loss.combine %ce weights [5.000000e-01] bias 0.000000e+00 {offsets = array<i64: 2368>}
  %g = kd.loss.grad %ce scale 5.000000e-01 wanted [true, false] {offsets = array<i64: 2432>} : tensor<?x3xf32>
  // CHECK: kdrt.linear.bwd ins(%[[X]], %{{.*}}, %[[G]] : {{.*}})
  %gx, %gfw = kd.linear_bwd %x, %fw, %g wanted [true, true, false] {offsets = array<i64: 1024, -1>} : (tensor<?x32xf32>, tensor<3x32xf32>, tensor<?x3xf32>) -> (tensor<?x32xf32>, tensor<3x32xf32>)
  kd.param_grad "S/fc.weight" %gfw : tensor<3x32xf32>
  %gc = kd.reshape_bwd %gx wanted [true] {offsets = array<i64: 2048>} : (tensor<?x32xf32>) -> tensor<?x2x4x4xf32>
  // CHECK: %[[GC:.*]] = kdrt.buffer 9 offset 2048 : memref<8x2x4x4xf32>
  // CHECK: %[[GPRE:.*]] = kdrt.buffer 10 offset 4096 : memref<8x2x4x4xf32>
  // CHECK: kdrt.relu.bwd ins(%[[C]], %[[GC]] : {{.*}}) outs(%[[GPRE]] : memref<8x2x4x4xf32>)
  // CHECK: %[[GW:.*]] = kdrt.grad "S/conv.weight"
  // CHECK: kdrt.conv2d.bwd ins(%[[I]], %[[W]], %[[GPRE]] : {{.*}}) outs(%{{.*}}, %[[GW]], %{{.*}} : none, memref<2x1x3x3xf32>, none)
  %gw = kd.conv2d_fused_bwd %i, %w, %c, %gc stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 activation relu wanted [false, true, false] : (tensor<?x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<?x2x4x4xf32>, tensor<?x2x4x4xf32>) -> tensor<2x1x3x3xf32>
  kd.param_grad "S/conv.weight" %gw : tensor<2x1x3x3xf32>
  // CHECK: kdrt.update loss(%{{.*}} : memref<f32>)
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 1, 4>,
    mean = array<f64>, std = array<f64>, classes = 4 : i64, class_names = [], splits = []}
kd.model @S_model(%i: tensor<?x1x1x4xf32>) -> tensor<?x4xf32> {
  %x = kd.reshape %i : tensor<?x1x1x4xf32> -> tensor<?x4xf32>
  kd.output %x : tensor<?x4xf32>
}
kd.student @S untrained attributes {model = @S_model}
// A logit group: one logit_loss_group kernel writes both values and the
// weighted sum of the terms' gradients. The GPU backend has no such entry:
// there it is one kernel per term with its weight as grad_scale, the
// gradients summed.
// CHECK-LABEL: kdrt.stage @group
// GPU-LABEL: kdrt.stage @group
kd.stage @group attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64,
    steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [],
    optimizer = {kind = "sgd", lr = 5.000000e-02 : f64}, groups = []} {
  %i = kd.batch_input : tensor<?x1x1x4xf32>
  %s = kd.reshape %i : tensor<?x1x1x4xf32> -> tensor<?x4xf32>
  %t = kd.reshape %i : tensor<?x1x1x4xf32> -> tensor<?x4xf32>
  %y = kd.batch_labels : tensor<?xi64>
  // CHECK-NOT: kdrt.kl_div_loss
  // CHECK-NOT: kdrt.cross_entropy_loss
  // CHECK: kdrt.logit_loss_group ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x4xf32>, memref<2x4xf32>, memref<2xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : memref<f32>, memref<f32>, memref<2x4xf32>)
  // CHECK-SAME: terms = [{kind = "kl", reduction = "batchmean", scale_by_temperature_squared = true, temperature = 4.000000e+00 : f64, weight = 9.000000e-01 : f64}, {kind = "ce", label_smoothing = 0.000000e+00 : f64, soft_targets = false, weight = 1.000000e-01 : f64}]
  // CHECK-NOT: memref<2x4xf32>) outs
  // CHECK: kdrt.scale_add ins(%{{.*}}, %{{.*}} : memref<f32>, memref<f32>)
  // GPU: %[[GKL:.*]] = kdrt.buffer 4 {{.*}} : memref<2x4xf32>
  // GPU: %[[KL:.*]] = kdrt.buffer 5 {{.*}} : memref<f32>
  // GPU: kdrt.kl_div_loss ins({{.*}}) outs(%[[KL]], %[[GKL]], %{{.*}} : memref<f32>, memref<2x4xf32>, none)
  // GPU-SAME: grad_scale = 9.000000e-01
  // GPU-SAME: temperature = 4.000000e+00
  // GPU: %[[GCE:.*]] = kdrt.buffer 6 {{.*}} : memref<2x4xf32>
  // GPU: %[[CE:.*]] = kdrt.buffer 7 {{.*}} : memref<f32>
  // GPU: kdrt.cross_entropy_loss ins({{.*}}) outs(%[[CE]], %[[GCE]] : memref<f32>, memref<2x4xf32>)
  // GPU-SAME: grad_scale = 1.000000e-01
  // GPU: kdrt.scale_add ins(%[[GKL]], %[[GCE]] : memref<2x4xf32>, memref<2x4xf32>)
  %kl, %ce, %g = kd.loss.logit_group %s(%t, %y) terms [
      {kind = "kl", temperature = 4.0 : f64, reduction = "batchmean", t2 = true, weight = 0.9 : f64},
      {kind = "ce", smoothing = 0.0 : f64, weight = 0.1 : f64}]
      : tensor<?x4xf32> (tensor<?x4xf32>, tensor<?xi64>) -> tensor<f32>, tensor<f32> grad tensor<?x4xf32>
  %l = kd.loss.combine %kl, %ce weights [9.000000e-01, 1.000000e-01] bias 0.000000e+00
  kd.minimize %l
}
