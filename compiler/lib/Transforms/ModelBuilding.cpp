//===- ModelBuilding.cpp - Building learned modules inside passes ---------===//
#include "ModelBuilding.h"

#include <cmath>

using namespace mlir;

namespace kd {

RankedTensorType batchedType(MLIRContext *context, ArrayRef<int64_t> perSample) {
  SmallVector<int64_t> dims = {ShapedType::kDynamic};
  dims.append(perSample.begin(), perSample.end());
  return RankedTensorType::get(dims, Float32Type::get(context));
}

Value buildParam(OpBuilder &b, Location loc, StringRef name, ParamRole role, InitKind init, ArrayRef<int64_t> shape,
                 StringRef fan, std::optional<double> gain, std::optional<double> bound) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return b.create<ParamOp>(loc, type, b.getStringAttr(name), ParamRoleAttr::get(b.getContext(), role),
                           InitKindAttr::get(b.getContext(), init), fan.empty() ? StringAttr() : b.getStringAttr(fan),
                           gain ? b.getF64FloatAttr(*gain) : FloatAttr(), FloatAttr(), FloatAttr(),
                           bound ? b.getF64FloatAttr(*bound) : FloatAttr());
}

Value buildConv(OpBuilder &b, Location loc, Value input, int64_t outChannels, int64_t kernel, StringRef prefix,
                WeightInit init) {
  ArrayRef<int64_t> x = cast<RankedTensorType>(input.getType()).getShape();
  int64_t fanIn = x[1] * kernel * kernel;
  Value weight, bias;
  if (init == WeightInit::KaimingFanOut) {
    weight = buildParam(b, loc, (prefix + ".weight").str(), ParamRole::Weight, InitKind::KaimingNormal,
                        {outChannels, x[1], kernel, kernel}, "fan_out", std::sqrt(2.0));
    bias = buildParam(b, loc, (prefix + ".bias").str(), ParamRole::Bias, InitKind::Zeros, {outChannels});
  } else {
    weight = buildParam(b, loc, (prefix + ".weight").str(), ParamRole::Weight, InitKind::KaimingUniform,
                        {outChannels, x[1], kernel, kernel}, "fan_in", std::sqrt(1.0 / 3.0));
    bias = buildParam(b, loc, (prefix + ".bias").str(), ParamRole::Bias, InitKind::Uniform, {outChannels}, {}, {},
                      1.0 / std::sqrt(double(fanIn)));
  }
  int64_t pad = kernel / 2;
  auto type = batchedType(b.getContext(), {outChannels, x[2], x[3]});
  return b.create<Conv2dOp>(loc, type, input, weight, bias, b.getDenseI64ArrayAttr({1, 1}),
                            b.getDenseI64ArrayAttr({pad, pad}), b.getDenseI64ArrayAttr({1, 1}),
                            b.getI64IntegerAttr(1));
}

Value buildLinear(OpBuilder &b, Location loc, Value input, int64_t outFeatures, StringRef prefix, WeightInit init) {
  ArrayRef<int64_t> x = cast<RankedTensorType>(input.getType()).getShape();
  int64_t fanIn = x.back();
  Value weight, bias;
  if (init == WeightInit::KaimingFanOut) {
    weight = buildParam(b, loc, (prefix + ".weight").str(), ParamRole::Weight, InitKind::KaimingNormal,
                        {outFeatures, fanIn}, "fan_out", std::sqrt(2.0));
    bias = buildParam(b, loc, (prefix + ".bias").str(), ParamRole::Bias, InitKind::Zeros, {outFeatures});
  } else {
    weight = buildParam(b, loc, (prefix + ".weight").str(), ParamRole::Weight, InitKind::KaimingUniform,
                        {outFeatures, fanIn}, "fan_in", std::sqrt(1.0 / 3.0));
    bias = buildParam(b, loc, (prefix + ".bias").str(), ParamRole::Bias, InitKind::Uniform, {outFeatures}, {}, {},
                      1.0 / std::sqrt(double(fanIn)));
  }
  SmallVector<int64_t> out(x);
  out.back() = outFeatures;
  return b.create<LinearOp>(loc, RankedTensorType::get(out, b.getF32Type()), input, weight, bias);
}

Value buildReshape(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> perSample) {
  auto type = batchedType(b.getContext(), perSample);
  if (input.getType() == type)
    return input;
  return b.create<ReshapeOp>(loc, type, input);
}

ModelOp buildModel(OpBuilder &b, Location loc, StringRef name, Type inputType,
                   function_ref<Value(OpBuilder &, Value)> body) {
  auto model = b.create<ModelOp>(loc, b.getStringAttr(name), TypeAttr::get(b.getFunctionType({inputType}, {})));
  Block *block = new Block();
  model.getBody().push_back(block);
  Value input = block->addArgument(inputType, loc);
  OpBuilder inner = OpBuilder::atBlockEnd(block);
  Value output = body(inner, input);
  inner.create<TapOp>(loc, inner.getStringAttr("output"), output, TapKindAttr::get(b.getContext(), TapKind::Output));
  inner.create<OutputOp>(loc, output);
  model.setFunctionTypeAttr(TypeAttr::get(b.getFunctionType({inputType}, {output.getType()})));
  return model;
}

} // namespace kd
