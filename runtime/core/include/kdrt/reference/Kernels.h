//===- Kernels.h - All reference kernels ------------------------*- C++ -*-===//
//
// Umbrella header for the reference kernels (templated on the scalar type).
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_KERNELS_H
#define KDRT_REFERENCE_KERNELS_H

#include "kdrt/reference/Activation.h"
#include "kdrt/reference/Attention.h"
#include "kdrt/reference/Binary.h"
#include "kdrt/reference/Conv2d.h"
#include "kdrt/reference/Ensemble.h"
#include "kdrt/reference/FeatureLosses.h"
#include "kdrt/reference/L2Normalize.h"
#include "kdrt/reference/Linear.h"
#include "kdrt/reference/LogitLossGroup.h"
#include "kdrt/reference/LogitLosses.h"
#include "kdrt/reference/MatMul.h"
#include "kdrt/reference/Normalization.h"
#include "kdrt/reference/Plumbing.h"
#include "kdrt/reference/PostOps.h"
#include "kdrt/reference/Pooling.h"
#include "kdrt/reference/Resize.h"
#include "kdrt/reference/Softmax.h"
#include "kdrt/reference/Tokens.h"

#endif // KDRT_REFERENCE_KERNELS_H
