// Unicode character properties the tokenizers need (general category classes,
// White_Space, lower-casing, canonical decomposition), read from ICU so the tables
// follow a maintained Unicode release instead of hand-typed ranges.
// Internal to engine/: the tokenizer front door (engine/tokenizer.h) hides it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moerag::engine::unicode {

/// Bit flags for one code point; several may be set (e.g. WHITESPACE and CONTROL
/// for "\t").
enum CpFlag : uint16_t {
  LETTER = 1 << 0,       ///< \p{L}: Lu Ll Lt Lm Lo
  NUMBER = 1 << 1,       ///< \p{N}: Nd Nl No
  PUNCTUATION = 1 << 2,  ///< \p{P}: Pc Pd Ps Pe Pi Pf Po
  SYMBOL = 1 << 3,       ///< \p{S}: Sm Sc Sk So
  MARK = 1 << 4,         ///< \p{M}: Mn Mc Me
  WHITESPACE = 1 << 5,   ///< \s: the White_Space property
  CONTROL = 1 << 6,      ///< Cc
  OTHER = 1 << 7,        ///< \p{C}: Cc Cf Cs Co Cn
  NONSPACING_MARK = 1 << 8,  ///< Mn (what BERT's accent stripping removes)
};

/// The CpFlag bits of cp (0 for values above U+10FFFF).
uint16_t flags(char32_t cp);

inline bool is_letter(char32_t cp) { return flags(cp) & LETTER; }
inline bool is_number(char32_t cp) { return flags(cp) & NUMBER; }
inline bool is_whitespace(char32_t cp) { return flags(cp) & WHITESPACE; }

/// Simple (one-to-one) lower-case mapping.
char32_t to_lower(char32_t cp);

/// Canonical decomposition (NFD) of a sequence of code points.
std::u32string nfd(std::u32string_view s);

/// Decodes UTF-8 into code points plus the byte offset where each starts;
/// `offsets` gets size() + 1 entries (the last is s.size()). An invalid byte
/// becomes U+FFFD covering that one byte, so offsets always tile the input.
void decode_utf8(std::string_view s, std::u32string& cps, std::vector<uint32_t>& offsets);

/// Byte length of the UTF-8 sequence that starts with lead byte c (1 for stray
/// continuation bytes, so scanning always advances).
inline size_t utf8_seq_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

}  // namespace moerag::engine::unicode
