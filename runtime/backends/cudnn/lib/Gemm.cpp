//===- Gemm.cpp - linear and matmul on cuBLAS -----------------------------===//
//
// Every product is one (strided-batched) SGEMM through
// CudnnBackendImpl::gemm, which maps row-major operands onto cuBLAS's
// column-major convention. Bias gradients are column sums.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/Linear.h"
#include "kdrt/reference/MatMul.h"

namespace kdrt::cudnn {

using reference::checkShape;

Status CudnnBackendImpl::linearForward(const LinearDesc &desc,
                                       const Tensor &input,
                                       const Tensor &weight,
                                       const Tensor *bias, Tensor &output) {
  KDRT_RETURN_IF_ERROR(rejectPostOps("linear", desc.postOps));
  return linearFusedForward(desc, input, weight, bias, PostOpTensors(),
                            output);
}

Status CudnnBackendImpl::linearFusedForward(const LinearDesc &desc,
                                            const Tensor &input,
                                            const Tensor &weight,
                                            const Tensor *bias,
                                            const PostOpTensors &postOps,
                                            Tensor &output) {
  int64_t rows = 0;
  KDRT_RETURN_IF_ERROR(reference::linearRows(input.shape(), weight.shape(),
                                             output.shape(), rows));
  int64_t outWidth = weight.dim(0), inWidth = weight.dim(1);
  if (bias)
    KDRT_RETURN_IF_ERROR(
        checkShape("linear", "bias", bias->shape(), Shape{outWidth}));
  // y = x W^T: W is stored [O, I], i.e. transposed.
  KDRT_RETURN_IF_ERROR(gemm(false, true, rows, outWidth, inWidth,
                            input.data(), weight.data(), output.data()));
  return applyBiasAndPostOps("linear", desc.postOps, postOps, bias, output,
                             outWidth, 1);
}

Status CudnnBackendImpl::linearBackward(const LinearDesc &desc,
                                        const Tensor &input,
                                        const Tensor &weight,
                                        const Tensor &gradOutput,
                                        Tensor *gradInput, Tensor *gradWeight,
                                        Tensor *gradBias) {
  KDRT_RETURN_IF_ERROR(rejectPostOps("linear", desc.postOps));
  const char *op = "linear";
  int64_t rows = 0;
  KDRT_RETURN_IF_ERROR(reference::linearRows(input.shape(), weight.shape(),
                                             gradOutput.shape(), rows));
  int64_t outWidth = weight.dim(0), inWidth = weight.dim(1);
  if (gradInput)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradInput", gradInput->shape(), input.shape()));
  if (gradWeight)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradWeight", gradWeight->shape(), weight.shape()));
  if (gradBias)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradBias", gradBias->shape(), Shape{outWidth}));
  // dx = dy W; dW = dy^T x; db = column sums of dy.
  if (gradInput)
    KDRT_RETURN_IF_ERROR(gemm(false, false, rows, inWidth, outWidth,
                              gradOutput.data(), weight.data(),
                              gradInput->data()));
  if (gradWeight)
    KDRT_RETURN_IF_ERROR(gemm(true, false, outWidth, inWidth, rows,
                              gradOutput.data(), input.data(),
                              gradWeight->data()));
  if (gradBias)
    KDRT_LAUNCH(launchColumnSums(stream(), gradOutput.data(), rows, outWidth,
                                 outWidth, gradBias->data()));
  return Status::success();
}

Status CudnnBackendImpl::linearFusedBackward(
    const LinearDesc &desc, const Tensor &input, const Tensor &weight,
    const Tensor &output, const Tensor &gradOutput, Tensor *gradInput,
    Tensor *gradWeight, Tensor *gradBias) {
  DeviceBuffer buffer;
  Tensor gradPre;
  KDRT_RETURN_IF_ERROR(fusedBackwardGradient("linear", desc.postOps, output,
                                             gradOutput, buffer, gradPre));
  return linearBackward(LinearDesc(), input, weight, gradPre, gradInput,
                        gradWeight, gradBias);
}

Status CudnnBackendImpl::matMulForward(const MatMulDesc &desc,
                                       const Tensor &lhs, const Tensor &rhs,
                                       Tensor &output) {
  reference::detail::MatrixLayout a, b;
  KDRT_RETURN_IF_ERROR(reference::detail::matMulLayouts(
      desc, lhs.shape(), rhs.shape(), output.shape(), a, b));
  int64_t m = a.rows, k = a.cols, n = b.cols;
  return gemm(desc.transposeLhs, desc.transposeRhs, m, n, k, lhs.data(),
              rhs.data(), output.data(), 0.0f, a.batch, m * k, k * n, m * n);
}

Status CudnnBackendImpl::matMulBackward(const MatMulDesc &desc,
                                        const Tensor &lhs, const Tensor &rhs,
                                        const Tensor &gradOutput,
                                        Tensor *gradLhs, Tensor *gradRhs) {
  reference::detail::MatrixLayout a, b;
  KDRT_RETURN_IF_ERROR(reference::detail::matMulLayouts(
      desc, lhs.shape(), rhs.shape(), gradOutput.shape(), a, b));
  if (gradLhs)
    KDRT_RETURN_IF_ERROR(
        checkShape("matmul", "gradLhs", gradLhs->shape(), lhs.shape()));
  if (gradRhs)
    KDRT_RETURN_IF_ERROR(
        checkShape("matmul", "gradRhs", gradRhs->shape(), rhs.shape()));
  int64_t m = a.rows, k = a.cols, n = b.cols, batch = a.batch;
  bool tl = desc.transposeLhs, tr = desc.transposeRhs;
  const float *dc = gradOutput.data();
  if (gradLhs) {
    if (!tl) // dA = dC B^T, stored [M, K].
      KDRT_RETURN_IF_ERROR(gemm(false, !tr, m, k, n, dc, rhs.data(),
                                gradLhs->data(), 0.0f, batch, m * n, k * n,
                                m * k));
    else // dA^T = B dC^T, stored [K, M].
      KDRT_RETURN_IF_ERROR(gemm(tr, true, k, m, n, rhs.data(), dc,
                                gradLhs->data(), 0.0f, batch, k * n, m * n,
                                m * k));
  }
  if (gradRhs) {
    if (!tr) // dB = A^T dC, stored [K, N].
      KDRT_RETURN_IF_ERROR(gemm(!tl, false, k, n, m, lhs.data(), dc,
                                gradRhs->data(), 0.0f, batch, m * k, m * n,
                                k * n));
    else // dB^T = dC^T A, stored [N, K].
      KDRT_RETURN_IF_ERROR(gemm(true, tl, n, k, m, dc, lhs.data(),
                                gradRhs->data(), 0.0f, batch, m * n, m * k,
                                k * n));
  }
  return Status::success();
}

} // namespace kdrt::cudnn
