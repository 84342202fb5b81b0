// UTF-8 and CJK text helpers (see text.h).
#include "core/text.h"

namespace moerag::text {

size_t utf8_decode(std::string_view s, size_t pos, char32_t& cp) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(pos);
  size_t n = s.size() - pos;
  cp = 0xFFFD;
  if (c < 0x80) { cp = c; return 1; }
  auto cont = [&](size_t i) { return i < n && (b(pos + i) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(1)) return 0;
    cp = ((c & 0x1F) << 6) | (b(pos + 1) & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    char32_t v = ((c & 0x0F) << 12) | ((b(pos + 1) & 0x3F) << 6) | (b(pos + 2) & 0x3F);
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    cp = v;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    char32_t v = ((c & 0x07) << 18) | ((b(pos + 1) & 0x3F) << 12) | ((b(pos + 2) & 0x3F) << 6) | (b(pos + 3) & 0x3F);
    if (v < 0x10000 || v > 0x10FFFF) return 0;
    cp = v;
    return 4;
  }
  return 0;
}

bool utf8_valid(std::string_view s) {
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_decode(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Calls f(cp) for each code point; invalid bytes are passed as U+FFFD, one per byte.
template <typename F>
static void for_each_cp(std::string_view s, F&& f) {
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_decode(s, i, cp);
    f(cp);
    i += n ? n : 1;
  }
}

std::string utf8_sanitize(std::string_view s) {
  if (utf8_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for_each_cp(s, [&](char32_t cp) { utf8_append(out, cp); });
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for_each_cp(s, [&](char32_t) { ++n; });
  return n;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for_each_cp(s, [&](char32_t cp) { out.push_back(cp); });
  return out;
}

std::string from_u32(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) utf8_append(out, cp);
  return out;
}

char32_t fold_case(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;            // Latin-1
  if (c >= 0x100 && c <= 0x17F) {                                       // Latin Extended-A
    if (c == 0x130) return 'i';
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    if (c == 0x178) return 0xFF;
    return (c % 2 == 0) ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;            // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                          // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;                        // full-width A-Z
  return c;
}

std::string fold_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_cp(s, [&](char32_t cp) { utf8_append(out, fold_case(cp)); });
  return out;
}

char32_t to_halfwidth(char32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) return c - 0xFEE0;
  if (c == 0x3000) return ' ';
  return c;
}

std::string to_halfwidth(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_cp(s, [&](char32_t cp) { utf8_append(out, to_halfwidth(cp)); });
  return out;
}

bool is_han(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x3134F);
}

bool is_cjk(char32_t c) {
  return is_han(c) || (c >= 0x3000 && c <= 0x30FF) ||  // CJK punctuation, kana
         (c >= 0xAC00 && c <= 0xD7AF) ||                // Hangul syllables
         (c >= 0xFF00 && c <= 0xFFEF);                  // half/full-width forms
}

bool has_cjk(std::string_view s) {
  bool found = false;
  for_each_cp(s, [&](char32_t cp) { found = found || is_han(cp) || (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF); });
  return found;
}

bool is_space(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  char32_t cp;
  while (b < e) {
    size_t n = utf8_decode(s, b, cp);
    if (n == 0 || !is_space(cp)) break;
    b += n;
  }
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t n = utf8_decode(s, start, cp);
    if (n == 0 || start + n != e || !is_space(cp)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

namespace {
bool is_cjk_terminator(char32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B || c == 0x2026; }
bool is_ascii_terminator(char32_t c) { return c == '.' || c == '!' || c == '?' || c == ';'; }
bool is_closer(char32_t c) {
  return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019 || c == 0x300D ||
         c == 0x300F || c == 0xFF09 || c == 0x3011 || c == 0x300B;
}
}  // namespace

std::vector<std::string_view> split_sentences(std::string_view s) {
  std::vector<std::string_view> out;
  auto emit = [&](size_t b, size_t e) {
    auto piece = trim(s.substr(b, e - b));
    if (!piece.empty()) out.push_back(piece);
  };
  size_t start = 0, i = 0;
  char32_t cp, next;
  while (i < s.size()) {
    size_t n = utf8_decode(s, i, cp);
    if (n == 0) n = 1;
    size_t j = i + n;
    bool cut = false;
    if (cp == '\n') {
      // A blank line (paragraph break) ends a sentence.
      size_t k = j;
      while (k < s.size() && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) ++k;
      cut = k < s.size() && s[k] == '\n';
    } else if (is_cjk_terminator(cp) || is_ascii_terminator(cp)) {
      // Runs of terminators ("?!", "……") and closing quotes stay with the sentence.
      while (j < s.size()) {
        size_t m = utf8_decode(s, j, next);
        if (m == 0 || !(is_cjk_terminator(next) || is_ascii_terminator(next) || is_closer(next))) break;
        j += m;
      }
      if (is_cjk_terminator(cp)) {
        cut = true;
      } else if (j >= s.size()) {
        cut = true;
      } else {
        size_t m = utf8_decode(s, j, next);
        // "3.5" and "e.g.x" do not end a sentence; a space, newline or CJK text does.
        cut = m != 0 && (is_space(next) || is_cjk(next));
        if (cut && cp == '.' && i > start) {
          // A single capital letter before the dot is an initial ("J. Smith").
          size_t k = i;
          bool initial = k >= 1 && s[k - 1] >= 'A' && s[k - 1] <= 'Z' && (k == 1 || s[k - 2] == ' ');
          if (initial) cut = false;
        }
      }
    }
    if (cut) {
      emit(start, j);
      start = j;
    }
    i = j;
  }
  if (start < s.size()) emit(start, s.size());
  return out;
}

}  // namespace moerag::text
