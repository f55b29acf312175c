// RUN: kd-opt --kd-fuse -split-input-file %s | FileCheck %s

// Inference: conv + bias + batch norm + residual add + relu is one conv
// with the chain [scale_shift, sum, relu].
// CHECK-LABEL: kd.evaluate @M
// CHECK: %[[X:.*]] = kd.batch_input
// CHECK: %[[W:.*]] = kd.param "M/conv.weight"
// CHECK: %[[BIAS:.*]] = kd.param "M/conv.bias"
// CHECK: %[[S:.*]], %[[T:.*]] = kd.bn_scale_shift %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} eps 1.000000e-05 : tensor<8xf32>
// CHECK-NOT: kd.batch_norm
// CHECK-NOT: kd.relu
// CHECK: %[[Y:.*]] = kd.conv2d_fused %[[X]], %[[W]], %[[BIAS]] post_ops ["scale_shift", "sum", "relu"](%[[S]], %[[T]], %[[X]]) stride [1, 1]
// CHECK: kd.yield %[[Y]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  kd.output %x : tensor<?x8x4x4xf32>
}
kd.evaluate @M on @d "test" metrics ["accuracy"] using {
  %x = kd.batch_input : tensor<?x8x4x4xf32>
  %w = kd.param "M/conv.weight" weight zeros : tensor<8x8x3x3xf32>
  %cb = kd.param "M/conv.bias" bias zeros : tensor<8xf32>
  %c = kd.conv2d %x, %w, %cb stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "M/bn.weight" weight ones : tensor<8xf32>
  %b = kd.param "M/bn.bias" bias zeros : tensor<8xf32>
  %m = kd.param "M/bn.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "M/bn.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %a = kd.add %n, %x : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>
  %r = kd.relu %a : tensor<?x8x4x4xf32>
  kd.yield %r : tensor<?x8x4x4xf32>
}

// -----

// The conv's output is also read elsewhere (an inlined tap a loss reads):
// nothing is fused away.
// CHECK-LABEL: kd.evaluate @M
// CHECK-NOT: kd.conv2d_fused
// CHECK: %[[C:.*]] = kd.conv2d
// CHECK: %[[R:.*]] = kd.relu %[[C]]
// CHECK: kd.mean %[[R]], %[[C]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  kd.output %x : tensor<?x8x4x4xf32>
}
kd.evaluate @M on @d "test" metrics ["accuracy"] using {
  %x = kd.batch_input : tensor<?x8x4x4xf32>
  %w = kd.param "M/conv.weight" weight zeros : tensor<8x8x3x3xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x4x4xf32>
  %r = kd.relu %c : tensor<?x8x4x4xf32>
  %e = kd.mean %r, %c : tensor<?x8x4x4xf32>
  kd.yield %e : tensor<?x8x4x4xf32>
}

// -----

// Training: a batch norm (batch statistics) is not fused; a linear + relu
// whose backward is needed fuses, and its backward becomes the fused
// backward reading the post-activation output. The CE and KL of the same
// logits share one log-softmax: one logit group with the combine weights.
// CHECK-LABEL: kd.stage @distill
// CHECK: %[[X:.*]] = kd.batch_input
// CHECK: %[[C:.*]] = kd.conv2d %[[X]]
// CHECK: kd.batch_norm %[[C]]
// CHECK: %[[W:.*]] = kd.param "S/fc.weight"
// CHECK-NOT: kd.relu
// CHECK: %[[H:.*]] = kd.linear_fused %[[F:.*]], %[[W]] post_ops ["relu"] :
// CHECK: %[[V:.*]]:2 = kd.loss.logit_group %[[H]](%[[T:.*]], %[[Y:.*]]) terms [{kind = "kl", reduction = "batchmean", t2 = true, temperature = 4.000000e+00 : f64, weight = 9.000000e-01 : f64}, {kind = "ce", smoothing = 0.000000e+00 : f64, weight = 1.000000e-01 : f64}]
// CHECK: kd.loss.combine %[[V]]#0, %[[V]]#1 weights [9.000000e-01, 1.000000e-01]
// CHECK-NOT: kd.activation_bwd
// CHECK-NOT: kd.linear_bwd
// CHECK: %[[GW:.*]] = kd.linear_fused_bwd %[[F]], %[[W]], %[[H]], %[[G:.*]] activation relu wanted [false, true, false]
// CHECK: kd.param_grad "S/fc.weight" %[[GW]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S(%x: tensor<?x1x4x4xf32>) -> tensor<?x1x4x4xf32> {
  kd.output %x : tensor<?x1x4x4xf32>
}
kd.stage @distill attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@S], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %w = kd.param "S/conv.weight" weight zeros : tensor<8x1x3x3xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "S/bn.weight" weight ones : tensor<8xf32>
  %b = kd.param "S/bn.bias" bias zeros : tensor<8xf32>
  %m = kd.param "S/bn.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "S/bn.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %f = kd.reshape %n : tensor<?x8x4x4xf32> -> tensor<?x128xf32>
  %fw = kd.param "S/fc.weight" weight zeros : tensor<8x128xf32>
  %z = kd.linear %f, %fw : (tensor<?x128xf32>, tensor<8x128xf32>) -> tensor<?x8xf32>
  %h = kd.relu %z : tensor<?x8xf32>
  %t = kd.batch_input : tensor<?x8xf32>
  %kl = kd.loss.kl %h, %t temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x8xf32>, tensor<?x8xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %h, %y smoothing 0.0 : tensor<?x8xf32>, tensor<?xi64>
  %loss = kd.loss.combine %kl, %ce weights [0.9, 0.1] bias 0.0
  %gh = kd.batch_input : tensor<?x8xf32>
  %gz = kd.activation_bwd %z, %gh relu wanted [true] : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %gfw = kd.linear_bwd %f, %fw, %gz wanted [false, true, false] : (tensor<?x128xf32>, tensor<8x128xf32>, tensor<?x8xf32>) -> tensor<8x128xf32>
  kd.param_grad "S/fc.weight" %gfw : tensor<8x128xf32>
  kd.minimize %loss
}

// -----

// After autodiff the group also takes over the losses' kd.loss.grad ops and
// the kd.add summing their logits gradients: it yields that sum as `grad`,
// and each term's weight is its loss.grad's scale, the loss's weight in the
// minimised loss (here the outer 2 * (...) doubles the combine's weights).
// CHECK-LABEL: kd.stage @grads
// CHECK: %[[V:.*]]:2, %[[G:.*]] = kd.loss.logit_group %{{.*}}(%{{.*}}, %{{.*}}) terms [{kind = "kl", {{.*}}weight = 1.800000e+00 : f64}, {kind = "ce", {{.*}}weight = 2.000000e-01 : f64}] : tensor<?x8xf32>(tensor<?x8xf32>, tensor<?xi64>) -> tensor<f32>, tensor<f32> grad tensor<?x8xf32>
// CHECK-NOT: kd.loss.grad
// CHECK-NOT: kd.add
// CHECK: kd.loss.combine %[[V]]#0, %[[V]]#1 weights [9.000000e-01, 1.000000e-01]
// CHECK: _bwd {{.*}}, %[[G]] wanted [false, true, false]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.output %x : tensor<?x8xf32>
}
kd.stage @grads attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@S], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<8x8xf32>
  %s = kd.linear %x, %w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %t = kd.batch_input : tensor<?x8xf32>
  %kl = kd.loss.kl %s, %t temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x8xf32>, tensor<?x8xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %s, %y smoothing 0.0 : tensor<?x8xf32>, tensor<?xi64>
  %inner = kd.loss.combine %kl, %ce weights [0.9, 0.1] bias 0.0
  %loss = kd.loss.combine %inner weights [2.0] bias 0.0
  %gce = kd.loss.grad %ce scale 0.2 wanted [true, false] : tensor<?x8xf32>
  %gkl = kd.loss.grad %kl scale 1.8 wanted [true, false] : tensor<?x8xf32>
  %gs = kd.add %gce, %gkl : tensor<?x8xf32>, tensor<?x8xf32>
  %gw = kd.linear_bwd %x, %w, %gs wanted [false, true, false] : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<?x8xf32>) -> tensor<8x8xf32>
  kd.param_grad "S/fc.weight" %gw : tensor<8x8xf32>
  kd.minimize %loss
}

// -----

// The logits gradients of the CE and KL are summed together with an MSE's:
// no value is their sum alone, so the group could not replace their
// gradients, and the losses stay separate kernels.
// CHECK-LABEL: kd.stage @mixed
// CHECK-NOT: kd.loss.logit_group
// CHECK: kd.loss.kl
// CHECK: kd.loss.ce
// CHECK: kd.loss.grad
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.output %x : tensor<?x8xf32>
}
kd.stage @mixed attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@S], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<8x8xf32>
  %s = kd.linear %x, %w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %t = kd.batch_input : tensor<?x8xf32>
  %kl = kd.loss.kl %s, %t temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x8xf32>, tensor<?x8xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %s, %y smoothing 0.0 : tensor<?x8xf32>, tensor<?xi64>
  %m = kd.loss.mse %s, %t reduction mean : tensor<?x8xf32>, tensor<?x8xf32>
  %loss = kd.loss.combine %kl, %ce, %m weights [0.5, 0.3, 0.2] bias 0.0
  %gm = kd.loss.grad %m scale 0.2 wanted [true, false] : tensor<?x8xf32>
  %gce = kd.loss.grad %ce scale 0.3 wanted [true, false] : tensor<?x8xf32>
  %a = kd.add %gm, %gce : tensor<?x8xf32>, tensor<?x8xf32>
  %gkl = kd.loss.grad %kl scale 0.5 wanted [true, false] : tensor<?x8xf32>
  %gs = kd.add %a, %gkl : tensor<?x8xf32>, tensor<?x8xf32>
  %gw = kd.linear_bwd %x, %w, %gs wanted [false, true, false] : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<?x8xf32>) -> tensor<8x8xf32>
  kd.param_grad "S/fc.weight" %gw : tensor<8x8xf32>
  kd.minimize %loss
}

// -----

// A frozen teacher in a training stage runs as inference: its conv (frozen
// weight) takes the inference chain, its batch norm (on running statistics,
// `inference`) as scale_shift, the residual add and the relu. The student's
// conv, whose weight trains, keeps the training path: its batch norm uses
// batch statistics and stays, and only its relu (after the add) would fuse.
// CHECK-LABEL: kd.stage @frozen_teacher
// CHECK: %[[X:.*]] = kd.batch_input
// CHECK: %[[SW:.*]] = kd.param "S/conv.weight"
// CHECK: %[[SC:.*]] = kd.conv2d %[[X]], %[[SW]]
// CHECK: kd.batch_norm %[[SC]]
// CHECK: %[[TW:.*]] = kd.param "T/conv.weight" weight zeros {frozen}
// CHECK: %[[S:.*]], %[[T:.*]] = kd.bn_scale_shift
// CHECK-NOT: kd.batch_norm
// CHECK-NOT: kd.add
// CHECK-NOT: kd.relu
// CHECK: %[[TY:.*]] = kd.conv2d_fused %[[X]], %[[TW]] post_ops ["scale_shift", "sum", "relu"](%[[S]], %[[T]], %[[X]])
// CHECK: kd.loss.mse %{{.*}}, %[[TY]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S(%x: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  kd.output %x : tensor<?x8x4x4xf32>
}
kd.stage @frozen_teacher attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@S], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8x4x4xf32>
  %sw = kd.param "S/conv.weight" weight zeros : tensor<8x8x3x3xf32>
  %sc = kd.conv2d %x, %sw stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x4x4xf32>
  %sg = kd.param "S/bn.weight" weight ones : tensor<8xf32>
  %sb = kd.param "S/bn.bias" bias zeros : tensor<8xf32>
  %sm = kd.param "S/bn.running_mean" state zeros : tensor<8xf32>
  %sv = kd.param "S/bn.running_var" state ones : tensor<8xf32>
  %sn = kd.batch_norm %sc, %sg, %sb, %sm, %sv eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %tw = kd.param "T/conv.weight" weight zeros {frozen} : tensor<8x8x3x3xf32>
  %tc = kd.conv2d %x, %tw stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x4x4xf32>
  %tg = kd.param "T/bn.weight" weight ones {frozen} : tensor<8xf32>
  %tb = kd.param "T/bn.bias" bias zeros {frozen} : tensor<8xf32>
  %tm = kd.param "T/bn.running_mean" state zeros {frozen} : tensor<8xf32>
  %tv = kd.param "T/bn.running_var" state ones {frozen} : tensor<8xf32>
  %tn = kd.batch_norm %tc, %tg, %tb, %tm, %tv eps 1.0e-05 momentum 0.1 {inference} : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %ta = kd.add %tn, %x : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>
  %tr = kd.relu %ta : tensor<?x8x4x4xf32>
  %loss = kd.loss.mse %sn, %tr reduction mean : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>
  kd.minimize %loss
}

// -----

// A frozen layer whose batch norm uses batch statistics (no `inference`: a
// frozen conv of a trained model) does not take it into the chain, and a
// tap of the frozen teacher that a feature loss reads (the batch norm's
// output) ends the chain there: the loss reads the fused conv's result and
// the relu stays its own op.
// CHECK-LABEL: kd.stage @frozen_tap
// CHECK: %[[FW:.*]] = kd.param "S/conv.weight" weight zeros {frozen}
// CHECK: %[[FC:.*]] = kd.conv2d %{{.*}}, %[[FW]]
// CHECK: kd.batch_norm %[[FC]]
// CHECK: %[[S:.*]], %[[T:.*]] = kd.bn_scale_shift
// CHECK: %[[TN:.*]] = kd.conv2d_fused %{{.*}}, %{{.*}} post_ops ["scale_shift"](%[[S]], %[[T]])
// CHECK: %[[TR:.*]] = kd.relu %[[TN]]
// CHECK: kd.loss.mse %{{.*}}, %[[TN]]
// CHECK: kd.loss.mse %{{.*}}, %[[TR]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S(%x: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  kd.output %x : tensor<?x8x4x4xf32>
}
kd.stage @frozen_tap attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@S], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8x4x4xf32>
  %sw = kd.param "S/conv.weight" weight zeros {frozen} : tensor<8x8x3x3xf32>
  %sc = kd.conv2d %x, %sw stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x4x4xf32>
  %sg = kd.param "S/bn.weight" weight ones : tensor<8xf32>
  %sb = kd.param "S/bn.bias" bias zeros : tensor<8xf32>
  %sm = kd.param "S/bn.running_mean" state zeros : tensor<8xf32>
  %sv = kd.param "S/bn.running_var" state ones : tensor<8xf32>
  %sn = kd.batch_norm %sc, %sg, %sb, %sm, %sv eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %tw = kd.param "T/conv.weight" weight zeros {frozen} : tensor<8x8x3x3xf32>
  %tc = kd.conv2d %x, %tw stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x4x4xf32>
  %tg = kd.param "T/bn.weight" weight ones {frozen} : tensor<8xf32>
  %tb = kd.param "T/bn.bias" bias zeros {frozen} : tensor<8xf32>
  %tm = kd.param "T/bn.running_mean" state zeros {frozen} : tensor<8xf32>
  %tv = kd.param "T/bn.running_var" state ones {frozen} : tensor<8xf32>
  %tn = kd.batch_norm %tc, %tg, %tb, %tm, %tv eps 1.0e-05 momentum 0.1 {inference} : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %tr = kd.relu %tn : tensor<?x8x4x4xf32>
  %l1 = kd.loss.mse %sn, %tn reduction mean : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>
  %l2 = kd.loss.mse %sn, %tr reduction mean : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>
  %loss = kd.loss.combine %l1, %l2 weights [1.0, 1.0] bias 0.0
  kd.minimize %loss
}

// -----

// Gradients flow through a frozen block (a graft: the teacher's layer
// between two trained ones): its batch norm's backward reads the conv's
// output and the relu's backward the batch norm's, so neither value can be
// fused away, and the frozen conv stays as it was.
// CHECK-LABEL: kd.stage @through_frozen
// CHECK-NOT: kd.conv2d_fused
// CHECK: %[[TC:.*]] = kd.conv2d
// CHECK: %[[TN:.*]] = kd.batch_norm %[[TC]]
// CHECK: kd.relu %[[TN]]
// CHECK: kd.activation_bwd %[[TN]]
// CHECK: kd.batch_norm_bwd %[[TC]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S(%x: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  kd.output %x : tensor<?x8x4x4xf32>
}
kd.stage @through_frozen attributes {kind = "graft", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@S], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8x4x4xf32>
  %tw = kd.param "T/conv.weight" weight zeros {frozen} : tensor<8x8x3x3xf32>
  %tc = kd.conv2d %x, %tw stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x4x4xf32>
  %tg = kd.param "T/bn.weight" weight ones {frozen} : tensor<8xf32>
  %tb = kd.param "T/bn.bias" bias zeros {frozen} : tensor<8xf32>
  %tm = kd.param "T/bn.running_mean" state zeros {frozen} : tensor<8xf32>
  %tv = kd.param "T/bn.running_var" state ones {frozen} : tensor<8xf32>
  %tn = kd.batch_norm %tc, %tg, %tb, %tm, %tv eps 1.0e-05 momentum 0.1 {inference} : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %tr = kd.relu %tn : tensor<?x8x4x4xf32>
  %y = kd.batch_input : tensor<?x8x4x4xf32>
  %loss = kd.loss.mse %tr, %y reduction mean : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>
  %g = kd.loss.grad %loss scale 1.0 wanted [true, false] : tensor<?x8x4x4xf32>
  %gn = kd.activation_bwd %tn, %g relu wanted [true] : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  %gc = kd.batch_norm_bwd %tc, %tg, %tm, %tv, %gn eps 1.0e-05 momentum 0.1 wanted [true, false, false] {inference} : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  %gx = kd.conv2d_bwd %x, %tw, %gc stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 wanted [true, false, false] : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>, tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  kd.minimize %loss
}
