//===- ShapeFunctions.h - Shape rules of the tensor built-ins ---*- C++ -*-===//
//
// One function per shape rule of the catalogue; the table in Builtins.cpp
// points at them. Each returns the output shape and the learnable parameter
// shapes, or a message that prints the offending shapes.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_SEMA_SHAPEFUNCTIONS_H
#define KD_DSL_SEMA_SHAPEFUNCTIONS_H

#include "kd/dsl/Builtins.h"

namespace kd::shapes {

// Layers.
ShapeResult conv(const ShapeQuery &q);
ShapeResult linear(const ShapeQuery &q);
ShapeResult batchNorm(const ShapeQuery &q);
ShapeResult layerNorm(const ShapeQuery &q);
ShapeResult groupNorm(const ShapeQuery &q);
ShapeResult elementwise(const ShapeQuery &q);
ShapeResult lastDim(const ShapeQuery &q);
ShapeResult pool(const ShapeQuery &q);
ShapeResult globalPool(const ShapeQuery &q);
ShapeResult adaptivePool(const ShapeQuery &q);
ShapeResult flatten(const ShapeQuery &q);
ShapeResult reshape(const ShapeQuery &q);
ShapeResult tokens(const ShapeQuery &q);
ShapeResult clsToken(const ShapeQuery &q);
ShapeResult posEmbed(const ShapeQuery &q);
ShapeResult select(const ShapeQuery &q);
ShapeResult attention(const ShapeQuery &q);
ShapeResult attentionPool(const ShapeQuery &q);
ShapeResult resize(const ShapeQuery &q);

// Value functions.
ShapeResult broadcastBinary(const ShapeQuery &q);
ShapeResult concat(const ShapeQuery &q);
ShapeResult matmul(const ShapeQuery &q);
ShapeResult meanOf(const ShapeQuery &q);

// Losses.
ShapeResult crossEntropy(const ShapeQuery &q);
ShapeResult sameShapeLoss(const ShapeQuery &q);  // feature losses: mse, l1, ...
ShapeResult logitPairLoss(const ShapeQuery &q);  // kl: two predictions
ShapeResult attentionTransfer(const ShapeQuery &q);
ShapeResult anyShapeLoss(const ShapeQuery &q);
ShapeResult decoupledKd(const ShapeQuery &q);

// Helpers.
ShapeResult normalize(const ShapeQuery &q);
ShapeResult adapt(const ShapeQuery &q);
ShapeResult attentionFuse(const ShapeQuery &q);
ShapeResult detach(const ShapeQuery &q);

// The adapter "auto" picks for mapping `from` to `to` ("conv1x1", "pool",
// "conv1x1+pool", "linear", "identity"), or "" when none can.
std::string chooseAdapter(const Shape &from, const Shape &to);

} // namespace kd::shapes

#endif // KD_DSL_SEMA_SHAPEFUNCTIONS_H
