//===- FeatureLosses.h - Reference feature and relation losses --*- C++ -*-===//
//
// Regression (MSE, L1, smooth-L1), cosine, attention transfer and RKD.
// Each returns its value and writes gradScale * d(value)/d(input) where a
// gradient is given.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_FEATURELOSSES_H
#define KDRT_REFERENCE_FEATURELOSSES_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/L2Normalize.h"

#include <cmath>
#include <vector>

namespace kdrt::reference {

namespace detail {
/// Smooth-L1 with threshold beta and its derivative.
template <typename T> T smoothL1(T d, T beta) {
  T a = std::abs(d);
  return a < beta ? T(0.5) * d * d / beta : a - T(0.5) * beta;
}
template <typename T> T smoothL1Slope(T d, T beta) {
  if (std::abs(d) < beta)
    return d / beta;
  return d > 0 ? T(1) : T(-1);
}
template <typename T> T sign(T x) {
  return x > 0 ? T(1) : x < 0 ? T(-1) : T(0);
}
} // namespace detail

template <typename T>
Status regressionLoss(const RegressionLossDesc &desc, TensorRef<const T> input,
                      TensorRef<const T> target, TensorRef<T> loss,
                      TensorRef<T> gradInput, TensorRef<T> gradTarget) {
  const char *op = "regression_loss";
  KDRT_RETURN_IF_ERROR(checkShape(op, "target", target.shape, input.shape));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape, Shape{}));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, input.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTarget", gradTarget, input.shape));
  if (desc.kind == RegressionKind::SmoothL1 && !(desc.beta > 0))
    return shapeError(op, "smooth-L1 beta must be positive");
  int64_t count = input.numElements();
  if (count == 0)
    return shapeError(op, "inputs are empty");
  T beta = T(desc.beta), total = 0;
  for (int64_t i = 0; i < count; ++i) {
    T d = input[i] - target[i], value = 0, slope = 0;
    switch (desc.kind) {
    case RegressionKind::Mse:
      value = d * d;
      slope = T(2) * d;
      break;
    case RegressionKind::L1:
      value = std::abs(d);
      slope = detail::sign(d);
      break;
    case RegressionKind::SmoothL1:
      value = detail::smoothL1(d, beta);
      slope = detail::smoothL1Slope(d, beta);
      break;
    }
    total += value;
    T grad = T(desc.gradScale) * slope / T(count);
    if (gradInput.present())
      gradInput[i] = grad;
    if (gradTarget.present())
      gradTarget[i] = -grad;
  }
  loss[0] = total / T(count);
  return Status::success();
}

template <typename T>
Status cosineLoss(const CosineLossDesc &desc, TensorRef<const T> lhs,
                  TensorRef<const T> rhs, TensorRef<T> loss,
                  TensorRef<T> gradLhs, TensorRef<T> gradRhs) {
  const char *op = "cosine_loss";
  KDRT_RETURN_IF_ERROR(checkShape(op, "rhs", rhs.shape, lhs.shape));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape, Shape{}));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradLhs", gradLhs, lhs.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradRhs", gradRhs, lhs.shape));
  if (lhs.rank() < 1 || lhs.dim(0) < 1)
    return shapeError(op, "inputs need a batch dimension");
  int64_t batch = lhs.dim(0), length = lhs.numElements() / batch;
  T total = 0, eps = T(desc.eps);
  for (int64_t n = 0; n < batch; ++n) {
    const T *a = lhs.data + n * length, *b = rhs.data + n * length;
    T dot = 0, aa = 0, bb = 0;
    for (int64_t k = 0; k < length; ++k) {
      dot += a[k] * b[k];
      aa += a[k] * a[k];
      bb += b[k] * b[k];
    }
    T rawA = std::sqrt(aa), rawB = std::sqrt(bb);
    T normA = std::max(rawA, eps), normB = std::max(rawB, eps);
    T cosine = dot / (normA * normB);
    total += T(1) - cosine;
    T scale = -T(desc.gradScale) / T(batch);
    // A clamped norm is a constant: its projection term vanishes.
    for (int64_t k = 0; k < length; ++k) {
      if (gradLhs.present())
        gradLhs[n * length + k] =
            scale * (b[k] / (normA * normB) -
                     (rawA > eps ? cosine * a[k] / (normA * normA) : T(0)));
      if (gradRhs.present())
        gradRhs[n * length + k] =
            scale * (a[k] / (normA * normB) -
                     (rawB > eps ? cosine * b[k] / (normB * normB) : T(0)));
    }
  }
  loss[0] = total / T(batch);
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Attention transfer
//===----------------------------------------------------------------------===//

namespace detail {
/// Q = normalize(mean_c |A_c|^p) of sample n; also returns the
/// unnormalized map for the backward.
template <typename T>
void attentionMap(TensorRef<const T> a, int64_t n, T p, double eps,
                  std::vector<T> &map, std::vector<T> &q) {
  int64_t channels = a.dim(1), space = a.dim(2) * a.dim(3);
  map.assign(space, T(0));
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < space; ++j)
      map[j] += std::pow(std::abs(a[(n * channels + c) * space + j]), p) /
                T(channels);
  q.resize(space);
  l2NormalizeRow(map.data(), q.data(), space, eps);
}

/// Chains dQ back to the activations of sample n.
template <typename T>
void attentionMapBackward(TensorRef<const T> a, int64_t n, T p, double eps,
                          const std::vector<T> &map,
                          const std::vector<T> &gradQ, TensorRef<T> gradA) {
  int64_t channels = a.dim(1), space = a.dim(2) * a.dim(3);
  std::vector<T> gradMap(space);
  l2NormalizeRowBackward(map.data(), gradQ.data(), gradMap.data(), space, eps);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < space; ++j) {
      int64_t i = (n * channels + c) * space + j;
      T x = a[i];
      gradA[i] = gradMap[j] * p * std::pow(std::abs(x), p - T(1)) * sign(x) /
                 T(channels);
    }
}
} // namespace detail

template <typename T>
Status attentionTransferLoss(const AttentionTransferDesc &desc,
                             TensorRef<const T> student,
                             TensorRef<const T> teacher, TensorRef<T> loss,
                             TensorRef<T> gradStudent,
                             TensorRef<T> gradTeacher) {
  const char *op = "attention_transfer_loss";
  KDRT_RETURN_IF_ERROR(checkRank(op, "student", student.shape, 4));
  KDRT_RETURN_IF_ERROR(checkRank(op, "teacher", teacher.shape, 4));
  if (student.dim(0) != teacher.dim(0) || student.dim(2) != teacher.dim(2) ||
      student.dim(3) != teacher.dim(3))
    return shapeError(op, "student " + student.shape.toString() +
                              " and teacher " + teacher.shape.toString() +
                              " differ in batch or spatial size");
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape, Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, teacher.shape));
  if (!(desc.p > 0))
    return shapeError(op, "p must be positive");
  int64_t batch = student.dim(0), space = student.dim(2) * student.dim(3);
  T p = T(desc.p), total = 0;
  T gradFactor = T(2) * T(desc.gradScale) / T(batch * space);
  std::vector<T> mapS, qS, mapT, qT, gradQ(space);
  for (int64_t n = 0; n < batch; ++n) {
    detail::attentionMap(student, n, p, desc.eps, mapS, qS);
    detail::attentionMap(teacher, n, p, desc.eps, mapT, qT);
    for (int64_t j = 0; j < space; ++j) {
      T d = qS[j] - qT[j];
      total += d * d;
      gradQ[j] = gradFactor * d;
    }
    if (gradStudent.present())
      detail::attentionMapBackward(student, n, p, desc.eps, mapS, gradQ,
                                   gradStudent);
    if (gradTeacher.present()) {
      for (T &g : gradQ)
        g = -g;
      detail::attentionMapBackward(teacher, n, p, desc.eps, mapT, gradQ,
                                   gradTeacher);
    }
  }
  loss[0] = total / T(batch * space);
  return Status::success();
}

//===----------------------------------------------------------------------===//
// RKD
//===----------------------------------------------------------------------===//

namespace detail {
inline Status rkdCheck(const char *op, const Shape &student,
                       const Shape &teacher, const Shape &loss) {
  KDRT_RETURN_IF_ERROR(checkRank(op, "student", student, 2));
  KDRT_RETURN_IF_ERROR(checkRank(op, "teacher", teacher, 2));
  if (student[0] != teacher[0] || student[0] < 2)
    return shapeError(op, "student and teacher need the same batch of at "
                          "least 2, got " + student.toString() + " and " +
                          teacher.toString());
  return checkShape(op, "loss", loss, Shape{});
}

/// Pairwise distances [B, B] of the rows of x.
template <typename T>
std::vector<T> pairwiseDistances(TensorRef<const T> x) {
  int64_t batch = x.dim(0), width = x.dim(1);
  std::vector<T> distances(batch * batch, T(0));
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < batch; ++j) {
      T sum = 0;
      for (int64_t d = 0; d < width; ++d) {
        T diff = x[i * width + d] - x[j * width + d];
        sum += diff * diff;
      }
      distances[i * batch + j] = std::sqrt(sum);
    }
  return distances;
}

/// Mean over the nonzero distances (1 when there are none, so that
/// identical embeddings give a zero potential instead of a division by 0).
template <typename T>
void meanNonzero(const std::vector<T> &distances, T &mean, int64_t &count) {
  T sum = 0;
  count = 0;
  for (T d : distances)
    if (d > T(0)) {
      sum += d;
      ++count;
    }
  mean = count ? sum / T(count) : T(1);
}
} // namespace detail

namespace detail {
/// Chains g = d loss / d psi_D(x) (psi_D = distances / their nonzero mean)
/// back to the rows of x: the same rule for either side, whose slope
/// enters with the opposite sign.
template <typename T>
void rkdDistanceBackward(TensorRef<const T> x, const std::vector<T> &dist,
                         T mean, int64_t count, const std::vector<T> &g,
                         T gradScale, TensorRef<T> grad) {
  int64_t batch = x.dim(0), width = x.dim(1);
  T weighted = 0; // sum g_ij * D_ij, for the gradient through the mean.
  for (size_t k = 0; k < g.size(); ++k)
    weighted += g[k] * dist[k];
  grad.fill(T(0));
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < batch; ++j) {
      T d = dist[i * batch + j];
      if (!(d > T(0)))
        continue;
      T gradDist = g[i * batch + j] / mean - weighted / (mean * mean * T(count));
      T scale = gradScale * gradDist / d;
      for (int64_t c = 0; c < width; ++c) {
        T diff = x[i * width + c] - x[j * width + c];
        grad[i * width + c] += scale * diff;
        grad[j * width + c] -= scale * diff;
      }
    }
}
} // namespace detail

/// Both sides are differentiable: the teacher's gradient is wanted when
/// its side is trainable too (a fusion module, an adapter, another tap of
/// the student).
template <typename T>
Status rkdDistanceLoss(const RkdDesc &desc, TensorRef<const T> student,
                       TensorRef<const T> teacher, TensorRef<T> loss,
                       TensorRef<T> gradStudent, TensorRef<T> gradTeacher) {
  const char *op = "rkd_distance_loss";
  KDRT_RETURN_IF_ERROR(
      detail::rkdCheck(op, student.shape, teacher.shape, loss.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, teacher.shape));
  int64_t batch = student.dim(0);
  std::vector<T> distS = detail::pairwiseDistances(student);
  std::vector<T> distT = detail::pairwiseDistances(teacher);
  T meanS, meanT;
  int64_t countS, countT;
  detail::meanNonzero(distS, meanS, countS);
  detail::meanNonzero(distT, meanT, countT);
  int64_t pairs = batch * batch;
  T total = 0;
  // gS = d loss / d (normalized student distance); the teacher's is -gS.
  std::vector<T> gS(pairs), gT(pairs);
  for (int64_t k = 0; k < pairs; ++k) {
    T diff = distS[k] / meanS - distT[k] / meanT;
    total += detail::smoothL1(diff, T(1));
    gS[k] = detail::smoothL1Slope(diff, T(1)) / T(pairs);
    gT[k] = -gS[k];
  }
  loss[0] = total / T(pairs);
  if (gradStudent.present())
    detail::rkdDistanceBackward(student, distS, meanS, countS, gS,
                                T(desc.gradScale), gradStudent);
  if (gradTeacher.present())
    detail::rkdDistanceBackward(teacher, distT, meanT, countT, gT,
                                T(desc.gradScale), gradTeacher);
  return Status::success();
}

namespace detail {
/// Unit difference vectors u[i][j] = normalize(x_j - x_i) ([B, B, D]); a
/// zero difference stays zero, as torch.nn.functional.normalize does.
template <typename T>
void unitDifferences(TensorRef<const T> x, std::vector<T> &units,
                     std::vector<T> &norms) {
  int64_t batch = x.dim(0), width = x.dim(1);
  units.assign(batch * batch * width, T(0));
  norms.assign(batch * batch, T(0));
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < batch; ++j) {
      T *u = &units[(i * batch + j) * width];
      T sum = 0;
      for (int64_t d = 0; d < width; ++d) {
        u[d] = x[j * width + d] - x[i * width + d];
        sum += u[d] * u[d];
      }
      T norm = std::sqrt(sum);
      norms[i * batch + j] = norm;
      if (norm > T(0))
        for (int64_t d = 0; d < width; ++d)
          u[d] /= norm;
    }
}
} // namespace detail

namespace detail {
/// Chains gradUnits = d loss / d u (u the unit differences of x) back to
/// the rows of x through the normalization.
template <typename T>
void rkdAngleBackward(int64_t batch, int64_t width, const std::vector<T> &units,
                      const std::vector<T> &norms,
                      const std::vector<T> &gradUnits, T gradScale,
                      TensorRef<T> grad) {
  grad.fill(T(0));
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < batch; ++j) {
      T norm = norms[i * batch + j];
      if (!(norm > T(0)))
        continue; // a zero difference has a zero unit vector and angle
      const T *u = &units[(i * batch + j) * width];
      const T *gu = &gradUnits[(i * batch + j) * width];
      T dot = 0;
      for (int64_t d = 0; d < width; ++d)
        dot += u[d] * gu[d];
      for (int64_t d = 0; d < width; ++d) {
        T gradDiff = gradScale * (gu[d] - u[d] * dot) / norm;
        grad[j * width + d] += gradDiff;
        grad[i * width + d] -= gradDiff;
      }
    }
}
} // namespace detail

/// Both sides are differentiable, as for rkdDistanceLoss.
template <typename T>
Status rkdAngleLoss(const RkdDesc &desc, TensorRef<const T> student,
                    TensorRef<const T> teacher, TensorRef<T> loss,
                    TensorRef<T> gradStudent, TensorRef<T> gradTeacher) {
  const char *op = "rkd_angle_loss";
  KDRT_RETURN_IF_ERROR(
      detail::rkdCheck(op, student.shape, teacher.shape, loss.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, teacher.shape));
  int64_t batch = student.dim(0), width = student.dim(1),
          teacherWidth = teacher.dim(1);
  std::vector<T> unitsS, normsS, unitsT, normsT;
  detail::unitDifferences(student, unitsS, normsS);
  detail::unitDifferences(teacher, unitsT, normsT);
  int64_t entries = batch * batch * batch;
  // d loss / d u for each side, accumulated over all angles; the teacher's
  // angle enters with the opposite sign.
  std::vector<T> gradUnitsS(unitsS.size(), T(0)),
      gradUnitsT(gradTeacher.present() ? unitsT.size() : 0, T(0));
  T total = 0;
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < batch; ++j)
      for (int64_t k = 0; k < batch; ++k) {
        const T *uij = &unitsS[(i * batch + j) * width];
        const T *uik = &unitsS[(i * batch + k) * width];
        const T *vij = &unitsT[(i * batch + j) * teacherWidth];
        const T *vik = &unitsT[(i * batch + k) * teacherWidth];
        T angleS = 0, angleT = 0;
        for (int64_t d = 0; d < width; ++d)
          angleS += uij[d] * uik[d];
        for (int64_t d = 0; d < teacherWidth; ++d)
          angleT += vij[d] * vik[d];
        total += detail::smoothL1(angleS - angleT, T(1));
        T g = detail::smoothL1Slope(angleS - angleT, T(1)) / T(entries);
        T *gij = &gradUnitsS[(i * batch + j) * width];
        T *gik = &gradUnitsS[(i * batch + k) * width];
        for (int64_t d = 0; d < width; ++d) {
          gij[d] += g * uik[d];
          gik[d] += g * uij[d];
        }
        if (!gradTeacher.present())
          continue;
        T *hij = &gradUnitsT[(i * batch + j) * teacherWidth];
        T *hik = &gradUnitsT[(i * batch + k) * teacherWidth];
        for (int64_t d = 0; d < teacherWidth; ++d) {
          hij[d] -= g * vik[d];
          hik[d] -= g * vij[d];
        }
      }
  loss[0] = total / T(entries);
  if (gradStudent.present())
    detail::rkdAngleBackward(batch, width, unitsS, normsS, gradUnitsS,
                             T(desc.gradScale), gradStudent);
  if (gradTeacher.present())
    detail::rkdAngleBackward(batch, teacherWidth, unitsT, normsT, gradUnitsT,
                             T(desc.gradScale), gradTeacher);
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_FEATURELOSSES_H
