//===- Normalization.cpp - batch and layer norm on oneDNN -----------------===//
//
// Both primitives always run with use_scale | use_shift (ones / zeros stand
// in for an absent gamma / beta), so one primitive shape serves every call
// and the backward always yields the affine gradients. The backward entries
// are stateless, so training-mode backward first reruns the forward for the
// batch statistics.
//
//===----------------------------------------------------------------------===//

#include "Ops.h"

#include "kdrt/reference/Normalization.h"

#include <vector>

namespace kdrt::onednn {
namespace {

using dnnl::normalization_flags;
using dnnl::prop_kind;

const normalization_flags kAffine =
    normalization_flags::use_scale | normalization_flags::use_shift;

/// A scratch fp32 buffer as a oneDNN memory of `count` elements.
memory scratch(DnnContext &ctx, int64_t count) {
  return memory(plainDesc({count}), ctx.engine);
}

memory filled(DnnContext &ctx, int64_t count, float value) {
  memory m = scratch(ctx, count);
  float *data = static_cast<float *>(m.get_data_handle());
  std::fill(data, data + count, value);
  return m;
}

using BnForwardPd = dnnl::batch_normalization_forward::primitive_desc;
struct BnForwardEntry {
  BnForwardPd pd;
  dnnl::batch_normalization_forward primitive;
};

/// `layout` is that of the data and of its gradients: the primitive reads
/// and writes them in one layout (row-major, or channels-last where the
/// executor placed the activations so).
const BnForwardEntry &bnForward(DnnContext &ctx, const Dims &dims,
                                Layout layout, double eps, bool training) {
  CacheKey key("batch_norm_fwd");
  key.add(dims).add(int64_t(layout)).add(eps).add(int64_t(training));
  return ctx.cache.getOrCreate<BnForwardEntry>(key, [&] {
    normalization_flags flags =
        training ? kAffine : kAffine | normalization_flags::use_global_stats;
    BnForwardPd pd(dnnl::batch_normalization_forward::desc(
                       training ? prop_kind::forward_training
                                : prop_kind::forward_inference,
                       layoutDesc(dims, layout), float(eps), flags),
                   ctx.engine);
    return BnForwardEntry{pd, dnnl::batch_normalization_forward(pd)};
  });
}

Status checkTrainingCount(const BatchNormDesc &desc, const Shape &shape) {
  if (desc.training && shape.numElements() / shape[1] < 2)
    return reference::shapeError("batch_norm",
                                 "training needs more than one value per "
                                 "channel, got " +
                                     shape.toString());
  return Status::success();
}

} // namespace

Status batchNormForward(DnnContext &ctx, const BatchNormDesc &desc,
                        const Tensor &input, const Tensor &gamma,
                        const Tensor &beta, Tensor &runningMean,
                        Tensor &runningVar, Tensor &output) {
  return guarded("batch_norm", [&]() -> Status {
    const Shape &shape = input.shape();
    for (auto [param, what] :
         {std::pair{&gamma, "gamma"}, std::pair{&beta, "beta"},
          std::pair{static_cast<const Tensor *>(&runningMean), "running mean"},
          std::pair{static_cast<const Tensor *>(&runningVar), "running var"}})
      KDRT_RETURN_IF_ERROR(
          reference::batchNormCheck(shape, param->shape(), what));
    KDRT_RETURN_IF_ERROR(reference::checkShape("batch_norm", "output",
                                               output.shape(), shape));
    KDRT_RETURN_IF_ERROR(checkTrainingCount(desc, shape));
    int64_t channels = shape[1];
    if (output.layout() != input.layout())
      return Status::internal("batch_norm: input and output differ in layout");
    const BnForwardEntry &entry = bnForward(ctx, dimsOf(shape), input.layout(),
                                            desc.eps, desc.training);
    Args args{{DNNL_ARG_SRC, wrap(ctx, input)},
              {DNNL_ARG_DST, wrap(ctx, output)},
              {DNNL_ARG_SCALE, wrap(ctx, gamma)},
              {DNNL_ARG_SHIFT, wrap(ctx, beta)}};
    memory mean = desc.training ? scratch(ctx, channels)
                                : wrap(ctx, runningMean);
    memory variance = desc.training ? scratch(ctx, channels)
                                    : wrap(ctx, runningVar);
    args[DNNL_ARG_MEAN] = mean;
    args[DNNL_ARG_VARIANCE] = variance;
    run(entry.primitive, ctx.stream, args);
    ctx.stream.wait();
    if (desc.training) {
      // The running-stat update of the reference (PyTorch semantics):
      // oneDNN returns the biased batch variance.
      const float *batchMean = static_cast<float *>(mean.get_data_handle());
      const float *batchVar = static_cast<float *>(variance.get_data_handle());
      float count = float(shape.numElements() / channels);
      float momentum = float(desc.momentum);
      for (int64_t c = 0; c < channels; ++c) {
        runningMean.data()[c] = (1 - momentum) * runningMean.data()[c] +
                                momentum * batchMean[c];
        runningVar.data()[c] = (1 - momentum) * runningVar.data()[c] +
                               momentum * batchVar[c] * count / (count - 1);
      }
    }
    return Status::success();
  });
}

Status batchNormBackward(DnnContext &ctx, const BatchNormDesc &desc,
                         const Tensor &input, const Tensor &gamma,
                         const Tensor &runningMean, const Tensor &runningVar,
                         const Tensor &gradOutput, Tensor *gradInput,
                         Tensor *gradGamma, Tensor *gradBeta) {
  return guarded("batch_norm", [&]() -> Status {
    const char *op = "batch_norm";
    const Shape &shape = input.shape();
    KDRT_RETURN_IF_ERROR(
        reference::batchNormCheck(shape, gamma.shape(), "gamma"));
    KDRT_RETURN_IF_ERROR(
        reference::batchNormCheck(shape, runningMean.shape(), "running mean"));
    KDRT_RETURN_IF_ERROR(
        reference::batchNormCheck(shape, runningVar.shape(), "running var"));
    KDRT_RETURN_IF_ERROR(
        reference::checkShape(op, "gradOutput", gradOutput.shape(), shape));
    if (gradInput)
      KDRT_RETURN_IF_ERROR(
          reference::checkShape(op, "gradInput", gradInput->shape(), shape));
    if (gradGamma)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradGamma", gradGamma->shape(), gamma.shape()));
    if (gradBeta)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradBeta", gradBeta->shape(), gamma.shape()));
    KDRT_RETURN_IF_ERROR(checkTrainingCount(desc, shape));
    int64_t channels = shape[1];
    Dims dims = dimsOf(shape);
    Layout layout = input.layout();
    if (gradOutput.layout() != layout ||
        (gradInput && gradInput->layout() != layout))
      return Status::internal(
          "batch_norm: input and gradients differ in layout");
    memory::desc data = layoutDesc(dims, layout);
    const BnForwardEntry &forward =
        bnForward(ctx, dims, layout, desc.eps, true);

    memory mean = wrap(ctx, runningMean), variance = wrap(ctx, runningVar);
    if (desc.training) {
      // Recompute the batch statistics the forward normalized with.
      mean = scratch(ctx, channels);
      variance = scratch(ctx, channels);
      memory discarded(data, ctx.engine);
      memory shift = filled(ctx, channels, 0.0f);
      forward.primitive.execute(ctx.stream,
                                {{DNNL_ARG_SRC, wrap(ctx, input)},
                                 {DNNL_ARG_DST, discarded},
                                 {DNNL_ARG_SCALE, wrap(ctx, gamma)},
                                 {DNNL_ARG_SHIFT, shift},
                                 {DNNL_ARG_MEAN, mean},
                                 {DNNL_ARG_VARIANCE, variance}});
    }

    struct BackwardEntry {
      dnnl::batch_normalization_backward::primitive_desc pd;
      dnnl::batch_normalization_backward primitive;
    };
    CacheKey key("batch_norm_bwd");
    key.add(dims).add(int64_t(layout)).add(desc.eps)
        .add(int64_t(desc.training));
    const BackwardEntry &entry = ctx.cache.getOrCreate<BackwardEntry>(key, [&] {
      normalization_flags flags =
          desc.training ? kAffine
                        : kAffine | normalization_flags::use_global_stats;
      BnForwardPd hint(dnnl::batch_normalization_forward::desc(
                           prop_kind::forward_training, data,
                           float(desc.eps), flags),
                       ctx.engine);
      dnnl::batch_normalization_backward::primitive_desc pd(
          dnnl::batch_normalization_backward::desc(
              prop_kind::backward, data, data, float(desc.eps), flags),
          ctx.engine, hint);
      return BackwardEntry{pd, dnnl::batch_normalization_backward(pd)};
    });
    memory diffSrc =
        gradInput ? wrap(ctx, *gradInput) : memory(data, ctx.engine);
    memory diffScale =
        gradGamma ? wrap(ctx, *gradGamma) : scratch(ctx, channels);
    memory diffShift = gradBeta ? wrap(ctx, *gradBeta) : scratch(ctx, channels);
    entry.primitive.execute(ctx.stream,
                            {{DNNL_ARG_SRC, wrap(ctx, input)},
                             {DNNL_ARG_MEAN, mean},
                             {DNNL_ARG_VARIANCE, variance},
                             {DNNL_ARG_DIFF_DST, wrap(ctx, gradOutput)},
                             {DNNL_ARG_SCALE, wrap(ctx, gamma)},
                             {DNNL_ARG_SHIFT, filled(ctx, channels, 0.0f)},
                             {DNNL_ARG_DIFF_SRC, diffSrc},
                             {DNNL_ARG_DIFF_SCALE, diffScale},
                             {DNNL_ARG_DIFF_SHIFT, diffShift}});
    ctx.stream.wait();
    return Status::success();
  });
}

namespace {
using LnForwardPd = dnnl::layer_normalization_forward::primitive_desc;
struct LnForwardEntry {
  LnForwardPd pd;
  dnnl::layer_normalization_forward primitive;
};

const LnForwardEntry &lnForward(DnnContext &ctx, const Dims &dims, double eps,
                                bool training) {
  CacheKey key("layer_norm_fwd");
  key.add(dims).add(eps).add(int64_t(training));
  return ctx.cache.getOrCreate<LnForwardEntry>(key, [&] {
    LnForwardPd pd(dnnl::layer_normalization_forward::desc(
                       training ? prop_kind::forward_training
                                : prop_kind::forward_inference,
                       plainDesc(dims), float(eps), kAffine),
                   ctx.engine);
    return LnForwardEntry{pd, dnnl::layer_normalization_forward(pd)};
  });
}

/// The runtime's layer norm over trailing dims, as oneDNN's over the last.
Dims rowsOf(const LayerNormDesc &desc, const Shape &shape,
            int64_t &rowLength) {
  rowLength = reference::productOf(shape, shape.rank() - desc.normalizedRank,
                                   shape.rank());
  return {shape.numElements() / rowLength, rowLength};
}
} // namespace

Status layerNormForward(DnnContext &ctx, const LayerNormDesc &desc,
                        const Tensor &input, const Tensor *gamma,
                        const Tensor *beta, Tensor &output) {
  return guarded("layer_norm", [&]() -> Status {
    Shape gammaShape = gamma ? gamma->shape() : Shape();
    Shape betaShape = beta ? beta->shape() : Shape();
    KDRT_RETURN_IF_ERROR(reference::layerNormCheck(
        desc, input.shape(), gamma ? &gammaShape : nullptr,
        beta ? &betaShape : nullptr));
    KDRT_RETURN_IF_ERROR(reference::checkShape("layer_norm", "output",
                                               output.shape(), input.shape()));
    int64_t rowLength = 0;
    Dims dims = rowsOf(desc, input.shape(), rowLength);
    const LnForwardEntry &entry = lnForward(ctx, dims, desc.eps, false);
    memory::desc affine = plainDesc({rowLength});
    entry.primitive.execute(
        ctx.stream,
        {{DNNL_ARG_SRC, wrap(ctx, plainDesc(dims), input.data())},
         {DNNL_ARG_DST, wrap(ctx, plainDesc(dims), output.data())},
         {DNNL_ARG_SCALE, gamma ? wrap(ctx, affine, gamma->data())
                                : filled(ctx, rowLength, 1.0f)},
         {DNNL_ARG_SHIFT, beta ? wrap(ctx, affine, beta->data())
                               : filled(ctx, rowLength, 0.0f)}});
    ctx.stream.wait();
    return Status::success();
  });
}

Status layerNormBackward(DnnContext &ctx, const LayerNormDesc &desc,
                         const Tensor &input, const Tensor *gamma,
                         const Tensor &gradOutput, Tensor *gradInput,
                         Tensor *gradGamma, Tensor *gradBeta) {
  return guarded("layer_norm", [&]() -> Status {
    const char *op = "layer_norm";
    Shape gammaShape = gamma ? gamma->shape() : Shape();
    KDRT_RETURN_IF_ERROR(reference::layerNormCheck(
        desc, input.shape(), gamma ? &gammaShape : nullptr, nullptr));
    KDRT_RETURN_IF_ERROR(reference::checkShape(
        op, "gradOutput", gradOutput.shape(), input.shape()));
    Shape affineShape =
        reference::trailingShape(input.shape(), desc.normalizedRank);
    if (gradInput)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradInput", gradInput->shape(), input.shape()));
    if (gradGamma)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradGamma", gradGamma->shape(), affineShape));
    if (gradBeta)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradBeta", gradBeta->shape(), affineShape));
    int64_t rowLength = 0;
    Dims dims = rowsOf(desc, input.shape(), rowLength);
    int64_t rows = dims[0];
    memory::desc data = plainDesc(dims);
    memory::desc affine = plainDesc({rowLength});
    memory scale = gamma ? wrap(ctx, affine, gamma->data())
                         : filled(ctx, rowLength, 1.0f);

    const LnForwardEntry &forward = lnForward(ctx, dims, desc.eps, true);
    memory mean = scratch(ctx, rows), variance = scratch(ctx, rows);
    memory discarded(data, ctx.engine);
    forward.primitive.execute(ctx.stream,
                              {{DNNL_ARG_SRC, wrap(ctx, data, input.data())},
                               {DNNL_ARG_DST, discarded},
                               {DNNL_ARG_SCALE, scale},
                               {DNNL_ARG_SHIFT, filled(ctx, rowLength, 0.0f)},
                               {DNNL_ARG_MEAN, mean},
                               {DNNL_ARG_VARIANCE, variance}});

    struct BackwardEntry {
      dnnl::layer_normalization_backward::primitive_desc pd;
      dnnl::layer_normalization_backward primitive;
    };
    CacheKey key("layer_norm_bwd");
    key.add(dims).add(desc.eps);
    const BackwardEntry &entry = ctx.cache.getOrCreate<BackwardEntry>(key, [&] {
      dnnl::layer_normalization_backward::primitive_desc pd(
          dnnl::layer_normalization_backward::desc(
              prop_kind::backward, data, data, float(desc.eps), kAffine),
          ctx.engine, forward.pd);
      return BackwardEntry{pd, dnnl::layer_normalization_backward(pd)};
    });
    entry.primitive.execute(
        ctx.stream,
        {{DNNL_ARG_SRC, wrap(ctx, data, input.data())},
         {DNNL_ARG_MEAN, mean},
         {DNNL_ARG_VARIANCE, variance},
         {DNNL_ARG_DIFF_DST, wrap(ctx, data, gradOutput.data())},
         {DNNL_ARG_SCALE, scale},
         {DNNL_ARG_SHIFT, filled(ctx, rowLength, 0.0f)},
         {DNNL_ARG_DIFF_SRC, gradInput ? wrap(ctx, data, gradInput->data())
                                       : memory(data, ctx.engine)},
         {DNNL_ARG_DIFF_SCALE, gradGamma
                                   ? wrap(ctx, affine, gradGamma->data())
                                   : scratch(ctx, rowLength)},
         {DNNL_ARG_DIFF_SHIFT, gradBeta ? wrap(ctx, affine, gradBeta->data())
                                        : scratch(ctx, rowLength)}});
    ctx.stream.wait();
    return Status::success();
  });
}

} // namespace kdrt::onednn
