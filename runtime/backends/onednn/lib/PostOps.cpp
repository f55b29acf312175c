//===- PostOps.cpp - Post-op chains as oneDNN attributes ------------------===//

#include "PostOps.h"

#include "kdrt/reference/PostOps.h"

namespace kdrt::onednn {

dnnl::algorithm eltwiseAlgorithm(ActivationKind kind) {
  switch (kind) {
  case ActivationKind::Relu:
    return dnnl::algorithm::eltwise_relu;
  case ActivationKind::Gelu:
    return dnnl::algorithm::eltwise_gelu_erf;
  case ActivationKind::Sigmoid:
    return dnnl::algorithm::eltwise_logistic;
  case ActivationKind::Tanh:
    return dnnl::algorithm::eltwise_tanh;
  }
  return dnnl::algorithm::eltwise_relu;
}

FusedPostOps fusePostOps(DnnContext &ctx, const PostOpChain &chain,
                         const PostOpTensors &tensors, const Dims &channelDims,
                         const Dims &outputDims, bool withAttributes) {
  FusedPostOps fused;
  dnnl::post_ops ops;
  // The position of the next oneDNN post-op (a scale-shift takes two).
  int index = 0;
  size_t nextResidual = 0, nextScaleShift = 0;
  for (int k = 0; k < chain.count; ++k) {
    const PostOp &postOp = chain.ops[k];
    switch (postOp.kind) {
    case PostOpKind::Activation:
      if (withAttributes)
        ops.append_eltwise(1.0f, eltwiseAlgorithm(postOp.activation), 0.0f,
                           0.0f);
      index += 1;
      break;
    case PostOpKind::Sum: {
      const Tensor *residual = tensors.residuals[nextResidual++];
      if (!fused.sumResidual) {
        // oneDNN's sum accumulates onto the destination, which therefore
        // starts as a copy of the residual.
        if (withAttributes)
          ops.append_sum(float(postOp.sumScale));
        fused.sumResidual = residual;
      } else if (postOp.sumScale == 1.0) {
        memory::desc residualDesc = descOf(*residual);
        if (withAttributes)
          ops.append_binary(dnnl::algorithm::binary_add, residualDesc);
        fused.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1] =
            wrap(ctx, residualDesc, residual->data());
      } else {
        fused.expressible = false;
        return fused;
      }
      index += 1;
      break;
    }
    case PostOpKind::ScaleShift: {
      memory::desc channelDesc = plainDesc(channelDims);
      const Tensor *scale = tensors.scales[nextScaleShift];
      const Tensor *shift = tensors.shifts[nextScaleShift++];
      if (withAttributes) {
        ops.append_binary(dnnl::algorithm::binary_mul, channelDesc);
        ops.append_binary(dnnl::algorithm::binary_add, channelDesc);
      }
      fused.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1] =
          wrap(ctx, channelDesc, scale->data());
      fused.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(index + 1) | DNNL_ARG_SRC_1] =
          wrap(ctx, channelDesc, shift->data());
      index += 2;
      break;
    }
    }
  }
  if (withAttributes)
    fused.attr.set_post_ops(ops);
  return fused;
}

namespace {
reference::PostOpRefs<float> postOpRefs(const PostOpTensors &tensors) {
  using In = reference::TensorRef<const float>;
  auto view = [](const Tensor *t) {
    return t ? In(t->data(), t->shape()) : In();
  };
  reference::PostOpRefs<float> refs;
  for (const Tensor *t : tensors.residuals)
    refs.residuals.push_back(view(t));
  for (const Tensor *t : tensors.scales)
    refs.scales.push_back(view(t));
  for (const Tensor *t : tensors.shifts)
    refs.shifts.push_back(view(t));
  return refs;
}
} // namespace

Status checkPostOpTensors(const char *op, const PostOpChain &chain,
                          const PostOpTensors &tensors, const Shape &output,
                          int64_t channels) {
  return reference::checkPostOps(op, chain, postOpRefs(tensors), output,
                                 channels);
}

void applyPostOpsOnHost(const PostOpChain &chain, const PostOpTensors &tensors,
                        Tensor &output, int64_t channels, int64_t inner) {
  reference::applyPostOps<float>(
      chain, postOpRefs(tensors),
      reference::TensorRef<float>(output.data(), output.shape()), channels,
      inner);
}

void postOpGradient(const PostOpChain &chain, const Tensor &output,
                    const Tensor &gradOutput, Tensor &gradPre) {
  const float *y = output.data(), *dy = gradOutput.data();
  float *g = gradPre.data();
  int64_t count = gradOutput.numElements();
  if (chain.count == 0) {
#pragma omp parallel for
    for (int64_t i = 0; i < count; ++i)
      g[i] = dy[i];
    return;
  }
  ActivationKind kind = chain.ops[0].activation;
#pragma omp parallel for
  for (int64_t i = 0; i < count; ++i)
    g[i] = dy[i] * reference::slopeFromOutput(kind, y[i]);
}

void addToKey(CacheKey &key, const PostOpChain &chain) {
  key.add(int64_t(chain.count));
  bool sawSum = false;
  for (int k = 0; k < chain.count; ++k) {
    const PostOp &postOp = chain.ops[k];
    key.add(int64_t(postOp.kind)).add(int64_t(postOp.activation));
    if (postOp.kind == PostOpKind::Sum) {
      key.add(postOp.sumScale).add(int64_t(sawSum));
      sawSum = true;
    }
  }
}

} // namespace kdrt::onednn
