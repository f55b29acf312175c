// An evaluation with a body lowers the body (its models already inlined)
// instead of the model: a student that sees its input through a transform
// is scored on the transformed batch, and a loss evaluation ("mean") scores
// the one value its body yields, keeping the loss's source text.
// RUN: kd-opt --kd-lower-to-runtime %s | FileCheck %s
// RUN: kd-opt --kd-lower-to-runtime=target=gpu %s | FileCheck %s --check-prefix=GPU

kd.dataset @d attributes {source = "idx", path = "p", image = "gray", image_shape = array<i64: 1, 4, 4>,
    mean = array<f64>, std = array<f64>, classes = 3 : i64, class_names = [], splits = []}
kd.model @S_model(%i: tensor<?x1x2x2xf32>) -> tensor<?x3xf32> {
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.output %y : tensor<?x3xf32>
}
kd.student @S untrained attributes {model = @S_model}

// CHECK-LABEL: kdrt.evaluate attributes {{{.*}}metrics = ["accuracy"], model = "S", split = "test"}
// CHECK: %[[I:.*]] = kdrt.buffer {{[0-9]+}} offset {{[0-9]+}} : memref<256x1x2x2xf32>
// CHECK: kdrt.load_batch "image" %[[I]] {{.*}}transform = {h = 2 : i64, mode = "bilinear", op = "resize", w = 2 : i64}
// CHECK: kdrt.linear.fwd
// CHECK: kdrt.output %{{.*}} : memref<256x3xf32>
kd.evaluate @S_model on @d "test" metrics ["accuracy"] using {
  %i = kd.batch_input {transform = {kind = "resize", h = 2 : i64, w = 2 : i64, mode = "bilinear"}} : tensor<?x1x2x2xf32>
  %x = kd.reshape %i : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  kd.yield %y : tensor<?x3xf32>
}

// CHECK-LABEL: kdrt.evaluate attributes {{{.*}}expression = "kl(S.logits, S.logits)"{{.*}}metrics = ["mean"], model = "S", split = "test"}
// CHECK: kdrt.load_batch "image"
// CHECK-NOT: transform
// CHECK: %[[KL:.*]] = kdrt.buffer {{[0-9]+}} offset {{[0-9]+}} : memref<f32>
// CHECK: kdrt.kl_div_loss {{.*}}outs(%[[KL]]
// CHECK: kdrt.output %[[KL]] : memref<f32>
kd.evaluate @S_model on @d "test" metrics ["mean"] attributes {expression = "kl(S.logits, S.logits)"} using {
  %i = kd.batch_input : tensor<?x1x4x4xf32>
  %p = kd.adaptive_pool avg %i to [2, 2] : tensor<?x1x4x4xf32> -> tensor<?x1x2x2xf32>
  %x = kd.reshape %p : tensor<?x1x2x2xf32> -> tensor<?x4xf32>
  %w = kd.param "S/fc.weight" weight zeros : tensor<3x4xf32>
  %y = kd.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  %kl = kd.loss.kl %y, %y temperature 1.0 reduction batchmean t2 false reverse false : tensor<?x3xf32>, tensor<?x3xf32>
  kd.yield %kl : tensor<f32>
}

// --kd-fuse folds an inference batch norm into the conv of an evaluation
// body as a scale_shift post-op. kd.bn_scale_shift becomes the kernel that
// writes the scale and shift from the running statistics (buffers that do
// not follow the batch), which the conv reads after its bias with the
// chain as post_ops: one conv call. The GPU target has no such kernel: there
// the chain is an inference batch_norm.fwd on the running statistics after
// the conv, then the relu.
// CHECK-LABEL: kdrt.evaluate attributes {{{.*}}metrics = ["f1"], model = "S"
// CHECK: %[[G:.*]] = kdrt.param "S/bn.weight"
// CHECK: %[[S:.*]] = kdrt.buffer {{[0-9]+}} offset {{[0-9]+}} {unbatched} : memref<2xf32>
// CHECK: %[[T:.*]] = kdrt.buffer {{[0-9]+}} offset {{[0-9]+}} {unbatched} : memref<2xf32>
// CHECK: kdrt.batch_norm_scale_shift ins(%[[G]], %{{.*}}, %{{.*}}, %{{.*}} : {{.*}}) outs(%[[S]], %[[T]] : memref<2xf32>, memref<2xf32>) {eps = 1.000000e-05 : f64}
// CHECK-NOT: kdrt.batch_norm.fwd
// CHECK: kdrt.conv2d.fwd ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[S]], %[[T]] : memref<256x1x4x4xf32>, memref<2x1x3x3xf32>, none, memref<2xf32>, memref<2xf32>) outs(%{{.*}} : memref<256x2x4x4xf32>)
// CHECK-SAME: post_ops = [{kind = "scale_shift"}, {kind = "relu"}]
// CHECK-NOT: kdrt.relu.fwd
// CHECK: kdrt.linear.fwd
// GPU-LABEL: kdrt.evaluate attributes {{{.*}}metrics = ["f1"], model = "S"
// GPU-NOT: batch_norm_scale_shift
// GPU: kdrt.conv2d.fwd ins(%[[X:[0-9]+]], %{{.*}}) outs(%[[C:[0-9]+]] : memref<256x2x4x4xf32>)
// GPU: kdrt.batch_norm.fwd ins(%[[C]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : {{.*}}) outs(%[[B:[0-9]+]] : memref<256x2x4x4xf32>) {{{.*}}training = false}
// GPU: kdrt.relu.fwd ins(%[[B]] : memref<256x2x4x4xf32>)
kd.evaluate @S_model on @d "test" metrics ["f1"] using {
  %i = kd.batch_input : tensor<?x1x4x4xf32>
  %w = kd.param "S/conv.weight" weight zeros : tensor<2x1x3x3xf32>
  %g = kd.param "S/bn.weight" weight ones : tensor<2xf32>
  %b = kd.param "S/bn.bias" bias zeros : tensor<2xf32>
  %m = kd.param "S/bn.running_mean" state zeros : tensor<2xf32>
  %v = kd.param "S/bn.running_var" state ones : tensor<2xf32>
  %scale, %shift = kd.bn_scale_shift %g, %b, %m, %v eps 1.000000e-05 : tensor<2xf32>
  %c = kd.conv2d_fused %i, %w post_ops ["scale_shift", "relu"](%scale, %shift) stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  %p = kd.adaptive_pool avg %c to [1, 1] : tensor<?x2x4x4xf32> -> tensor<?x2x1x1xf32>
  %x = kd.reshape %p : tensor<?x2x1x1xf32> -> tensor<?x2xf32>
  %fw = kd.param "S/fc2.weight" weight zeros : tensor<3x2xf32>
  %y = kd.linear %x, %fw : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
  kd.yield %y : tensor<?x3xf32>
}
