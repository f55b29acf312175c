// RUN: kd-opt --kd-fold-batchnorm -split-input-file %s | FileCheck %s

// An export to .kdx (inference): the batch norm becomes a fold of the conv's
// weight and bias computed when the export is written, and the conv uses it.
// CHECK-LABEL: kd.export @M to "m.kdx" format "kdx" using
// CHECK: %[[X:.*]] = kd.batch_input
// CHECK: %[[W:.*]] = kd.param "M/conv.weight"
// CHECK: %[[G:.*]] = kd.param "M/bn.weight"
// CHECK: %[[B:.*]] = kd.param "M/bn.bias"
// CHECK: %[[MEAN:.*]] = kd.param "M/bn.running_mean"
// CHECK: %[[VAR:.*]] = kd.param "M/bn.running_var"
// CHECK-NOT: kd.batch_norm
// CHECK: %[[FW:.*]], %[[FB:.*]] = kd.fold_batch_norm %[[W]], %[[G]], %[[B]], %[[MEAN]], %[[VAR]] eps 1.000000e-05
// CHECK: %[[Y:.*]] = kd.conv2d %[[X]], %[[FW]], %[[FB]] stride [1, 1]
// CHECK: kd.yield %[[Y]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x1x4x4xf32> {
  kd.output %x : tensor<?x1x4x4xf32>
}
kd.export @M to "m.kdx" format "kdx" using {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %w = kd.param "M/conv.weight" weight zeros : tensor<8x1x3x3xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "M/bn.weight" weight ones : tensor<8xf32>
  %b = kd.param "M/bn.bias" bias zeros : tensor<8xf32>
  %m = kd.param "M/bn.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "M/bn.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  kd.yield %n : tensor<?x8x4x4xf32>
}

// -----

// An evaluation's program runs on the live weights of the training run
// (it is not a .kdx export): its batch norms stay.
// CHECK-LABEL: kd.evaluate @M
// CHECK-NOT: kd.fold_batch_norm
// CHECK: kd.conv2d
// CHECK: kd.batch_norm
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x1x4x4xf32> {
  kd.output %x : tensor<?x1x4x4xf32>
}
kd.evaluate @M on @d "test" metrics ["accuracy"] using {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %w = kd.param "M/conv.weight" weight zeros : tensor<8x1x3x3xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "M/bn.weight" weight ones : tensor<8xf32>
  %b = kd.param "M/bn.bias" bias zeros : tensor<8xf32>
  %m = kd.param "M/bn.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "M/bn.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  kd.yield %n : tensor<?x8x4x4xf32>
}

// -----

// A training stage normalises with batch statistics: nothing is folded.
// CHECK-LABEL: kd.stage @train
// CHECK-NOT: kd.fold_batch_norm
// CHECK: kd.conv2d
// CHECK: kd.batch_norm
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x1x4x4xf32> {
  kd.output %x : tensor<?x1x4x4xf32>
}
kd.stage @train attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %w = kd.param "M/conv.weight" weight zeros : tensor<8x1x3x3xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "M/bn.weight" weight ones : tensor<8xf32>
  %b = kd.param "M/bn.bias" bias zeros : tensor<8xf32>
  %m = kd.param "M/bn.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "M/bn.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %l = kd.loss.mse %n, %n reduction mean : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>
  kd.minimize %l
}

// -----

// The conv's own output is read elsewhere too (a tap a metric reads): the
// conv must keep computing it, so the batch norm is not folded into it.
// CHECK-LABEL: kd.evaluate @M
// CHECK-NOT: kd.fold_batch_norm
// CHECK: %[[C:.*]] = kd.conv2d
// CHECK: kd.batch_norm %[[C]]
// CHECK: kd.mean {{.*}}%[[C]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x1x4x4xf32> {
  kd.output %x : tensor<?x1x4x4xf32>
}
kd.evaluate @M on @d "test" metrics ["accuracy"] using {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %w = kd.param "M/conv.weight" weight zeros : tensor<8x1x3x3xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "M/bn.weight" weight ones : tensor<8xf32>
  %b = kd.param "M/bn.bias" bias zeros : tensor<8xf32>
  %m = kd.param "M/bn.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "M/bn.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %e = kd.mean %n, %c : tensor<?x8x4x4xf32>
  kd.yield %e : tensor<?x8x4x4xf32>
}

// -----

// The inference program of an export to .kdx is an inference graph too;
// a linear layer on [N, C] folds like a convolution (bn1d), and a layer
// without bias gets the fold's bias.
// CHECK-LABEL: kd.export @M to "m.kdx" format "kdx" using
// CHECK: %[[X:.*]] = kd.batch_input
// CHECK: %[[W:.*]] = kd.param "M/linear0.weight"
// CHECK-NOT: kd.batch_norm
// CHECK: %[[FW:.*]], %[[FB:.*]] = kd.fold_batch_norm %[[W]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} eps 1.000000e-03
// CHECK: %[[Y:.*]] = kd.linear %[[X]], %[[FW]], %[[FB]]
// CHECK: kd.yield %[[Y]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  kd.output %x : tensor<?x16xf32>
}
kd.export @M to "m.kdx" format "kdx" using {
  %x = kd.batch_input : tensor<?x16xf32>
  %w = kd.param "M/linear0.weight" weight zeros : tensor<8x16xf32>
  %l = kd.linear %x, %w : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %g = kd.param "M/bn0.weight" weight ones : tensor<8xf32>
  %b = kd.param "M/bn0.bias" bias zeros : tensor<8xf32>
  %m = kd.param "M/bn0.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "M/bn0.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %l, %g, %b, %m, %v eps 1.0e-03 momentum 0.1 : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  kd.yield %n : tensor<?x8xf32>
}

// -----

// Not folded: a weight another op reads too (the folded weight takes its
// name in the exported plan), and a linear layer on tokens [B, N, D],
// whose batch norm normalises N, not the layer's output D.
// CHECK-LABEL: kd.export @M to "m.kdx" format "kdx" using
// CHECK-NOT: kd.fold_batch_norm
// CHECK: kd.conv2d
// CHECK: kd.batch_norm
// CHECK: kd.linear
// CHECK: kd.batch_norm
// CHECK-NOT: kd.fold_batch_norm
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  kd.output %x : tensor<?x8x4x4xf32>
}
kd.export @M to "m.kdx" format "kdx" using {
  %x = kd.batch_input : tensor<?x8x4x4xf32>
  %w = kd.param "M/conv.weight" weight zeros : tensor<8x8x1x1xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [0, 0] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x1x1xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "M/bn.weight" weight ones : tensor<8xf32>
  %b = kd.param "M/bn.bias" bias zeros : tensor<8xf32>
  %m = kd.param "M/bn.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "M/bn.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %c2 = kd.conv2d %n, %w stride [1, 1] pad [0, 0] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x1x1xf32>) -> tensor<?x8x4x4xf32>
  %t = kd.reshape %c2 : tensor<?x8x4x4xf32> -> tensor<?x8x16xf32>
  %lw = kd.param "M/linear.weight" weight zeros : tensor<8x16xf32>
  %l = kd.linear %t, %lw : (tensor<?x8x16xf32>, tensor<8x16xf32>) -> tensor<?x8x8xf32>
  %n2 = kd.batch_norm %l, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x8xf32>
  kd.yield %n2 : tensor<?x8x8xf32>
}
