//===- Conv2d.h - Reference conv2d ------------------------------*- C++ -*-===//

#ifndef KDRT_REFERENCE_CONV2D_H
#define KDRT_REFERENCE_CONV2D_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

namespace kdrt::reference {

/// Output shape of conv2d, or an error naming the inconsistent operand.
inline Status conv2dOutputShape(const Conv2dDesc &desc, const Shape &input,
                                const Shape &weight, Shape &output) {
  const char *op = "conv2d";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", input, 4));
  KDRT_RETURN_IF_ERROR(checkRank(op, "weight", weight, 4));
  if (desc.groups < 1 || desc.strideH < 1 || desc.strideW < 1 ||
      desc.dilationH < 1 || desc.dilationW < 1 || desc.padH < 0 ||
      desc.padW < 0)
    return shapeError(op, "groups, strides and dilations must be >= 1 and "
                          "padding >= 0");
  if (input[1] != weight[1] * desc.groups || weight[0] % desc.groups != 0)
    return shapeError(op, "input " + input.toString() + " and weight " +
                              weight.toString() + " disagree with groups=" +
                              std::to_string(desc.groups));
  int64_t outH = (input[2] + 2 * desc.padH - desc.dilationH * (weight[2] - 1) -
                  1) / desc.strideH + 1;
  int64_t outW = (input[3] + 2 * desc.padW - desc.dilationW * (weight[3] - 1) -
                  1) / desc.strideW + 1;
  if (outH < 1 || outW < 1)
    return shapeError(op, "kernel " + weight.toString() +
                              " does not fit input " + input.toString());
  output = Shape{input[0], weight[0], outH, outW};
  return Status::success();
}

namespace detail {
/// Calls visit(outIndex, inIndex, weightIndex) for every
/// multiply-add of the convolution; forward and backward share it so they
/// cannot disagree on the indexing.
template <typename Visit>
void forEachConvTap(const Conv2dDesc &desc, const Shape &in, const Shape &w,
                    const Shape &out, Visit visit) {
  int64_t batch = in[0], channels = in[1], height = in[2], width = in[3];
  int64_t outChannels = w[0], groupChannels = w[1], kernelH = w[2],
          kernelW = w[3];
  int64_t outPerGroup = outChannels / desc.groups;
  int64_t outH = out[2], outW = out[3];
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < outChannels; ++o) {
      int64_t group = o / outPerGroup;
      for (int64_t oh = 0; oh < outH; ++oh)
        for (int64_t ow = 0; ow < outW; ++ow) {
          int64_t outIndex = ((n * outChannels + o) * outH + oh) * outW + ow;
          for (int64_t cg = 0; cg < groupChannels; ++cg) {
            int64_t c = group * groupChannels + cg;
            for (int64_t kh = 0; kh < kernelH; ++kh) {
              int64_t ih = oh * desc.strideH - desc.padH + kh * desc.dilationH;
              if (ih < 0 || ih >= height)
                continue;
              for (int64_t kw = 0; kw < kernelW; ++kw) {
                int64_t iw =
                    ow * desc.strideW - desc.padW + kw * desc.dilationW;
                if (iw < 0 || iw >= width)
                  continue;
                int64_t inIndex = ((n * channels + c) * height + ih) * width + iw;
                int64_t weightIndex =
                    ((o * groupChannels + cg) * kernelH + kh) * kernelW + kw;
                visit(outIndex, inIndex, weightIndex);
              }
            }
          }
        }
    }
}
} // namespace detail

template <typename T>
Status conv2dForward(const Conv2dDesc &desc, TensorRef<const T> input,
                     TensorRef<const T> weight, TensorRef<const T> bias,
                     TensorRef<T> output) {
  Shape outShape;
  KDRT_RETURN_IF_ERROR(
      conv2dOutputShape(desc, input.shape, weight.shape, outShape));
  KDRT_RETURN_IF_ERROR(checkShape("conv2d", "output", output.shape, outShape));
  KDRT_RETURN_IF_ERROR(
      checkOptional("conv2d", "bias", bias, Shape{weight.dim(0)}));
  int64_t plane = outShape[2] * outShape[3];
  for (int64_t i = 0; i < output.numElements(); ++i)
    output[i] = bias.present() ? bias[(i / plane) % outShape[1]] : T(0);
  detail::forEachConvTap(desc, input.shape, weight.shape, outShape,
                         [&](int64_t o, int64_t in, int64_t w) {
                           output[o] += input[in] * weight[w];
                         });
  return Status::success();
}

template <typename T>
Status conv2dBackward(const Conv2dDesc &desc, TensorRef<const T> input,
                      TensorRef<const T> weight, TensorRef<const T> gradOutput,
                      TensorRef<T> gradInput, TensorRef<T> gradWeight,
                      TensorRef<T> gradBias) {
  const char *op = "conv2d";
  Shape outShape;
  KDRT_RETURN_IF_ERROR(
      conv2dOutputShape(desc, input.shape, weight.shape, outShape));
  KDRT_RETURN_IF_ERROR(checkShape(op, "gradOutput", gradOutput.shape, outShape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, input.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradWeight", gradWeight, weight.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradBias", gradBias, Shape{weight.dim(0)}));
  if (gradInput.present())
    gradInput.fill(T(0));
  if (gradWeight.present())
    gradWeight.fill(T(0));
  detail::forEachConvTap(desc, input.shape, weight.shape, outShape,
                         [&](int64_t o, int64_t in, int64_t w) {
                           if (gradInput.present())
                             gradInput[in] += gradOutput[o] * weight[w];
                           if (gradWeight.present())
                             gradWeight[w] += gradOutput[o] * input[in];
                         });
  if (gradBias.present()) {
    gradBias.fill(T(0));
    int64_t plane = outShape[2] * outShape[3];
    for (int64_t i = 0; i < gradOutput.numElements(); ++i)
      gradBias[(i / plane) % outShape[1]] += gradOutput[i];
  }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_CONV2D_H
