//===- Sha256.h - Hex SHA-256 digests for run provenance --------*- C++ -*-===//
#ifndef KDC_SHA256_H
#define KDC_SHA256_H

#include <cstddef>
#include <string>
#include <string_view>

namespace kdc {

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256Hex(std::string_view bytes);
/// Lower-case hex SHA-256 of `size` raw bytes.
std::string sha256Hex(const void *data, size_t size);

} // namespace kdc

#endif // KDC_SHA256_H
