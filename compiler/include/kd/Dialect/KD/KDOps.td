//===- KDOps.td - Ops of the kd dialect --------------------*- tablegen -*-===//
//
// The op definitions, one file per family.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDOPS_TD
#define KD_DIALECT_KD_KDOPS_TD

include "kd/Dialect/KD/KDProgramOps.td"
include "kd/Dialect/KD/KDLayerOps.td"
include "kd/Dialect/KD/KDStageOps.td"
include "kd/Dialect/KD/KDLossOps.td"
include "kd/Dialect/KD/KDBackwardOps.td"
include "kd/Dialect/KD/KDFusedOps.td"

#endif // KD_DIALECT_KD_KDOPS_TD
