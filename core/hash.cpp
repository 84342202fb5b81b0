// Hash helpers over OpenSSL (SHA-256, RAND_bytes) and a plain FNV-1a.
#include "core/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <vector>

#include "core/result.h"

namespace moerag {

static std::string to_hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  MOERAG_ASSERT(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1);
  return to_hex(md, len);
}

uint64_t fnv1a64(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string random_hex(size_t n_bytes) {
  std::vector<unsigned char> buf(n_bytes);
  MOERAG_ASSERT(RAND_bytes(buf.data(), static_cast<int>(n_bytes)) == 1);
  return to_hex(buf.data(), n_bytes);
}

}  // namespace moerag
