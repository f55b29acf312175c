// The legality check refuses what the runtime cannot run, at the op.
// RUN: kd-opt --kd-lower-to-runtime %s -split-input-file -verify-diagnostics

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>,
    mean = array<f64>, std = array<f64>, classes = 3 : i64, class_names = [], splits = []}
kd.model @S_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.tap "logits" %y output : tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.stage @train attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64,
    steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x4xf32>
  %y = kd.batch_labels : tensor<?xi64>
  // expected-error @+1 {{'kd.apply' has no runtime kernel on target 'cpu': is left in a stage: the stage is not flat (run --kd-inline-models first)}}
  %l = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %ce = kd.loss.ce %l, %y smoothing 0.0 : tensor<?x3xf32>, tensor<?xi64>
  kd.minimize %ce
}
