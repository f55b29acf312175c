// RUN: kd-opt %s | kd-opt | FileCheck %s

// CHECK-LABEL: func.func @relu
// CHECK: %[[Y:.*]] = kd.relu %{{.*}} : tensor<?x16x28x28xf32>
// CHECK: return %[[Y]]
func.func @relu(%x: tensor<?x16x28x28xf32>) -> tensor<?x16x28x28xf32> {
  %y = kd.relu %x : tensor<?x16x28x28xf32>
  return %y : tensor<?x16x28x28xf32>
}
