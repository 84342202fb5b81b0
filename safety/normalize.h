// Text normalisation before matching: NFKC-style folding of the look-alikes that
// matter for obfuscation (full-width forms, mathematical and circled letters, common
// Cyrillic/Greek homoglyphs, Latin accents), case folding, zero-width and control
// characters removed, white space collapsed. Keeps a map back to the original bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moerag::safety {

/// Normalised text plus, for each of its bytes, the byte offset in the original.
struct Normalized {
  std::string text;               ///< folded UTF-8
  std::vector<uint32_t> origin;   ///< size text.size() + 1; origin[i] = original offset of byte i
  size_t n_control = 0;           ///< C0/C1 controls (not \t \n \r) and bidi overrides seen
  size_t n_invisible = 0;         ///< zero-width / format characters removed
  bool valid_utf8 = true;         ///< false when invalid bytes were replaced

  /// Maps the normalised byte range [b, e) to the original byte range.
  std::pair<size_t, size_t> original_span(size_t b, size_t e) const { return {origin[b], origin[e]}; }
};

/// Folds one code point; returns 0 when it is dropped entirely.
char32_t fold_code_point(char32_t cp);

/// Normalises s (see the file comment). O(n); allocates the output once.
Normalized normalize(std::string_view s);

/// Only the folded text (no offset map): for training and feature extraction.
std::string normalize_text(std::string_view s);

}  // namespace moerag::safety
