// A three-block graft (Inputs/graft3.kd, mode filled in below) expands into
// one stage per block (blocks) or per prefix of blocks (progressive).
// RUN: sed s/MODE/blocks/ %S/Inputs/graft3.kd > %t.blocks.kd
// RUN: kdc --emit=mlir %t.blocks.kd | kd-opt --kd-expand-grafts | FileCheck %s --check-prefix=BLOCKS
// RUN: kdc --emit=mlir %t.blocks.kd | kd-opt --kd-expand-grafts | FileCheck %s --check-prefix=STUDENT
// RUN: sed s/MODE/progressive/ %S/Inputs/graft3.kd > %t.progressive.kd
// RUN: kdc --emit=mlir %t.progressive.kd | kd-opt --kd-expand-grafts | FileCheck %s --check-prefix=PROG

// BLOCKS-LABEL: kd.model @g_b1_hybrid
// BLOCKS: kd.param "S/b1.conv0.weight"
// BLOCKS: %[[S1:.*]] = kd.pool2d max
// BLOCKS: %[[W:.*]] = kd.param "adapters/S.b1.after.weight" weight kaiming_normal {fan = "fan_out"{{.*}}} : tensor<32x8x1x1xf32>
// BLOCKS: %[[B:.*]] = kd.param "adapters/S.b1.after.bias" bias zeros : tensor<32xf32>
// BLOCKS: %[[A:.*]] = kd.conv2d %[[S1]], %[[W]], %[[B]] {{.*}} -> tensor<?x32x16x16xf32>
// BLOCKS: kd.block_begin "b2" %[[A]]
// BLOCKS: kd.param "T/b2.conv0.weight"
// BLOCKS: kd.param "T/b3.conv0.weight"
// BLOCKS: kd.tap "b1" %[[A]] block
// BLOCKS-LABEL: kd.stage @g_b1 attributes
// BLOCKS-SAME: epochs = 5
// BLOCKS-NOT: copy_params
// BLOCKS-SAME: frozen = [@T_model], frozen_parts = ["T"], grafted = ["b1"]
// BLOCKS-SAME: groups = [{lr = 2.500000e-04 : f64, params = ["S/b1."], target = "blocks"}, {lr = 2.500000e-03 : f64, params = ["adapters/S.b1.after."], target = "adapters"}]
// BLOCKS-SAME: trained = [@g_b1_hybrid]
// BLOCKS: %[[H:.*]] = kd.apply @g_b1_hybrid(%{{.*}}) taps ["logits"] :
// BLOCKS: %[[T:.*]] = kd.apply @T_model(%{{.*}}) taps ["logits"] :
// BLOCKS-LABEL: kd.model @g_b2_hybrid
// BLOCKS: kd.param "T/b1.conv0.weight"
// BLOCKS: kd.param "adapters/S.b2.before.weight" {{.*}} : tensor<8x32x1x1xf32>
// BLOCKS: kd.param "S/b2.conv0.weight"
// BLOCKS: kd.param "adapters/S.b2.after.weight" {{.*}} : tensor<64x16x1x1xf32>
// BLOCKS: kd.param "T/b3.conv0.weight"
// BLOCKS-LABEL: kd.stage @g_b2 attributes
// BLOCKS-SAME: epochs = 3
// BLOCKS-SAME: groups = [{lr = 2.500000e-04 : f64, params = ["S/b2."], target = "blocks"}, {lr = 2.500000e-03 : f64, params = ["adapters/S.b2.before.", "adapters/S.b2.after."], target = "adapters"}]
// BLOCKS-SAME: trained = [@g_b2_hybrid]
// BLOCKS-LABEL: kd.model @g_b3_hybrid
// BLOCKS-LABEL: kd.stage @g_b3 attributes
// BLOCKS-SAME: epochs = 2
// BLOCKS-SAME: grafted = ["b3"]
// BLOCKS-SAME: trained = [@g_b3_hybrid]
// BLOCKS-NOT: kd.graft_stage
// The student after the graft: every block grafted, the classifier outside
// the blocks (64 features in the teacher, 16 in the student) stays the
// teacher's, nothing of the student's own to copy; the student's
// declaration and the evaluation read it.
// BLOCKS-LABEL: kd.model @S_model.grafted
// BLOCKS-NOT: kd.param "T/b
// BLOCKS: kd.param "T/linear0.weight"
// BLOCKS: kd.evaluate @S_model.grafted on @d "train"

// STUDENT: kd.student @S untrained attributes {model = @S_model.grafted}

// PROG-LABEL: kd.stage @g_upto_b1 attributes
// PROG-SAME: grafted = ["b1"]
// PROG-LABEL: kd.model @g_upto_b2_hybrid
// PROG: kd.param "S/b1.conv0.weight"
// PROG: kd.param "adapters/S.b1.after.weight"
// PROG: kd.param "adapters/S.b2.before.weight"
// PROG: kd.param "S/b2.conv0.weight"
// PROG: kd.param "T/b3.conv0.weight"
// PROG-LABEL: kd.stage @g_upto_b2 attributes
// PROG-SAME: epochs = 3
// PROG-SAME: frozen_parts = ["T"], grafted = ["b1", "b2"]
// PROG-SAME: groups = [{lr = 2.500000e-04 : f64, params = ["S/b1.", "S/b2."], target = "blocks"}, {lr = 2.500000e-03 : f64, params = ["adapters/S.b1.after.", "adapters/S.b2.before.", "adapters/S.b2.after."], target = "adapters"}]
// PROG-LABEL: kd.model @g_upto_b3_hybrid
// PROG-NOT: kd.param "T/b{{[123]}}
// PROG: kd.param "T/linear0.weight"
// PROG-LABEL: kd.stage @g_upto_b3 attributes
// PROG-SAME: grafted = ["b1", "b2", "b3"]
// PROG-SAME: trained = [@g_upto_b3_hybrid]
// PROG: kd.apply @g_upto_b3_hybrid

// A graft stage without a loss cannot be expanded.
// RUN: kd-opt --kd-expand-grafts -verify-diagnostics %s

kd.dataset @d attributes {class_names = [], classes = 2 : i64, image = "gray", image_shape = array<i64: 1, 4, 4>, mean = array<f64>, path = "p", source = "idx", std = array<f64>, splits = [{file = "train", name = "train", source = "file"}]}
kd.model @T_model(%x: tensor<?x1x4x4xf32>) -> tensor<?x16xf32> {
  kd.block_begin "b1" %x : tensor<?x1x4x4xf32>
  %0 = kd.reshape %x : tensor<?x1x4x4xf32> -> tensor<?x16xf32>
  kd.tap "b1" %0 block : tensor<?x16xf32>
  kd.output %0 : tensor<?x16xf32>
}
// expected-error @below {{has no loss to expand}}
kd.graft_stage @g attributes {batch = 2 : i64, block_epochs = array<i64: 1>, blocks = [{adapter_after = false, adapter_before = false, name = "b1", student_in = array<i64: 1, 4, 4>, student_out = array<i64: 16>, teacher_in = array<i64: 1, 4, 4>, teacher_out = array<i64: 16>}], data = @d, epochs = 1 : i64, frozen = [], frozen_parts = [], groups = [], hybrid = "H", kind = "graft", mode = "blocks", split = "train", steps = 0 : i64, student = @T_model, teacher = @T_model, trained = []}
