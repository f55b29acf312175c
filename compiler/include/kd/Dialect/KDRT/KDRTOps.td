//===- KDRTOps.td - Ops of the kdrt dialect ----------------*- tablegen -*-===//
#ifndef KD_DIALECT_KDRT_KDRTOPS_TD
#define KD_DIALECT_KDRT_KDRTOPS_TD

include "kd/Dialect/KDRT/KDRTProgramOps.td"
include "kd/Dialect/KDRT/KDRTStageOps.td"
include "kd/Dialect/KDRT/KDRTKernelOps.td"

#endif // KD_DIALECT_KDRT_KDRTOPS_TD
