//===- CudnnBackend.cpp - Device, memory and shared helpers ---------------===//
//
// Creation of the stream and library handles, the memory entries, and the
// helpers every op family uses: scratch buffers, descriptors, the cuDNN
// workspace, row-major GEMM on cuBLAS, and the post-op chain.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/CudnnBackend.h"
#include "kdrt/reference/PostOps.h"

#include <climits>

namespace kdrt {

bool cudaDeviceAvailable(std::string *reason) {
  int count = 0;
  cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    if (reason)
      *reason = std::string("cudaGetDeviceCount failed: ") +
                cudaGetErrorString(error);
    return false;
  }
  if (count == 0) {
    if (reason)
      *reason = "cudaGetDeviceCount reports 0 devices";
    return false;
  }
  return true;
}

std::unique_ptr<Backend> createCudnnBackend(int device, std::string *error) {
  std::unique_ptr<cudnn::CudnnBackendImpl> backend;
  Status status = cudnn::CudnnBackendImpl::create(device, backend);
  if (!status.ok()) {
    if (error)
      *error = status.message();
    return nullptr;
  }
  return backend;
}

namespace cudnn {

DeviceBuffer::~DeviceBuffer() {
  if (data_)
    cudaFreeAsync(data_, stream_);
}

Status DeviceBuffer::allocate(cudaStream_t stream, int64_t floats) {
  if (data_) {
    cudaFreeAsync(data_, stream_);
    data_ = nullptr;
  }
  stream_ = stream;
  // Never a zero-byte request: kernels may be handed the pointer.
  size_t bytes = size_t(floats > 0 ? floats : 1) * sizeof(float);
  KDRT_CUDA(cudaMallocAsync(reinterpret_cast<void **>(&data_), bytes, stream));
  return Status::success();
}

TensorDescriptor::~TensorDescriptor() {
  if (handle_)
    cudnnDestroyTensorDescriptor(handle_);
}

Status TensorDescriptor::init(int64_t n, int64_t c, int64_t h, int64_t w) {
  KDRT_RETURN_IF_ERROR(checkIntRange("tensor descriptor", {n, c, h, w}));
  if (!handle_)
    KDRT_CUDNN(cudnnCreateTensorDescriptor(&handle_));
  KDRT_CUDNN(cudnnSetTensor4dDescriptor(handle_, CUDNN_TENSOR_NCHW,
                                        CUDNN_DATA_FLOAT, int(n), int(c),
                                        int(h), int(w)));
  return Status::success();
}

Status checkIntRange(const char *op, std::initializer_list<int64_t> values) {
  for (int64_t value : values)
    if (value < 0 || value > INT_MAX)
      return Status::invalidArgument(
          std::string(op) + ": dimension " + std::to_string(value) +
          " exceeds the range of the GPU libraries' int parameters");
  return Status::success();
}

Status CudnnBackendImpl::create(int device,
                                std::unique_ptr<CudnnBackendImpl> &out) {
  std::string reason;
  if (!cudaDeviceAvailable(&reason))
    return Status::internal("no CUDA device: " + reason);
  std::unique_ptr<CudnnBackendImpl> backend(new CudnnBackendImpl());
  backend->device_ = device;
  KDRT_CUDA(cudaSetDevice(device));
  KDRT_CUDA(cudaStreamCreateWithFlags(&backend->stream_,
                                      cudaStreamNonBlocking));
  KDRT_CUDNN(cudnnCreate(&backend->cudnn_));
  KDRT_CUDNN(cudnnSetStream(backend->cudnn_, backend->stream_));
  KDRT_CUBLAS(cublasCreate(&backend->cublas_));
  KDRT_CUBLAS(cublasSetStream(backend->cublas_, backend->stream_));
  // Plain fp32 arithmetic: the conformance tolerances assume no TF32.
  KDRT_CUBLAS(cublasSetMathMode(backend->cublas_, CUBLAS_PEDANTIC_MATH));
  out = std::move(backend);
  return Status::success();
}

CudnnBackendImpl::~CudnnBackendImpl() {
  if (stream_)
    cudaStreamSynchronize(stream_);
  if (workspace_)
    cudaFree(workspace_);
  if (cublas_)
    cublasDestroy(cublas_);
  if (cudnn_)
    cudnnDestroy(cudnn_);
  if (stream_)
    cudaStreamDestroy(stream_);
}

Status CudnnBackendImpl::allocate(size_t bytes, void **buffer) {
  *buffer = nullptr;
  KDRT_CUDA(cudaSetDevice(device_));
  // A zero-byte tensor still gets a distinct, valid pointer.
  KDRT_CUDA(cudaMalloc(buffer, bytes ? bytes : sizeof(float)));
  return Status::success();
}

void CudnnBackendImpl::deallocate(void *buffer) {
  if (!buffer)
    return;
  // Kernels still queued may read the buffer.
  cudaStreamSynchronize(stream_);
  cudaFree(buffer);
}

Status CudnnBackendImpl::copyIn(void *dst, const void *hostSrc,
                                size_t bytes) {
  if (bytes == 0)
    return Status::success();
  KDRT_CUDA(cudaMemcpyAsync(dst, hostSrc, bytes, cudaMemcpyHostToDevice,
                            stream_));
  // The host buffer may be reused as soon as the call returns.
  KDRT_CUDA(cudaStreamSynchronize(stream_));
  return Status::success();
}

Status CudnnBackendImpl::copyOut(void *hostDst, const void *src,
                                 size_t bytes) {
  if (bytes == 0)
    return synchronize();
  KDRT_CUDA(cudaMemcpyAsync(hostDst, src, bytes, cudaMemcpyDeviceToHost,
                            stream_));
  KDRT_CUDA(cudaStreamSynchronize(stream_));
  return Status::success();
}

Status CudnnBackendImpl::synchronize() {
  KDRT_CUDA(cudaStreamSynchronize(stream_));
  return Status::success();
}

Status CudnnBackendImpl::workspace(size_t bytes, void **data) {
  if (bytes > workspaceBytes_) {
    if (workspace_) {
      KDRT_CUDA(cudaStreamSynchronize(stream_));
      KDRT_CUDA(cudaFree(workspace_));
      workspace_ = nullptr;
      workspaceBytes_ = 0;
    }
    KDRT_CUDA(cudaMalloc(&workspace_, bytes));
    workspaceBytes_ = bytes;
  }
  *data = workspace_;
  return Status::success();
}

Status CudnnBackendImpl::gemm(bool transA, bool transB, int64_t m, int64_t n,
                              int64_t k, const float *a, const float *b,
                              float *c, float beta, int64_t batch,
                              int64_t strideA, int64_t strideB,
                              int64_t strideC, float alpha) {
  KDRT_RETURN_IF_ERROR(checkIntRange("gemm", {m, n, k, batch}));
  if (m == 0 || n == 0 || batch == 0)
    return Status::success();
  if (k == 0) {
    // An empty sum: C = beta * C, which cuBLAS may not handle for k = 0.
    if (beta == 0.0f)
      KDRT_CUDA(cudaMemsetAsync(c, 0, size_t(batch * m * n) * sizeof(float),
                                stream_));
    else
      KDRT_LAUNCH(launchScale(stream_, c, c, batch * m * n, beta));
    return Status::success();
  }
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: pass
  // B first, each with its own row length as the leading dimension.
  cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  int ldb = int(transB ? k : n), lda = int(transA ? m : k), ldc = int(n);
  KDRT_CUBLAS(cublasSgemmStridedBatched(cublas_, opB, opA, int(n), int(m),
                                        int(k), &alpha, b, ldb, strideB, a,
                                        lda, strideA, &beta, c, ldc, strideC,
                                        int(batch)));
  return Status::success();
}

static int activationCode(ActivationKind kind) {
  switch (kind) {
  case ActivationKind::Relu:
    return kActRelu;
  case ActivationKind::Gelu:
    return kActGelu;
  case ActivationKind::Sigmoid:
    return kActSigmoid;
  case ActivationKind::Tanh:
    return kActTanh;
  }
  return kActRelu;
}

int activationCodeOf(ActivationKind kind) { return activationCode(kind); }

Status rejectPostOps(const char *op, const PostOpChain &chain) {
  if (chain.empty())
    return Status::success();
  return Status::invalidArgument(std::string(op) +
                                 ": post-ops need the fused entry");
}

Status CudnnBackendImpl::applyBiasAndPostOps(
    const char *op, const PostOpChain &chain, const PostOpTensors &tensors,
    const Tensor *bias, Tensor &output, int64_t channels, int64_t inner) {
  reference::PostOpRefs<float> refs;
  for (const Tensor *t : tensors.residuals)
    refs.residuals.emplace_back(dataOf(t), t ? t->shape() : Shape());
  for (const Tensor *t : tensors.scales)
    refs.scales.emplace_back(dataOf(t), t ? t->shape() : Shape());
  for (const Tensor *t : tensors.shifts)
    refs.shifts.emplace_back(dataOf(t), t ? t->shape() : Shape());
  KDRT_RETURN_IF_ERROR(
      reference::checkPostOps(op, chain, refs, output.shape(), channels));
  DevicePostOps device;
  size_t nextResidual = 0, nextScaleShift = 0;
  device.count = chain.count;
  for (int k = 0; k < chain.count; ++k) {
    const PostOp &postOp = chain.ops[k];
    switch (postOp.kind) {
    case PostOpKind::Activation:
      device.kind[k] = kPostActivation;
      device.activation[k] = activationCode(postOp.activation);
      break;
    case PostOpKind::Sum:
      device.kind[k] = kPostSum;
      device.sumScale[k] = float(postOp.sumScale);
      device.residual[k] = tensors.residuals[nextResidual++]->data();
      break;
    case PostOpKind::ScaleShift:
      device.kind[k] = kPostScaleShift;
      device.scale[k] = tensors.scales[nextScaleShift]->data();
      device.shift[k] = tensors.shifts[nextScaleShift++]->data();
      break;
    }
  }
  KDRT_LAUNCH(launchBiasAndPostOps(stream_, output.data(),
                                   output.numElements(), dataOf(bias),
                                   channels, inner, device));
  return Status::success();
}

Status CudnnBackendImpl::fusedBackwardGradient(const char *op,
                                               const PostOpChain &chain,
                                               const Tensor &output,
                                               const Tensor &gradOutput,
                                               DeviceBuffer &buffer,
                                               Tensor &gradPre) {
  KDRT_RETURN_IF_ERROR(reference::checkFusedBackwardChain(op, chain));
  if (output.shape() != gradOutput.shape())
    return Status::invalidArgument(std::string(op) + ": output " +
                                   output.shape().toString() +
                                   " and gradOutput " +
                                   gradOutput.shape().toString() + " differ");
  if (chain.count == 0) {
    gradPre = gradOutput;
    return Status::success();
  }
  KDRT_RETURN_IF_ERROR(scratch(gradOutput.numElements(), buffer));
  KDRT_LAUNCH(launchSlopeFromOutput(
      stream_, activationCode(chain.ops[0].activation), output.data(),
      gradOutput.data(), buffer.data(), gradOutput.numElements()));
  gradPre = Tensor::view(buffer.data(), gradOutput.shape());
  return Status::success();
}

} // namespace cudnn
} // namespace kdrt
