// FitNets' hint adapter (conv3x3) becomes a model trained with the stage.
// RUN: kdc --emit=mlir %stdlib/recipes/fitnets.kd | kd-opt --kd-materialize-adapters | FileCheck %s --check-prefix=FITNETS
// FITNETS-LABEL: kd.model @hints_adapt0_model(%{{.*}}: tensor<?x48x7x7xf32>) -> tensor<?x128x7x7xf32>
// FITNETS: kd.param "adapters/hints.adapt0.conv.weight" weight kaiming_uniform {{.*}} : tensor<128x48x3x3xf32>
// FITNETS-LABEL: kd.stage @hints attributes
// FITNETS-SAME: trained = [@S_model, @hints_adapt0_model]
// FITNETS: kd.apply @hints_adapt0_model(%{{.*}}) taps ["output"] : (tensor<?x48x7x7xf32>) -> tensor<?x128x7x7xf32>
// FITNETS-NOT: kd.adapt

// One adapter of each kind, and an attention fusion.
// RUN: kd-opt --kd-materialize-adapters %s | FileCheck %s

kd.dataset @d attributes {class_names = [], classes = 2 : i64, image = "gray", image_shape = array<i64: 4, 8, 8>, mean = array<f64>, path = "p", source = "idx", std = array<f64>, splits = [{file = "train", name = "train", source = "file"}]}
kd.model @M(%x: tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32> {
  %0 = kd.reshape %x : tensor<?x4x8x8xf32> -> tensor<?x256xf32>
  kd.tap "img" %x value : tensor<?x4x8x8xf32>
  kd.tap "vec" %0 value : tensor<?x256xf32>
  kd.output %x : tensor<?x4x8x8xf32>
}
// CHECK-LABEL: kd.model @s_a1_model(%{{.*}}: tensor<?x4x8x8xf32>) -> tensor<?x6x8x8xf32>
// CHECK: %[[W:.*]] = kd.param "adapters/s.a1.conv.weight" weight kaiming_uniform {fan = "fan_in"{{.*}}} : tensor<6x4x1x1xf32>
// CHECK: %[[B:.*]] = kd.param "adapters/s.a1.conv.bias" bias uniform {bound = 5.000000e-01 : f64} : tensor<6xf32>
// CHECK: kd.conv2d %{{.*}}, %[[W]], %[[B]] stride [1, 1] pad [0, 0]
// CHECK-LABEL: kd.model @s_a3_model
// CHECK: kd.conv2d {{.*}} pad [1, 1] {{.*}} -> tensor<?x6x8x8xf32>
// CHECK-LABEL: kd.model @s_lin_model(%{{.*}}: tensor<?x256xf32>) -> tensor<?x10xf32>
// CHECK: kd.linear {{.*}} -> tensor<?x10xf32>
// CHECK-LABEL: kd.model @s_pool_model
// CHECK: kd.adaptive_pool avg %{{.*}} to [2, 2] : tensor<?x4x8x8xf32> -> tensor<?x4x2x2xf32>
// CHECK-LABEL: kd.model @s_cp_model
// CHECK: kd.conv2d
// CHECK: kd.adaptive_pool avg %{{.*}} to [4, 4]
// CHECK-LABEL: kd.model @s_fuse_proj0_model(%{{.*}}: tensor<?x4x8x8xf32>) -> tensor<?x1x16xf32>
// CHECK: kd.param "adapters/s.fuse.proj0.weight" {{.*}} : tensor<16x256xf32>
// CHECK-LABEL: kd.model @s_fuse_proj1_model(%{{.*}}: tensor<?x256xf32>) -> tensor<?x1x16xf32>
// CHECK-LABEL: kd.model @s_fuse_fuse_model(%{{.*}}: tensor<?x2x16xf32>) -> tensor<?x16xf32>
// CHECK: kd.param "adapters/s.fuse.attn.q_weight" weight xavier_uniform {gain = 0.70710678118654{{[0-9]*}} : f64} : tensor<16x16xf32>
// CHECK: kd.param "adapters/s.fuse.attn.out_bias" bias zeros : tensor<16xf32>
// CHECK: kd.mha {{.*}} heads 4 : (tensor<?x2x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x2x16xf32>
// CHECK: kd.adaptive_pool avg %{{.*}} to [1, 16] : tensor<?x1x2x16xf32> -> tensor<?x1x1x16xf32>
// CHECK-LABEL: kd.stage @s attributes
// CHECK-SAME: trained = [@M, @s_a1_model, @s_a3_model, @s_lin_model, @s_cp_model, @s_fuse_proj0_model, @s_fuse_proj1_model, @s_fuse_fuse_model]
kd.stage @s attributes {batch = 2 : i64, data = @d, epochs = 1 : i64, frozen = [], frozen_parts = [], groups = [], kind = "train", split = "train", steps = 0 : i64, trained = [@M]} {
  // CHECK: %[[X:.*]] = kd.batch_input
  %x = kd.batch_input : tensor<?x4x8x8xf32>
  // CHECK: %[[I:.*]]:2 = kd.apply @M
  %i, %v = kd.apply @M(%x) taps ["img", "vec"] : (tensor<?x4x8x8xf32>) -> (tensor<?x4x8x8xf32>, tensor<?x256xf32>)
  // CHECK: kd.apply @s_a1_model(%[[I]]#0) taps ["output"]
  %a1 = kd.adapt %i "conv1x1" name "s.a1" : tensor<?x4x8x8xf32> -> tensor<?x6x8x8xf32>
  %a3 = kd.adapt %i "conv3x3" name "s.a3" : tensor<?x4x8x8xf32> -> tensor<?x6x8x8xf32>
  %lin = kd.adapt %v "linear" name "s.lin" : tensor<?x256xf32> -> tensor<?x10xf32>
  %p = kd.adapt %i "pool" name "s.pool" : tensor<?x4x8x8xf32> -> tensor<?x4x2x2xf32>
  %cp = kd.adapt %i "conv1x1+pool" name "s.cp" : tensor<?x4x8x8xf32> -> tensor<?x6x4x4xf32>
  // The identity adapter disappears: the loss reads its input (below).
  %id = kd.adapt %i "identity" name "s.id" : tensor<?x4x8x8xf32> -> tensor<?x4x8x8xf32>
  // CHECK: %[[P0:.*]] = kd.apply @s_fuse_proj0_model(%[[I]]#0)
  // CHECK: %[[P1:.*]] = kd.apply @s_fuse_proj1_model(%[[I]]#1)
  // CHECK: %[[SEQ:.*]] = kd.concat %[[P0]], %[[P1]] axis 1
  // CHECK: kd.apply @s_fuse_fuse_model(%[[SEQ]]) taps ["output"] : (tensor<?x2x16xf32>) -> tensor<?x16xf32>
  %f = kd.attention_fuse %i, %v heads 4 dim 16 name "s.fuse" : (tensor<?x4x8x8xf32>, tensor<?x256xf32>) -> tensor<?x16xf32>
  // CHECK: kd.loss.mse %[[I]]#0, %[[I]]#0
  %l0 = kd.loss.mse %id, %id reduction mean : tensor<?x4x8x8xf32>, tensor<?x4x8x8xf32>
  %l1 = kd.loss.mse %a1, %a3 reduction mean : tensor<?x6x8x8xf32>, tensor<?x6x8x8xf32>
  %l2 = kd.loss.l1 %lin, %lin reduction mean : tensor<?x10xf32>, tensor<?x10xf32>
  %l3 = kd.loss.mse %p, %p reduction mean : tensor<?x4x2x2xf32>, tensor<?x4x2x2xf32>
  %l4 = kd.loss.mse %cp, %cp reduction mean : tensor<?x6x4x4xf32>, tensor<?x6x4x4xf32>
  %l5 = kd.loss.mse %f, %f reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  %l = kd.loss.combine %l0, %l1, %l2, %l3, %l4, %l5 weights [1.0, 1.0, 1.0, 1.0, 1.0, 1.0] bias 0.0
  kd.minimize %l
}
