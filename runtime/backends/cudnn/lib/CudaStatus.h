//===- CudaStatus.h - CUDA, cuDNN and cuBLAS errors as Status ---*- C++ -*-===//
//
// Every library call of the backend goes through one of these macros, which
// return a Status naming the call and the library's error string.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_CUDNN_CUDASTATUS_H
#define KDRT_CUDNN_CUDASTATUS_H

#include "kdrt/Status.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

namespace kdrt::cudnn {

inline Status cudaStatus(cudaError_t error, const char *call) {
  if (error == cudaSuccess)
    return Status::success();
  std::string message =
      std::string(call) + " failed: " + cudaGetErrorString(error);
  if (error == cudaErrorMemoryAllocation)
    return Status::outOfMemory(message);
  return Status::internal(message);
}

inline Status cudnnStatus(cudnnStatus_t status, const char *call) {
  if (status == CUDNN_STATUS_SUCCESS)
    return Status::success();
  return Status::internal(std::string(call) +
                          " failed: " + cudnnGetErrorString(status));
}

inline Status cublasStatus(cublasStatus_t status, const char *call) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return Status::success();
  return Status::internal(std::string(call) +
                          " failed: " + cublasGetStatusString(status));
}

} // namespace kdrt::cudnn

#define KDRT_CUDA(call)                                                        \
  KDRT_RETURN_IF_ERROR(::kdrt::cudnn::cudaStatus((call), #call))
#define KDRT_CUDNN(call)                                                       \
  KDRT_RETURN_IF_ERROR(::kdrt::cudnn::cudnnStatus((call), #call))
#define KDRT_CUBLAS(call)                                                      \
  KDRT_RETURN_IF_ERROR(::kdrt::cudnn::cublasStatus((call), #call))

#endif // KDRT_CUDNN_CUDASTATUS_H
