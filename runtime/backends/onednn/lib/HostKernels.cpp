//===- HostKernels.cpp - OpenMP loops for ops oneDNN 2.6 lacks ------------===//
//
// Each op here is independent across samples or planes, so it runs the
// reference kernel on one slice per OpenMP iteration: the math is the
// oracle's by construction and the parallelism comes for free. Shapes are
// checked on the whole tensors first so errors name the real shapes.
//
//===----------------------------------------------------------------------===//

#include "Ops.h"

#include "kdrt/reference/Kernels.h"

#include <atomic>
#include <cstring>

namespace kdrt::onednn {
namespace {

using In = reference::TensorRef<const float>;
using Out = reference::TensorRef<float>;

/// Shape of one of `count` equal leading slices of `shape`.
Shape sliceShape(const Shape &shape, size_t leadingDims) {
  std::vector<int64_t> dims = shape.dims();
  for (size_t d = 0; d < leadingDims; ++d)
    dims[d] = 1;
  return Shape(std::move(dims));
}

/// Runs body(i) for i < count in parallel; returns the first failure.
template <typename Body> Status parallelSlices(int64_t count, Body body) {
  std::atomic<bool> failed{false};
  Status firstError;
#pragma omp parallel for
  for (int64_t i = 0; i < count; ++i) {
    Status status = body(i);
    if (!status.ok() && !failed.exchange(true))
      firstError = status;
  }
  return firstError;
}

} // namespace

Status reshapeCopy(const Tensor &from, Tensor &to) {
  if (from.numElements() != to.numElements())
    return reference::shapeError("reshape",
                                 "cannot reshape " + from.shape().toString() +
                                     " to " + to.shape().toString());
  if (from.data() != to.data())
    std::memcpy(to.data(), from.data(), from.sizeInBytes());
  return Status::success();
}

Status dropoutForward(const DropoutDesc &desc, const Tensor &input,
                      Tensor &output, Tensor &mask) {
  if (!(desc.p >= 0 && desc.p <= 1))
    return reference::shapeError("dropout", "p must lie in [0, 1]");
  KDRT_RETURN_IF_ERROR(reference::checkShape("dropout", "output",
                                             output.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(reference::checkShape("dropout", "mask", mask.shape(),
                                             input.shape()));
  float keepScale = desc.p < 1 ? float(1.0 / (1.0 - desc.p)) : 0.0f;
  const float *x = input.data();
  float *y = output.data(), *m = mask.data();
  int64_t count = input.numElements();
#pragma omp parallel for
  for (int64_t i = 0; i < count; ++i) {
    m[i] = reference::dropoutKeeps(desc.seed, uint64_t(i), desc.p) ? keepScale
                                                                   : 0.0f;
    y[i] = x[i] * m[i];
  }
  return Status::success();
}

Status dropoutBackward(const DropoutDesc &, const Tensor &mask,
                       const Tensor &gradOutput, Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::checkShape(
      "dropout", "gradOutput", gradOutput.shape(), mask.shape()));
  KDRT_RETURN_IF_ERROR(reference::checkShape("dropout", "gradInput",
                                             gradInput.shape(), mask.shape()));
  const float *m = mask.data(), *dy = gradOutput.data();
  float *dx = gradInput.data();
  int64_t count = mask.numElements();
#pragma omp parallel for
  for (int64_t i = 0; i < count; ++i)
    dx[i] = dy[i] * m[i];
  return Status::success();
}

Status concatBackward(const ConcatDesc &desc, const Tensor &gradOutput,
                      const std::vector<Tensor *> &gradInputs) {
  std::vector<Shape> shapes;
  for (Tensor *grad : gradInputs) {
    if (!grad)
      return reference::shapeError("concat",
                                   "every input gradient must be given: it "
                                   "carries the input's shape");
    shapes.push_back(grad->shape());
  }
  KDRT_RETURN_IF_ERROR(
      reference::detail::concatCheck(desc, shapes, gradOutput.shape()));
  const Shape &out = gradOutput.shape();
  int64_t outer = reference::productOf(out, 0, desc.axis);
  int64_t inner = reference::productOf(out, desc.axis + 1, out.rank());
  int64_t outRow = out[desc.axis] * inner, offset = 0;
  for (Tensor *grad : gradInputs) {
    int64_t row = grad->dim(desc.axis) * inner;
    const float *src = gradOutput.data() + offset;
    float *dst = grad->data();
#pragma omp parallel for
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + o * row, src + o * outRow, row * sizeof(float));
    offset += row;
  }
  return Status::success();
}

Status tokensForward(const Tensor &input, Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::tokensCheck(input.shape(), output.shape(),
                                              "output"));
  int64_t batch = input.dim(0);
  Shape inSlice = sliceShape(input.shape(), 1);
  Shape outSlice = sliceShape(output.shape(), 1);
  int64_t inStride = inSlice.numElements(), outStride = outSlice.numElements();
  return parallelSlices(batch, [&](int64_t n) {
    return reference::tokensForward<float>(
        {}, In(input.data() + n * inStride, inSlice),
        Out(output.data() + n * outStride, outSlice));
  });
}

Status tokensBackward(const Tensor &gradOutput, Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::tokensCheck(
      gradInput.shape(), gradOutput.shape(), "gradOutput"));
  int64_t batch = gradInput.dim(0);
  Shape inSlice = sliceShape(gradInput.shape(), 1);
  Shape outSlice = sliceShape(gradOutput.shape(), 1);
  int64_t inStride = inSlice.numElements(), outStride = outSlice.numElements();
  return parallelSlices(batch, [&](int64_t n) {
    return reference::tokensBackward<float>(
        {}, In(gradOutput.data() + n * outStride, outSlice),
        Out(gradInput.data() + n * inStride, inSlice));
  });
}

Status slicedResizeForward(const ResizeDesc &desc, const Tensor &input,
                           Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::detail::resizeCheck(
      desc, input.shape(), output.shape(), "output"));
  Shape inPlane = sliceShape(input.shape(), 2);
  Shape outPlane = sliceShape(output.shape(), 2);
  int64_t inSize = inPlane.numElements(), outSize = outPlane.numElements();
  return parallelSlices(input.dim(0) * input.dim(1), [&](int64_t p) {
    return reference::resizeForward<float>(
        desc, In(input.data() + p * inSize, inPlane),
        Out(output.data() + p * outSize, outPlane));
  });
}

Status slicedResizeBackward(const ResizeDesc &desc, const Tensor &gradOutput,
                            Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::detail::resizeCheck(
      desc, gradInput.shape(), gradOutput.shape(), "gradOutput"));
  Shape inPlane = sliceShape(gradInput.shape(), 2);
  Shape outPlane = sliceShape(gradOutput.shape(), 2);
  int64_t inSize = inPlane.numElements(), outSize = outPlane.numElements();
  return parallelSlices(gradInput.dim(0) * gradInput.dim(1), [&](int64_t p) {
    return reference::resizeBackward<float>(
        desc, In(gradOutput.data() + p * outSize, outPlane),
        Out(gradInput.data() + p * inSize, inPlane));
  });
}

Status adaptivePoolForward(const AdaptivePoolDesc &desc, const Tensor &input,
                           Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::detail::adaptivePoolCheck(
      desc, input.shape(), output.shape(), "output"));
  Shape inPlane = sliceShape(input.shape(), 2);
  Shape outPlane = sliceShape(output.shape(), 2);
  int64_t inSize = inPlane.numElements(), outSize = outPlane.numElements();
  return parallelSlices(input.dim(0) * input.dim(1), [&](int64_t p) {
    return reference::adaptivePoolForward<float>(
        desc, In(input.data() + p * inSize, inPlane),
        Out(output.data() + p * outSize, outPlane));
  });
}

Status adaptivePoolBackward(const AdaptivePoolDesc &desc, const Tensor &input,
                            const Tensor &gradOutput, Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::detail::adaptivePoolCheck(
      desc, input.shape(), gradOutput.shape(), "gradOutput"));
  KDRT_RETURN_IF_ERROR(reference::checkShape(
      "adaptive_pool", "gradInput", gradInput.shape(), input.shape()));
  Shape inPlane = sliceShape(input.shape(), 2);
  Shape outPlane = sliceShape(gradOutput.shape(), 2);
  int64_t inSize = inPlane.numElements(), outSize = outPlane.numElements();
  return parallelSlices(input.dim(0) * input.dim(1), [&](int64_t p) {
    return reference::adaptivePoolBackward<float>(
        desc, In(input.data() + p * inSize, inPlane),
        In(gradOutput.data() + p * outSize, outPlane),
        Out(gradInput.data() + p * inSize, inPlane));
  });
}

Status l2NormalizeForward(const L2NormalizeDesc &desc, const Tensor &input,
                          Tensor &output) {
  if (input.rank() < 1 || input.dim(0) < 1)
    return reference::l2NormalizeForward<float>(
        desc, In(input.data(), input.shape()),
        Out(output.data(), output.shape()));
  KDRT_RETURN_IF_ERROR(reference::checkShape("l2_normalize", "output",
                                             output.shape(), input.shape()));
  Shape sample = sliceShape(input.shape(), 1);
  int64_t size = sample.numElements();
  return parallelSlices(input.dim(0), [&](int64_t n) {
    return reference::l2NormalizeForward<float>(
        desc, In(input.data() + n * size, sample),
        Out(output.data() + n * size, sample));
  });
}

Status l2NormalizeBackward(const L2NormalizeDesc &desc, const Tensor &input,
                           const Tensor &gradOutput, Tensor &gradInput) {
  if (input.rank() < 1 || input.dim(0) < 1)
    return reference::l2NormalizeBackward<float>(
        desc, In(input.data(), input.shape()),
        In(gradOutput.data(), gradOutput.shape()),
        Out(gradInput.data(), gradInput.shape()));
  KDRT_RETURN_IF_ERROR(reference::checkShape(
      "l2_normalize", "gradOutput", gradOutput.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(reference::checkShape(
      "l2_normalize", "gradInput", gradInput.shape(), input.shape()));
  Shape sample = sliceShape(input.shape(), 1);
  int64_t size = sample.numElements();
  return parallelSlices(input.dim(0), [&](int64_t n) {
    return reference::l2NormalizeBackward<float>(
        desc, In(input.data() + n * size, sample),
        In(gradOutput.data() + n * size, sample),
        Out(gradInput.data() + n * size, sample));
  });
}

} // namespace kdrt::onednn
