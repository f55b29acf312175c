//===- Attention.h - Reference multi-head self-attention --------*- C++ -*-===//
//
// Built from the reference linear kernel so the projections cannot drift
// from it. The backward recomputes the forward's intermediates: the
// reference backend keeps no state between calls.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_ATTENTION_H
#define KDRT_REFERENCE_ATTENTION_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/Linear.h"
#include "kdrt/reference/Softmax.h"

#include <cmath>
#include <vector>

namespace kdrt::reference {

/// Projection weights [D, D] and optional biases [D], in the order
/// query, key, value, output.
template <typename T> struct AttentionParams {
  TensorRef<const T> weight[4];
  TensorRef<const T> bias[4];
};

template <typename T> struct AttentionParamGrads {
  TensorRef<T> weight[4];
  TensorRef<T> bias[4];
};

namespace detail {
inline Status attentionCheck(const MultiHeadAttentionDesc &desc,
                             const Shape &input, const Shape *weights,
                             const Shape *biases) {
  const char *op = "multi_head_attention";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", input, 3));
  int64_t width = input[2];
  if (desc.numHeads < 1 || width % desc.numHeads != 0)
    return shapeError(op, "width " + std::to_string(width) +
                              " is not divisible by " +
                              std::to_string(desc.numHeads) + " heads");
  for (int k = 0; k < 4; ++k) {
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "projection weight", weights[k], Shape{width, width}));
    if (biases[k].rank() != 0)
      KDRT_RETURN_IF_ERROR(
          checkShape(op, "projection bias", biases[k], Shape{width}));
  }
  return Status::success();
}

/// Intermediates of one forward pass.
template <typename T> struct AttentionTrace {
  std::vector<T> q, k, v;  // [B, N, D] projections
  std::vector<T> probs;    // [B, H, N, N] attention weights
  std::vector<T> context;  // [B, N, D] heads concatenated
};

template <typename T>
Status attentionTrace(const MultiHeadAttentionDesc &desc,
                      TensorRef<const T> input, const AttentionParams<T> &p,
                      AttentionTrace<T> &trace) {
  int64_t batch = input.dim(0), tokens = input.dim(1), width = input.dim(2);
  int64_t heads = desc.numHeads, headWidth = width / heads;
  std::vector<T> *projections[3] = {&trace.q, &trace.k, &trace.v};
  for (int k = 0; k < 3; ++k) {
    projections[k]->assign(input.numElements(), T(0));
    KDRT_RETURN_IF_ERROR(linearForward<T>(
        LinearDesc{}, input, p.weight[k], p.bias[k],
        TensorRef<T>(projections[k]->data(), input.shape)));
  }
  trace.probs.assign(batch * heads * tokens * tokens, T(0));
  trace.context.assign(input.numElements(), T(0));
  T scale = T(1) / std::sqrt(T(headWidth));
  std::vector<T> scores(tokens);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < tokens; ++i) {
        auto at = [&](const std::vector<T> &m, int64_t t, int64_t d) {
          return m[(b * tokens + t) * width + h * headWidth + d];
        };
        for (int64_t j = 0; j < tokens; ++j) {
          T dot = 0;
          for (int64_t d = 0; d < headWidth; ++d)
            dot += at(trace.q, i, d) * at(trace.k, j, d);
          scores[j] = dot * scale;
        }
        T *probRow = &trace.probs[((b * heads + h) * tokens + i) * tokens];
        logSoftmaxRow(scores.data(), probRow, tokens, T(1));
        for (int64_t j = 0; j < tokens; ++j)
          probRow[j] = std::exp(probRow[j]);
        for (int64_t d = 0; d < headWidth; ++d) {
          T sum = 0;
          for (int64_t j = 0; j < tokens; ++j)
            sum += probRow[j] * at(trace.v, j, d);
          trace.context[(b * tokens + i) * width + h * headWidth + d] = sum;
        }
      }
  return Status::success();
}

template <typename T>
Status attentionCheckParams(const MultiHeadAttentionDesc &desc,
                            const Shape &input, const AttentionParams<T> &p) {
  Shape weights[4], biases[4];
  for (int k = 0; k < 4; ++k) {
    if (!p.weight[k].present())
      return shapeError("multi_head_attention", "projection weights are "
                                                "required");
    weights[k] = p.weight[k].shape;
    if (p.bias[k].present())
      biases[k] = p.bias[k].shape;
  }
  return attentionCheck(desc, input, weights, biases);
}
} // namespace detail

template <typename T>
Status multiHeadAttentionForward(const MultiHeadAttentionDesc &desc,
                                 TensorRef<const T> input,
                                 const AttentionParams<T> &params,
                                 TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(detail::attentionCheckParams(desc, input.shape, params));
  KDRT_RETURN_IF_ERROR(checkShape("multi_head_attention", "output",
                                  output.shape, input.shape));
  detail::AttentionTrace<T> trace;
  KDRT_RETURN_IF_ERROR(detail::attentionTrace(desc, input, params, trace));
  return linearForward<T>(
      LinearDesc{}, TensorRef<const T>(trace.context.data(), input.shape),
      params.weight[3], params.bias[3], output);
}

template <typename T>
Status multiHeadAttentionBackward(const MultiHeadAttentionDesc &desc,
                                  TensorRef<const T> input,
                                  const AttentionParams<T> &params,
                                  TensorRef<const T> gradOutput,
                                  TensorRef<T> gradInput,
                                  const AttentionParamGrads<T> &grads) {
  const char *op = "multi_head_attention";
  KDRT_RETURN_IF_ERROR(detail::attentionCheckParams(desc, input.shape, params));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape, input.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, input.shape));
  detail::AttentionTrace<T> trace;
  KDRT_RETURN_IF_ERROR(detail::attentionTrace(desc, input, params, trace));
  int64_t batch = input.dim(0), tokens = input.dim(1), width = input.dim(2);
  int64_t heads = desc.numHeads, headWidth = width / heads;
  const Shape &shape = input.shape;

  // Output projection.
  std::vector<T> gradContext(input.numElements());
  KDRT_RETURN_IF_ERROR(linearBackward<T>(
      LinearDesc{}, TensorRef<const T>(trace.context.data(), shape),
      params.weight[3], gradOutput, TensorRef<T>(gradContext.data(), shape),
      grads.weight[3], grads.bias[3]));

  // Scaled dot-product attention, head by head.
  std::vector<T> gradQ(input.numElements()), gradK(input.numElements()),
      gradV(input.numElements());
  T scale = T(1) / std::sqrt(T(headWidth));
  std::vector<T> gradProbs(tokens);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < tokens; ++i) {
        auto pos = [&](int64_t t, int64_t d) {
          return (b * tokens + t) * width + h * headWidth + d;
        };
        const T *probRow = &trace.probs[((b * heads + h) * tokens + i) * tokens];
        T dot = 0;
        for (int64_t j = 0; j < tokens; ++j) {
          T g = 0;
          for (int64_t d = 0; d < headWidth; ++d) {
            g += gradContext[pos(i, d)] * trace.v[pos(j, d)];
            gradV[pos(j, d)] += probRow[j] * gradContext[pos(i, d)];
          }
          gradProbs[j] = g;
          dot += g * probRow[j];
        }
        for (int64_t j = 0; j < tokens; ++j) {
          T gradScore = probRow[j] * (gradProbs[j] - dot) * scale;
          for (int64_t d = 0; d < headWidth; ++d) {
            gradQ[pos(i, d)] += gradScore * trace.k[pos(j, d)];
            gradK[pos(j, d)] += gradScore * trace.q[pos(i, d)];
          }
        }
      }

  // Input projections; dx sums the three paths.
  std::vector<T> *gradProjections[3] = {&gradQ, &gradK, &gradV};
  std::vector<T> partial(input.numElements());
  if (gradInput.present())
    gradInput.fill(T(0));
  for (int k = 0; k < 3; ++k) {
    KDRT_RETURN_IF_ERROR(linearBackward<T>(
        LinearDesc{}, input, params.weight[k],
        TensorRef<const T>(gradProjections[k]->data(), shape),
        gradInput.present() ? TensorRef<T>(partial.data(), shape)
                            : TensorRef<T>(),
        grads.weight[k], grads.bias[k]));
    if (gradInput.present())
      for (int64_t i = 0; i < input.numElements(); ++i)
        gradInput[i] += partial[i];
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// GC-block attention pooling
//===----------------------------------------------------------------------===//

namespace detail {
inline Status attentionPoolCheck(const Shape &input, const Shape &weight,
                                 const Shape *bias, const Shape &output,
                                 const char *what) {
  const char *op = "attention_pool";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", input, 4));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "weight", weight, Shape{1, input[1], 1, 1}));
  if (bias)
    KDRT_RETURN_IF_ERROR(checkShape(op, "bias", *bias, Shape{1}));
  return checkShape(op, what, output, Shape{input[0], input[1], 1, 1});
}

/// Softmax over positions of conv1x1(x) for sample n.
template <typename T>
void attentionPoolWeights(TensorRef<const T> input, TensorRef<const T> weight,
                          TensorRef<const T> bias, int64_t n,
                          std::vector<T> &probs) {
  int64_t channels = input.dim(1), space = input.dim(2) * input.dim(3);
  std::vector<T> logits(space, bias.present() ? bias[0] : T(0));
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < space; ++j)
      logits[j] += weight[c] * input[(n * channels + c) * space + j];
  probs.resize(space);
  logSoftmaxRow(logits.data(), probs.data(), space, T(1));
  for (T &p : probs)
    p = std::exp(p);
}
} // namespace detail

template <typename T>
Status attentionPoolForward(const AttentionPoolDesc &, TensorRef<const T> input,
                            TensorRef<const T> weight, TensorRef<const T> bias,
                            TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(detail::attentionPoolCheck(
      input.shape, weight.shape, bias.present() ? &bias.shape : nullptr,
      output.shape, "output"));
  int64_t channels = input.dim(1), space = input.dim(2) * input.dim(3);
  std::vector<T> probs;
  for (int64_t n = 0; n < input.dim(0); ++n) {
    detail::attentionPoolWeights(input, weight, bias, n, probs);
    for (int64_t c = 0; c < channels; ++c) {
      T sum = 0;
      for (int64_t j = 0; j < space; ++j)
        sum += probs[j] * input[(n * channels + c) * space + j];
      output[n * channels + c] = sum;
    }
  }
  return Status::success();
}

template <typename T>
Status attentionPoolBackward(const AttentionPoolDesc &,
                             TensorRef<const T> input,
                             TensorRef<const T> weight, TensorRef<const T> bias,
                             TensorRef<const T> gradOutput,
                             TensorRef<T> gradInput, TensorRef<T> gradWeight,
                             TensorRef<T> gradBias) {
  const char *op = "attention_pool";
  KDRT_RETURN_IF_ERROR(detail::attentionPoolCheck(
      input.shape, weight.shape, bias.present() ? &bias.shape : nullptr,
      gradOutput.shape, "gradOutput"));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, input.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradWeight", gradWeight, weight.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradBias", gradBias, Shape{1}));
  int64_t channels = input.dim(1), space = input.dim(2) * input.dim(3);
  if (gradWeight.present())
    gradWeight.fill(T(0));
  if (gradBias.present())
    gradBias.fill(T(0));
  std::vector<T> probs, gradLogits(space);
  for (int64_t n = 0; n < input.dim(0); ++n) {
    detail::attentionPoolWeights(input, weight, bias, n, probs);
    auto x = [&](int64_t c, int64_t j) {
      return input[(n * channels + c) * space + j];
    };
    // d out_c / d p_j = x_cj, then through the softmax to the logits.
    T dot = 0;
    for (int64_t j = 0; j < space; ++j) {
      T gradProb = 0;
      for (int64_t c = 0; c < channels; ++c)
        gradProb += gradOutput[n * channels + c] * x(c, j);
      gradLogits[j] = gradProb;
      dot += gradProb * probs[j];
    }
    for (int64_t j = 0; j < space; ++j)
      gradLogits[j] = probs[j] * (gradLogits[j] - dot);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t j = 0; j < space; ++j) {
        int64_t i = (n * channels + c) * space + j;
        if (gradInput.present())
          gradInput[i] = probs[j] * gradOutput[n * channels + c] +
                         gradLogits[j] * weight[c];
        if (gradWeight.present())
          gradWeight[c] += gradLogits[j] * x(c, j);
      }
    if (gradBias.present())
      for (int64_t j = 0; j < space; ++j)
        gradBias[0] += gradLogits[j];
  }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_ATTENTION_H
