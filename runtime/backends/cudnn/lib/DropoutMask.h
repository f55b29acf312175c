//===- DropoutMask.h - The dropout mask function on host and device -*- C++ -*-===//
//
// The same counter-based hash as reference::dropoutKeeps, usable in CUDA
// kernels. It is a copy rather than a call because the reference function is
// host-only; a unit test compares the two element by element on the host so
// the masks of both backends can never drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_CUDNN_DROPOUTMASK_H
#define KDRT_CUDNN_DROPOUTMASK_H

#include <cstdint>

#ifdef __CUDACC__
#define KDRT_HOST_DEVICE __host__ __device__
#else
#define KDRT_HOST_DEVICE
#endif

namespace kdrt::cudnn {

/// Whether element `index` survives dropout with probability p under `seed`.
KDRT_HOST_DEVICE inline bool dropoutKeeps(uint64_t seed, uint64_t index,
                                          double p) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  double uniform = double(z >> 11) * (1.0 / 9007199254740992.0); // [0, 1)
  return uniform >= p;
}

} // namespace kdrt::cudnn

#endif // KDRT_CUDNN_DROPOUTMASK_H
