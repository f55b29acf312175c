//===- LossKernels.cu - Fused logit and regression losses -----------------===//
//
// One thread per row of logits (per element for regression): each thread
// runs the reference loop body of reference/LogitLosses.h and
// FeatureLosses.h for its row, writes the row's loss term and, in the same
// pass, its gradients. Rows are short (classes), so a serial loop per
// thread keeps the code a line-by-line image of the oracle.
//
//===----------------------------------------------------------------------===//

#include "kernels/DeviceMath.cuh"

namespace kdrt::cudnn {
namespace {

__global__ void crossEntropyKernel(const float *logits, const float *targets,
                                   bool softTargets, float smoothing,
                                   float gradScale, int64_t batch,
                                   int64_t classes, float *terms,
                                   float *gradLogits) {
  KDRT_GRID_STRIDE(b, batch) {
    const float *x = logits + b * classes;
    float logSum = logSumExp(x, classes, 1.0f);
    int64_t label = softTargets ? -1 : int64_t(targets[b]);
    auto targetOf = [&](int64_t k) {
      float hard = softTargets ? targets[b * classes + k]
                               : (label == k ? 1.0f : 0.0f);
      return (1.0f - smoothing) * hard + smoothing / float(classes);
    };
    float total = 0.0f, targetSum = 0.0f;
    for (int64_t k = 0; k < classes; ++k) {
      float target = targetOf(k);
      targetSum += target;
      total -= target * (x[k] - logSum);
    }
    terms[b] = total;
    if (gradLogits)
      for (int64_t k = 0; k < classes; ++k)
        gradLogits[b * classes + k] =
            gradScale * (expf(x[k] - logSum) * targetSum - targetOf(k)) /
            float(batch);
  }
}

__global__ void klDivKernel(const float *student, const float *teacher,
                            int64_t batch, int64_t classes, float temperature,
                            float gradFactor, float *terms,
                            float *gradStudent, float *gradTeacher) {
  KDRT_GRID_STRIDE(b, batch) {
    const float *s = student + b * classes, *t = teacher + b * classes;
    float logSumS = logSumExp(s, classes, temperature);
    float logSumT = logSumExp(t, classes, temperature);
    float total = 0.0f, expectedGap = 0.0f;
    for (int64_t k = 0; k < classes; ++k) {
      float logS = s[k] / temperature - logSumS;
      float logT = t[k] / temperature - logSumT;
      float pt = expf(logT);
      total += klTerm(pt, logT, logS);
      expectedGap += pt * (logT - logS);
    }
    terms[b] = total;
    for (int64_t k = 0; k < classes; ++k) {
      float logS = s[k] / temperature - logSumS;
      float logT = t[k] / temperature - logSumT;
      float ps = expf(logS), pt = expf(logT);
      if (gradStudent)
        gradStudent[b * classes + k] = gradFactor * (ps - pt);
      if (gradTeacher)
        gradTeacher[b * classes + k] =
            gradFactor * pt * (logT - logS - expectedGap);
    }
  }
}

__global__ void dkdKernel(const float *student, const float *teacher,
                          const float *labels, int64_t batch, int64_t classes,
                          float temperature, float alpha, float beta,
                          float gradScale, float *terms, float *gradStudent) {
  KDRT_GRID_STRIDE(b, batch) {
    const float *s = student + b * classes, *t = teacher + b * classes;
    int64_t gt = int64_t(labels[b]);
    float logSumS = logSumExp(s, classes, temperature);
    float logSumT = logSumExp(t, classes, temperature);
    float psGt = expf(s[gt] / temperature - logSumS);
    float ptGt = expf(t[gt] / temperature - logSumT);
    float psRest = 0.0f, ptRest = 0.0f;
    for (int64_t k = 0; k < classes; ++k)
      if (k != gt) {
        psRest += expf(s[k] / temperature - logSumS);
        ptRest += expf(t[k] / temperature - logSumT);
      }
    float tckd = klTerm(ptGt, logf(ptGt), logf(psGt)) +
                 klTerm(ptRest, logf(ptRest), logf(psRest));
    // The non-target distributions: softmax over the classes but gt.
    float logSumSRest = logSumExp(s, classes, temperature, gt);
    float logSumTRest = logSumExp(t, classes, temperature, gt);
    float nckd = 0.0f;
    for (int64_t k = 0; k < classes; ++k)
      if (k != gt) {
        float logTRest = t[k] / temperature - logSumTRest;
        float logSRest = s[k] / temperature - logSumSRest;
        nckd += klTerm(expf(logTRest), logTRest, logSRest);
      }
    terms[b] = alpha * tckd + beta * nckd;
    if (!gradStudent)
      continue;
    float factor = temperature * temperature / float(batch);
    float slope = -ptGt / psGt + ptRest / psRest;
    float scale = gradScale * factor / temperature;
    for (int64_t k = 0; k < classes; ++k) {
      float ps = expf(s[k] / temperature - logSumS);
      float gradTckd = slope * psGt * ((k == gt ? 1.0f : 0.0f) - ps);
      float gradNckd = 0.0f;
      if (k != gt)
        gradNckd = expf(s[k] / temperature - logSumSRest) -
                   expf(t[k] / temperature - logSumTRest);
      gradStudent[b * classes + k] =
          scale * (alpha * gradTckd + beta * gradNckd);
    }
  }
}

__global__ void regressionKernel(int kind, float beta, const float *input,
                                 const float *target, int64_t count,
                                 float gradScale, float *terms,
                                 float *gradInput, float *gradTarget) {
  KDRT_GRID_STRIDE(i, count) {
    float d = input[i] - target[i], value = 0.0f, slope = 0.0f;
    switch (kind) {
    case kMse:
      value = d * d;
      slope = 2.0f * d;
      break;
    case kL1:
      value = fabsf(d);
      slope = signOf(d);
      break;
    case kSmoothL1:
      value = smoothL1(d, beta);
      slope = smoothL1Slope(d, beta);
      break;
    }
    terms[i] = value;
    float grad = gradScale * slope / float(count);
    if (gradInput)
      gradInput[i] = grad;
    if (gradTarget)
      gradTarget[i] = -grad;
  }
}

__global__ void cosineKernel(const float *lhs, const float *rhs,
                             int64_t batch, int64_t length, float eps,
                             float gradScale, float *terms, float *gradLhs,
                             float *gradRhs) {
  KDRT_GRID_STRIDE(n, batch) {
    const float *a = lhs + n * length, *b = rhs + n * length;
    float dot = 0.0f, aa = 0.0f, bb = 0.0f;
    for (int64_t k = 0; k < length; ++k) {
      dot += a[k] * b[k];
      aa += a[k] * a[k];
      bb += b[k] * b[k];
    }
    float rawA = sqrtf(aa), rawB = sqrtf(bb);
    float normA = fmaxf(rawA, eps), normB = fmaxf(rawB, eps);
    float cosine = dot / (normA * normB);
    terms[n] = 1.0f - cosine;
    float scale = -gradScale / float(batch);
    // A clamped norm is a constant: its projection term vanishes.
    for (int64_t k = 0; k < length; ++k) {
      if (gradLhs)
        gradLhs[n * length + k] =
            scale * (b[k] / (normA * normB) -
                     (rawA > eps ? cosine * a[k] / (normA * normA) : 0.0f));
      if (gradRhs)
        gradRhs[n * length + k] =
            scale * (a[k] / (normA * normB) -
                     (rawB > eps ? cosine * b[k] / (normB * normB) : 0.0f));
    }
  }
}

} // namespace

cudaError_t launchCrossEntropy(cudaStream_t stream, const float *logits,
                               const float *targets, bool softTargets,
                               float smoothing, float gradScale,
                               int64_t batch, int64_t classes, float *terms,
                               float *gradLogits) {
  crossEntropyKernel<<<blocksFor(batch), kThreads, 0, stream>>>(
      logits, targets, softTargets, smoothing, gradScale, batch, classes,
      terms, gradLogits);
  return cudaGetLastError();
}

cudaError_t launchKlDiv(cudaStream_t stream, const float *student,
                        const float *teacher, int64_t batch, int64_t classes,
                        float temperature, float gradFactor, float *terms,
                        float *gradStudent, float *gradTeacher) {
  klDivKernel<<<blocksFor(batch), kThreads, 0, stream>>>(
      student, teacher, batch, classes, temperature, gradFactor, terms,
      gradStudent, gradTeacher);
  return cudaGetLastError();
}

cudaError_t launchDkd(cudaStream_t stream, const float *student,
                      const float *teacher, const float *labels,
                      int64_t batch, int64_t classes, float temperature,
                      float alpha, float beta, float gradScale, float *terms,
                      float *gradStudent) {
  dkdKernel<<<blocksFor(batch), kThreads, 0, stream>>>(
      student, teacher, labels, batch, classes, temperature, alpha, beta,
      gradScale, terms, gradStudent);
  return cudaGetLastError();
}

cudaError_t launchRegression(cudaStream_t stream, int kind, float beta,
                             const float *input, const float *target,
                             int64_t count, float gradScale, float *terms,
                             float *gradInput, float *gradTarget) {
  regressionKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      kind, beta, input, target, count, gradScale, terms, gradInput,
      gradTarget);
  return cudaGetLastError();
}

cudaError_t launchCosine(cudaStream_t stream, const float *lhs,
                         const float *rhs, int64_t batch, int64_t length,
                         float eps, float gradScale, float *terms,
                         float *gradLhs, float *gradRhs) {
  cosineKernel<<<blocksFor(batch), kThreads, 0, stream>>>(
      lhs, rhs, batch, length, eps, gradScale, terms, gradLhs, gradRhs);
  return cudaGetLastError();
}

} // namespace kdrt::cudnn
