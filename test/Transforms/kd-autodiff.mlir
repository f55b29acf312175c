// RUN: kd-opt --kd-autodiff -split-input-file -verify-diagnostics %s | FileCheck %s

// A conv -> bn -> relu -> pool -> linear student trained on labels: the
// backward runs from the loss to the first conv, every op once, in reverse
// order; the batch input and the running statistics get no gradient, and
// every weight, scale and bias is bound.
// CHECK-LABEL: kd.stage @fit
// CHECK: %[[X:.*]] = kd.batch_input
// CHECK: %[[CW:.*]] = kd.param "S/l1.conv0.weight"
// CHECK: %[[C:.*]] = kd.conv2d %[[X]], %[[CW]]
// CHECK: %[[G:.*]] = kd.param "S/l1.bn0.weight"
// CHECK: %[[M:.*]] = kd.param "S/l1.bn0.running_mean"
// CHECK: %[[V:.*]] = kd.param "S/l1.bn0.running_var"
// CHECK: %[[N:.*]] = kd.batch_norm %[[C]]
// CHECK: %[[R:.*]] = kd.relu %[[N]]
// CHECK: %[[P:.*]] = kd.pool2d max %[[R]]
// CHECK: %[[F:.*]] = kd.reshape %[[P]]
// CHECK: %[[LW:.*]] = kd.param "S/linear0.weight"
// CHECK: %[[LB:.*]] = kd.param "S/linear0.bias"
// CHECK: %[[Y:.*]] = kd.linear %[[F]], %[[LW]], %[[LB]]
// CHECK: %[[CE:.*]] = kd.loss.ce %[[Y]]
// CHECK: %[[LOSS:.*]] = kd.loss.combine %[[CE]] weights [1.000000e+00]
// CHECK-NEXT: %[[GY:.*]] = kd.loss.grad %[[CE]] scale 1.000000e+00 wanted [true, false] : tensor<?x10xf32>
// CHECK-NEXT: %[[LG:.*]]:3 = kd.linear_bwd %[[F]], %[[LW]], %[[GY]] wanted [true, true, true]
// CHECK-NEXT: %[[GP:.*]] = kd.reshape_bwd %[[LG]]#0 wanted [true] : (tensor<?x32xf32>) -> tensor<?x8x2x2xf32>
// CHECK-NEXT: %[[GR:.*]] = kd.pool2d_bwd %[[R]], %[[GP]] max kernel [2, 2] stride [2, 2] pad [0, 0] wanted [true]
// CHECK-NEXT: %[[GN:.*]] = kd.activation_bwd %[[N]], %[[GR]] relu wanted [true]
// CHECK-NEXT: %[[BG:.*]]:3 = kd.batch_norm_bwd %[[C]], %[[G]], %[[M]], %[[V]], %[[GN]] eps 1.000000e-05 momentum 1.000000e-01 wanted [true, true, true]
// CHECK-NEXT: %[[GCW:.*]] = kd.conv2d_bwd %[[X]], %[[CW]], %[[BG]]#0 stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 wanted [false, true, false] : (tensor<?x1x4x4xf32>, tensor<8x1x3x3xf32>, tensor<?x8x4x4xf32>) -> tensor<8x1x3x3xf32>
// CHECK-NEXT: kd.param_grad "S/l1.conv0.weight" %[[GCW]] : tensor<8x1x3x3xf32>
// CHECK-NEXT: kd.param_grad "S/l1.bn0.weight" %[[BG]]#1
// CHECK-NEXT: kd.param_grad "S/l1.bn0.bias" %[[BG]]#2
// CHECK-NEXT: kd.param_grad "S/linear0.weight" %[[LG]]#1
// CHECK-NEXT: kd.param_grad "S/linear0.bias" %[[LG]]#2
// CHECK-NOT: kd.param_grad
// CHECK-NEXT: kd.minimize %[[LOSS]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x1x4x4xf32>) -> tensor<?x1x4x4xf32> {
  kd.output %x : tensor<?x1x4x4xf32>
}
kd.stage @fit attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %cw = kd.param "S/l1.conv0.weight" weight kaiming_normal : tensor<8x1x3x3xf32>
  %c = kd.conv2d %x, %cw stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x4xf32>
  %g = kd.param "S/l1.bn0.weight" weight ones : tensor<8xf32>
  %b = kd.param "S/l1.bn0.bias" bias zeros : tensor<8xf32>
  %m = kd.param "S/l1.bn0.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "S/l1.bn0.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %r = kd.relu %n : tensor<?x8x4x4xf32>
  %p = kd.pool2d max %r kernel [2, 2] stride [2, 2] pad [0, 0] : tensor<?x8x4x4xf32> -> tensor<?x8x2x2xf32>
  %f = kd.reshape %p : tensor<?x8x2x2xf32> -> tensor<?x32xf32>
  %lw = kd.param "S/linear0.weight" weight xavier_uniform : tensor<10x32xf32>
  %lb = kd.param "S/linear0.bias" bias zeros : tensor<10xf32>
  %y = kd.linear %f, %lw, %lb : (tensor<?x32xf32>, tensor<10x32xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %y, %labels smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [1.0] bias 0.0
  kd.minimize %loss
}

// -----

// Distillation from a frozen teacher: the teacher's ops (inlined, their
// parameters marked frozen) get no backward op and no parameter gradient;
// the KL asks only for the student side. The student logits are read by
// both losses, so their two gradients are summed; the combine weights
// become each loss's gradient scale.
// CHECK-LABEL: kd.stage @distill
// CHECK: %[[SY:.*]] = kd.linear
// CHECK: %[[TY:.*]] = kd.linear %{{.*}}, %{{.*}} : (tensor<?x32xf32>
// CHECK: %[[KL:.*]] = kd.loss.kl %[[SY]], %[[TY]]
// CHECK: %[[CE:.*]] = kd.loss.ce %[[SY]]
// CHECK: kd.loss.combine %[[KL]], %[[CE]] weights [9.000000e-01, 1.000000e-01]
// CHECK-DAG: %[[GCE:.*]] = kd.loss.grad %[[CE]] scale 1.000000e-01 wanted [true, false]
// CHECK-DAG: %[[GKL:.*]] = kd.loss.grad %[[KL]] scale 9.000000e-01 wanted [true, false]
// CHECK: %[[SUM:.*]] = kd.add %[[GCE]], %[[GKL]] : tensor<?x10xf32>, tensor<?x10xf32>
// CHECK: %[[SG:.*]]:2 = kd.linear_bwd %{{.*}}, %{{.*}}, %[[SUM]] wanted [false, true, true]
// CHECK-NOT: kd.linear_bwd
// CHECK-NOT: kd.activation_bwd
// CHECK-NOT: kd.param_grad "T/
// CHECK: kd.param_grad "S/fc.weight" %[[SG]]#0
// CHECK-NEXT: kd.param_grad "S/fc.bias" %[[SG]]#1
// CHECK-NOT: kd.param_grad "T/
// CHECK: kd.minimize
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  kd.output %x : tensor<?x16xf32>
}
kd.model @T_model(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  kd.output %x : tensor<?x16xf32>
}
kd.stage @distill attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [@T_model], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x16xf32>
  %sw = kd.param "S/fc.weight" weight xavier_uniform : tensor<10x16xf32>
  %sb = kd.param "S/fc.bias" bias zeros : tensor<10xf32>
  %sy = kd.linear %x, %sw, %sb : (tensor<?x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %tw0 = kd.param "T/fc0.weight" weight xavier_uniform {frozen} : tensor<32x16xf32>
  %th = kd.linear %x, %tw0 : (tensor<?x16xf32>, tensor<32x16xf32>) -> tensor<?x32xf32>
  %tr = kd.relu %th : tensor<?x32xf32>
  %tw1 = kd.param "T/fc1.weight" weight xavier_uniform {frozen} : tensor<10x32xf32>
  %ty = kd.linear %tr, %tw1 : (tensor<?x32xf32>, tensor<10x32xf32>) -> tensor<?x10xf32>
  %kl = kd.loss.kl %sy, %ty temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x10xf32>, tensor<?x10xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %sy, %labels smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
  %loss = kd.loss.combine %kl, %ce weights [0.9, 0.1] bias 0.0
  kd.minimize %loss
}

// -----

// A value read twice inside the model (a residual block): the gradient of
// %h is the sum of what the add's lhs path and its rhs give.
// CHECK-LABEL: kd.stage @residual
// CHECK: %[[H:.*]] = kd.linear %{{.*}}, %[[W0:.*]] :
// CHECK: %[[R:.*]] = kd.relu %[[H]]
// CHECK: %[[A:.*]] = kd.add %[[R]], %[[H]]
// CHECK: %[[GA:.*]] = kd.loss.grad
// CHECK: %[[LG:.*]]:2 = kd.linear_bwd %[[A]], %{{.*}}, %[[GA]] wanted [true, true, false]
// CHECK: %[[AG:.*]]:2 = kd.binary_bwd %[[R]], %[[H]], %[[LG]]#0 add wanted [true, true]
// CHECK: %[[RG:.*]] = kd.activation_bwd %[[H]], %[[AG]]#0 relu wanted [true]
// CHECK: %[[HG:.*]] = kd.add %[[AG]]#1, %[[RG]] : tensor<?x16xf32>, tensor<?x16xf32>
// CHECK: %[[W0G:.*]] = kd.linear_bwd %{{.*}}, %[[W0]], %[[HG]] wanted [false, true, false]
// CHECK: kd.param_grad "S/fc0.weight" %[[W0G]]
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 16 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  kd.output %x : tensor<?x16xf32>
}
kd.stage @residual attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x16xf32>
  %w0 = kd.param "S/fc0.weight" weight xavier_uniform : tensor<16x16xf32>
  %h = kd.linear %x, %w0 : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %r = kd.relu %h : tensor<?x16xf32>
  %a = kd.add %r, %h : tensor<?x16xf32>, tensor<?x16xf32>
  %w1 = kd.param "S/fc1.weight" weight xavier_uniform : tensor<16x16xf32>
  %y = kd.linear %a, %w1 : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %y, %labels smoothing 0.0 : tensor<?x16xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [2.0] bias 0.0
  kd.minimize %loss
}

// -----

// A trainable parameter the loss does not reach is an error at the
// parameter, naming it, its model and the stage.
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  kd.output %x : tensor<?x16xf32>
}
kd.student @S untrained attributes {model = @S_model}
kd.stage @distill attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x16xf32>
  %w = kd.param "S/fc.weight" weight xavier_uniform : tensor<10x16xf32>
  %y = kd.linear %x, %w : (tensor<?x16xf32>, tensor<10x16xf32>) -> tensor<?x10xf32>
  // expected-error @below {{parameter 'S/l3.conv.weight' of the trained model 'S' receives no gradient from the loss of stage 'distill'}}
  %unused = kd.param "S/l3.conv.weight" weight kaiming_normal : tensor<10x10xf32>
  %e = kd.linear %y, %unused : (tensor<?x10xf32>, tensor<10x10xf32>) -> tensor<?x10xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %y, %labels smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [1.0] bias 0.0
  kd.minimize %loss
}

// -----

// A stage must be flat: an apply left means inlining did not run.
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  kd.tap "logits" %x value : tensor<?x10xf32>
  kd.output %x : tensor<?x10xf32>
}
kd.stage @fit attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x10xf32>
  // expected-error @below {{'kd.apply' op is left in stage 'fit': run --kd-inline-models before --kd-autodiff}}
  %y = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %y, %labels smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [1.0] bias 0.0
  kd.minimize %loss
}

// -----

// The gradient cannot pass through an op without a backward rule.
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  kd.output %x : tensor<?x16xf32>
}
kd.stage @fit attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x16xf32>
  %w = kd.param "S/fc.weight" weight xavier_uniform : tensor<10x16xf32>
  %y = kd.linear %x, %w : (tensor<?x16xf32>, tensor<10x16xf32>) -> tensor<?x10xf32>
  // expected-error @below {{'kd.normalize' op has no backward rule, but the loss of stage 'fit' needs a gradient through it}}
  %n = kd.normalize %y : tensor<?x10xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %n, %labels smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [1.0] bias 0.0
  kd.minimize %loss
}

// -----

// A relation loss between two trainable sides (the student's embedding and
// a learned projection standing for a fusion module): the fused kernel
// writes both gradients, and each reaches its own weight.
// CHECK-LABEL: kd.stage @both_sides
// CHECK: %[[SW:.*]] = kd.param "S/embed.weight"
// CHECK: %[[SE:.*]] = kd.linear %{{[0-9]+}}, %[[SW]] :
// CHECK: %[[FW:.*]] = kd.param "adapters/s.attention_fuse0.proj0.weight"
// CHECK: %[[FE:.*]] = kd.linear %{{[0-9]+}}, %[[FW]] :
// CHECK: %[[RD:.*]] = kd.loss.rkd_distance %[[SE]], %[[FE]]
// CHECK: %[[G:.*]]:2 = kd.loss.grad %[[RD]] scale 2.500000e+01 wanted [true, true] : tensor<?x8xf32>, tensor<?x16xf32>
// CHECK-DAG: kd.linear_bwd %{{[0-9]+}}, %[[FW]], %[[G]]#1 wanted [false, true, false]
// CHECK-DAG: kd.linear_bwd %{{[0-9]+}}, %[[SW]], %[[G]]#0 wanted [false, true, false]
// CHECK-DAG: kd.param_grad "S/embed.weight"
// CHECK-DAG: kd.param_grad "adapters/s.attention_fuse0.proj0.weight"
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.stage @both_sides attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x16xf32>
  %sw = kd.param "S/embed.weight" weight xavier_uniform : tensor<8x16xf32>
  %s = kd.linear %x, %sw : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %fw = kd.param "adapters/s.attention_fuse0.proj0.weight" weight xavier_uniform : tensor<16x16xf32>
  %f = kd.linear %x, %fw : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %rd = kd.loss.rkd_distance %s, %f : tensor<?x8xf32>, tensor<?x16xf32>
  %loss = kd.loss.combine %rd weights [25.0] bias 0.0
  kd.minimize %loss
}

// -----

// `detach(f)` is kd.stop_gradient: the relation term asks only for the
// student's gradient, the fusion's weight is trained by its anchor term
// alone, and the stop_gradient is gone after the pass (its uses read f).
// CHECK-LABEL: kd.stage @detached
// CHECK: %[[SW:.*]] = kd.param "S/embed.weight"
// CHECK: %[[SE:.*]] = kd.linear %{{[0-9]+}}, %[[SW]] :
// CHECK: %[[FW:.*]] = kd.param "adapters/s.attention_fuse0.proj0.weight"
// CHECK: %[[FE:.*]] = kd.linear %{{[0-9]+}}, %[[FW]] :
// CHECK-NOT: kd.stop_gradient
// CHECK: %[[RD:.*]] = kd.loss.rkd_distance %[[SE]], %[[FE]]
// CHECK: %[[CE:.*]] = kd.loss.ce %[[FE]]
// CHECK-DAG: %[[GCE:.*]] = kd.loss.grad %[[CE]] scale 1.000000e+00 wanted [true, false] : tensor<?x10xf32>
// CHECK-DAG: %[[GRD:.*]] = kd.loss.grad %[[RD]] scale 2.500000e+01 wanted [true, false] : tensor<?x8xf32>
// CHECK-DAG: kd.linear_bwd %{{[0-9]+}}, %[[FW]], %[[GCE]] wanted [false, true, false]
// CHECK-DAG: kd.linear_bwd %{{[0-9]+}}, %[[SW]], %[[GRD]] wanted [false, true, false]
// CHECK-NOT: kd.stop_gradient
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.stage @detached attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x16xf32>
  %sw = kd.param "S/embed.weight" weight xavier_uniform : tensor<8x16xf32>
  %s = kd.linear %x, %sw : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %fw = kd.param "adapters/s.attention_fuse0.proj0.weight" weight xavier_uniform : tensor<10x16xf32>
  %f = kd.linear %x, %fw : (tensor<?x16xf32>, tensor<10x16xf32>) -> tensor<?x10xf32>
  %d = kd.stop_gradient %f : tensor<?x10xf32>
  %rd = kd.loss.rkd_distance %s, %d : tensor<?x8xf32>, tensor<?x10xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %f, %labels smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
  %loss = kd.loss.combine %rd, %ce weights [25.0, 1.0] bias 0.0
  kd.minimize %loss
}

// -----

// Detached everywhere, a trainable weight is reached by nothing.
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 10 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.stage @unreached attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x16xf32>
  %sw = kd.param "S/embed.weight" weight xavier_uniform : tensor<8x16xf32>
  %s = kd.linear %x, %sw : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  // expected-error @below {{parameter 'adapters/s.attention_fuse0.proj0.weight' receives no gradient from the loss of stage 'unreached'}}
  %fw = kd.param "adapters/s.attention_fuse0.proj0.weight" weight xavier_uniform : tensor<16x16xf32>
  %f = kd.linear %x, %fw : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %d = kd.stop_gradient %f : tensor<?x16xf32>
  %rd = kd.loss.rkd_distance %s, %d : tensor<?x8xf32>, tensor<?x16xf32>
  %loss = kd.loss.combine %rd weights [25.0] bias 0.0
  kd.minimize %loss
}
