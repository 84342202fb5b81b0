// The Embedder interface: texts in, L2-normalised vectors out. The engine's BERT
// embedder (a GGUF file) implements it, and so does retrieval's built-in hashed
// n-gram embedder; apps see only this interface.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"

namespace moerag::engine {

class Embedder {
 public:
  virtual ~Embedder() = default;
  /// Length of every vector this embedder returns.
  virtual size_t dim() const = 0;
  /// Identifies model + version + any fitted state; an index built by another id is stale.
  virtual std::string id() const = 0;
  /// Embeds texts: returns n * dim floats, row i for texts[i], each row L2-normalised
  /// (an empty text gives a zero row).
  virtual Result<std::vector<float>> embed(const std::vector<std::string>& texts) = 0;
};

}  // namespace moerag::engine
