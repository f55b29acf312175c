//===- Pooling.cpp - pooling and bilinear resampling on oneDNN ------------===//

#include "Ops.h"

#include "kdrt/reference/Pooling.h"
#include "kdrt/reference/Resize.h"

namespace kdrt::onednn {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;

struct PoolGeometry {
  Dims src, dst, strides, kernel, padL, padR;
  algorithm kind;
  /// Of the data and its gradients alike (the executor ties them).
  Layout layout = Layout::RowMajor;
  memory::desc srcDesc() const { return layoutDesc(src, layout); }
  memory::desc dstDesc() const { return layoutDesc(dst, layout); }
};

PoolGeometry geometryOf(const Pool2dDesc &desc, const Tensor &input,
                        const Shape &output) {
  PoolGeometry g;
  g.layout = input.layout();
  g.src = dimsOf(input.shape());
  g.dst = dimsOf(output);
  g.strides = {desc.strideH, desc.strideW};
  g.kernel = {desc.kernelH, desc.kernelW};
  g.padL = {desc.padH, desc.padW};
  // Floor-mode output: the right padding oneDNN needs never exceeds the left
  // one, so windows and avg divisors match the reference's.
  auto padRight = [](int64_t in, int64_t out, int64_t kernel, int64_t stride,
                     int64_t padLeft) {
    return std::max<int64_t>((out - 1) * stride + kernel - in - padLeft, 0);
  };
  g.padR = {padRight(input.dim(2), output[2], desc.kernelH, desc.strideH,
                     desc.padH),
            padRight(input.dim(3), output[3], desc.kernelW, desc.strideW,
                     desc.padW)};
  g.kind = desc.mode == PoolMode::Max ? algorithm::pooling_max
           : desc.countIncludePad     ? algorithm::pooling_avg_include_padding
                                      : algorithm::pooling_avg_exclude_padding;
  return g;
}

CacheKey keyOf(const char *op, const PoolGeometry &g) {
  CacheKey key(op);
  key.add(int64_t(g.kind)).add(g.src).add(g.dst).add(g.strides).add(g.kernel)
      .add(g.padL).add(g.padR).add(int64_t(g.layout));
  return key;
}

struct PoolForwardEntry {
  dnnl::pooling_forward::primitive_desc pd;
  dnnl::pooling_forward primitive;
};

const PoolForwardEntry &poolForward(DnnContext &ctx, const PoolGeometry &g,
                                    bool training) {
  return ctx.cache.getOrCreate<PoolForwardEntry>(
      keyOf("pool_fwd", g).add(int64_t(training)), [&] {
        dnnl::pooling_forward::primitive_desc pd(
            dnnl::pooling_forward::desc(
                training ? prop_kind::forward_training
                         : prop_kind::forward_inference,
                g.kind, g.srcDesc(), g.dstDesc(), g.strides,
                g.kernel, g.padL, g.padR),
            ctx.engine);
        return PoolForwardEntry{pd, dnnl::pooling_forward(pd)};
      });
}

} // namespace

Status pool2dForward(DnnContext &ctx, const Pool2dDesc &desc,
                     const Tensor &input, Tensor &output) {
  return guarded("pool2d", [&]() -> Status {
    Shape expected;
    KDRT_RETURN_IF_ERROR(
        reference::detail::pool2dOutputShape(desc, input.shape(), expected));
    KDRT_RETURN_IF_ERROR(
        reference::checkShape("pool2d", "output", output.shape(), expected));
    PoolGeometry g = geometryOf(desc, input, expected);
    run(poolForward(ctx, g, false).primitive, ctx.stream,
        {{DNNL_ARG_SRC, wrap(ctx, input)}, {DNNL_ARG_DST, wrap(ctx, output)}});
    ctx.stream.wait();
    return Status::success();
  });
}

Status pool2dBackward(DnnContext &ctx, const Pool2dDesc &desc,
                      const Tensor &input, const Tensor &gradOutput,
                      Tensor &gradInput) {
  return guarded("pool2d", [&]() -> Status {
    Shape expected;
    KDRT_RETURN_IF_ERROR(
        reference::detail::pool2dOutputShape(desc, input.shape(), expected));
    KDRT_RETURN_IF_ERROR(reference::checkShape("pool2d", "gradOutput",
                                               gradOutput.shape(), expected));
    KDRT_RETURN_IF_ERROR(reference::checkShape(
        "pool2d", "gradInput", gradInput.shape(), input.shape()));
    PoolGeometry g = geometryOf(desc, input, expected);
    const PoolForwardEntry &forward = poolForward(ctx, g, true);
    struct BackwardEntry {
      dnnl::pooling_backward::primitive_desc pd;
      dnnl::pooling_backward primitive;
    };
    const BackwardEntry &entry =
        ctx.cache.getOrCreate<BackwardEntry>(keyOf("pool_bwd", g), [&] {
          dnnl::pooling_backward::primitive_desc pd(
              dnnl::pooling_backward::desc(g.kind, g.srcDesc(),
                                           g.dstDesc(), g.strides,
                                           g.kernel, g.padL, g.padR),
              ctx.engine, forward.pd);
          return BackwardEntry{pd, dnnl::pooling_backward(pd)};
        });
    Args args{{DNNL_ARG_DIFF_DST, wrap(ctx, gradOutput)},
              {DNNL_ARG_DIFF_SRC, wrap(ctx, gradInput)}};
    if (desc.mode == PoolMode::Max) {
      // Stateless backward: replay the forward for the argmax workspace.
      memory workspace(forward.pd.workspace_desc(), ctx.engine);
      memory discarded(g.dstDesc(), ctx.engine);
      forward.primitive.execute(ctx.stream,
                                {{DNNL_ARG_SRC, wrap(ctx, input)},
                                 {DNNL_ARG_DST, discarded},
                                 {DNNL_ARG_WORKSPACE, workspace}});
      args[DNNL_ARG_WORKSPACE] = workspace;
    }
    run(entry.primitive, ctx.stream, args);
    ctx.stream.wait();
    return Status::success();
  });
}

namespace {
struct ResampleForwardEntry {
  dnnl::resampling_forward::primitive_desc pd;
  dnnl::resampling_forward primitive;
};

const ResampleForwardEntry &resampleForward(DnnContext &ctx, const Dims &src,
                                            const Dims &dst) {
  CacheKey key("resample_fwd");
  key.add(src).add(dst);
  return ctx.cache.getOrCreate<ResampleForwardEntry>(key, [&] {
    dnnl::resampling_forward::primitive_desc pd(
        dnnl::resampling_forward::desc(prop_kind::forward_training,
                                       algorithm::resampling_linear,
                                       plainDesc(src), plainDesc(dst)),
        ctx.engine);
    return ResampleForwardEntry{pd, dnnl::resampling_forward(pd)};
  });
}
} // namespace

Status bilinearResizeForward(DnnContext &ctx, const ResizeDesc &desc,
                             const Tensor &input, Tensor &output) {
  return guarded("resize", [&]() -> Status {
    KDRT_RETURN_IF_ERROR(reference::detail::resizeCheck(
        desc, input.shape(), output.shape(), "output"));
    resampleForward(ctx, dimsOf(input.shape()), dimsOf(output.shape()))
        .primitive.execute(ctx.stream, {{DNNL_ARG_SRC, wrap(ctx, input)},
                                        {DNNL_ARG_DST, wrap(ctx, output)}});
    ctx.stream.wait();
    return Status::success();
  });
}

Status bilinearResizeBackward(DnnContext &ctx, const ResizeDesc &desc,
                              const Tensor &gradOutput, Tensor &gradInput) {
  return guarded("resize", [&]() -> Status {
    KDRT_RETURN_IF_ERROR(reference::detail::resizeCheck(
        desc, gradInput.shape(), gradOutput.shape(), "gradOutput"));
    Dims src = dimsOf(gradInput.shape()), dst = dimsOf(gradOutput.shape());
    const ResampleForwardEntry &hint = resampleForward(ctx, src, dst);
    struct BackwardEntry {
      dnnl::resampling_backward primitive;
    };
    CacheKey key("resample_bwd");
    key.add(src).add(dst);
    const BackwardEntry &entry = ctx.cache.getOrCreate<BackwardEntry>(key, [&] {
      return BackwardEntry{dnnl::resampling_backward(
          dnnl::resampling_backward::primitive_desc(
              dnnl::resampling_backward::desc(algorithm::resampling_linear,
                                              plainDesc(src), plainDesc(dst)),
              ctx.engine, hint.pd))};
    });
    entry.primitive.execute(ctx.stream,
                            {{DNNL_ARG_DIFF_DST, wrap(ctx, gradOutput)},
                             {DNNL_ARG_DIFF_SRC, wrap(ctx, gradInput)}});
    ctx.stream.wait();
    return Status::success();
  });
}

} // namespace kdrt::onednn
