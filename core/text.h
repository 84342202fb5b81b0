// UTF-8 helpers: validation, decoding, simple case folding, full-width folding,
// CJK detection and sentence splitting that understands Chinese punctuation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moerag::text {

/// True when s is well-formed UTF-8 (no overlongs, surrogates or values > U+10FFFF).
bool utf8_valid(std::string_view s);

/// Decodes the code point at s[pos]; returns its byte length, or 0 when invalid
/// (then cp is U+FFFD). pos must be < s.size().
size_t utf8_decode(std::string_view s, size_t pos, char32_t& cp);

/// Appends cp encoded as UTF-8.
void utf8_append(std::string& out, char32_t cp);

/// s with every invalid sequence replaced by U+FFFD.
std::string utf8_sanitize(std::string_view s);

/// Number of code points (invalid bytes count one each).
size_t utf8_length(std::string_view s);

/// Code points of s (invalid bytes become U+FFFD).
std::u32string to_u32(std::string_view s);
std::string from_u32(std::u32string_view s);

/// Simple lower-case mapping for Latin, Greek, Cyrillic and full-width Latin.
char32_t fold_case(char32_t cp);
std::string fold_case(std::string_view s);

/// Full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space to ASCII.
char32_t to_halfwidth(char32_t cp);
std::string to_halfwidth(std::string_view s);

/// Han ideographs, kana, Hangul and CJK punctuation blocks.
bool is_cjk(char32_t cp);
/// Han ideographs only (the characters Chinese text is written in).
bool is_han(char32_t cp);
bool has_cjk(std::string_view s);

/// Unicode white space (ASCII, NBSP, ideographic space, the U+2000 block).
bool is_space(char32_t cp);

/// Splits text into sentences: after 。！？；… and after . ! ? ; followed by space
/// or the end, keeping closing quotes/brackets with their sentence; blank lines end
/// a sentence too. Pieces are trimmed; empty ones are dropped.
std::vector<std::string_view> split_sentences(std::string_view s);

/// s without leading and trailing ASCII/Unicode white space.
std::string_view trim(std::string_view s);

}  // namespace moerag::text
