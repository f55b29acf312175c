//===- Passes.h - Conversions out of the kd dialect -------------*- C++ -*-===//
#ifndef KD_CONVERSION_PASSES_H
#define KD_CONVERSION_PASSES_H

#include "kd/Conversion/KDToKDRT/KDToKDRT.h"

#endif // KD_CONVERSION_PASSES_H
