//===- Tokens.cpp - token layout ops --------------------------------------===//
//
// tokens, cls-token prepend, position embedding and token selection are
// layout moves (transpose or strided copies) and broadcast adds, so they
// reuse the elementwise and copy kernels.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/Tokens.h"

namespace kdrt::cudnn {

using reference::checkRank;
using reference::checkShape;

Status CudnnBackendImpl::tokensForward(const TokensDesc &, const Tensor &input,
                                       Tensor &output) {
  KDRT_RETURN_IF_ERROR(
      reference::tokensCheck(input.shape(), output.shape(), "output"));
  KDRT_LAUNCH(launchTokens(stream(), input.data(), output.data(), input.dim(0),
                           input.dim(1), input.dim(2) * input.dim(3), true));
  return Status::success();
}

Status CudnnBackendImpl::tokensBackward(const TokensDesc &,
                                        const Tensor &gradOutput,
                                        Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::tokensCheck(
      gradInput.shape(), gradOutput.shape(), "gradOutput"));
  KDRT_LAUNCH(launchTokens(stream(), gradOutput.data(), gradInput.data(),
                           gradInput.dim(0), gradInput.dim(1),
                           gradInput.dim(2) * gradInput.dim(3), false));
  return Status::success();
}

Status CudnnBackendImpl::clsTokenPrependForward(const ClsTokenPrependDesc &,
                                                const Tensor &input,
                                                const Tensor &token,
                                                Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::clsTokenCheck(input.shape(), token.shape(),
                                                output.shape(), "output"));
  int64_t batch = input.dim(0), length = input.dim(1), width = input.dim(2);
  int64_t outRow = (length + 1) * width;
  // The token into position 0 of every sample (source stride 0), then the
  // sequence after it.
  KDRT_LAUNCH(launchStridedCopy(stream(), token.data(), 0, 0, output.data(),
                                outRow, 0, batch, width));
  KDRT_LAUNCH(launchStridedCopy(stream(), input.data(), length * width, 0,
                                output.data(), outRow, width, batch,
                                length * width));
  return Status::success();
}

Status CudnnBackendImpl::clsTokenPrependBackward(const ClsTokenPrependDesc &,
                                                 const Tensor &gradOutput,
                                                 Tensor *gradInput,
                                                 Tensor *gradToken) {
  const char *op = "cls_token_prepend";
  KDRT_RETURN_IF_ERROR(checkRank(op, "gradOutput", gradOutput.shape(), 3));
  int64_t batch = gradOutput.dim(0), length = gradOutput.dim(1) - 1,
          width = gradOutput.dim(2);
  if (length < 0)
    return reference::shapeError(op, "gradOutput has no cls position");
  if (gradInput)
    KDRT_RETURN_IF_ERROR(checkShape(op, "gradInput", gradInput->shape(),
                                    Shape{batch, length, width}));
  if (gradToken)
    KDRT_RETURN_IF_ERROR(checkShape(op, "gradToken", gradToken->shape(),
                                    Shape{1, 1, width}));
  int64_t outRow = (length + 1) * width;
  if (gradToken)
    KDRT_LAUNCH(launchColumnSums(stream(), gradOutput.data(), batch, width,
                                 outRow, gradToken->data()));
  if (gradInput)
    KDRT_LAUNCH(launchStridedCopy(stream(), gradOutput.data(), outRow, width,
                                  gradInput->data(), length * width, 0, batch,
                                  length * width));
  return Status::success();
}

Status CudnnBackendImpl::positionEmbeddingAddForward(
    const PositionEmbeddingAddDesc &, const Tensor &input,
    const Tensor &embedding, Tensor &output) {
  const char *op = "position_embedding_add";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", input.shape(), 3));
  KDRT_RETURN_IF_ERROR(checkShape(op, "embedding", embedding.shape(),
                                  Shape{1, input.dim(1), input.dim(2)}));
  KDRT_RETURN_IF_ERROR(checkShape(op, "output", output.shape(),
                                  input.shape()));
  // [N, L, D] + [1, L, D]: a broadcast add over the batch.
  BroadcastMap map;
  map.rank = 2;
  map.dims[0] = input.dim(0);
  map.dims[1] = embedding.numElements();
  map.rhsStrides[0] = 0;
  map.rhsStrides[1] = 1;
  KDRT_LAUNCH(launchBinaryForward(stream(), true, input.data(),
                                  embedding.data(), output.data(),
                                  input.numElements(), map));
  return Status::success();
}

Status CudnnBackendImpl::positionEmbeddingAddBackward(
    const PositionEmbeddingAddDesc &, const Tensor &gradOutput,
    Tensor *gradInput, Tensor *gradEmbedding) {
  const char *op = "position_embedding_add";
  KDRT_RETURN_IF_ERROR(checkRank(op, "gradOutput", gradOutput.shape(), 3));
  Shape embeddingShape{1, gradOutput.dim(1), gradOutput.dim(2)};
  if (gradInput)
    KDRT_RETURN_IF_ERROR(checkShape(op, "gradInput", gradInput->shape(),
                                    gradOutput.shape()));
  if (gradEmbedding)
    KDRT_RETURN_IF_ERROR(checkShape(op, "gradEmbedding",
                                    gradEmbedding->shape(), embeddingShape));
  int64_t sample = embeddingShape.numElements();
  if (gradInput && gradOutput.numElements() &&
      gradInput->data() != gradOutput.data())
    KDRT_CUDA(cudaMemcpyAsync(gradInput->data(), gradOutput.data(),
                              gradOutput.sizeInBytes(),
                              cudaMemcpyDeviceToDevice, stream()));
  if (gradEmbedding)
    KDRT_LAUNCH(launchColumnSums(stream(), gradOutput.data(),
                                 gradOutput.dim(0), sample, sample,
                                 gradEmbedding->data()));
  return Status::success();
}

Status CudnnBackendImpl::selectTokenForward(const SelectTokenDesc &desc,
                                            const Tensor &input,
                                            Tensor &output) {
  int64_t index = 0;
  KDRT_RETURN_IF_ERROR(reference::selectTokenIndex(desc, input.shape(),
                                                   output.shape(), index));
  int64_t length = input.dim(1), width = input.dim(2);
  KDRT_LAUNCH(launchStridedCopy(stream(), input.data(), length * width,
                                index * width, output.data(), width, 0,
                                input.dim(0), width));
  return Status::success();
}

Status CudnnBackendImpl::selectTokenBackward(const SelectTokenDesc &desc,
                                             const Tensor &gradOutput,
                                             Tensor &gradInput) {
  int64_t index = 0;
  KDRT_RETURN_IF_ERROR(reference::selectTokenIndex(desc, gradInput.shape(),
                                                   gradOutput.shape(), index));
  int64_t length = gradInput.dim(1), width = gradInput.dim(2);
  if (gradInput.numElements())
    KDRT_CUDA(cudaMemsetAsync(gradInput.data(), 0, gradInput.sizeInBytes(),
                              stream()));
  KDRT_LAUNCH(launchStridedCopy(stream(), gradOutput.data(), width, 0,
                                gradInput.data(), length * width,
                                index * width, gradInput.dim(0), width));
  return Status::success();
}

} // namespace kdrt::cudnn
