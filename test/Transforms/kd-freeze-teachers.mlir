// RUN: kd-opt --kd-freeze-teachers -split-input-file -verify-diagnostics %s | FileCheck %s

// Two stages read the teacher: one at logits and l2, one at l1 only. Each
// apply is marked frozen and reads its own pruned inference copy; the
// trained student is untouched, and the original teacher model stays as it
// was for its own training stage and evaluation.
// CHECK-LABEL: kd.model @T_model(
// CHECK: kd.dropout
// CHECK: kd.tap "e1"
// CHECK: kd.output
//
// The copy for [l2, logits]: the early exit e1 and its head are not needed,
// the dropout is gone, batch norm runs on running statistics.
// CHECK-LABEL: kd.model @T_model.frozen(%{{.*}}: tensor<?x4xf32>) -> tensor<?x3xf32> attributes {frozen_from = @T_model}
// CHECK: kd.param "T/l1.fc0.weight"
// CHECK: %[[BN:.*]] = kd.batch_norm {{.*}} {inference}
// CHECK-NOT: kd.dropout
// CHECK-NOT: "T/e1.fc0.weight"
// CHECK: %[[L2:.*]] = kd.relu
// CHECK: %[[LOGITS:.*]] = kd.linear %[[L2]]
// CHECK-NOT: kd.tap "l1"
// CHECK-NOT: kd.tap "e1"
// CHECK: kd.tap "l2" %[[L2]] block
// CHECK-NEXT: kd.tap "logits" %[[LOGITS]] value
// CHECK-NEXT: kd.output %[[LOGITS]] : tensor<?x3xf32>
//
// The copy for [l1]: everything after l1 is removed.
// CHECK-LABEL: kd.model @T_model.frozen_0(%{{.*}}: tensor<?x4xf32>) -> tensor<?x8xf32> attributes {frozen_from = @T_model}
// CHECK: kd.param "T/l1.fc0.weight"
// CHECK: %[[L1:.*]] = kd.batch_norm {{.*}} {inference}
// CHECK-NOT: kd.relu
// CHECK-NOT: kd.linear
// CHECK: kd.tap "l1" %[[L1]] block
// CHECK-NEXT: kd.output %[[L1]] : tensor<?x8xf32>
//
// CHECK-LABEL: kd.stage @distill
// CHECK: kd.apply @S_model(%{{.*}}) taps ["logits"] :
// CHECK: kd.apply @T_model.frozen(%{{.*}}) taps ["logits", "l2"] {frozen}
// CHECK-LABEL: kd.stage @hint
// CHECK: kd.apply @T_model.frozen_0(%{{.*}}) taps ["l1"] {frozen}
// CHECK-LABEL: kd.evaluate @T_model
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 3 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}, {name = "test", source = "file", file = "t10k"}]}
kd.model @T_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w0 = kd.param "T/l1.fc0.weight" weight xavier_uniform : tensor<8x4xf32>
  %h0 = kd.linear %x, %w0 : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  %g = kd.param "T/l1.bn0.weight" weight ones : tensor<8xf32>
  %b = kd.param "T/l1.bn0.bias" bias zeros : tensor<8xf32>
  %m = kd.param "T/l1.bn0.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "T/l1.bn0.running_var" state ones : tensor<8xf32>
  %l1 = kd.batch_norm %h0, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %we = kd.param "T/e1.fc0.weight" weight xavier_uniform : tensor<3x8xf32>
  %e1 = kd.linear %l1, %we : (tensor<?x8xf32>, tensor<3x8xf32>) -> tensor<?x3xf32>
  kd.block_begin "l2" %l1 : tensor<?x8xf32>
  %d = kd.dropout %l1 p 0.5 seed 7 : tensor<?x8xf32>
  %l2 = kd.relu %d : tensor<?x8xf32>
  %w1 = kd.param "T/linear0.weight" weight xavier_uniform : tensor<3x8xf32>
  %logits = kd.linear %l2, %w1 : (tensor<?x8xf32>, tensor<3x8xf32>) -> tensor<?x3xf32>
  kd.tap "l1" %l1 block : tensor<?x8xf32>
  kd.tap "e1" %e1 exit : tensor<?x3xf32>
  kd.tap "l2" %l2 block : tensor<?x8xf32>
  kd.tap "logits" %logits value : tensor<?x3xf32>
  kd.output %logits : tensor<?x3xf32>
}
kd.model @S_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = kd.param "S/linear0.weight" weight xavier_uniform : tensor<3x4xf32>
  %d = kd.dropout %x p 0.5 seed 3 : tensor<?x4xf32>
  %y = kd.linear %d, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.tap "logits" %y value : tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.teacher @T trained attributes {model = @T_model}
kd.student @S untrained attributes {model = @S_model}
kd.stage @distill attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [@T_model], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x4xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %t, %t2 = kd.apply @T_model(%x) taps ["logits", "l2"] : (tensor<?x4xf32>) -> (tensor<?x3xf32>, tensor<?x8xf32>)
  %kl = kd.loss.kl %s, %t temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x3xf32>, tensor<?x3xf32>
  %loss = kd.loss.combine %kl weights [1.0] bias 0.0
  kd.minimize %loss
}
kd.stage @hint attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [@T_model], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x4xf32>
  %t = kd.apply @T_model(%x) taps ["l1"] : (tensor<?x4xf32>) -> tensor<?x8xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %kl = kd.loss.mse %s, %s reduction mean : tensor<?x3xf32>, tensor<?x3xf32>
  %loss = kd.loss.combine %kl weights [1.0] bias 0.0
  kd.minimize %loss
}
kd.evaluate @T_model on @d "test" metrics ["accuracy"]

// -----

// `freeze S.l1` (a block: every parameter named S/l1.*) and `freeze
// S.logits` (a named value: the layers its own definition created) become
// the apply's frozen_params.
// CHECK-LABEL: kd.stage @finetune
// CHECK: kd.apply @S_model(%{{.*}}) taps ["logits"] {frozen_params = ["S/l1.bn0.weight", "S/l1.fc0.weight", "S/linear0.weight"]}
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 3 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w0 = kd.param "S/l1.fc0.weight" weight xavier_uniform : tensor<8x4xf32>
  %h = kd.linear %x, %w0 : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  %g = kd.param "S/l1.bn0.weight" weight ones : tensor<8xf32>
  %l1 = kd.layer_norm %h, %g rank 1 eps 1.0e-05 : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %w2 = kd.param "S/l2.fc0.weight" weight xavier_uniform : tensor<8x8xf32>
  %l2 = kd.linear %l1, %w2 : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %w1 = kd.param "S/linear0.weight" weight xavier_uniform : tensor<3x8xf32>
  %logits = kd.linear %l2, %w1 : (tensor<?x8xf32>, tensor<3x8xf32>) -> tensor<?x3xf32>
  kd.tap "l1" %l1 block : tensor<?x8xf32>
  kd.tap "l2" %l2 block : tensor<?x8xf32>
  kd.tap "logits" %logits value : tensor<?x3xf32>
  kd.output %logits : tensor<?x3xf32>
}
kd.student @S untrained attributes {model = @S_model}
kd.stage @finetune attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = ["S.l1", "S.logits"], groups = []} {
  %x = kd.batch_input : tensor<?x4xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %s, %labels smoothing 0.0 : tensor<?x3xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [1.0] bias 0.0
  kd.minimize %loss
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 3 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @S_model(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  kd.tap "logits" %x value : tensor<?x3xf32>
  kd.output %x : tensor<?x3xf32>
}
kd.student @S untrained attributes {model = @S_model}
// expected-error @below {{'kd.stage' op freezes 'S.head', but model 'S_model' has no value named 'head'}}
kd.stage @finetune attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = ["S.head"], groups = []} {
  %x = kd.batch_input : tensor<?x3xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %labels = kd.batch_labels : tensor<?xi64>
  %ce = kd.loss.ce %s, %labels smoothing 0.0 : tensor<?x3xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce weights [1.0] bias 0.0
  kd.minimize %loss
}
