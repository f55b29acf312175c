//===- Tokens.h - Reference token ops for ViT-style models ------*- C++ -*-===//

#ifndef KDRT_REFERENCE_TOKENS_H
#define KDRT_REFERENCE_TOKENS_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

namespace kdrt::reference {

//===----------------------------------------------------------------------===//
// tokens: [N, C, H, W] -> [N, H*W, C]
//===----------------------------------------------------------------------===//

inline Status tokensCheck(const Shape &image, const Shape &tokens,
                          const char *what) {
  KDRT_RETURN_IF_ERROR(checkRank("tokens", "input", image, 4));
  return checkShape("tokens", what, tokens,
                    Shape{image[0], image[2] * image[3], image[1]});
}

template <typename T>
Status tokensForward(const TokensDesc &, TensorRef<const T> input,
                     TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(tokensCheck(input.shape, output.shape, "output"));
  int64_t channels = input.dim(1), space = input.dim(2) * input.dim(3);
  for (int64_t n = 0; n < input.dim(0); ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t j = 0; j < space; ++j)
        output[(n * space + j) * channels + c] =
            input[(n * channels + c) * space + j];
  return Status::success();
}

/// gradInput carries the image shape.
template <typename T>
Status tokensBackward(const TokensDesc &, TensorRef<const T> gradOutput,
                      TensorRef<T> gradInput) {
  KDRT_RETURN_IF_ERROR(
      tokensCheck(gradInput.shape, gradOutput.shape, "gradOutput"));
  int64_t channels = gradInput.dim(1),
          space = gradInput.dim(2) * gradInput.dim(3);
  for (int64_t n = 0; n < gradInput.dim(0); ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t j = 0; j < space; ++j)
        gradInput[(n * channels + c) * space + j] =
            gradOutput[(n * space + j) * channels + c];
  return Status::success();
}

//===----------------------------------------------------------------------===//
// cls-token prepend: [N, L, D] and [1, 1, D] -> [N, L + 1, D]
//===----------------------------------------------------------------------===//

inline Status clsTokenCheck(const Shape &input, const Shape &token,
                            const Shape &output, const char *what) {
  const char *op = "cls_token_prepend";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", input, 3));
  KDRT_RETURN_IF_ERROR(checkShape(op, "token", token, Shape{1, 1, input[2]}));
  return checkShape(op, what, output, Shape{input[0], input[1] + 1, input[2]});
}

template <typename T>
Status clsTokenPrependForward(const ClsTokenPrependDesc &,
                              TensorRef<const T> input,
                              TensorRef<const T> token, TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(
      clsTokenCheck(input.shape, token.shape, output.shape, "output"));
  int64_t length = input.dim(1), width = input.dim(2);
  for (int64_t n = 0; n < input.dim(0); ++n) {
    T *row = output.data + n * (length + 1) * width;
    std::copy(token.data, token.data + width, row);
    std::copy(input.data + n * length * width,
              input.data + (n + 1) * length * width, row + width);
  }
  return Status::success();
}

/// The shapes come from gradOutput [N, L + 1, D]; both gradients optional.
template <typename T>
Status clsTokenPrependBackward(const ClsTokenPrependDesc &,
                               TensorRef<const T> gradOutput,
                               TensorRef<T> gradInput, TensorRef<T> gradToken) {
  const char *op = "cls_token_prepend";
  KDRT_RETURN_IF_ERROR(checkRank(op, "gradOutput", gradOutput.shape, 3));
  int64_t batch = gradOutput.dim(0), length = gradOutput.dim(1) - 1,
          width = gradOutput.dim(2);
  if (length < 0)
    return shapeError(op, "gradOutput has no cls position");
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradInput", gradInput, Shape{batch, length, width}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradToken", gradToken, Shape{1, 1, width}));
  if (gradToken.present())
    gradToken.fill(T(0));
  for (int64_t n = 0; n < batch; ++n) {
    const T *row = gradOutput.data + n * (length + 1) * width;
    for (int64_t d = 0; d < width && gradToken.present(); ++d)
      gradToken[d] += row[d];
    if (gradInput.present())
      std::copy(row + width, row + (length + 1) * width,
                gradInput.data + n * length * width);
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// position-embedding add: [N, L, D] + [1, L, D]
//===----------------------------------------------------------------------===//

template <typename T>
Status positionEmbeddingAddForward(const PositionEmbeddingAddDesc &,
                                   TensorRef<const T> input,
                                   TensorRef<const T> embedding,
                                   TensorRef<T> output) {
  const char *op = "position_embedding_add";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", input.shape, 3));
  KDRT_RETURN_IF_ERROR(checkShape(op, "embedding", embedding.shape,
                                  Shape{1, input.dim(1), input.dim(2)}));
  KDRT_RETURN_IF_ERROR(checkShape(op, "output", output.shape, input.shape));
  int64_t sample = embedding.numElements();
  for (int64_t i = 0; i < input.numElements(); ++i)
    output[i] = input[i] + embedding[i % sample];
  return Status::success();
}

template <typename T>
Status positionEmbeddingAddBackward(const PositionEmbeddingAddDesc &,
                                    TensorRef<const T> gradOutput,
                                    TensorRef<T> gradInput,
                                    TensorRef<T> gradEmbedding) {
  const char *op = "position_embedding_add";
  KDRT_RETURN_IF_ERROR(checkRank(op, "gradOutput", gradOutput.shape, 3));
  Shape embeddingShape{1, gradOutput.dim(1), gradOutput.dim(2)};
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradInput", gradInput, gradOutput.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradEmbedding", gradEmbedding, embeddingShape));
  int64_t sample = embeddingShape.numElements();
  if (gradEmbedding.present())
    gradEmbedding.fill(T(0));
  for (int64_t i = 0; i < gradOutput.numElements(); ++i) {
    if (gradInput.present())
      gradInput[i] = gradOutput[i];
    if (gradEmbedding.present())
      gradEmbedding[i % sample] += gradOutput[i];
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// select token: [N, L, D] -> [N, D]
//===----------------------------------------------------------------------===//

inline Status selectTokenIndex(const SelectTokenDesc &desc, const Shape &input,
                               const Shape &output, int64_t &index) {
  const char *op = "select_token";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", input, 3));
  index = desc.index < 0 ? desc.index + input[1] : desc.index;
  if (index < 0 || index >= input[1])
    return shapeError(op, "token " + std::to_string(desc.index) +
                              " is out of range for " + input.toString());
  return checkShape(op, "output", output, Shape{input[0], input[2]});
}

template <typename T>
Status selectTokenForward(const SelectTokenDesc &desc, TensorRef<const T> input,
                          TensorRef<T> output) {
  int64_t index = 0;
  KDRT_RETURN_IF_ERROR(
      selectTokenIndex(desc, input.shape, output.shape, index));
  int64_t length = input.dim(1), width = input.dim(2);
  for (int64_t n = 0; n < input.dim(0); ++n)
    for (int64_t d = 0; d < width; ++d)
      output[n * width + d] = input[(n * length + index) * width + d];
  return Status::success();
}

/// gradInput carries the input shape; positions not selected get zero.
template <typename T>
Status selectTokenBackward(const SelectTokenDesc &desc,
                           TensorRef<const T> gradOutput,
                           TensorRef<T> gradInput) {
  int64_t index = 0;
  KDRT_RETURN_IF_ERROR(
      selectTokenIndex(desc, gradInput.shape, gradOutput.shape, index));
  int64_t length = gradInput.dim(1), width = gradInput.dim(2);
  gradInput.fill(T(0));
  for (int64_t n = 0; n < gradInput.dim(0); ++n)
    for (int64_t d = 0; d < width; ++d)
      gradInput[(n * length + index) * width + d] = gradOutput[n * width + d];
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_TOKENS_H
