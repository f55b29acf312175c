// One expected error per verifier rule of the kd dialect.
// RUN: kd-opt %s -split-input-file -verify-diagnostics

func.func @f(%x: tensor<?x3x8x8xf32>, %w: tensor<16x4x3x3xf32>) {
  // expected-error @+1 {{input has 3 channels but the weight expects 4}}
  %y = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x3x8x8xf32>, tensor<16x4x3x3xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x8x8xf32>, %w: tensor<16x4x3x3xf32>) {
  // expected-error @+1 {{result shape [?, 16, 8, 8] does not match the expected [?, 16, 4, 4]}}
  %y = kd.conv2d %x, %w stride [2, 2] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x4x8x8xf32>, tensor<16x4x3x3xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x8x8xf32>, %w: tensor<15x2x3x3xf32>) {
  // expected-error @+1 {{groups 2 must divide the 15 output channels}}
  %y = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 2 : (tensor<?x4x8x8xf32>, tensor<15x2x3x3xf32>) -> tensor<?x15x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x8x8xf32>, %w: tensor<16x4x3x3xf32>) {
  // expected-error @+1 {{stride must have 2 values, got 1}}
  %y = kd.conv2d %x, %w stride [1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x4x8x8xf32>, tensor<16x4x3x3xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x8xf32>, %w: tensor<16x4x3x3xf32>) {
  // expected-error @+1 {{input must have rank 4, got [?, 4, 8]}}
  %y = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x4x8xf32>, tensor<16x4x3x3xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x8x8xf32>, %w: tensor<16x4x3x3xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{bias has 8 entries for 16 channels}}
  %y = kd.conv2d %x, %w, %b stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x4x8x8xf32>, tensor<16x4x3x3xf32>, tensor<8xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x96xf32>, %w: tensor<10x64xf32>) {
  // expected-error @+1 {{input width 96 does not match the weight's 64}}
  %y = kd.linear %x, %w : (tensor<?x96xf32>, tensor<10x64xf32>) -> tensor<?x10xf32>
  return
}

// -----

func.func @f(%x: tensor<?x96xf32>, %w: tensor<10x96xf32>) {
  // expected-error @+1 {{result shape [?, 12] does not match the expected [?, 10]}}
  %y = kd.linear %x, %w : (tensor<?x96xf32>, tensor<10x96xf32>) -> tensor<?x12xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>, %c: tensor<16xf32>, %d: tensor<8xf32>) {
  // expected-error @+1 {{running variance has 8 entries for 16 channels}}
  %y = kd.batch_norm %x, %c, %c, %c, %d eps 1.0e-05 momentum 0.1 : (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<8xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{normalized rank 3 must be in [1, 2]}}
  %y = kd.layer_norm %x rank 3 eps 1.0e-05 : (tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{scale and shift must have the normalized shape [16]}}
  %y = kd.layer_norm %x, %g rank 1 eps 1.0e-05 : (tensor<?x4x16xf32>, tensor<8xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>, %c: tensor<16xf32>) {
  // expected-error @+1 {{groups 5 must divide the 16 channels}}
  %y = kd.group_norm %x, %c, %c groups 5 eps 1.0e-05 : (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{eps must be positive}}
  %y = kd.l2_normalize %x eps 0.0 : tensor<?x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{temperature must be positive}}
  %y = kd.softmax %x temperature 0.0 : tensor<?x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{drop probability 1.000000e+00 must be in [0, 1)}}
  %y = kd.dropout %x p 1.0 seed 0 : tensor<?x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>) {
  // expected-error @+1 {{result shape [?, 16, 8, 8] does not match the expected [?, 16, 4, 4]}}
  %y = kd.pool2d max %x kernel [2, 2] stride [2, 2] pad [0, 0] : tensor<?x16x8x8xf32> -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>) {
  // expected-error @+1 {{kernel values must be at least 1}}
  %y = kd.pool2d max %x kernel [0, 2] stride [2, 2] pad [0, 0] : tensor<?x16x8x8xf32> -> tensor<?x16x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>) {
  // expected-error @+1 {{result shape [?, 16, 2, 2] does not match the expected [?, 16, 1, 1]}}
  %y = kd.adaptive_pool avg %x to [1, 1] : tensor<?x16x8x8xf32> -> tensor<?x16x2x2xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>) {
  // expected-error @+1 {{result shape [?, 16, 4, 4] does not match the expected [?, 16, 2, 2]}}
  %y = kd.resize bilinear %x to [2, 2] : tensor<?x16x8x8xf32> -> tensor<?x16x4x4xf32>
  return
}

// -----

func.func @f(%a: tensor<?x16x8x8xf32>, %b: tensor<?x8x1x1xf32>) {
  // expected-error @+1 {{cannot broadcast [?, 8, 1, 1] to [?, 16, 8, 8]}}
  %y = kd.add %a, %b : tensor<?x16x8x8xf32>, tensor<?x8x1x1xf32>
  return
}

// -----

func.func @f(%a: tensor<?x16xf32>, %b: tensor<?x8xf32>) {
  // expected-error @+1 {{cannot broadcast [?, 8] to [?, 16]}}
  %y = kd.mul %a, %b : tensor<?x16xf32>, tensor<?x8xf32>
  return
}

// -----

func.func @f(%a: tensor<?x16x8x8xf32>, %b: tensor<?x16x4x4xf32>) {
  // expected-error @+1 {{inputs [?, 16, 8, 8] and [?, 16, 4, 4] differ outside axis 1}}
  %y = kd.concat %a, %b axis 1 : (tensor<?x16x8x8xf32>, tensor<?x16x4x4xf32>) -> tensor<?x32x8x8xf32>
  return
}

// -----

func.func @f(%a: tensor<?x16x8x8xf32>) {
  // expected-error @+1 {{axis 4 is out of range for rank 4}}
  %y = kd.concat %a axis 4 : (tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  return
}

// -----

func.func @f(%a: tensor<?x16x8x8xf32>, %b: tensor<?x8x8x8xf32>) {
  // expected-error @+1 {{result shape [?, 32, 8, 8] does not match the expected [?, 24, 8, 8]}}
  %y = kd.concat %a, %b axis 1 : (tensor<?x16x8x8xf32>, tensor<?x8x8x8xf32>) -> tensor<?x32x8x8xf32>
  return
}

// -----

func.func @f(%a: tensor<?x16x2x2xf32>) {
  // expected-error @+1 {{cannot reshape [?, 16, 2, 2] to [?, 16]: the per-sample element counts differ}}
  %y = kd.reshape %a : tensor<?x16x2x2xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @f(%a: tensor<?x16x2x2xf32>) {
  // expected-error @+1 {{must keep the batch dimension}}
  %y = kd.reshape %a : tensor<?x16x2x2xf32> -> tensor<64xf32>
  return
}

// -----

func.func @f(%a: tensor<?x4x16xf32>, %b: tensor<?x8x4xf32>) {
  // expected-error @+1 {{inner dimensions 16 and 8 differ}}
  %y = kd.matmul %a, %b : (tensor<?x4x16xf32>, tensor<?x8x4xf32>) -> tensor<?x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x18xf32>, %w: tensor<18x18xf32>, %b: tensor<18xf32>) {
  // expected-error @+1 {{width 18 is not divisible by 4 heads}}
  %y = kd.mha %x, %w, %b, %w, %b, %w, %b, %w, %b heads 4 : (tensor<?x4x18xf32>, tensor<18x18xf32>, tensor<18xf32>, tensor<18x18xf32>, tensor<18xf32>, tensor<18x18xf32>, tensor<18xf32>, tensor<18x18xf32>, tensor<18xf32>) -> tensor<?x4x18xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>, %w: tensor<16x16xf32>, %packed: tensor<48x16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{k_weight must be [16, 16], got [48, 16]}}
  %y = kd.mha %x, %w, %b, %packed, %b, %w, %b, %w, %b heads 4 : (tensor<?x4x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<48x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>, %short: tensor<8xf32>) {
  // expected-error @+1 {{out_bias must be [16], got [8]}}
  %y = kd.mha %x, %w, %b, %w, %b, %w, %b, %w, %short heads 4 : (tensor<?x4x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<8xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>, %w: tensor<1x8x1x1xf32>) {
  // expected-error @+1 {{weight must be [1, 16, 1, 1]}}
  %y = kd.attention_pool %x, %w : (tensor<?x16x8x8xf32>, tensor<1x8x1x1xf32>) -> tensor<?x16x1x1xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16x8x8xf32>) {
  // expected-error @+1 {{result shape [?, 16, 64] does not match the expected [?, 64, 16]}}
  %y = kd.tokens %x : tensor<?x16x8x8xf32> -> tensor<?x16x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>, %t: tensor<1x16xf32>) {
  // expected-error @+1 {{token must have rank 3, got [1, 16]}}
  %y = kd.cls_token %x, %t : (tensor<?x4x16xf32>, tensor<1x16xf32>) -> tensor<?x5x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>, %t: tensor<1x1x16xf32>) {
  // expected-error @+1 {{result shape [?, 4, 16] does not match the expected [?, 5, 16]}}
  %y = kd.cls_token %x, %t : (tensor<?x4x16xf32>, tensor<1x1x16xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>, %t: tensor<1x5x16xf32>) {
  // expected-error @+1 {{table must be [1, 4, 16]}}
  %y = kd.pos_embed %x, %t : (tensor<?x4x16xf32>, tensor<1x5x16xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{token index 4 is out of range for 4 tokens}}
  %y = kd.select_token %x index 4 : tensor<?x4x16xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @f(%s: tensor<?x10xf32>, %t: tensor<?x12xf32>) {
  // expected-error @+1 {{operand shapes [?, 10] and [?, 12] must be equal}}
  %l = kd.loss.kl %s, %t temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x10xf32>, tensor<?x12xf32>
  return
}

// -----

func.func @f(%s: tensor<?x10xf32>, %t: tensor<?x10xf32>) {
  // expected-error @+1 {{temperature must be positive}}
  %l = kd.loss.kl %s, %t temperature -1.0 reduction batchmean t2 true reverse false : tensor<?x10xf32>, tensor<?x10xf32>
  return
}

// -----

func.func @f(%s: tensor<?x16x4x4xf32>, %t: tensor<?x16x2x2xf32>) {
  // expected-error @+1 {{operand shapes [?, 16, 4, 4] and [?, 16, 2, 2] must be equal}}
  %l = kd.loss.mse %s, %t reduction mean : tensor<?x16x4x4xf32>, tensor<?x16x2x2xf32>
  return
}

// -----

func.func @f(%s: tensor<?x16xf32>, %t: tensor<?x8xf32>) {
  // expected-error @+1 {{operand shapes [?, 16] and [?, 8] must be equal}}
  %l = kd.loss.l1 %s, %t reduction mean : tensor<?x16xf32>, tensor<?x8xf32>
  return
}

// -----

func.func @f(%s: tensor<?x16xf32>) {
  // expected-error @+1 {{beta must be positive}}
  %l = kd.loss.smooth_l1 %s, %s beta 0.0 : tensor<?x16xf32>, tensor<?x16xf32>
  return
}

// -----

func.func @f(%s: tensor<?x16xf32>, %t: tensor<?x8xf32>) {
  // expected-error @+1 {{operand shapes [?, 16] and [?, 8] must be equal}}
  %l = kd.loss.cosine %s, %t : tensor<?x16xf32>, tensor<?x8xf32>
  return
}

// -----

func.func @f(%s: tensor<?x10x1x1xf32>, %y: tensor<?xi64>) {
  // expected-error @+1 {{logits must have rank 2, got [?, 10, 1, 1]}}
  %l = kd.loss.ce %s, %y smoothing 0.0 : tensor<?x10x1x1xf32>, tensor<?xi64>
  return
}

// -----

func.func @f(%s: tensor<?x10xf32>, %t: tensor<?x12xf32>) {
  // expected-error @+1 {{soft targets [?, 12] must have the logits' shape [?, 10]}}
  %l = kd.loss.ce %s, %t smoothing 0.0 : tensor<?x10xf32>, tensor<?x12xf32>
  return
}

// -----

func.func @f(%s: tensor<?x10xf32>, %y: tensor<?xi64>) {
  // expected-error @+1 {{label smoothing 1.000000e+00 must be in [0, 1)}}
  %l = kd.loss.ce %s, %y smoothing 1.0 : tensor<?x10xf32>, tensor<?xi64>
  return
}

// -----

func.func @f(%s: tensor<4x10xf32>, %y: tensor<8xi64>) {
  // expected-error @+1 {{labels and logits differ in batch size}}
  %l = kd.loss.ce %s, %y smoothing 0.0 : tensor<4x10xf32>, tensor<8xi64>
  return
}

// -----

func.func @f(%s: tensor<?x8x7x7xf32>, %t: tensor<?x16x14x14xf32>) {
  // expected-error @+1 {{features [?, 8, 7, 7] and [?, 16, 14, 14] must have the same spatial size}}
  %l = kd.loss.at %s, %t p 2.0 : tensor<?x8x7x7xf32>, tensor<?x16x14x14xf32>
  return
}

// -----

func.func @f(%s: tensor<4x8xf32>, %t: tensor<8x16xf32>) {
  // expected-error @+1 {{needs batched student and teacher features of the same batch size}}
  %l = kd.loss.rkd_distance %s, %t : tensor<4x8xf32>, tensor<8x16xf32>
  return
}

// -----

func.func @f(%s: tensor<?xf32>, %t: tensor<?x16xf32>) {
  // expected-error @+1 {{needs batched student and teacher features of the same batch size}}
  %l = kd.loss.rkd_angle %s, %t : tensor<?xf32>, tensor<?x16xf32>
  return
}

// -----

func.func @f(%s: tensor<?x10xf32>, %t: tensor<?x12xf32>, %y: tensor<?xi64>) {
  // expected-error @+1 {{operand shapes [?, 10] and [?, 12] must be equal}}
  %l = kd.loss.dkd %s, %t, %y alpha 1.0 beta 8.0 temperature 4.0 : tensor<?x10xf32>, tensor<?x12xf32>, tensor<?xi64>
  return
}

// -----

func.func @f(%a: tensor<f32>, %b: tensor<f32>) {
  // expected-error @+1 {{has 2 losses but 1 weights}}
  %l = kd.loss.combine %a, %b weights [1.0] bias 0.0
  return
}

// -----

func.func @f(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{'wanted' must have 1 flags, one per gradient, got 2}}
  %g = kd.reshape_bwd %x wanted [true, false] : (tensor<?x16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16xf32>, %w: tensor<16x16xf32>) {
  // expected-error @+1 {{wants 2 gradients but has 1 results}}
  %g = kd.linear_bwd %x, %w, %x wanted [true, true, false] : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x16xf32>, %w: tensor<16x16xf32>) {
  // expected-error @+1 {{computes no gradient}}
  kd.linear_bwd %x, %w, %x wanted [false, false, false] : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<?x16xf32>) -> ()
  return
}

// -----

// expected-error @+1 {{mean and std need one value per channel (3)}}
kd.dataset @d attributes {source = "idx", path = "p", image = "rgb", image_shape = array<i64: 3, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = []}

// -----

// expected-error @+1 {{split 'train' is declared twice}}
kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train"}, {name = "train"}]}

// -----

kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  // expected-error @+1 {{tap 'embed' is defined twice in the model}}
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}

// -----

// expected-error @+1 {{output type 'tensor<?x1x4x4xf32>' does not match the declared 'tensor<?x16xf32>'}}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  kd.output %x : tensor<?x1x4x4xf32>
}

// -----

kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{a parameter must have a static shape}}
  %w = kd.param "M/w" weight zeros : tensor<?x16xf32>
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}

// -----

kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{a constant init needs a value}}
  %w = kd.param "M/w" weight constant : tensor<16xf32>
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{model 'd' does not name a kd.model}}
kd.teacher @T trained attributes {model = @d}

// -----

kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{ensemble member 'X' is not defined}}
kd.teacher @E ensemble attributes {members = [@X], weighting = "equal"}

// -----

kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{'M' does not name a kd.dataset}}
kd.evaluate @M on @M "test" metrics ["accuracy"]

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  // expected-error @+1 {{model 'M' has no tap 'logits'}}
  %s = kd.apply @M(%x) taps ["logits"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  // expected-error @+1 {{'N' does not name a kd.model}}
  %s = kd.apply @N(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  // expected-error @+1 {{tap 'embed' has type 'tensor<?x16xf32>', not 'tensor<?x8xf32>'}}
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x8xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x8xf32>, tensor<?x8xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %y = kd.batch_input : tensor<?x1x8x8xf32>
  // expected-error @+1 {{input type 'tensor<?x1x8x8xf32>' does not match the model's 'tensor<?x1x4x4xf32>'}}
  %s = kd.apply @M(%y) taps ["embed"] : (tensor<?x1x8x8xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  // expected-error @+1 {{unknown adapter kind 'conv5x5'}}
  %a = kd.adapt %s "conv5x5" name "a0" : tensor<?x16xf32> -> tensor<?x8xf32>
  %l = kd.loss.mse %a, %a reduction mean : tensor<?x8xf32>, tensor<?x8xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  // expected-error @+1 {{a conv1x1 adapter keeps the spatial size; cannot map [?, 1, 4, 4] to [?, 8, 2, 2]}}
  %a = kd.adapt %x "conv1x1" name "a0" : tensor<?x1x4x4xf32> -> tensor<?x8x2x2xf32>
  %l = kd.loss.mse %a, %a reduction mean : tensor<?x8x2x2xf32>, tensor<?x8x2x2xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  // expected-error @+1 {{dim 10 is not divisible by 4 heads}}
  %a = kd.attention_fuse %s heads 4 dim 10 name "f0" : (tensor<?x16xf32>) -> tensor<?x10xf32>
  %l = kd.loss.mse %a, %a reduction mean : tensor<?x10xf32>, tensor<?x10xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  // expected-error @+1 {{fixed weighting needs one weight per member}}
  %e = kd.ensemble %s, %s weighting "fixed" {weights = array<f64: 1.0>} : tensor<?x16xf32>
  %l = kd.loss.mse %e, %e reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  // expected-error @+1 {{ca_mkd weighting needs the labels}}
  %e = kd.ensemble %s, %s weighting "ca_mkd" : tensor<?x16xf32>
  %l = kd.loss.mse %e, %e reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  // expected-error @+1 {{only ca_mkd weighting reads labels}}
  %e = kd.ensemble %s, %s labels %y : tensor<?xi64> weighting "entropy" {temperature = 2.0 : f64} : tensor<?x16xf32>
  %l = kd.loss.mse %e, %e reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{'d' does not name a kd.model}}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@d], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{data 'M' does not name a kd.dataset}}
kd.stage @s attributes {kind = "train", data = @M, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{needs a positive batch and non-negative epochs and steps}}
kd.stage @s attributes {kind = "train", data = @d, split = "train", epochs = 1 : i64, batch = 0 : i64, steps = 0 : i64, trained = [@M], frozen = [], frozen_parts = [], groups = []} {
  %x = kd.batch_input : tensor<?x1x4x4xf32>
  %s = kd.apply @M(%x) taps ["embed"] : (tensor<?x1x4x4xf32>) -> tensor<?x16xf32>
  %l = kd.loss.mse %s, %s reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  kd.minimize %l
}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{mode must be 'blocks' or 'progressive', got 'all'}}
kd.graft_stage @g attributes {kind = "graft", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [@M], frozen_parts = [], groups = [], student = @M, teacher = @M, hybrid = "H", mode = "all", block_epochs = array<i64: 1>, blocks = []}

// -----

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64: 0.5>, std = array<f64: 0.5>, classes = 2 : i64, class_names = [], splits = [{name = "train", source = "file", file = "train"}]}
kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
// expected-error @+1 {{block 'l9' is not a tap of both the student and the teacher}}
kd.graft_stage @g attributes {kind = "graft", data = @d, split = "train", epochs = 1 : i64, batch = 4 : i64, steps = 0 : i64, trained = [@M], frozen = [@M], frozen_parts = [], groups = [], student = @M, teacher = @M, hybrid = "H", mode = "blocks", block_epochs = array<i64: 1>, blocks = [{name = "l9"}]}

// -----

kd.model @M(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  %f = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.output %f : tensor<?x16xf32>
}
kd.teacher @T trained attributes {model = @M}
// expected-error @+1 {{weighting data 'M' does not name a kd.dataset}}
kd.teacher @E ensemble attributes {members = [@T], weighting = "accuracy", weight_data = @M, weight_split = "val"}
