// Unicode properties for the tokenizers, backed by ICU (libicu-dev): u_charType for
// general categories, u_isUWhiteSpace for White_Space, the NFD normalizer for
// BERT's accent stripping. The Basic Multilingual Plane is cached in a table built
// once, so the hot path of the pre-tokenizers is one array load per code point.
#include "engine/unicode_props.h"

#include <array>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "core/text.h"

namespace moerag::engine::unicode {
namespace {

uint16_t compute_flags(char32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  uint16_t f = 0;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER: f |= LETTER; break;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER: f |= NUMBER; break;
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION: f |= PUNCTUATION; break;
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL: f |= SYMBOL; break;
    case U_NON_SPACING_MARK: f |= MARK | NONSPACING_MARK; break;
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK: f |= MARK; break;
    case U_CONTROL_CHAR: f |= CONTROL | OTHER; break;
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_GENERAL_OTHER_TYPES: f |= OTHER; break;  // U_GENERAL_OTHER_TYPES is Cn
    default: break;
  }
  if (u_isUWhiteSpace(c)) f |= WHITESPACE;
  return f;
}

const std::array<uint16_t, 0x10000>& bmp_table() {
  static const std::array<uint16_t, 0x10000> table = [] {
    std::array<uint16_t, 0x10000> t{};
    for (char32_t cp = 0; cp < 0x10000; ++cp) t[cp] = compute_flags(cp);
    return t;
  }();
  return table;
}

}  // namespace

uint16_t flags(char32_t cp) {
  if (cp < 0x10000) return bmp_table()[cp];
  if (cp > 0x10FFFF) return 0;
  return compute_flags(cp);
}

char32_t to_lower(char32_t cp) { return static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))); }

std::u32string nfd(std::u32string_view s) {
  std::u16string in;
  in.reserve(s.size());
  for (char32_t cp : s) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x10000) {
      in.push_back(static_cast<char16_t>(cp));
    } else {
      in.push_back(static_cast<char16_t>(U16_LEAD(cp)));
      in.push_back(static_cast<char16_t>(U16_TRAIL(cp)));
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* norm = unorm2_getNFDInstance(&status);
  if (U_FAILURE(status)) return std::u32string(s);  // ICU data missing: leave text as is
  std::u16string out(in.size() * 3 + 8, u'\0');
  int32_t n = unorm2_normalize(norm, reinterpret_cast<const UChar*>(in.data()),
                               static_cast<int32_t>(in.size()), reinterpret_cast<UChar*>(out.data()),
                               static_cast<int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    status = U_ZERO_ERROR;
    out.assign(static_cast<size_t>(n), u'\0');
    n = unorm2_normalize(norm, reinterpret_cast<const UChar*>(in.data()), static_cast<int32_t>(in.size()),
                         reinterpret_cast<UChar*>(out.data()), n, &status);
  }
  if (U_FAILURE(status)) return std::u32string(s);
  std::u32string result;
  result.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(out.data(), i, n, c);
    result.push_back(static_cast<char32_t>(c));
  }
  return result;
}

void decode_utf8(std::string_view s, std::u32string& cps, std::vector<uint32_t>& offsets) {
  cps.clear();
  offsets.clear();
  cps.reserve(s.size());
  offsets.reserve(s.size() + 1);
  size_t pos = 0;
  while (pos < s.size()) {
    const auto c = static_cast<unsigned char>(s[pos]);
    char32_t cp = c;
    size_t len = 1;
    if (c >= 0x80) {
      len = text::utf8_decode(s, pos, cp);
      if (len == 0) {  // invalid byte: one U+FFFD per byte keeps offsets exact
        len = 1;
        cp = 0xFFFD;
      }
    }
    cps.push_back(cp);
    offsets.push_back(static_cast<uint32_t>(pos));
    pos += len;
  }
  offsets.push_back(static_cast<uint32_t>(s.size()));
}

}  // namespace moerag::engine::unicode
