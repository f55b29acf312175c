//===- FeatureLossKernels.cu - Attention transfer and RKD -----------------===//
//
// Each loss is a short pipeline of small kernels over a caller-provided
// workspace, one kernel per loop nest of reference/FeatureLosses.h. Where
// the reference scatters into a gradient (g_i += ..., g_j -= ...), the
// kernels gather the same terms per output element instead, so no atomics
// are needed.
//
//===----------------------------------------------------------------------===//

#include "kernels/DeviceMath.cuh"

#include <algorithm>

namespace kdrt::cudnn {
namespace {

//===- Attention transfer -------------------------------------------------===//

__global__ void attentionMapKernel(const float *a, int64_t channels,
                                   int64_t batch, int64_t space, float p,
                                   float *map) {
  KDRT_GRID_STRIDE(i, batch * space) {
    int64_t n = i / space, j = i % space;
    float sum = 0.0f;
    for (int64_t c = 0; c < channels; ++c)
      sum += powf(fabsf(a[(n * channels + c) * space + j]), p) /
             float(channels);
    map[i] = sum;
  }
}

__global__ void rowNormKernel(const float *map, int64_t batch, int64_t space,
                              float *norm) {
  KDRT_GRID_STRIDE(n, batch) {
    float squares = 0.0f;
    for (int64_t j = 0; j < space; ++j)
      squares += map[n * space + j] * map[n * space + j];
    norm[n] = sqrtf(squares);
  }
}

__global__ void attentionDiffKernel(const float *mapS, const float *normS,
                                    const float *mapT, const float *normT,
                                    int64_t batch, int64_t space, float eps,
                                    float gradFactor, float *terms,
                                    float *gradQ) {
  KDRT_GRID_STRIDE(i, batch * space) {
    int64_t n = i / space;
    float d = mapS[i] / fmaxf(normS[n], eps) - mapT[i] / fmaxf(normT[n], eps);
    terms[i] = d * d;
    gradQ[i] = gradFactor * d;
  }
}

/// dot[n] = sum_j dq_j * map_j / norm (0 where the norm is clamped), with
/// dq = sign * gradQ.
__global__ void attentionDotKernel(const float *map, const float *rawNorm,
                                   const float *gradQ, float sign,
                                   int64_t batch, int64_t space, float eps,
                                   float *dot) {
  KDRT_GRID_STRIDE(n, batch) {
    float norm = fmaxf(rawNorm[n], eps), sum = 0.0f;
    if (rawNorm[n] > eps)
      for (int64_t j = 0; j < space; ++j)
        sum += sign * gradQ[n * space + j] * map[n * space + j] / norm;
    dot[n] = sum;
  }
}

__global__ void attentionGradKernel(const float *a, int64_t channels,
                                    const float *map, const float *rawNorm,
                                    const float *dot, const float *gradQ,
                                    float sign, int64_t batch, int64_t space,
                                    float p, float eps, float *gradA) {
  KDRT_GRID_STRIDE(i, batch * channels * space) {
    int64_t j = i % space, n = i / (channels * space);
    float norm = fmaxf(rawNorm[n], eps);
    float m = map[n * space + j];
    float gradMap =
        (sign * gradQ[n * space + j] - (m / norm) * dot[n]) / norm;
    float x = a[i];
    gradA[i] = gradMap * p * powf(fabsf(x), p - 1.0f) * signOf(x) /
               float(channels);
  }
}

//===- RKD ----------------------------------------------------------------===//

__global__ void pairwiseDistanceKernel(const float *x, int64_t batch,
                                       int64_t width, float *distances) {
  KDRT_GRID_STRIDE(pair, batch * batch) {
    int64_t i = pair / batch, j = pair % batch;
    float sum = 0.0f;
    for (int64_t d = 0; d < width; ++d) {
      float diff = x[i * width + d] - x[j * width + d];
      sum += diff * diff;
    }
    distances[pair] = sqrtf(sum);
  }
}

__device__ void meanNonzero(const float *distances, int64_t count,
                            float &mean, int64_t &nonzero) {
  float sum = 0.0f;
  nonzero = 0;
  for (int64_t k = 0; k < count; ++k)
    if (distances[k] > 0.0f) {
      sum += distances[k];
      ++nonzero;
    }
  mean = nonzero ? sum / float(nonzero) : 1.0f;
}

/// One thread: the scalar statistics, the loss and the per-pair slope g
/// (the student's; the teacher's is -g). stats = {meanS, weightedS,
/// countS, meanT, weightedT, countT}, weighted = sum_k g_k dist_k.
__global__ void rkdDistanceStatsKernel(const float *distS, const float *distT,
                                       int64_t batch, float *g, float *stats,
                                       float *loss) {
  int64_t pairs = batch * batch, countS, countT;
  float meanS, meanT;
  meanNonzero(distS, pairs, meanS, countS);
  meanNonzero(distT, pairs, meanT, countT);
  float total = 0.0f, weightedS = 0.0f, weightedT = 0.0f;
  for (int64_t k = 0; k < pairs; ++k) {
    float diff = distS[k] / meanS - distT[k] / meanT;
    total += smoothL1(diff, 1.0f);
    g[k] = smoothL1Slope(diff, 1.0f) / float(pairs);
    weightedS += g[k] * distS[k];
    weightedT += g[k] * distT[k];
  }
  loss[0] = total / float(pairs);
  stats[0] = meanS;
  stats[1] = weightedS;
  stats[2] = float(countS);
  stats[3] = meanT;
  stats[4] = weightedT;
  stats[5] = float(countT);
}

/// `side` is {mean, weighted, count} of the side whose distances `dist`
/// are; `gradScale` carries the side's sign.
__device__ inline float rkdPairScale(const float *dist, const float *g,
                                     const float *side, int64_t pair,
                                     float gradScale) {
  float d = dist[pair];
  if (!(d > 0.0f))
    return 0.0f;
  float mean = side[0], weighted = side[1], count = side[2];
  float gradDist = g[pair] / mean - weighted / (mean * mean * count);
  return gradScale * gradDist / d;
}

/// grad_m = sum_j (s_mj + s_jm) (x_m - x_j).
__global__ void rkdDistanceGradKernel(const float *x, int64_t batch,
                                      int64_t width, const float *dist,
                                      const float *g, const float *side,
                                      float gradScale, float *grad) {
  KDRT_GRID_STRIDE(i, batch * width) {
    int64_t m = i / width, d = i % width;
    float sum = 0.0f;
    for (int64_t j = 0; j < batch; ++j) {
      float scale = rkdPairScale(dist, g, side, m * batch + j, gradScale) +
                    rkdPairScale(dist, g, side, j * batch + m, gradScale);
      sum += scale * (x[m * width + d] - x[j * width + d]);
    }
    grad[i] = sum;
  }
}

/// units[i][j] = normalize(x_j - x_i); a zero difference stays zero.
__global__ void unitDifferenceKernel(const float *x, int64_t batch,
                                     int64_t width, float *units,
                                     float *norms) {
  KDRT_GRID_STRIDE(pair, batch * batch) {
    int64_t i = pair / batch, j = pair % batch;
    float *u = units + pair * width;
    float sum = 0.0f;
    for (int64_t d = 0; d < width; ++d) {
      u[d] = x[j * width + d] - x[i * width + d];
      sum += u[d] * u[d];
    }
    float norm = sqrtf(sum);
    norms[pair] = norm;
    if (norm > 0.0f)
      for (int64_t d = 0; d < width; ++d)
        u[d] /= norm;
  }
}

__global__ void rkdAngleTermsKernel(const float *unitsS, int64_t widthS,
                                    const float *unitsT, int64_t widthT,
                                    int64_t batch, float *terms, float *g) {
  int64_t entries = batch * batch * batch;
  KDRT_GRID_STRIDE(e, entries) {
    int64_t k = e % batch, j = (e / batch) % batch, i = e / (batch * batch);
    const float *uij = unitsS + (i * batch + j) * widthS;
    const float *uik = unitsS + (i * batch + k) * widthS;
    const float *vij = unitsT + (i * batch + j) * widthT;
    const float *vik = unitsT + (i * batch + k) * widthT;
    float angleS = 0.0f, angleT = 0.0f;
    for (int64_t d = 0; d < widthS; ++d)
      angleS += uij[d] * uik[d];
    for (int64_t d = 0; d < widthT; ++d)
      angleT += vij[d] * vik[d];
    terms[e] = smoothL1(angleS - angleT, 1.0f);
    g[e] = smoothL1Slope(angleS - angleT, 1.0f) / float(entries);
  }
}

/// gradUnits[i][m] = sum_k (g[i,m,k] + g[i,k,m]) u[i][k], for either side's
/// unit differences (the teacher's sign is applied with the scale later).
__global__ void rkdGradUnitsKernel(const float *unitsS, int64_t width,
                                   int64_t batch, const float *g,
                                   float *gradUnits) {
  KDRT_GRID_STRIDE(idx, batch * batch * width) {
    int64_t d = idx % width, m = (idx / width) % batch,
            i = idx / (width * batch);
    float sum = 0.0f;
    for (int64_t k = 0; k < batch; ++k)
      sum += (g[(i * batch + m) * batch + k] + g[(i * batch + k) * batch + m]) *
             unitsS[(i * batch + k) * width + d];
    gradUnits[idx] = sum;
  }
}

/// In place: gradUnits[i][j] becomes the gradient of the difference
/// x_j - x_i through the normalization.
__global__ void rkdDifferenceGradKernel(const float *unitsS,
                                        const float *norms, int64_t width,
                                        int64_t batch, float gradScale,
                                        float *gradUnits) {
  KDRT_GRID_STRIDE(pair, batch * batch) {
    const float *u = unitsS + pair * width;
    float *gu = gradUnits + pair * width;
    float norm = norms[pair];
    if (!(norm > 0.0f)) {
      for (int64_t d = 0; d < width; ++d)
        gu[d] = 0.0f; // a zero difference has a zero unit vector and angle
      continue;
    }
    float dot = 0.0f;
    for (int64_t d = 0; d < width; ++d)
      dot += u[d] * gu[d];
    for (int64_t d = 0; d < width; ++d)
      gu[d] = gradScale * (gu[d] - u[d] * dot) / norm;
  }
}

/// grad[m] = sum_i gradDiff[i][m] - sum_j gradDiff[m][j].
__global__ void rkdAngleGradKernel(const float *gradDiff, int64_t width,
                                   int64_t batch, float *grad) {
  KDRT_GRID_STRIDE(idx, batch * width) {
    int64_t m = idx / width, d = idx % width;
    float sum = 0.0f;
    for (int64_t i = 0; i < batch; ++i)
      sum += gradDiff[(i * batch + m) * width + d] -
             gradDiff[(m * batch + i) * width + d];
    grad[idx] = sum;
  }
}

} // namespace

int64_t attentionTransferWorkspace(int64_t batch, int64_t space) {
  // mapS, mapT, gradQ: [B * S] each; normS, normT, dot: [B] each.
  return 3 * batch * space + 3 * batch;
}

cudaError_t launchAttentionTransfer(cudaStream_t stream, const float *student,
                                   int64_t studentChannels,
                                   const float *teacher,
                                   int64_t teacherChannels, int64_t batch,
                                   int64_t space, float p, double eps,
                                   float gradScale, float *workspace,
                                   float *terms, float *gradStudent,
                                   float *gradTeacher) {
  int64_t maps = batch * space;
  float *mapS = workspace, *mapT = mapS + maps, *gradQ = mapT + maps;
  float *normS = gradQ + maps, *normT = normS + batch, *dot = normT + batch;
  float epsF = float(eps);
  float gradFactor = 2.0f * gradScale / float(batch * space);
  unsigned mapBlocks = blocksFor(maps), rowBlocks = blocksFor(batch);
  attentionMapKernel<<<mapBlocks, kThreads, 0, stream>>>(
      student, studentChannels, batch, space, p, mapS);
  attentionMapKernel<<<mapBlocks, kThreads, 0, stream>>>(
      teacher, teacherChannels, batch, space, p, mapT);
  rowNormKernel<<<rowBlocks, kThreads, 0, stream>>>(mapS, batch, space, normS);
  rowNormKernel<<<rowBlocks, kThreads, 0, stream>>>(mapT, batch, space, normT);
  attentionDiffKernel<<<mapBlocks, kThreads, 0, stream>>>(
      mapS, normS, mapT, normT, batch, space, epsF, gradFactor, terms, gradQ);
  struct Side {
    const float *a;
    int64_t channels;
    const float *map, *norm;
    float sign;
    float *grad;
  } sides[2] = {{student, studentChannels, mapS, normS, 1.0f, gradStudent},
                {teacher, teacherChannels, mapT, normT, -1.0f, gradTeacher}};
  for (const Side &side : sides) {
    if (!side.grad)
      continue;
    attentionDotKernel<<<rowBlocks, kThreads, 0, stream>>>(
        side.map, side.norm, gradQ, side.sign, batch, space, epsF, dot);
    int64_t count = batch * side.channels * space;
    attentionGradKernel<<<blocksFor(count), kThreads, 0, stream>>>(
        side.a, side.channels, side.map, side.norm, dot, gradQ, side.sign,
        batch, space, p, epsF, side.grad);
  }
  return cudaGetLastError();
}

int64_t rkdDistanceWorkspace(int64_t batch) {
  return 3 * batch * batch + 6; // distS, distT, g; stats of both sides
}

cudaError_t launchRkdDistance(cudaStream_t stream, const float *student,
                              int64_t studentWidth, const float *teacher,
                              int64_t teacherWidth, int64_t batch,
                              float gradScale, float *workspace, float *loss,
                              float *gradStudent, float *gradTeacher) {
  int64_t pairs = batch * batch;
  float *distS = workspace, *distT = distS + pairs, *g = distT + pairs;
  float *stats = g + pairs;
  pairwiseDistanceKernel<<<blocksFor(pairs), kThreads, 0, stream>>>(
      student, batch, studentWidth, distS);
  pairwiseDistanceKernel<<<blocksFor(pairs), kThreads, 0, stream>>>(
      teacher, batch, teacherWidth, distT);
  rkdDistanceStatsKernel<<<1, 1, 0, stream>>>(distS, distT, batch, g, stats,
                                              loss);
  if (gradStudent)
    rkdDistanceGradKernel<<<blocksFor(batch * studentWidth), kThreads, 0,
                            stream>>>(student, batch, studentWidth, distS, g,
                                      stats, gradScale, gradStudent);
  if (gradTeacher)
    rkdDistanceGradKernel<<<blocksFor(batch * teacherWidth), kThreads, 0,
                            stream>>>(teacher, batch, teacherWidth, distT, g,
                                      stats + 3, -gradScale, gradTeacher);
  return cudaGetLastError();
}

int64_t rkdAngleWorkspace(int64_t batch, int64_t studentWidth,
                          int64_t teacherWidth) {
  int64_t pairs = batch * batch, entries = pairs * batch;
  // unitsS (pairs * Ws), unitsT (pairs * Wt), gradUnits (pairs * the
  // wider, reused by either side), normsS, normsT, terms, g (entries).
  return pairs * (studentWidth + teacherWidth +
                  std::max(studentWidth, teacherWidth)) +
         2 * pairs + 2 * entries;
}

cudaError_t launchRkdAngle(cudaStream_t stream, const float *student,
                           int64_t studentWidth, const float *teacher,
                           int64_t teacherWidth, int64_t batch,
                           float gradScale, float *workspace, float *loss,
                           float *gradStudent, float *gradTeacher) {
  int64_t pairs = batch * batch, entries = pairs * batch;
  float *unitsS = workspace, *unitsT = unitsS + pairs * studentWidth;
  float *gradUnits = unitsT + pairs * teacherWidth;
  float *normsS =
      gradUnits + pairs * std::max(studentWidth, teacherWidth);
  float *normsT = normsS + pairs;
  float *terms = normsT + pairs, *g = terms + entries;
  unitDifferenceKernel<<<blocksFor(pairs), kThreads, 0, stream>>>(
      student, batch, studentWidth, unitsS, normsS);
  unitDifferenceKernel<<<blocksFor(pairs), kThreads, 0, stream>>>(
      teacher, batch, teacherWidth, unitsT, normsT);
  rkdAngleTermsKernel<<<blocksFor(entries), kThreads, 0, stream>>>(
      unitsS, studentWidth, unitsT, teacherWidth, batch, terms, g);
  cudaError_t error = launchSum(stream, terms, entries, 1.0f / float(entries),
                                loss);
  if (error != cudaSuccess)
    return error;
  // The sides in turn, sharing gradUnits (one stream orders them); the
  // teacher's angles enter the loss with the opposite sign.
  struct Side {
    const float *units, *norms;
    int64_t width;
    float scale;
    float *grad;
  } sides[2] = {{unitsS, normsS, studentWidth, gradScale, gradStudent},
                {unitsT, normsT, teacherWidth, -gradScale, gradTeacher}};
  for (const Side &side : sides) {
    if (!side.grad)
      continue;
    rkdGradUnitsKernel<<<blocksFor(pairs * side.width), kThreads, 0,
                         stream>>>(side.units, side.width, batch, g,
                                   gradUnits);
    rkdDifferenceGradKernel<<<blocksFor(pairs), kThreads, 0, stream>>>(
        side.units, side.norms, side.width, batch, side.scale, gradUnits);
    rkdAngleGradKernel<<<blocksFor(batch * side.width), kThreads, 0,
                         stream>>>(gradUnits, side.width, batch, side.grad);
  }
  return cudaGetLastError();
}

} // namespace kdrt::cudnn
