//===- Eltwise.cpp - activations and softmax on oneDNN --------------------===//
//
// Softmax with a temperature T is softmax(x / T): the input is scaled by an
// eltwise linear primitive into the output buffer and normalized in place;
// the backward scales the gradient by 1 / T the same way.
//
//===----------------------------------------------------------------------===//

#include "Ops.h"
#include "PostOps.h"

#include "kdrt/reference/Softmax.h"

namespace kdrt::onednn {
namespace {

using dnnl::prop_kind;

struct EltwiseForwardEntry {
  dnnl::eltwise_forward::primitive_desc pd;
  dnnl::eltwise_forward primitive;
};

const EltwiseForwardEntry &eltwiseForward(DnnContext &ctx,
                                          dnnl::algorithm algorithm,
                                          const Dims &dims, float alpha) {
  CacheKey key("eltwise_fwd");
  key.add(int64_t(algorithm)).add(dims).add(double(alpha));
  return ctx.cache.getOrCreate<EltwiseForwardEntry>(key, [&] {
    dnnl::eltwise_forward::primitive_desc pd(
        dnnl::eltwise_forward::desc(prop_kind::forward_training, algorithm,
                                    plainDesc(dims), alpha, 0.0f),
        ctx.engine);
    return EltwiseForwardEntry{pd, dnnl::eltwise_forward(pd)};
  });
}

/// oneDNN wants at least one dimension; a scalar is one element.
Dims nonScalarDims(const Shape &shape) {
  return shape.rank() == 0 ? Dims{1} : dimsOf(shape);
}

} // namespace

void scaleInPlace(DnnContext &ctx, const memory &data, float scale) {
  Dims dims = data.get_desc().dims();
  eltwiseForward(ctx, dnnl::algorithm::eltwise_linear, dims, scale)
      .primitive.execute(ctx.stream,
                         {{DNNL_ARG_SRC, data}, {DNNL_ARG_DST, data}});
}

Status activationForward(DnnContext &ctx, const ActivationDesc &desc,
                         const Tensor &input, Tensor &output) {
  return guarded("activation", [&]() -> Status {
    KDRT_RETURN_IF_ERROR(reference::checkShape("activation", "output",
                                               output.shape(), input.shape()));
    Dims dims = nonScalarDims(input.shape());
    const EltwiseForwardEntry &entry =
        eltwiseForward(ctx, eltwiseAlgorithm(desc.kind), dims, 0.0f);
    entry.primitive.execute(
        ctx.stream,
        {{DNNL_ARG_SRC, wrap(ctx, plainDesc(dims), input.data())},
         {DNNL_ARG_DST, wrap(ctx, plainDesc(dims), output.data())}});
    ctx.stream.wait();
    return Status::success();
  });
}

Status activationBackward(DnnContext &ctx, const ActivationDesc &desc,
                          const Tensor &input, const Tensor &gradOutput,
                          Tensor &gradInput) {
  return guarded("activation", [&]() -> Status {
    KDRT_RETURN_IF_ERROR(reference::checkShape(
        "activation", "gradOutput", gradOutput.shape(), input.shape()));
    KDRT_RETURN_IF_ERROR(reference::checkShape(
        "activation", "gradInput", gradInput.shape(), input.shape()));
    Dims dims = nonScalarDims(input.shape());
    dnnl::algorithm algorithm = eltwiseAlgorithm(desc.kind);
    const EltwiseForwardEntry &hint =
        eltwiseForward(ctx, algorithm, dims, 0.0f);
    struct BackwardEntry {
      dnnl::eltwise_backward::primitive_desc pd;
      dnnl::eltwise_backward primitive;
    };
    CacheKey key("eltwise_bwd");
    key.add(int64_t(algorithm)).add(dims);
    const BackwardEntry &entry = ctx.cache.getOrCreate<BackwardEntry>(key, [&] {
      dnnl::eltwise_backward::primitive_desc pd(
          dnnl::eltwise_backward::desc(algorithm, plainDesc(dims),
                                       plainDesc(dims), 0.0f, 0.0f),
          ctx.engine, hint.pd);
      return BackwardEntry{pd, dnnl::eltwise_backward(pd)};
    });
    memory::desc data = plainDesc(dims);
    entry.primitive.execute(ctx.stream,
                            {{DNNL_ARG_SRC, wrap(ctx, data, input.data())},
                             {DNNL_ARG_DIFF_DST,
                              wrap(ctx, data, gradOutput.data())},
                             {DNNL_ARG_DIFF_SRC,
                              wrap(ctx, data, gradInput.data())}});
    ctx.stream.wait();
    return Status::success();
  });
}

namespace {
struct SoftmaxForwardEntry {
  dnnl::primitive primitive;
  // One of the two is set; kept as the backward's hint.
  dnnl::softmax_forward::primitive_desc softmaxPd;
  dnnl::logsoftmax_forward::primitive_desc logSoftmaxPd;
};

const SoftmaxForwardEntry &softmaxForwardEntry(DnnContext &ctx,
                                               const Dims &dims, bool log) {
  CacheKey key("softmax_fwd");
  key.add(dims).add(int64_t(log));
  int axis = int(dims.size()) - 1;
  return ctx.cache.getOrCreate<SoftmaxForwardEntry>(key, [&] {
    SoftmaxForwardEntry entry;
    if (log) {
      entry.logSoftmaxPd = dnnl::logsoftmax_forward::primitive_desc(
          dnnl::logsoftmax_forward::desc(prop_kind::forward_training,
                                         plainDesc(dims), axis),
          ctx.engine);
      entry.primitive = dnnl::logsoftmax_forward(entry.logSoftmaxPd);
    } else {
      entry.softmaxPd = dnnl::softmax_forward::primitive_desc(
          dnnl::softmax_forward::desc(prop_kind::forward_training,
                                      plainDesc(dims), axis),
          ctx.engine);
      entry.primitive = dnnl::softmax_forward(entry.softmaxPd);
    }
    return entry;
  });
}
} // namespace

Status softmaxForward(DnnContext &ctx, const SoftmaxDesc &desc,
                      const Tensor &input, Tensor &output) {
  return guarded("softmax", [&]() -> Status {
    KDRT_RETURN_IF_ERROR(reference::detail::softmaxCheck(
        desc, input.shape(), output.shape(), "output"));
    Dims dims = dimsOf(input.shape());
    memory::desc data = plainDesc(dims);
    memory x = wrap(ctx, data, input.data());
    memory y = wrap(ctx, data, output.data());
    eltwiseForward(ctx, dnnl::algorithm::eltwise_linear, dims,
                   float(1.0 / desc.temperature))
        .primitive.execute(ctx.stream, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}});
    softmaxForwardEntry(ctx, dims, desc.log)
        .primitive.execute(ctx.stream, {{DNNL_ARG_SRC, y}, {DNNL_ARG_DST, y}});
    ctx.stream.wait();
    return Status::success();
  });
}

Status softmaxBackward(DnnContext &ctx, const SoftmaxDesc &desc,
                       const Tensor &output, const Tensor &gradOutput,
                       Tensor &gradInput) {
  return guarded("softmax", [&]() -> Status {
    KDRT_RETURN_IF_ERROR(reference::detail::softmaxCheck(
        desc, output.shape(), gradOutput.shape(), "gradOutput"));
    KDRT_RETURN_IF_ERROR(reference::checkShape(
        "softmax", "gradInput", gradInput.shape(), output.shape()));
    Dims dims = dimsOf(output.shape());
    memory::desc data = plainDesc(dims);
    int axis = int(dims.size()) - 1;
    const SoftmaxForwardEntry &hint = softmaxForwardEntry(ctx, dims, desc.log);
    struct BackwardEntry {
      dnnl::primitive primitive;
    };
    CacheKey key("softmax_bwd");
    key.add(dims).add(int64_t(desc.log));
    const BackwardEntry &entry = ctx.cache.getOrCreate<BackwardEntry>(key, [&] {
      if (desc.log)
        return BackwardEntry{dnnl::logsoftmax_backward(
            dnnl::logsoftmax_backward::primitive_desc(
                dnnl::logsoftmax_backward::desc(data, data, axis), ctx.engine,
                hint.logSoftmaxPd))};
      return BackwardEntry{
          dnnl::softmax_backward(dnnl::softmax_backward::primitive_desc(
              dnnl::softmax_backward::desc(data, data, axis), ctx.engine,
              hint.softmaxPd))};
    });
    memory dx = wrap(ctx, data, gradInput.data());
    entry.primitive.execute(ctx.stream,
                            {{DNNL_ARG_DST, wrap(ctx, data, output.data())},
                             {DNNL_ARG_DIFF_DST,
                              wrap(ctx, data, gradOutput.data())},
                             {DNNL_ARG_DIFF_SRC, dx}});
    if (desc.temperature != 1.0)
      scaleInPlace(ctx, dx, float(1.0 / desc.temperature));
    ctx.stream.wait();
    return Status::success();
  });
}

} // namespace kdrt::onednn
