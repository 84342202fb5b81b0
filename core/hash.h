// Hashes and random tokens: SHA-256 (OpenSSL) for API keys and content hashes,
// FNV-1a for cheap in-memory hashing, and cryptographically random hex tokens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moerag {

/// Lower-case hex SHA-256 of data (64 characters).
std::string sha256_hex(std::string_view data);

/// 64-bit FNV-1a; stable across platforms and runs (not for security).
uint64_t fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ULL);

/// n_bytes of cryptographically secure randomness as lower-case hex (2*n_bytes chars).
std::string random_hex(size_t n_bytes);

}  // namespace moerag
