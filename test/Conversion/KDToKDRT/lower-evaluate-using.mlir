// `evaluate ... using`: the flat evaluation body (--kd-inline-models made
// it) lowers at the evaluation's own batch, kd.mean becomes a scale_add of
// the predictions with weights 1/n, and the kdrt.evaluate names the
// prediction. A loss's constant term (the bias of kd.loss.combine) is kept
// in the reported loss value as the scale_add's bias.
// RUN: kd-opt --kd-lower-to-runtime %s | FileCheck %s

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>,
    mean = array<f64>, std = array<f64>, classes = 3 : i64, class_names = [], splits = []}
kd.model @S_model(%i: tensor<?x1x2x2xf32>) -> tensor<?x3xf32> {
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %v = kd.param "S/e1.weight" weight zeros : tensor<3x4xf32>
  %e = kd.linear %x, %v : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.tap "e1" %e exit : tensor<?x3xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.student @S untrained attributes {model = @S_model}

// CHECK-LABEL: kdrt.stage @train
kd.stage @train attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64,
    steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [],
    optimizer = {kind = "sgd", lr = 5.000000e-02 : f64}, groups = []} {
  %i = kd.batch_input : tensor<?x1x2x2xf32>
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %l = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  // CHECK: kdrt.cross_entropy_loss ins({{.*}}) outs(%[[CE:[^,]*]], %[[GL:[^ ]*]] :
  %ce = kd.loss.ce %l, %y smoothing 0.0 : tensor<?x3xf32>, tensor<?xi64>
  // CHECK: kdrt.scale_add ins(%[[CE]] : memref<f32>) outs(%[[LOSS:.*]] : memref<f32>) {bias = 5.000000e-01 : f64, scales = array<f64: 2.000000e+00>}
  %loss = kd.loss.combine %ce weights [2.0] bias 0.5
  %gl = kd.loss.grad %ce scale 2.0 wanted [true, false] : tensor<?x3xf32>
  %gw = kd.linear_bwd %x, %w, %gl wanted [false, true, false]
      : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<?x3xf32>) -> tensor<3x4xf32>
  kd.param_grad "S/fc.weight" %gw : tensor<3x4xf32>
  // CHECK: kdrt.update loss(%[[LOSS]] : memref<f32>)
  kd.minimize %loss
}

// Without a bias the scale_add has none.
// CHECK-LABEL: kdrt.stage @unbiased
// CHECK: kdrt.scale_add
// CHECK-NOT: bias
// CHECK-SAME: {scales = array<f64: 1.000000e+00>}
kd.stage @unbiased attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64,
    steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [],
    optimizer = {kind = "sgd", lr = 5.000000e-02 : f64}, groups = []} {
  %i = kd.batch_input : tensor<?x1x2x2xf32>
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %l = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  %ce = kd.loss.ce %l, %y smoothing 0.0 : tensor<?x3xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [1.0] bias 0.0
  %gl = kd.loss.grad %ce scale 1.0 wanted [true, false] : tensor<?x3xf32>
  %gw = kd.linear_bwd %x, %w, %gl wanted [false, true, false]
      : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<?x3xf32>) -> tensor<3x4xf32>
  kd.param_grad "S/fc.weight" %gw : tensor<3x4xf32>
  kd.minimize %loss
}

// The model's output, in batches of the evaluation's batch.
// CHECK: kdrt.evaluate attributes {after_stage = "unbiased", arena_bytes = {{[0-9]+}} : i64, batch = 8 : i64, data = "d", metrics = ["accuracy"], model = "S", split = "test"}
// CHECK: kdrt.output %{{.*}} : memref<8x3xf32>
kd.evaluate @S_model on @d "test" metrics ["accuracy"] attributes {batch = 8 : i64}

// CHECK: kdrt.evaluate attributes {after_stage = "unbiased", arena_bytes = {{[0-9]+}} : i64, batch = 16 : i64, data = "d", metrics = ["accuracy"], model = "S", prediction = "mean(e1,logits)", split = "test"}
// CHECK: kdrt.load_batch "image" %[[I:[^ ]*]]
// CHECK: kdrt.linear.fwd ins({{.*}}) outs(%[[E:.*]] : memref<16x3xf32>)
// CHECK: kdrt.linear.fwd ins({{.*}}) outs(%[[Y:.*]] : memref<16x3xf32>)
// CHECK: kdrt.scale_add ins(%[[E]], %[[Y]] : memref<16x3xf32>, memref<16x3xf32>) outs(%[[M:.*]] : memref<16x3xf32>) {scales = array<f64: 5.000000e-01, 5.000000e-01>}
// CHECK: kdrt.output %[[M]] : memref<16x3xf32>
kd.evaluate @S_model on @d "test" metrics ["accuracy"] attributes {batch = 16 : i64, prediction = "mean(e1,logits)"} using {
  %i = kd.batch_input : tensor<?x1x2x2xf32>
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %v = kd.param "S/e1.weight" weight zeros : tensor<3x4xf32>
  %e = kd.linear %x, %v : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  %m = kd.mean %e, %y : tensor<?x3xf32>
  kd.yield %m : tensor<?x3xf32>
}

// A single exit: its classifier's buffer is the output.
// CHECK: kdrt.evaluate attributes {{{.*}}prediction = "e1"
// CHECK: kdrt.linear.fwd ins({{.*}}) outs(%[[E1:.*]] : memref<256x3xf32>)
// CHECK: kdrt.output %[[E1]] : memref<256x3xf32>
kd.evaluate @S_model on @d "test" metrics ["accuracy"] attributes {prediction = "e1"} using {
  %i = kd.batch_input : tensor<?x1x2x2xf32>
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %v = kd.param "S/e1.weight" weight zeros : tensor<3x4xf32>
  %e = kd.linear %x, %v : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.yield %e : tensor<?x3xf32>
}
