//===- Sha256.cpp - Hex SHA-256 digests for run provenance ----------------===//
#include "Sha256.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/SHA256.h"

std::string kdc::sha256Hex(const void *data, size_t size) {
  llvm::SHA256 hash;
  hash.update(llvm::ArrayRef<uint8_t>(static_cast<const uint8_t *>(data), size));
  std::array<uint8_t, 32> digest = hash.final();
  static const char *hex = "0123456789abcdef";
  std::string text;
  for (uint8_t byte : digest) {
    text += hex[byte >> 4];
    text += hex[byte & 15];
  }
  return text;
}

std::string kdc::sha256Hex(std::string_view bytes) { return sha256Hex(bytes.data(), bytes.size()); }
