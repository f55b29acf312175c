//===- Kernels.h - Launchers of the backend's own CUDA kernels --*- C++ -*-===//
//
// Plain C++ declarations of the host functions in kernels/*.cu, so the
// backend's .cpp files never need nvcc. Every launcher enqueues its kernels
// on `stream` and returns cudaGetLastError() (or the first failing runtime
// call); shapes are validated by the caller before a launch.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_CUDNN_KERNELS_H
#define KDRT_CUDNN_KERNELS_H

#include <cstdint>
#include <cuda_runtime_api.h>

namespace kdrt::cudnn {

// Activation codes (ActivationKind mapped explicitly by the backend).
enum : int { kActRelu = 0, kActGelu = 1, kActSigmoid = 2, kActTanh = 3 };
// Post-op codes.
enum : int { kPostActivation = 0, kPostSum = 1, kPostScaleShift = 2 };

/// A post-op chain with device pointers, passed to kernels by value.
struct DevicePostOps {
  static constexpr int kCapacity = 6;
  int count = 0;
  int kind[kCapacity] = {};
  int activation[kCapacity] = {};
  float sumScale[kCapacity] = {};
  const float *residual[kCapacity] = {};
  const float *scale[kCapacity] = {};
  const float *shift[kCapacity] = {};
};

/// numpy broadcasting of rhs to lhs: rhs element of lhs element i is
/// sum_d coord_d(i) * rhsStrides[d].
struct BroadcastMap {
  static constexpr int kMaxRank = 8;
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t rhsStrides[kMaxRank] = {};
};

//===- Elementwise.cu -----------------------------------------------------===//

/// y[i] += bias[(i / inner) % channels] (when bias), then the chain.
cudaError_t launchBiasAndPostOps(cudaStream_t stream, float *y, int64_t count,
                                 const float *bias, int64_t channels,
                                 int64_t inner, const DevicePostOps &chain);
cudaError_t launchActivationForward(cudaStream_t stream, int kind,
                                    const float *x, float *y, int64_t count);
cudaError_t launchActivationBackward(cudaStream_t stream, int kind,
                                     const float *x, const float *dy,
                                     float *dx, int64_t count);
/// out = dy * slopeFromOutput(y) (relu / sigmoid / tanh).
cudaError_t launchSlopeFromOutput(cudaStream_t stream, int kind,
                                  const float *y, const float *dy, float *out,
                                  int64_t count);
/// y = x * factor.
cudaError_t launchScale(cudaStream_t stream, const float *x, float *y,
                        int64_t count, float factor);
/// out = a * b elementwise.
cudaError_t launchMultiply(cudaStream_t stream, const float *a,
                           const float *b, float *out, int64_t count);
/// dst += src.
cudaError_t launchAccumulate(cudaStream_t stream, const float *src,
                             float *dst, int64_t count);
cudaError_t launchDropoutForward(cudaStream_t stream, const float *x,
                                 float *y, float *mask, int64_t count,
                                 uint64_t seed, double p, float keepScale);
/// add (isAdd) or mul with rhs broadcast to lhs.
cudaError_t launchBinaryForward(cudaStream_t stream, bool isAdd,
                                const float *lhs, const float *rhs,
                                float *out, int64_t count,
                                const BroadcastMap &map);
/// Either gradient may be null; dRhs is zeroed and accumulated here.
cudaError_t launchBinaryBackward(cudaStream_t stream, bool isAdd,
                                 const float *lhs, const float *rhs,
                                 const float *dy, float *dLhs, float *dRhs,
                                 int64_t count, int64_t rhsCount,
                                 const BroadcastMap &map);
/// out[c] = sum_r x[r * rowStride + c], c < cols.
cudaError_t launchColumnSums(cudaStream_t stream, const float *x,
                             int64_t rows, int64_t cols, int64_t rowStride,
                             float *out);
/// dst[o * dstStride + dstOffset + k] = src[o * srcStride + srcOffset + k]
/// for o < outer, k < length (srcStride 0 repeats one row).
cudaError_t launchStridedCopy(cudaStream_t stream, const float *src,
                              int64_t srcStride, int64_t srcOffset,
                              float *dst, int64_t dstStride,
                              int64_t dstOffset, int64_t outer,
                              int64_t length);
/// out[0] = factor * sum(values[0..count)) in one deterministic block.
cudaError_t launchSum(cudaStream_t stream, const float *values, int64_t count,
                      float factor, float *out);

//===- RowKernels.cu ------------------------------------------------------===//

/// Layer norm (groups = 1, space = 1) and group norm over contiguous rows:
/// element k of row r uses affine entry (r % groups) * groupChannels +
/// k / space. gamma / beta may be null.
cudaError_t launchRowNormForward(cudaStream_t stream, const float *x,
                                 const float *gamma, const float *beta,
                                 float *y, int64_t rows, int64_t rowLength,
                                 double eps, int64_t groups,
                                 int64_t groupChannels, int64_t space);
/// dGamma / dBeta ([affineCount], may be null) are zeroed and accumulated.
cudaError_t launchRowNormBackward(cudaStream_t stream, const float *x,
                                  const float *gamma, const float *dy,
                                  float *dx, float *dGamma, float *dBeta,
                                  int64_t affineCount, int64_t rows,
                                  int64_t rowLength, double eps,
                                  int64_t groups, int64_t groupChannels,
                                  int64_t space);
/// Batch-norm backward through the running statistics (inference mode).
cudaError_t launchBatchNormInferenceBackward(
    cudaStream_t stream, const float *x, const float *gamma,
    const float *runningMean, const float *runningVar, const float *dy,
    float *dx, float *dGamma, float *dBeta, int64_t batch, int64_t channels,
    int64_t space, double eps);
cudaError_t launchL2NormalizeForward(cudaStream_t stream, const float *x,
                                     float *y, int64_t rows, int64_t length,
                                     double eps);
cudaError_t launchL2NormalizeBackward(cudaStream_t stream, const float *x,
                                      const float *dy, float *dx,
                                      int64_t rows, int64_t length,
                                      double eps);
/// y = softmax(x * scale) per row.
cudaError_t launchSoftmaxRows(cudaStream_t stream, const float *x, float *y,
                              int64_t rows, int64_t length, float scale);
/// dx = p * (dp - sum(dp * p)) * scale per row.
cudaError_t launchSoftmaxRowsBackward(cudaStream_t stream, const float *p,
                                      const float *dp, float *dx,
                                      int64_t rows, int64_t length,
                                      float scale);

//===- SpatialKernels.cu --------------------------------------------------===//

/// Adaptive pooling with PyTorch's bins on planes of H x W.
cudaError_t launchAdaptivePoolForward(cudaStream_t stream, bool isMax,
                                      const float *x, float *y,
                                      int64_t planes, int64_t height,
                                      int64_t width, int64_t outH,
                                      int64_t outW);
/// dx is zeroed and accumulated (max: the first maximum of each bin).
cudaError_t launchAdaptivePoolBackward(cudaStream_t stream, bool isMax,
                                       const float *x, const float *dy,
                                       float *dx, int64_t planes,
                                       int64_t height, int64_t width,
                                       int64_t outH, int64_t outW);
// Resize modes.
enum : int { kResizeBilinear = 0, kResizeNearest = 1, kResizeArea = 2 };
cudaError_t launchResizeForward(cudaStream_t stream, int mode, const float *x,
                                float *y, int64_t planes, int64_t height,
                                int64_t width, int64_t outH, int64_t outW);
/// dx ([planes, height, width]) is zeroed and accumulated.
cudaError_t launchResizeBackward(cudaStream_t stream, int mode,
                                 const float *dy, float *dx, int64_t planes,
                                 int64_t height, int64_t width, int64_t outH,
                                 int64_t outW);
/// [N, C, S] <-> [N, S, C]: toTokens picks the direction.
cudaError_t launchTokens(cudaStream_t stream, const float *src, float *dst,
                         int64_t batch, int64_t channels, int64_t space,
                         bool toTokens);
/// [B, N, H * hw] <-> [B, H, N, hw]: toHeads picks the direction.
cudaError_t launchHeadSplit(cudaStream_t stream, const float *src, float *dst,
                            int64_t batch, int64_t tokens, int64_t heads,
                            int64_t headWidth, bool toHeads);

//===- LossKernels.cu -----------------------------------------------------===//
// Each writes one loss term per row (or element) into `terms`; the backend
// sums them with launchSum. Gradients may be null.

cudaError_t launchCrossEntropy(cudaStream_t stream, const float *logits,
                               const float *targets, bool softTargets,
                               float smoothing, float gradScale,
                               int64_t batch, int64_t classes, float *terms,
                               float *gradLogits);
cudaError_t launchKlDiv(cudaStream_t stream, const float *student,
                        const float *teacher, int64_t batch, int64_t classes,
                        float temperature, float gradFactor, float *terms,
                        float *gradStudent, float *gradTeacher);
cudaError_t launchDkd(cudaStream_t stream, const float *student,
                      const float *teacher, const float *labels,
                      int64_t batch, int64_t classes, float temperature,
                      float alpha, float beta, float gradScale, float *terms,
                      float *gradStudent);
// Regression kinds.
enum : int { kMse = 0, kL1 = 1, kSmoothL1 = 2 };
cudaError_t launchRegression(cudaStream_t stream, int kind, float beta,
                             const float *input, const float *target,
                             int64_t count, float gradScale, float *terms,
                             float *gradInput, float *gradTarget);
cudaError_t launchCosine(cudaStream_t stream, const float *lhs,
                         const float *rhs, int64_t batch, int64_t length,
                         float eps, float gradScale, float *terms,
                         float *gradLhs, float *gradRhs);

//===- FeatureLossKernels.cu ----------------------------------------------===//

/// Floats of workspace launchAttentionTransfer needs.
int64_t attentionTransferWorkspace(int64_t batch, int64_t space);
/// terms: [batch * space] squared differences.
cudaError_t launchAttentionTransfer(cudaStream_t stream, const float *student,
                                   int64_t studentChannels,
                                   const float *teacher,
                                   int64_t teacherChannels, int64_t batch,
                                   int64_t space, float p, double eps,
                                   float gradScale, float *workspace,
                                   float *terms, float *gradStudent,
                                   float *gradTeacher);
int64_t rkdDistanceWorkspace(int64_t batch);
/// Writes the loss value itself.
cudaError_t launchRkdDistance(cudaStream_t stream, const float *student,
                              int64_t studentWidth, const float *teacher,
                              int64_t teacherWidth, int64_t batch,
                              float gradScale, float *workspace, float *loss,
                              float *gradStudent, float *gradTeacher);
int64_t rkdAngleWorkspace(int64_t batch, int64_t studentWidth,
                          int64_t teacherWidth);
cudaError_t launchRkdAngle(cudaStream_t stream, const float *student,
                           int64_t studentWidth, const float *teacher,
                           int64_t teacherWidth, int64_t batch,
                           float gradScale, float *workspace, float *loss,
                           float *gradStudent, float *gradTeacher);

//===- AttentionKernels.cu ------------------------------------------------===//

/// GC-block attention pooling; workspace holds [batch * space] floats.
cudaError_t launchAttentionPoolForward(cudaStream_t stream, const float *x,
                                       const float *weight, const float *bias,
                                       float *out, int64_t batch,
                                       int64_t channels, int64_t space,
                                       float *workspace);
/// workspace holds 2 * [batch * space] floats; gradients may be null.
cudaError_t launchAttentionPoolBackward(
    cudaStream_t stream, const float *x, const float *weight,
    const float *bias, const float *dy, float *dx, float *dWeight,
    float *dBias, int64_t batch, int64_t channels, int64_t space,
    float *workspace);

} // namespace kdrt::cudnn

#endif // KDRT_CUDNN_KERNELS_H
