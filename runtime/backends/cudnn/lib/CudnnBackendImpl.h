//===- CudnnBackendImpl.h - The cuDNN backend's class -----------*- C++ -*-===//
//
// One class, its entries implemented across files by op family
// (Convolution.cpp, Gemm.cpp, ...). This header also holds the small RAII
// helpers the families share: device scratch buffers and cuDNN descriptors.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_CUDNN_CUDNNBACKENDIMPL_H
#define KDRT_CUDNN_CUDNNBACKENDIMPL_H

#include "CudaStatus.h"
#include "kernels/Kernels.h"

#include "kdrt/Backend.h"

#include <map>
#include <memory>
#include <string>

namespace kdrt::cudnn {

/// Stream-ordered temporary device memory, freed on the same stream.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer();

  Status allocate(cudaStream_t stream, int64_t floats);
  float *data() const { return data_; }

private:
  float *data_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

/// A 4-D NCHW float tensor descriptor.
class TensorDescriptor {
public:
  TensorDescriptor() = default;
  TensorDescriptor(const TensorDescriptor &) = delete;
  TensorDescriptor &operator=(const TensorDescriptor &) = delete;
  ~TensorDescriptor();

  Status init(int64_t n, int64_t c, int64_t h, int64_t w);
  cudnnTensorDescriptor_t get() const { return handle_; }

private:
  cudnnTensorDescriptor_t handle_ = nullptr;
};

/// Checks that every value fits cuDNN's and cuBLAS's int parameters.
Status checkIntRange(const char *op, std::initializer_list<int64_t> values);

/// A cached choice of convolution algorithms for one shape key.
struct ConvAlgorithms {
  cudnnConvolutionFwdAlgo_t forward;
  cudnnConvolutionBwdDataAlgo_t backwardData;
  cudnnConvolutionBwdFilterAlgo_t backwardFilter;
  bool haveForward = false, haveBackwardData = false,
       haveBackwardFilter = false;
};

class CudnnBackendImpl final : public Backend {
public:
  static Status create(int device, std::unique_ptr<CudnnBackendImpl> &out);
  ~CudnnBackendImpl() override;

  const char *name() const override { return "cudnn"; }

  Status allocate(size_t bytes, void **buffer) override;
  void deallocate(void *buffer) override;
  Status copyIn(void *dst, const void *hostSrc, size_t bytes) override;
  Status copyOut(void *hostDst, const void *src, size_t bytes) override;
  Status synchronize() override;

  // Convolution.cpp
  Status conv2dForward(const Conv2dDesc &desc, const Tensor &input,
                       const Tensor &weight, const Tensor *bias,
                       Tensor &output) override;
  Status conv2dBackward(const Conv2dDesc &desc, const Tensor &input,
                        const Tensor &weight, const Tensor &gradOutput,
                        Tensor *gradInput, Tensor *gradWeight,
                        Tensor *gradBias) override;
  Status conv2dFusedForward(const Conv2dDesc &desc, const Tensor &input,
                            const Tensor &weight, const Tensor *bias,
                            const PostOpTensors &postOpTensors,
                            Tensor &output) override;
  Status conv2dFusedBackward(const Conv2dDesc &desc, const Tensor &input,
                             const Tensor &weight, const Tensor &output,
                             const Tensor &gradOutput, Tensor *gradInput,
                             Tensor *gradWeight, Tensor *gradBias) override;

  // Gemm.cpp
  Status linearForward(const LinearDesc &desc, const Tensor &input,
                       const Tensor &weight, const Tensor *bias,
                       Tensor &output) override;
  Status linearBackward(const LinearDesc &desc, const Tensor &input,
                        const Tensor &weight, const Tensor &gradOutput,
                        Tensor *gradInput, Tensor *gradWeight,
                        Tensor *gradBias) override;
  Status linearFusedForward(const LinearDesc &desc, const Tensor &input,
                            const Tensor &weight, const Tensor *bias,
                            const PostOpTensors &postOpTensors,
                            Tensor &output) override;
  Status linearFusedBackward(const LinearDesc &desc, const Tensor &input,
                             const Tensor &weight, const Tensor &output,
                             const Tensor &gradOutput, Tensor *gradInput,
                             Tensor *gradWeight, Tensor *gradBias) override;
  Status matMulForward(const MatMulDesc &desc, const Tensor &lhs,
                       const Tensor &rhs, Tensor &output) override;
  Status matMulBackward(const MatMulDesc &desc, const Tensor &lhs,
                        const Tensor &rhs, const Tensor &gradOutput,
                        Tensor *gradLhs, Tensor *gradRhs) override;

  // Normalization.cpp
  Status batchNormForward(const BatchNormDesc &desc, const Tensor &input,
                          const Tensor &gamma, const Tensor &beta,
                          Tensor &runningMean, Tensor &runningVar,
                          Tensor &output) override;
  Status batchNormBackward(const BatchNormDesc &desc, const Tensor &input,
                           const Tensor &gamma, const Tensor &runningMean,
                           const Tensor &runningVar, const Tensor &gradOutput,
                           Tensor *gradInput, Tensor *gradGamma,
                           Tensor *gradBeta) override;
  Status layerNormForward(const LayerNormDesc &desc, const Tensor &input,
                          const Tensor *gamma, const Tensor *beta,
                          Tensor &output) override;
  Status layerNormBackward(const LayerNormDesc &desc, const Tensor &input,
                           const Tensor *gamma, const Tensor &gradOutput,
                           Tensor *gradInput, Tensor *gradGamma,
                           Tensor *gradBeta) override;
  Status groupNormForward(const GroupNormDesc &desc, const Tensor &input,
                          const Tensor *gamma, const Tensor *beta,
                          Tensor &output) override;
  Status groupNormBackward(const GroupNormDesc &desc, const Tensor &input,
                           const Tensor *gamma, const Tensor &gradOutput,
                           Tensor *gradInput, Tensor *gradGamma,
                           Tensor *gradBeta) override;
  Status l2NormalizeForward(const L2NormalizeDesc &desc, const Tensor &input,
                            Tensor &output) override;
  Status l2NormalizeBackward(const L2NormalizeDesc &desc, const Tensor &input,
                             const Tensor &gradOutput,
                             Tensor &gradInput) override;

  // Activation.cpp
  Status activationForward(const ActivationDesc &desc, const Tensor &input,
                           Tensor &output) override;
  Status activationBackward(const ActivationDesc &desc, const Tensor &input,
                            const Tensor &gradOutput,
                            Tensor &gradInput) override;
  Status softmaxForward(const SoftmaxDesc &desc, const Tensor &input,
                        Tensor &output) override;
  Status softmaxBackward(const SoftmaxDesc &desc, const Tensor &output,
                         const Tensor &gradOutput, Tensor &gradInput) override;

  // Pooling.cpp
  Status pool2dForward(const Pool2dDesc &desc, const Tensor &input,
                       Tensor &output) override;
  Status pool2dBackward(const Pool2dDesc &desc, const Tensor &input,
                        const Tensor &gradOutput, Tensor &gradInput) override;
  Status adaptivePoolForward(const AdaptivePoolDesc &desc, const Tensor &input,
                             Tensor &output) override;
  Status adaptivePoolBackward(const AdaptivePoolDesc &desc,
                              const Tensor &input, const Tensor &gradOutput,
                              Tensor &gradInput) override;
  Status resizeForward(const ResizeDesc &desc, const Tensor &input,
                       Tensor &output) override;
  Status resizeBackward(const ResizeDesc &desc, const Tensor &gradOutput,
                        Tensor &gradInput) override;

  // Plumbing.cpp
  Status binaryForward(const BinaryDesc &desc, const Tensor &lhs,
                       const Tensor &rhs, Tensor &output) override;
  Status binaryBackward(const BinaryDesc &desc, const Tensor &lhs,
                        const Tensor &rhs, const Tensor &gradOutput,
                        Tensor *gradLhs, Tensor *gradRhs) override;
  Status concatForward(const ConcatDesc &desc,
                       const std::vector<const Tensor *> &inputs,
                       Tensor &output) override;
  Status concatBackward(const ConcatDesc &desc, const Tensor &gradOutput,
                        const std::vector<Tensor *> &gradInputs) override;
  Status reshapeForward(const ReshapeDesc &desc, const Tensor &input,
                        Tensor &output) override;
  Status reshapeBackward(const ReshapeDesc &desc, const Tensor &gradOutput,
                         Tensor &gradInput) override;
  Status dropoutForward(const DropoutDesc &desc, const Tensor &input,
                        Tensor &output, Tensor &mask) override;
  Status dropoutBackward(const DropoutDesc &desc, const Tensor &mask,
                         const Tensor &gradOutput, Tensor &gradInput) override;

  // Tokens.cpp
  Status tokensForward(const TokensDesc &desc, const Tensor &input,
                       Tensor &output) override;
  Status tokensBackward(const TokensDesc &desc, const Tensor &gradOutput,
                        Tensor &gradInput) override;
  Status clsTokenPrependForward(const ClsTokenPrependDesc &desc,
                                const Tensor &input, const Tensor &token,
                                Tensor &output) override;
  Status clsTokenPrependBackward(const ClsTokenPrependDesc &desc,
                                 const Tensor &gradOutput, Tensor *gradInput,
                                 Tensor *gradToken) override;
  Status positionEmbeddingAddForward(const PositionEmbeddingAddDesc &desc,
                                     const Tensor &input,
                                     const Tensor &embedding,
                                     Tensor &output) override;
  Status positionEmbeddingAddBackward(const PositionEmbeddingAddDesc &desc,
                                      const Tensor &gradOutput,
                                      Tensor *gradInput,
                                      Tensor *gradEmbedding) override;
  Status selectTokenForward(const SelectTokenDesc &desc, const Tensor &input,
                            Tensor &output) override;
  Status selectTokenBackward(const SelectTokenDesc &desc,
                             const Tensor &gradOutput,
                             Tensor &gradInput) override;

  // Attention.cpp
  Status multiHeadAttentionForward(const MultiHeadAttentionDesc &desc,
                                   const Tensor &input,
                                   const AttentionWeights &weights,
                                   Tensor &output) override;
  Status multiHeadAttentionBackward(const MultiHeadAttentionDesc &desc,
                                    const Tensor &input,
                                    const AttentionWeights &weights,
                                    const Tensor &gradOutput,
                                    Tensor *gradInput,
                                    const AttentionWeightGrads &gradWeights)
      override;
  Status attentionPoolForward(const AttentionPoolDesc &desc,
                              const Tensor &input, const Tensor &weight,
                              const Tensor *bias, Tensor &output) override;
  Status attentionPoolBackward(const AttentionPoolDesc &desc,
                               const Tensor &input, const Tensor &weight,
                               const Tensor *bias, const Tensor &gradOutput,
                               Tensor *gradInput, Tensor *gradWeight,
                               Tensor *gradBias) override;

  // Losses.cpp
  Status crossEntropyLoss(const CrossEntropyDesc &desc, const Tensor &logits,
                          const Tensor &targets, Tensor &loss,
                          Tensor *gradLogits) override;
  Status klDivLoss(const KlDivDesc &desc, const Tensor &studentLogits,
                   const Tensor &teacherLogits, Tensor &loss,
                   Tensor *gradStudent, Tensor *gradTeacher) override;
  Status regressionLoss(const RegressionLossDesc &desc, const Tensor &input,
                        const Tensor &target, Tensor &loss, Tensor *gradInput,
                        Tensor *gradTarget) override;
  Status cosineLoss(const CosineLossDesc &desc, const Tensor &lhs,
                    const Tensor &rhs, Tensor &loss, Tensor *gradLhs,
                    Tensor *gradRhs) override;
  Status dkdLoss(const DkdDesc &desc, const Tensor &studentLogits,
                 const Tensor &teacherLogits, const Tensor &labels,
                 Tensor &loss, Tensor *gradStudent) override;

  // Losses.cpp (feature losses)
  Status attentionTransferLoss(const AttentionTransferDesc &desc,
                               const Tensor &student, const Tensor &teacher,
                               Tensor &loss, Tensor *gradStudent,
                               Tensor *gradTeacher) override;
  Status rkdDistanceLoss(const RkdDesc &desc, const Tensor &student,
                         const Tensor &teacher, Tensor &loss,
                         Tensor *gradStudent, Tensor *gradTeacher) override;
  Status rkdAngleLoss(const RkdDesc &desc, const Tensor &student,
                      const Tensor &teacher, Tensor &loss,
                      Tensor *gradStudent, Tensor *gradTeacher) override;

  //===--------------------------------------------------------------------===//
  // Shared by the op families.
  //===--------------------------------------------------------------------===//

  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }

  /// Stream-ordered scratch of `floats` floats.
  Status scratch(int64_t floats, DeviceBuffer &buffer) {
    return buffer.allocate(stream_, floats);
  }
  /// The cuDNN workspace, grown to at least `bytes`.
  Status workspace(size_t bytes, void **data);

  /// Row-major C = alpha * op(A) op(B) + beta * C, with op(A) [M, K] and
  /// op(B) [K, N]; A is stored [K, M] when transA, B [N, K] when transB.
  /// batch > 1 steps A, B, C by their strides.
  Status gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
              const float *a, const float *b, float *c, float beta = 0.0f,
              int64_t batch = 1, int64_t strideA = 0, int64_t strideB = 0,
              int64_t strideC = 0, float alpha = 1.0f);

  /// Bias + post-op chain over `output` (channel of element i is
  /// (i / inner) % channels); validates the post-op tensors first.
  Status applyBiasAndPostOps(const char *op, const PostOpChain &chain,
                             const PostOpTensors &tensors, const Tensor *bias,
                             Tensor &output, int64_t channels, int64_t inner);
  /// dy * slope(y) for a chain accepted by checkFusedBackwardChain, into
  /// `buffer` (or dy itself for an empty chain).
  Status fusedBackwardGradient(const char *op, const PostOpChain &chain,
                               const Tensor &output, const Tensor &gradOutput,
                               DeviceBuffer &buffer, Tensor &gradPre);

  /// The algorithms for one convolution shape (found once, then cached).
  ConvAlgorithms &convAlgorithms(const std::string &key) {
    return convAlgorithms_[key];
  }

private:
  CudnnBackendImpl() = default;

  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void *workspace_ = nullptr;
  size_t workspaceBytes_ = 0;
  std::map<std::string, ConvAlgorithms> convAlgorithms_;
};

/// The kernels' code of an activation kind.
int activationCodeOf(ActivationKind kind);

/// The error of a plain conv / linear entry given a post-op chain.
Status rejectPostOps(const char *op, const PostOpChain &chain);

/// Device pointer of an optional tensor.
inline float *dataOf(const Tensor *tensor) {
  return tensor ? tensor->data() : nullptr;
}

/// The launcher's cudaError_t as a Status naming the launcher.
#define KDRT_LAUNCH(call)                                                      \
  KDRT_RETURN_IF_ERROR(::kdrt::cudnn::cudaStatus((call), #call))

} // namespace kdrt::cudnn

#endif // KDRT_CUDNN_CUDNNBACKENDIMPL_H
