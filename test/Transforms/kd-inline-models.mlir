// RUN: kd-opt --kd-inline-models -split-input-file -verify-diagnostics %s | FileCheck %s

// Each apply becomes the model's layers at the apply: parameters become
// stage-level kd.param under their global names, the tap results become the
// cloned values, taps and block markers are dropped. The frozen apply's
// parameters are marked frozen; the inference copy it read is erased, the
// models the evaluation and the export name stay. The evaluation of the
// teacher's output gets the model's inference program as its body, like a
// `using` one, with nothing frozen.
// CHECK-LABEL: kd.model @T_model(
// CHECK-NOT: kd.model @T_model.frozen
// CHECK-LABEL: kd.stage @distill
// CHECK: %[[X:.*]] = kd.batch_input
// CHECK-NOT: kd.apply
// CHECK: %[[SW:.*]] = kd.param "S/linear0.weight" weight xavier_uniform :
// CHECK: %[[SD:.*]] = kd.dropout %[[X]]
// CHECK: %[[S:.*]] = kd.linear %[[SD]], %[[SW]]
// CHECK: %[[TW0:.*]] = kd.param "T/l1.fc0.weight" weight xavier_uniform {frozen}
// CHECK: %[[T1:.*]] = kd.linear %[[X]], %[[TW0]]
// CHECK: %[[T2:.*]] = kd.relu %[[T1]]
// CHECK: %[[TW1:.*]] = kd.param "T/linear0.weight" weight xavier_uniform {frozen}
// CHECK: %[[T:.*]] = kd.linear %[[T2]], %[[TW1]]
// CHECK-NOT: kd.tap
// CHECK-NOT: kd.block_begin
// CHECK: kd.loss.kl %[[S]], %[[T]]
// CHECK: kd.loss.mse %[[T2]], %[[T2]]
// CHECK-LABEL: kd.evaluate @T_model on @d "test" metrics ["accuracy"] using {
// CHECK: %[[EX:.*]] = kd.batch_input : tensor<?x4xf32>
// CHECK: %[[EW0:.*]] = kd.param "T/l1.fc0.weight" weight xavier_uniform :
// CHECK: %[[EH:.*]] = kd.linear %[[EX]], %[[EW0]]
// CHECK: %[[ER:.*]] = kd.relu %[[EH]]
// CHECK: %[[EL:.*]] = kd.linear %[[ER]]
// CHECK-NOT: kd.tap
// CHECK: kd.yield %[[EL]] : tensor<?x3xf32>
// CHECK-LABEL: kd.export @S_model to "s.safetensors"
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 3 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}, {name = "test", source = "file", file = "t10k"}]}
kd.model @T_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w0 = kd.param "T/l1.fc0.weight" weight xavier_uniform : tensor<8x4xf32>
  %h = kd.linear %x, %w0 : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  kd.block_begin "l2" %h : tensor<?x8xf32>
  %l2 = kd.relu %h : tensor<?x8xf32>
  %w1 = kd.param "T/linear0.weight" weight xavier_uniform : tensor<3x8xf32>
  %logits = kd.linear %l2, %w1 : (tensor<?x8xf32>, tensor<3x8xf32>) -> tensor<?x3xf32>
  kd.tap "l2" %l2 block : tensor<?x8xf32>
  kd.tap "logits" %logits value : tensor<?x3xf32>
  kd.output %logits : tensor<?x3xf32>
}
kd.model @T_model.frozen(%x: tensor<?x4xf32>) -> tensor<?x3xf32> attributes {frozen_from = @T_model} {
  %w0 = kd.param "T/l1.fc0.weight" weight xavier_uniform : tensor<8x4xf32>
  %h = kd.linear %x, %w0 : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  %l2 = kd.relu %h : tensor<?x8xf32>
  %w1 = kd.param "T/linear0.weight" weight xavier_uniform : tensor<3x8xf32>
  %logits = kd.linear %l2, %w1 : (tensor<?x8xf32>, tensor<3x8xf32>) -> tensor<?x3xf32>
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
kd.stage @distill attributes {kind = "distill", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [@T_model], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x4xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %t, %t2 = kd.apply @T_model.frozen(%x) taps ["logits", "l2"] {frozen} : (tensor<?x4xf32>) -> (tensor<?x3xf32>, tensor<?x8xf32>)
  %kl = kd.loss.kl %s, %t temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x3xf32>, tensor<?x3xf32>
  %mse = kd.loss.mse %t2, %t2 reduction mean : tensor<?x8xf32>, tensor<?x8xf32>
  %loss = kd.loss.combine %kl, %mse weights [1.0, 1.0] bias 0.0
  kd.minimize %loss
}
kd.evaluate @T_model on @d "test" metrics ["accuracy"]
kd.export @S_model to "s.safetensors" format "safetensors"

// -----

// A model applied twice in one stage (two input views) shares one kd.param
// per name; frozen_params marks the parameters a freeze covers; a model the
// stage does not train is frozen even without --kd-freeze-teachers; an
// evaluation body is inlined without marks.
// CHECK-LABEL: kd.stage @views
// CHECK: %[[A:.*]] = kd.batch_input : tensor<?x4xf32>
// CHECK: %[[B:.*]] = kd.batch_input {transform = {h = 2 : i64, kind = "resize", w = 2 : i64}}
// CHECK: %[[W:.*]] = kd.param "S/fc.weight" weight xavier_uniform {frozen}
// CHECK: %[[BIAS:.*]] = kd.param "S/fc.bias" bias zeros :
// CHECK: kd.linear %[[A]], %[[W]], %[[BIAS]]
// CHECK-NOT: kd.param "S/fc
// CHECK: kd.linear %[[B]], %[[W]], %[[BIAS]]
// CHECK: %[[UW:.*]] = kd.param "U/fc.weight" weight xavier_uniform {frozen}
// CHECK: kd.linear %[[A]], %[[UW]]
// CHECK-LABEL: kd.evaluate @S_model
// CHECK: kd.param "S/fc.weight" weight xavier_uniform :
// CHECK: kd.yield
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 2, 2>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 3 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}, {name = "test", source = "file", file = "t10k"}]}
kd.model @S_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = kd.param "S/fc.weight" weight xavier_uniform : tensor<3x4xf32>
  %b = kd.param "S/fc.bias" bias zeros : tensor<3xf32>
  %y = kd.linear %x, %w, %b : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  kd.tap "logits" %y value : tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.model @U_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = kd.param "U/fc.weight" weight xavier_uniform : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.tap "logits" %y value : tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.stage @views attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 8 : i64, steps = 0 : i64, trained = [@S_model], frozen = [], frozen_parts = ["S.fc"], groups = []} {
  %a = kd.batch_input : tensor<?x4xf32>
  %b = kd.batch_input {transform = {kind = "resize", h = 2 : i64, w = 2 : i64}} : tensor<?x4xf32>
  %sa = kd.apply @S_model(%a) taps ["logits"] {frozen_params = ["S/fc.weight"]} : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %sb = kd.apply @S_model(%b) taps ["logits"] {frozen_params = ["S/fc.weight"]} : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %u = kd.apply @U_model(%a) taps ["logits"] : (tensor<?x4xf32>) -> tensor<?x3xf32>
  %mse = kd.loss.mse %sa, %sb reduction mean : tensor<?x3xf32>, tensor<?x3xf32>
  %kl = kd.loss.kl %sa, %u temperature 1.0 reduction batchmean t2 true reverse false : tensor<?x3xf32>, tensor<?x3xf32>
  %loss = kd.loss.combine %mse, %kl weights [1.0, 1.0] bias 0.0
  kd.minimize %loss
}
kd.evaluate @S_model on @d "test" metrics ["accuracy"] using {
  %x = kd.batch_input : tensor<?x4xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x4xf32>) -> tensor<?x3xf32>
  kd.yield %s : tensor<?x3xf32>
}


// -----

// An export to .kdx gets the model's inference program as its body: a
// batch input of the model's input type, the layers with their parameters
// (not frozen: nothing trains here), the output yielded. A safetensors
// export stays as it is.
// CHECK-LABEL: kd.export @M_model to "m.safetensors" format "safetensors"
// CHECK-NOT: using
// CHECK-LABEL: kd.export @M_model to "m.kdx" format "kdx" using {
// CHECK: %[[X:.*]] = kd.batch_input : tensor<?x4xf32>
// CHECK: %[[W:.*]] = kd.param "M/linear0.weight" weight xavier_uniform :
// CHECK: %[[Y:.*]] = kd.linear %[[X]], %[[W]]
// CHECK: %[[R:.*]] = kd.relu %[[Y]]
// CHECK-NOT: kd.tap
// CHECK: kd.yield %[[R]] : tensor<?x3xf32>
kd.model @M_model(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = kd.param "M/linear0.weight" weight xavier_uniform : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.tap "logits" %y value : tensor<?x3xf32>
  %r = kd.relu %y : tensor<?x3xf32>
  kd.output %r : tensor<?x3xf32>
}
kd.export @M_model to "m.safetensors" format "safetensors"
kd.export @M_model to "m.kdx" format "kdx"

// -----

// The declaration of the evaluated or exported model may give it its input
// through a transform: the inference body's batch input carries it, as the
// stages' batch inputs do.
// CHECK-LABEL: kd.evaluate @R_model on @d "test" metrics ["accuracy"] using {
// CHECK: kd.batch_input {transform = {h = 2 : i64, kind = "resize", mode = "bilinear", w = 2 : i64}} : tensor<?x1x2x2xf32>
// CHECK-LABEL: kd.export @R_model to "r.kdx" format "kdx" using {
// CHECK: kd.batch_input {transform = {h = 2 : i64, kind = "resize", mode = "bilinear", w = 2 : i64}} : tensor<?x1x2x2xf32>
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 4 : i64, class_names = [], splits = [{name = "test", source = "file", file = "t10k"}]}
kd.model @R_model(%x: tensor<?x1x2x2xf32>) -> tensor<?x4xf32> {
  %y = kd.reshape %x : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  kd.output %y : tensor<?x4xf32>
}
kd.student @R untrained attributes {model = @R_model, transform = {h = 2 : i64, kind = "resize", mode = "bilinear", w = 2 : i64}}
kd.evaluate @R_model on @d "test" metrics ["accuracy"]
kd.export @R_model to "r.kdx" format "kdx"
