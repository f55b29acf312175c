// A flat training stage lowers to buffers of the stage's batch, kernels in
// destination-passing style, gradients bound by kd.param_grad, and the
// optimizer step. The schedule's fields take the plan's names (pct ->
// pct_start); the momentum cycle's keep theirs.
// RUN: kd-opt --kd-lower-to-runtime %s | FileCheck %s

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>,
    mean = array<f64>, std = array<f64>, classes = 3 : i64, class_names = [], splits = []}
kd.model @S_model(%i: tensor<?x1x2x2xf32>) -> tensor<?x3xf32> {
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.student @S untrained attributes {model = @S_model}
// CHECK: kdrt.dataset @d
// CHECK: kdrt.parameter "S/fc.weight" "weight" "zeros" [3, 4]
// CHECK-LABEL: kdrt.stage @train
// CHECK-SAME: batch = 8 : i64
// CHECK-SAME: trained = ["S"]
kd.stage @train attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64,
    steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [],
    optimizer = {kind = "sgd", lr = 5.000000e-02 : f64, momentum = 9.000000e-01 : f64},
    schedule = {kind = "onecycle", pct = 3.000000e-01 : f64, cycle_momentum = true,
                base_momentum = 8.000000e-01 : f64, max_momentum = 9.000000e-01 : f64}, groups = []} {
  // CHECK: %[[I:.*]] = kdrt.buffer 0 offset 0 : memref<8x1x2x2xf32>
  // CHECK: kdrt.load_batch "image" %[[I]]
  %i = kd.batch_input : tensor<?x1x2x2xf32>
  // CHECK: %[[X:.*]] = kdrt.buffer 1 offset 128 : memref<8x4xf32>
  // CHECK: kdrt.reshape.fwd ins(%[[I]] : memref<8x1x2x2xf32>) outs(%[[X]] : memref<8x4xf32>)
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  // CHECK: %[[Y:.*]] = kdrt.buffer 2 offset 256 : memref<8xf32>
  // CHECK: kdrt.load_batch "label" %[[Y]]
  %y = kd.batch_labels : tensor<?xi64>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  // CHECK: %[[W:.*]] = kdrt.param "S/fc.weight" : memref<3x4xf32>
  // CHECK: %[[L:.*]] = kdrt.buffer 3 offset 320 : memref<8x3xf32>
  // CHECK: kdrt.linear.fwd ins(%[[X]], %[[W]], %{{.*}} : memref<8x4xf32>, memref<3x4xf32>, none) outs(%[[L]] : memref<8x3xf32>)
  %l = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  // CHECK: %[[CE:.*]] = kdrt.buffer 4 offset 448 : memref<f32>
  // CHECK: kdrt.cross_entropy_loss ins(%[[L]], %[[Y]] : memref<8x3xf32>, memref<8xf32>) outs(%[[CE]], %{{.*}} : memref<f32>, none)
  %ce = kd.loss.ce %l, %y smoothing 0.0 : tensor<?x3xf32>, tensor<?xi64>
  %gl = kd.relu %l : tensor<?x3xf32>
  // CHECK: %[[GW:.*]] = kdrt.grad "S/fc.weight" : memref<3x4xf32>
  // CHECK: kdrt.linear.bwd ins(%[[X]], %[[W]], %{{.*}} : memref<8x4xf32>, memref<3x4xf32>, memref<8x3xf32>) outs(%{{.*}}, %[[GW]], %{{.*}} : none, memref<3x4xf32>, none)
  %gw = kd.linear_bwd %x, %w, %gl wanted [false, true, false]
      : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<?x3xf32>) -> tensor<3x4xf32>
  kd.param_grad "S/fc.weight" %gw : tensor<3x4xf32>
  // CHECK: kdrt.update loss(%[[CE]] : memref<f32>)
  // CHECK-SAME: groups = [{lr = 5.000000e-02 : f64, params = ["S/fc.weight"], weight_decay = 0.000000e+00 : f64}]
  // CHECK-SAME: optimizer = {kind = "sgd", momentum = 9.000000e-01 : f64}
  // CHECK-SAME: schedule = {base_momentum = 8.000000e-01 : f64, cycle_momentum = true, kind = "one_cycle", max_momentum = 9.000000e-01 : f64, pct_start = 3.000000e-01 : f64}
  kd.minimize %ce
}
// CHECK: kdrt.evaluate attributes {after_stage = "train", arena_bytes = {{[0-9]+}} : i64, batch = 256 : i64, data = "d", metrics = ["accuracy"], model = "S", split = "test"}
// CHECK: kdrt.linear.fwd
// CHECK: kdrt.output %{{.*}} : memref<256x3xf32>
kd.evaluate @S_model on @d "test" metrics ["accuracy"]
// CHECK: kdrt.export "S" to "s.safetensors" format "safetensors" params ["S/fc.weight"] after "train"
kd.export @S_model to "s.safetensors" format "safetensors"
// CHECK-NOT: kd.
