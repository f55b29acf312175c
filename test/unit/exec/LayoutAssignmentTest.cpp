//===- LayoutAssignmentTest.cpp - Which buffers the executor keeps NHWC ---===//

#include "kdrt/exec/LayoutAssignment.h"

#include <gtest/gtest.h>

namespace kdrt::exec {
namespace {

using plan::Operand;

/// A graph built op by op: buffer(id, shape) declares, op(...) appends.
struct Graph {
  plan::GraphSpec spec;

  void buffer(int64_t id, std::vector<int64_t> shape) {
    plan::BufferSpec b;
    b.id = id;
    b.shape = std::move(shape);
    spec.buffers.push_back(b);
  }
  void op(std::string name, std::vector<Operand> in, std::vector<Operand> out) {
    plan::OpSpec o;
    o.op = std::move(name);
    o.in = std::move(in);
    o.out = std::move(out);
    spec.program.push_back(std::move(o));
  }
  std::vector<Layout> assign(std::set<int64_t> keep = {}) const {
    return assignLayouts(spec, {&spec.program}, keep);
  }
};

constexpr Layout NHWC = Layout::ChannelsLast;
constexpr Layout NCHW = Layout::RowMajor;

/// image -> conv -> bn -> relu -> max pool -> global pool -> reshape; the
/// buffers are 0..6 in that order.
Graph convChain() {
  Graph g;
  g.buffer(0, {2, 1, 8, 8});
  g.buffer(1, {2, 4, 8, 8});
  g.buffer(2, {2, 4, 8, 8});
  g.buffer(3, {2, 4, 8, 8});
  g.buffer(4, {2, 4, 4, 4});
  g.buffer(5, {2, 4, 1, 1});
  g.buffer(6, {2, 4});
  plan::InputSpec image;
  image.buffer = 0;
  g.spec.inputs.push_back(image);
  g.op("conv2d.fwd", {Operand::buf(0), Operand::param("w"), Operand::none()},
       {Operand::buf(1)});
  g.op("batch_norm.fwd",
       {Operand::buf(1), Operand::param("g"), Operand::param("b"),
        Operand::param("m"), Operand::param("v")},
       {Operand::buf(2)});
  g.op("relu.fwd", {Operand::buf(2)}, {Operand::buf(3)});
  g.op("max_pool2d.fwd", {Operand::buf(3)}, {Operand::buf(4)});
  g.op("global_avg_pool.fwd", {Operand::buf(4)}, {Operand::buf(5)});
  g.op("reshape.fwd", {Operand::buf(5)}, {Operand::buf(6)});
  return g;
}

TEST(LayoutAssignment, ActivationsBetweenNativeKernelsAreChannelsLast) {
  // The loader fills 0 row-major; 5 feeds a reshape; 6 is not rank 4.
  EXPECT_EQ(convChain().assign(), (std::vector<Layout>{NCHW, NHWC, NHWC, NHWC,
                                                       NHWC, NCHW, NCHW}));
}

TEST(LayoutAssignment, BuffersTheExecutorReadsStayRowMajor) {
  EXPECT_EQ(convChain().assign({2}), (std::vector<Layout>{NCHW, NHWC, NCHW,
                                                          NHWC, NHWC, NCHW,
                                                          NCHW}));
}

TEST(LayoutAssignment, ABufferNoKernelReadsStaysRowMajor) {
  Graph g = convChain();
  g.spec.program.resize(3); // up to the relu: 3 is now read by nobody
  std::vector<Layout> layouts = g.assign();
  EXPECT_EQ(layouts[2], NHWC);
  EXPECT_EQ(layouts[3], NCHW);
}

TEST(LayoutAssignment, ScaleAddTiesItsOperands) {
  // scale_add reads flat arrays: 3 must share 7's layout, and 7 feeds a
  // reshape, so both are row-major.
  Graph g = convChain();
  g.buffer(7, {2, 4, 8, 8});
  g.buffer(8, {2, 256});
  g.op("scale_add", {Operand::buf(3)}, {Operand::buf(7)});
  g.op("reshape.fwd", {Operand::buf(7)}, {Operand::buf(8)});
  std::vector<Layout> layouts = g.assign();
  EXPECT_EQ(layouts[2], NHWC);
  EXPECT_EQ(layouts[3], NCHW);
  EXPECT_EQ(layouts[7], NCHW);
}

TEST(LayoutAssignment, ABroadcastAddIsRowMajorAnEqualShapeAddIsNot) {
  Graph g = convChain();
  g.buffer(7, {1, 4, 1, 1});
  g.buffer(8, {2, 4, 8, 8});
  g.buffer(9, {2, 4, 8, 8});
  g.op("conv2d.fwd", {Operand::buf(0), Operand::param("w"), Operand::none()},
       {Operand::buf(7)}); // only so that 7 is written by a kernel
  g.op("add.fwd", {Operand::buf(2), Operand::buf(2)}, {Operand::buf(8)});
  g.op("add.fwd", {Operand::buf(3), Operand::buf(7)}, {Operand::buf(9)});
  g.op("conv2d.fwd", {Operand::buf(8), Operand::param("w"), Operand::none()},
       {Operand::buf(1)});
  g.op("conv2d.fwd", {Operand::buf(9), Operand::param("w"), Operand::none()},
       {Operand::buf(1)});
  std::vector<Layout> layouts = g.assign();
  EXPECT_EQ(layouts[2], NHWC); // equal shapes: elementwise in any layout
  EXPECT_EQ(layouts[8], NHWC);
  EXPECT_EQ(layouts[3], NCHW); // broadcast: row-major
  EXPECT_EQ(layouts[9], NCHW);
}

TEST(LayoutAssignment, AConvsResidualSharesItsOutputsLayout) {
  // conv2d.fwd with post-ops: in (x, w, b, residual, scale, shift). The sum
  // starts from a copy of the residual in the output, so the two share a
  // layout; the per-channel scale and shift do not constrain it.
  Graph g = convChain();
  g.buffer(7, {4});
  g.buffer(8, {4});
  g.buffer(9, {2, 4, 8, 8});
  g.op("batch_norm_scale_shift", {Operand::param("g"), Operand::param("b"),
                                  Operand::param("m"), Operand::param("v")},
       {Operand::buf(7), Operand::buf(8)});
  g.op("conv2d.fwd",
       {Operand::buf(3), Operand::param("w"), Operand::none(), Operand::buf(2),
        Operand::buf(7), Operand::buf(8)},
       {Operand::buf(9)});
  g.op("max_pool2d.fwd", {Operand::buf(9)}, {Operand::buf(4)});
  EXPECT_EQ(g.assign()[9], NHWC);
  // A row-major reader of the residual makes the output row-major too.
  g.op("reshape.fwd", {Operand::buf(2)}, {Operand::buf(6)});
  std::vector<Layout> layouts = g.assign();
  EXPECT_EQ(layouts[2], NCHW);
  EXPECT_EQ(layouts[9], NCHW);
}

} // namespace
} // namespace kdrt::exec
