// Every kd op parses, prints in its custom syntax and parses again, also
// through the generic form.
// RUN: kd-opt --allow-unregistered-dialect %s | kd-opt --allow-unregistered-dialect | FileCheck %s
// RUN: kd-opt --allow-unregistered-dialect --mlir-print-op-generic %s \
// RUN:   | kd-opt --allow-unregistered-dialect | FileCheck %s

// CHECK-LABEL: kd.dataset @fmnist attributes
// CHECK-SAME: image_shape = array<i64: 1, 28, 28>
kd.dataset @fmnist attributes {source = "idx", path = "fashion-mnist", image = "gray",
    image_shape = array<i64: 1, 28, 28>, mean = array<f64: 0.286>, std = array<f64: 0.353>,
    classes = 10 : i64, class_names = ["a", "b"],
    splits = [{name = "train", source = "file", file = "train"},
              {name = "val", source = "slice", parent = "train", lo = 54000 : i64}]}

// A data set without normalisation has empty mean and std.
// CHECK: kd.dataset @plain attributes {{.*}}mean = array<f64>
kd.dataset @plain attributes {source = "folder", path = "images", image = "rgb",
    image_shape = array<i64: 3, 32, 32>, mean = array<f64>, std = array<f64>,
    classes = 2 : i64, class_names = [], splits = []}

// CHECK-LABEL: kd.model @S_model(%{{.*}}: tensor<?x1x28x28xf32>) -> tensor<?x10xf32> {
// CHECK: kd.block_begin "l1" %{{.*}} : tensor<?x1x28x28xf32>
// CHECK: kd.param "S/l1.conv0.weight" weight kaiming_normal {fan = "fan_in", gain = 1.4{{[0-9]*}} : f64} : tensor<8x1x3x3xf32>
// CHECK: kd.param "S/l1.bn0.running_var" state ones : tensor<8xf32>
// CHECK: kd.tap "l1" %{{.*}} block : tensor<?x8x14x14xf32>
// CHECK: kd.output %{{.*}} : tensor<?x10xf32>
kd.model @S_model(%x: tensor<?x1x28x28xf32>) -> tensor<?x10xf32> {
  kd.block_begin "l1" %x : tensor<?x1x28x28xf32>
  %w = kd.param "S/l1.conv0.weight" weight kaiming_normal {fan = "fan_in", gain = 1.4142135623730951 : f64} : tensor<8x1x3x3xf32>
  %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x28x28xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x28x28xf32>
  %g = kd.param "S/l1.bn0.weight" weight ones : tensor<8xf32>
  %b = kd.param "S/l1.bn0.bias" bias zeros : tensor<8xf32>
  %m = kd.param "S/l1.bn0.running_mean" state zeros : tensor<8xf32>
  %v = kd.param "S/l1.bn0.running_var" state ones : tensor<8xf32>
  %n = kd.batch_norm %c, %g, %b, %m, %v eps 1.0e-05 momentum 0.1 : (tensor<?x8x28x28xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x28x28xf32>
  %r = kd.relu %n : tensor<?x8x28x28xf32>
  %p = kd.pool2d max %r kernel [2, 2] stride [2, 2] pad [0, 0] : tensor<?x8x28x28xf32> -> tensor<?x8x14x14xf32>
  kd.tap "l1" %p block : tensor<?x8x14x14xf32>
  %a = kd.adaptive_pool avg %p to [1, 1] : tensor<?x8x14x14xf32> -> tensor<?x8x1x1xf32>
  %f = kd.reshape %a : tensor<?x8x1x1xf32> -> tensor<?x8xf32>
  %lw = kd.param "S/linear0.weight" weight kaiming_normal {fan = "fan_in", gain = 1.4142135623730951 : f64} : tensor<10x8xf32>
  %lb = kd.param "S/linear0.bias" bias zeros : tensor<10xf32>
  %l = kd.linear %f, %lw, %lb : (tensor<?x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  kd.tap "embed" %f value : tensor<?x8xf32>
  kd.tap "logits" %l value : tensor<?x10xf32>
  kd.tap "output" %l output : tensor<?x10xf32>
  kd.output %l : tensor<?x10xf32>
}

kd.model @T_model(%x: tensor<?x1x28x28xf32>) -> tensor<?x10xf32> {
  %w = kd.param "T/conv0.weight" weight xavier_uniform : tensor<16x1x3x3xf32>
  %c = kd.conv2d %x, %w stride [2, 2] pad [1, 1] dilation [1, 1] groups 1 : (tensor<?x1x28x28xf32>, tensor<16x1x3x3xf32>) -> tensor<?x16x14x14xf32>
  kd.tap "l1" %c block : tensor<?x16x14x14xf32>
  %a = kd.adaptive_pool max %c to [1, 1] : tensor<?x16x14x14xf32> -> tensor<?x16x1x1xf32>
  %f = kd.reshape %a : tensor<?x16x1x1xf32> -> tensor<?x16xf32>
  %lw = kd.param "T/linear0.weight" weight normal {std = 0.02 : f64} : tensor<10x16xf32>
  %l = kd.linear %f, %lw : (tensor<?x16xf32>, tensor<10x16xf32>) -> tensor<?x10xf32>
  kd.tap "embed" %f value : tensor<?x16xf32>
  kd.tap "logits" %l value : tensor<?x10xf32>
  kd.output %l : tensor<?x10xf32>
}

// CHECK: kd.teacher @T trained attributes {model = @T_model}
// CHECK: kd.teacher @E ensemble attributes {members = [@T, @T2], weighting = "fixed", weights = array<f64: {{.*}}, 3.000000e-01>}
// CHECK: kd.student @S untrained attributes {model = @S_model, transform = {h = 28 : i64, kind = "resize", w = 28 : i64}}
kd.teacher @T trained attributes {model = @T_model}
kd.teacher @T2 loaded attributes {model = @T_model, load_path = "t.safetensors"}
kd.teacher @E ensemble attributes {members = [@T, @T2], weighting = "fixed", weights = array<f64: 0.7, 0.3>}
kd.student @S untrained attributes {model = @S_model, transform = {kind = "resize", h = 28 : i64, w = 28 : i64}}

// CHECK-LABEL: kd.stage @distill attributes
// CHECK: %[[X:.*]] = kd.batch_input : tensor<?x1x28x28xf32>
// CHECK: %[[Y:.*]] = kd.batch_labels : tensor<?xi64>
// CHECK: %[[S:.*]]:2 = kd.apply @S_model(%[[X]]) taps ["logits", "embed"] : (tensor<?x1x28x28xf32>) -> (tensor<?x10xf32>, tensor<?x8xf32>)
// CHECK: kd.adapt %[[S]]#1 "linear" name "adapt0" : tensor<?x8xf32> -> tensor<?x16xf32>
// CHECK: kd.attention_fuse %{{.*}}, %{{.*}} heads 2 dim 8 name "fuse0" : (tensor<?x8xf32>, tensor<?x16xf32>) -> tensor<?x8xf32>
// CHECK: kd.normalize
// CHECK: kd.stop_gradient %{{.*}} : tensor<?x8xf32>
// CHECK: kd.mean
// CHECK: kd.ensemble %{{.*}}, %{{.*}} weighting "equal" : tensor<?x10xf32>
// CHECK: kd.ensemble %{{.*}}, %{{.*}} labels %[[Y]] : tensor<?xi64> weighting "ca_mkd" {ensemble = @E, temperature = 4.000000e+00 : f64} : tensor<?x10xf32>
// CHECK: kd.loss.ce %[[S]]#0, %[[Y]] smoothing 1.000000e-01 : tensor<?x10xf32>, tensor<?xi64>
// CHECK: kd.loss.ce %{{.*}}, %{{.*}} smoothing 0.000000e+00 : tensor<?x10xf32>, tensor<?x10xf32>
// CHECK: kd.loss.kl %{{.*}}, %{{.*}} temperature 4.000000e+00 reduction batchmean t2 true reverse false
// CHECK: kd.loss.mse %{{.*}}, %{{.*}} reduction mean
// CHECK: kd.loss.l1 %{{.*}}, %{{.*}} reduction sum
// CHECK: kd.loss.smooth_l1 %{{.*}}, %{{.*}} beta 1.000000e+00
// CHECK: kd.loss.cosine
// CHECK: kd.loss.at %{{.*}}, %{{.*}} p 2.000000e+00 : tensor<?x8x14x14xf32>, tensor<?x16x14x14xf32>
// CHECK: kd.loss.rkd_distance %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x16xf32>
// CHECK: kd.loss.rkd_angle
// CHECK: kd.loss.dkd %{{.*}}, %{{.*}}, %[[Y]] alpha 1.000000e+00 beta 8.000000e+00 temperature 4.000000e+00
// CHECK: %[[L:.*]] = kd.loss.combine %{{.*}} weights [{{.*}}] bias 5.000000e-01
// CHECK: kd.minimize %[[L]]
kd.stage @distill attributes {kind = "distill", data = @fmnist, split = "train", epochs = 2 : i64,
    batch = 128 : i64, steps = 0 : i64, trained = [@S_model], frozen = [@T_model], frozen_parts = [],
    optimizer = {kind = "sgd", lr = 0.05 : f64}, schedule = {kind = "cosine"},
    groups = [{target = "S", lr = 0.01 : f64}]} {
  %x = kd.batch_input : tensor<?x1x28x28xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %s:2 = kd.apply @S_model(%x) taps ["logits", "embed"] : (tensor<?x1x28x28xf32>) -> (tensor<?x10xf32>, tensor<?x8xf32>)
  %t:3 = kd.apply @T_model(%x) taps ["logits", "embed", "l1"] : (tensor<?x1x28x28xf32>) -> (tensor<?x10xf32>, tensor<?x16xf32>, tensor<?x16x14x14xf32>)
  %sl1 = kd.apply @S_model(%x) taps ["l1"] : (tensor<?x1x28x28xf32>) -> tensor<?x8x14x14xf32>
  %ad = kd.adapt %s#1 "linear" name "adapt0" : tensor<?x8xf32> -> tensor<?x16xf32>
  %fu = kd.attention_fuse %s#1, %t#1 heads 2 dim 8 name "fuse0" : (tensor<?x8xf32>, tensor<?x16xf32>) -> tensor<?x8xf32>
  %nm = kd.normalize %fu : tensor<?x8xf32>
  %dt = kd.stop_gradient %fu : tensor<?x8xf32>
  %mn = kd.mean %s#0, %t#0 : tensor<?x10xf32>
  %en = kd.ensemble %s#0, %t#0 weighting "equal" : tensor<?x10xf32>
  %ca = kd.ensemble %s#0, %t#0 labels %y : tensor<?xi64> weighting "ca_mkd" {ensemble = @E, temperature = 4.0 : f64} : tensor<?x10xf32>
  %ce = kd.loss.ce %s#0, %y smoothing 0.1 : tensor<?x10xf32>, tensor<?xi64>
  %soft = kd.softmax %t#0 temperature 1.0 : tensor<?x10xf32>
  %ces = kd.loss.ce %s#0, %soft smoothing 0.0 : tensor<?x10xf32>, tensor<?x10xf32>
  %kl = kd.loss.kl %s#0, %mn temperature 4.0 reduction batchmean t2 true reverse false : tensor<?x10xf32>, tensor<?x10xf32>
  %mse = kd.loss.mse %ad, %t#1 reduction mean : tensor<?x16xf32>, tensor<?x16xf32>
  %l1 = kd.loss.l1 %ad, %t#1 reduction sum : tensor<?x16xf32>, tensor<?x16xf32>
  %sl = kd.loss.smooth_l1 %ad, %t#1 beta 1.0 : tensor<?x16xf32>, tensor<?x16xf32>
  %cos = kd.loss.cosine %nm, %dt : tensor<?x8xf32>, tensor<?x8xf32>
  %at = kd.loss.at %sl1, %t#2 p 2.0 : tensor<?x8x14x14xf32>, tensor<?x16x14x14xf32>
  %rd = kd.loss.rkd_distance %s#1, %t#1 : tensor<?x8xf32>, tensor<?x16xf32>
  %ra = kd.loss.rkd_angle %s#1, %t#1 : tensor<?x8xf32>, tensor<?x16xf32>
  %dkd = kd.loss.dkd %s#0, %en, %y alpha 1.0 beta 8.0 temperature 4.0 : tensor<?x10xf32>, tensor<?x10xf32>, tensor<?xi64>
  %loss = kd.loss.combine %ce, %ces, %kl, %mse, %l1, %sl, %cos, %at, %rd, %ra, %dkd weights [1.0, 1.0, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -0.5] bias 0.5
  kd.minimize %loss
}

// CHECK: kd.graft_stage @graft attributes
// CHECK-SAME: mode = "blocks"
kd.graft_stage @graft attributes {kind = "graft", data = @fmnist, split = "train", epochs = 1 : i64,
    batch = 64 : i64, steps = 0 : i64, trained = [@S_model], frozen = [@T_model], frozen_parts = [],
    groups = [], student = @S_model, teacher = @T_model, hybrid = "H", mode = "blocks",
    block_epochs = array<i64: 1>, blocks = [{name = "l1", adapter_after = true}]}

// CHECK: kd.evaluate @S_model on @fmnist "val" metrics ["accuracy", "f1"]{{$}}
// CHECK: kd.evaluate @S_model on @fmnist "val" metrics [] using {
// CHECK: kd.yield %{{.*}} : tensor<f32>
// CHECK: kd.export @S_model to "s.safetensors" format "safetensors"
kd.evaluate @S_model on @fmnist "val" metrics ["accuracy", "f1"]
kd.evaluate @S_model on @fmnist "val" metrics [] using {
  %x = kd.batch_input : tensor<?x1x28x28xf32>
  %y = kd.batch_labels : tensor<?xi64>
  %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x1x28x28xf32>) -> tensor<?x10xf32>
  %ce = kd.loss.ce %s, %y smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
  kd.yield %ce : tensor<f32>
}
kd.export @S_model to "s.safetensors" format "safetensors"

// CHECK-LABEL: func.func @layers
func.func @layers(%img: tensor<?x16x8x8xf32>, %tok: tensor<?x4x16xf32>, %vec: tensor<?x16xf32>) {
  %g = "test.g"() : () -> tensor<16xf32>
  %b = "test.b"() : () -> tensor<16xf32>
  // CHECK: kd.layer_norm %{{.*}}, %{{.*}}, %{{.*}} rank 1 eps 1.000000e-05
  %ln = kd.layer_norm %tok, %g, %b rank 1 eps 1.0e-05 : (tensor<?x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  // CHECK: kd.layer_norm %{{.*}} rank 1 eps 1.000000e-05 : (tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  %ln2 = kd.layer_norm %tok rank 1 eps 1.0e-05 : (tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  // CHECK: kd.group_norm %{{.*}} groups 4 eps
  %gn = kd.group_norm %img, %g, %b groups 4 eps 1.0e-05 : (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16x8x8xf32>
  // CHECK: kd.l2_normalize %{{.*}} eps
  %l2 = kd.l2_normalize %vec eps 1.0e-12 : tensor<?x16xf32>
  // CHECK: kd.gelu
  %ge = kd.gelu %vec : tensor<?x16xf32>
  // CHECK: kd.sigmoid
  %sg = kd.sigmoid %vec : tensor<?x16xf32>
  // CHECK: kd.tanh
  %th = kd.tanh %vec : tensor<?x16xf32>
  // CHECK: kd.softmax %{{.*}} temperature 2.000000e+00 log : tensor<?x16xf32>
  %ls = kd.softmax %vec temperature 2.0 log : tensor<?x16xf32>
  // CHECK: kd.dropout %{{.*}} p 5.000000e-01 seed 7 : tensor<?x16xf32>
  %dr = kd.dropout %vec p 0.5 seed 7 : tensor<?x16xf32>
  // CHECK: kd.pool2d avg %{{.*}} kernel [3, 3] stride [1, 1] pad [1, 1] count_include_pad
  %ap = kd.pool2d avg %img kernel [3, 3] stride [1, 1] pad [1, 1] count_include_pad : tensor<?x16x8x8xf32> -> tensor<?x16x8x8xf32>
  // CHECK: kd.resize nearest %{{.*}} to [4, 4]
  %rs = kd.resize nearest %img to [4, 4] : tensor<?x16x8x8xf32> -> tensor<?x16x4x4xf32>
  %ch = "test.c"() : () -> tensor<?x16x1x1xf32>
  // CHECK: kd.add %{{.*}}, %{{.*}} : tensor<?x16x8x8xf32>, tensor<?x16x1x1xf32>
  %ad = kd.add %img, %ch : tensor<?x16x8x8xf32>, tensor<?x16x1x1xf32>
  // CHECK: kd.mul
  %mu = kd.mul %img, %img : tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>
  // CHECK: kd.concat %{{.*}}, %{{.*}} axis 1 : (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>) -> tensor<?x32x8x8xf32>
  %cc = kd.concat %img, %mu axis 1 : (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>) -> tensor<?x32x8x8xf32>
  // CHECK: kd.matmul %{{.*}}, %{{.*}} transpose_rhs : (tensor<?x4x16xf32>, tensor<?x4x16xf32>) -> tensor<?x4x4xf32>
  %mm = kd.matmul %tok, %tok transpose_rhs : (tensor<?x4x16xf32>, tensor<?x4x16xf32>) -> tensor<?x4x4xf32>
  %wq = "test.wq"() : () -> tensor<16x16xf32>
  %wo = "test.wo"() : () -> tensor<16x16xf32>
  // CHECK: kd.mha %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} heads 4
  %mh = kd.mha %tok, %wq, %b, %wq, %b, %wq, %b, %wo, %b heads 4 : (tensor<?x4x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %pw = "test.pw"() : () -> tensor<1x16x1x1xf32>
  %pb = "test.pb"() : () -> tensor<1xf32>
  // CHECK: kd.attention_pool
  %at = kd.attention_pool %img, %pw, %pb : (tensor<?x16x8x8xf32>, tensor<1x16x1x1xf32>, tensor<1xf32>) -> tensor<?x16x1x1xf32>
  // CHECK: kd.tokens %{{.*}} : tensor<?x16x8x8xf32> -> tensor<?x64x16xf32>
  %tk = kd.tokens %img : tensor<?x16x8x8xf32> -> tensor<?x64x16xf32>
  %ct = "test.ct"() : () -> tensor<1x1x16xf32>
  // CHECK: kd.cls_token
  %cl = kd.cls_token %tok, %ct : (tensor<?x4x16xf32>, tensor<1x1x16xf32>) -> tensor<?x5x16xf32>
  %pt = "test.pt"() : () -> tensor<1x5x16xf32>
  // CHECK: kd.pos_embed
  %pe = kd.pos_embed %cl, %pt : (tensor<?x5x16xf32>, tensor<1x5x16xf32>) -> tensor<?x5x16xf32>
  // CHECK: kd.select_token %{{.*}} index -1 : tensor<?x5x16xf32> -> tensor<?x16xf32>
  %st = kd.select_token %pe index -1 : tensor<?x5x16xf32> -> tensor<?x16xf32>
  return
}

// CHECK-LABEL: func.func @backward
func.func @backward(%img: tensor<?x16x8x8xf32>, %w: tensor<16x16x3x3xf32>, %c: tensor<16xf32>,
                    %vec: tensor<?x16xf32>, %lw: tensor<16x16xf32>, %tok: tensor<?x4x16xf32>,
                    %wi: tensor<48x16xf32>, %bi: tensor<48xf32>, %pw: tensor<1x16x1x1xf32>,
                    %cat: tensor<?x32x8x8xf32>, %flat: tensor<?x1024xf32>) {
  // CHECK: %{{.*}}:3 = kd.conv2d_bwd %{{.*}}, %{{.*}}, %{{.*}} stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 wanted [true, true, true]
  %cg:3 = kd.conv2d_bwd %img, %w, %img stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 wanted [true, true, true] : (tensor<?x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<?x16x8x8xf32>) -> (tensor<?x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  // CHECK: kd.linear_bwd {{.*}} wanted [false, true, false]
  %lg = kd.linear_bwd %vec, %lw, %vec wanted [false, true, false] : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<?x16xf32>) -> tensor<16x16xf32>
  // CHECK: kd.batch_norm_bwd
  %bg:3 = kd.batch_norm_bwd %img, %c, %c, %c, %img eps 1.0e-05 momentum 0.1 wanted [true, true, true] : (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<?x16x8x8xf32>) -> (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>)
  // CHECK: kd.layer_norm_bwd
  %lng = kd.layer_norm_bwd %tok, %c, %tok rank 1 eps 1.0e-05 wanted [true, false, false] : (tensor<?x4x16xf32>, tensor<16xf32>, tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  // CHECK: kd.group_norm_bwd
  %gng = kd.group_norm_bwd %img, %c, %img groups 4 eps 1.0e-05 wanted [true, false, false] : (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  // CHECK: kd.activation_bwd %{{.*}}, %{{.*}} gelu wanted [true]
  %ag = kd.activation_bwd %vec, %vec gelu wanted [true] : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  // CHECK: kd.softmax_bwd
  %sg = kd.softmax_bwd %vec, %vec temperature 1.0 wanted [true] : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  // CHECK: kd.pool2d_bwd
  %pg = kd.pool2d_bwd %img, %img max kernel [1, 1] stride [1, 1] pad [0, 0] wanted [true] : (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  // CHECK: kd.adaptive_pool_bwd
  %apg = kd.adaptive_pool_bwd %img, %img avg to [8, 8] wanted [true] : (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  // CHECK: kd.resize_bwd
  %rg = kd.resize_bwd %img bilinear to [8, 8] wanted [true] : (tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  // CHECK: kd.binary_bwd {{.*}} mul wanted [true, true]
  %big:2 = kd.binary_bwd %vec, %vec, %vec mul wanted [true, true] : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>)
  // CHECK: kd.concat_bwd
  %ccg:2 = kd.concat_bwd %cat axis 1 wanted [true, true] : (tensor<?x32x8x8xf32>) -> (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>)
  // CHECK: kd.reshape_bwd
  %rsg = kd.reshape_bwd %flat wanted [true] : (tensor<?x1024xf32>) -> tensor<?x16x8x8xf32>
  // CHECK: kd.dropout_bwd
  %dg = kd.dropout_bwd %vec p 0.5 seed 7 wanted [true] : (tensor<?x16xf32>) -> tensor<?x16xf32>
  // CHECK: kd.matmul_bwd
  %mg:2 = kd.matmul_bwd %lw, %lw, %lw wanted [true, true] : (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> (tensor<16x16xf32>, tensor<16x16xf32>)
  // CHECK: kd.l2_normalize_bwd
  %l2g = kd.l2_normalize_bwd %vec, %vec eps 1.0e-12 wanted [true] : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  // CHECK: kd.mha_bwd
  %mhg:3 = kd.mha_bwd %tok, %lw, %c, %lw, %c, %lw, %c, %lw, %c, %tok heads 4 wanted [true, true, false, false, false, false, false, true, false] : (tensor<?x4x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<?x4x16xf32>) -> (tensor<?x4x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>)
  // CHECK: kd.attention_pool_bwd
  %apg2:2 = kd.attention_pool_bwd %img, %pw, %img wanted [true, true, false] : (tensor<?x16x8x8xf32>, tensor<1x16x1x1xf32>, tensor<?x16x8x8xf32>) -> (tensor<?x16x8x8xf32>, tensor<1x16x1x1xf32>)
  // CHECK: kd.tokens_bwd
  %tg = kd.tokens_bwd %tok wanted [true] : (tensor<?x4x16xf32>) -> tensor<?x16x2x2xf32>
  // CHECK: kd.cls_token_bwd
  %clg:2 = kd.cls_token_bwd %tok wanted [true, true] : (tensor<?x4x16xf32>) -> (tensor<?x3x16xf32>, tensor<1x1x16xf32>)
  // CHECK: kd.pos_embed_bwd
  %peg = kd.pos_embed_bwd %tok wanted [false, true] : (tensor<?x4x16xf32>) -> tensor<1x4x16xf32>
  // CHECK: kd.select_token_bwd
  %stg = kd.select_token_bwd %vec index 0 wanted [true] : (tensor<?x16xf32>) -> tensor<?x4x16xf32>
  // CHECK: kd.param_grad "S/linear0.weight" %{{.*}} : tensor<16x16xf32>
  kd.param_grad "S/linear0.weight" %lg : tensor<16x16xf32>
  return
}
