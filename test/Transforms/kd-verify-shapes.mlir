// Every recipe's imported module re-infers to exactly its recorded shapes.
// RUN: kdc --emit=mlir %stdlib/recipes/hinton.kd | kd-opt --kd-verify-shapes | FileCheck %s --check-prefix=GOOD
// RUN: kdc --emit=mlir %stdlib/recipes/fitnets.kd | kd-opt --kd-verify-shapes | FileCheck %s --check-prefix=GOOD
// GOOD: kd.stage @distill
// Hand-broken modules: each mismatch is reported at its op with both shapes.
// RUN: kd-opt --kd-verify-shapes -verify-diagnostics -split-input-file %s

kd.model @M(%x: tensor<?x1x28x28xf32>) -> tensor<?x4x?x14xf32> {
  %w = kd.param "M/conv0.weight" weight zeros : tensor<4x1x3x3xf32>
  // The verifier lets a dynamic dimension through; the exact rule does not.
  // expected-error @below {{the result is recorded as [?, 4, ?, 14] but its shape rule gives [?, 4, 14, 14]}}
  %y = kd.conv2d %x, %w stride [2, 2] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x28x28xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x?x14xf32>
  kd.output %y : tensor<?x4x?x14xf32>
}

// -----

kd.dataset @d attributes {class_names = [], classes = 2 : i64, image = "gray", image_shape = array<i64: 1, 28, 28>, mean = array<f64>, path = "p", source = "idx", std = array<f64>, splits = [{file = "train", name = "train", source = "file", augment = [{kind = "resize", h = 14 : i64, w = 14 : i64}]}]}
kd.model @M(%x: tensor<?x1x28x28xf32>) -> tensor<?x784xf32> {
  %0 = kd.reshape %x : tensor<?x1x28x28xf32> -> tensor<?x784xf32>
  kd.tap "out" %0 value : tensor<?x784xf32>
  kd.output %0 : tensor<?x784xf32>
}
kd.stage @s attributes {batch = 2 : i64, data = @d, epochs = 1 : i64, frozen = [], frozen_parts = [], groups = [], kind = "train", split = "train", steps = 0 : i64, trained = [@M]} {
  // The split resizes its images to 14x14.
  // expected-error @below {{the batch of split 'train' is recorded as [?, 1, 28, 28] but its shape rule gives [?, 1, 14, 14]}}
  %x = kd.batch_input : tensor<?x1x28x28xf32>
  %m = kd.apply @M(%x) taps ["out"] : (tensor<?x1x28x28xf32>) -> tensor<?x784xf32>
  %l = kd.loss.mse %m, %m reduction mean : tensor<?x784xf32>, tensor<?x784xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {class_names = [], classes = 2 : i64, image = "gray", image_shape = array<i64: 1, 8, 8>, mean = array<f64>, path = "p", source = "idx", std = array<f64>, splits = [{file = "train", name = "train", source = "file"}]}
kd.model @M(%x: tensor<?x1x8x8xf32>) -> tensor<?x1x8x8xf32> {
  kd.tap "out" %x value : tensor<?x1x8x8xf32>
  kd.output %x : tensor<?x1x8x8xf32>
}
kd.stage @s attributes {batch = 2 : i64, data = @d, epochs = 1 : i64, frozen = [], frozen_parts = [], groups = [], kind = "train", split = "train", steps = 0 : i64, trained = [@M]} {
  %x = kd.batch_input : tensor<?x1x8x8xf32>
  %m = kd.apply @M(%x) taps ["out"] : (tensor<?x1x8x8xf32>) -> tensor<?x1x8x8xf32>
  // A pooling adapter cannot change the channels.
  // expected-error @below {{a pool adapter keeps the channels and shrinks the spatial size; cannot map [?, 1, 8, 8] to [?, 2, 4, 4]}}
  %a = kd.adapt %m "pool" name "s.adapt0" : tensor<?x1x8x8xf32> -> tensor<?x2x4x4xf32>
  %l = kd.loss.mse %a, %a reduction mean : tensor<?x2x4x4xf32>, tensor<?x2x4x4xf32>
  kd.minimize %l
}
