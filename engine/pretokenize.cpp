// Hand-written scanners for the pre-tokenizer regexes of byte-level BPE models.
// Each scanner answers "how long is the leftmost-alternative match starting at
// position p" for one regex, reproducing its backtracking where it matters (only
// the look-ahead in \s+(?!\S) and the \s*[\r\n]+ alternative); a stage then splits
// each piece into matches and gaps. Expressions: the `pre_tokenizer` sections of
// the models' tokenizer.json files, as listed in llama.cpp's llama-vocab.cpp.
#include "engine/pretokenize.h"

#include <algorithm>

#include "engine/unicode_props.h"

namespace moerag::engine {
namespace {

using unicode::LETTER;
using unicode::MARK;
using unicode::NUMBER;
using unicode::PUNCTUATION;
using unicode::SYMBOL;
using unicode::WHITESPACE;

// Code points and their category flags for one text; index = code point index.
struct Text {
  const char32_t* cp;
  const uint16_t* fl;
};

// Match length (in code points) at p, the piece ending at e; 0 = no match.
using Matcher = size_t (*)(const Text& t, size_t p, size_t e);

// ---- character sets given as regex classes in the tokenizer.json files ----

// Sorted inclusive ranges parsed from a regex class body such as "A-Za-zµÀ-Ö"
// (no escapes appear in the classes we parse).
class RangeSet {
 public:
  explicit RangeSet(std::u32string_view body) {
    for (size_t i = 0; i < body.size(); ++i) {
      if (i + 2 < body.size() && body[i + 1] == U'-') {
        ranges_.emplace_back(body[i], body[i + 2]);
        i += 2;
      } else {
        ranges_.emplace_back(body[i], body[i]);
      }
    }
    std::sort(ranges_.begin(), ranges_.end());
  }
  bool contains(char32_t c) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), std::make_pair(c, char32_t(0x7FFFFFFF)));
    return it != ranges_.begin() && c >= std::prev(it)->first && c <= std::prev(it)->second;
  }

 private:
  std::vector<std::pair<char32_t, char32_t>> ranges_;
};

// deepseek-llm stage 2: the letters of Latin, Greek, Cyrillic, Armenian, Georgian,
// Cherokee, Glagolitic, Coptic, Deseret, ... as written in DeepSeek LLM's
// tokenizer.json.
const RangeSet& deepseek_letters() {
  static const RangeSet set(
      U"A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃");
  return set;
}
// deepseek-llm stage 3: ASCII punctuation (and letters: `:-~` spans them),
// full-width forms, curly quotes and the ideographic space/comma/full stop.
const RangeSet& deepseek_punct() {
  static const RangeSet set(U"!-/:-~！-／：-～‘-‟　-。");
  return set;
}
// [一-龥ࠀ-一가-퟿] (deepseek-llm/-coder) and [一-龥぀-ゟ゠-ヿ] (deepseek-v3).
bool deepseek_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) || (c >= 0xAC00 && c <= 0xD7FF);
}
bool deepseek_v3_cjk(char32_t c) { return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x30FF); }

bool is_crlf(char32_t c) { return c == U'\r' || c == U'\n'; }
bool is_ascii_punct(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}
bool is_ascii_letter(char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }

// ---- building blocks ----

// End of the run of code points from q (< e) whose flags intersect `mask`.
size_t run_flags(const Text& t, size_t q, size_t e, uint16_t mask) {
  while (q < e && (t.fl[q] & mask)) ++q;
  return q;
}
// End of the run of code points with none of the flags in `mask`.
size_t run_not_flags(const Text& t, size_t q, size_t e, uint16_t mask) {
  while (q < e && !(t.fl[q] & mask)) ++q;
  return q;
}
template <typename Pred>
size_t run_pred(const Text& t, size_t q, size_t e, Pred pred) {
  while (q < e && pred(t.cp[q])) ++q;
  return q;
}

// 's|'t|'re|'ve|'m|'ll|'d, ASCII case-insensitive when `any_case`.
size_t contraction(const Text& t, size_t p, size_t e, bool any_case) {
  if (t.cp[p] != U'\'' || p + 1 >= e) return 0;
  auto low = [&](size_t i) -> char32_t {
    char32_t c = t.cp[i];
    return (any_case && c >= U'A' && c <= U'Z') ? c + 32 : c;
  };
  const char32_t a = low(p + 1);
  if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
  if (p + 2 >= e) return 0;
  const char32_t b = low(p + 2);
  if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ : a whitespace run, leaving its last character to the next piece
// when a non-space follows and the run is longer than one.
size_t spaces_tail(const Text& t, size_t p, size_t e) {
  const size_t w = run_flags(t, p, e, WHITESPACE) - p;
  if (w == 0) return 0;
  if (p + w == e) return w;
  return w >= 2 ? w - 1 : w;
}

// \s*[\r\n]+ : the whitespace run up to and including its last CR or LF.
size_t spaces_to_newline(const Text& t, size_t p, size_t e) {
  const size_t end = run_flags(t, p, e, WHITESPACE);
  for (size_t k = end; k > p; --k) {
    if (is_crlf(t.cp[k - 1])) return k - p;
  }
  return 0;
}

// ---- whole expressions ----

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t match_gpt2(const Text& t, size_t p, size_t e) {
  if (size_t n = contraction(t, p, e, false)) return n;
  const size_t q = (t.cp[p] == U' ' && p + 1 < e) ? p + 1 : p;
  if (t.fl[q] & LETTER) return run_flags(t, q, e, LETTER) - p;
  if (t.fl[q] & NUMBER) return run_flags(t, q, e, NUMBER) - p;
  if (!(t.fl[q] & (WHITESPACE | LETTER | NUMBER))) return run_not_flags(t, q, e, WHITESPACE | LETTER | NUMBER) - p;
  return spaces_tail(t, p, e);
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+      (D = 3 llama3, 1 qwen2)
template <size_t MaxDigits>
size_t match_llama3(const Text& t, size_t p, size_t e) {
  if (size_t n = contraction(t, p, e, true)) return n;
  if (t.fl[p] & LETTER) return run_flags(t, p, e, LETTER) - p;
  if (!is_crlf(t.cp[p]) && !(t.fl[p] & NUMBER) && p + 1 < e && (t.fl[p + 1] & LETTER)) {
    return run_flags(t, p + 1, e, LETTER) - p;
  }
  if (t.fl[p] & NUMBER) return std::min(run_flags(t, p, e, NUMBER) - p, MaxDigits);
  const size_t q = (t.cp[p] == U' ' && p + 1 < e) ? p + 1 : p;
  if (!(t.fl[q] & (WHITESPACE | LETTER | NUMBER))) {
    const size_t r = run_not_flags(t, q, e, WHITESPACE | LETTER | NUMBER);
    return run_pred(t, r, e, is_crlf) - p;
  }
  if (size_t n = spaces_to_newline(t, p, e)) return n;
  return spaces_tail(t, p, e);
}

// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
// ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t match_deepseek_v3(const Text& t, size_t p, size_t e) {
  if (is_ascii_punct(t.cp[p]) && p + 1 < e && is_ascii_letter(t.cp[p + 1])) {
    return run_pred(t, p + 1, e, is_ascii_letter) - p;
  }
  if (t.fl[p] & (LETTER | MARK)) return run_flags(t, p, e, LETTER | MARK) - p;
  if (!is_crlf(t.cp[p]) && !(t.fl[p] & (PUNCTUATION | SYMBOL)) && p + 1 < e && (t.fl[p + 1] & (LETTER | MARK))) {
    return run_flags(t, p + 1, e, LETTER | MARK) - p;
  }
  const size_t q = (t.cp[p] == U' ' && p + 1 < e) ? p + 1 : p;
  if (t.fl[q] & (PUNCTUATION | SYMBOL)) {
    const size_t r = run_flags(t, q, e, PUNCTUATION | SYMBOL);
    return run_pred(t, r, e, is_crlf) - p;
  }
  if (size_t n = spaces_to_newline(t, p, e)) return n;
  return spaces_tail(t, p, e);
}

// ---- single-purpose stages ----

size_t match_one_crlf(const Text& t, size_t p, size_t) { return is_crlf(t.cp[p]) ? 1 : 0; }
size_t match_numbers(const Text& t, size_t p, size_t e) { return run_flags(t, p, e, NUMBER) - p; }
size_t match_one_number(const Text& t, size_t p, size_t) { return (t.fl[p] & NUMBER) ? 1 : 0; }
size_t match_numbers3(const Text& t, size_t p, size_t e) { return std::min<size_t>(run_flags(t, p, e, NUMBER) - p, 3); }
// [0-9][0-9][0-9]
size_t match_ascii_digits3(const Text& t, size_t p, size_t e) {
  auto d = [&](size_t i) { return i < e && t.cp[i] >= U'0' && t.cp[i] <= U'9'; };
  return d(p) && d(p + 1) && d(p + 2) ? 3 : 0;
}
// [\p{P}\$\+<=>\^~\|]+
size_t match_default_punct(const Text& t, size_t p, size_t e) {
  auto pred = [&](size_t i) {
    const char32_t c = t.cp[i];
    return (t.fl[i] & PUNCTUATION) || c == U'$' || c == U'+' || c == U'<' || c == U'=' || c == U'>' ||
           c == U'^' || c == U'~' || c == U'|';
  };
  size_t q = p;
  while (q < e && pred(q)) ++q;
  return q - p;
}
// 's|...| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) (llama.cpp's default list;
// the missing final \s+ makes no difference because unmatched text stays a piece)
size_t match_default_words(const Text& t, size_t p, size_t e) { return match_gpt2(t, p, e); }

// \s?X+ for a predicate X on the code point.
template <bool (*Pred)(char32_t)>
size_t space_then_run(const Text& t, size_t p, size_t e) {
  if ((t.fl[p] & WHITESPACE) && p + 1 < e && Pred(t.cp[p + 1])) return run_pred(t, p + 1, e, Pred) - p;
  return run_pred(t, p, e, Pred) - p;  // also where the space itself is in X (U+3000)
}
bool in_deepseek_letters(char32_t c) { return deepseek_letters().contains(c); }
bool in_deepseek_punct(char32_t c) { return deepseek_punct().contains(c); }
bool is_letter_cp(char32_t c) { return unicode::flags(c) & LETTER; }
bool is_punct_cp(char32_t c) { return unicode::flags(c) & PUNCTUATION; }

// \s+$ : the whitespace run that ends the piece.
size_t match_trailing_spaces(const Text& t, size_t p, size_t e) {
  const size_t end = run_flags(t, p, e, WHITESPACE);
  return (end > p && end == e) ? end - p : 0;
}
template <bool (*Pred)(char32_t)>
size_t match_run(const Text& t, size_t p, size_t e) {
  return run_pred(t, p, e, Pred) - p;
}

// The stage lists per family (llama.cpp llama-vocab.cpp, `regex_exprs`).
std::vector<Matcher> stages_of(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::DEFAULT:
      return {match_default_punct, match_default_words, match_numbers, match_ascii_digits3};
    case PreTokenizer::GPT2: return {match_gpt2};
    case PreTokenizer::LLAMA3: return {match_llama3<3>};
    case PreTokenizer::QWEN2: return {match_llama3<1>};
    case PreTokenizer::DEEPSEEK_LLM:
      return {match_one_crlf, space_then_run<in_deepseek_letters>, space_then_run<in_deepseek_punct>,
              match_trailing_spaces, match_run<deepseek_cjk>, match_numbers};
    case PreTokenizer::DEEPSEEK_CODER:
      return {match_one_crlf, space_then_run<is_letter_cp>, space_then_run<is_punct_cp>, match_run<deepseek_cjk>,
              match_one_number};
    case PreTokenizer::DEEPSEEK_V3:
      return {match_numbers3, match_run<deepseek_v3_cjk>, match_deepseek_v3};
  }
  return {};
}

// One stage: every piece is cut into its matches and the gaps between them.
void apply_stage(const Text& t, Matcher m, const std::vector<ByteRange>& in, std::vector<ByteRange>& out) {
  out.clear();
  for (const auto& [b, e] : in) {
    size_t gap = b;
    size_t p = b;
    while (p < e) {
      const size_t n = m(t, p, e);
      if (n == 0) {
        ++p;
        continue;
      }
      if (gap < p) out.emplace_back(static_cast<uint32_t>(gap), static_cast<uint32_t>(p));
      out.emplace_back(static_cast<uint32_t>(p), static_cast<uint32_t>(p + n));
      p += n;
      gap = p;
    }
    if (gap < e) out.emplace_back(static_cast<uint32_t>(gap), static_cast<uint32_t>(e));
  }
}

struct NameEntry {
  const char* name;
  PreTokenizer kind;
};
constexpr NameEntry kNames[] = {
    {"default", PreTokenizer::DEFAULT},          {"gpt-2", PreTokenizer::GPT2},
    {"gpt2", PreTokenizer::GPT2},                {"llama-bpe", PreTokenizer::LLAMA3},
    {"llama3", PreTokenizer::LLAMA3},            {"llama-v3", PreTokenizer::LLAMA3},
    {"qwen2", PreTokenizer::QWEN2},              {"deepseek-llm", PreTokenizer::DEEPSEEK_LLM},
    {"deepseek-coder", PreTokenizer::DEEPSEEK_CODER}, {"deepseek-v3", PreTokenizer::DEEPSEEK_V3},
};

}  // namespace

Result<PreTokenizer> pre_tokenizer_from_name(std::string_view name) {
  for (const auto& e : kNames) {
    if (name == e.name) return e.kind;
  }
  return make_error(ErrorCode::INVALID_INPUT, "tokenizer: unsupported pre-tokenizer tokenizer.ggml.pre='" +
                                                  std::string(name) + "' (known: " + known_pre_tokenizers() + ")");
}

const char* pre_tokenizer_name(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::DEFAULT: return "default";
    case PreTokenizer::GPT2: return "gpt-2";
    case PreTokenizer::LLAMA3: return "llama-bpe";
    case PreTokenizer::QWEN2: return "qwen2";
    case PreTokenizer::DEEPSEEK_LLM: return "deepseek-llm";
    case PreTokenizer::DEEPSEEK_CODER: return "deepseek-coder";
    case PreTokenizer::DEEPSEEK_V3: return "deepseek-v3";
  }
  return "?";
}

std::string known_pre_tokenizers() {
  std::string s;
  for (const auto& e : kNames) {
    if (!s.empty()) s += ", ";
    s += e.name;
  }
  return s;
}

std::vector<ByteRange> pretokenize(PreTokenizer kind, std::string_view text) {
  if (text.empty()) return {};
  std::u32string cps;
  std::vector<uint32_t> offsets;
  unicode::decode_utf8(text, cps, offsets);
  std::vector<uint16_t> fl(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) fl[i] = unicode::flags(cps[i]);
  const Text t{cps.data(), fl.data()};

  // Ranges are in code points while the stages run, converted to bytes at the end.
  std::vector<ByteRange> cur{{0, static_cast<uint32_t>(cps.size())}};
  std::vector<ByteRange> next;
  for (Matcher m : stages_of(kind)) {
    apply_stage(t, m, cur, next);
    cur.swap(next);
  }
  for (auto& r : cur) r = {offsets[r.first], offsets[r.second]};
  return cur;
}

}  // namespace moerag::engine
