//===- MatMul.h - Reference (batched) matrix product ------------*- C++ -*-===//

#ifndef KDRT_REFERENCE_MATMUL_H
#define KDRT_REFERENCE_MATMUL_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

namespace kdrt::reference {

namespace detail {
/// Logical [batch, rows, cols] view of a matmul operand, honouring the
/// transpose flag, so forward and backward index operands the same way.
struct MatrixLayout {
  int64_t batch = 1, rows = 0, cols = 0;
  bool transposed = false;
  int64_t index(int64_t b, int64_t r, int64_t c) const {
    return transposed ? (b * cols + c) * rows + r : (b * rows + r) * cols + c;
  }
};

inline Status matMulLayouts(const MatMulDesc &desc, const Shape &lhs,
                            const Shape &rhs, const Shape &output,
                            MatrixLayout &a, MatrixLayout &b) {
  const char *op = "matmul";
  if ((lhs.rank() != 2 && lhs.rank() != 3) || lhs.rank() != rhs.rank())
    return shapeError(op, "operands must both be rank 2 or both rank 3, got " +
                              lhs.toString() + " and " + rhs.toString());
  bool batched = lhs.rank() == 3;
  auto layout = [&](const Shape &s, bool transposed) {
    MatrixLayout m;
    m.batch = batched ? s[0] : 1;
    int64_t d0 = s[s.rank() - 2], d1 = s[s.rank() - 1];
    m.rows = transposed ? d1 : d0;
    m.cols = transposed ? d0 : d1;
    m.transposed = transposed;
    return m;
  };
  a = layout(lhs, desc.transposeLhs);
  b = layout(rhs, desc.transposeRhs);
  if (a.batch != b.batch || a.cols != b.rows)
    return shapeError(op, "cannot multiply " + lhs.toString() + " by " +
                              rhs.toString());
  Shape expected = batched ? Shape{a.batch, a.rows, b.cols}
                           : Shape{a.rows, b.cols};
  return checkShape(op, "output", output, expected);
}
} // namespace detail

template <typename T>
Status matMulForward(const MatMulDesc &desc, TensorRef<const T> lhs,
                     TensorRef<const T> rhs, TensorRef<T> output) {
  detail::MatrixLayout a, b;
  KDRT_RETURN_IF_ERROR(
      detail::matMulLayouts(desc, lhs.shape, rhs.shape, output.shape, a, b));
  for (int64_t n = 0; n < a.batch; ++n)
    for (int64_t i = 0; i < a.rows; ++i)
      for (int64_t j = 0; j < b.cols; ++j) {
        T sum = 0;
        for (int64_t k = 0; k < a.cols; ++k)
          sum += lhs[a.index(n, i, k)] * rhs[b.index(n, k, j)];
        output[(n * a.rows + i) * b.cols + j] = sum;
      }
  return Status::success();
}

template <typename T>
Status matMulBackward(const MatMulDesc &desc, TensorRef<const T> lhs,
                      TensorRef<const T> rhs, TensorRef<const T> gradOutput,
                      TensorRef<T> gradLhs, TensorRef<T> gradRhs) {
  detail::MatrixLayout a, b;
  KDRT_RETURN_IF_ERROR(detail::matMulLayouts(desc, lhs.shape, rhs.shape,
                                             gradOutput.shape, a, b));
  KDRT_RETURN_IF_ERROR(checkOptional("matmul", "gradLhs", gradLhs, lhs.shape));
  KDRT_RETURN_IF_ERROR(checkOptional("matmul", "gradRhs", gradRhs, rhs.shape));
  auto dy = [&](int64_t n, int64_t i, int64_t j) {
    return gradOutput[(n * a.rows + i) * b.cols + j];
  };
  if (gradLhs.present())
    for (int64_t n = 0; n < a.batch; ++n)
      for (int64_t i = 0; i < a.rows; ++i)
        for (int64_t k = 0; k < a.cols; ++k) {
          T sum = 0;
          for (int64_t j = 0; j < b.cols; ++j)
            sum += dy(n, i, j) * rhs[b.index(n, k, j)];
          gradLhs[a.index(n, i, k)] = sum;
        }
  if (gradRhs.present())
    for (int64_t n = 0; n < a.batch; ++n)
      for (int64_t k = 0; k < a.cols; ++k)
        for (int64_t j = 0; j < b.cols; ++j) {
          T sum = 0;
          for (int64_t i = 0; i < a.rows; ++i)
            sum += lhs[a.index(n, i, k)] * dy(n, i, j);
          gradRhs[b.index(n, k, j)] = sum;
        }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_MATMUL_H
