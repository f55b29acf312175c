//===- Losses.cpp - fused logit and regression losses ---------------------===//
//
// Validation as the reference does it (labels are read back to the host and
// checked there, so a bad label is an error, never an out-of-range read on
// the device); then one kernel writes per-row terms and gradients, and a
// deterministic single-block sum forms the loss.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/FeatureLosses.h"
#include "kdrt/reference/LogitLosses.h"

#include <vector>

namespace kdrt::cudnn {

using reference::checkShape;
using reference::shapeError;

namespace {

Status checkOptional(const char *op, const char *what, const Tensor *t,
                     const Shape &expected) {
  return t ? checkShape(op, what, t->shape(), expected) : Status::success();
}

} // namespace

/// Copies labels to the host and checks them with the reference's rules.
static Status checkLabels(cudaStream_t stream, const char *op,
                          const Tensor &labels, int64_t batch,
                          int64_t classes) {
  KDRT_RETURN_IF_ERROR(checkShape(op, "labels", labels.shape(), Shape{batch}));
  std::vector<float> host(static_cast<size_t>(batch));
  if (batch) {
    KDRT_CUDA(cudaMemcpyAsync(host.data(), labels.data(), labels.sizeInBytes(),
                              cudaMemcpyDeviceToHost, stream));
    KDRT_CUDA(cudaStreamSynchronize(stream));
  }
  std::vector<int64_t> parsed;
  return reference::detail::readLabels<float>(
      op, reference::TensorRef<const float>(host.data(), labels.shape()),
      batch, classes, parsed);
}

Status CudnnBackendImpl::crossEntropyLoss(const CrossEntropyDesc &desc,
                                          const Tensor &logits,
                                          const Tensor &targets, Tensor &loss,
                                          Tensor *gradLogits) {
  const char *op = "cross_entropy_loss";
  KDRT_RETURN_IF_ERROR(reference::detail::logitsCheck(op, logits.shape()));
  int64_t batch = logits.dim(0), classes = logits.dim(1);
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape(), Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradLogits", gradLogits, logits.shape()));
  if (!(desc.labelSmoothing >= 0 && desc.labelSmoothing <= 1))
    return shapeError(op, "label smoothing must lie in [0, 1]");
  if (desc.softTargets)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "targets", targets.shape(), logits.shape()));
  else
    KDRT_RETURN_IF_ERROR(checkLabels(stream(), op, targets, batch, classes));
  DeviceBuffer terms;
  KDRT_RETURN_IF_ERROR(scratch(batch, terms));
  KDRT_LAUNCH(launchCrossEntropy(stream(), logits.data(), targets.data(),
                                 desc.softTargets, float(desc.labelSmoothing),
                                 float(desc.gradScale), batch, classes,
                                 terms.data(), dataOf(gradLogits)));
  KDRT_LAUNCH(launchSum(stream(), terms.data(), batch, 1.0f / float(batch),
                        loss.data()));
  return Status::success();
}

Status CudnnBackendImpl::klDivLoss(const KlDivDesc &desc,
                                   const Tensor &student,
                                   const Tensor &teacher, Tensor &loss,
                                   Tensor *gradStudent, Tensor *gradTeacher) {
  const char *op = "kl_div_loss";
  KDRT_RETURN_IF_ERROR(reference::detail::logitsCheck(op, student.shape()));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "teacher", teacher.shape(), student.shape()));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape(), Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, student.shape()));
  if (!(desc.temperature > 0))
    return shapeError(op, "temperature must be positive");
  int64_t batch = student.dim(0), classes = student.dim(1);
  float temperature = float(desc.temperature);
  float divisor = desc.reduction == Reduction::BatchMean ? float(batch)
                  : desc.reduction == Reduction::Mean
                      ? float(batch * classes)
                      : 1.0f;
  float factor =
      (desc.scaleByTemperatureSquared ? temperature * temperature : 1.0f) /
      divisor;
  float gradFactor = float(desc.gradScale) * factor / temperature;
  DeviceBuffer terms;
  KDRT_RETURN_IF_ERROR(scratch(batch, terms));
  KDRT_LAUNCH(launchKlDiv(stream(), student.data(), teacher.data(), batch,
                          classes, temperature, gradFactor, terms.data(),
                          dataOf(gradStudent), dataOf(gradTeacher)));
  KDRT_LAUNCH(launchSum(stream(), terms.data(), batch, factor, loss.data()));
  return Status::success();
}

Status CudnnBackendImpl::dkdLoss(const DkdDesc &desc, const Tensor &student,
                                 const Tensor &teacher, const Tensor &labels,
                                 Tensor &loss, Tensor *gradStudent) {
  const char *op = "dkd_loss";
  KDRT_RETURN_IF_ERROR(reference::detail::logitsCheck(op, student.shape()));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "teacher", teacher.shape(), student.shape()));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape(), Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape()));
  if (!(desc.temperature > 0))
    return shapeError(op, "temperature must be positive");
  int64_t batch = student.dim(0), classes = student.dim(1);
  if (classes < 2)
    return shapeError(op, "needs at least two classes");
  KDRT_RETURN_IF_ERROR(checkLabels(stream(), op, labels, batch, classes));
  float temperature = float(desc.temperature);
  DeviceBuffer terms;
  KDRT_RETURN_IF_ERROR(scratch(batch, terms));
  KDRT_LAUNCH(launchDkd(stream(), student.data(), teacher.data(),
                        labels.data(), batch, classes, temperature,
                        float(desc.alpha), float(desc.beta),
                        float(desc.gradScale), terms.data(),
                        dataOf(gradStudent)));
  KDRT_LAUNCH(launchSum(stream(), terms.data(), batch,
                        temperature * temperature / float(batch),
                        loss.data()));
  return Status::success();
}

Status CudnnBackendImpl::regressionLoss(const RegressionLossDesc &desc,
                                        const Tensor &input,
                                        const Tensor &target, Tensor &loss,
                                        Tensor *gradInput,
                                        Tensor *gradTarget) {
  const char *op = "regression_loss";
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "target", target.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape(), Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradInput", gradInput, input.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTarget", gradTarget, input.shape()));
  if (desc.kind == RegressionKind::SmoothL1 && !(desc.beta > 0))
    return shapeError(op, "smooth-L1 beta must be positive");
  int64_t count = input.numElements();
  if (count == 0)
    return shapeError(op, "inputs are empty");
  int kind = desc.kind == RegressionKind::Mse  ? kMse
             : desc.kind == RegressionKind::L1 ? kL1
                                               : kSmoothL1;
  DeviceBuffer terms;
  KDRT_RETURN_IF_ERROR(scratch(count, terms));
  KDRT_LAUNCH(launchRegression(stream(), kind, float(desc.beta), input.data(),
                               target.data(), count, float(desc.gradScale),
                               terms.data(), dataOf(gradInput),
                               dataOf(gradTarget)));
  KDRT_LAUNCH(launchSum(stream(), terms.data(), count, 1.0f / float(count),
                        loss.data()));
  return Status::success();
}

Status CudnnBackendImpl::cosineLoss(const CosineLossDesc &desc,
                                    const Tensor &lhs, const Tensor &rhs,
                                    Tensor &loss, Tensor *gradLhs,
                                    Tensor *gradRhs) {
  const char *op = "cosine_loss";
  KDRT_RETURN_IF_ERROR(checkShape(op, "rhs", rhs.shape(), lhs.shape()));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape(), Shape{}));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradLhs", gradLhs, lhs.shape()));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradRhs", gradRhs, lhs.shape()));
  if (lhs.rank() < 1 || lhs.dim(0) < 1)
    return shapeError(op, "inputs need a batch dimension");
  int64_t batch = lhs.dim(0), length = lhs.numElements() / batch;
  DeviceBuffer terms;
  KDRT_RETURN_IF_ERROR(scratch(batch, terms));
  KDRT_LAUNCH(launchCosine(stream(), lhs.data(), rhs.data(), batch, length,
                           float(desc.eps), float(desc.gradScale),
                           terms.data(), dataOf(gradLhs), dataOf(gradRhs)));
  KDRT_LAUNCH(launchSum(stream(), terms.data(), batch, 1.0f / float(batch),
                        loss.data()));
  return Status::success();
}

Status CudnnBackendImpl::attentionTransferLoss(
    const AttentionTransferDesc &desc, const Tensor &student,
    const Tensor &teacher, Tensor &loss, Tensor *gradStudent,
    Tensor *gradTeacher) {
  const char *op = "attention_transfer_loss";
  KDRT_RETURN_IF_ERROR(
      reference::checkRank(op, "student", student.shape(), 4));
  KDRT_RETURN_IF_ERROR(
      reference::checkRank(op, "teacher", teacher.shape(), 4));
  if (student.dim(0) != teacher.dim(0) || student.dim(2) != teacher.dim(2) ||
      student.dim(3) != teacher.dim(3))
    return shapeError(op, "student " + student.shape().toString() +
                              " and teacher " + teacher.shape().toString() +
                              " differ in batch or spatial size");
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape(), Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, teacher.shape()));
  if (!(desc.p > 0))
    return shapeError(op, "p must be positive");
  int64_t batch = student.dim(0), space = student.dim(2) * student.dim(3);
  DeviceBuffer workspace, terms;
  KDRT_RETURN_IF_ERROR(
      scratch(attentionTransferWorkspace(batch, space), workspace));
  KDRT_RETURN_IF_ERROR(scratch(batch * space, terms));
  KDRT_LAUNCH(launchAttentionTransfer(
      stream(), student.data(), student.dim(1), teacher.data(),
      teacher.dim(1), batch, space, float(desc.p), desc.eps,
      float(desc.gradScale), workspace.data(), terms.data(),
      dataOf(gradStudent), dataOf(gradTeacher)));
  KDRT_LAUNCH(launchSum(stream(), terms.data(), batch * space,
                        1.0f / float(batch * space), loss.data()));
  return Status::success();
}

Status CudnnBackendImpl::rkdDistanceLoss(const RkdDesc &desc,
                                         const Tensor &student,
                                         const Tensor &teacher, Tensor &loss,
                                         Tensor *gradStudent,
                                         Tensor *gradTeacher) {
  const char *op = "rkd_distance_loss";
  KDRT_RETURN_IF_ERROR(reference::detail::rkdCheck(
      op, student.shape(), teacher.shape(), loss.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, teacher.shape()));
  int64_t batch = student.dim(0);
  DeviceBuffer workspace;
  KDRT_RETURN_IF_ERROR(scratch(rkdDistanceWorkspace(batch), workspace));
  KDRT_LAUNCH(launchRkdDistance(stream(), student.data(), student.dim(1),
                                teacher.data(), teacher.dim(1), batch,
                                float(desc.gradScale), workspace.data(),
                                loss.data(), dataOf(gradStudent),
                                dataOf(gradTeacher)));
  return Status::success();
}

Status CudnnBackendImpl::rkdAngleLoss(const RkdDesc &desc,
                                      const Tensor &student,
                                      const Tensor &teacher, Tensor &loss,
                                      Tensor *gradStudent,
                                      Tensor *gradTeacher) {
  const char *op = "rkd_angle_loss";
  KDRT_RETURN_IF_ERROR(reference::detail::rkdCheck(
      op, student.shape(), teacher.shape(), loss.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape()));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, teacher.shape()));
  int64_t batch = student.dim(0);
  DeviceBuffer workspace;
  KDRT_RETURN_IF_ERROR(scratch(
      rkdAngleWorkspace(batch, student.dim(1), teacher.dim(1)), workspace));
  KDRT_LAUNCH(launchRkdAngle(stream(), student.data(), student.dim(1),
                             teacher.data(), teacher.dim(1), batch,
                             float(desc.gradScale), workspace.data(),
                             loss.data(), dataOf(gradStudent),
                             dataOf(gradTeacher)));
  return Status::success();
}

} // namespace kdrt::cudnn
