//===- Convolution.cpp - conv2d on cuDNN ----------------------------------===//
//
// Forward, backward-data, backward-filter and backward-bias through the
// legacy cuDNN API. Algorithms are chosen once per (shapes, attributes) key
// with the *_v7 heuristics, restricted to FMA math so results stay plain
// fp32 (no TF32) like the reference. The bias and any post-op chain run as
// one elementwise kernel over the conv output.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/Conv2d.h"

namespace kdrt::cudnn {
namespace {

/// The descriptors of one convolution call.
class ConvSetup {
public:
  ConvSetup() = default;
  ConvSetup(const ConvSetup &) = delete;
  ConvSetup &operator=(const ConvSetup &) = delete;
  ~ConvSetup() {
    if (filter)
      cudnnDestroyFilterDescriptor(filter);
    if (conv)
      cudnnDestroyConvolutionDescriptor(conv);
  }

  Status init(const Conv2dDesc &desc, const Shape &input, const Shape &weight,
              const Shape &output) {
    KDRT_RETURN_IF_ERROR(checkIntRange(
        "conv2d", {desc.padH, desc.padW, desc.strideH, desc.strideW,
                   desc.dilationH, desc.dilationW, desc.groups}));
    KDRT_RETURN_IF_ERROR(
        checkIntRange("conv2d", {weight[0], weight[1], weight[2], weight[3]}));
    KDRT_RETURN_IF_ERROR(x.init(input[0], input[1], input[2], input[3]));
    KDRT_RETURN_IF_ERROR(y.init(output[0], output[1], output[2], output[3]));
    KDRT_RETURN_IF_ERROR(bias.init(1, output[1], 1, 1));
    KDRT_CUDNN(cudnnCreateFilterDescriptor(&filter));
    KDRT_CUDNN(cudnnSetFilter4dDescriptor(
        filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(weight[0]),
        int(weight[1]), int(weight[2]), int(weight[3])));
    KDRT_CUDNN(cudnnCreateConvolutionDescriptor(&conv));
    KDRT_CUDNN(cudnnSetConvolution2dDescriptor(
        conv, int(desc.padH), int(desc.padW), int(desc.strideH),
        int(desc.strideW), int(desc.dilationH), int(desc.dilationW),
        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    KDRT_CUDNN(cudnnSetConvolutionGroupCount(conv, int(desc.groups)));
    KDRT_CUDNN(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH));
    key = input.toString() + weight.toString() + output.toString() + "/" +
          std::to_string(desc.strideH) + "," + std::to_string(desc.strideW) +
          "," + std::to_string(desc.padH) + "," + std::to_string(desc.padW) +
          "," + std::to_string(desc.dilationH) + "," +
          std::to_string(desc.dilationW) + "," + std::to_string(desc.groups);
    return Status::success();
  }

  TensorDescriptor x, y, bias;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  std::string key;
};

/// The first heuristic result that succeeded with FMA math, else
/// `fallback` (an algorithm every shape supports).
template <typename Perf, typename Algo>
Algo pickAlgorithm(const Perf *results, int count, Algo fallback) {
  for (int i = 0; i < count; ++i)
    if (results[i].status == CUDNN_STATUS_SUCCESS &&
        results[i].mathType == CUDNN_FMA_MATH)
      return results[i].algo;
  return fallback;
}

Status checkConvOperands(const Conv2dDesc &desc, const Tensor &input,
                         const Tensor &weight, const Shape &output,
                         const char *outputName, Shape &expected) {
  KDRT_RETURN_IF_ERROR(reference::conv2dOutputShape(desc, input.shape(),
                                                    weight.shape(), expected));
  return reference::checkShape("conv2d", outputName, output, expected);
}

} // namespace

Status CudnnBackendImpl::conv2dForward(const Conv2dDesc &desc,
                                       const Tensor &input,
                                       const Tensor &weight,
                                       const Tensor *bias, Tensor &output) {
  KDRT_RETURN_IF_ERROR(rejectPostOps("conv2d", desc.postOps));
  return conv2dFusedForward(desc, input, weight, bias, PostOpTensors(),
                            output);
}

Status CudnnBackendImpl::conv2dFusedForward(const Conv2dDesc &desc,
                                            const Tensor &input,
                                            const Tensor &weight,
                                            const Tensor *bias,
                                            const PostOpTensors &postOps,
                                            Tensor &output) {
  Shape expected;
  KDRT_RETURN_IF_ERROR(
      checkConvOperands(desc, input, weight, output.shape(), "output",
                        expected));
  if (bias)
    KDRT_RETURN_IF_ERROR(reference::checkShape("conv2d", "bias",
                                               bias->shape(),
                                               Shape{weight.dim(0)}));
  if (input.numElements() == 0 || output.numElements() == 0)
    return Status::success();
  ConvSetup setup;
  KDRT_RETURN_IF_ERROR(setup.init(desc, input.shape(), weight.shape(),
                                  output.shape()));
  ConvAlgorithms &algorithms = convAlgorithms(setup.key);
  if (!algorithms.haveForward) {
    cudnnConvolutionFwdAlgoPerf_t results[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    KDRT_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(
        cudnn(), setup.x.get(), setup.filter, setup.conv, setup.y.get(),
        CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, results));
    algorithms.forward = pickAlgorithm(
        results, count, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
    algorithms.haveForward = true;
  }
  size_t bytes = 0;
  KDRT_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(
      cudnn(), setup.x.get(), setup.filter, setup.conv, setup.y.get(),
      algorithms.forward, &bytes));
  void *space = nullptr;
  KDRT_RETURN_IF_ERROR(workspace(bytes, &space));
  const float one = 1.0f, zero = 0.0f;
  KDRT_CUDNN(cudnnConvolutionForward(
      cudnn(), &one, setup.x.get(), input.data(), setup.filter, weight.data(),
      setup.conv, algorithms.forward, space, bytes, &zero, setup.y.get(),
      output.data()));
  return applyBiasAndPostOps("conv2d", desc.postOps, postOps, bias, output,
                             output.dim(1), output.dim(2) * output.dim(3));
}

Status CudnnBackendImpl::conv2dBackward(const Conv2dDesc &desc,
                                        const Tensor &input,
                                        const Tensor &weight,
                                        const Tensor &gradOutput,
                                        Tensor *gradInput, Tensor *gradWeight,
                                        Tensor *gradBias) {
  KDRT_RETURN_IF_ERROR(rejectPostOps("conv2d", desc.postOps));
  const char *op = "conv2d";
  Shape expected;
  KDRT_RETURN_IF_ERROR(checkConvOperands(desc, input, weight,
                                         gradOutput.shape(), "gradOutput",
                                         expected));
  if (gradInput)
    KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradInput",
                                               gradInput->shape(),
                                               input.shape()));
  if (gradWeight)
    KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradWeight",
                                               gradWeight->shape(),
                                               weight.shape()));
  if (gradBias)
    KDRT_RETURN_IF_ERROR(reference::checkShape(
        op, "gradBias", gradBias->shape(), Shape{weight.dim(0)}));
  if (input.numElements() == 0 || gradOutput.numElements() == 0) {
    // Nothing flows back: every wanted gradient is zero.
    for (Tensor *grad : {gradInput, gradWeight, gradBias})
      if (grad && grad->numElements())
        KDRT_CUDA(cudaMemsetAsync(grad->data(), 0, grad->sizeInBytes(),
                                  stream()));
    return Status::success();
  }
  ConvSetup setup;
  KDRT_RETURN_IF_ERROR(setup.init(desc, input.shape(), weight.shape(),
                                  gradOutput.shape()));
  ConvAlgorithms &algorithms = convAlgorithms(setup.key);
  const float one = 1.0f, zero = 0.0f;
  if (gradInput) {
    if (!algorithms.haveBackwardData) {
      cudnnConvolutionBwdDataAlgoPerf_t
          results[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      int count = 0;
      KDRT_CUDNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          cudnn(), setup.filter, setup.y.get(), setup.conv, setup.x.get(),
          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, results));
      algorithms.backwardData =
          pickAlgorithm(results, count, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0);
      algorithms.haveBackwardData = true;
    }
    size_t bytes = 0;
    KDRT_CUDNN(cudnnGetConvolutionBackwardDataWorkspaceSize(
        cudnn(), setup.filter, setup.y.get(), setup.conv, setup.x.get(),
        algorithms.backwardData, &bytes));
    void *space = nullptr;
    KDRT_RETURN_IF_ERROR(workspace(bytes, &space));
    KDRT_CUDNN(cudnnConvolutionBackwardData(
        cudnn(), &one, setup.filter, weight.data(), setup.y.get(),
        gradOutput.data(), setup.conv, algorithms.backwardData, space, bytes,
        &zero, setup.x.get(), gradInput->data()));
  }
  if (gradWeight) {
    if (!algorithms.haveBackwardFilter) {
      cudnnConvolutionBwdFilterAlgoPerf_t
          results[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      int count = 0;
      KDRT_CUDNN(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          cudnn(), setup.x.get(), setup.y.get(), setup.conv, setup.filter,
          CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, results));
      algorithms.backwardFilter =
          pickAlgorithm(results, count, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0);
      algorithms.haveBackwardFilter = true;
    }
    size_t bytes = 0;
    KDRT_CUDNN(cudnnGetConvolutionBackwardFilterWorkspaceSize(
        cudnn(), setup.x.get(), setup.y.get(), setup.conv, setup.filter,
        algorithms.backwardFilter, &bytes));
    void *space = nullptr;
    KDRT_RETURN_IF_ERROR(workspace(bytes, &space));
    KDRT_CUDNN(cudnnConvolutionBackwardFilter(
        cudnn(), &one, setup.x.get(), input.data(), setup.y.get(),
        gradOutput.data(), setup.conv, algorithms.backwardFilter, space,
        bytes, &zero, setup.filter, gradWeight->data()));
  }
  if (gradBias)
    KDRT_CUDNN(cudnnConvolutionBackwardBias(
        cudnn(), &one, setup.y.get(), gradOutput.data(), &zero,
        setup.bias.get(), gradBias->data()));
  return Status::success();
}

Status CudnnBackendImpl::conv2dFusedBackward(
    const Conv2dDesc &desc, const Tensor &input, const Tensor &weight,
    const Tensor &output, const Tensor &gradOutput, Tensor *gradInput,
    Tensor *gradWeight, Tensor *gradBias) {
  DeviceBuffer buffer;
  Tensor gradPre;
  KDRT_RETURN_IF_ERROR(fusedBackwardGradient("conv2d", desc.postOps, output,
                                             gradOutput, buffer, gradPre));
  Conv2dDesc plain = desc;
  plain.postOps = PostOpChain();
  return conv2dBackward(plain, input, weight, gradPre, gradInput, gradWeight,
                        gradBias);
}

} // namespace kdrt::cudnn
