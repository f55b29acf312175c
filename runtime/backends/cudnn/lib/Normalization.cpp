//===- Normalization.cpp - batch, layer, group and L2 normalization -------===//
//
// Batch norm runs through cuDNN's spatial batch normalization (an input
// [N, C, ...] is seen as [N, C, S, 1]); cuDNN keeps the unbiased variance in
// the running estimate as PyTorch and the reference do. Its backward covers
// training only, so the inference backward is a kernel. Layer, group and L2
// normalization are the backend's row kernels.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/L2Normalize.h"
#include "kdrt/reference/Normalization.h"

namespace kdrt::cudnn {

using reference::checkShape;

namespace {

const cudnnBatchNormMode_t kSpatial = CUDNN_BATCHNORM_SPATIAL;

/// Splits [N, C, ...] into batch, channels and the product of the rest.
void batchNormDims(const Shape &shape, int64_t &batch, int64_t &channels,
                   int64_t &space) {
  batch = shape[0];
  channels = shape[1];
  space = reference::productOf(shape, 2, shape.rank());
}

Status checkEpsilon(double eps) {
  if (eps < CUDNN_BN_MIN_EPSILON)
    return Status::invalidArgument(
        "batch_norm: eps " + std::to_string(eps) +
        " is below cuDNN's minimum " + std::to_string(CUDNN_BN_MIN_EPSILON));
  return Status::success();
}

Status checkOptionalShape(const char *op, const char *what, const Tensor *t,
                          const Shape &expected) {
  if (!t)
    return Status::success();
  return checkShape(op, what, t->shape(), expected);
}

} // namespace

Status CudnnBackendImpl::batchNormForward(const BatchNormDesc &desc,
                                          const Tensor &input,
                                          const Tensor &gamma,
                                          const Tensor &beta,
                                          Tensor &runningMean,
                                          Tensor &runningVar,
                                          Tensor &output) {
  const Shape &shape = input.shape();
  for (auto [ref, what] : {std::pair{&gamma, "gamma"}, std::pair{&beta, "beta"},
                           std::pair{(const Tensor *)&runningMean,
                                     "running mean"},
                           std::pair{(const Tensor *)&runningVar,
                                     "running var"}})
    KDRT_RETURN_IF_ERROR(reference::batchNormCheck(shape, ref->shape(), what));
  KDRT_RETURN_IF_ERROR(checkShape("batch_norm", "output", output.shape(),
                                  shape));
  int64_t batch, channels, space;
  batchNormDims(shape, batch, channels, space);
  if (desc.training && batch * space < 2)
    return reference::shapeError("batch_norm",
                                 "training needs more than one value per "
                                 "channel, got " + shape.toString());
  KDRT_RETURN_IF_ERROR(checkEpsilon(desc.eps));
  if (input.numElements() == 0)
    return Status::success();
  TensorDescriptor x, params;
  KDRT_RETURN_IF_ERROR(x.init(batch, channels, space, 1));
  KDRT_RETURN_IF_ERROR(params.init(1, channels, 1, 1));
  const float one = 1.0f, zero = 0.0f;
  if (desc.training)
    KDRT_CUDNN(cudnnBatchNormalizationForwardTraining(
        cudnn(), kSpatial, &one, &zero, x.get(), input.data(), x.get(),
        output.data(), params.get(), gamma.data(), beta.data(), desc.momentum,
        runningMean.data(), runningVar.data(), desc.eps, nullptr, nullptr));
  else
    KDRT_CUDNN(cudnnBatchNormalizationForwardInference(
        cudnn(), kSpatial, &one, &zero, x.get(), input.data(), x.get(),
        output.data(), params.get(), gamma.data(), beta.data(),
        runningMean.data(), runningVar.data(), desc.eps));
  return Status::success();
}

Status CudnnBackendImpl::batchNormBackward(
    const BatchNormDesc &desc, const Tensor &input, const Tensor &gamma,
    const Tensor &runningMean, const Tensor &runningVar,
    const Tensor &gradOutput, Tensor *gradInput, Tensor *gradGamma,
    Tensor *gradBeta) {
  const Shape &shape = input.shape();
  const char *op = "batch_norm";
  KDRT_RETURN_IF_ERROR(reference::batchNormCheck(shape, gamma.shape(),
                                                 "gamma"));
  KDRT_RETURN_IF_ERROR(reference::batchNormCheck(shape, runningMean.shape(),
                                                 "running mean"));
  KDRT_RETURN_IF_ERROR(reference::batchNormCheck(shape, runningVar.shape(),
                                                 "running var"));
  KDRT_RETURN_IF_ERROR(checkShape(op, "gradOutput", gradOutput.shape(),
                                  shape));
  KDRT_RETURN_IF_ERROR(checkOptionalShape(op, "gradInput", gradInput, shape));
  KDRT_RETURN_IF_ERROR(
      checkOptionalShape(op, "gradGamma", gradGamma, gamma.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptionalShape(op, "gradBeta", gradBeta, gamma.shape()));
  int64_t batch, channels, space;
  batchNormDims(shape, batch, channels, space);
  if (desc.training && batch * space < 2)
    return reference::shapeError(
        op, "training needs more than one value per channel");
  if (!desc.training) {
    KDRT_LAUNCH(launchBatchNormInferenceBackward(
        stream(), input.data(), gamma.data(), runningMean.data(),
        runningVar.data(), gradOutput.data(), dataOf(gradInput),
        dataOf(gradGamma), dataOf(gradBeta), batch, channels, space,
        desc.eps));
    return Status::success();
  }
  KDRT_RETURN_IF_ERROR(checkEpsilon(desc.eps));
  if (input.numElements() == 0)
    return Status::success();
  // cuDNN writes all three gradients: unwanted ones go to scratch.
  DeviceBuffer dxScratch, dGammaScratch, dBetaScratch;
  float *dx = dataOf(gradInput), *dGamma = dataOf(gradGamma),
        *dBeta = dataOf(gradBeta);
  if (!dx) {
    KDRT_RETURN_IF_ERROR(scratch(input.numElements(), dxScratch));
    dx = dxScratch.data();
  }
  if (!dGamma) {
    KDRT_RETURN_IF_ERROR(scratch(channels, dGammaScratch));
    dGamma = dGammaScratch.data();
  }
  if (!dBeta) {
    KDRT_RETURN_IF_ERROR(scratch(channels, dBetaScratch));
    dBeta = dBetaScratch.data();
  }
  TensorDescriptor x, params;
  KDRT_RETURN_IF_ERROR(x.init(batch, channels, space, 1));
  KDRT_RETURN_IF_ERROR(params.init(1, channels, 1, 1));
  const float one = 1.0f, zero = 0.0f;
  // No saved statistics: cuDNN recomputes them from the input, as the
  // stateless backward contract requires.
  KDRT_CUDNN(cudnnBatchNormalizationBackward(
      cudnn(), kSpatial, &one, &zero, &one, &zero, x.get(), input.data(),
      x.get(), gradOutput.data(), x.get(), dx, params.get(), gamma.data(),
      dGamma, dBeta, desc.eps, nullptr, nullptr));
  return Status::success();
}

Status CudnnBackendImpl::layerNormForward(const LayerNormDesc &desc,
                                          const Tensor &input,
                                          const Tensor *gamma,
                                          const Tensor *beta,
                                          Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::layerNormCheck(
      desc, input.shape(), gamma ? &gamma->shape() : nullptr,
      beta ? &beta->shape() : nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape("layer_norm", "output", output.shape(), input.shape()));
  int64_t rowLength = reference::productOf(
      input.shape(), input.rank() - desc.normalizedRank, input.rank());
  if (rowLength == 0)
    return Status::success();
  KDRT_LAUNCH(launchRowNormForward(stream(), input.data(), dataOf(gamma),
                                   dataOf(beta), output.data(),
                                   input.numElements() / rowLength, rowLength,
                                   desc.eps, 1, 0, 1));
  return Status::success();
}

Status CudnnBackendImpl::layerNormBackward(const LayerNormDesc &desc,
                                           const Tensor &input,
                                           const Tensor *gamma,
                                           const Tensor &gradOutput,
                                           Tensor *gradInput,
                                           Tensor *gradGamma,
                                           Tensor *gradBeta) {
  const char *op = "layer_norm";
  KDRT_RETURN_IF_ERROR(reference::layerNormCheck(
      desc, input.shape(), gamma ? &gamma->shape() : nullptr, nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptionalShape(op, "gradInput", gradInput, input.shape()));
  Shape affine = reference::trailingShape(input.shape(), desc.normalizedRank);
  KDRT_RETURN_IF_ERROR(checkOptionalShape(op, "gradGamma", gradGamma, affine));
  KDRT_RETURN_IF_ERROR(checkOptionalShape(op, "gradBeta", gradBeta, affine));
  int64_t rowLength = affine.numElements();
  int64_t rows = rowLength ? input.numElements() / rowLength : 0;
  KDRT_LAUNCH(launchRowNormBackward(
      stream(), input.data(), dataOf(gamma), gradOutput.data(),
      dataOf(gradInput), dataOf(gradGamma), dataOf(gradBeta), rowLength, rows,
      rowLength, desc.eps, 1, 0, 1));
  return Status::success();
}

Status CudnnBackendImpl::groupNormForward(const GroupNormDesc &desc,
                                          const Tensor &input,
                                          const Tensor *gamma,
                                          const Tensor *beta,
                                          Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::groupNormCheck(
      desc, input.shape(), gamma ? &gamma->shape() : nullptr,
      beta ? &beta->shape() : nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape("group_norm", "output", output.shape(), input.shape()));
  int64_t space = reference::productOf(input.shape(), 2, input.rank());
  int64_t groupChannels = input.dim(1) / desc.groups;
  KDRT_LAUNCH(launchRowNormForward(
      stream(), input.data(), dataOf(gamma), dataOf(beta), output.data(),
      input.dim(0) * desc.groups, groupChannels * space, desc.eps,
      desc.groups, groupChannels, space ? space : 1));
  return Status::success();
}

Status CudnnBackendImpl::groupNormBackward(const GroupNormDesc &desc,
                                           const Tensor &input,
                                           const Tensor *gamma,
                                           const Tensor &gradOutput,
                                           Tensor *gradInput,
                                           Tensor *gradGamma,
                                           Tensor *gradBeta) {
  const char *op = "group_norm";
  KDRT_RETURN_IF_ERROR(reference::groupNormCheck(
      desc, input.shape(), gamma ? &gamma->shape() : nullptr, nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptionalShape(op, "gradInput", gradInput, input.shape()));
  Shape channels{input.dim(1)};
  KDRT_RETURN_IF_ERROR(
      checkOptionalShape(op, "gradGamma", gradGamma, channels));
  KDRT_RETURN_IF_ERROR(checkOptionalShape(op, "gradBeta", gradBeta, channels));
  int64_t space = reference::productOf(input.shape(), 2, input.rank());
  int64_t groupChannels = input.dim(1) / desc.groups;
  KDRT_LAUNCH(launchRowNormBackward(
      stream(), input.data(), dataOf(gamma), gradOutput.data(),
      dataOf(gradInput), dataOf(gradGamma), dataOf(gradBeta), input.dim(1),
      input.dim(0) * desc.groups, groupChannels * space, desc.eps,
      desc.groups, groupChannels, space ? space : 1));
  return Status::success();
}

Status CudnnBackendImpl::l2NormalizeForward(const L2NormalizeDesc &desc,
                                            const Tensor &input,
                                            Tensor &output) {
  KDRT_RETURN_IF_ERROR(
      checkShape("l2_normalize", "output", output.shape(), input.shape()));
  if (input.rank() < 1 || input.dim(0) < 1)
    return reference::shapeError("l2_normalize",
                                 "input needs a batch dimension");
  int64_t rows = input.dim(0);
  KDRT_LAUNCH(launchL2NormalizeForward(stream(), input.data(), output.data(),
                                       rows, input.numElements() / rows,
                                       desc.eps));
  return Status::success();
}

Status CudnnBackendImpl::l2NormalizeBackward(const L2NormalizeDesc &desc,
                                             const Tensor &input,
                                             const Tensor &gradOutput,
                                             Tensor &gradInput) {
  const char *op = "l2_normalize";
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradInput", gradInput.shape(), input.shape()));
  if (input.rank() < 1 || input.dim(0) < 1)
    return reference::shapeError(op, "input needs a batch dimension");
  int64_t rows = input.dim(0);
  KDRT_LAUNCH(launchL2NormalizeBackward(
      stream(), input.data(), gradOutput.data(), gradInput.data(), rows,
      input.numElements() / rows, desc.eps));
  return Status::success();
}

} // namespace kdrt::cudnn
