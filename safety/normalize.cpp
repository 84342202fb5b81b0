// Normalisation tables and the single pass that applies them (see normalize.h).
// The tables are a deliberate subset of Unicode NFKC + case folding: the characters
// seen in obfuscated prompts, not the whole standard.
#include "safety/normalize.h"

#include "core/text.h"

namespace moerag::safety {
namespace {

bool is_invisible(char32_t c) {
  return c == 0x00AD || c == 0x034F || c == 0x061C || c == 0x115F || c == 0x1160 || c == 0x17B4 ||
         c == 0x17B5 || c == 0x180E || (c >= 0x200B && c <= 0x200F) || (c >= 0x2060 && c <= 0x2064) ||
         c == 0x3164 || c == 0xFEFF || c == 0xFFA0 || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0xE0000 && c <= 0xE007F);  // tag characters, used to smuggle hidden text
}

bool is_bidi_control(char32_t c) { return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069); }

bool is_control(char32_t c) {
  return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F || (c >= 0x80 && c <= 0x9F);
}

bool is_combining_mark(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
         (c >= 0x20D0 && c <= 0x20FF);
}

// Latin-1 and Latin Extended-A letters with diacritics -> base letter (lower case).
char32_t strip_accent(char32_t c) {
  static const char kLatin1[] =  // U+00C0..U+00FF
      "aaaaaaaceeeeiiiidnooooo*ouuuuyts"
      "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
  if (c >= 0xC0 && c <= 0xFF) {
    char b = kLatin1[c - 0xC0];
    return (b == '*' || b == '/') ? c : static_cast<char32_t>(b);
  }
  static const char kExtA[] =  // U+0100..U+017F
      "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"
      "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
  if (c >= 0x100 && c <= 0x17F) return static_cast<char32_t>(kExtA[c - 0x100]);
  return c;
}

// Cyrillic and Greek letters that look like Latin ones (lower case after folding).
char32_t homoglyph(char32_t c) {
  switch (c) {
    case 0x0430: return 'a'; case 0x0435: return 'e'; case 0x043E: return 'o'; case 0x0440: return 'p';
    case 0x0441: return 'c'; case 0x0443: return 'y'; case 0x0445: return 'x'; case 0x0456: return 'i';
    case 0x0458: return 'j'; case 0x0455: return 's'; case 0x04BB: return 'h'; case 0x0501: return 'd';
    case 0x03BF: return 'o'; case 0x03B1: return 'a'; case 0x03B5: return 'e'; case 0x03B9: return 'i';
    case 0x03BA: return 'k'; case 0x03BD: return 'v'; case 0x03C1: return 'p'; case 0x03C4: return 't';
    case 0x03C5: return 'u'; case 0x03C7: return 'x';
    default: return c;
  }
}

// Compatibility letters and digits: mathematical alphanumerics, circled, parenthesised.
char32_t compat(char32_t c) {
  if (c >= 0x1D400 && c <= 0x1D6A3) {  // 13 styles of A-Z a-z, 52 per style
    char32_t k = (c - 0x1D400) % 52;
    return k < 26 ? 'a' + k : 'a' + (k - 26);
  }
  if (c >= 0x1D7CE && c <= 0x1D7FF) return '0' + (c - 0x1D7CE) % 10;
  if (c >= 0x24B6 && c <= 0x24CF) return 'a' + (c - 0x24B6);
  if (c >= 0x24D0 && c <= 0x24E9) return 'a' + (c - 0x24D0);
  if (c >= 0x2460 && c <= 0x2468) return '1' + (c - 0x2460);
  if (c >= 0x249C && c <= 0x24B5) return 'a' + (c - 0x249C);
  if (c >= 0x1F130 && c <= 0x1F149) return 'a' + (c - 0x1F130);  // squared
  if (c >= 0x1F150 && c <= 0x1F169) return 'a' + (c - 0x1F150);  // negative circled
  if (c >= 0x1F170 && c <= 0x1F189) return 'a' + (c - 0x1F170);  // negative squared
  if (c >= 0x1F1E6 && c <= 0x1F1FF) return 'a' + (c - 0x1F1E6);  // regional indicators
  switch (c) {
    case 0x2018: case 0x2019: case 0x201B: case 0x2032: return '\'';
    case 0x201C: case 0x201D: case 0x201F: case 0x2033: return '"';
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2212: return '-';
    case 0x2024: return '.';
    case 0xFE6B: return '@';
    default: return c;
  }
}

}  // namespace

char32_t fold_code_point(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (is_invisible(c) || is_combining_mark(c) || is_bidi_control(c)) return 0;
  c = text::to_halfwidth(c);
  c = compat(c);
  c = text::fold_case(c);
  c = strip_accent(c);
  return homoglyph(c);
}

Normalized normalize(std::string_view s) {
  Normalized n;
  n.text.reserve(s.size());
  n.origin.reserve(s.size() + 1);
  bool pending_space = false;   // white space seen and not yet written
  size_t space_at = 0;          // original offset of that white space
  bool last_han = false;        // last written code point was a Han ideograph
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    size_t len = text::utf8_decode(s, i, cp);
    if (len == 0) { n.valid_utf8 = false; len = 1; }
    size_t at = i;
    i += len;
    if (is_control(cp) || is_bidi_control(cp)) { ++n.n_control; pending_space = pending_space || cp < 0x20; continue; }
    if (text::is_space(cp)) { if (!pending_space) space_at = at; pending_space = true; continue; }
    char32_t f = fold_code_point(cp);
    if (f == 0) { ++n.n_invisible; continue; }
    bool han = text::is_han(f);
    // Spaces between Han characters are dropped ("忽 略 指 令" = "忽略指令").
    if (pending_space && !n.text.empty() && !(han && last_han)) {
      n.text.push_back(' ');
      n.origin.push_back(static_cast<uint32_t>(space_at));
    }
    pending_space = false;
    text::utf8_append(n.text, f);
    n.origin.resize(n.text.size(), static_cast<uint32_t>(at));
    last_han = han;
  }
  n.origin.push_back(static_cast<uint32_t>(s.size()));
  return n;
}

std::string normalize_text(std::string_view s) { return normalize(s).text; }

}  // namespace moerag::safety
