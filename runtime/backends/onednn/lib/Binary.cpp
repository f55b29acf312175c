//===- Binary.cpp - add / mul with broadcast, reductions, concat ----------===//

#include "Ops.h"

#include "kdrt/reference/Binary.h"
#include "kdrt/reference/Plumbing.h"

#include <cstring>

namespace kdrt::onednn {
namespace {

using dnnl::algorithm;

/// rhs's dims right-aligned to lhs's rank with leading 1s, the form oneDNN's
/// broadcasting takes; both at least rank 1.
void broadcastDims(const Shape &lhs, const Shape &rhs, Dims &lhsDims,
                   Dims &rhsDims) {
  lhsDims = lhs.rank() == 0 ? Dims{1} : dimsOf(lhs);
  rhsDims.assign(lhsDims.size() - rhs.rank(), 1);
  for (int64_t d : rhs.dims())
    rhsDims.push_back(d);
}

void runBinary(DnnContext &ctx, algorithm kind, const Dims &lhsDims,
               const float *lhs, const Dims &rhsDims, const float *rhs,
               float *out) {
  struct Entry {
    dnnl::binary primitive;
  };
  CacheKey key("binary");
  key.add(int64_t(kind)).add(lhsDims).add(rhsDims);
  const Entry &entry = ctx.cache.getOrCreate<Entry>(key, [&] {
    return Entry{dnnl::binary(dnnl::binary::primitive_desc(
        dnnl::binary::desc(kind, plainDesc(lhsDims), plainDesc(rhsDims),
                           plainDesc(lhsDims)),
        ctx.engine))};
  });
  entry.primitive.execute(ctx.stream,
                          {{DNNL_ARG_SRC_0, wrap(ctx, plainDesc(lhsDims), lhs)},
                           {DNNL_ARG_SRC_1, wrap(ctx, plainDesc(rhsDims), rhs)},
                           {DNNL_ARG_DST, wrap(ctx, plainDesc(lhsDims), out)}});
}

} // namespace

void reduceSum(DnnContext &ctx, const memory &src, const memory &dst) {
  Dims srcDims = src.get_desc().dims(), dstDims = dst.get_desc().dims();
  if (srcDims == dstDims) {
    // Nothing to reduce; oneDNN rejects a reduction of equal shapes.
    std::memcpy(dst.get_data_handle(), src.get_data_handle(),
                src.get_desc().get_size());
    return;
  }
  struct Entry {
    dnnl::reduction primitive;
  };
  // Keyed on the layouts too: a channels-last gradient sums the same way
  // but is described differently.
  memory::desc srcDesc = src.get_desc(), dstDesc = dst.get_desc();
  CacheKey key("reduce_sum");
  key.add(srcDesc).add(dstDesc);
  const Entry &entry = ctx.cache.getOrCreate<Entry>(key, [&] {
    return Entry{dnnl::reduction(dnnl::reduction::primitive_desc(
        dnnl::reduction::desc(algorithm::reduction_sum, srcDesc, dstDesc,
                              0.0f, 0.0f),
        ctx.engine))};
  });
  entry.primitive.execute(ctx.stream,
                          {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  ctx.stream.wait();
}

namespace {
/// The reference's broadcast rule (rhs right-aligned, each dimension equal
/// or 1) and message, without its per-element index table.
Status checkBroadcast(const Shape &lhs, const Shape &rhs) {
  bool fits = rhs.rank() <= lhs.rank();
  for (size_t d = 0; fits && d < rhs.rank(); ++d) {
    int64_t target = lhs[d + lhs.rank() - rhs.rank()];
    fits = rhs[d] == target || rhs[d] == 1;
  }
  if (!fits)
    return reference::shapeError("binary", "cannot broadcast " +
                                               rhs.toString() + " to " +
                                               lhs.toString());
  return Status::success();
}
} // namespace

Status binaryForward(DnnContext &ctx, const BinaryDesc &desc,
                     const Tensor &lhs, const Tensor &rhs, Tensor &output) {
  return guarded("binary", [&]() -> Status {
    KDRT_RETURN_IF_ERROR(checkBroadcast(lhs.shape(), rhs.shape()));
    KDRT_RETURN_IF_ERROR(reference::checkShape("binary", "output",
                                               output.shape(), lhs.shape()));
    Dims lhsDims, rhsDims;
    broadcastDims(lhs.shape(), rhs.shape(), lhsDims, rhsDims);
    runBinary(ctx,
              desc.kind == BinaryKind::Add ? algorithm::binary_add
                                           : algorithm::binary_mul,
              lhsDims, lhs.data(), rhsDims, rhs.data(), output.data());
    ctx.stream.wait();
    return Status::success();
  });
}

Status binaryBackward(DnnContext &ctx, const BinaryDesc &desc,
                      const Tensor &lhs, const Tensor &rhs,
                      const Tensor &gradOutput, Tensor *gradLhs,
                      Tensor *gradRhs) {
  return guarded("binary", [&]() -> Status {
    const char *op = "binary";
    KDRT_RETURN_IF_ERROR(checkBroadcast(lhs.shape(), rhs.shape()));
    KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradOutput",
                                               gradOutput.shape(),
                                               lhs.shape()));
    if (gradLhs)
      KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradLhs",
                                                 gradLhs->shape(),
                                                 lhs.shape()));
    if (gradRhs)
      KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradRhs",
                                                 gradRhs->shape(),
                                                 rhs.shape()));
    Dims lhsDims, rhsDims;
    broadcastDims(lhs.shape(), rhs.shape(), lhsDims, rhsDims);
    bool add = desc.kind == BinaryKind::Add;
    if (gradLhs) {
      if (add)
        std::memcpy(gradLhs->data(), gradOutput.data(),
                    gradOutput.sizeInBytes());
      else // d lhs = dy * rhs (broadcast).
        runBinary(ctx, algorithm::binary_mul, lhsDims, gradOutput.data(),
                  rhsDims, rhs.data(), gradLhs->data());
    }
    if (gradRhs) {
      // d rhs = dy (add) or dy * lhs (mul), summed over broadcast dims.
      memory product = wrap(ctx, plainDesc(lhsDims), gradOutput.data());
      if (!add) {
        product = memory(plainDesc(lhsDims), ctx.engine);
        runBinary(ctx, algorithm::binary_mul, lhsDims, gradOutput.data(),
                  lhsDims, lhs.data(),
                  static_cast<float *>(product.get_data_handle()));
      }
      reduceSum(ctx, product,
                wrap(ctx, plainDesc(rhsDims), gradRhs->data()));
    }
    ctx.stream.wait();
    return Status::success();
  });
}

Status concatForward(DnnContext &ctx, const ConcatDesc &desc,
                     const std::vector<const Tensor *> &inputs,
                     Tensor &output) {
  return guarded("concat", [&]() -> Status {
    std::vector<Shape> shapes;
    for (const Tensor *input : inputs) {
      if (!input)
        return Status::invalidArgument("concat: input is missing");
      shapes.push_back(input->shape());
    }
    KDRT_RETURN_IF_ERROR(
        reference::detail::concatCheck(desc, shapes, output.shape()));
    struct Entry {
      dnnl::concat primitive;
    };
    CacheKey key("concat");
    key.add(desc.axis);
    std::vector<memory::desc> sourceDescs;
    for (const Shape &shape : shapes) {
      key.add(shape.dims());
      sourceDescs.push_back(plainDesc(dimsOf(shape)));
    }
    const Entry &entry = ctx.cache.getOrCreate<Entry>(key, [&] {
      return Entry{dnnl::concat(dnnl::concat::primitive_desc(
          plainDesc(dimsOf(output.shape())), int(desc.axis), sourceDescs,
          ctx.engine))};
    });
    Args args{{DNNL_ARG_DST, wrap(ctx, output)}};
    for (size_t i = 0; i < inputs.size(); ++i)
      args[DNNL_ARG_MULTIPLE_SRC + int(i)] = wrap(ctx, *inputs[i]);
    run(entry.primitive, ctx.stream, args);
    ctx.stream.wait();
    return Status::success();
  });
}

} // namespace kdrt::onednn
