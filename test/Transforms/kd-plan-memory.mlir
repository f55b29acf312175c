// RUN: kd-opt --kd-plan-memory -split-input-file -verify-diagnostics %s | FileCheck %s

// Every buffer is 64 bytes at batch 2 (16 floats, a label vector and the
// scalars round up to the alignment). Placed in definition order: %x at 0;
// %a overlaps %x, so 64; %b is born when %x is dead and reuses 0; %c (read
// by the loss) overlaps %b: 64. The labels are written before the first
// kernel, so they live from the step's start and overlap all of these:
// 128. The loss overlaps %c and the labels: 0; the combine reuses 64.
// CHECK-LABEL: kd.stage @chain
// CHECK-SAME: arena_bytes = 192 : i64
// CHECK-SAME: naive_bytes = 448 : i64
// CHECK-SAME: plan_batch = 2 : i64
// CHECK: kd.batch_input {offsets = array<i64: 0>}
// CHECK: kd.relu %{{.*}} {offsets = array<i64: 64>}
// CHECK: kd.sigmoid %{{.*}} {offsets = array<i64: 0>}
// CHECK: kd.tanh %{{.*}} {offsets = array<i64: 64>}
// CHECK: kd.batch_labels {offsets = array<i64: 128>}
// CHECK: kd.loss.ce {{.*}} {offsets = array<i64: 0>}
// CHECK: kd.loss.combine {{.*}} {offsets = array<i64: 64>}
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.tap "logits" %x value : tensor<?x8xf32>
  kd.output %x : tensor<?x8xf32>
}
kd.stage @chain attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8xf32>
  %a = kd.relu %x : tensor<?x8xf32>
  %b = kd.sigmoid %a : tensor<?x8xf32>
  %c = kd.tanh %b : tensor<?x8xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %l = kd.loss.ce %c, %y smoothing 0.0 : tensor<?x8xf32>, tensor<?xi64>
  %t = kd.loss.combine %l weights [1.0] bias 0.0
  kd.minimize %t
}

// -----

// Largest first: the 256-byte %big (never read, alive from the step's
// start, when the executor writes it, to its op) takes 0; %x, read by the
// backward at the end, overlaps it and goes above (256). The linear, born
// after %big is dead, reuses 0. %t is an input too, so it is alive from the
// start while %big, %x and the linear are: 384. The loss takes the gap
// above the linear (64), the combine 0 once the linear is dead.
// The parameter, and its gradient bound by kd.param_grad, are outside the
// arena; SGD with momentum keeps one more copy of the trained bytes.
// CHECK-LABEL: kd.stage @params
// CHECK-SAME: arena_bytes = 448 : i64
// CHECK-SAME: grad_bytes = 64 : i64
// CHECK-SAME: naive_bytes = 640 : i64
// CHECK-SAME: optimizer_state_bytes = 64 : i64
// CHECK-SAME: param_bytes = 64 : i64
// CHECK: kd.batch_input {offsets = array<i64: 256>} : tensor<?x8xf32>
// CHECK: kd.param "M/w" weight zeros : tensor<2x8xf32>
// CHECK: kd.batch_input {offsets = array<i64: 0>} : tensor<?x16xf32>
// CHECK: kd.linear {{.*}} {offsets = array<i64: 0>}
// CHECK: kd.batch_input {offsets = array<i64: 384>} : tensor<?x2xf32>
// CHECK: kd.loss.mse {{.*}} {offsets = array<i64: 64>}
// CHECK: %[[GW:.*]] = kd.linear_bwd {{.*}} wanted [false, true, false] : (
// CHECK: kd.param_grad "M/w" %[[GW]]
// CHECK: kd.loss.combine {{.*}} {offsets = array<i64: 0>}
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.tap "logits" %x value : tensor<?x8xf32>
  kd.output %x : tensor<?x8xf32>
}
kd.stage @params attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = [], optimizer = {kind = "sgd", lr = 0.1 : f64, momentum = 0.9 : f64}} {
  %x = kd.batch_input : tensor<?x8xf32>
  %w = kd.param "M/w" weight zeros : tensor<2x8xf32>
  %big = kd.batch_input : tensor<?x16xf32>
  %y = kd.linear %x, %w : (tensor<?x8xf32>, tensor<2x8xf32>) -> tensor<?x2xf32>
  %t = kd.batch_input : tensor<?x2xf32>
  %l = kd.loss.mse %y, %t reduction mean : tensor<?x2xf32>, tensor<?x2xf32>
  %gw = kd.linear_bwd %x, %w, %t wanted [false, true, false] : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<?x2xf32>) -> tensor<2x8xf32>
  kd.param_grad "M/w" %gw : tensor<2x8xf32>
  %s = kd.loss.combine %l weights [1.0] bias 0.0
  kd.minimize %s
}

// -----

// Labels defined late still live from the step's start: planned from their
// op (after %x is dead) they would share 64 with %a, which the relu writes
// after the executor has loaded the labels. Every buffer is 64 bytes.
// CHECK-LABEL: kd.stage @late_labels
// CHECK-SAME: arena_bytes = 192 : i64
// CHECK: kd.batch_input {offsets = array<i64: 0>}
// CHECK: kd.relu %{{.*}} {offsets = array<i64: 64>}
// CHECK: kd.sigmoid %{{.*}} {offsets = array<i64: 0>}
// CHECK: kd.batch_labels {offsets = array<i64: 128>}
// CHECK: kd.loss.ce {{.*}} {offsets = array<i64: 64>}
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.tap "logits" %x value : tensor<?x8xf32>
  kd.output %x : tensor<?x8xf32>
}
kd.stage @late_labels attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8xf32>
  %a = kd.relu %x : tensor<?x8xf32>
  %b = kd.sigmoid %a : tensor<?x8xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %l = kd.loss.ce %b, %y smoothing 0.0 : tensor<?x8xf32>, tensor<?xi64>
  kd.minimize %l
}

// -----

// The loss kernel writes the gradient of its kd.loss.grad together with the
// value, so the gradient lives from the loss op, not from the kd.loss.grad.
// Planned from the kd.loss.grad it would take 64, the linear's %y, which the
// relu still reads after the loss kernel has run; it goes above everything
// alive from the loss on instead (256). Every buffer is 64 bytes.
// CHECK-LABEL: kd.stage @loss_grad
// CHECK-SAME: arena_bytes = 320 : i64
// CHECK-SAME: naive_bytes = 384 : i64
// CHECK: kd.batch_input {offsets = array<i64: 0>}
// CHECK: kd.linear {{.*}} {offsets = array<i64: 64>}
// CHECK: kd.batch_input {offsets = array<i64: 128>}
// CHECK: kd.loss.mse {{.*}} {offsets = array<i64: 192>}
// CHECK: kd.relu {{.*}} {offsets = array<i64: 128>}
// CHECK: kd.loss.grad {{.*}} {offsets = array<i64: 256>}
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.tap "logits" %x value : tensor<?x8xf32>
  kd.output %x : tensor<?x8xf32>
}
kd.stage @loss_grad attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 2 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8xf32>
  %w = kd.param "M/w" weight zeros : tensor<8x8xf32>
  %y = kd.linear %x, %w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %t = kd.batch_input : tensor<?x8xf32>
  %l = kd.loss.mse %y, %t reduction mean : tensor<?x8xf32>, tensor<?x8xf32>
  %z = kd.relu %y : tensor<?x8xf32>
  %g = kd.loss.grad %l scale 1.0 wanted [true, false] : tensor<?x8xf32>
  %gw = kd.linear_bwd %x, %w, %g wanted [false, true, false] : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<?x8xf32>) -> tensor<8x8xf32>
  kd.param_grad "M/w" %gw : tensor<8x8xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.tap "logits" %x value : tensor<?x8xf32>
  kd.output %x : tensor<?x8xf32>
}
kd.stage @dynamic attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  // expected-error @+1 {{value of type 'tensor<?x?xf32>' has no static size: only the batch dimension may be dynamic}}
  %x = kd.batch_input : tensor<?x?xf32>
  %l = kd.loss.mse %x, %x reduction mean : tensor<?x?xf32>, tensor<?x?xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.tap "logits" %x value : tensor<?x8xf32>
  kd.output %x : tensor<?x8xf32>
}
kd.stage @unflat attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x8xf32>
  // expected-error @+1 {{a model application must be inlined (--kd-inline-models) before memory planning}}
  %s = kd.apply @M(%x) taps ["logits"] : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %l = kd.loss.mse %s, %x reduction mean : tensor<?x8xf32>, tensor<?x8xf32>
  kd.minimize %l
}

// -----

// An evaluation's dropout is the identity: the planner replaces it by its
// input, so the features live until the linear layer reads them and its
// logits (64 bytes at batch 2, like every buffer here) never take their
// bytes. Planned as a buffer of its own, the dropout let the logits reuse
// the features' offset while the lowered linear still read them.
// CHECK-LABEL: kd.evaluate @M
// CHECK-NOT: kd.dropout
// CHECK: kd.batch_input {offsets = array<i64: 0>}
// CHECK: %[[F:.*]] = kd.relu %{{.*}} {offsets = array<i64: 64>}
// CHECK-NOT: kd.dropout
// CHECK: kd.linear %[[F]], {{.*}} {offsets = array<i64: 0>}
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 8 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @M(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  kd.output %x : tensor<?x8xf32>
}
kd.evaluate @M on @d "test" metrics ["accuracy"] attributes {batch = 2 : i64} using {
  %x = kd.batch_input : tensor<?x8xf32>
  %f = kd.relu %x : tensor<?x8xf32>
  %d = kd.dropout %f p 0.0 seed 7 : tensor<?x8xf32>
  %w = kd.param "M/linear.weight" weight zeros : tensor<8x8xf32>
  %b = kd.param "M/linear.bias" bias zeros : tensor<8xf32>
  %l = kd.linear %d, %w, %b : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  kd.yield %l : tensor<?x8xf32>
}
