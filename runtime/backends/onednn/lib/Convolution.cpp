//===- Convolution.cpp - conv2d on oneDNN convolution primitives ----------===//
//
// Forward (with bias and fused post-ops), backward data and backward weights
// (+bias). Activations and weights are described with format_tag::any so
// oneDNN picks its layouts; a tensor in another layout (row-major, or
// channels-last where the primitive chose a blocked one) is reordered in
// and out at the boundary, one already in the chosen layout is used as is.
// A parameter's weight is reordered once per version of its contents
// (weightsInLayout), so a frozen teacher's and an evaluation's weights are
// reordered once, not on every call.
//
// A forward whose post-op chain starts with a scale-shift (an inference
// batch norm: a frozen teacher's, an evaluation's) on a weight the executor
// tracks runs with the scale folded into the weight and the shift into the
// bias, w'[o] = w[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o]: oneDNN
// runs a per-channel scale-shift as two binary post-ops over the whole
// output, which made the hinton teacher's convolutions 1.1x (3x3, 32
// channels) to 3.7x (1x1 projections) slower than the convolution alone.
// The fold is made once per weight version and scale-shift values (the
// values are compared on every call, a few hundred floats) and kept in the
// primitive's layout. KDRT_FOLD_SCALE_SHIFT=0 turns it off.
//
// A forward with ConvPrecision::Bf16 on a CPU with native bf16 describes
// the input and weight as bf16 (fp32 bias and output): the input is
// reordered to bf16 on every call, the weight once per version, and oneDNN
// picks its bf16 kernel (brgconv:avx512_core_bf16), which accumulates in
// fp32. Without native bf16 the forward stays fp32.
//
//===----------------------------------------------------------------------===//

#include "Ops.h"
#include "PostOps.h"

#include "kdrt/reference/Conv2d.h"
#include "kdrt/reference/Normalization.h"
#include "kdrt/reference/PostOps.h"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace kdrt::onednn {
namespace {

using dnnl::algorithm;
using dnnl::convolution_backward_data;
using dnnl::convolution_backward_weights;
using dnnl::convolution_forward;
using dnnl::prop_kind;

/// The convolution's dimensions in oneDNN's terms.
struct ConvGeometry {
  Dims src, weights, bias, dst;
  Dims strides, dilates, padL, padR;
  /// Plain layout of the runtime's [O, C/g, KH, KW] weight, seen with
  /// oneDNN's leading group dimension when groups > 1.
  memory::desc plainWeights;
  /// Whether the backward primitives are asked for channels-last
  /// activations (the executor's layout) instead of choosing their own:
  /// oneDNN's default choice for the backward is a blocked layout, which
  /// would cost two reorders per call on channels-last tensors.
  bool channelsLast = false;
  memory::desc activation(const Dims &dims) const {
    return channelsLast ? layoutDesc(dims, Layout::ChannelsLast)
                        : anyDesc(dims);
  }
};

ConvGeometry geometryOf(const Conv2dDesc &desc, const Shape &input,
                        const Shape &weight, const Shape &output) {
  ConvGeometry g;
  g.src = dimsOf(input);
  g.dst = dimsOf(output);
  g.bias = {weight[0]};
  if (desc.groups > 1)
    g.weights = {desc.groups, weight[0] / desc.groups, weight[1], weight[2],
                 weight[3]};
  else
    g.weights = dimsOf(weight);
  g.plainWeights = plainDesc(g.weights);
  g.strides = {desc.strideH, desc.strideW};
  // oneDNN counts dilation from 0 (no gap).
  g.dilates = {desc.dilationH - 1, desc.dilationW - 1};
  g.padL = {desc.padH, desc.padW};
  // The right padding that makes oneDNN's output size equal the runtime's
  // floor-mode size; a negative value means rows the floor drops, for which
  // zero padding is equivalent.
  auto padRight = [](int64_t in, int64_t out, int64_t kernel, int64_t stride,
                     int64_t dilation, int64_t padLeft) {
    int64_t extent = (kernel - 1) * dilation + 1;
    return std::max<int64_t>((out - 1) * stride + extent - in - padLeft, 0);
  };
  g.padR = {padRight(input[2], output[2], weight[2], desc.strideH,
                     desc.dilationH, desc.padH),
            padRight(input[3], output[3], weight[3], desc.strideW,
                     desc.dilationW, desc.padW)};
  return g;
}

CacheKey keyOf(const char *op, const ConvGeometry &g) {
  CacheKey key(op);
  key.add(g.src).add(g.weights).add(g.dst).add(g.strides).add(g.dilates)
      .add(g.padL).add(g.padR).add(int64_t(g.channelsLast));
  return key;
}

/// `bf16`: the input and weight in bf16, for the forward only (the
/// backward always passes false).
convolution_forward::desc forwardDesc(const ConvGeometry &g, prop_kind kind,
                                      bool withBias, bool bf16 = false) {
  memory::desc src = g.activation(g.src), weights = anyDesc(g.weights);
  if (bf16) {
    src = memory::desc(g.src, memory::data_type::bf16,
                       memory::format_tag::any);
    weights = memory::desc(g.weights, memory::data_type::bf16,
                           memory::format_tag::any);
  }
  if (withBias)
    return convolution_forward::desc(
        kind, algorithm::convolution_direct, src, weights, anyDesc(g.bias),
        g.activation(g.dst), g.strides, g.dilates, g.padL, g.padR);
  return convolution_forward::desc(kind, algorithm::convolution_direct, src,
                                   weights, g.activation(g.dst), g.strides,
                                   g.dilates, g.padL, g.padR);
}

struct ForwardEntry {
  convolution_forward::primitive_desc pd;
  convolution_forward primitive;
};

Status checkShapes(const Conv2dDesc &desc, const Tensor &input,
                   const Tensor &weight, const Shape &output,
                   Shape &expected) {
  KDRT_RETURN_IF_ERROR(reference::conv2dOutputShape(desc, input.shape(),
                                                    weight.shape(), expected));
  return reference::checkShape("conv2d", "output", output, expected);
}

bool foldingEnabled() {
  static const bool enabled = [] {
    const char *setting = std::getenv("KDRT_FOLD_SCALE_SHIFT");
    return !(setting && std::string(setting) == "0");
  }();
  return enabled;
}

/// Whether conv2dForward folds the chain's first post-op into the weight.
bool foldsScaleShift(const Conv2dDesc &desc, const Tensor &weight) {
  return foldingEnabled() && desc.postOps.count > 0 &&
         desc.postOps.ops[0].kind == PostOpKind::ScaleShift &&
         weight.version() != 0;
}

PostOpChain withoutFirst(const PostOpChain &chain) {
  PostOpChain rest;
  for (int k = 1; k < chain.count; ++k)
    rest.append(chain.ops[k]);
  return rest;
}

bool sameValues(const std::vector<float> &kept, const Tensor &tensor) {
  return kept.size() == size_t(tensor.numElements()) &&
         std::memcmp(kept.data(), tensor.data(),
                     kept.size() * sizeof(float)) == 0;
}

/// `weight` with `scale` folded in, in the layout `wanted`, and the bias
/// that goes with it; remade only when the weight's version or the values
/// of scale, shift or bias changed since the last call.
const FoldedWeight &foldedWeight(DnnContext &ctx, const ConvGeometry &g,
                                 const Tensor &weight, const Tensor *bias,
                                 const Tensor &scale, const Tensor &shift,
                                 const memory::desc &wanted) {
  CacheKey key("folded_weight");
  key.add(static_cast<const void *>(weight.data())).add(wanted);
  FoldedWeight *folded = ctx.foldedWeights.find(key);
  if (!folded)
    folded = &ctx.foldedWeights.insert(key, FoldedWeight());
  if (folded->version == weight.version() &&
      sameValues(folded->scale, scale) && sameValues(folded->shift, shift) &&
      (bias ? sameValues(folded->bias, *bias) : folded->bias.empty()))
    return *folded;

  int64_t out = weight.dim(0);
  const float *s = scale.data(), *t = shift.data();
  std::vector<float> plain(size_t(weight.numElements()));
  folded->foldedBias.resize(size_t(out));
  reference::foldScaleShift(
      weight.data(), bias ? bias->data() : nullptr, out,
      weight.numElements() / out,
      [&](int64_t o) { return std::pair<float, float>(s[o], t[o]); },
      plain.data(), folded->foldedBias.data());
  if (!folded->weights)
    folded->weights = memory(wanted, ctx.engine);
  // Not wrap(): `plain` is freed on return, and wrap() remembers addresses.
  memory user(g.plainWeights, ctx.engine, plain.data());
  cachedReorder(ctx, g.plainWeights, wanted)
      .execute(ctx.stream, user, folded->weights);
  ctx.stream.wait();
  folded->version = weight.version();
  folded->scale.assign(s, s + out);
  folded->shift.assign(t, t + out);
  if (bias)
    folded->bias.assign(bias->data(), bias->data() + out);
  else
    folded->bias.clear();
  return *folded;
}

} // namespace

bool nativeBf16() {
  static const bool native = [] {
    auto need = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) & need) ==
           need;
  }();
  return native;
}

Status conv2dForward(DnnContext &ctx, const Conv2dDesc &desc,
                     const Tensor &input, const Tensor &weight,
                     const Tensor *bias, const PostOpTensors &postOpTensors,
                     Tensor &output) {
  return guarded("conv2d", [&]() -> Status {
    Shape expected;
    KDRT_RETURN_IF_ERROR(
        checkShapes(desc, input, weight, output.shape(), expected));
    if (bias)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          "conv2d", "bias", bias->shape(), Shape{weight.dim(0)}));
    KDRT_RETURN_IF_ERROR(checkPostOpTensors("conv2d", desc.postOps,
                                            postOpTensors, expected,
                                            expected[1]));
    ConvGeometry g = geometryOf(desc, input.shape(), weight.shape(), expected);
    // With the first scale-shift folded into the weight, the chain and
    // tensors left for the post-ops are the rest.
    bool fold = foldsScaleShift(desc, weight);
    PostOpChain chain = fold ? withoutFirst(desc.postOps) : desc.postOps;
    PostOpTensors rest;
    if (fold) {
      rest = postOpTensors;
      rest.scales.erase(rest.scales.begin());
      rest.shifts.erase(rest.shifts.begin());
    }
    const PostOpTensors &tensors = fold ? rest : postOpTensors;
    FusedPostOps fused =
        fusePostOps(ctx, chain, tensors, {1, expected[1], 1, 1}, g.dst,
                    /*withAttributes=*/false);
    PostOpChain fusedChain = fused.expressible ? chain : PostOpChain();
    if (!fused.expressible)
      fused = FusedPostOps();
    if (!fused.expressible && output.channelsLast())
      return Status::internal("conv2d: a post-op chain oneDNN cannot express "
                              "runs on the host, which needs a row-major "
                              "output");

    bool bf16 = desc.precision == ConvPrecision::Bf16 && nativeBf16();
    bool withBias = bias != nullptr || fold;
    CacheKey key = keyOf("conv_fwd", g);
    key.add(int64_t(withBias)).add(int64_t(bf16));
    addToKey(key, fusedChain);
    const ForwardEntry &entry = ctx.cache.getOrCreate<ForwardEntry>(key, [&] {
      // The attributes of the chain oneDNN runs (empty when the host does).
      dnnl::primitive_attr attr =
          fusePostOps(ctx, fusedChain, tensors, {1, expected[1], 1, 1}, g.dst)
              .attr;
      convolution_forward::primitive_desc pd(
          forwardDesc(g, prop_kind::forward_inference, withBias, bf16), attr,
          ctx.engine);
      return ForwardEntry{pd, convolution_forward(pd)};
    });

    memory src = inLayout(ctx, wrap(ctx, input), entry.pd.src_desc());
    const FoldedWeight *folded =
        fold ? &foldedWeight(ctx, g, weight, bias, *postOpTensors.scales[0],
                             *postOpTensors.shifts[0], entry.pd.weights_desc())
             : nullptr;
    memory weights = folded ? folded->weights
                            : weightsInLayout(ctx, weight, g.plainWeights,
                                              entry.pd.weights_desc());
    OutputMemory dst(ctx, wrap(ctx, output), entry.pd.dst_desc());
    if (fused.sumResidual)
      dst.prefill(ctx, wrap(ctx, *fused.sumResidual));
    Args args = fused.args;
    args[DNNL_ARG_SRC] = src;
    args[DNNL_ARG_WEIGHTS] = weights;
    args[DNNL_ARG_DST] = dst.primitiveMemory();
    if (folded)
      args[DNNL_ARG_BIAS] =
          wrap(ctx, plainDesc(g.bias), folded->foldedBias.data());
    else if (bias)
      args[DNNL_ARG_BIAS] = wrap(ctx, *bias);
    run(entry.primitive, ctx.stream, args);
    dst.commit(ctx);
    ctx.stream.wait();
    if (fusedChain.count != chain.count)
      applyPostOpsOnHost(chain, tensors, output, expected[1],
                         expected[2] * expected[3]);
    return Status::success();
  });
}

Status conv2dBackward(DnnContext &ctx, const Conv2dDesc &desc,
                      const Tensor &input, const Tensor &weight,
                      const Tensor *output, const Tensor &gradOutput,
                      Tensor *gradInput, Tensor *gradWeight,
                      Tensor *gradBias) {
  return guarded("conv2d", [&]() -> Status {
    const char *op = "conv2d";
    Shape expected;
    KDRT_RETURN_IF_ERROR(
        checkShapes(desc, input, weight, gradOutput.shape(), expected));
    if (gradInput)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradInput", gradInput->shape(), input.shape()));
    if (gradWeight)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradWeight", gradWeight->shape(), weight.shape()));
    if (gradBias)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradBias", gradBias->shape(), Shape{weight.dim(0)}));
    ConvGeometry g = geometryOf(desc, input.shape(), weight.shape(), expected);

    // Through the fused activation first (contract: `output` is the
    // post-activation forward output).
    Tensor gradPre = gradOutput;
    if (output && !desc.postOps.empty()) {
      if (output->shape() != expected)
        return reference::shapeError(op, "output must have shape " +
                                             expected.toString());
      // Elementwise, so in the layout output and gradOutput share.
      gradPre = Tensor::owning(expected).withLayout(gradOutput.layout());
      postOpGradient(desc.postOps, *output, gradOutput, gradPre);
    }
    memory userGradOut = wrap(ctx, gradPre);
    g.channelsLast = input.channelsLast() && gradPre.channelsLast();

    struct HintEntry {
      convolution_forward::primitive_desc pd;
    };
    bool withBias = gradBias != nullptr;
    CacheKey hintKey = keyOf("conv_fwd_hint", g);
    hintKey.add(int64_t(withBias));
    const HintEntry &hint = ctx.cache.getOrCreate<HintEntry>(hintKey, [&] {
      return HintEntry{convolution_forward::primitive_desc(
          forwardDesc(g, prop_kind::forward_training, withBias), ctx.engine)};
    });

    if (gradInput) {
      struct DataEntry {
        convolution_backward_data::primitive_desc pd;
        convolution_backward_data primitive;
      };
      const DataEntry &entry = ctx.cache.getOrCreate<DataEntry>(
          keyOf("conv_bwd_data", g).add(int64_t(withBias)), [&] {
            convolution_backward_data::primitive_desc pd(
                convolution_backward_data::desc(
                    algorithm::convolution_direct, g.activation(g.src),
                    anyDesc(g.weights), g.activation(g.dst), g.strides,
                    g.dilates,
                    g.padL, g.padR),
                ctx.engine, hint.pd);
            return DataEntry{pd, convolution_backward_data(pd)};
          });
      memory diffDst = inLayout(ctx, userGradOut, entry.pd.diff_dst_desc());
      memory weights = weightsInLayout(ctx, weight, g.plainWeights,
                                       entry.pd.weights_desc());
      OutputMemory diffSrc(ctx, wrap(ctx, *gradInput),
                           entry.pd.diff_src_desc());
      entry.primitive.execute(ctx.stream,
                              {{DNNL_ARG_DIFF_DST, diffDst},
                               {DNNL_ARG_WEIGHTS, weights},
                               {DNNL_ARG_DIFF_SRC, diffSrc.primitiveMemory()}});
      diffSrc.commit(ctx);
    }

    if (gradWeight) {
      struct WeightsEntry {
        convolution_backward_weights::primitive_desc pd;
        convolution_backward_weights primitive;
      };
      const WeightsEntry &entry = ctx.cache.getOrCreate<WeightsEntry>(
          keyOf("conv_bwd_weights", g).add(int64_t(withBias)), [&] {
            auto opDesc =
                withBias
                    ? convolution_backward_weights::desc(
                          algorithm::convolution_direct, g.activation(g.src),
                          anyDesc(g.weights), anyDesc(g.bias),
                          g.activation(g.dst),
                          g.strides, g.dilates, g.padL, g.padR)
                    : convolution_backward_weights::desc(
                          algorithm::convolution_direct, g.activation(g.src),
                          anyDesc(g.weights), g.activation(g.dst), g.strides,
                          g.dilates, g.padL, g.padR);
            convolution_backward_weights::primitive_desc pd(opDesc, ctx.engine,
                                                            hint.pd);
            return WeightsEntry{pd, convolution_backward_weights(pd)};
          });
      memory src = inLayout(ctx, wrap(ctx, input), entry.pd.src_desc());
      memory diffDst = inLayout(ctx, userGradOut, entry.pd.diff_dst_desc());
      OutputMemory diffWeights(ctx, wrap(ctx, g.plainWeights,
                                         gradWeight->data()),
                               entry.pd.diff_weights_desc());
      Args args{{DNNL_ARG_SRC, src},
                {DNNL_ARG_DIFF_DST, diffDst},
                {DNNL_ARG_DIFF_WEIGHTS, diffWeights.primitiveMemory()}};
      std::optional<OutputMemory> diffBias;
      if (withBias) {
        diffBias.emplace(ctx, wrap(ctx, *gradBias),
                         entry.pd.diff_bias_desc());
        args[DNNL_ARG_DIFF_BIAS] = diffBias->primitiveMemory();
      }
      run(entry.primitive, ctx.stream, args);
      diffWeights.commit(ctx);
      if (diffBias)
        diffBias->commit(ctx);
    } else if (gradBias) {
      reduceSum(ctx, userGradOut,
                wrap(ctx, plainDesc({1, expected[1], 1, 1}),
                     gradBias->data()));
    }
    ctx.stream.wait();
    return Status::success();
  });
}

} // namespace kdrt::onednn
