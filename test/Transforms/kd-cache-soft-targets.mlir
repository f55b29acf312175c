// The Hinton recipe distils on a split with random crops and flips: the
// teacher must be recomputed, and the reason is on the stage.
// RUN: kdc --emit=mlir %stdlib/recipes/hinton.kd | kd-opt --kd-cache-soft-targets | FileCheck %s --check-prefix=HINTON
// HINTON-LABEL: kd.stage @distill attributes
// HINTON-SAME: cache_refused = "split 'train' has random augmentation crop, hflip"
// HINTON-SAME: soft_target_cache = "recompute"

// The quickstart's split has no augmentation: the teacher's logits are cached.
// RUN: kdc --emit=mlir %src_root/examples/quickstart.kd | kd-opt --kd-cache-soft-targets | FileCheck %s --check-prefix=QUICK
// QUICK-LABEL: kd.stage @distill attributes
// QUICK-SAME: cache_key = [{key = "{{[0-9a-f]+}}", model = @T_model}]
// QUICK-SAME: cached_taps = ["T_model.logits"]
// QUICK-SAME: soft_target_cache = "cached"

// Hand-written modules: a teacher with dropout is refused even without
// augmentation; a stage that reads no frozen model is left alone.
// RUN: kd-opt --kd-cache-soft-targets %s | FileCheck %s

kd.dataset @d attributes {class_names = [], classes = 2 : i64, image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64>, path = "p", source = "idx", std = array<f64>, splits = [{file = "train", name = "train", source = "file"}]}
kd.model @T_model(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %0 = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  %1 = kd.dropout %0 p 0.5 seed 1 : tensor<?x16xf32>
  kd.tap "logits" %1 value : tensor<?x16xf32>
  kd.output %1 : tensor<?x16xf32>
}
kd.model @S_model(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %0 = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "logits" %0 value : tensor<?x16xf32>
  kd.output %0 : tensor<?x16xf32>
}
// CHECK-LABEL: kd.stage @distill attributes
// CHECK-SAME: cache_refused = "teacher 'T_model' has random op kd.dropout
// CHECK-SAME: soft_target_cache = "recompute"
kd.stage @distill attributes {batch = 2 : i64, data = @d, epochs = 1 : i64, frozen = [@T_model], frozen_parts = [], groups = [], kind = "distill", split = "train", steps = 0 : i64, trained = [@S_model]} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %t = kd.apply @T_model(%x) taps ["logits"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %t reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}
// CHECK-LABEL: kd.stage @train
// CHECK-NOT: soft_target_cache
// CHECK-SAME: {
kd.stage @train attributes {batch = 2 : i64, data = @d, epochs = 1 : i64, frozen = [], frozen_parts = [], groups = [], kind = "train", split = "train", steps = 0 : i64, trained = [@S_model]} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// An ensemble's members are decided one by one: U_model is cached, T_model
// (dropout) runs every step, and the stage is "partial".
kd.model @U_model(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %0 = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "logits" %0 value : tensor<?x16xf32>
  kd.output %0 : tensor<?x16xf32>
}
kd.teacher @T trained attributes {model = @T_model}
kd.teacher @U trained attributes {model = @U_model}
kd.teacher @E ensemble attributes {members = [@T, @U], weighting = "equal"}
// CHECK-LABEL: kd.stage @ensemble attributes
// CHECK-SAME: cache_key = [{key = "{{[0-9a-f]+}}", model = @U_model}]
// CHECK-SAME: cache_refused = "teacher 'T_model' has random op kd.dropout
// CHECK-SAME: cached_taps = ["U_model.logits"]
// CHECK-SAME: soft_target_cache = "partial"
kd.stage @ensemble attributes {batch = 2 : i64, data = @d, epochs = 1 : i64, frozen = [@T_model, @U_model], frozen_parts = [], groups = [], kind = "distill", split = "train", steps = 0 : i64, trained = [@S_model]} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %t = kd.apply @T_model(%x) taps ["logits"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %u = kd.apply @U_model(%x) taps ["logits"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %e = kd.ensemble %t, %u weighting "equal" {ensemble = @E, temperature = 2.0 : f64} : tensor<?x16xf32>
  %l = kd.loss.kl %s, %e temperature 2.0 reduction batchmean t2 true reverse false : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}
