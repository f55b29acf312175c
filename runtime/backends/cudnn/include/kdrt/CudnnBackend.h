//===- CudnnBackend.h - The cuDNN GPU backend -------------------*- C++ -*-===//
//
// A Backend on one CUDA device with one stream. Memory is device memory
// (one cudaMalloc per allocate); every op is enqueued on the stream, and
// copyOut / synchronize wait for it. Tensors stay plain row-major (NCHW).
//
// How each entry runs
// -------------------
//   entry                  | implementation
//   -----------------------+-------------------------------------------------
//   conv2d (+fused)        | cudnnConvolutionForward / BackwardData /
//                          | BackwardFilter / BackwardBias, algorithms chosen
//                          | once per shape (FMA math: no TF32); bias and the
//                          | post-op chain in one elementwise kernel after it
//   linear, matMul         | cuBLAS SGEMM (strided-batched for [B, M, K]);
//                          | bias + post-ops as for conv
//   batchNorm              | cudnnBatchNormalizationForwardTraining /
//                          | ForwardInference / Backward (training); the
//                          | inference backward is a kernel
//   activation             | cudnnActivationForward (relu, sigmoid, tanh);
//                          | gelu (erf) and every backward are kernels
//   softmax, log-softmax   | cudnnSoftmaxForward / Backward; temperature by a
//                          | scaled input and the backward's alpha
//   pool2d                 | cudnnPoolingForward / Backward
//   multi-head attention   | cuBLAS GEMMs (projections, batched Q K^T and
//                          | P V) and a row-softmax kernel
//   everything else        | the backend's own kernels (lib/kernels/*.cu)
//
// Errors of CUDA, cuDNN and cuBLAS become Status values naming the call and
// the library's error string; the backend never aborts.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_CUDNNBACKEND_H
#define KDRT_CUDNNBACKEND_H

#include "kdrt/Backend.h"

#include <memory>
#include <string>

namespace kdrt {

/// Whether a CUDA device can be used; otherwise `reason` says why (no
/// driver, no device, ...).
bool cudaDeviceAvailable(std::string *reason = nullptr);

/// A cuDNN backend on CUDA device `device`; nullptr when the device, the
/// stream or a library handle cannot be set up (`error` says why).
std::unique_ptr<Backend> createCudnnBackend(int device = 0,
                                            std::string *error = nullptr);

} // namespace kdrt

#endif // KDRT_CUDNNBACKEND_H
